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
	pre := "CREATE STREAM d1 (a VARCHAR(64)); CREATE STREAM d2 (a VARCHAR(64), b DOUBLE);\n"
	for _, q := range []string{
		"CREATE PUMP p AS INSERT INTO d2 SELECT STREAM a.ticker_symbol, b.price FROM source_sql_stream_001 AS a FULL OUTER JOIN source_sql_stream_001 OVER (ROWS 2 PRECEDING) AS b ON a.n = b.n",
		"CREATE PUMP p AS INSERT INTO d2 SELECT STREAM ticker_symbol, LAG(price, 1) OVER w FROM source_sql_stream_001 WINDOW w AS (PARTITION BY ticker_symbol ROWS 5 PRECEDING)",
		"CREATE PUMP p AS INSERT INTO d2 SELECT STREAM ticker_symbol, HOTSPOTS_RESULT FROM TABLE(HOTSPOTS(CURSOR(SELECT STREAM * FROM source_sql_stream_001), 100, 0.2, 3))",
		"CREATE PUMP p AS INSERT INTO d2 SELECT STREAM ticker_symbol, COUNT(*) FROM source_sql_stream_001 WINDOWED BY STAGGER (PARTITION BY ticker_symbol RANGE INTERVAL '1' MINUTE)",
		"CREATE PUMP p AS INSERT INTO d2 SELECT STREAM DISTINCT ticker_symbol, STEP(ROWTIME BY INTERVAL '1' MINUTE) FROM source_sql_stream_001",
		"CREATE PUMP p AS INSERT INTO d2 SELECT STREAM s.ticker_symbol, c.\"Company\" FROM source_sql_stream_001 AS s LEFT JOIN \"CompanyName\" AS c ON s.ticker_symbol = c.\"Ticker\" AND s.price > 0",
	} {
		f.Add(pre + q)
	}
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
