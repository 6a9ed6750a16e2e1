package agent

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	ftypes "github.com/aws/aws-sdk-go-v2/service/firehose/types"

	"github.com/eddy-streams/eddy/internal/eddytest"
)

// TestShipsToEddyFirehose runs a deliveryStream flow against Eddy's own
// Firehose API: every line must be accepted into the delivery stream's
// durable buffer (counted by its IncomingRecords metric; delivery to S3 is
// the Firehose tests' business).
func TestShipsToEddyFirehose(t *testing.T) {
	srv := eddytest.Start(t)
	fc := firehose.NewFromConfig(eddytest.AWSConfig(srv.URL(), "", ""))
	ctx := context.Background()
	if _, err := fc.CreateDeliveryStream(ctx, &firehose.CreateDeliveryStreamInput{
		DeliveryStreamName: aws.String("logs"),
		ExtendedS3DestinationConfiguration: &ftypes.ExtendedS3DestinationConfiguration{
			BucketARN: aws.String("arn:aws:s3:::agent-test"), RoleARN: aws.String("arn:aws:iam::000000000000:role/firehose"),
			BufferingHints: &ftypes.BufferingHints{IntervalInSeconds: aws.Int32(900), SizeInMBs: aws.Int32(128)},
		},
	}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	const n = 500
	var b strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "line %03d\n", i)
	}
	writeFile(t, filepath.Join(dir, "app.log"), b.String())
	doc := fmt.Sprintf(`{"checkpointFile": %q, "firehose.endpoint": %q, "awsAccessKeyId": "AKIDEXAMPLE", "awsSecretAccessKey": "secret",
		"flows": [{"filePattern": %q, "deliveryStream": "logs", "initialPosition": "START_OF_FILE",
		"minTimeBetweenFilePollsMillis": 5, "maxBufferAgeMillis": 1000, "maxBufferSizeRecords": 50}]}`,
		filepath.Join(dir, "cp"), srv.URL(), filepath.Join(dir, "app.log"))
	cfg, err := ParseConfig([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	a, err := New(runCtx, cfg, Options{Logger: quietLog()})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Run(runCtx) }()
	want := fmt.Sprintf(`eddy_firehose_incoming_records_total{account="000000000000",delivery_stream="logs",region="us-east-1"} %d`, n)
	var last string
	eventually(t, "every line accepted by Eddy's Firehose", func() bool {
		resp, err := http.Get(srv.URL() + "/metrics")
		if err != nil {
			return false
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		last = string(body)
		return strings.Contains(last, want+"\n")
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(last, want+"\n") {
		t.Fatalf("metrics:\n%s", last)
	}
}
