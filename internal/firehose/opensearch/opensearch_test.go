package opensearch

import (
	"testing"
	"time"
)

func TestIndexName(t *testing.T) {
	at := time.Date(2016, 2, 25, 13, 0, 0, 0, time.UTC)
	for rot, want := range map[string]string{
		NoRotation: "idx", OneHour: "idx-2016-02-25-13", OneDay: "idx-2016-02-25", OneWeek: "idx-2016-w08", OneMonth: "idx-2016-02",
	} {
		if got := IndexName("idx", rot, at); got != want {
			t.Errorf("%s: %s, want %s", rot, got, want)
		}
	}
	// The arrival time is read in UTC whatever the zone of t.
	if got := IndexName("i", OneDay, time.Date(2016, 2, 25, 23, 30, 0, 0, time.FixedZone("x", -3600))); got != "i-2016-02-26" {
		t.Errorf("UTC: %s", got)
	}
	// A week that starts in one year and ends in the next.
	if got := IndexName("i", OneWeek, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)); got != "i-2026-w01" {
		t.Errorf("year boundary: %s", got)
	}
}
