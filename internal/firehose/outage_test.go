package firehose_test

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	fh "github.com/aws/aws-sdk-go-v2/service/firehose"
	fhtypes "github.com/aws/aws-sdk-go-v2/service/firehose/types"

	"github.com/eddy-streams/eddy/internal/storage"
	"github.com/eddy-streams/eddy/internal/storage/logstore"
)

func openLogstore(t testing.TB, dir string) storage.Backend {
	t.Helper()
	be, err := logstore.Open(dir, logstore.Options{Durability: logstore.Always, Logger: quietLogger(t)})
	if err != nil {
		t.Fatalf("open logstore: %v", err)
	}
	return be
}

// produce puts n batches of size records from each of producers goroutines,
// naming records "<phase>-p<producer>-<seq>\n".
func produce(t testing.TB, c *fh.Client, stream, phase string, producers, batches, size int) int {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, producers)
	for p := 0; p < producers; p++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			seq := 0
			for b := 0; b < batches; b++ {
				in := &fh.PutRecordBatchInput{DeliveryStreamName: aws.String(stream)}
				for i := 0; i < size; i++ {
					in.Records = append(in.Records, fhtypes.Record{Data: []byte(fmt.Sprintf("%s-p%d-%06d", phase, p, seq))})
					seq++
				}
				out, err := c.PutRecordBatch(context.Background(), in)
				if err != nil {
					errs <- err
					return
				}
				if aws.ToInt32(out.FailedPutCount) != 0 {
					errs <- fmt.Errorf("%d records failed", aws.ToInt32(out.FailedPutCount))
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("produce %s: %v", phase, err)
	}
	return producers * batches * size
}

// TestOutageAndRestart stops the S3 server under load, restarts Eddy while
// records are buffered and undeliverable, then brings S3 back: every
// acknowledged record must arrive, and each object keeps each producer's order.
func TestOutageAndRestart(t *testing.T) {
	v := startVersity(t, "outage")
	dir := filepath.Join(t.TempDir(), "data")
	be := openLogstore(t, dir)
	srv := startServer(t, be, v.URL)
	c := srv.Firehose()
	s3Stream(t, c, "out", fhtypes.ExtendedS3DestinationConfiguration{
		BucketARN: aws.String("arn:aws:s3:::outage"), Prefix: aws.String("o/"),
		BufferingHints: &fhtypes.BufferingHints{SizeInMBs: aws.Int32(1), IntervalInSeconds: aws.Int32(1)},
		ProcessingConfiguration: &fhtypes.ProcessingConfiguration{Enabled: aws.Bool(true),
			Processors: []fhtypes.Processor{{Type: fhtypes.ProcessorTypeAppendDelimiterToRecord}}},
		CompressionFormat: fhtypes.CompressionFormatGzip,
	})

	total := produce(t, c, "out", "a", 2, 20, 100)
	waitFor(t, 15*time.Second, "first deliveries", func() bool { return len(v.listObjects(t, "outage", "o/")) > 0 })

	v.Stop()
	total += produce(t, c, "out", "b", 2, 20, 100)
	// Let the delivery loop fail at least once against the dead endpoint.
	waitFor(t, 15*time.Second, "a failed delivery attempt", func() bool {
		return metricValue(t, srv.fh, "eddy_firehose_delivery_to_s3_failures_total", "out") != "0"
	})

	// Restart Eddy mid-buffer.
	srv.Close()
	if err := be.Close(); err != nil {
		t.Fatal(err)
	}
	be = openLogstore(t, dir)
	t.Cleanup(func() { be.Close() })
	srv = startServer(t, be, v.URL)
	c = srv.Firehose()
	total += produce(t, c, "out", "c", 2, 20, 100)

	v.Start()
	got := map[string]int{}
	waitFor(t, 60*time.Second, "every record delivered", func() bool {
		got = map[string]int{}
		for _, o := range v.listObjects(t, "outage", "o/") {
			body, err := decompressGzip(o.Body)
			if err != nil {
				t.Fatalf("%s: %v", o.Key, err)
			}
			last := map[string]string{}
			for _, line := range bytes.Split(bytes.TrimSuffix(body, []byte("\n")), []byte("\n")) {
				s := string(line)
				got[s]++
				producer := s[:4] // "<phase>-p<n>"
				if prev, ok := last[producer]; ok && prev >= s {
					t.Fatalf("object %s: %s after %s", o.Key, s, prev)
				}
				last[producer] = s
			}
		}
		return len(got) >= total
	})
	for _, phase := range []string{"a", "b", "c"} {
		for p := 0; p < 2; p++ {
			for i := 0; i < 2000; i++ {
				if k := fmt.Sprintf("%s-p%d-%06d", phase, p, i); got[k] == 0 {
					t.Fatalf("record %s lost", k)
				}
			}
		}
	}
	if len(got) != total {
		t.Fatalf("%d distinct records delivered, want %d", len(got), total)
	}
}
