package convert

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"
)

// FuzzRow checks that any record either converts to a row that a Parquet
// writer accepts and reads back, or fails with a RecordError; never a panic.
func FuzzRow(f *testing.F) {
	f.Add([]byte(`{"id":1,"tags":["a"],"attrs":{"k":1},"geo":{"lat":1}}`))
	f.Add([]byte(`{"price":"1e400","big":"-0.00005","ts":"x"}`))
	f.Add([]byte(`{"attrs":{"":null},"tags":[null,null],"geo":[]}`))
	f.Add([]byte(`nul`))
	s, err := NewSchema(testCols, true)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, rec []byte) {
		for _, d := range []*Deserializer{{CaseInsensitive: true, DotsToUnderscores: true}, {Hive: true}} {
			row, err := s.Row(d, rec)
			if err != nil {
				if _, ok := err.(*RecordError); !ok {
					t.Fatalf("error of type %T", err)
				}
				continue
			}
			var buf bytes.Buffer
			w := parquet.NewWriter(&buf, s.Parquet())
			if _, err := w.WriteRows([]parquet.Row{row}); err != nil {
				t.Fatalf("writer refused row from %q: %v", rec, err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			pf, err := parquet.OpenFile(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
			if err != nil || pf.NumRows() != 1 {
				t.Fatalf("read back: %v", err)
			}
		}
	})
}

// FuzzDecodeJSON checks DecodeJSON against encoding/json: the same values
// for every document encoding/json accepts, an error for every other.
func FuzzDecodeJSON(f *testing.F) {
	for _, s := range []string{`{"a":[1,2.5e3,"x\u00e9\ud83d\ude00"],"b":{"c":null,"d":true}}`, `"\ud800x"`, " [] ",
		`{"a":1}}`, `1e400`, `[1e-400, 123456789012345678901234567890]`, `{"a":-1E+999}`, `-0.0E+1`, `"\xff\xfe"`, `{"a":1,"a":2}`, `[1,]`, `tru`, `"\u12"`, "\"\t\"", `{"x":{}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, useNumber := range []bool{false, true} {
			var want any
			dec := json.NewDecoder(bytes.NewReader(b))
			if useNumber {
				dec.UseNumber()
			}
			werr := dec.Decode(&want)
			if werr == nil && !json.Valid(b) {
				werr = errors.New("not valid")
			}
			got, err := DecodeJSON(b, useNumber)
			if (err == nil) != (werr == nil) {
				t.Fatalf("useNumber %v: %q: DecodeJSON error %v, encoding/json error %v", useNumber, b, err, werr)
			}
			if err == nil && !reflect.DeepEqual(got, want) {
				t.Fatalf("useNumber %v: %q: DecodeJSON %#v, encoding/json %#v", useNumber, b, got, want)
			}
			if verr := ValidJSON(b); !useNumber && (verr == nil) != (err == nil) {
				t.Fatalf("%q: ValidJSON %v, DecodeJSON %v", b, verr, err)
			}
		}
	})
}

// FuzzRowReference checks the hot-path row builder (Schema.Row) against
// rowReference, written with encoding/json: for every record, the same row
// or the same failure (code, and message for values that do not fit), for
// OpenX (case-insensitive or not, dots to underscores, column mappings) and
// Hive (with and without timestamp formats), nested and flat schemas.
func FuzzRowReference(f *testing.F) {
	for _, s := range []string{
		`{"id":1,"tags":["a"],"attrs":{"k":1},"geo":{"lat":1,"City":"x"}}`,
		`{"ID":"7","Name":"a\u00e9","price":"12.345","ts":"2024-03-01T10:20:30.5Z","day":"2024-1-2","ok":"true","score":"1.5","small":7}`,
		`{"id":9223372036854775808,"ts":1700000000123,"price":1e400,"name":{"b":1,"a":[true]},"geo.city":"dot"}`,
		`{"i":1,"t":127,"f":3.5e38,"v":"abcdef","c":"\ud83d\ude00\ud83d\ude00\ud83d\ude00\ud83d\ude00","b":"x","bin":12,"ts":"2024-03-01 10:20:30","d":-5,"dec":"-0.005","u.id":"m"}`,
		`{"tags":[],"attrs":{}}`, `{"tags":[null,"a",1,true,{"x":1},["y"]]}`, `{"tags": [ "a" , "b" ] ,"geo":null}`, `{"tags":"a"}`,
		`{"id":1,"id":2}`, `{"id":1} `, `{"id":1}}`, `[{"id":1}]`, `{"id":1,}`, `{"ts":"1700000000","n":null}`,
	} {
		f.Add([]byte(s))
	}
	nested, err := NewSchema(testCols, true)
	if err != nil {
		f.Fatal(err)
	}
	flat, err := NewSchema([]Column{{"i", "int"}, {"t", "tinyint"}, {"f", "float"}, {"v", "varchar(3)"}, {"c", "char(2)"},
		{"b", "boolean"}, {"bin", "binary"}, {"ts", "timestamp"}, {"d", "date"}, {"dec", "decimal(5,3)"}, {"u_id", "string"},
		{"ident", "bigint"}, {"n", "double"}}, false)
	if err != nil {
		f.Fatal(err)
	}
	des := []*Deserializer{
		{CaseInsensitive: true, DotsToUnderscores: true},
		{CaseInsensitive: false},
		{CaseInsensitive: true, Mappings: map[string]string{"ident": "i", "name": "user.Name", "ts": "T"}},
		{Hive: true},
		{Hive: true, TimestampFormats: []string{"yyyy-MM-dd'T'HH:mm:ss", "millis"}},
	}
	for _, d := range des {
		if err := d.prepare(); err != nil {
			f.Fatal(err)
		}
	}
	f.Fuzz(func(t *testing.T, rec []byte) {
		var doc any
		_ = json.Unmarshal(rec, &doc)
		for _, s := range []*Schema{nested, flat} {
			for _, d := range des {
				if keysCollide(doc, d) {
					continue // the reference's map order decides: no single answer
				}
				want, werr := s.rowReference(d, rec)
				got, err := s.Row(d, rec)
				if (err == nil) != (werr == nil) {
					t.Fatalf("%+v: %q: Row error %v, reference error %v", d, rec, err, werr)
				}
				if err != nil {
					g, w := err.(*RecordError), werr.(*RecordError)
					if g.Code != w.Code || g.Code == CodeMalformedData && g.Message != w.Message {
						t.Fatalf("%+v: %q: Row error %v, reference error %v", d, rec, err, werr)
					}
					continue
				}
				if !got.Equal(want) {
					t.Fatalf("%+v: %q:\nRow       %v\nreference %v", d, rec, got, want)
				}
			}
		}
	})
}

// keysCollide reports whether two keys of one object in v are the same
// after the SerDe's normalisation.
func keysCollide(v any, d *Deserializer) bool {
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			if keysCollide(e, d) {
				return true
			}
		}
	case map[string]any:
		seen := map[string]bool{}
		for k, e := range x {
			n := k
			if !d.Hive && d.DotsToUnderscores {
				n = strings.ReplaceAll(n, ".", "_")
			}
			if d.Hive || d.CaseInsensitive {
				n = strings.ToLower(n)
			}
			if seen[n] || keysCollide(e, d) {
				return true
			}
			seen[n] = true
		}
	}
	return false
}
