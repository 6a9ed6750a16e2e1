package bench

// Analytics mode (--mode analytics): the Data Analytics runner and SQL
// engine in process, on a stream of this process's own log store (durability
// none, a temporary directory): JSON records are written to the input
// stream first, then one application per scenario reads them all through
// to windowed output in another stream. The figure is events per CPU-second
// of this process (user+system time while the application runs), which is
// events/s per core whatever else the machine is doing, plus wall-clock
// events/s. Scenarios: a tumbling COUNT/SUM GROUP BY key, a sliding-window
// AVG, a stream–reference-table join, and a tumbling window over 1 million
// distinct keys with the process's resident memory. --endpoint is not used.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/eddy-streams/eddy/internal/analytics"
	"github.com/eddy-streams/eddy/internal/analytics/runner"
	"github.com/eddy-streams/eddy/internal/kinesis"
	"github.com/eddy-streams/eddy/internal/storage/logstore"
)

// AnalyticsOptions configure --mode analytics.
type AnalyticsOptions struct {
	Records   int    // input records per scenario (default 1,000,000)
	Keys      int    // distinct keys (default 20)
	BigKeys   int    // distinct keys of the memory scenario (default 1,000,000; 0 skips it)
	Scenarios string // comma-separated subset of tumbling,sliding,join,keys (default all)
	Logger    *slog.Logger
}

// AnalyticsResult is one scenario's figures.
type AnalyticsResult struct {
	Scenario     string  `json:"scenario"`
	Records      int     `json:"records"`
	Keys         int     `json:"keys"`
	OutputRows   int     `json:"outputRows"`
	Seconds      float64 `json:"seconds"`
	CPUSeconds   float64 `json:"cpuSeconds"`
	EventsPerSec float64 `json:"eventsPerSecond"`
	PerCore      float64 `json:"eventsPerCPUSecond"`
	RSSMiB       float64 `json:"rssMiB"`
	HeapMiB      float64 `json:"heapMiB"`
}

type benchClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *benchClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *benchClock) set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

type refObjects struct{ body []byte }

func (r refObjects) GetObject(context.Context, string, string) ([]byte, error) { return r.body, nil }

const (
	benchAcct   = "000000000000"
	benchRegion = "us-east-1"
)

var analyticsScenarios = map[string]string{
	"tumbling": `CREATE OR REPLACE STREAM "DEST" (k VARCHAR(16), c BIGINT, s BIGINT);
CREATE OR REPLACE PUMP "P" AS INSERT INTO "DEST"
  SELECT STREAM "k", COUNT(*) AS c, SUM("v") AS s FROM "SOURCE_SQL_STREAM_001"
  GROUP BY "k", STEP("SOURCE_SQL_STREAM_001".ROWTIME BY INTERVAL '60' SECOND);`,
	"sliding": `CREATE OR REPLACE STREAM "DEST" (k VARCHAR(16), a DOUBLE);
CREATE OR REPLACE PUMP "P" AS INSERT INTO "DEST"
  SELECT STREAM "k", AVG("v") OVER W1 AS a FROM "SOURCE_SQL_STREAM_001"
  WINDOW W1 AS (PARTITION BY "k" RANGE INTERVAL '1' MINUTE PRECEDING);`,
	"join": `CREATE OR REPLACE STREAM "DEST" (k VARCHAR(16), label VARCHAR(16), c BIGINT);
CREATE OR REPLACE PUMP "P" AS INSERT INTO "DEST"
  SELECT STREAM "SOURCE_SQL_STREAM_001"."k", "r"."label", COUNT(*) AS c
  FROM "SOURCE_SQL_STREAM_001" JOIN "Labels" AS "r" ON "SOURCE_SQL_STREAM_001"."k" = "r"."k"
  GROUP BY "SOURCE_SQL_STREAM_001"."k", "r"."label", STEP("SOURCE_SQL_STREAM_001".ROWTIME BY INTERVAL '60' SECOND);`,
}

