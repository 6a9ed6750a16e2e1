package exec

import (
	"encoding/json"
	"errors"
	"math/rand"
	"strconv"
	"strings"
	"testing"

	"github.com/eddy-streams/eddy/internal/analytics/sql"
)

type capture struct {
	rows map[string][][]value
	rts  map[string][]int64
	cols map[string][]Column
}

func newCapture(p *Program) *capture {
	c := &capture{rows: map[string][][]value{}, rts: map[string][]int64{}, cols: map[string][]Column{ErrorStream: errorCols}}
	for _, s := range p.Streams() {
		c.cols[s.Name] = s.Columns
	}
	p.Start(c.sink)
	return c
}

func (c *capture) sink(name string, b *Batch) {
	cols := c.cols[name]
	for i := 0; i < b.Len; i++ {
		row := make([]value, len(cols))
		for k := range cols {
			row[k] = getVal(&b.Cols[k], &cols[k], i)
		}
		c.rows[name] = append(c.rows[name], row)
		c.rts[name] = append(c.rts[name], b.RowTime[i])
	}
}

func mustCompile(t testing.TB, code string, inputs ...Input) *Program {
	t.Helper()
	p, err := Compile(Config{Code: code, Inputs: inputs})
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	return p
}

func oneRow(cols []Column, rt int64, vals ...value) *Batch {
	bd := newBuilder(cols)
	bd.appendRow(rt, vals)
	return &bd.b
}

const anomalySQL = `CREATE OR REPLACE STREAM "TEMP_STREAM" (
	        "heartRate"        INTEGER,
	        "rateType"         varchar(20),
	        "ANOMALY_SCORE"    DOUBLE);
CREATE OR REPLACE STREAM "DESTINATION_SQL_STREAM" (
	        "heartRate"        INTEGER,
	        "rateType"         varchar(20),
	        "ANOMALY_SCORE"    DOUBLE);
CREATE OR REPLACE PUMP "STREAM_PUMP" AS
   INSERT INTO "TEMP_STREAM"
      SELECT STREAM "heartRate", "rateType", ANOMALY_SCORE
      FROM TABLE(RANDOM_CUT_FOREST(
              CURSOR(SELECT STREAM * FROM "SOURCE_SQL_STREAM_001")));
CREATE OR REPLACE PUMP "OUTPUT_PUMP" AS
   INSERT INTO "DESTINATION_SQL_STREAM"
      SELECT STREAM * FROM "TEMP_STREAM"
      ORDER BY FLOOR("TEMP_STREAM".ROWTIME TO SECOND), ANOMALY_SCORE DESC;`

// §2.5: the anomaly-detection application. HIGH heart rates must score
// clearly higher than NORMAL ones, and output is sorted by score within
// each second.
func TestRandomCutForestAnomalies(t *testing.T) {
	cols := []Column{{Name: "heartRate", Type: TypeInteger}, {Name: "rateType", Type: TypeVarchar, Size: 20}}
	p := mustCompile(t, anomalySQL, Input{Name: "SOURCE_SQL_STREAM_001", Columns: cols})
	c := newCapture(p)
	r := rand.New(rand.NewSource(7))
	const n = 4000
	base := int64(1_700_000_000_000)
	for i := 0; i < n; i++ {
		hr, typ := 60+r.Int63n(41), "NORMAL"
		if r.Intn(100) == 0 {
			hr, typ = 150+r.Int63n(51), "HIGH"
		}
		if err := p.Push("SOURCE_SQL_STREAM_001", oneRow(cols, base+int64(i)*10, value{i: hr}, value{s: typ})); err != nil {
			t.Fatal(err)
		}
	}
	p.Advance(base + n*10 + 2000)
	out := c.rows["DESTINATION_SQL_STREAM"]
	if len(out) != n {
		t.Fatalf("got %d rows, want %d", len(out), n)
	}
	var sumHigh, sumNormal float64
	var nHigh, nNormal int
	rts := c.rts["DESTINATION_SQL_STREAM"]
	for i, row := range out {
		if i > 0 && rts[i]/1000 == rts[i-1]/1000 && row[2].f > out[i-1][2].f {
			t.Fatalf("row %d: score %v after %v in the same second", i, row[2].f, out[i-1][2].f)
		}
		if rts[i] < base+10*1000 { // warm-up: the first 1,000 records
			continue
		}
		if row[1].s == "HIGH" {
			sumHigh += row[2].f
			nHigh++
		} else {
			sumNormal += row[2].f
			nNormal++
		}
	}
	if nHigh < 10 {
		t.Fatalf("only %d HIGH rows", nHigh)
	}
	mh, mn := sumHigh/float64(nHigh), sumNormal/float64(nNormal)
	t.Logf("mean score HIGH %.3f (%d rows), NORMAL %.3f (%d rows)", mh, nHigh, mn, nNormal)
	if mh < 2*mn {
		t.Fatalf("HIGH mean %.3f is not more than twice NORMAL mean %.3f", mh, mn)
	}
}

