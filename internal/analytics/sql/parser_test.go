package sql

import (
	"errors"
	"strings"
	"testing"
)

const tumblingSQL = `CREATE OR REPLACE STREAM "DESTINATION_SQL_STREAM" (
                                   ticker_symbol VARCHAR(4),
                                   Min_Price     DOUBLE,
                                   Max_Price     DOUBLE);
CREATE OR REPLACE PUMP "STREAM_PUMP" AS
  INSERT INTO "DESTINATION_SQL_STREAM"
    SELECT STREAM Ticker_Symbol,
                  MIN(Price) AS Min_Price,
                  MAX(Price) AS Max_Price
    FROM    "SOURCE_SQL_STREAM_001"
    GROUP BY Ticker_Symbol,
             STEP("SOURCE_SQL_STREAM_001".ROWTIME BY INTERVAL '60' SECOND);`

func TestParseTumbling(t *testing.T) {
	s, err := Parse(tumblingSQL)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Stmts) != 2 {
		t.Fatalf("got %d statements", len(s.Stmts))
	}
	cs := s.Stmts[0].(*CreateStream)
	if cs.Name.Text != "DESTINATION_SQL_STREAM" || !cs.Name.Quoted || len(cs.Columns) != 3 {
		t.Fatalf("stream: %+v", cs)
	}
	if cs.Columns[0].Name.Text != "TICKER_SYMBOL" || cs.Columns[0].Type.Name != "VARCHAR" || cs.Columns[0].Type.Size != 4 {
		t.Fatalf("column: %+v", cs.Columns[0])
	}
	pump := s.Stmts[1].(*CreatePump)
	q := pump.Query
	if !q.Stream || len(q.Items) != 3 || len(q.GroupBy) != 2 {
		t.Fatalf("query: %+v", q)
	}
	step := q.GroupBy[1].(*Step)
	if got := Format(step, nil); got != `STEP("SOURCE_SQL_STREAM_001"."ROWTIME" BY INTERVAL '60000' MILLISECOND)` {
		t.Fatalf("format: %s", got)
	}
}

func TestParseDialect(t *testing.T) {
	cases := []string{
		`CREATE OR REPLACE PUMP "P" AS INSERT INTO "D" SELECT STREAM l.r.COLUMN1, l.r.COLUMN2 FROM (SELECT STREAM W3C_LOG_PARSE("log", 'COMMON') FROM "SOURCE_SQL_STREAM_001") AS l(r)`,
		`CREATE PUMP p AS INSERT INTO d SELECT STREAM "heartRate", ANOMALY_SCORE FROM TABLE(RANDOM_CUT_FOREST(CURSOR(SELECT STREAM * FROM "S")))`,
		`CREATE PUMP p AS INSERT INTO d SELECT STREAM * FROM "T" ORDER BY FLOOR("T".ROWTIME TO SECOND), ANOMALY_SCORE DESC`,
		`CREATE PUMP p AS INSERT INTO d SELECT STREAM t, COUNT(t) AS c FROM s WINDOWED BY STAGGER (PARTITION BY FLOOR(EVENT_TIME TO MINUTE), t RANGE INTERVAL '1' MINUTE)`,
		`CREATE PUMP p AS INSERT INTO d SELECT STREAM AVG(price) OVER w1 FROM s WINDOW w1 AS (PARTITION BY t ROWS 2 PRECEDING), w2 AS (PARTITION BY t RANGE INTERVAL '1:30' MINUTE TO SECOND PRECEDING)`,
		`CREATE PUMP p AS INSERT INTO d SELECT STREAM o.a, t.b FROM o LEFT OUTER JOIN ts OVER (RANGE INTERVAL '1' MINUTE PRECEDING) AS t ON o.id = t.id`,
		`CREATE PUMP p AS INSERT INTO d SELECT STREAM CASE WHEN a IS NOT DISTINCT FROM b THEN 'x' || c ELSE NULL END, CAST(a AS DECIMAL(10,2)), TRIM(LEADING 'x' FROM s), SUBSTRING(s FROM 2 FOR 3), POSITION('a' IN s), EXTRACT(SECOND FROM ts), ts - INTERVAL '5' MINUTE FROM s WHERE s SIMILAR TO '%TECH%' AND s NOT LIKE 'a_%' AND x BETWEEN 1 AND 2 AND y NOT IN (1,2)`,
		`CREATE PUMP p AS INSERT INTO d SELECT STREAM LAST_VALUE(x) IGNORE NULLS OVER (PARTITION BY k RANGE INTERVAL '1' HOUR PRECEDING), CURRENT_ROW_TIMESTAMP FROM s`,
	}
	for _, c := range cases {
		if _, err := Parse(c); err != nil {
			t.Errorf("%s\n  %v", c, err)
		}
	}
}

