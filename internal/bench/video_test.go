package bench

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/eddy-streams/eddy/internal/eddytest"
)

// TestVideoModeAgainstEddy: three live streams for two seconds against an
// in-process Eddy; every fragment must come back PERSISTED and the report
// must be filled.
func TestVideoModeAgainstEddy(t *testing.T) {
	srv := eddytest.Start(t)
	rep, err := RunVideo(context.Background(), VideoOptions{Endpoint: srv.URL(), Streams: 3, Bitrate: 500000, Duration: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Fragments != 6 || rep.Errors != 0 || rep.Persist.Count != 6 || rep.HLS.Count == 0 || rep.MBPerSec <= 0 {
		t.Fatalf("report %+v", rep)
	}
	var b bytes.Buffer
	WriteVideo(&b, rep, false)
	if !strings.Contains(b.String(), "fragments persisted 6, errors 0") {
		t.Fatalf("report text:\n%s", b.String())
	}
}