func TestRandomCutForestExplanation(t *testing.T) {
	code := `CREATE OR REPLACE STREAM "D" ("Systolic" INTEGER, "Diastolic" INTEGER, "BloodPressureLevel" VARCHAR(20), ANOMALY_SCORE DOUBLE, ANOMALY_EXPLANATION VARCHAR(20480));
CREATE OR REPLACE PUMP "P" AS INSERT INTO "D"
  SELECT STREAM "Systolic", "Diastolic", "BloodPressureLevel", ANOMALY_SCORE, ANOMALY_EXPLANATION
  FROM TABLE(RANDOM_CUT_FOREST_WITH_EXPLANATION(CURSOR(SELECT STREAM * FROM "SOURCE_SQL_STREAM_001"), 100, 256, 100000, 1, true));`
	cols := []Column{{Name: "Systolic", Type: TypeInteger}, {Name: "Diastolic", Type: TypeInteger}, {Name: "BloodPressureLevel", Type: TypeVarchar, Size: 20}}
	p := mustCompile(t, code, Input{Name: "SOURCE_SQL_STREAM_001", Columns: cols})
	c := newCapture(p)
	r := rand.New(rand.NewSource(3))
	for i := 0; i < 1500; i++ {
		s, d := 110+r.Int63n(10), 70+r.Int63n(10)
		_ = p.Push("SOURCE_SQL_STREAM_001", oneRow(cols, int64(i)*100, value{i: s}, value{i: d}, value{s: "NORMAL"}))
	}
	_ = p.Push("SOURCE_SQL_STREAM_001", oneRow(cols, 1500*100, value{i: 190}, value{i: 75}, value{s: "HIGH"}))
	rows := c.rows["D"]
	last := rows[len(rows)-1]
	expl := last[4].s
	t.Logf("score %.3f explanation %s", last[3].f, expl)
	if !strings.Contains(expl, `"Systolic":{"DIRECTION":"HIGH"`) {
		t.Fatalf("explanation %s does not mark Systolic HIGH", expl)
	}
	attr := func(name string) float64 {
		i := strings.Index(expl, `"`+name+`"`)
		j := strings.Index(expl[i:], `"ATTRIBUTION_SCORE":"`) + i + len(`"ATTRIBUTION_SCORE":"`)
		f, _ := strconv.ParseFloat(expl[j:j+strings.IndexByte(expl[j:], '"')], 64)
		return f
	}
	if attr("Systolic") <= 4*attr("Diastolic") {
		t.Fatalf("Systolic attribution %v not clearly above Diastolic %v", attr("Systolic"), attr("Diastolic"))
	}
}

