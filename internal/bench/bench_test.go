package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

func startNoop(t *testing.T) *Noop {
	t.Helper()
	n, err := NoopServer()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	return n
}

// TestPutAgainstNoop runs the put phase (with its baseline) against the
// no-op endpoint and checks the report adds up.
func TestPutAgainstNoop(t *testing.T) {
	n := startNoop(t)
	cases := []struct {
		name string
		o    Options
		// wantRecords is exact when > 0 (TotalRecords runs).
		wantRecords int64
	}{
		{name: "duration", o: Options{Duration: 300 * time.Millisecond, Producers: 4, BatchSize: 100}},
		{name: "total records, uneven last batch", o: Options{TotalRecords: 1234, Producers: 3, BatchSize: 500}, wantRecords: 1234},
		{name: "baseline", o: Options{Duration: 200 * time.Millisecond, Producers: 2, BatchSize: 50, Baseline: true}},
		{name: "baseline rounds", o: Options{Duration: 300 * time.Millisecond, Producers: 2, BatchSize: 50, Baseline: true, Rounds: 3}},
		{name: "baseline rounds total", o: Options{TotalRecords: 1001, Producers: 2, BatchSize: 50, Baseline: true, Rounds: 3}, wantRecords: 1001},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := c.o
			o.Endpoint = n.URL
			o.Stream = "s-" + strings.ReplaceAll(c.name, " ", "-")
			o.Mode = "put"
			rep, err := Run(context.Background(), o)
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			wantPhases := 1
			if o.Baseline {
				wantPhases = 2
			}
			if len(rep.Phases) != wantPhases {
				t.Fatalf("got %d phases, want %d: %+v", len(rep.Phases), wantPhases, rep.Phases)
			}
			p := rep.Phases[len(rep.Phases)-1]
			if p.Phase != "put" || p.Target != "endpoint" {
				t.Errorf("last phase = %s/%s, want put/endpoint", p.Phase, p.Target)
			}
			if c.wantRecords > 0 && p.Records != c.wantRecords {
				t.Errorf("records = %d, want %d", p.Records, c.wantRecords)
			}
			if p.Records <= 0 || p.Calls <= 0 || p.Errors != 0 || p.Throttles != 0 {
				t.Errorf("records %d calls %d errors %d throttles %d", p.Records, p.Calls, p.Errors, p.Throttles)
			}
			if p.Bytes != p.Records*int64(rep.RecordSize) {
				t.Errorf("bytes = %d, want %d", p.Bytes, p.Records*int64(rep.RecordSize))
			}
			if p.RecordsPerSec <= 0 || p.MBPerSec <= 0 || p.CallsPerSec <= 0 {
				t.Errorf("rates not filled: %+v", p)
			}
			l := p.CallLatency
			if l.Count != uint64(p.Calls) || l.P50 <= 0 || l.P50 > l.P99 || l.P99 > l.Max {
				t.Errorf("call latency inconsistent: %+v (calls %d)", l, p.Calls)
			}
			if o.Baseline {
				b := rep.Phases[0]
				if b.Target != "baseline" || b.Records == 0 || b.ClientCPU <= 0 || b.CallLatency.Count != uint64(b.Calls) {
					t.Errorf("baseline phase = %+v", b)
				}
				if c.wantRecords > 0 && b.Records != c.wantRecords {
					t.Errorf("baseline records = %d, want %d", b.Records, c.wantRecords)
				}
				if c.wantRecords == 0 && (b.Seconds < o.Duration.Seconds() || p.Seconds < o.Duration.Seconds()) {
					t.Errorf("baseline ran %.3fs, endpoint %.3fs; want at least %v each", b.Seconds, p.Seconds, o.Duration)
				}
				if rep.Ratio == nil || *rep.Ratio <= 0 {
					t.Errorf("ratio = %v, want > 0", rep.Ratio)
				}
			}
			if p.ClientCPU <= 0 || rep.Host.CPUs <= 0 {
				t.Errorf("client CPU %.3fs, host %+v: not measured", p.ClientCPU, rep.Host)
			}
			if rep.Shards != 4 {
				t.Errorf("shards = %d, want 4", rep.Shards)
			}
		})
	}
}

// TestNoopDeletesCreatedStream checks the stream created by a run is gone
// afterwards unless Keep is set.
func TestNoopDeletesCreatedStream(t *testing.T) {
	n := startNoop(t)
	for _, keep := range []bool{false, true} {
		stream := "del"
		if keep {
			stream = "keep"
		}
		_, err := Run(context.Background(), Options{Endpoint: n.URL, Stream: stream, TotalRecords: 10, Keep: keep})
		if err != nil {
			t.Fatal(err)
		}
		n.mu.Lock()
		_, exists := n.streams[stream]
		n.mu.Unlock()
		if exists != keep {
			t.Errorf("keep=%v: stream exists after run = %v", keep, exists)
		}
	}
}

func TestOptionErrors(t *testing.T) {
	cases := []struct {
		o    Options
		want string
	}{
		{Options{}, "endpoint"},
		{Options{Endpoint: "http://x", Mode: "fast"}, "unknown mode"},
		{Options{Endpoint: "http://x", BatchSize: 501}, "500"},
		{Options{Endpoint: "http://x", RecordSize: 8}, "header"},
	}
	for _, c := range cases {
		_, err := Run(context.Background(), c.o)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Run(%+v) error = %v, want it to mention %q", c.o, err, c.want)
		}
	}
}

