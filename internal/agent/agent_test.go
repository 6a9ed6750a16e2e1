package agent

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eddy-streams/eddy/internal/agent/checkpoint"
	"github.com/eddy-streams/eddy/internal/agent/send"
)

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// fakeSender records accepted entries; fail decides each call's outcome.
type fakeSender struct {
	mu    sync.Mutex
	got   []string
	calls int
	fail  func(call int, entries []send.Entry) (send.Result, error)
}

func (s *fakeSender) Send(ctx context.Context, entries []send.Entry) (send.Result, error) {
	s.mu.Lock()
	s.calls++
	call := s.calls
	fail := s.fail
	s.mu.Unlock()
	var res send.Result
	if fail != nil {
		var err error
		res, err = fail(call, entries)
		if err != nil {
			return res, err
		}
	}
	failed := map[int]bool{}
	for _, i := range res.Failed {
		failed[i] = true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, e := range entries {
		if !failed[i] {
			s.got = append(s.got, string(e.Data))
		}
	}
	return res, nil
}

func (s *fakeSender) records() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.got...)
}

func (s *fakeSender) setFail(f func(int, []send.Entry) (send.Result, error)) {
	s.mu.Lock()
	s.fail = f
	s.mu.Unlock()
}

type running struct {
	agent  *Agent
	cancel context.CancelFunc
	done   chan error
	cfg    *Config
}