func TestCompileErrors(t *testing.T) {
	in := Input{Name: "SOURCE_SQL_STREAM_001", Columns: []Column{{Name: "PRODID", Type: TypeInteger}, {Name: "PRICE", Type: TypeReal}}}
	head := "CREATE OR REPLACE STREAM \"D\" (a INTEGER, b BIGINT);\n"
	cases := []struct {
		code      string
		line, col int
		msg       string
	}{
		// §2.7: a streaming GROUP BY without a monotonic key is rejected.
		{head + "CREATE PUMP p AS INSERT INTO \"D\" SELECT STREAM prodId, COUNT(*) FROM SOURCE_SQL_STREAM_001 GROUP BY prodId;", 2, 101, "monotonic"},
		{head + "CREATE PUMP p AS INSERT INTO \"D\" SELECT STREAM nope, 1 FROM SOURCE_SQL_STREAM_001;", 2, 48, "Column 'NOPE' not found"},
		{head + "CREATE PUMP p AS INSERT INTO \"D\" SELECT STREAM prodid, 1 FROM missing;", 2, 63, "Object 'MISSING' not found"},
		{head + "CREATE PUMP p AS INSERT INTO \"D\" SELECT STREAM prodid, NOSUCH(price) FROM SOURCE_SQL_STREAM_001;", 2, 56, "NOSUCH"},
		{head + "CREATE PUMP p AS INSERT INTO \"D\" SELECT STREAM prodid FROM SOURCE_SQL_STREAM_001;", 2, 34, "Number of INSERT target columns"},
		{head + "CREATE PUMP p AS INSERT INTO \"D\" SELECT STREAM prodid, price FROM SOURCE_SQL_STREAM_001 GROUP BY STEP(ROWTIME BY INTERVAL '1' MINUTE);", 2, 48, "not being grouped"},
		{head + "CREATE PUMP p AS INSERT INTO \"D\" SELECT STREAM COUNT(*), SUM(prodid) FROM SOURCE_SQL_STREAM_001;", 2, 34, "monotonic"},
		{head + "CREATE PUMP p AS INSERT INTO \"D\" SELECT STREAM prodid, TRUE + 1 FROM SOURCE_SQL_STREAM_001;", 2, 61, "Cannot apply '+'"},
		{head + "CREATE PUMP p AS INSERT INTO \"D\" SELECT prodid, 1 FROM SOURCE_SQL_STREAM_001;", 2, 34, "SELECT STREAM"},
		{head + "CREATE PUMP p AS INSERT INTO \"D\" SELECT STREAM * FROM SOURCE_SQL_STREAM_001 ORDER BY price;", 2, 86, "monotonic"},
	}
	for _, c := range cases {
		_, err := Compile(Config{Code: c.code, Inputs: []Input{in}})
		var se *sql.Error
		if !errors.As(err, &se) {
			t.Errorf("%s\n  got %v, want *sql.Error", c.code, err)
			continue
		}
		if se.Line != c.line || se.Col != c.col || !strings.Contains(se.Msg, c.msg) {
			t.Errorf("%s\n  got %d:%d %s\n  want %d:%d containing %q", c.code, se.Line, se.Col, se.Msg, c.line, c.col, c.msg)
		}
	}
}

