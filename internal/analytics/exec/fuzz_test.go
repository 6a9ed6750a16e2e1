package exec

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/eddy-streams/eddy/internal/analytics/sql"
)

// FuzzCompile: arbitrary code never panics the planner; a program that
// compiles runs a few rows without panicking.
func FuzzCompile(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.golden")
	for _, file := range files {
		data, _ := os.ReadFile(file)
		g := parseGolden(&testing.T{}, string(data))
		f.Add(g.sql)
	}
	f.Add(anomalySQL)
	cols := []Column{
		{Name: "TICKER_SYMBOL", Type: TypeVarchar, Size: 4},
		{Name: "EVENT_TIME", Type: TypeTimestamp},
		{Name: "PRICE", Type: TypeReal},
		{Name: "N", Type: TypeInteger},
		{Name: "log", Type: TypeVarchar, Size: 256},
	}
	refCols := []Column{{Name: "Ticker", Type: TypeVarchar, Size: 4}, {Name: "Company", Type: TypeVarchar, Size: 20}}
	ref := newBuilder(refCols)
	ref.appendRow(0, []value{{s: "AMZN"}, {s: "Amazon"}})
	f.Fuzz(func(t *testing.T, code string) {
		p, err := Compile(Config{Code: code,
			Inputs:     []Input{{Name: "SOURCE_SQL_STREAM_001", Columns: cols, Kinesis: true}},
			References: []Reference{{Name: "CompanyName", Columns: refCols, Rows: &ref.b}}})
		if err != nil {
			var se *sql.Error
			if !errors.As(err, &se) || se.Line < 1 || se.Col < 1 {
				t.Fatalf("error %T %v is not a positioned *sql.Error", err, err)
			}
			return
		}
		p.Start(func(string, *Batch) {})
		for i := int64(0); i < 3; i++ {
			b := oneRow(cols, i*40_000, value{s: "AMZN"}, value{i: i * 1000}, value{f: float64(i)}, value{i: i}, value{s: `1.2.3.4 - - [x] "GET / HTTP/1.1" 200 5`})
			if err := p.Push("SOURCE_SQL_STREAM_001", b); err != nil {
				t.Fatal(err)
			}
		}
		p.Advance(1 << 40)
		if st, err := p.Snapshot(); err == nil {
			q, _ := Compile(Config{Code: code,
				Inputs:     []Input{{Name: "SOURCE_SQL_STREAM_001", Columns: cols, Kinesis: true}},
				References: []Reference{{Name: "CompanyName", Columns: refCols, Rows: &ref.b}}})
			if err := q.Restore(st); err != nil {
				t.Fatalf("restore of own snapshot: %v", err)
			}
		}
	})
}
