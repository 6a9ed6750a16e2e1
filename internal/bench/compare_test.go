package bench

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/eddy-streams/eddy/internal/config"
	"github.com/eddy-streams/eddy/internal/eddytest"
)

// TestBaselineEndpointComparesTwoServers runs the put phase against two real
// servers (durability always vs none) in one invocation, as the
// durability-cost figure in docs/benchmarks.md is measured.
func TestBaselineEndpointComparesTwoServers(t *testing.T) {
	always := eddytest.Start(t, eddytest.WithConfig(func(c *config.Config) { c.Durability = "always" }))
	none := eddytest.Start(t)
	rep, err := Run(context.Background(), Options{
		Endpoint: always.URL(), BaselineEndpoint: none.URL(), Mode: "put", Stream: "cmp",
		Shards: 2, Producers: 2, BatchSize: 50, RecordSize: 100, Duration: 400 * time.Millisecond, Rounds: 2,
	})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Ratio == nil || *rep.Ratio <= 0 || len(rep.Phases) != 2 {
		t.Fatalf("report: %+v", rep)
	}
	// both servers really stored the records, and the streams were removed
	for _, srv := range []string{always.URL(), none.URL()} {
		c := kinesis.NewFromConfig(eddytest.AWSConfig(srv, "", ""))
		if _, err := c.DescribeStreamSummary(context.Background(), &kinesis.DescribeStreamSummaryInput{StreamName: aws.String("cmp")}); err == nil {
			t.Fatalf("%s: benchmark stream left behind", srv)
		}
	}
	for _, p := range rep.Phases {
		if p.Records == 0 {
			t.Fatalf("%s wrote nothing", p.Target)
		}
	}
}
