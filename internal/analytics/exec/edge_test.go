package exec

import (
	"math"
	"strings"
	"testing"
)

// Queries at the edges of the planner: each either compiles and runs rows,
// or fails with a positioned error; none panics. want is "ok" or "error".
func TestPlannerEdges(t *testing.T) {
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
	pre := "CREATE STREAM d1 (a VARCHAR(64)); CREATE STREAM d2 (a VARCHAR(64), b DOUBLE); CREATE STREAM d3 (a VARCHAR(64), b DOUBLE, c BIGINT);\n"
	cases := []struct{ code, want string }{
		{"CREATE PUMP p AS INSERT INTO d3 SELECT STREAM * FROM (SELECT STREAM W3C_LOG_PARSE(\"log\", 'COMMON') FROM source_sql_stream_001) AS l(r)", "error"},
		{"CREATE PUMP p AS INSERT INTO d2 SELECT STREAM ticker_symbol, price FROM source_sql_stream_001 UNION ALL SELECT STREAM ticker_symbol, n FROM source_sql_stream_001", "ok"},
		{"CREATE PUMP p AS INSERT INTO d1 SELECT STREAM CAST(W3C_LOG_PARSE(\"log\", 'COMMON') AS VARCHAR(4)) FROM source_sql_stream_001", "error"},
		{"CREATE PUMP p AS INSERT INTO d3 SELECT STREAM ticker_symbol, SUM(price), COUNT(DISTINCT n) FROM source_sql_stream_001 GROUP BY ticker_symbol, FLOOR(ROWTIME TO MINUTE) HAVING COUNT(*) > 0 ORDER BY FLOOR(ROWTIME TO MINUTE), SUM(price) DESC", "ok"},
		{"CREATE PUMP p AS INSERT INTO d2 SELECT STREAM DISTINCT ticker_symbol, STEP(ROWTIME BY INTERVAL '1' MINUTE) FROM source_sql_stream_001", "ok"},
		{"CREATE PUMP p AS INSERT INTO d2 SELECT STREAM ticker_symbol, SUM(SUM(price)) FROM source_sql_stream_001 GROUP BY ticker_symbol, ROWTIME", "error"},
		{"CREATE PUMP p AS INSERT INTO d2 SELECT STREAM ticker_symbol, SUM(ticker_symbol) FROM source_sql_stream_001 GROUP BY ticker_symbol, ROWTIME", "error"},
		{"CREATE PUMP p AS INSERT INTO d3 SELECT STREAM ticker_symbol, LAG(price, 1) OVER w, NTH_VALUE(n, 2) OVER w FROM source_sql_stream_001 WINDOW w AS (PARTITION BY ticker_symbol ROWS 5 PRECEDING)", "ok"},
		{"CREATE PUMP p AS INSERT INTO d3 SELECT STREAM ticker_symbol, FIRST_VALUE(price) OVER w, VAR_POP(n) OVER w FROM source_sql_stream_001 WINDOW w AS (RANGE UNBOUNDED PRECEDING)", "ok"},
		{"CREATE PUMP p AS INSERT INTO d2 SELECT STREAM ticker_symbol, AVG(price) OVER nope FROM source_sql_stream_001", "error"},
		{"CREATE PUMP p AS INSERT INTO d2 SELECT STREAM ticker_symbol, STEP(price BY n) FROM source_sql_stream_001", "error"},
		{"CREATE PUMP p AS INSERT INTO d2 SELECT STREAM ticker_symbol, FLOOR(price) FROM source_sql_stream_001 WHERE n IN (1, 'a', 2.5)", "ok"},
		{"CREATE PUMP p AS INSERT INTO d2 SELECT STREAM CASE WHEN n > 1 THEN 'x' ELSE NULL END, CASE n WHEN 1 THEN 1 ELSE 2.5 END FROM source_sql_stream_001", "ok"},
		{"CREATE PUMP p AS INSERT INTO d3 SELECT STREAM s.ticker_symbol, c.\"Company\", s.n FROM source_sql_stream_001 AS s JOIN \"CompanyName\" AS c ON s.ticker_symbol = c.\"Ticker\" AND s.price > 0", "ok"},
		{"CREATE PUMP p AS INSERT INTO d3 SELECT STREAM s.ticker_symbol, c.\"Company\", s.n FROM \"CompanyName\" AS c JOIN source_sql_stream_001 AS s ON s.ticker_symbol = c.\"Ticker\"", "ok"},
		{"CREATE PUMP p AS INSERT INTO d3 SELECT STREAM s.ticker_symbol, c.\"Company\", s.n FROM source_sql_stream_001 AS s FULL JOIN \"CompanyName\" AS c ON s.ticker_symbol = c.\"Ticker\"", "error"},
		{"CREATE PUMP p AS INSERT INTO d2 SELECT STREAM a.ticker_symbol, b.price FROM source_sql_stream_001 AS a FULL OUTER JOIN source_sql_stream_001 OVER (ROWS 2 PRECEDING) AS b ON a.n = b.n", "ok"},
		{"CREATE PUMP p AS INSERT INTO d2 SELECT STREAM a.ticker_symbol, b.price FROM source_sql_stream_001 AS a CROSS JOIN source_sql_stream_001 AS b", "error"},
		{"CREATE PUMP p AS INSERT INTO d1 SELECT STREAM \"Company\" FROM \"CompanyName\"", "error"},
		{"CREATE PUMP p AS INSERT INTO error_stream SELECT STREAM ticker_symbol FROM source_sql_stream_001", "error"},
		{"CREATE PUMP p AS INSERT INTO d1 SELECT STREAM ROWTIME FROM source_sql_stream_001", "ok"},
		{"CREATE PUMP p AS INSERT INTO d1 SELECT STREAM APPROXIMATE_ARRIVAL_TIME || SHARD_ID FROM source_sql_stream_001", "ok"},
		{"CREATE PUMP p AS INSERT INTO d3 SELECT STREAM * FROM TABLE(RANDOM_CUT_FOREST(CURSOR(SELECT STREAM ticker_symbol, price FROM source_sql_stream_001), 10, 16, 100, 2)) AS x", "ok"},
		{"CREATE PUMP p AS INSERT INTO d3 SELECT STREAM * FROM TABLE(RANDOM_CUT_FOREST(CURSOR(SELECT STREAM ticker_symbol FROM source_sql_stream_001)))", "error"},
		{"CREATE PUMP p AS INSERT INTO d2 SELECT STREAM * FROM TABLE(TOP_K_ITEMS_TUMBLING(CURSOR(SELECT STREAM * FROM source_sql_stream_001), 'nope', 2, 60))", "error"},
		{"CREATE PUMP p AS INSERT INTO d2 SELECT STREAM ticker_symbol, HOTSPOTS_RESULT FROM TABLE(HOTSPOTS(CURSOR(SELECT STREAM * FROM source_sql_stream_001), 1000, 0.2, 17))", "ok"},
		{"CREATE PUMP p AS INSERT INTO d2 SELECT STREAM * FROM TABLE(HOTSPOTS(CURSOR(SELECT STREAM * FROM source_sql_stream_001), 1000, 0.2))", "error"},
		{"CREATE PUMP p AS INSERT INTO d1 SELECT STREAM CURSOR(SELECT STREAM * FROM source_sql_stream_001) FROM source_sql_stream_001", "error"},
		{"CREATE PUMP p AS INSERT INTO d1 SELECT STREAM RANDOM_CUT_FOREST(n) FROM source_sql_stream_001", "error"},
		{"CREATE PUMP p AS INSERT INTO d1 SELECT STREAM ticker_symbol FROM source_sql_stream_001 GROUP BY MONOTONIC(n), ticker_symbol", "ok"},
		{"CREATE PUMP p AS INSERT INTO d2 SELECT STREAM ticker_symbol, COUNT(*) FROM source_sql_stream_001 WINDOWED BY STAGGER (PARTITION BY ticker_symbol RANGE INTERVAL '1' MINUTE) HAVING COUNT(*) > 1", "ok"},
		{"CREATE PUMP p AS INSERT INTO d2 SELECT STREAM ticker_symbol, AVG(price) OVER (PARTITION BY ticker_symbol RANGE INTERVAL '1' MINUTE PRECEDING) FROM source_sql_stream_001 GROUP BY ticker_symbol, ROWTIME", "error"},
		{"CREATE PUMP p AS INSERT INTO d1 SELECT STREAM VARIABLE_COLUMN_LOG_PARSE(\"log\", 3, ' ', '\\', '\"\"').COLUMN1 FROM source_sql_stream_001", "error"},
		{"CREATE PUMP p AS INSERT INTO d3 SELECT STREAM VARIABLE_COLUMN_LOG_PARSE(\"log\", 3, ' ') FROM source_sql_stream_001", "ok"},
		{"CREATE PUMP p AS INSERT INTO d2 SELECT STREAM SYS_LOG_PARSE('Jan  5 10:00:00 host msg') FROM source_sql_stream_001", "ok"},
		{"CREATE PUMP p AS INSERT INTO d2 SELECT STREAM FIXED_COLUMN_LOG_PARSE(\"log\", 'A TYPE VARCHAR(4) START 0 FOR 4, B TYPE INTEGER START 5 FOR 2') FROM source_sql_stream_001", "ok"},
		{"CREATE PUMP p AS INSERT INTO d1 SELECT STREAM SUBSTRING(ticker_symbol SIMILAR 'A%') FROM source_sql_stream_001", "ok"},
		{"CREATE PUMP p AS INSERT INTO d2 SELECT STREAM FIXED_COLUMN_LOG_PARSE(\"log\", 'A TYPE VARCHAR(4) START -1') FROM source_sql_stream_001", "error"},
		{"CREATE PUMP p AS INSERT INTO d2 SELECT STREAM VARIABLE_COLUMN_LOG_PARSE(\"log\", n, ',') FROM source_sql_stream_001", "error"},
		{"CREATE PUMP p AS INSERT INTO d2 (b, a) SELECT STREAM price, ticker_symbol FROM source_sql_stream_001", "ok"},
		{"CREATE PUMP p AS INSERT INTO d2 (b, zz) SELECT STREAM price, ticker_symbol FROM source_sql_stream_001", "error"},
		{"CREATE PUMP p AS INSERT INTO source_sql_stream_001 SELECT STREAM * FROM source_sql_stream_001", "error"},
		{"CREATE PUMP p AS INSERT INTO d1 SELECT STREAM ticker_symbol FROM source_sql_stream_001; CREATE PUMP p AS INSERT INTO d1 SELECT STREAM ticker_symbol FROM source_sql_stream_001", "error"},
		{"CREATE PUMP p AS INSERT INTO d1 SELECT STREAM x.* FROM source_sql_stream_001", "error"},
		{"CREATE PUMP p AS INSERT INTO d2 SELECT STREAM * FROM (SELECT STREAM ticker_symbol, price FROM source_sql_stream_001) AS q(a, b) WHERE q.b > 1", "ok"},
		{"CREATE PUMP p AS INSERT INTO d2 SELECT STREAM * FROM (SELECT STREAM ticker_symbol, price FROM source_sql_stream_001) AS q(a)", "error"},
	}
	for _, c := range cases {
		code := pre + c.code
		p, err := Compile(Config{Code: code,
			Inputs:     []Input{{Name: "SOURCE_SQL_STREAM_001", Columns: cols, Kinesis: true}},
			References: []Reference{{Name: "CompanyName", Columns: refCols, Rows: &ref.b}}})
		got := "ok"
		if err != nil {
			got = "error"
		}
		if got != c.want {
			t.Errorf("%s\n  got %s (%v), want %s", c.code, got, err, c.want)
			continue
		}
		if err != nil {
			continue
		}
		rows := 0
		p.Start(func(s string, b *Batch) { rows += b.Len })
		for i := int64(0); i < 5; i++ {
			b := oneRow(cols, i*40_000, value{s: "AMZN"}, value{i: i * 1000}, value{f: float64(i)}, value{i: i % 2}, value{s: `1.2.3.4 - - [x] "GET / HTTP/1.1" 200 5`})
			b.ShardID = []string{"shardId-000000000000"}
			b.ApproximateArrivalTime = []int64{i}
			if err := p.Push("SOURCE_SQL_STREAM_001", b); err != nil {
				t.Fatal(err)
			}
		}
		p.Advance(1 << 40)
		if rows == 0 {
			t.Errorf("%s\n  produced no rows", c.code)
		}
	}
}

