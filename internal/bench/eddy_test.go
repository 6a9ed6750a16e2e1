package bench

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/eddy-streams/eddy/internal/eddytest"
)

// TestAllModesAgainstEddy runs every mode against an in-process Eddy
// server: counts must match (Run checks read-back and put→get), and every
// figure of the report must be filled.
func TestAllModesAgainstEddy(t *testing.T) {
	srv := eddytest.Start(t)
	cases := []struct {
		mode   string
		phases []string
	}{
		{"put", []string{"put"}},
		{"get", []string{"put", "get"}},
		{"latency", []string{"latency"}},
		{"all", []string{"put", "put", "get", "latency"}}, // with baseline
	}
	for _, c := range cases {
		t.Run(c.mode, func(t *testing.T) {
			o := Options{
				Endpoint: srv.URL(), Mode: c.mode, Stream: "bench-" + c.mode,
				Shards: 2, Producers: 2, BatchSize: 100, RecordSize: 100,
				Duration: 300 * time.Millisecond, Rate: 500, Baseline: c.mode == "all", Rounds: 2,
			}
			rep, err := Run(context.Background(), o)
			if err != nil {
				t.Fatalf("Run: %v\nreport: %+v", err, rep)
			}
			if len(rep.Phases) != len(c.phases) {
				t.Fatalf("got %d phases, want %v", len(rep.Phases), c.phases)
			}
			var put PhaseResult
			for i, p := range rep.Phases {
				if p.Phase != c.phases[i] {
					t.Errorf("phase %d = %s, want %s", i, p.Phase, c.phases[i])
				}
				if p.Records <= 0 || p.Calls <= 0 || p.RecordsPerSec <= 0 || p.MBPerSec <= 0 || p.CallLatency.P50 <= 0 {
					t.Errorf("phase %s/%s not filled: %+v", p.Phase, p.Target, p)
				}
				if p.Errors != 0 || p.Throttles != 0 {
					t.Errorf("phase %s/%s: %d errors, %d throttles", p.Phase, p.Target, p.Errors, p.Throttles)
				}
				switch {
				case p.Phase == "put" && p.Target == "endpoint":
					put = p
				case p.Phase == "get":
					// A fresh stream holds exactly the put phase's records.
					if p.Records != put.Records || p.Bytes != put.Bytes {
						t.Errorf("get read %d records (%d bytes), put wrote %d (%d bytes)", p.Records, p.Bytes, put.Records, put.Bytes)
					}
				case p.Phase == "latency":
					if p.EndToEnd == nil || p.EndToEnd.Count != uint64(p.Records) || p.EndToEnd.P50 <= 0 || p.ConsumerCalls == 0 {
						t.Errorf("latency phase end-to-end = %+v, records %d, polls %d", p.EndToEnd, p.Records, p.ConsumerCalls)
					}
					// 500 records/s for 0.3 s, paced: about 150.
					if p.Records < 75 || p.Records > 160 {
						t.Errorf("latency phase wrote %d records, want about 150", p.Records)
					}
				}
			}
			if (rep.Ratio != nil) != o.Baseline {
				t.Errorf("ratio = %v with baseline %v", rep.Ratio, o.Baseline)
			}
			// The run created the stream, so it must have deleted it.
			out, err := newClient(srv.URL(), o.withDefaults(), nil).DescribeStreamSummary(context.Background(),
				&kinesis.DescribeStreamSummaryInput{StreamName: &o.Stream})
			var nf *types.ResourceNotFoundException
			if !errors.As(err, &nf) && (err != nil || out.StreamDescriptionSummary.StreamStatus != types.StreamStatusDeleting) {
				t.Errorf("stream %s after the run: %+v, %v; want it deleted", o.Stream, out, err)
			}
		})
	}
}

// TestGetVerifiesCount checks the get phase fails when the read-back count
// differs from the accepted count in either direction, and passes when it
// matches.
func TestGetVerifiesCount(t *testing.T) {
	srv := eddytest.Start(t)
	ctx := context.Background()
	o := Options{Endpoint: srv.URL(), Stream: "verify", Shards: 2, Producers: 1, BatchSize: 100, TotalRecords: 300}.withDefaults()
	tg := newTarget("endpoint", o.Endpoint, o)
	if _, _, err := ensureStream(ctx, tg.client, o.Stream, o.Shards, o.Logger); err != nil {
		t.Fatal(err)
	}
	if res, err := runPut(ctx, tg); err != nil || res.Records != 300 {
		t.Fatalf("put: %d records, %v", res.Records, err)
	}
	cases := []struct {
		accepted int64
		want     string // "" for success
	}{
		{300, ""},
		{301, "lost"},
		{299, "duplicates"},
	}
	for _, c := range cases {
		tg.putAccepted = c.accepted
		res, err := runGet(ctx, tg)
		if res.Records != 300 {
			t.Errorf("accepted %d: read %d records, want 300", c.accepted, res.Records)
		}
		if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
			t.Errorf("accepted %d: error %v, want %q", c.accepted, err, c.want)
		}
	}
}