// A record the runner cannot parse (reported with ReportError), a type
// error and a division by zero each produce an error_stream row, and the
// rows around them are still processed.
func TestErrorsGoToErrorStreamAndProcessingContinues(t *testing.T) {
	cols := []Column{{Name: "A", Type: TypeVarchar, Size: 8}, {Name: "B", Type: TypeInteger}}
	code := `CREATE OR REPLACE STREAM "D" (n INTEGER, q INTEGER);
CREATE OR REPLACE PUMP "P" AS INSERT INTO "D" SELECT STREAM CAST(a AS INTEGER), 100 / b FROM "S";`
	p := mustCompile(t, code, Input{Name: "S", Columns: cols})
	c := newCapture(p)
	push := func(rt int64, a string, b int64) {
		if err := p.Push("S", oneRow(cols, rt, value{s: a}, value{i: b})); err != nil {
			t.Fatal(err)
		}
	}
	push(1000, "1", 10)
	p.ReportError(ErrorRow{Time: 1500, Level: "ERROR", Name: "SQL_COERCION_ERROR", Message: "bad record", DataRowTime: 1500, DataRow: "7b", Pump: ""})
	push(2000, "x1", 5) // type error
	push(3000, "3", 0)  // division by zero
	push(4000, "4", 4)
	errs := c.rows[ErrorStream]
	if len(errs) != 3 {
		t.Fatalf("got %d error rows, want 3: %v", len(errs), errs)
	}
	if errs[0][2].s != "SQL_COERCION_ERROR" || errs[1][2].s != "CAST_ERROR" || errs[2][2].s != "DIVIDE_BY_ZERO" {
		t.Fatalf("error names: %q %q %q", errs[0][2].s, errs[1][2].s, errs[2][2].s)
	}
	if errs[1][6].s != "P" || errs[1][4].i != 2000 || errs[1][5].s == "" {
		t.Fatalf("error row lacks pump, data rowtime or data row: %v", errs[1])
	}
	out := c.rows["D"]
	if len(out) != 2 || out[0][0].i != 1 || out[0][1].i != 10 || out[1][0].i != 4 || out[1][1].i != 25 {
		t.Fatalf("output %v", out)
	}
}

func TestOutOfOrderRowtimeGoesToErrorStream(t *testing.T) {
	cols := []Column{{Name: "A", Type: TypeInteger}}
	p := mustCompile(t, `CREATE STREAM d (a INTEGER); CREATE PUMP p AS INSERT INTO d SELECT STREAM a FROM "S";`, Input{Name: "S", Columns: cols})
	c := newCapture(p)
	_ = p.Push("S", oneRow(cols, 2000, value{i: 1}))
	_ = p.Push("S", oneRow(cols, 1000, value{i: 2}))
	_ = p.Push("S", oneRow(cols, 3000, value{i: 3}))
	if len(c.rows["D"]) != 2 || len(c.rows[ErrorStream]) != 1 || c.rows[ErrorStream][0][2].s != "OUT_OF_ORDER_ROWTIME" {
		t.Fatalf("rows %v errors %v", c.rows["D"], c.rows[ErrorStream])
	}
}

