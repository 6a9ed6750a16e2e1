package runner_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eddy-streams/eddy/internal/analytics"
	"github.com/eddy-streams/eddy/internal/analytics/exec"
	"github.com/eddy-streams/eddy/internal/analytics/runner"
	"github.com/eddy-streams/eddy/internal/kinesis"
	"github.com/eddy-streams/eddy/internal/storage"
	"github.com/eddy-streams/eddy/internal/storage/memstore"
)

// countProgram stands in for the engine: it counts rows per status over
// tumbling 60 s ROWTIME windows (what `GROUP BY status, STEP(ROWTIME BY
// INTERVAL '60' SECOND)` computes) and snapshots its open windows.
type countProgram struct {
	sink   exec.Sink
	Open   map[int64]map[int64]int64 `json:"open"`   // window start → status → count
	Inputs map[string]int            `json:"inputs"` // rows per in-application input stream
	errors int
}

func newCount(exec.Config) (runner.Program, error) {
	return &countProgram{Open: map[int64]map[int64]int64{}}, nil
}

var outCols = []exec.Column{{Name: "WINDOW_END", Type: exec.TypeTimestamp}, {Name: "STATUS", Type: exec.TypeInteger}, {Name: "CNT", Type: exec.TypeBigint}}

func (p *countProgram) Streams() []exec.StreamInfo {
	return []exec.StreamInfo{{Name: "DEST", Columns: outCols}}
}
func (p *countProgram) Start(s exec.Sink) { p.sink = s }
func (p *countProgram) Push(in string, b *exec.Batch) error {
	if p.Inputs == nil {
		p.Inputs = map[string]int{}
	}
	p.Inputs[in] += b.Len
	for i := 0; i < b.Len; i++ {
		p.Advance(b.RowTime[i])
		w := b.RowTime[i] / 60000 * 60000
		if p.Open[w] == nil {
			p.Open[w] = map[int64]int64{}
		}
		p.Open[w][b.Cols[0].I64[i]]++
	}
	return nil
}
func (p *countProgram) Advance(now int64) {
	var ws []int64
	for w := range p.Open {
		if w+60000 <= now {
			ws = append(ws, w)
		}
	}
	sort.Slice(ws, func(i, j int) bool { return ws[i] < ws[j] })
	for _, w := range ws {
		b := &exec.Batch{Cols: []exec.Vector{{Type: exec.TypeTimestamp}, {Type: exec.TypeInteger}, {Type: exec.TypeBigint}}}
		var ss []int64
		for s := range p.Open[w] {
			ss = append(ss, s)
		}
		sort.Slice(ss, func(i, j int) bool { return ss[i] < ss[j] })
		for _, s := range ss {
			b.Cols[0].I64 = append(b.Cols[0].I64, w+60000)
			b.Cols[1].I64 = append(b.Cols[1].I64, s)
			b.Cols[2].I64 = append(b.Cols[2].I64, p.Open[w][s])
			b.RowTime = append(b.RowTime, w+60000)
			b.Len++
		}
		delete(p.Open, w)
		p.sink("DEST", b)
	}
}
func (p *countProgram) ReportError(e exec.ErrorRow) {
	p.errors++
	b := &exec.Batch{Len: 1, Cols: make([]exec.Vector, 7)}
	b.Cols[0] = exec.Vector{Type: exec.TypeTimestamp, I64: []int64{e.Time}}
	b.Cols[1] = exec.Vector{Type: exec.TypeVarchar, Str: []string{e.Level}}
	b.Cols[2] = exec.Vector{Type: exec.TypeVarchar, Str: []string{e.Name}}
	b.Cols[3] = exec.Vector{Type: exec.TypeVarchar, Str: []string{e.Message}}
	b.Cols[4] = exec.Vector{Type: exec.TypeTimestamp, I64: []int64{e.DataRowTime}}
	b.Cols[5] = exec.Vector{Type: exec.TypeVarchar, Str: []string{e.DataRow}}
	b.Cols[6] = exec.Vector{Type: exec.TypeVarchar, Str: []string{e.Pump}}
	p.sink(exec.ErrorStream, b)
}
func (p *countProgram) SetReference(string, *exec.Batch) error { return nil }
func (p *countProgram) Snapshot() ([]byte, error)              { return json.Marshal(p) }
func (p *countProgram) Restore(b []byte) error                 { return json.Unmarshal(b, p) }

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

