package iceberg

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	iceberggo "github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"
)

// RowError is a record that does not fit the table's schema.
type RowError struct {
	Index int // into the rows given to Append
	Err   error
}

// Append converts rows (JSON objects) to table db.name's current schema
// and commits them as one append snapshot. Rows that do not convert are
// returned (and not written); err is a catalog, S3 or commit failure, after
// which nothing was committed and every row may be retried.
//
// Conversion follows AWS's rules for Iceberg destinations: top-level JSON
// members map to columns by name, members without a column are ignored, a
// missing member is null (a row missing a required column fails), and a
// value of the wrong type fails the row.
func (c *Catalog) Append(ctx context.Context, db, name string, rows [][]byte) ([]RowError, error) {
	return c.appendProps(ctx, db, name, rows, nil)
}

func (c *Catalog) appendProps(ctx context.Context, db, name string, rows [][]byte, props map[string]string) ([]RowError, error) {
	tbl, err := c.LoadTable(ctx, table.Identifier{db, name})
	if err != nil {
		return nil, err
	}
	sc := tbl.Schema()
	asc, err := table.SchemaToArrowSchema(sc, nil, true, false)
	if err != nil {
		return nil, fmt.Errorf("table %s.%s: arrow schema: %w", db, name, err)
	}
	rec, bad := convert(asc, sc, rows)
	if rec == nil {
		return bad, nil
	}
	defer rec.Release()
	rdr, err := array.NewRecordReader(asc, []arrow.RecordBatch{rec})
	if err != nil {
		return nil, err
	}
	defer rdr.Release()
	tx := tbl.NewTransaction()
	if err := tx.Append(ctx, rdr, iceberggo.Properties(props)); err != nil {
		return nil, fmt.Errorf("write data files: %w", err)
	}
	if _, err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("commit: %w", err)
	}
	return bad, nil
}

// convert builds one record batch of the rows that fit the schema.
func convert(asc *arrow.Schema, sc *iceberggo.Schema, rows [][]byte) (arrow.RecordBatch, []RowError) {
	b := array.NewRecordBuilder(memory.DefaultAllocator, asc)
	defer b.Release()
	var required []string
	for _, f := range sc.Fields() {
		if f.Required {
			required = append(required, f.Name)
		}
	}
	var bad []RowError
	n := 0
	for i, row := range rows {
		if err := convertRow(b, required, row); err != nil {
			bad = append(bad, RowError{Index: i, Err: err})
			continue
		}
		n++
	}
	if n == 0 {
		return nil, bad
	}
	return b.NewRecordBatch(), bad
}

func convertRow(b *array.RecordBuilder, required []string, row []byte) error {
	row = bytes.TrimSpace(row)
	if len(row) == 0 || row[0] != '{' {
		return errors.New("the record is not a JSON object")
	}
	if len(required) > 0 {
		var top map[string]json.RawMessage
		if err := json.Unmarshal(row, &top); err != nil {
			return fmt.Errorf("the record is not valid JSON: %w", err)
		}
		for _, r := range required {
			if v, ok := top[r]; !ok || string(v) == "null" {
				return fmt.Errorf("required column %s is missing", r)
			}
		}
	}
	if err := b.UnmarshalJSON(row); err != nil {
		return fmt.Errorf("the record does not match the table schema: %w", err)
	}
	return nil
}
