package bench

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestAnalyticsMode runs every analytics scenario on a few records: each
// must reach its expected output rows and report its figures.
func TestAnalyticsMode(t *testing.T) {
	var out bytes.Buffer
	res, err := RunAnalytics(context.Background(), AnalyticsOptions{Records: 3000, Keys: 7, BigKeys: 4000}, &out, false)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"tumbling": 7, "sliding": 3000, "join": 7, "keys": 4000}
	if len(res) != len(want) {
		t.Fatalf("%d scenarios: %+v", len(res), res)
	}
	for _, r := range res {
		if r.OutputRows != want[r.Scenario] || r.PerCore <= 0 || r.EventsPerSec <= 0 {
			t.Errorf("%s: %+v", r.Scenario, r)
		}
	}
	if !strings.Contains(out.String(), "events/CPU-s") {
		t.Fatalf("report:\n%s", out.String())
	}
	if _, err := RunAnalytics(context.Background(), AnalyticsOptions{Records: 10, Scenarios: "nope"}, &out, false); err == nil {
		t.Fatal("unknown scenario accepted")
	}
}
