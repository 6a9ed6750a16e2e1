package convert

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

var testCols = []Column{
	{"id", "bigint"}, {"name", "string"}, {"price", "decimal(10,2)"}, {"big", "decimal(30,4)"},
	{"ts", "timestamp"}, {"day", "date"}, {"ok", "boolean"}, {"score", "double"}, {"small", "smallint"},
	{"tags", "array<string>"}, {"attrs", "map<string,int>"}, {"geo", "struct<lat:double,city:string>"},
}

// readArrow reads a Parquet file with arrow-go, an independent reader.
func readArrow(t *testing.T, data []byte) arrow.Table {
	t.Helper()
	pf, err := file.NewParquetReader(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("arrow-go cannot open the file: %v", err)
	}
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := fr.ReadTable(context.Background())
	if err != nil {
		t.Fatalf("arrow-go cannot read the table: %v", err)
	}
	t.Cleanup(tbl.Release)
	return tbl
}

func column(t *testing.T, tbl arrow.Table, name string) arrow.Array {
	t.Helper()
	for i := 0; i < int(tbl.NumCols()); i++ {
		if tbl.Schema().Field(i).Name == name {
			ch := tbl.Column(i).Data()
			if len(ch.Chunks()) != 1 {
				t.Fatalf("column %s: %d chunks", name, len(ch.Chunks()))
			}
			return ch.Chunk(0)
		}
	}
	t.Fatalf("no column %s in %v", name, tbl.Schema())
	return nil
}