func TestScalarFunctions(t *testing.T) {
	cases := map[string]string{
		"CASE WHEN 1 < 2 THEN 'y' ELSE 'n' END":                     "y",
		"CASE 3 WHEN 1 THEN 'a' WHEN 3 THEN 'c' END":                "c",
		"CAST('42' AS INTEGER) + 1":                                 "43",
		"CAST(3.7 AS INTEGER)":                                      "4",
		"CAST(1.5 AS VARCHAR(8))":                                   "1.5",
		"'ab' || 'cd' || CAST(1 AS VARCHAR(1))":                     "abcd1",
		"'abc' LIKE 'a%'":                                           "TRUE",
		"'abc' LIKE 'a_'":                                           "FALSE",
		"'TECHNOLOGY' SIMILAR TO '%TECH%'":                          "TRUE",
		"'ab' SIMILAR TO '(a|b)+'":                                  "TRUE",
		"NULL IS DISTINCT FROM NULL":                                "FALSE",
		"1 IS DISTINCT FROM NULL":                                   "TRUE",
		"2 IS NOT DISTINCT FROM 2":                                  "TRUE",
		"SUBSTRING('hello' FROM 2 FOR 3)":                           "ell",
		"TRIM(BOTH 'x' FROM 'xxhixx')":                              "hi",
		"TRIM('  hi ')":                                             "hi",
		"POSITION('l' IN 'hello')":                                  "3",
		"CHAR_LENGTH('héllo')":                                      "5",
		"UPPER('ab') || LOWER('CD')":                                "ABcd",
		"INITCAP('hello wORLD')":                                    "Hello World",
		"OVERLAY('abcdef' PLACING 'XY' FROM 2 FOR 3)":               "aXYef",
		"REGEX_REPLACE('a1b22c', '[0-9]+', '#', 1, 0)":              "a#b#c",
		"REGEX_REPLACE('a1b22c', '([0-9]+)', '<$1>', 1, 2)":         "a1b<22>c",
		"REGEX_REPLACE('aa-bb', '(\\w)\\1', '<$1>', 1, 0)":          "<a>-<b>",
		"REGEX_REPLACE('price: 10 USD', '\\d+(?= USD)', 'N', 1, 0)": "price: N USD",
		"COALESCE(NULL, 'x')":                                       "x",
		"NULLIF(1, 1) IS NULL":                                      "TRUE",
		"MOD(17, 5)":                                                "2",
		"POWER(2, 10)":                                              "1024.0",
		"ABS(-3)":                                                   "3",
		"CEIL(1.2)":                                                 "2.0",
		"FLOOR(-1.2)":                                               "-2.0",
		"7 / 2":                                                     "3",
		"7.0 / 2":                                                   "3.5",
		"1 BETWEEN 0 AND 2":                                         "TRUE",
		"3 IN (1, 2)":                                               "FALSE",
		"FLOOR(TIMESTAMP '2020-01-01 10:17:45' TO MINUTE)":          "2020-01-01 10:17:00.000",
		"CEIL(TIMESTAMP '2020-01-01 10:17:45' TO HOUR)":             "2020-01-01 11:00:00.000",
		"STEP(TIMESTAMP '2020-01-01 10:17:45' BY INTERVAL '10' MINUTE)":      "2020-01-01 10:10:00.000",
		"TIMESTAMP '2020-01-01 10:00:00' + INTERVAL '1:30' MINUTE TO SECOND": "2020-01-01 10:01:30.000",
		"EXTRACT(HOUR FROM TIMESTAMP '2020-01-01 10:17:45')":                 "10",
		"TO_TIMESTAMP(0)": "1970-01-01 00:00:00.000",
		"UNIX_TIMESTAMP(TIMESTAMP '1970-01-01 00:00:01')":                                   "1000",
		"TIMESTAMP_TO_CHAR('yyyy-MM-dd HH:mm:ss.SSS', TIMESTAMP '2020-03-04 05:06:07.089')": "2020-03-04 05:06:07.089",
		"CHAR_TO_TIMESTAMP('yyyy-MM-dd', '2020-03-04')":                                     "2020-03-04 00:00:00.000",
		"CHAR_TO_DATE('dd/MM/yyyy', '04/03/2020')":                                          "2020-03-04",
		"TSDIFF(TIMESTAMP '2020-01-01 00:00:02', TIMESTAMP '2020-01-01 00:00:00')":          "2000",
		"NOT (1 = 1 AND NULL)": "NULL",
		"1 = 1 OR NULL":        "TRUE",
	}
	cols := []Column{{Name: "X", Type: TypeInteger}}
	for expr, want := range cases {
		code := "CREATE STREAM d (v VARCHAR(64)); CREATE PUMP p AS INSERT INTO d SELECT STREAM CAST(" + expr + " AS VARCHAR(64)) FROM s;"
		p, err := Compile(Config{Code: code, Inputs: []Input{{Name: "S", Columns: cols}}})
		if err != nil {
			t.Errorf("%s: %v", expr, err)
			continue
		}
		c := newCapture(p)
		_ = p.Push("S", oneRow(cols, 1000, value{i: 1}))
		var got string
		switch {
		case len(c.rows["D"]) == 1 && c.rows["D"][0][0].null:
			got = "NULL"
		case len(c.rows["D"]) == 1:
			got = c.rows["D"][0][0].s
		default:
			got = "error: " + strings.TrimSpace(strings.Join(func() []string {
				var s []string
				for _, r := range c.rows[ErrorStream] {
					s = append(s, r[3].s)
				}
				return s
			}(), ";"))
		}
		if got != want {
			t.Errorf("%s = %q, want %q", expr, got, want)
		}
	}
}

