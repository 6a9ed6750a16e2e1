// Package format turns source records into typed column batches for the
// analytics engine, and emitted rows back into output records.
//
// Decoding is schema-driven and single-pass: NewJSON compiles the
// RecordColumns' JSONPath mappings into a trie of field names; Decode walks
// a record once, notes where each mapped value lies (no copies, no maps of
// values), then coerces those spans straight into the batch's typed
// vectors. Strings of low-cardinality columns are interned per decoder, so
// steady-state decoding allocates nothing per record.
//
// Supported JSONPath subset (AWS's): `$.a`, `$.a.b.c`, `$.arr[0:]` (the
// whole array as text), `$.arr[0:].x` (one row per element; other columns
// repeat; at most one such array per schema). Missing paths give NULL;
// paths are case-sensitive.
//
// Coercion (AWS's rules for SQL applications): null → NULL; booleans → 1/0
// into numbers, 'true'/'false' into strings, error into datetimes; numbers
// that do not fit an integer column are errors; strings are parsed for
// numeric and datetime columns ("true" in any case is TRUE for BOOLEAN,
// anything else FALSE); strings longer than VARCHAR(n) are truncated to n
// characters; arrays and objects go only into VARCHAR, as their source text.
package format

import (
	"fmt"

	"github.com/eddy-streams/eddy/internal/analytics/exec"
)

// ColumnSpec is one RecordColumn.
type ColumnSpec struct {
	Name    string
	SQLType string
	Mapping string // JSONPath for JSON; unused for CSV
}

// Columns parses the specs' types.
func Columns(specs []ColumnSpec) ([]exec.Column, error) {
	out := make([]exec.Column, len(specs))
	for i, s := range specs {
		t, size, scale, err := ParseSQLType(s.SQLType)
		if err != nil {
			return nil, fmt.Errorf("column %s: %w", s.Name, err)
		}
		out[i] = exec.Column{Name: s.Name, Type: t, Size: size, Scale: scale}
	}
	return out, nil
}

// Decoder parses records into rows of a batch.
type Decoder interface {
	// Decode appends the rows of one record to b (whose Cols match the
	// schema). On error nothing is appended and the error says why.
	Decode(rec []byte, b *exec.Batch) (rows int, err error)
	// Columns are the decoded columns.
	Columns() []exec.Column
}

// NewBatch makes an empty batch for cols.
func NewBatch(cols []exec.Column) *exec.Batch {
	b := &exec.Batch{Cols: make([]exec.Vector, len(cols))}
	for i, c := range cols {
		b.Cols[i].Type = c.Type
	}
	return b
}

// Reset empties b, keeping its capacity.
func Reset(b *exec.Batch) {
	b.Len = 0
	b.RowTime = b.RowTime[:0]
	for i := range b.Cols {
		v := &b.Cols[i]
		v.Null = v.Null[:0]
		v.I64 = v.I64[:0]
		v.F64 = v.F64[:0]
		v.Str = v.Str[:0]
		v.Bin = v.Bin[:0]
	}
	b.ApproximateArrivalTime = b.ApproximateArrivalTime[:0]
	b.PartitionKey = b.PartitionKey[:0]
	b.ShardID = b.ShardID[:0]
	b.SequenceNumber = b.SequenceNumber[:0]
}

// Truncate drops rows from n on (undoing a partly decoded record).
func Truncate(b *exec.Batch, n int) {
	b.Len = n
	for i := range b.Cols {
		v := &b.Cols[i]
		if len(v.Null) > n {
			v.Null = v.Null[:n]
		}
		if len(v.I64) > n {
			v.I64 = v.I64[:n]
		}
		if len(v.F64) > n {
			v.F64 = v.F64[:n]
		}
		if len(v.Str) > n {
			v.Str = v.Str[:n]
		}
		if len(v.Bin) > n {
			v.Bin = v.Bin[:n]
		}
	}
}

// Finish drops all-false Null vectors (the contract: Null is nil when the
// vector holds no NULL). Call once the batch is complete.
func Finish(b *exec.Batch) {
	for i := range b.Cols {
		v := &b.Cols[i]
		any := false
		for _, n := range v.Null {
			if n {
				any = true
				break
			}
		}
		if !any {
			v.Null = v.Null[:0]
			if len(v.Null) == 0 {
				v.Null = nil
			}
		}
	}
}