func TestParseErrorsCarryPosition(t *testing.T) {
	cases := []struct {
		src       string
		line, col int
		msg       string
	}{
		{"CREATE STREAM s (a INT);\nCREATE PUMP p AS INSERT INTO s\nSELECT STREAM a FROM s WHERE", 3, 29, "end of input"},
		{"CREATE STREAM s (a FLOOP)", 1, 20, "data type"},
		{"CREATE STREAM s (a INT", 1, 23, "end of input"},
		{"CREATE STREAM 's' (a INT)", 1, 15, "identifier"},
		{"CREATE TABLE t (a INT)", 1, 8, "STREAM or PUMP"},
		{"CREATE PUMP p AS INSERT INTO s SELECT STREAM a FROM s\n  WHERE a = 'x", 2, 13, "unterminated string"},
		{"CREATE PUMP p AS INSERT INTO s SELECT STREAM a FROM s GROUP BY STEP(ROWTIME BY INTERVAL '1' YEAR)", 1, 93, "day-time"},
	}
	for _, c := range cases {
		_, err := Parse(c.src)
		var se *Error
		if !errors.As(err, &se) {
			t.Errorf("%q: got %v, want *Error", c.src, err)
			continue
		}
		if se.Line != c.line || se.Col != c.col || !strings.Contains(se.Msg, c.msg) {
			t.Errorf("%q: got %d:%d %q, want %d:%d containing %q", c.src, se.Line, se.Col, se.Msg, c.line, c.col, c.msg)
		}
	}
}

func TestIntervals(t *testing.T) {
	for src, want := range map[string]int64{
		"INTERVAL '60' SECOND":                60_000,
		"INTERVAL '1' MINUTE":                 60_000,
		"INTERVAL '1.5' SECOND":               1500,
		"INTERVAL '1 02:00:30' DAY TO SECOND": 86_400_000 + 2*3_600_000 + 30_000,
		"INTERVAL -'2' HOUR":                  -7_200_000,
	} {
		e, err := ParseExpr(src)
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		if got := e.(*Interval).Ms; got != want {
			t.Errorf("%s = %d, want %d", src, got, want)
		}
	}
}

func TestPrecedence(t *testing.T) {
	for src, want := range map[string]string{
		"a + b * c":            `("A" + ("B" * "C"))`,
		"a || b = c AND NOT d": `((("A" || "B") = "C") AND (NOT "D"))`,
		"-a * b":               `((- "A") * "B")`,
		"a OR b AND c":         `("A" OR ("B" AND "C"))`,
		"a IS NOT NULL OR b":   `(("A" IS NOT NULL) OR "B")`,
		`"x".ROWTIME`:          `"x"."ROWTIME"`,
	} {
		e, err := ParseExpr(src)
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		if got := Format(e, nil); got != want {
			t.Errorf("%s → %s, want %s", src, got, want)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add(tumblingSQL)
	f.Add(`CREATE PUMP p AS INSERT INTO d SELECT STREAM CASE WHEN a THEN b END FROM TABLE(F(CURSOR(SELECT STREAM * FROM s))) AS x(y)`)
	f.Add("CREATE STREAM s (a INT) DESCRIPTION 'x'; /* c */ -- d\n")
	f.Add(`SELECT ((((((((a))))))))`)
	f.Fuzz(func(t *testing.T, src string) {
		s, err := Parse(src)
		if err != nil {
			var se *Error
			if !errors.As(err, &se) {
				t.Fatalf("error is %T, not *Error", err)
			}
			if se.Line < 1 || se.Col < 1 {
				t.Fatalf("error without position: %v", se)
			}
			return
		}
		if s == nil {
			t.Fatal("nil script without error")
		}
	})
}