func TestPumpCyclesRejectedAndAdvanceOrder(t *testing.T) {
	cols := []Column{{Name: "A", Type: TypeInteger}}
	in := Input{Name: "S", Columns: cols}
	_, err := Compile(Config{Code: `CREATE STREAM x (a INTEGER); CREATE STREAM y (a INTEGER);
CREATE PUMP p1 AS INSERT INTO x SELECT STREAM a FROM y;
CREATE PUMP p2 AS INSERT INTO y SELECT STREAM a FROM x;`, Inputs: []Input{in}})
	if err == nil || !strings.Contains(err.Error(), "reads its own output") {
		t.Fatalf("cycle: got %v", err)
	}
	// The reading pump is declared first; Advance must still close the
	// upstream window before the downstream ORDER BY flushes.
	p := mustCompile(t, `CREATE STREAM counts (n BIGINT); CREATE STREAM sorted (n BIGINT);
CREATE PUMP late AS INSERT INTO sorted SELECT STREAM n FROM counts ORDER BY FLOOR(counts.ROWTIME TO MINUTE), n;
CREATE PUMP early AS INSERT INTO counts SELECT STREAM COUNT(*) FROM "S" GROUP BY FLOOR("S".ROWTIME TO MINUTE);`, in)
	c := newCapture(p)
	_ = p.Push("S", oneRow(cols, 1000, value{i: 1}))
	p.Advance(60_000)
	p.Advance(120_000)
	if len(c.rows["SORTED"]) != 1 || c.rts["SORTED"][0] != 60_000 {
		t.Fatalf("sorted rows %v at %v", c.rows["SORTED"], c.rts["SORTED"])
	}
}

