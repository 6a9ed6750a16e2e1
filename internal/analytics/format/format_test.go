package format

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/eddy-streams/eddy/internal/analytics/exec"
)

func mustJSON(t testing.TB, path string, specs ...ColumnSpec) *JSON {
	t.Helper()
	d, err := NewJSON(path, specs)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// rows renders a batch as text rows ("NULL" for nulls).
func rows(b *exec.Batch, cols []exec.Column) []string {
	var out []string
	for i := 0; i < b.Len; i++ {
		var f []string
		for c := range cols {
			v := &b.Cols[c]
			if len(v.Null) > i && v.Null[i] {
				f = append(f, "NULL")
				continue
			}
			f = append(f, string(appendValue(nil, cols[c], v, i)))
		}
		out = append(out, strings.Join(f, "|"))
	}
	return out
}

func TestJSONPathsAndCoercion(t *testing.T) {
	d := mustJSON(t, "$",
		ColumnSpec{Name: "a", SQLType: "INTEGER", Mapping: "$.a"},
		ColumnSpec{Name: "b", SQLType: "VARCHAR(4)", Mapping: "$.x.y.b"},
		ColumnSpec{Name: "arr", SQLType: "VARCHAR(32)", Mapping: "$.arr[0:]"},
		ColumnSpec{Name: "flag", SQLType: "BOOLEAN", Mapping: "$.flag"},
		ColumnSpec{Name: "ts", SQLType: "TIMESTAMP", Mapping: "$.ts"},
		ColumnSpec{Name: "p", SQLType: "REAL", Mapping: "$.p"},
		ColumnSpec{Name: "n", SQLType: "DECIMAL(6,2)", Mapping: "$.n"},
		ColumnSpec{Name: "obj", SQLType: "VARCHAR(64)", Mapping: "$.x"},
	)
	for _, c := range []struct{ rec, want string }{
		{`{"a":1,"x":{"y":{"b":"hello"}},"arr":[1, 2],"flag":"TRUE","ts":"2018-06-13T14:11:05.766191","p":1.5,"n":"12.345","other":{"deep":[1,{"z":2}]}}`,
			`1|hell|[1, 2]|true|2018-06-13 14:11:05.766|1.5|12.34|{"y":{"b":"hello"}}`},
		{`{"a":"42","flag":1,"ts":"1992-02-14","n":7}`, "42|NULL|NULL|true|1992-02-14 00:00:00.000|NULL|7.00|NULL"},
		{`{"a":true,"flag":"nope","ts":"1992-02-14 18:35:44.0","b":"ignored"}`, "1|NULL|NULL|false|1992-02-14 18:35:44.000|NULL|NULL|NULL"},
		{`{"a":null,"x":{"y":{"b":"\u00e9\u00e9\u00e9\u00e9\u00e9"}}}`, "NULL|ééééé"[:len("NULL|éééé")] + "|NULL|NULL|NULL|NULL|NULL|" + `{"y":{"b":"\u00e9\u00e9\u00e9\u00e9\u00e9"}}`},
		{`{"a":1e2} {"a":3}`, "100|NULL|NULL|NULL|NULL|NULL|NULL|NULL\n3|NULL|NULL|NULL|NULL|NULL|NULL|NULL"},
	} {
		b := NewBatch(d.Columns())
		if _, err := d.Decode([]byte(c.rec), b); err != nil {
			t.Fatalf("%s: %v", c.rec, err)
		}
		if got := strings.Join(rows(b, d.Columns()), "\n"); got != c.want {
			t.Errorf("%s\n got %s\nwant %s", c.rec, got, c.want)
		}
	}
	for _, bad := range []string{`{"a":123.4}`, `{"a":"x"}`, `{"a":[1]}`, `{"a":9999999999}`, `{"ts":true}`, `{"a":1`, `[1]`, `{"a":1,}`, `not json`, ``} {
		b := NewBatch(d.Columns())
		if n, err := d.Decode([]byte(bad), b); err == nil || b.Len != 0 || n != 0 {
			t.Errorf("%q: accepted (%d rows, err %v)", bad, b.Len, err)
		}
	}
}

func TestJSONFlattenArray(t *testing.T) {
	d := mustJSON(t, "$",
		ColumnSpec{Name: "id", SQLType: "INTEGER", Mapping: "$.id"},
		ColumnSpec{Name: "x", SQLType: "VARCHAR(8)", Mapping: "$.items[0:].x"},
		ColumnSpec{Name: "q", SQLType: "INTEGER", Mapping: "$.items[0:].q"},
	)
	b := NewBatch(d.Columns())
	if _, err := d.Decode([]byte(`{"items":[{"x":"a","q":1},{"x":"b"},{"q":3}],"id":7}`), b); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Decode([]byte(`{"id":8,"items":[]}`), b); err != nil {
		t.Fatal(err)
	}
	want := "7|a|1\n7|b|NULL\n7|NULL|3\n8|NULL|NULL"
	if got := strings.Join(rows(b, d.Columns()), "\n"); got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
	if _, err := NewJSON("$", []ColumnSpec{{Name: "a", SQLType: "INT", Mapping: "$.a[0:].b"}, {Name: "c", SQLType: "INT", Mapping: "$.c[0:].d"}}); err == nil {
		t.Fatal("two flattened arrays accepted")
	}
	if _, err := NewJSON("$", []ColumnSpec{{Name: "a", SQLType: "INT", Mapping: "$.a[0:].b[0:].c"}}); err == nil {
		t.Fatal("nested flattening accepted")
	}
}

func TestCSV(t *testing.T) {
	d, err := NewCSV(`\n`, ",", []ColumnSpec{{Name: "t", SQLType: "VARCHAR(4)"}, {Name: "c", SQLType: "VARCHAR(16)"}, {Name: "p", SQLType: "DOUBLE"}})
	if err != nil {
		t.Fatal(err)
	}
	b := NewBatch(d.Columns())
	n, err := d.Decode([]byte("AMZN,Amazon,1.5\nASD, SomeCompanyA,\n\"Q,Z\",\"say \"\"hi\"\"\",2\nX"), b)
	if err != nil || n != 4 {
		t.Fatal(n, err)
	}
	want := "AMZN|Amazon|1.5\nASD| SomeCompanyA|NULL\nQ,Z|say \"hi\"|2\nX|NULL|NULL"
	if got := strings.Join(rows(b, d.Columns()), "\n"); got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
	if _, err := d.Decode([]byte("a,b,notanumber"), NewBatch(d.Columns())); err == nil {
		t.Fatal("bad number accepted")
	}
}

func TestEncodeRows(t *testing.T) {
	cols := []exec.Column{{Name: "S", Type: exec.TypeVarchar, Size: 8}, {Name: "N", Type: exec.TypeBigint}, {Name: "T", Type: exec.TypeTimestamp}, {Name: "D", Type: exec.TypeDecimal, Scale: 2}}
	b := NewBatch(cols)
	b.Cols[0].Str = []string{`a,"b"`, ""}
	b.Cols[1].I64 = []int64{5, 0}
	b.Cols[1].Null = []bool{false, true}
	b.Cols[2].I64 = []int64{1528899065766, 0}
	b.Cols[3].I64 = []int64{-1205, 7}
	b.Len = 2
	if got := string(AppendJSONRow(nil, cols, b, 0)); got != `{"S":"a,\"b\"","N":5,"T":"2018-06-13 14:11:05.766","D":-12.05}` {
		t.Fatalf("json %s", got)
	}
	if got := string(AppendCSVRow(nil, cols, b, 0, ',')); got != `"a,""b""",5,2018-06-13 14:11:05.766,-12.05` {
		t.Fatalf("csv %s", got)
	}
	if got := string(AppendJSONRow(nil, cols, b, 1)); got != `{"S":"","N":null,"T":"1970-01-01 00:00:00.000","D":0.07}` {
		t.Fatalf("json nulls %s", got)
	}
}

func TestInferDocExamples(t *testing.T) {
	// the demo stream's records give its documented schema
	d, err := Infer([][]byte{
		[]byte(`{"TICKER_SYMBOL":"QXZ","SECTOR":"HEALTHCARE","CHANGE":-0.05,"PRICE":84.51}`),
		[]byte(`{"TICKER_SYMBOL":"AMZN","SECTOR":"TECHNOLOGY","CHANGE":1.2,"PRICE":101.3}`),
	})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range d.Columns {
		got = append(got, c.Name+" "+c.SQLType+" "+c.Mapping)
	}
	if want := "TICKER_SYMBOL VARCHAR(4) $.TICKER_SYMBOL,SECTOR VARCHAR(16) $.SECTOR,CHANGE REAL $.CHANGE,PRICE REAL $.PRICE"; strings.Join(got, ",") != want {
		t.Fatalf("schema %v", got)
	}
	// COL_ naming and narrowest integers (heartRate → TINYINT, year → INTEGER)
	d, err = Infer([][]byte{[]byte(`{"year":2015,"USER":"x","USER@DOMAIN":"a@b","@@":1,"heartRate":60,"1st":true,"nested":{"k":"2018-06-13T14:11:05"}}`)})
	if err != nil {
		t.Fatal(err)
	}
	got = got[:0]
	for _, c := range d.Columns {
		got = append(got, c.Name+" "+c.SQLType)
	}
	if want := "COL_year INTEGER,COL_USER VARCHAR(1),COL_USERDOMAIN VARCHAR(4),COL_3 TINYINT,heartRate TINYINT,COL_1st BOOLEAN,k TIMESTAMP"; strings.Join(got, ",") != want {
		t.Fatalf("schema %v", got)
	}
	d, err = Infer([][]byte{[]byte("AMZN,Amazon,12\nASD,SomeCompanyA,300")})
	if err != nil || d.Format != "CSV" || len(d.Columns) != 3 || d.Columns[2].SQLType != "INTEGER" || d.Columns[1].SQLType != "VARCHAR(16)" {
		t.Fatalf("csv %+v %v", d, err)
	}
	if _, err := Infer([][]byte{[]byte("a,b\nc")}); err == nil {
		t.Fatal("ragged text got a schema")
	}
}

func FuzzJSONDecode(f *testing.F) {
	for _, s := range []string{`{"a":1,"b":{"c":"x"},"arr":[{"x":1},{"x":"2"}]}`, `{"a":"1e3","b":null}`, `{"arr":[]}`, `{"b":{"c":"\ud83d\ude00\n"}}`, `[`, `{"a":}`} {
		f.Add([]byte(s))
	}
	d, err := NewJSON("$", []ColumnSpec{
		{Name: "a", SQLType: "BIGINT", Mapping: "$.a"}, {Name: "c", SQLType: "VARCHAR(3)", Mapping: "$.b.c"},
		{Name: "x", SQLType: "DOUBLE", Mapping: "$.arr[0:].x"}, {Name: "t", SQLType: "TIMESTAMP", Mapping: "$.t"}, {Name: "b", SQLType: "VARCHAR(16)", Mapping: "$.b"},
	})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, rec []byte) {
		b := NewBatch(d.Columns())
		n, err := d.Decode(rec, b)
		if err != nil {
			if b.Len != 0 {
				t.Fatalf("failed decode left %d rows", b.Len)
			}
			return
		}
		if n != b.Len || n < 1 {
			t.Fatalf("%d rows reported, %d in batch", n, b.Len)
		}
		for c := range b.Cols {
			v := &b.Cols[c]
			if len(v.Null) != b.Len || len(v.I64)+len(v.F64)+len(v.Str)+len(v.Bin) != b.Len {
				t.Fatalf("column %d has ragged vectors", c)
			}
		}
		// what we accept, encoding/json must accept as a stream of objects
		dec := json.NewDecoder(strings.NewReader(string(rec)))
		for dec.More() {
			var m map[string]any
			if err := dec.Decode(&m); err != nil {
				t.Fatalf("accepted %q, which is not JSON: %v", rec, err)
			}
		}
	})
}