type harness struct {
	t   *testing.T
	clk *clock
	ks  *kinesis.Service
	be  *memstore.Store
	r   *runner.Runner
}

const acct, region = "000000000000", "us-east-1"

func newHarness(t *testing.T) *harness {
	clk := &clock{t: time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)}
	be := memstore.New(clk.now)
	ks, err := kinesis.New(kinesis.Options{Backend: be, Now: clk.now, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ks.Close)
	for _, s := range []struct {
		n      string
		shards int
	}{{"logs", 2}, {"counts", 1}, {"errors", 1}} {
		if err := ks.EnsureStream(acct, region, s.n, s.shards); err != nil {
			t.Fatal(err)
		}
	}
	h := &harness{t: t, clk: clk, ks: ks, be: be}
	h.r = runner.New(runner.Options{Streams: ks, Backend: be, Now: clk.now, Compile: newCount, Tick: 2 * time.Millisecond, AdvanceLag: time.Second, CheckpointEvery: time.Nanosecond,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	return h
}

func (h *harness) spec(pos string) analytics.RunSpec {
	mapping := func(s string) *string { return &s }
	one := int32(1)
	return analytics.RunSpec{AppID: "app1", Account: acct, Region: region, Name: "app1", Position: pos,
		Input: &analytics.InputDescription{InputId: "1.1", NamePrefix: "SOURCE_SQL_STREAM", InAppStreamNames: []string{"SOURCE_SQL_STREAM_001"},
			KinesisStreamsInputDescription: &analytics.ResourceRole{ResourceARN: "arn:aws:kinesis:us-east-1:000000000000:stream/logs"},
			InputParallelism:               &analytics.InputParallelism{Count: &one},
			InputSchema: &analytics.SourceSchema{RecordFormat: &analytics.RecordFormat{RecordFormatType: "JSON", MappingParameters: &analytics.MappingParameters{JSONMappingParameters: &analytics.JSONMappingParameters{RecordRowPath: "$"}}},
				RecordColumns: []analytics.RecordColumn{{Name: "status", SqlType: "INTEGER", Mapping: mapping("$.status")}}}},
		Outputs: []analytics.OutputDescription{
			{OutputId: "1.2", Name: "DEST", KinesisStreamsOutputDescription: &analytics.ResourceRole{ResourceARN: "arn:aws:kinesis:us-east-1:000000000000:stream/counts"}, DestinationSchema: &analytics.DestinationSchema{RecordFormatType: "JSON"}},
			{OutputId: "1.3", Name: "error_stream", KinesisStreamsOutputDescription: &analytics.ResourceRole{ResourceARN: "arn:aws:kinesis:us-east-1:000000000000:stream/errors"}, DestinationSchema: &analytics.DestinationSchema{RecordFormatType: "JSON"}},
		}}
}

func (h *harness) put(statuses ...int) {
	h.t.Helper()
	var recs []kinesis.InprocEntry
	for i, s := range statuses {
		recs = append(recs, kinesis.InprocEntry{PartitionKey: fmt.Sprintf("k%d", i), Data: []byte(fmt.Sprintf(`{"status":%d,"path":"/x"}`, s))})
	}
	if _, err := h.ks.Put(context.Background(), acct, region, "logs", recs); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) putRaw(data string) {
	h.t.Helper()
	if _, err := h.ks.Put(context.Background(), acct, region, "logs", []kinesis.InprocEntry{{PartitionKey: "x", Data: []byte(data)}}); err != nil {
		h.t.Fatal(err)
	}
}

// read returns every record of a one-shard stream.
func (h *harness) read(stream string) []string {
	ref, err := h.ks.ResolveARN("arn:aws:kinesis:us-east-1:000000000000:stream/" + stream)
	if err != nil {
		h.t.Fatal(err)
	}
	var out []string
	_, err = h.ks.Read(context.Background(), ref, 0, 0, 100000, func(r kinesis.InprocRecord) bool {
		out = append(out, string(r.Data))
		return true
	})
	if err != nil {
		h.t.Fatal(err)
	}
	return out
}

// waitFor polls the output stream until it holds n records (bounded).
func (h *harness) waitFor(stream string, n int) []string {
	h.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := h.read(stream)
		if len(got) >= n || time.Now().After(deadline) {
			return got
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// waitCheckpoint polls until the runner's checkpoint covers n input records.
func (h *harness) waitRead(n uint64) {
	h.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		blob, _ := h.be.LoadMeta("analytics-ckpt-app1")
		var c struct {
			Positions map[string]uint64 `json:"positions"`
		}
		_ = json.Unmarshal(blob, &c)
		var sum uint64
		for _, p := range c.Positions {
			sum += p
		}
		if sum >= n {
			return
		}
		time.Sleep(2 * time.Millisecond)
	}
	h.t.Fatalf("runner did not read %d records in time", n)
}

func TestTumblingCountsToOutputAndErrorStream(t *testing.T) {
	h := newHarness(t)
	run, err := h.r.Launch(h.spec("NOW"))
	if err != nil {
		t.Fatal(err)
	}
	defer run.Stop()
	h.put(200, 200, 404, 200, 500)
	h.putRaw(`{"status":"abc"}`) // type error → error_stream
	h.putRaw(`not json`)         // parse error → error_stream
	errs := h.waitFor("errors", 2)
	if len(errs) != 2 || !strings.Contains(errs[0]+errs[1], "TYPE_CONVERSION_ERROR") || !strings.Contains(errs[0]+errs[1], "RECORD_PARSE_ERROR") ||
		!strings.Contains(errs[0]+errs[1], `"DATA_ROW":"6e6f74206a736f6e"`) {
		t.Fatalf("error stream %v", errs)
	}
	if got := h.read("counts"); len(got) != 0 {
		t.Fatalf("window emitted before it closed: %v", got)
	}
	h.clk.set(h.clk.now().Add(62 * time.Second)) // past the window end + lag
	got := h.waitFor("counts", 3)
	want := []string{
		`{"WINDOW_END":"2026-01-01 10:01:00.000","STATUS":200,"CNT":3}`,
		`{"WINDOW_END":"2026-01-01 10:01:00.000","STATUS":404,"CNT":1}`,
		`{"WINDOW_END":"2026-01-01 10:01:00.000","STATUS":500,"CNT":1}`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("counts\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestStopStartLastStoppedPoint: rows of an open window read before a stop
// are counted once after LAST_STOPPED_POINT; a closed window is not
// emitted again.
func TestStopStartLastStoppedPoint(t *testing.T) {
	h := newHarness(t)
	run, err := h.r.Launch(h.spec("TRIM_HORIZON"))
	if err != nil {
		t.Fatal(err)
	}
	h.put(200, 404)
	h.waitRead(2)
	h.clk.set(h.clk.now().Add(61500 * time.Millisecond)) // window 10:00 closes
	if got := h.waitFor("counts", 2); len(got) != 2 {
		t.Fatalf("first window: %v", got)
	}
	h.put(200, 200, 200) // window 10:01, still open at the stop
	h.waitRead(5)
	if err := run.Stop(); err != nil {
		t.Fatal(err)
	}
	h.put(404) // arrives while stopped, same window
	run, err = h.r.Launch(h.spec("LAST_STOPPED_POINT"))
	if err != nil {
		t.Fatal(err)
	}
	defer run.Stop()
	h.clk.set(h.clk.now().Add(61 * time.Second))
	got := h.waitFor("counts", 4)
	want := []string{
		`{"WINDOW_END":"2026-01-01 10:01:00.000","STATUS":200,"CNT":1}`,
		`{"WINDOW_END":"2026-01-01 10:01:00.000","STATUS":404,"CNT":1}`,
		`{"WINDOW_END":"2026-01-01 10:02:00.000","STATUS":200,"CNT":3}`,
		`{"WINDOW_END":"2026-01-01 10:02:00.000","STATUS":404,"CNT":1}`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("counts\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestCrashResumesFromCheckpoint: a run that dies without a final
// checkpoint (kill -9) resumes from its last periodic one; the window is
// complete and emitted once.
func TestCrashResumesFromCheckpoint(t *testing.T) {
	h := newHarness(t)
	run, err := h.r.Launch(h.spec("TRIM_HORIZON"))
	if err != nil {
		t.Fatal(err)
	}
	h.put(200, 200, 301)
	h.waitRead(3)
	runner.Abort(run)
	h.put(301)
	run, err = h.r.Launch(h.spec("LAST_STOPPED_POINT"))
	if err != nil {
		t.Fatal(err)
	}
	defer run.Stop()
	h.clk.set(h.clk.now().Add(62 * time.Second))
	got := h.waitFor("counts", 2)
	want := []string{
		`{"WINDOW_END":"2026-01-01 10:01:00.000","STATUS":200,"CNT":2}`,
		`{"WINDOW_END":"2026-01-01 10:01:00.000","STATUS":301,"CNT":2}`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("counts\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestLaunchErrors(t *testing.T) {
	h := newHarness(t)
	s := h.spec("NOW")
	s.Outputs[0].Name = "NOPE"
	if _, err := h.r.Launch(s); err == nil || !strings.Contains(err.Error(), "NOPE") {
		t.Fatalf("unknown output stream: %v", err)
	}
	s = h.spec("NOW")
	s.Input.KinesisStreamsInputDescription.ResourceARN = "arn:aws:kinesis:us-east-1:000000000000:stream/missing"
	if _, err := h.r.Launch(s); err == nil {
		t.Fatal("missing input stream accepted")
	}
	// the real engine of this build
	real := runner.New(runner.Options{Streams: h.ks, Backend: h.be})
	if err := real.Check(h.spec("NOW")); err != nil {
		t.Fatalf("check: %v", err)
	}
}

// fakeFirehose keeps delivery streams as shard logs of the harness's store
// and records what is put to them.
type fakeFirehose struct {
	mu   sync.Mutex
	put  map[string][][]byte
	logs map[string]storage.ShardID
}

func (f *fakeFirehose) PutBatch(_ context.Context, _, _, name string, recs [][]byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.put[name] = append(f.put[name], recs...)
	return nil
}

func (f *fakeFirehose) BufferLog(_, _, name string) (storage.ShardID, error) {
	id, ok := f.logs[name]
	if !ok {
		return id, fmt.Errorf("no delivery stream %s", name)
	}
	return id, nil
}

// TestDeliveryStreamInputAndOutput: a delivery stream's buffer as the
// source, CSV records, and a delivery stream as the (CSV) destination.
func TestDeliveryStreamInputAndOutput(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	src := storage.ShardID{Stream: "fh-src"}
	if err := h.be.CreateShard(ctx, src, h.clk.now().UnixMilli()); err != nil {
		t.Fatal(err)
	}
	fh := &fakeFirehose{put: map[string][][]byte{}, logs: map[string]storage.ShardID{"src": src, "dst": {Stream: "fh-dst"}}}
	r := runner.New(runner.Options{Streams: h.ks, Firehose: fh, Backend: h.be, Now: h.clk.now, Compile: newCount, Tick: 2 * time.Millisecond, AdvanceLag: time.Second, CheckpointEvery: time.Nanosecond,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	spec := h.spec("TRIM_HORIZON")
	spec.Input.KinesisStreamsInputDescription = nil
	spec.Input.KinesisFirehoseInputDescription = &analytics.ResourceRole{ResourceARN: "arn:aws:firehose:us-east-1:000000000000:deliverystream/src"}
	spec.Input.InputSchema = &analytics.SourceSchema{RecordFormat: &analytics.RecordFormat{RecordFormatType: "CSV", MappingParameters: &analytics.MappingParameters{CSVMappingParameters: &analytics.CSVMappingParameters{RecordRowDelimiter: "\n", RecordColumnDelimiter: ","}}},
		RecordColumns: []analytics.RecordColumn{{Name: "status", SqlType: "INTEGER"}}}
	spec.Outputs = []analytics.OutputDescription{{OutputId: "1.2", Name: "DEST", KinesisFirehoseOutputDescription: &analytics.ResourceRole{ResourceARN: "arn:aws:firehose:us-east-1:000000000000:deliverystream/dst"}, DestinationSchema: &analytics.DestinationSchema{RecordFormatType: "CSV"}}}
	run, err := r.Launch(spec)
	if err != nil {
		t.Fatal(err)
	}
	defer run.Stop()
	if _, err := h.be.Append(ctx, src, []storage.Record{{Data: []byte("200\n200\n503")}, {Data: []byte("200,extra")}}); err != nil {
		t.Fatal(err)
	}
	h.clk.set(h.clk.now().Add(62 * time.Second))
	deadline := time.Now().Add(10 * time.Second)
	var got []string
	for time.Now().Before(deadline) {
		fh.mu.Lock()
		got = got[:0]
		for _, r := range fh.put["dst"] {
			got = append(got, string(r))
		}
		fh.mu.Unlock()
		if len(got) >= 2 {
			break
		}
		time.Sleep(2 * time.Millisecond)
	}
	if want := "2026-01-01 10:01:00.000,200,3\n|2026-01-01 10:01:00.000,503,1\n"; strings.Join(got, "|") != want {
		t.Fatalf("delivered %q, want %q", strings.Join(got, "|"), want)
	}
}

// TestBacklogReadBeforeWindowCloses: with a backlog far larger than one
// read, a window whose end has passed still counts every record that
// arrived in it.
func TestBacklogReadBeforeWindowCloses(t *testing.T) {
	h := newHarness(t)
	r := runner.New(runner.Options{Streams: h.ks, Backend: h.be, Now: h.clk.now, Compile: newCount, Tick: time.Millisecond, AdvanceLag: time.Millisecond, CheckpointEvery: time.Nanosecond,
		BatchRecords: 7, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	statuses := make([]int, 0, 500)
	for i := 0; i < 500; i++ {
		statuses = append(statuses, 200+i%2)
	}
	for i := 0; i < 4; i++ {
		h.put(statuses...)
	}
	h.clk.set(h.clk.now().Add(5 * time.Minute)) // the window ended long ago
	run, err := r.Launch(h.spec("TRIM_HORIZON"))
	if err != nil {
		t.Fatal(err)
	}
	defer run.Stop()
	got := h.waitFor("counts", 2)
	want := `{"WINDOW_END":"2026-01-01 10:01:00.000","STATUS":200,"CNT":1000}` + "\n" + `{"WINDOW_END":"2026-01-01 10:01:00.000","STATUS":201,"CNT":1000}`
	if strings.Join(got, "\n") != want {
		t.Fatalf("counts\n%s\nwant\n%s", strings.Join(got, "\n"), want)
	}
}

// TestInputParallelism: two in-application streams share the two shards.
func TestInputParallelism(t *testing.T) {
	h := newHarness(t)
	var prog *countProgram
	r := runner.New(runner.Options{Streams: h.ks, Backend: h.be, Now: h.clk.now, Tick: 2 * time.Millisecond, AdvanceLag: time.Second, CheckpointEvery: time.Nanosecond,
		Compile: func(c exec.Config) (runner.Program, error) {
			if len(c.Inputs) != 2 || c.Inputs[1].Name != "SOURCE_SQL_STREAM_002" || !c.Inputs[0].Kinesis {
				return nil, fmt.Errorf("inputs %+v", c.Inputs)
			}
			p, _ := newCount(c)
			prog = p.(*countProgram)
			return p, nil
		}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	spec := h.spec("TRIM_HORIZON")
	two := int32(2)
	spec.Input.InputParallelism = &analytics.InputParallelism{Count: &two}
	spec.Input.InAppStreamNames = []string{"SOURCE_SQL_STREAM_001", "SOURCE_SQL_STREAM_002"}
	statuses := make([]int, 200)
	for i := range statuses {
		statuses[i] = 200
	}
	h.put(statuses...)
	run, err := r.Launch(spec)
	if err != nil {
		t.Fatal(err)
	}
	h.waitRead(200)
	if err := run.Stop(); err != nil {
		t.Fatal(err)
	}
	a, b := prog.Inputs["SOURCE_SQL_STREAM_001"], prog.Inputs["SOURCE_SQL_STREAM_002"]
	if a+b != 200 || a == 0 || b == 0 {
		t.Fatalf("rows per input stream: %v", prog.Inputs)
	}
}