func TestConvertReadBackWithArrow(t *testing.T) {
	for _, comp := range []string{"SNAPPY", "GZIP", "UNCOMPRESSED"} {
		for _, ver := range []string{"V1", "V2"} {
			t.Run(comp+"/"+ver, func(t *testing.T) {
				c, err := NewConverter(testCols, Deserializer{CaseInsensitive: true, DotsToUnderscores: true},
					ParquetOptions{Compression: comp, WriterVersion: ver, Dictionary: ver == "V1", BlockSize: 64 << 20, PageSize: 64 << 10})
				if err != nil {
					t.Fatal(err)
				}
				recs := [][]byte{
					[]byte(`{"ID":1,"Name":"alice","price":12.345,"big":"-12345678901234567890.5","ts":"2024-03-01T10:20:30.5Z","day":"2024-03-01","ok":true,"score":1.5,"small":7,"tags":["a","b"],"attrs":{"x":1,"y":2},"geo":{"LAT":1.25,"city":"Oslo"}}`),
					[]byte(`{"id":2,"name":null,"ts":1700000000,"tags":[],"geo.city":"unused"}`),
					[]byte(`{"id":"not a number"}`),
					[]byte(`[1,2]`),
					[]byte(`{"id":3,"ts":1700000000123,"small":40000}`),
					[]byte(`{"id":4,"ts":"2024-1-2 03:04:05","price":"99999999.99"}`),
				}
				data, rows, fails, err := c.Convert(recs)
				if err != nil {
					t.Fatal(err)
				}
				if rows != 3 || len(fails) != 3 {
					t.Fatalf("rows %d fails %+v", rows, fails)
				}
				if fails[0].Index != 2 || fails[0].Err.Code != CodeMalformedData || fails[1].Index != 3 || fails[1].Err.Code != CodeParseError || fails[2].Index != 4 {
					t.Fatalf("fails %+v", fails)
				}
				tbl := readArrow(t, data)
				if tbl.NumRows() != 3 {
					t.Fatalf("arrow rows %d", tbl.NumRows())
				}
				ids := column(t, tbl, "id").(*array.Int64)
				if ids.Value(0) != 1 || ids.Value(1) != 2 || ids.Value(2) != 4 {
					t.Fatalf("ids %v", ids)
				}
				names := column(t, tbl, "name").(*array.String)
				if names.Value(0) != "alice" || !names.IsNull(1) {
					t.Fatalf("names %v", names)
				}
				price := column(t, tbl, "price").(*array.Decimal128)
				if price.Value(0).LowBits() != 1235 || !price.IsNull(1) || price.Value(2).LowBits() != 9999999999 {
					t.Fatalf("price %v (rounded half up to scale 2)", price)
				}
				if dt := price.DataType().(*arrow.Decimal128Type); dt.Precision != 10 || dt.Scale != 2 {
					t.Fatalf("price type %v", dt)
				}
				big := column(t, tbl, "big").(*array.Decimal128)
				if s := big.Value(0).ToString(4); s != "-12345678901234567890.5000" {
					t.Fatalf("big decimal %s", s)
				}
				ts := column(t, tbl, "ts").(*array.Timestamp)
				if ts.Value(0) != 1709288430500 || ts.Value(1) != 1700000000000 || ts.Value(2) != 1704164645000 {
					t.Fatalf("ts %v", ts)
				}
				if u := ts.DataType().(*arrow.TimestampType).Unit; u != arrow.Millisecond {
					t.Fatalf("ts unit %v", u)
				}
				day := column(t, tbl, "day").(*array.Date32)
				if day.Value(0) != 19783 || !day.IsNull(1) {
					t.Fatalf("day %v", day)
				}
				if ok := column(t, tbl, "ok").(*array.Boolean); !ok.Value(0) || !ok.IsNull(1) {
					t.Fatalf("ok %v", ok)
				}
				if sc := column(t, tbl, "score").(*array.Float64); sc.Value(0) != 1.5 {
					t.Fatalf("score %v", sc)
				}
				if sm := column(t, tbl, "small").(*array.Int16); sm.Value(0) != 7 {
					t.Fatalf("small %v", sm)
				}
				tags := column(t, tbl, "tags").(*array.List)
				vals := tags.ListValues().(*array.String)
				if tags.Len() != 3 || vals.Len() != 2 || vals.Value(0) != "a" || vals.Value(1) != "b" || !tags.IsNull(2) {
					t.Fatalf("tags %v", tags)
				}
				if s, e := tags.ValueOffsets(1); s != e {
					t.Fatalf("row 2 tags should be empty, got %d..%d", s, e)
				}
				attrs := column(t, tbl, "attrs").(*array.Map)
				keys, items := attrs.Keys().(*array.String), attrs.Items().(*array.Int32)
				if keys.Len() != 2 || keys.Value(0) != "x" || items.Value(1) != 2 {
					t.Fatalf("attrs %v", attrs)
				}
				geo := column(t, tbl, "geo").(*array.Struct)
				var lat *array.Float64
				var city *array.String
				st := geo.DataType().(*arrow.StructType)
				for i := 0; i < st.NumFields(); i++ {
					switch st.Field(i).Name {
					case "lat":
						lat = geo.Field(i).(*array.Float64)
					case "city":
						city = geo.Field(i).(*array.String)
					}
				}
				if lat.Value(0) != 1.25 || city.Value(0) != "Oslo" || !geo.IsNull(2) {
					t.Fatalf("geo %v", geo)
				}
				// dots to underscores: "geo.city" became geo_city, no column: ignored
				if geo.IsNull(1) == false {
					t.Fatalf("row 2 geo should be null: %v", geo)
				}
			})
		}
	}
}

