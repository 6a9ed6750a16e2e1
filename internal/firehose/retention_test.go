package firehose_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	fh "github.com/aws/aws-sdk-go-v2/service/firehose"
	fhtypes "github.com/aws/aws-sdk-go-v2/service/firehose/types"

	"github.com/eddy-streams/eddy/internal/storage/memstore"
)

// TestRetention24h: while the destination is down, records are kept and
// retried; once they are 24 hours old they are dropped and counted.
func TestRetention24h(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)}
	be := memstore.New(clock.Now)
	srv := startServer(t, be, "http://127.0.0.1:1", func(o *firehoseOptions) { o.Now = clock.Now })
	c := srv.Firehose()
	s3Stream(t, c, "ret", fhtypes.ExtendedS3DestinationConfiguration{
		BucketARN:      aws.String("arn:aws:s3:::nowhere"),
		BufferingHints: &fhtypes.BufferingHints{SizeInMBs: aws.Int32(1), IntervalInSeconds: aws.Int32(0)},
	})
	putBatch(t, c, "ret", recs("old", 10, 10))
	waitFor(t, 10*time.Second, "failed delivery attempts", func() bool {
		n, _ := strconv.Atoi(metricValue(t, srv.fh, "eddy_firehose_delivery_to_s3_failures_total", "ret"))
		return n >= 2
	})
	clock.Add(23 * time.Hour)
	putBatch(t, c, "ret", recs("new", 5, 10))
	if got := metricValue(t, srv.fh, "eddy_firehose_expired_records_total", "ret"); got != "0" {
		t.Fatalf("expired before 24 h: %s", got)
	}
	clock.Add(time.Hour + time.Second)
	waitFor(t, 10*time.Second, "the 24-hour-old records dropped", func() bool {
		return metricValue(t, srv.fh, "eddy_firehose_expired_records_total", "ret") == "10"
	})
	// The younger records are still pending: freshness is their age.
	waitFor(t, 10*time.Second, "freshness of the remaining records", func() bool {
		return metricValue(t, srv.fh, "eddy_firehose_delivery_to_s3_data_freshness_seconds", "ret") == "3601"
	})
}

// TestPutBatchStoreFailure: when the buffer cannot be written, every entry of
// the batch fails with ServiceUnavailableException (HTTP 200) and PutRecord
// gets a ServiceUnavailableException.
func TestPutBatchStoreFailure(t *testing.T) {
	be := memstore.New(nil)
	srv := startServer(t, be, "http://127.0.0.1:1")
	c := srv.Firehose()
	ctx := context.Background()
	s3Stream(t, c, "sf", fhtypes.ExtendedS3DestinationConfiguration{BucketARN: aws.String("arn:aws:s3:::b")})
	if err := be.Close(); err != nil {
		t.Fatal(err)
	}
	out, err := c.PutRecordBatch(ctx, &fh.PutRecordBatchInput{DeliveryStreamName: aws.String("sf"), Records: []fhtypes.Record{{Data: []byte("a")}, {Data: []byte("b")}}})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToInt32(out.FailedPutCount) != 2 || len(out.RequestResponses) != 2 ||
		aws.ToString(out.RequestResponses[1].ErrorCode) != "ServiceUnavailableException" || out.RequestResponses[1].RecordId != nil {
		t.Fatalf("batch on a failed store: %+v", out)
	}
	_, err = c.PutRecord(ctx, &fh.PutRecordInput{DeliveryStreamName: aws.String("sf"), Record: &fhtypes.Record{Data: []byte("a")}})
	if apiCode(err) != "ServiceUnavailableException" {
		t.Fatalf("put on a failed store: %v", err)
	}
}