// A random workload through tumbling, sliding and stagger pumps gives the
// same output whether or not the program is snapshotted and restored into a
// fresh compilation in the middle of windows.
func TestSnapshotRestoreMidWindow(t *testing.T) {
	code := `CREATE STREAM tumbling (k VARCHAR(4), n BIGINT, s DOUBLE, lo DOUBLE);
CREATE STREAM sliding (k VARCHAR(4), a DOUBLE, c BIGINT);
CREATE STREAM stagger (k VARCHAR(4), n BIGINT);
CREATE STREAM joined (k VARCHAR(4), v DOUBLE, w DOUBLE);
CREATE PUMP p1 AS INSERT INTO tumbling SELECT STREAM k, COUNT(*), SUM(v), MIN(v) FROM "S" GROUP BY k, FLOOR("S".ROWTIME TO MINUTE);
CREATE PUMP p2 AS INSERT INTO sliding SELECT STREAM k, AVG(v) OVER w, COUNT(*) OVER w FROM "S" WINDOW w AS (PARTITION BY k RANGE INTERVAL '30' SECOND PRECEDING);
CREATE PUMP p3 AS INSERT INTO stagger SELECT STREAM k, COUNT(*) FROM "S" WINDOWED BY STAGGER (PARTITION BY k RANGE INTERVAL '45' SECOND);
CREATE PUMP p4 AS INSERT INTO joined SELECT STREAM a.k, a.v, b.v FROM "S" AS a JOIN "S" OVER (RANGE INTERVAL '5' SECOND PRECEDING) AS b ON a.k = b.k AND a.v > b.v;`
	cols := []Column{{Name: "K", Type: TypeVarchar, Size: 4}, {Name: "V", Type: TypeDouble}}
	in := Input{Name: "S", Columns: cols}
	type ev struct {
		rt  int64
		k   string
		v   float64
		adv bool
	}
	r := rand.New(rand.NewSource(11))
	var evs []ev
	rt := int64(0)
	for i := 0; i < 3000; i++ {
		rt += r.Int63n(700)
		if r.Intn(20) == 0 {
			evs = append(evs, ev{rt: rt + r.Int63n(2000), adv: true})
			rt = evs[len(evs)-1].rt
			continue
		}
		evs = append(evs, ev{rt: rt, k: string(rune('a' + r.Intn(8))), v: float64(r.Intn(1000)) / 10})
	}
	evs = append(evs, ev{rt: rt + 120_000, adv: true})
	run := func(snapEvery int) map[string][][]value {
		p := mustCompile(t, code, in)
		c := newCapture(p)
		for i, e := range evs {
			if snapEvery > 0 && i%snapEvery == snapEvery-1 {
				state, err := p.Snapshot()
				if err != nil {
					t.Fatal(err)
				}
				p = mustCompile(t, code, in)
				if err := p.Restore(state); err != nil {
					t.Fatal(err)
				}
				p.Start(c.sink)
			}
			if e.adv {
				p.Advance(e.rt)
				continue
			}
			if err := p.Push("S", oneRow(cols, e.rt, value{s: e.k}, value{f: e.v})); err != nil {
				t.Fatal(err)
			}
		}
		return c.rows
	}
	want := run(0)
	for _, s := range []string{"TUMBLING", "SLIDING", "STAGGER", "JOINED"} {
		if len(want[s]) == 0 {
			t.Fatalf("no %s output", s)
		}
	}
	for _, every := range []int{1, 7, 333} {
		if every == 1 && testing.Short() {
			continue
		}
		got := run(every)
		for s, rows := range want {
			if len(got[s]) != len(rows) {
				t.Fatalf("snapshot every %d: %s has %d rows, want %d", every, s, len(got[s]), len(rows))
			}
			for i := range rows {
				for k := range rows[i] {
					if a, b := rows[i][k], got[s][i][k]; a.null != b.null || a.i != b.i || a.f != b.f || a.s != b.s {
						t.Fatalf("snapshot every %d: %s row %d col %d = %v, want %v", every, s, i, k, got[s][i][k], rows[i][k])
					}
				}
			}
		}
	}
}