func TestHiveSerDeRules(t *testing.T) {
	cols := []Column{{"n", "int"}, {"s", "string"}, {"ts", "timestamp"}}
	c, err := NewConverter(cols, Deserializer{Hive: true, TimestampFormats: []string{"yyyy-MM-dd'T'HH:mm:ss", "millis"}}, ParquetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	recs := [][]byte{
		[]byte(`{"n":1,"s":"x","ts":"2024-03-01T10:20:30"}`),
		[]byte(`{"n":2,"ts":1700000000123}`),
		[]byte(`{"n":"3"}`),                    // numbers as strings: rejected by the Hive SerDe
		[]byte(`{"s":{"a":1}}`),                // nested object into a string: rejected
		[]byte(`{"ts":"2024-03-01 10:20:30"}`), // not in the formats
	}
	data, rows, fails, err := c.Convert(recs)
	if err != nil {
		t.Fatal(err)
	}
	if rows != 2 || len(fails) != 3 {
		t.Fatalf("rows %d fails %+v", rows, fails)
	}
	tbl := readArrow(t, data)
	ts := column(t, tbl, "ts").(*array.Timestamp)
	if ts.Value(0) != 1709288430000 || ts.Value(1) != 1700000000123 {
		t.Fatalf("ts %v", ts)
	}
	// OpenX accepts both and stringifies nested values.
	c2, _ := NewConverter(cols, Deserializer{CaseInsensitive: true}, ParquetOptions{})
	data, rows, fails, err = c2.Convert(recs[2:])
	if err != nil || rows != 3 || len(fails) != 0 {
		t.Fatalf("openx: rows %d fails %+v err %v", rows, fails, err)
	}
	tbl = readArrow(t, data)
	if s := column(t, tbl, "s").(*array.String); s.Value(1) != `{"a":1}` {
		t.Fatalf("stringified %q", s.Value(1))
	}
}

func TestColumnMappingsAndCase(t *testing.T) {
	c, err := NewConverter([]Column{{"user_id", "bigint"}, {"Kind", "string"}}, Deserializer{CaseInsensitive: true, Mappings: map[string]string{"user_id": "user-id"}}, ParquetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	data, rows, _, err := c.Convert([][]byte{[]byte(`{"user-id":42,"KIND":"click"}`)})
	if err != nil || rows != 1 {
		t.Fatal(rows, err)
	}
	tbl := readArrow(t, data)
	if v := column(t, tbl, "user_id").(*array.Int64).Value(0); v != 42 {
		t.Fatalf("mapped column %d", v)
	}
	if v := column(t, tbl, "kind").(*array.String).Value(0); v != "click" {
		t.Fatalf("case-insensitive %q", v)
	}
	// case-sensitive OpenX leaves KIND unmatched
	c2, _ := NewConverter([]Column{{"kind", "string"}}, Deserializer{CaseInsensitive: false}, ParquetOptions{})
	data, _, _, _ = c2.Convert([][]byte{[]byte(`{"KIND":"click"}`)})
	if !column(t, readArrow(t, data), "kind").IsNull(0) {
		t.Fatal("case-sensitive match")
	}
}

func TestParseTypeErrors(t *testing.T) {
	for _, s := range []string{"", "int<", "map<array<int>,int>", "decimal(40,2)", "struct<>", "uniontype<int,string>", "array<int", "varchar", "int extra"} {
		if _, err := ParseType(s); err == nil {
			t.Errorf("ParseType(%q) accepted", s)
		}
	}
	if ty, err := ParseType("array< struct< a : map<string, decimal(5,1)> > >"); err != nil || ty.Elem.Fields[0].Type.Val.Scale != 1 {
		t.Fatalf("%+v %v", ty, err)
	}
}

func TestRowGroupsBySize(t *testing.T) {
	c, _ := NewConverter([]Column{{"s", "string"}}, Deserializer{CaseInsensitive: true}, ParquetOptions{BlockSize: 1000})
	var recs [][]byte
	for i := 0; i < 100; i++ {
		recs = append(recs, []byte(`{"s":"`+strings.Repeat("x", 90)+`"}`))
	}
	data, _, _, err := c.Convert(recs)
	if err != nil {
		t.Fatal(err)
	}
	pf, err := file.NewParquetReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if n := pf.NumRowGroups(); n < 9 {
		t.Fatalf("%d row groups for 10 KB of rows with 1000-byte blocks", n)
	}
}
