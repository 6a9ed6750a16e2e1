//go:build linux

package firehose_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	fh "github.com/aws/aws-sdk-go-v2/service/firehose"

	"github.com/eddy-streams/eddy/internal/firehose"
)

// TestIcebergOutageAcrossRestart: S3 (the table's metadata and data, and
// the backup bucket) is down while records arrive and Eddy restarts on its
// on-disk store; when S3 returns, every record is in the table exactly
// once and nothing went to the error output.
func TestIcebergOutageAcrossRestart(t *testing.T) {
	v := startVersity(t, "warehouse", "icebk")
	dir := filepath.Join(t.TempDir(), "data")
	be := openLogstore(t, dir)
	lake := newIcebergLake(t, v, be)
	lake.createTable(t, "events")
	srv := startServer(t, be, v.URL, fastDestRetry, func(o *firehose.Options) { o.Catalog = lake.glue })
	c := srv.Firehose()
	icebergStream(t, c, "ice", "events", 7200, nil)
	r1, w1 := icebergRecords(0, 100)
	putBatch(t, c, "ice", r1)
	srv.flush("ice")

	v.Stop()
	r2, w2 := icebergRecords(100, 150)
	putBatch(t, c, "ice", r2[:70])
	putBatch(t, c, "ice", r2[70:])
	waitFor(t, 15*time.Second, "failing attempts", func() bool {
		d, _ := c.DescribeDeliveryStream(context.Background(), &fh.DescribeDeliveryStreamInput{DeliveryStreamName: aws.String("ice")})
		return d != nil && d.DeliveryStreamDescription.FailureDescription != nil
	})
	srv.Close()
	if err := be.Close(); err != nil {
		t.Fatal(err)
	}
	be = openLogstore(t, dir)
	defer be.Close()
	lake = newIcebergLake(t, v, be) // the catalog reloads from the store too
	srv = startServer(t, be, v.URL, fastDestRetry, func(o *firehose.Options) { o.Catalog = lake.glue })
	v.Start()
	srv.flush("ice")

	got := lake.rows(t, "events")
	want := append(w1, w2...)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("%d rows after the outage, want %d", len(got), len(want))
	}
	if objs := v.listObjects(t, "icebk", ""); len(objs) != 0 {
		t.Fatalf("error output during an outage within RetryOptions: %s", objs[0].Key)
	}
}
