package convert

import (
	"bytes"
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