func TestRestoreRejectsForeignOrCorruptState(t *testing.T) {
	cols := []Column{{Name: "A", Type: TypeInteger}}
	in := Input{Name: "S", Columns: cols}
	p := mustCompile(t, `CREATE STREAM d (n BIGINT); CREATE PUMP p AS INSERT INTO d SELECT STREAM COUNT(*) FROM "S" GROUP BY STEP("S".ROWTIME BY INTERVAL '1' MINUTE);`, in)
	_ = p.Push("S", oneRow(cols, 1000, value{i: 1}))
	state, _ := p.Snapshot()
	other := mustCompile(t, `CREATE STREAM d (n BIGINT); CREATE PUMP p AS INSERT INTO d SELECT STREAM COUNT(a) FROM "S" GROUP BY STEP("S".ROWTIME BY INTERVAL '1' MINUTE);`, in)
	if err := other.Restore(state); err == nil {
		t.Fatal("restore into different code succeeded")
	}
	same := mustCompile(t, `CREATE STREAM d (n BIGINT); CREATE PUMP p AS INSERT INTO d SELECT STREAM COUNT(*) FROM "S" GROUP BY STEP("S".ROWTIME BY INTERVAL '1' MINUTE);`, in)
	if err := same.Restore(state[:len(state)-1]); err == nil {
		t.Fatal("restore of truncated state succeeded")
	}
}

func FuzzRestore(f *testing.F) {
	code := `CREATE STREAM d (k VARCHAR(4), n BIGINT, a DOUBLE);
CREATE PUMP p AS INSERT INTO d SELECT STREAM k, COUNT(*), AVG(v) FROM "S" GROUP BY k, STEP("S".ROWTIME BY INTERVAL '1' MINUTE);
CREATE STREAM e (k VARCHAR(4), n BIGINT);
CREATE PUMP q AS INSERT INTO e SELECT STREAM k, COUNT(*) OVER (PARTITION BY k ROWS 3 PRECEDING) FROM "S";`
	cols := []Column{{Name: "K", Type: TypeVarchar, Size: 4}, {Name: "V", Type: TypeDouble}}
	in := Input{Name: "S", Columns: cols}
	p, _ := Compile(Config{Code: code, Inputs: []Input{in}})
	for i := 0; i < 5; i++ {
		_ = p.Push("S", oneRow(cols, int64(i)*7000, value{s: string(rune('a' + i%3))}, value{f: float64(i)}))
	}
	state, _ := p.Snapshot()
	f.Add(state)
	f.Fuzz(func(t *testing.T, data []byte) {
		q, err := Compile(Config{Code: code, Inputs: []Input{in}})
		if err != nil {
			t.Fatal(err)
		}
		if q.Restore(data) == nil {
			// A state that loads must keep working.
			_ = q.Push("S", oneRow(cols, 1<<40, value{s: "z"}, value{f: 1}))
			q.Advance(1 << 41)
		}
	})
}