func FuzzCSVDecode(f *testing.F) {
	for _, s := range []string{"a,1,2.5\nb,2,", `"x,y",3,"4"`, "\n\n", `"unterminated`} {
		f.Add([]byte(s))
	}
	d, err := NewCSV("\n", ",", []ColumnSpec{{Name: "s", SQLType: "VARCHAR(4)"}, {Name: "i", SQLType: "INTEGER"}, {Name: "f", SQLType: "DOUBLE"}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, rec []byte) {
		b := NewBatch(d.Columns())
		if _, err := d.Decode(rec, b); err != nil && b.Len != 0 {
			t.Fatalf("failed decode left %d rows", b.Len)
		}
	})
}

func FuzzParseDatetime(f *testing.F) {
	for _, s := range []string{"1992-02-14", "1992-02-14 18:35:44.0", "2018-06-13T14:11:05.766191Z", "12:00:01", "2020-02-30"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { _, _ = ParseDatetime([]byte(s)) })
}

// accessLog is a LOGTOJSON COMBINEDAPACHELOG record, the flagship input.
func accessLog(i int) []byte {
	return []byte(fmt.Sprintf(`{"host":"10.0.0.%d","ident":null,"authuser":null,"datetime":"01/Mar/2026:12:00:10 +0000","request":"GET /req/%d HTTP/1.1","response":"%d","bytes":"%d","referrer":"-","agent":"Mozilla/5.0 (X11; Linux x86_64)"}`,
		i%250, i%1000, []int{200, 200, 200, 404, 304, 500}[i%6], 100+i%900))
}

