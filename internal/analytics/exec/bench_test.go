//go:build linux

package exec

import (
	"fmt"
	"runtime"
	"syscall"
	"testing"
)

// cpuNanos is the process's user+system CPU time: on a shared machine it
// measures the work done, where wall time also counts waiting for a core.
func cpuNanos() int64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// Benchmarks run the engine on pre-built columnar batches (the runner's
// JSON decoding is not included) and report ns/event.

var tickers = func() []string {
	var t []string
	for i := 0; i < 20; i++ {
		t = append(t, fmt.Sprintf("T%03d", i))
	}
	return t
}()

var demoCols = []Column{
	{Name: "TICKER_SYMBOL", Type: TypeVarchar, Size: 4},
	{Name: "SECTOR", Type: TypeVarchar, Size: 16},
	{Name: "CHANGE", Type: TypeReal},
	{Name: "PRICE", Type: TypeReal},
}

// demoBatches builds n batches of size rows, 1 ms apart in ROWTIME.
func demoBatches(n, size int, keys []string) []*Batch {
	var out []*Batch
	rt := int64(1_700_000_000_000)
	for b := 0; b < n; b++ {
		bd := newBuilder(demoCols)
		for i := 0; i < size; i++ {
			k := keys[(b*size+i)%len(keys)]
			bd.appendRow(rt, []value{{s: k}, {s: "TECHNOLOGY"}, {f: float64(i%7) - 3}, {f: 50 + float64(i%100)}})
			rt++
		}
		out = append(out, &bd.b)
	}
	return out
}

// shiftBatches moves every ROWTIME by d (batches are reused across
// benchmark iterations and ROWTIME must keep increasing).
func shiftBatches(bs []*Batch, d int64) {
	for _, b := range bs {
		for i := range b.RowTime {
			b.RowTime[i] += d
		}
	}
}

func benchProgram(b *testing.B, code string, refs ...Reference) *Program {
	p, err := Compile(Config{Code: code, Inputs: []Input{{Name: "SOURCE_SQL_STREAM_001", Columns: demoCols}}, References: refs})
	if err != nil {
		b.Fatal(err)
	}
	var rows int
	p.Start(func(_ string, bt *Batch) { rows += bt.Len })
	return p
}

func runBatches(b *testing.B, p *Program, bs []*Batch) {
	events := 0
	for _, bt := range bs {
		events += bt.Len
	}
	span := bs[len(bs)-1].RowTime[bs[len(bs)-1].Len-1] - bs[0].RowTime[0] + 1
	b.ReportAllocs()
	b.ResetTimer()
	var cpu int64
	for i := 0; i < b.N; i++ {
		c0 := cpuNanos()
		for _, bt := range bs {
			if err := p.Push("SOURCE_SQL_STREAM_001", bt); err != nil {
				b.Fatal(err)
			}
		}
		cpu += cpuNanos() - c0
		b.StopTimer()
		shiftBatches(bs, span)
		b.StartTimer()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*events), "ns/event")
	b.ReportMetric(float64(cpu)/float64(b.N*events), "cpu-ns/event")
	b.ReportMetric(0, "ns/op")
}

func BenchmarkTumblingCountSumGroupBy(b *testing.B) {
	p := benchProgram(b, `CREATE STREAM d (t VARCHAR(4), n BIGINT, s DOUBLE);
CREATE PUMP p AS INSERT INTO d SELECT STREAM ticker_symbol, COUNT(*), SUM(price) FROM "SOURCE_SQL_STREAM_001"
  GROUP BY ticker_symbol, STEP("SOURCE_SQL_STREAM_001".ROWTIME BY INTERVAL '10' SECOND);`)
	runBatches(b, p, demoBatches(64, 4096, tickers))
}

func BenchmarkSlidingWindowAverage(b *testing.B) {
	p := benchProgram(b, `CREATE STREAM d (t VARCHAR(4), a DOUBLE);
CREATE PUMP p AS INSERT INTO d SELECT STREAM ticker_symbol, AVG(price) OVER w FROM "SOURCE_SQL_STREAM_001"
  WINDOW w AS (PARTITION BY ticker_symbol RANGE INTERVAL '1' SECOND PRECEDING);`)
	runBatches(b, p, demoBatches(16, 4096, tickers))
}