func TestExpAvg(t *testing.T) {
	cols := []Column{{Name: "V", Type: TypeDouble}}
	p := mustCompile(t, `CREATE STREAM d (a DOUBLE);
CREATE PUMP p AS INSERT INTO d SELECT STREAM EXP_AVG(v, INTERVAL '10' SECOND) OVER (RANGE INTERVAL '1' MINUTE PRECEDING) FROM "S";`, Input{Name: "S", Columns: cols})
	c := newCapture(p)
	_ = p.Push("S", oneRow(cols, 0, value{f: 10}))
	_ = p.Push("S", oneRow(cols, 10_000, value{f: 40}))
	got := c.rows["D"]
	// At 10 s the first value weighs 1/2, the second 1: (5 + 40) / 1.5 = 30.
	if len(got) != 2 || got[0][0].f != 10 || got[1][0].f != 30 {
		t.Fatalf("EXP_AVG rows %v", got)
	}
}

func TestTableFunctionsSurviveNonFiniteInput(t *testing.T) {
	cols := []Column{{Name: "X", Type: TypeDouble}, {Name: "Y", Type: TypeDouble}}
	for _, fn := range []string{"RANDOM_CUT_FOREST(CURSOR(SELECT STREAM * FROM \"S\"), 5, 16, 100, 1)", "HOTSPOTS(CURSOR(SELECT STREAM * FROM \"S\"), 50, 0.2, 3)"} {
		p := mustCompile(t, `CREATE STREAM d (x DOUBLE); CREATE PUMP p AS INSERT INTO d SELECT STREAM x FROM TABLE(`+fn+`);`, Input{Name: "S", Columns: cols})
		c := newCapture(p)
		vals := []float64{1, math.NaN(), math.Inf(1), math.Inf(-1), 2, 3}
		for i := 0; i < 200; i++ {
			_ = p.Push("S", oneRow(cols, int64(i), value{f: vals[i%len(vals)]}, value{f: float64(i % 7)}))
		}
		if len(c.rows["D"]) != 200 {
			t.Fatalf("%s: %d rows", fn, len(c.rows["D"]))
		}
	}
}