// BenchmarkJSONAccessLog: schema-driven decoding of access-log records
// (three mapped columns of nine fields), the runner's hot path.
func BenchmarkJSONAccessLog(b *testing.B) {
	d := mustJSON(b, "$",
		ColumnSpec{Name: "request", SQLType: "VARCHAR(256)", Mapping: "$.request"},
		ColumnSpec{Name: "response", SQLType: "INTEGER", Mapping: "$.response"},
		ColumnSpec{Name: "bytes", SQLType: "BIGINT", Mapping: "$.bytes"},
	)
	recs := make([][]byte, 1024)
	size := 0
	for i := range recs {
		recs[i] = accessLog(i)
		size += len(recs[i])
	}
	batch := NewBatch(d.Columns())
	b.SetBytes(int64(size / len(recs)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if i%4096 == 0 {
			Reset(batch)
		}
		if _, err := d.Decode(recs[i%len(recs)], batch); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkJSONTicker: the demo-stream record, every field mapped.
func BenchmarkJSONTicker(b *testing.B) {
	d := mustJSON(b, "$",
		ColumnSpec{Name: "TICKER_SYMBOL", SQLType: "VARCHAR(4)", Mapping: "$.TICKER_SYMBOL"},
		ColumnSpec{Name: "SECTOR", SQLType: "VARCHAR(16)", Mapping: "$.SECTOR"},
		ColumnSpec{Name: "CHANGE", SQLType: "REAL", Mapping: "$.CHANGE"},
		ColumnSpec{Name: "PRICE", SQLType: "REAL", Mapping: "$.PRICE"},
	)
	rec := []byte(`{"TICKER_SYMBOL":"QXZ","SECTOR":"HEALTHCARE","CHANGE":-0.05,"PRICE":84.51}`)
	batch := NewBatch(d.Columns())
	b.SetBytes(int64(len(rec)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if i%4096 == 0 {
			Reset(batch)
		}
		if _, err := d.Decode(rec, batch); err != nil {
			b.Fatal(err)
		}
	}
}