// §2.5 related: HOTSPOTS finds a dense cluster among uniform noise and
// reports its bounds in AWS's JSON shape.
func TestHotspots(t *testing.T) {
	code := `CREATE OR REPLACE STREAM "D" ("x" DOUBLE, "y" DOUBLE, "is_hot" VARCHAR(4), HOTSPOTS_RESULT VARCHAR(10000));
CREATE OR REPLACE PUMP "P" AS INSERT INTO "D"
  SELECT STREAM "x", "y", "is_hot", HOTSPOTS_RESULT FROM TABLE(HOTSPOTS(
    CURSOR(SELECT STREAM "x", "y", "is_hot" FROM "SOURCE_SQL_STREAM_001"), 1000, 0.2, 17));`
	cols := []Column{{Name: "x", Type: TypeDouble}, {Name: "y", Type: TypeDouble}, {Name: "is_hot", Type: TypeVarchar, Size: 4}}
	p := mustCompile(t, code, Input{Name: "SOURCE_SQL_STREAM_001", Columns: cols})
	c := newCapture(p)
	r := rand.New(rand.NewSource(5))
	for i := 0; i < 1000; i++ {
		x, y, hot := r.Float64()*10, r.Float64()*10, "N"
		if i%10 == 0 {
			x, y, hot = 7.9+r.Float64()*0.3, 8.7+r.Float64()*0.3, "Y"
		}
		_ = p.Push("SOURCE_SQL_STREAM_001", oneRow(cols, int64(i)*10, value{f: x}, value{f: y}, value{s: hot}))
	}
	rows := c.rows["D"]
	res := rows[len(rows)-1][3].s
	if !strings.HasPrefix(res, `{"hotspots":[{"density":`) {
		t.Fatalf("result %s", res)
	}
	var first struct {
		Hotspots []struct {
			Density   float64
			MinValues []float64
			MaxValues []float64
		}
	}
	if err := json.Unmarshal([]byte(res), &first); err != nil || len(first.Hotspots) == 0 {
		t.Fatalf("result %s: %v", res, err)
	}
	h := first.Hotspots[0]
	if h.MinValues[0] > 7.95 || h.MaxValues[0] < 8.15 || h.MinValues[1] > 8.75 || h.MaxValues[1] < 8.95 || h.Density < 2 {
		t.Fatalf("densest hotspot %+v does not cover the cluster at (7.9–8.2, 8.7–9.0)", h)
	}
}

// The anomaly application (RCF, then ORDER BY) and HOTSPOTS give identical
// output when snapshotted and restored every 97 rows: forests, samplers,
// RNGs and buffers are all in the snapshot.
func TestSnapshotRestoreTableFunctions(t *testing.T) {
	cols := []Column{{Name: "heartRate", Type: TypeInteger}, {Name: "rateType", Type: TypeVarchar, Size: 20}}
	code := anomalySQL + `
CREATE OR REPLACE STREAM "HOT" ("heartRate" INTEGER, HOTSPOTS_RESULT VARCHAR(10000));
CREATE OR REPLACE PUMP "HOT_PUMP" AS INSERT INTO "HOT"
  SELECT STREAM "heartRate", HOTSPOTS_RESULT FROM TABLE(HOTSPOTS(CURSOR(SELECT STREAM "heartRate" FROM "SOURCE_SQL_STREAM_001"), 200, 0.1, 5));`
	in := Input{Name: "SOURCE_SQL_STREAM_001", Columns: cols}
	run := func(every int) *capture {
		p := mustCompile(t, code, in)
		c := newCapture(p)
		r := rand.New(rand.NewSource(9))
		for i := 0; i < 1200; i++ {
			if every > 0 && i > 0 && i%every == 0 {
				st, err := p.Snapshot()
				if err != nil {
					t.Fatal(err)
				}
				p = mustCompile(t, code, in)
				if err := p.Restore(st); err != nil {
					t.Fatal(err)
				}
				p.Start(c.sink)
			}
			hr := 60 + r.Int63n(41)
			if r.Intn(50) == 0 {
				hr = 180
			}
			_ = p.Push("SOURCE_SQL_STREAM_001", oneRow(cols, int64(i)*37, value{i: hr}, value{s: "X"}))
		}
		p.Advance(1 << 40)
		return c
	}
	want, got := run(0), run(97)
	for _, s := range []string{"DESTINATION_SQL_STREAM", "HOT"} {
		if len(want.rows[s]) != 1200 || len(got.rows[s]) != len(want.rows[s]) {
			t.Fatalf("%s: %d rows vs %d", s, len(got.rows[s]), len(want.rows[s]))
		}
		for i := range want.rows[s] {
			for k := range want.rows[s][i] {
				a, b := want.rows[s][i][k], got.rows[s][i][k]
				if a.null != b.null || a.i != b.i || a.f != b.f || a.s != b.s {
					t.Fatalf("%s row %d col %d: %v after restores, %v straight", s, i, k, b, a)
				}
			}
		}
	}
}