// startAgent runs an agent over one flow reading dir/app.log* with the given
// extra flow keys and a fake sender.
func startAgent(t *testing.T, dir, extra string, s send.Sender) *running {
	t.Helper()
	doc := fmt.Sprintf(`{"checkpointFile": %q, "shutdownTimeoutMillis": 2000, "flows": [{
		"filePattern": %q, "kinesisStream": "s", "initialPosition": "START_OF_FILE",
		"minTimeBetweenFilePollsMillis": 5, "maxBufferAgeMillis": 1000,
		"retryInitialBackoffMillis": 1, "retryMaxBackoffMillis": 5, "rotateWaitMillis": 50 %s}]}`,
		filepath.Join(dir, "checkpoints"), filepath.Join(dir, "app.log*"), extra)
	cfg, err := ParseConfig([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	a, err := New(ctx, cfg, Options{Logger: quietLog(), NewSender: func(context.Context, Flow) (send.Sender, error) { return s, nil }})
	if err != nil {
		t.Fatal(err)
	}
	r := &running{agent: a, cancel: cancel, done: make(chan error, 1), cfg: cfg}
	go func() { r.done <- a.Run(ctx) }()
	t.Cleanup(func() { r.stop(t) })
	return r
}

func (r *running) stop(t *testing.T) {
	if r.cancel == nil {
		return
	}
	r.cancel()
	r.cancel = nil
	select {
	case err := <-r.done:
		if err != nil {
			t.Errorf("agent: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("agent did not stop")
	}
}

func (r *running) stats() *FlowStats { return r.agent.flows[0].stats }

func (r *running) checkpoint(t *testing.T) (int64, bool) {
	s, err := checkpoint.Open(r.cfg.CheckpointFile, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	p, ok := s.Get(r.cfg.Flows[0].ID())
	return p.Offset, ok
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func writeLines(t *testing.T, path string, from, to int, format string) int64 {
	t.Helper()
	var b bytes.Buffer
	for i := from; i < to; i++ {
		fmt.Fprintf(&b, format, i)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(b.Bytes()); err != nil {
		t.Fatal(err)
	}
	fi, _ := f.Stat()
	return fi.Size()
}

func assertExactlyOnce(t *testing.T, got []string, n int, format string) {
	t.Helper()
	seen := map[string]int{}
	for _, g := range got {
		seen[g]++
	}
	for i := 0; i < n; i++ {
		l := fmt.Sprintf(format, i)
		if seen[l] != 1 {
			t.Fatalf("line %q delivered %d times", l, seen[l])
		}
	}
	if len(got) != n {
		t.Fatalf("%d records delivered, want %d", len(got), n)
	}
}

func TestRetriesOnlyFailedEntries(t *testing.T) {
	dir := t.TempDir()
	const n = 1000
	const format = "line %04d\n"
	size := writeLines(t, filepath.Join(dir, "app.log"), 0, n, format)
	s := &fakeSender{fail: func(call int, es []send.Entry) (send.Result, error) {
		switch {
		case call%5 == 0:
			return send.Result{}, errors.New("connection reset")
		case call%2 == 1:
			var r send.Result
			for i := 0; i < len(es); i += 3 {
				r.Failed = append(r.Failed, i)
			}
			r.ErrorCode = "ProvisionedThroughputExceededException"
			return r, nil
		}
		return send.Result{}, nil
	}}
	r := startAgent(t, dir, `,"maxBufferSizeRecords": 50`, s)
	eventually(t, "all records", func() bool { return len(s.records()) >= n })
	eventually(t, "checkpoint at end of file", func() bool { off, _ := r.checkpoint(t); return off == size })
	r.stop(t)
	assertExactlyOnce(t, s.records(), n, format)
	st := r.stats()
	if st.RecordSendErrors.Load() == 0 || st.ServiceErrors.Load() == 0 {
		t.Errorf("send errors %d, service errors %d: the failure paths were not exercised", st.RecordSendErrors.Load(), st.ServiceErrors.Load())
	}
	if st.RecordsSent.Load() != n {
		t.Errorf("RecordsSent = %d", st.RecordsSent.Load())
	}
}

func TestCheckpointWaitsForEarlierBatches(t *testing.T) {
	dir := t.TempDir()
	const n = 100
	const format = "line %03d\n"
	size := writeLines(t, filepath.Join(dir, "app.log"), 0, n, format)
	release := make(chan struct{})
	var once sync.Once
	defer once.Do(func() { close(release) })
	s := &fakeSender{fail: func(call int, es []send.Entry) (send.Result, error) {
		if string(es[0].Data) == "line 000\n" {
			<-release
		}
		return send.Result{}, nil
	}}
	r := startAgent(t, dir, `,"maxBufferSizeRecords": 10, "maxInFlightBatches": 4`, s)
	// The three other senders deliver one batch each, then wait: a batch is
	// not let go before a checkpoint covers it, so no more than
	// maxInFlightBatches batches are ever sent but not checkpointed.
	eventually(t, "three later batches sent", func() bool { return len(s.records()) >= 30 })
	if off, ok := r.checkpoint(t); ok {
		t.Fatalf("checkpoint moved to %d while the first batch is unacknowledged", off)
	}
	if got := len(s.records()); got > 30 {
		t.Fatalf("%d records sent while the first batch is stuck: more than maxInFlightBatches ahead of the checkpoint", got)
	}
	once.Do(func() { close(release) })
	eventually(t, "checkpoint at end of file", func() bool { off, _ := r.checkpoint(t); return off == size })
	assertExactlyOnce(t, s.records(), n, format)
}

func TestUnparsedRecords(t *testing.T) {
	good := `1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0" 200 1 "-" "x"` + "\n"
	for _, tc := range []struct {
		mode      string
		wantSent  int
		wantSkips int64
	}{{"SEND_RAW", 4, 0}, {"SKIP", 2, 2}} {
		t.Run(tc.mode, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "app.log")
			data := good + "garbage one\n" + good + "garbage two\n"
			if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
				t.Fatal(err)
			}
			s := &fakeSender{}
			r := startAgent(t, dir, `,"onParseError":"`+tc.mode+`","maxBufferSizeRecords": 1, "maxInFlightBatches": 1,
				"dataProcessingOptions":[{"optionName":"LOGTOJSON","logFormat":"COMBINEDAPACHELOG"}]`, s)
			eventually(t, "checkpoint at end", func() bool { off, _ := r.checkpoint(t); return off == int64(len(data)) })
			got := s.records()
			if len(got) != tc.wantSent {
				t.Fatalf("sent %q", got)
			}
			if !strings.HasPrefix(got[0], `{"host":"1.2.3.4"`) {
				t.Errorf("first record not converted: %s", got[0])
			}
			if tc.mode == "SEND_RAW" && got[1] != "garbage one\n" {
				t.Errorf("raw record = %q", got[1])
			}
			st := r.stats()
			if st.RecordsUnparsed.Load() != 2 || st.RecordsSkipped.Load() != tc.wantSkips || st.RecordsParsed.Load() != 2 {
				t.Errorf("unparsed %d skipped %d parsed %d", st.RecordsUnparsed.Load(), st.RecordsSkipped.Load(), st.RecordsParsed.Load())
			}
		})
	}
}

func TestBoundedMemoryWhileDestinationDown(t *testing.T) {
	dir := t.TempDir()
	const n = 40000 // 200-byte lines: 8 MB
	format := "%06d " + strings.Repeat("x", 192) + "\n"
	writeLines(t, filepath.Join(dir, "app.log"), 0, n, format)
	s := &fakeSender{fail: func(int, []send.Entry) (send.Result, error) { return send.Result{}, errors.New("service down") }}
	r := startAgent(t, dir, `,"maxBufferSizeBytes": 65536, "publishQueueCapacity": 1, "maxInFlightBatches": 1`, s)
	eventually(t, "repeated send failures", func() bool { return r.stats().ServiceErrors.Load() >= 20 })
	// Budget (1 MiB) + one batch queued + one being filled, in lines.
	read := r.stats().Tail.Lines.Load()
	if limit := int64((1<<20 + 3*65536) / 200); read > limit {
		t.Fatalf("read %d lines while the destination is down, want at most %d", read, limit)
	}
	s.setFail(nil)
	eventually(t, "everything after recovery", func() bool { return len(s.records()) >= n })
	r.stop(t)
	assertExactlyOnce(t, s.records(), n, format)
}

func TestShutdownWithinTimeoutWhenDown(t *testing.T) {
	dir := t.TempDir()
	writeLines(t, filepath.Join(dir, "app.log"), 0, 10, "l%d\n")
	s := &fakeSender{fail: func(int, []send.Entry) (send.Result, error) { return send.Result{}, errors.New("down") }}
	r := startAgent(t, dir, `,"maxBufferSizeRecords": 1`, s)
	eventually(t, "failures", func() bool { return r.stats().ServiceErrors.Load() > 0 })
	start := time.Now()
	r.stop(t)
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("shutdown took %v (timeout 2 s)", el)
	}
	if _, ok := r.checkpoint(t); ok {
		t.Error("checkpoint written although nothing was acknowledged")
	}
}

func TestRestartResumesAfterCheckpoint(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.log")
	const format = "r %03d\n"
	size := writeLines(t, path, 0, 50, format)
	s := &fakeSender{}
	r := startAgent(t, dir, `,"maxBufferSizeRecords": 7`, s)
	eventually(t, "checkpoint", func() bool { off, _ := r.checkpoint(t); return off == size })
	r.stop(t)
	writeLines(t, path, 50, 80, format)
	// Rotation while stopped: the agent finishes the renamed file first.
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	size2 := writeLines(t, path, 80, 100, format)
	r2 := startAgent(t, dir, `,"maxBufferSizeRecords": 7`, s)
	eventually(t, "all records", func() bool { return len(s.records()) >= 100 })
	eventually(t, "checkpoint in the new file", func() bool { off, _ := r2.checkpoint(t); return off == size2 })
	r2.stop(t)
	got := s.records()
	sort.Strings(got)
	assertExactlyOnce(t, got, 100, format)
}

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestMetricsEndpointAndStatusLog(t *testing.T) {
	dir := t.TempDir()
	writeLines(t, filepath.Join(dir, "app.log"), 0, 20, "m %d\n")
	doc := fmt.Sprintf(`{"checkpointFile": %q, "metrics.listenAddress": "127.0.0.1:0", "log.statusReportingPeriodSeconds": 1,
		"flows": [{"filePattern": %q, "kinesisStream": "s", "initialPosition": "START_OF_FILE",
		"minTimeBetweenFilePollsMillis": 5, "maxBufferSizeRecords": 5}]}`, filepath.Join(dir, "cp"), filepath.Join(dir, "app.log"))
	cfg, err := ParseConfig([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	var logBuf syncBuffer
	s := &fakeSender{}
	ctx, cancel := context.WithCancel(context.Background())
	a, err := New(ctx, cfg, Options{Logger: slog.New(slog.NewTextHandler(&logBuf, nil)),
		NewSender: func(context.Context, Flow) (send.Sender, error) { return s, nil }})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	eventually(t, "records", func() bool { return len(s.records()) == 20 })
	eventually(t, "metrics listener", func() bool { return a.MetricsAddr() != "" })
	var body string
	eventually(t, "metrics", func() bool {
		resp, err := http.Get("http://" + a.MetricsAddr() + "/metrics")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		body = string(b)
		return strings.Contains(body, `eddy_agent_records_sent_total{destination="KinesisStream:s",flow="kinesis:s:`)
	})
	for _, want := range []string{
		"# TYPE eddy_agent_lines_read_total counter",
		`eddy_agent_lines_read_total{destination="KinesisStream:s",flow="` + cfg.Flows[0].ID() + `"} 20`,
		`eddy_agent_records_sent_total{destination="KinesisStream:s",flow="` + cfg.Flows[0].ID() + `"} 20`,
		"# TYPE eddy_agent_behind_bytes gauge",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q:\n%s", want, body)
		}
	}
	eventually(t, "status log line", func() bool {
		return strings.Contains(logBuf.String(), `msg="agent progress"`) && strings.Contains(logBuf.String(), "records_sent=20")
	})
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
