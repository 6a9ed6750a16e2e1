package firehose_test

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	fhtypes "github.com/aws/aws-sdk-go-v2/service/firehose/types"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/eddy-streams/eddy/internal/firehose"
	"github.com/eddy-streams/eddy/internal/promtext"
	"github.com/eddy-streams/eddy/internal/storage/memstore"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// exposition is svc's metrics in the Prometheus text format, as the
// gateway's /metrics writes them.
func exposition(t testing.TB, svc *firehose.Service) string {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(svc)
	var buf bytes.Buffer
	if err := promtext.Write(&buf, reg); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func metricValue(t testing.TB, svc *firehose.Service, name, stream string) string {
	t.Helper()
	out := exposition(t, svc)
	prefix := fmt.Sprintf(`%s{account="000000000000",delivery_stream="%s",region="us-east-1"} `, name, stream)
	for _, line := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(line, prefix); ok {
			return v
		}
	}
	t.Fatalf("metric %s for %s missing in:\n%s", name, stream, out)
	return ""
}

func TestMetrics(t *testing.T) {
	v := startVersity(t, "metrics")
	clock := &fakeClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	be := memstore.New(clock.Now)
	srv := startServer(t, be, v.URL, func(o *firehoseOptions) { o.Now = clock.Now })
	c := srv.Firehose()
	s3Stream(t, c, "m", fhtypes.ExtendedS3DestinationConfiguration{
		BucketARN: aws.String("arn:aws:s3:::metrics"), Prefix: aws.String("m/"),
		BufferingHints: &fhtypes.BufferingHints{SizeInMBs: aws.Int32(128), IntervalInSeconds: aws.Int32(900)},
	})
	putBatch(t, c, "m", recs("m", 10, 100))
	putBatch(t, c, "m", recs("n", 5, 20))
	if got := metricValue(t, srv.fh, "eddy_firehose_incoming_records_total", "m"); got != "15" {
		t.Fatalf("incoming records %s", got)
	}
	if got := metricValue(t, srv.fh, "eddy_firehose_incoming_bytes_total", "m"); got != "1100" {
		t.Fatalf("incoming bytes %s", got)
	}
	clock.Add(42 * time.Second)
	waitFor(t, 5*time.Second, "freshness 42 s", func() bool {
		return metricValue(t, srv.fh, "eddy_firehose_delivery_to_s3_data_freshness_seconds", "m") == "42"
	})
	srv.flush("m")
	if got := metricValue(t, srv.fh, "eddy_firehose_delivery_to_s3_records_total", "m"); got != "15" {
		t.Fatalf("delivered records %s", got)
	}
	if got := metricValue(t, srv.fh, "eddy_firehose_delivery_to_s3_success_total", "m"); got != "1" {
		t.Fatalf("success %s", got)
	}
	// The loop sets the gauge on its pass after the delivery that Flush
	// waited for.
	waitFor(t, 5*time.Second, "freshness 0 after delivery", func() bool {
		return metricValue(t, srv.fh, "eddy_firehose_delivery_to_s3_data_freshness_seconds", "m") == "0"
	})
	if objs := v.listObjects(t, "metrics", "m/"); len(objs) != 1 || !strings.Contains(objs[0].Key, "m-1-2026-03-01-12-00-00-") {
		t.Fatalf("objects %v (key time must be the oldest record's arrival)", objs)
	}
}
