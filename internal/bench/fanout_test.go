package bench

import (
	"context"
	"testing"
	"time"

	"github.com/eddy-streams/eddy/internal/eddytest"
)

// TestFanoutModeAgainstEddy runs --mode fanout against an in-process Eddy:
// every subscriber must receive every accepted record (Run checks), the
// latency phase reports put→delivered latency for every record, and phases
// with subscribers count the events they received.
func TestFanoutModeAgainstEddy(t *testing.T) {
	if testing.Short() {
		t.Skip("fan-out phases open 100+ subscriptions; full suite only")
	}
	srv := eddytest.Start(t)
	o := Options{
		Endpoint: srv.URL(), Mode: "fanout", Stream: "bench-fanout",
		Shards: 2, Producers: 2, BatchSize: 100, RecordSize: 100,
		Duration: 300 * time.Millisecond, Rate: 500,
	}
	rep, err := Run(context.Background(), o)
	if err != nil {
		t.Fatalf("Run: %v\nreport: %+v", err, rep)
	}
	want := []string{"fanout-latency", "fanout-put-0", "fanout-put-5", "fanout-put-20"}
	if len(rep.Phases) != len(want) {
		t.Fatalf("got %d phases, want %v", len(rep.Phases), want)
	}
	for i, p := range rep.Phases {
		if p.Phase != want[i] {
			t.Errorf("phase %d = %s, want %s", i, p.Phase, want[i])
		}
		if p.Records <= 0 || p.RecordsPerSec <= 0 || p.Errors != 0 {
			t.Errorf("phase %s: %+v", p.Phase, p)
		}
		if withSubs := p.Phase != "fanout-put-0"; withSubs != (p.ConsumerCalls > 0) {
			t.Errorf("phase %s: %d events received", p.Phase, p.ConsumerCalls)
		}
	}
	lat := rep.Phases[0]
	if lat.EndToEnd == nil || lat.EndToEnd.Count != uint64(lat.Records) || lat.EndToEnd.P50 <= 0 {
		t.Errorf("fanout-latency: delivery latency %+v for %d records", lat.EndToEnd, lat.Records)
	}
}
