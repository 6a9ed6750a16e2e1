package bench

import (
	"context"
	"testing"
	"time"

	"github.com/eddy-streams/eddy/internal/eddytest"
)

// TestFanoutModeAgainstEddy runs --mode fanout against an in-process Eddy:
// every subscriber must receive every accepted record (Run checks), and the
// delivery latency and event counts must be filled for phases with
// subscribers.
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
		withSubs := p.Phase != "fanout-put-0"
		if got := p.EndToEnd != nil; got != withSubs {
			t.Errorf("phase %s: delivery latency reported %v, want %v", p.Phase, got, withSubs)
		}
		if withSubs && (p.EndToEnd.P50 <= 0 || p.ConsumerCalls == 0) {
			t.Errorf("phase %s: delivery latency %+v, %d events", p.Phase, p.EndToEnd, p.ConsumerCalls)
		}
	}
	lat := rep.Phases[0]
	if lat.EndToEnd.Count != uint64(lat.Records) {
		t.Errorf("fanout-latency: %d deliveries of %d records", lat.EndToEnd.Count, lat.Records)
	}
	for _, p := range rep.Phases[2:] {
		n := map[string]uint64{"fanout-put-5": 5, "fanout-put-20": 20}[p.Phase]
		if p.EndToEnd.Count != n*uint64(p.Records) {
			t.Errorf("%s: %d deliveries of %d records", p.Phase, p.EndToEnd.Count, p.Records)
		}
	}
}