// TestMainFlags drives the subcommand entry point: flags reach Options and
// both output formats print.
func TestMainFlags(t *testing.T) {
	n := startNoop(t)
	for _, asJSON := range []bool{false, true} {
		args := []string{"--endpoint", n.URL, "--mode", "put", "--stream", "cli", "--shards", "2",
			"--producers", "2", "--batch", "10", "--record-size", "64", "--records", "200", "--baseline", "--quiet"}
		if asJSON {
			args = append(args, "--json")
		}
		var out, errOut bytes.Buffer
		if err := run(context.Background(), args, &out, &errOut); err != nil {
			t.Fatalf("run %v: %v (stderr %s)", args, err, errOut.String())
		}
		if !asJSON {
			for _, want := range []string{"records/s", "baseline", "ratio = ", "put"} {
				if !strings.Contains(out.String(), want) {
					t.Errorf("text output lacks %q:\n%s", want, out.String())
				}
			}
			continue
		}
		var rep Report
		if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
			t.Fatalf("JSON output: %v\n%s", err, out.String())
		}
		if rep.Shards != 2 || rep.RecordSize != 64 || rep.BatchSize != 10 || len(rep.Phases) != 2 ||
			rep.Phases[1].Records != 200 || rep.Ratio == nil {
			t.Errorf("report from flags = %+v", rep)
		}
	}
	if err := run(context.Background(), []string{"--nope"}, &bytes.Buffer{}, &bytes.Buffer{}); err == nil {
		t.Error("unknown flag accepted")
	}
}

// TestRetriesCounted fails some PutRecords attempts with a retryable error
// in front of the no-op endpoint and checks the report counts the SDK's
// retries by cause while every record still lands.
func TestRetriesCounted(t *testing.T) {
	n := startNoop(t)
	var puts atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.Header.Get("X-Amz-Target"), ".PutRecords") && slices.Contains([]int64{1, 4}, puts.Add(1)) {
			io.Copy(io.Discard, r.Body)
			noopError(w, http.StatusInternalServerError, "InternalFailure", "injected")
			return
		}
		n.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	rep, err := Run(context.Background(), Options{Endpoint: srv.URL, Stream: "retry", TotalRecords: 1000, BatchSize: 100, Producers: 1})
	if err != nil {
		t.Fatal(err)
	}
	p := rep.Phases[0]
	var sum int64
	for _, c := range p.RetryCauses {
		sum += c
	}
	// Attempts 1 and 4 fail and are retried; every record still lands once.
	if p.Records != 1000 || p.Errors != 0 || p.Retries != sum || p.RetryCauses["InternalFailure"] != 2 {
		t.Errorf("records %d errors %d retries %d causes %v; want 1000, 0, the sum of causes, 2 InternalFailure", p.Records, p.Errors, p.Retries, p.RetryCauses)
	}
	var out bytes.Buffer
	Write(&out, rep, false)
	if !strings.Contains(out.String(), fmt.Sprintf("retried %d attempts", p.Retries)) {
		t.Errorf("text report does not show the retries:\n%s", out.String())
	}
}

// TestNoopAnswersEveryRecord sends PutRecords of several sizes through the
// SDK to the no-op endpoint: one result entry per record, none failed.
func TestNoopAnswersEveryRecord(t *testing.T) {
	n := startNoop(t)
	o := Options{Endpoint: n.URL}.withDefaults()
	c := newClient(n.URL, o, nil)
	ctx := context.Background()
	if _, _, err := ensureStream(ctx, c, "s", 3, o.Logger); err != nil {
		t.Fatal(err)
	}
	shards, err := listShards(ctx, c, "s")
	if err != nil || len(shards) != 3 {
		t.Fatalf("ListShards = %v, %v; want 3 shards", shards, err)
	}
	for _, count := range []int{1, 2, 7, 500} {
		recs := make([]types.PutRecordsRequestEntry, count)
		for i := range recs {
			// Payloads and keys with JSON-significant characters once encoded.
			recs[i] = types.PutRecordsRequestEntry{Data: []byte(`"},{"[`), PartitionKey: aws.String(`k"]},{` + strconv.Itoa(i))}
		}
		out, err := c.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String("s"), Records: recs})
		if err != nil {
			t.Fatalf("%d records: %v", count, err)
		}
		if len(out.Records) != count || aws.ToInt32(out.FailedRecordCount) != 0 {
			t.Errorf("%d records: %d entries, %d failed", count, len(out.Records), aws.ToInt32(out.FailedRecordCount))
		}
	}
}

// TestServerPID points ServerPID at this very process (which runs the
// no-op endpoint): the endpoint phases must report its CPU time.
func TestServerPID(t *testing.T) {
	if _, err := serverCPU(os.Getpid()); err != nil {
		t.Skipf("no /proc on this system: %v", err)
	}
	n := startNoop(t)
	rep, err := Run(context.Background(), Options{Endpoint: n.URL, Stream: "pid", Duration: 300 * time.Millisecond,
		Producers: 2, BatchSize: 500, Baseline: true, Rounds: 2, ServerPID: os.Getpid()})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range rep.Phases {
		if p.Target == "endpoint" && p.ServerCPU <= 0 || p.Target == "baseline" && p.ServerCPU != 0 {
			t.Errorf("%s/%s server CPU = %.3fs", p.Phase, p.Target, p.ServerCPU)
		}
	}
	var out bytes.Buffer
	Write(&out, rep, false)
	if !strings.Contains(out.String(), "put/endpoint CPU per record: client") || !strings.Contains(out.String(), "µs, server") {
		t.Errorf("text report lacks the CPU per record line:\n%s", out.String())
	}
	if _, err := Run(context.Background(), Options{Endpoint: n.URL, ServerPID: 1 << 30}); err == nil {
		t.Error("a PID that does not exist was accepted")
	}
}
