package firehose_test

import (
	"context"
	"flag"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	fh "github.com/aws/aws-sdk-go-v2/service/firehose"
	fhtypes "github.com/aws/aws-sdk-go-v2/service/firehose/types"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	ktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

var benchSeq atomic.Int64

// benchHints are the BufferingHints of the Firehose ingest benchmark:
// "SizeInMBs,IntervalInSeconds" (go test … -args -fh-hints=128,900).
var benchHints = flag.String("fh-hints", "5,1", "BufferingHints SizeInMBs,IntervalInSeconds for BenchmarkIngest")

// benchNoS3 points the ingest benchmark's Firehose at a closed port: records
// are buffered but never delivered, which isolates the ingest path.
var benchNoS3 = flag.Bool("fh-no-s3", false, "BenchmarkIngest: no S3 delivery (unreachable endpoint)")

func benchHintValues(b *testing.B) (size, interval int32) {
	if _, err := fmt.Sscanf(*benchHints, "%d,%d", &size, &interval); err != nil {
		b.Fatalf("-fh-hints %q: %v", *benchHints, err)
	}
	return size, interval
}

// BenchmarkIngest compares PutRecordBatch (500 × 1 KiB, delivered to
// versitygw with 5 MiB / 1 s hints) with Data Streams PutRecords (500 × 1 KiB,
// on 4 shards and on 1, since a delivery stream buffers in one log) on the
// same in-process server and logstore (durability always).
// Run both in one invocation and quote the ratio:
//
//	go test -run XXX -bench Ingest -benchtime 2000x ./internal/firehose/
func BenchmarkIngest(b *testing.B) {
	v := startVersity(b, "bench")
	be := openLogstore(b, filepath.Join(b.TempDir(), "data"))
	b.Cleanup(func() { be.Close() })
	s3url := v.URL
	if *benchNoS3 {
		s3url = "http://127.0.0.1:1"
	}
	srv := startServer(b, be, s3url)
	payload := make([]byte, 1024)
	for i := range payload {
		payload[i] = 'a' + byte(i%26)
	}

	b.Run("firehose-PutRecordBatch", func(b *testing.B) {
		c := srv.Firehose()
		name := fmt.Sprintf("bench%d", benchSeq.Add(1))
		benchSizeMB, benchInterval := benchHintValues(b)
		s3Stream(b, c, name, fhtypes.ExtendedS3DestinationConfiguration{
			BucketARN: aws.String("arn:aws:s3:::bench"), Prefix: aws.String(name + "/"),
			BufferingHints: &fhtypes.BufferingHints{SizeInMBs: aws.Int32(benchSizeMB), IntervalInSeconds: aws.Int32(benchInterval)},
		})
		in := &fh.PutRecordBatchInput{DeliveryStreamName: aws.String(name)}
		for i := 0; i < 500; i++ {
			in.Records = append(in.Records, fhtypes.Record{Data: payload})
		}
		var failed atomic.Int64
		b.SetBytes(500 * 1024)
		b.SetParallelism(4)
		b.ResetTimer()
		start := time.Now()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				out, err := c.PutRecordBatch(context.Background(), in)
				if err != nil || aws.ToInt32(out.FailedPutCount) != 0 {
					failed.Add(1)
				}
			}
		})
		el := time.Since(start)
		b.StopTimer()
		if failed.Load() > 0 {
			b.Fatalf("%d batches failed", failed.Load())
		}
		b.ReportMetric(float64(b.N*500)/el.Seconds(), "records/s")
		if !*benchNoS3 {
			srv.flush(name)
		}
	})

	for _, shards := range []int32{4, 1} {
		b.Run(fmt.Sprintf("kinesis-PutRecords-%dshards", shards), func(b *testing.B) {
			kc := srv.Kinesis()
			name := fmt.Sprintf("kbench%d", benchSeq.Add(1))
			if _, err := kc.CreateStream(context.Background(), &kinesis.CreateStreamInput{StreamName: aws.String(name), ShardCount: aws.Int32(shards)}); err != nil {
				b.Fatal(err)
			}
			waitStreamActive(b, kc, name)
			in := &kinesis.PutRecordsInput{StreamName: aws.String(name)}
			for i := 0; i < 500; i++ {
				in.Records = append(in.Records, ktypes.PutRecordsRequestEntry{Data: payload, PartitionKey: aws.String(fmt.Sprintf("pk%d", i))})
			}
			var failed atomic.Int64
			b.SetBytes(500 * 1024)
			b.SetParallelism(4)
			b.ResetTimer()
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					out, err := kc.PutRecords(context.Background(), in)
					if err != nil || aws.ToInt32(out.FailedRecordCount) != 0 {
						failed.Add(1)
					}
				}
			})
			el := time.Since(start)
			b.StopTimer()
			if failed.Load() > 0 {
				b.Fatalf("%d batches failed", failed.Load())
			}
			b.ReportMetric(float64(b.N*500)/el.Seconds(), "records/s")
		})
	}
}

// BenchmarkDeliveryLag measures the time from an acknowledged PutRecord to
// the object being readable in versitygw, with IntervalInSeconds 1 (the
// interval is the floor of the lag):
//
//	go test -run XXX -bench DeliveryLag -benchtime 5x ./internal/firehose/
func BenchmarkDeliveryLag(b *testing.B) {
	v := startVersity(b, "lag")
	srv := startServer(b, nil, v.URL)
	c := srv.Firehose()
	s3Stream(b, c, "lag", fhtypes.ExtendedS3DestinationConfiguration{
		BucketARN: aws.String("arn:aws:s3:::lag"), Prefix: aws.String("lag/"),
		BufferingHints: &fhtypes.BufferingHints{SizeInMBs: aws.Int32(5), IntervalInSeconds: aws.Int32(1)},
	})
	s3c := v.Client()
	var total time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		before := len(v.listObjects(b, "lag", "lag/"))
		start := time.Now()
		if _, err := c.PutRecord(context.Background(), &fh.PutRecordInput{DeliveryStreamName: aws.String("lag"), Record: &fhtypes.Record{Data: []byte("x")}}); err != nil {
			b.Fatal(err)
		}
		for {
			out, err := s3c.ListObjectsV2(context.Background(), listInput("lag", "lag/"))
			if err != nil {
				b.Fatal(err)
			}
			if len(out.Contents) > before {
				break
			}
			time.Sleep(5 * time.Millisecond) // polling S3 at 5 ms resolution is the measurement
		}
		total += time.Since(start)
	}
	b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "ms-lag")
}
