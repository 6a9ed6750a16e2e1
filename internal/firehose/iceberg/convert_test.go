package iceberg

import (
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"

	iceberggo "github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"
)

// TestConvertTypes: which JSON forms each Iceberg type accepts (the
// compat notes list them), and that an RFC 3339 timestamp lands as the
// right instant.
func TestConvertTypes(t *testing.T) {
	sc := iceberggo.NewSchema(0,
		iceberggo.NestedField{ID: 1, Name: "i", Type: iceberggo.PrimitiveTypes.Int32},
		iceberggo.NestedField{ID: 2, Name: "ts", Type: iceberggo.PrimitiveTypes.TimestampTz},
		iceberggo.NestedField{ID: 3, Name: "t", Type: iceberggo.PrimitiveTypes.Timestamp},
		iceberggo.NestedField{ID: 4, Name: "d", Type: iceberggo.PrimitiveTypes.Date},
		iceberggo.NestedField{ID: 5, Name: "dec", Type: iceberggo.DecimalTypeOf(10, 2)},
		iceberggo.NestedField{ID: 6, Name: "l", Type: &iceberggo.ListType{ElementID: 7, Element: iceberggo.PrimitiveTypes.String, ElementRequired: false}},
		iceberggo.NestedField{ID: 8, Name: "s", Type: &iceberggo.StructType{FieldList: []iceberggo.NestedField{{ID: 9, Name: "x", Type: iceberggo.PrimitiveTypes.Float32}}}},
		iceberggo.NestedField{ID: 10, Name: "u", Type: iceberggo.PrimitiveTypes.UUID},
	)
	asc, err := table.SchemaToArrowSchema(sc, nil, true, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		row string
		ok  bool
	}{
		{`{"i":5}`, true}, {`{"i":"5"}`, true}, {`{"i":5000000000}`, false},
		{`{"ts":"2024-11-28T11:30:00Z"}`, true}, {`{"ts":"2024-11-28 11:30:00"}`, false}, {`{"ts":1732793400000000}`, true},
		{`{"t":"2024-11-28T11:30:00"}`, true}, {`{"d":"2024-11-28"}`, true},
		{`{"dec":12.34}`, true}, {`{"dec":"12.34"}`, true}, {`{"l":["a","b"]}`, true}, {`{"l":"a"}`, false},
		{`{"s":{"x":1.5}}`, true}, {`{"u":"123e4567-e89b-12d3-a456-426614174000"}`, true},
	} {
		rec, bad := convert(asc, sc, [][]byte{[]byte(c.row)})
		if (rec != nil) != c.ok {
			t.Errorf("%s: converted %v, want %v (%v)", c.row, rec != nil, c.ok, bad)
		}
		if rec != nil {
			if c.row == `{"ts":"2024-11-28T11:30:00Z"}` {
				if v := rec.Column(1).(*array.Timestamp).Value(0); int64(v) != 1732793400000000 {
					t.Errorf("timestamp %d µs", v)
				}
			}
			rec.Release()
		}
	}
}