func BenchmarkStreamTableJoin(b *testing.B) {
	refCols := []Column{{Name: "Ticker", Type: TypeVarchar, Size: 4}, {Name: "Company", Type: TypeVarchar, Size: 32}}
	bd := newBuilder(refCols)
	for i, t := range tickers {
		bd.appendRow(0, []value{{s: t}, {s: fmt.Sprintf("Company %d", i)}})
	}
	p := benchProgram(b, `CREATE STREAM d (t VARCHAR(4), c VARCHAR(32), price DOUBLE);
CREATE PUMP p AS INSERT INTO d SELECT STREAM ticker_symbol, "c"."Company", price
  FROM "SOURCE_SQL_STREAM_001" LEFT JOIN "CompanyName" AS "c" ON "SOURCE_SQL_STREAM_001".ticker_symbol = "c"."Ticker";`,
		Reference{Name: "CompanyName", Columns: refCols, Rows: &bd.b})
	runBatches(b, p, demoBatches(16, 4096, tickers))
}

func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// BenchmarkMemoryMillionKeys measures the state of one open tumbling window
// holding 1,000,000 distinct GROUP BY keys (COUNT and SUM), and of 1,000,000
// open stagger windows (one per key), in bytes per key.
func BenchmarkMemoryMillionKeys(b *testing.B) {
	const nkeys = 1_000_000
	keys := make([]string, nkeys)
	for i := range keys {
		keys[i] = fmt.Sprintf("k%07d", i)
	}
	bs := demoBatches(nkeys/4096+1, 4096, keys)
	for _, tc := range []struct{ name, code string }{
		{"tumbling", `CREATE STREAM d (t VARCHAR(8), n BIGINT, s DOUBLE);
CREATE PUMP p AS INSERT INTO d SELECT STREAM ticker_symbol, COUNT(*), SUM(price) FROM "SOURCE_SQL_STREAM_001"
  GROUP BY ticker_symbol, STEP("SOURCE_SQL_STREAM_001".ROWTIME BY INTERVAL '1' HOUR);`},
		{"stagger", `CREATE STREAM d (t VARCHAR(8), n BIGINT, s DOUBLE);
CREATE PUMP p AS INSERT INTO d SELECT STREAM ticker_symbol, COUNT(*), SUM(price) FROM "SOURCE_SQL_STREAM_001"
  WINDOWED BY STAGGER (PARTITION BY ticker_symbol RANGE INTERVAL '1' HOUR);`},
		// One row per partition: the cost of a sliding-window partition
		// holding one row and two aggregates.
		{"sliding", `CREATE STREAM d (t VARCHAR(8), n BIGINT, s DOUBLE);
CREATE PUMP p AS INSERT INTO d SELECT STREAM ticker_symbol, COUNT(*) OVER w, SUM(price) OVER w FROM "SOURCE_SQL_STREAM_001"
  WINDOW w AS (PARTITION BY ticker_symbol RANGE INTERVAL '1' HOUR PRECEDING);`},
	} {
		b.Run(tc.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				before := heapInUse()
				p := benchProgram(b, tc.code)
				for _, bt := range bs {
					_ = p.Push("SOURCE_SQL_STREAM_001", bt)
				}
				after := heapInUse()
				b.ReportMetric(float64(after-before)/nkeys, "bytes/key")
				runtime.KeepAlive(p)
			}
		})
	}
}

// BenchmarkContinuousFilter is §2.1's filter-and-project pump.
func BenchmarkContinuousFilter(b *testing.B) {
	p := benchProgram(b, `CREATE OR REPLACE STREAM "DESTINATION_SQL_STREAM" (ticker_symbol VARCHAR(4), price DOUBLE);
CREATE OR REPLACE PUMP "STREAM_PUMP" AS INSERT INTO "DESTINATION_SQL_STREAM"
  SELECT STREAM TICKER_SYMBOL, PRICE FROM "SOURCE_SQL_STREAM_001" WHERE (ABS((CHANGE / (PRICE-CHANGE)) * 100)) > 1;`)
	runBatches(b, p, demoBatches(16, 4096, tickers))
}
