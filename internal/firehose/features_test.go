package firehose_test

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	fh "github.com/aws/aws-sdk-go-v2/service/firehose"
	fhtypes "github.com/aws/aws-sdk-go-v2/service/firehose/types"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/eddy-streams/eddy/internal/firehose/s3dest"
	"github.com/eddy-streams/eddy/internal/storage/memstore"
)

// TestBackupAndUpdate covers S3 backup mode (raw records to a second
// bucket), and UpdateDestination taking effect on the next object: new
// prefix, compression and the new version in the key.
func TestBackupAndUpdate(t *testing.T) {
	v := startVersity(t, "primary", "backup")
	srv := startServer(t, nil, v.URL)
	c := srv.Firehose()
	ctx := context.Background()
	s3Stream(t, c, "bk", fhtypes.ExtendedS3DestinationConfiguration{
		BucketARN: aws.String("arn:aws:s3:::primary"), Prefix: aws.String("one/"),
		BufferingHints: &fhtypes.BufferingHints{SizeInMBs: aws.Int32(64), IntervalInSeconds: aws.Int32(900)},
		ProcessingConfiguration: &fhtypes.ProcessingConfiguration{Enabled: aws.Bool(true),
			Processors: []fhtypes.Processor{{Type: fhtypes.ProcessorTypeAppendDelimiterToRecord}}},
		S3BackupMode: fhtypes.S3BackupModeEnabled,
		S3BackupConfiguration: &fhtypes.S3DestinationConfiguration{
			BucketARN: aws.String("arn:aws:s3:::backup"), RoleARN: aws.String("arn:aws:iam::000000000000:role/r"),
			Prefix: aws.String("raw/"), CompressionFormat: fhtypes.CompressionFormatGzip,
		},
	})
	first := recs("first", 20, 50)
	putBatch(t, c, "bk", first)
	srv.flush("bk")

	_, err := c.UpdateDestination(ctx, &fh.UpdateDestinationInput{DeliveryStreamName: aws.String("bk"), CurrentDeliveryStreamVersionId: aws.String("1"),
		DestinationId:               aws.String("destinationId-000000000001"),
		ExtendedS3DestinationUpdate: &fhtypes.ExtendedS3DestinationUpdate{Prefix: aws.String("two/"), CompressionFormat: fhtypes.CompressionFormatSnappy}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.UpdateDestination(ctx, &fh.UpdateDestinationInput{DeliveryStreamName: aws.String("bk"), CurrentDeliveryStreamVersionId: aws.String("2"),
		DestinationId: aws.String("destinationId-000000000001"), ExtendedS3DestinationUpdate: &fhtypes.ExtendedS3DestinationUpdate{S3BackupMode: fhtypes.S3BackupModeDisabled}})
	if apiCode(err) != "InvalidArgumentException" {
		t.Fatalf("disabling backup: %v", err)
	}
	second := recs("second", 20, 50)
	putBatch(t, c, "bk", second)
	srv.flush("bk")

	one := v.listObjects(t, "primary", "one/")
	two := v.listObjects(t, "primary", "two/")
	if len(one) != 1 || len(two) != 1 {
		t.Fatalf("primary objects: %d under one/, %d under two/", len(one), len(two))
	}
	if !regexp.MustCompile(`/bk-1-[^/]+$`).MatchString(one[0].Key) || !regexp.MustCompile(`/bk-2-[^/]+\.snappy$`).MatchString(two[0].Key) {
		t.Fatalf("keys %s %s: want version 1 then 2", one[0].Key, two[0].Key)
	}
	body, err := s3dest.Decompress(s3dest.Snappy, two[0].Body)
	if err != nil || !bytes.Equal(body, append(bytes.Join(second, []byte("\n")), '\n')) {
		t.Fatalf("second primary object: %v", err)
	}
	backup := v.listObjects(t, "backup", "raw/")
	if len(backup) != 2 {
		t.Fatalf("%d backup objects, want 2", len(backup))
	}
	var all []byte
	for _, o := range backup {
		b, err := s3dest.Decompress(s3dest.GZIP, o.Body)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, b...)
	}
	// Backups hold the raw records (no delimiter), both batches.
	if !bytes.Contains(all, bytes.Join(first, nil)) || !bytes.Contains(all, bytes.Join(second, nil)) {
		t.Fatal("backup objects do not hold the raw records")
	}
}

// TestKinesisSourceResume restarts Eddy: the source resumes after its
// checkpoint, so nothing is lost and nothing delivered before is read again.
func TestKinesisSourceResume(t *testing.T) {
	v := startVersity(t, "resume")
	be := memstore.New(nil)
	srv := startServer(t, be, v.URL)
	kc, fc := srv.Kinesis(), srv.Firehose()
	ctx := context.Background()
	if _, err := kc.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String("rs"), ShardCount: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	waitStreamActive(t, kc, "rs")
	_, err := fc.CreateDeliveryStream(ctx, &fh.CreateDeliveryStreamInput{
		DeliveryStreamName: aws.String("rs"), DeliveryStreamType: fhtypes.DeliveryStreamTypeKinesisStreamAsSource,
		KinesisStreamSourceConfiguration: &fhtypes.KinesisStreamSourceConfiguration{
			KinesisStreamARN: aws.String("arn:aws:kinesis:us-east-1:000000000000:stream/rs"), RoleARN: aws.String("arn:aws:iam::000000000000:role/r")},
		ExtendedS3DestinationConfiguration: &fhtypes.ExtendedS3DestinationConfiguration{
			BucketARN: aws.String("arn:aws:s3:::resume"), RoleARN: aws.String("arn:aws:iam::000000000000:role/r"), Prefix: aws.String("r/"),
			BufferingHints: &fhtypes.BufferingHints{SizeInMBs: aws.Int32(1), IntervalInSeconds: aws.Int32(0)},
			ProcessingConfiguration: &fhtypes.ProcessingConfiguration{Enabled: aws.Bool(true),
				Processors: []fhtypes.Processor{{Type: fhtypes.ProcessorTypeAppendDelimiterToRecord}}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	count := func() map[string]int {
		got := map[string]int{}
		for _, o := range v.listObjects(t, "resume", "r/") {
			for _, l := range bytes.Split(bytes.TrimSuffix(o.Body, []byte("\n")), []byte("\n")) {
				got[string(l)]++
			}
		}
		return got
	}
	batch := func(p string) [][]byte {
		var out [][]byte
		for i := 0; i < 50; i++ {
			out = append(out, []byte(fmt.Sprintf("%s-%03d", p, i)))
		}
		return out
	}
	putKinesis(t, kc, "rs", batch("before"))
	waitFor(t, 20*time.Second, "first batch delivered", func() bool { return len(count()) == 50 })

	srv.Close()
	srv = startServer(t, be, v.URL)
	kc = srv.Kinesis()
	putKinesis(t, kc, "rs", batch("after"))
	var got map[string]int
	waitFor(t, 20*time.Second, "second batch delivered", func() bool { got = count(); return len(got) == 100 })
	for k, n := range got {
		if n != 1 {
			t.Errorf("record %s delivered %d times", k, n)
		}
	}
}

// TestEndpointTag: the eddy:s3-endpoint tag sends one stream's objects to
// another S3 server than the server-wide endpoint.
func TestEndpointTag(t *testing.T) {
	v := startVersity(t, "tagged")
	srv := startServer(t, nil, "http://127.0.0.1:1") // server-wide endpoint: nowhere
	c := srv.Firehose()
	ctx := context.Background()
	_, err := c.CreateDeliveryStream(ctx, &fh.CreateDeliveryStreamInput{
		DeliveryStreamName: aws.String("tg"),
		ExtendedS3DestinationConfiguration: &fhtypes.ExtendedS3DestinationConfiguration{
			BucketARN: aws.String("arn:aws:s3:::tagged"), RoleARN: aws.String("arn:aws:iam::000000000000:role/r"), Prefix: aws.String("t/"),
			BufferingHints: &fhtypes.BufferingHints{SizeInMBs: aws.Int32(1), IntervalInSeconds: aws.Int32(0)}},
		Tags: []fhtypes.Tag{{Key: aws.String("eddy:s3-endpoint"), Value: aws.String(v.URL)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	putBatch(t, c, "tg", recs("tg", 3, 10))
	srv.flush("tg")
	if objs := v.listObjects(t, "tagged", "t/"); len(objs) != 1 {
		t.Fatalf("%d objects via the tagged endpoint", len(objs))
	}
}
