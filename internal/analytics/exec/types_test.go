package exec

import "testing"

// Every column type goes through a pump: DECIMAL keeps its scale, CHAR pads,
// VARCHAR truncates, BOOLEAN/DATE/TIME/BINARY round-trip, and a value out of
// range for TINYINT goes to error_stream.
func TestColumnTypesThroughPumps(t *testing.T) {
	cols := []Column{
		{Name: "D", Type: TypeDecimal, Size: 10, Scale: 2},
		{Name: "B", Type: TypeBoolean},
		{Name: "DT", Type: TypeDate},
		{Name: "TM", Type: TypeTime},
		{Name: "BIN", Type: TypeVarbinary, Size: 8},
		{Name: "S", Type: TypeVarchar, Size: 16},
		{Name: "N", Type: TypeInteger},
	}
	code := `CREATE STREAM out (d DECIMAL(10,2), d2 DECIMAL(10,2), b BOOLEAN, dt DATE, tm TIME, bin VARBINARY(8), c CHAR(4), v VARCHAR(3), t TINYINT);
CREATE PUMP p AS INSERT INTO out SELECT STREAM d, d * 2 + 0.005, NOT b, dt + INTERVAL '1' DAY, tm, bin, s, s, n FROM "S";
CREATE STREAM sums (total DECIMAL(12,2), n BIGINT);
CREATE PUMP q AS INSERT INTO sums SELECT STREAM SUM(d), COUNT(*) FROM "S" GROUP BY FLOOR("S".ROWTIME TO MINUTE);`
	p := mustCompile(t, code, Input{Name: "S", Columns: cols})
	c := newCapture(p)
	row := func(rt int64, d float64, b bool, day int64, ms int64, bin, s string, n int64) *Batch {
		bd := newBuilder(cols)
		bd.appendRow(rt, []value{{f: d}, boolVal(b), {i: day}, {i: ms}, {s: bin}, {s: s}, {i: n}})
		return &bd.b
	}
	_ = p.Push("S", row(1000, 12.34, true, 19000, 3_600_000, "\x01\x02", "ab", 7))
	_ = p.Push("S", row(2000, 0.01, false, 0, 0, "", "abcdef", 300))
	p.Advance(60_000)
	out := c.rows["OUT"]
	if len(out) != 1 {
		t.Fatalf("out rows %v, errors %v", out, c.rows[ErrorStream])
	}
	r := out[0]
	if r[0].f != 12.34 || r[1].f != 24.69 || r[2].i != 0 || r[3].i != 19001 || r[4].i != 3_600_000 || r[5].s != "\x01\x02" || r[6].s != "ab  " || r[7].s != "ab" || r[8].i != 7 {
		t.Fatalf("row %v", r)
	}
	errs := c.rows[ErrorStream]
	if len(errs) != 1 || errs[0][2].s != "CAST_ERROR" {
		t.Fatalf("errors %v", errs)
	}
	sums := c.rows["SUMS"]
	if len(sums) != 1 || sums[0][0].f != 12.35 || sums[0][1].i != 2 {
		t.Fatalf("sums %v", sums)
	}
}