// RunAnalytics runs the scenarios and writes a table (or JSON) to w.
func RunAnalytics(ctx context.Context, o AnalyticsOptions, w io.Writer, asJSON bool) ([]AnalyticsResult, error) {
	if o.Records <= 0 {
		o.Records = 1_000_000
	}
	if o.Keys <= 0 {
		o.Keys = 20
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	names := []string{"tumbling", "sliding", "join", "keys"}
	if o.Scenarios != "" {
		names = strings.Split(o.Scenarios, ",")
	}
	var out []AnalyticsResult
	for _, n := range names {
		keys, records := o.Keys, o.Records
		code := analyticsScenarios[n]
		if n == "keys" {
			if o.BigKeys <= 0 {
				continue
			}
			keys, code = o.BigKeys, analyticsScenarios["tumbling"]
			records = max(records, keys)
		}
		if code == "" {
			return out, fmt.Errorf("bench: unknown analytics scenario %q (want tumbling, sliding, join, keys)", n)
		}
		o.Logger.Info("analytics scenario", "scenario", n, "records", records, "keys", keys)
		r, err := runScenario(ctx, n, code, records, keys)
		if err != nil {
			return out, fmt.Errorf("bench: scenario %s: %w", n, err)
		}
		out = append(out, r)
	}
	writeAnalytics(w, out, asJSON)
	return out, nil
}

func writeAnalytics(w io.Writer, res []AnalyticsResult, asJSON bool) {
	if asJSON {
		fmt.Fprint(w, "[")
		for i, r := range res {
			if i > 0 {
				fmt.Fprint(w, ",")
			}
			fmt.Fprintf(w, `{"scenario":%q,"records":%d,"keys":%d,"outputRows":%d,"seconds":%.3f,"cpuSeconds":%.3f,"eventsPerSecond":%.0f,"eventsPerCPUSecond":%.0f,"rssMiB":%.1f,"heapMiB":%.1f}`,
				r.Scenario, r.Records, r.Keys, r.OutputRows, r.Seconds, r.CPUSeconds, r.EventsPerSec, r.PerCore, r.RSSMiB, r.HeapMiB)
		}
		fmt.Fprintln(w, "]")
		return
	}
	fmt.Fprintf(w, "analytics: %d CPUs, GOMAXPROCS %d, load average %s\n", runtime.NumCPU(), runtime.GOMAXPROCS(0), hostInfo().LoadAvg)
	fmt.Fprintf(w, "%-9s %10s %9s %10s %8s %8s %12s %14s %8s %8s\n", "scenario", "records", "keys", "out rows", "wall s", "CPU s", "events/s", "events/CPU-s", "RSS MiB", "heap MiB")
	for _, r := range res {
		fmt.Fprintf(w, "%-9s %10d %9d %10d %8.2f %8.2f %12.0f %14.0f %8.1f %8.1f\n", r.Scenario, r.Records, r.Keys, r.OutputRows, r.Seconds, r.CPUSeconds, r.EventsPerSec, r.PerCore, r.RSSMiB, r.HeapMiB)
	}
}

func runScenario(ctx context.Context, name, code string, records, keys int) (AnalyticsResult, error) {
	res := AnalyticsResult{Scenario: name, Records: records, Keys: keys}
	dir, err := os.MkdirTemp("", "eddy-bench-analytics-")
	if err != nil {
		return res, err
	}
	defer os.RemoveAll(dir)
	clk := &benchClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	mode, interval, _ := logstore.ParseDurability("none")
	st, err := logstore.Open(dir, logstore.Options{Durability: mode, Interval: interval, Now: clk.now, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return res, err
	}
	defer st.Close()
	ks, err := kinesis.New(kinesis.Options{Backend: st, Now: clk.now, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return res, err
	}
	defer ks.Close()
	if err := ks.EnsureStream(benchAcct, benchRegion, "in", 1); err != nil {
		return res, err
	}
	if err := ks.EnsureStream(benchAcct, benchRegion, "out", 4); err != nil {
		return res, err
	}
	// input: records spread over one minute of arrival time (one window)
	batch := make([]kinesis.InprocEntry, 0, 500)
	buf := make([]byte, 0, 64<<10)
	for i := 0; i < records; i++ {
		start := len(buf)
		buf = append(buf, `{"k":"key-`...)
		buf = strconv.AppendInt(buf, int64(i%keys), 10)
		buf = append(buf, `","v":`...)
		buf = strconv.AppendInt(buf, int64(i%1000), 10)
		buf = append(buf, `,"host":"10.0.0.1","agent":"bench"}`...)
		batch = append(batch, kinesis.InprocEntry{PartitionKey: "p", Data: buf[start:len(buf):len(buf)]})
		if len(batch) == cap(batch) || i == records-1 {
			if _, err := ks.Put(ctx, benchAcct, benchRegion, "in", batch); err != nil {
				return res, err
			}
			batch, buf = batch[:0], make([]byte, 0, 64<<10)
			clk.set(clk.now().Add(time.Duration(int64(50*time.Second) * 500 / int64(records+500))))
		}
	}
	var ref strings.Builder
	for k := 0; k < keys && name == "join"; k++ {
		fmt.Fprintf(&ref, "key-%d,label-%d\n", k, k%7)
	}
	rn := runner.New(runner.Options{Streams: ks, Backend: st, Now: clk.now, Objects: refObjects{[]byte(ref.String())},
		Tick: 5 * time.Millisecond, AdvanceLag: time.Millisecond, CheckpointEvery: time.Hour, BatchRecords: 8192})
	str := func(s string) *string { return &s }
	spec := analytics.RunSpec{AppID: "bench-" + name, Account: benchAcct, Region: benchRegion, Name: "bench", Code: code, Position: "TRIM_HORIZON",
		Input: &analytics.InputDescription{InputId: "1.1", NamePrefix: "SOURCE_SQL_STREAM", InAppStreamNames: []string{"SOURCE_SQL_STREAM_001"},
			KinesisStreamsInputDescription: &analytics.ResourceRole{ResourceARN: "arn:aws:kinesis:us-east-1:000000000000:stream/in"},
			InputSchema: &analytics.SourceSchema{RecordFormat: &analytics.RecordFormat{RecordFormatType: "JSON", MappingParameters: &analytics.MappingParameters{JSONMappingParameters: &analytics.JSONMappingParameters{RecordRowPath: "$"}}},
				RecordColumns: []analytics.RecordColumn{{Name: "k", SqlType: "VARCHAR(16)", Mapping: str("$.k")}, {Name: "v", SqlType: "BIGINT", Mapping: str("$.v")}}}},
		Outputs: []analytics.OutputDescription{{OutputId: "1.2", Name: "DEST", KinesisStreamsOutputDescription: &analytics.ResourceRole{ResourceARN: "arn:aws:kinesis:us-east-1:000000000000:stream/out"}, DestinationSchema: &analytics.DestinationSchema{RecordFormatType: "JSON"}}},
	}
	if name == "join" {
		spec.References = []analytics.ReferenceDataSourceDescription{{ReferenceId: "1.3", TableName: "Labels",
			S3ReferenceDataSourceDescription: &analytics.S3ReferenceDataSource{BucketARN: "arn:aws:s3:::bench", FileKey: "labels.csv"},
			ReferenceSchema: &analytics.SourceSchema{RecordFormat: &analytics.RecordFormat{RecordFormatType: "CSV", MappingParameters: &analytics.MappingParameters{CSVMappingParameters: &analytics.CSVMappingParameters{RecordRowDelimiter: "\n", RecordColumnDelimiter: ","}}},
				RecordColumns: []analytics.RecordColumn{{Name: "k", SqlType: "VARCHAR(16)"}, {Name: "label", SqlType: "VARCHAR(16)"}}}}}
	}
	wantRows := keys // tumbling and join: one row per key in the one window
	if name == "sliding" {
		wantRows = records
	}
	outRef, err := ks.ResolveARN("arn:aws:kinesis:us-east-1:000000000000:stream/out")
	if err != nil {
		return res, err
	}
	countOut := func() (int, error) {
		n := 0
		for ix := uint32(0); ix < 4; ix++ {
			b, err := ks.Bounds(ctx, outRef, ix)
			if err != nil {
				return 0, err
			}
			n += int(b.Next - b.Trim)
		}
		return n, nil
	}
	runtime.GC()
	debug.FreeOSMemory()
	// every record arrived; the clock stands past the window so the runner
	// closes it as soon as it has read everything
	clk.set(clk.now().Add(2 * time.Minute))
	cpu0, t0 := processCPU(), time.Now()
	run, err := rn.Launch(spec)
	if err != nil {
		return res, err
	}
	var peakRSS float64
	for {
		n, err := countOut()
		if err != nil {
			run.Stop()
			return res, err
		}
		if rss := rssMiB(); rss > peakRSS {
			peakRSS = rss
		}
		if n >= wantRows {
			res.OutputRows = n
			break
		}
		select {
		case <-ctx.Done():
			run.Stop()
			return res, ctx.Err()
		case <-run.Done():
			return res, fmt.Errorf("application stopped: %v", run.Err())
		case <-time.After(2 * time.Millisecond):
		}
	}
	res.Seconds = time.Since(t0).Seconds()
	res.CPUSeconds = (processCPU() - cpu0).Seconds()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	res.HeapMiB = float64(ms.HeapInuse) / (1 << 20)
	res.RSSMiB = peakRSS
	if err := run.Stop(); err != nil {
		return res, err
	}
	if name != "sliding" {
		// the window's counts must add up to every record read
		var total int64
		for ix := uint32(0); ix < 4; ix++ {
			if _, err := ks.Read(ctx, outRef, ix, 0, 1<<30, func(r kinesis.InprocRecord) bool {
				var row struct{ C int64 }
				if json.Unmarshal(r.Data, &row) == nil {
					total += row.C
				}
				return true
			}); err != nil {
				return res, err
			}
		}
		if total != int64(records) {
			return res, fmt.Errorf("the output counts %d records, want %d", total, records)
		}
	}
	res.EventsPerSec = float64(records) / res.Seconds
	if res.CPUSeconds > 0 {
		res.PerCore = float64(records) / res.CPUSeconds
	}
	return res, nil
}

// rssMiB is this process's resident set (Linux /proc; 0 elsewhere).
func rssMiB() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			f := strings.Fields(line)
			if len(f) >= 2 {
				kb, _ := strconv.ParseFloat(f[1], 64)
				return kb / 1024
			}
		}
	}
	return 0
}
