package iceberg

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	iceberggo "github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"
)

// Row is one record bound for a table, with its operation.
type Row struct {
	Data []byte
	Op   string // OpInsert, OpUpdate or OpDelete
}

// RowError is a record that was not written.
type RowError struct {
	Index int // into the rows given to Write
	Code  string
	Err   error
}

// Append inserts rows (JSON objects) into table db.name.
func (c *Catalog) Append(ctx context.Context, db, name string, rows [][]byte) ([]RowError, error) {
	rs := make([]Row, len(rows))
	for i, r := range rows {
		rs[i] = Row{Data: r, Op: OpInsert}
	}
	return c.Write(ctx, db, name, rs, nil, "")
}

// Write applies rows to table db.name's current schema in one transaction:
// the keys of updated and deleted rows become equality deletes (on
// uniqueKeys, or the schema's identifier fields when none are given), then
// inserted and updated rows are appended as Parquet data files. Within the
// batch a later update or delete of a key replaces an earlier insert or
// update of it. Rows that cannot be written are returned; err is a
// catalog, S3 or commit failure, after which nothing was committed and
// every row may be retried. A non-empty requestID already recorded by a
// recent snapshot means the rows were committed before: nothing is written
// again.
//
// Conversion follows AWS's rules for Iceberg destinations: top-level JSON
// members map to columns by name, members without a column are ignored, a
// missing member is null (a row missing a required column fails), and a
// value of the wrong type fails the row.
//
// A commit that loses a race with another writer (Glue's version check:
// iceberg-go's ErrCommitFailed) is redone on the table's fresh metadata, up
// to commitAttempts times; iceberg-go itself does not retry by default.
func (c *Catalog) Write(ctx context.Context, db, name string, rows []Row, uniqueKeys []string, requestID string) ([]RowError, error) {
	for attempt := 1; ; attempt++ {
		bad, err := c.writeOnce(ctx, db, name, rows, uniqueKeys, requestID)
		if err == nil || !errors.Is(err, table.ErrCommitFailed) || attempt == commitAttempts || ctx.Err() != nil {
			return bad, err
		}
	}
}

// commitAttempts bounds the redo of a commit that lost a race.
const commitAttempts = 16

func (c *Catalog) writeOnce(ctx context.Context, db, name string, rows []Row, uniqueKeys []string, requestID string) ([]RowError, error) {
	tbl, err := c.LoadTable(ctx, table.Identifier{db, name})
	if err != nil {
		return nil, err
	}
	sc := tbl.Schema()
	asc, err := table.SchemaToArrowSchema(sc, nil, true, false)
	if err != nil {
		return nil, fmt.Errorf("table %s.%s: arrow schema: %w", db, name, err)
	}
	p, bad := plan(sc, asc, rows, uniqueKeys)
	if requestID != "" && committed(tbl, requestID) {
		return bad, nil
	}
	props := iceberggo.Properties{}
	if requestID != "" {
		props[requestIDProp] = requestID
	}
	tx := tbl.NewTransaction()
	changed := false
	if p.deletes != nil {
		if err := tx.CommitEqualityDeletes(ctx, p.keyIDs, one(p.deletes), props); err != nil {
			p.release()
			return nil, fmt.Errorf("write equality deletes: %w", err)
		}
		changed = true
	}
	if p.inserts != nil {
		rdr, err := array.NewRecordReader(asc, []arrow.RecordBatch{p.inserts})
		if err != nil {
			p.release()
			return nil, err
		}
		err = tx.Append(ctx, rdr, props)
		rdr.Release()
		if err != nil {
			p.release()
			return nil, fmt.Errorf("write data files: %w", err)
		}
		changed = true
	}
	p.release()
	if !changed {
		return bad, nil
	}
	if _, err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("commit: %w", err)
	}
	return bad, nil
}

func one(rec arrow.RecordBatch) iter.Seq2[arrow.RecordBatch, error] {
	return func(yield func(arrow.RecordBatch, error) bool) { yield(rec, nil) }
}

// writePlan is what one batch writes to a table.
type writePlan struct {
	inserts arrow.RecordBatch // nil: none
	deletes arrow.RecordBatch // key columns; nil: none
	keyIDs  []int
}

func (p *writePlan) release() {
	if p.inserts != nil {
		p.inserts.Release()
	}
	if p.deletes != nil {
		p.deletes.Release()
	}
}

// plan converts rows: the surviving inserts in order, and one key row per
// updated or deleted key.
func plan(sc *iceberggo.Schema, asc *arrow.Schema, rows []Row, uniqueKeys []string) (*writePlan, []RowError) {
	var bad []RowError
	p := &writePlan{}
	needKeys := false
	for _, r := range rows {
		if r.Op != OpInsert {
			needKeys = true
		}
	}
	var keyNames []string
	var keyErr error
	if needKeys {
		keyNames, p.keyIDs, keyErr = keyFields(sc, uniqueKeys)
	}
	// Decide which rows survive: a later update/delete of a key drops the
	// earlier insert or update of the same key in this batch.
	type keyed struct {
		key string
		ok  bool
	}
	keys := make([]keyed, len(rows))
	live := make([]bool, len(rows))
	lastWrite := map[string]int{}
	deleteRow := map[string]int{}
	var deleteOrder []string
	for i, r := range rows {
		if r.Op == OpInsert && !needKeys {
			live[i] = true
			continue
		}
		if keyErr != nil && r.Op != OpInsert {
			bad = append(bad, RowError{Index: i, Code: CodeInvalidUniqueKeys, Err: keyErr})
			continue
		}
		k, err := keyOf(r.Data, keyNames)
		if err != nil {
			if r.Op == OpInsert {
				live[i] = true // an insert needs no key; conversion reports bad JSON
				continue
			}
			bad = append(bad, RowError{Index: i, Code: CodeInvalidRecord, Err: err})
			continue
		}
		keys[i] = keyed{k, true}
		if r.Op != OpInsert {
			if j, ok := lastWrite[k]; ok {
				live[j] = false
			}
			if _, ok := deleteRow[k]; !ok {
				deleteOrder = append(deleteOrder, k)
			}
			deleteRow[k] = i
		}
		if r.Op != OpDelete {
			live[i] = true
			lastWrite[k] = i
		}
	}
	// Inserts.
	var ins [][]byte
	var insIdx []int
	for i, r := range rows {
		if live[i] {
			ins = append(ins, r.Data)
			insIdx = append(insIdx, i)
		}
	}
	if len(ins) > 0 {
		rec, cbad := convert(asc, sc, ins)
		p.inserts = rec
		for _, e := range cbad {
			bad = append(bad, RowError{Index: insIdx[e.Index], Code: CodeInvalidRecord, Err: e.Err})
		}
	}
	// Equality delete keys.
	if len(deleteOrder) > 0 {
		kfields := make([]arrow.Field, len(keyNames))
		for i, n := range keyNames {
			j := asc.FieldIndices(n)
			kfields[i] = asc.Field(j[0])
		}
		ksc := arrow.NewSchema(kfields, nil)
		kb := array.NewRecordBuilder(memory.DefaultAllocator, ksc)
		n := 0
		for _, k := range deleteOrder {
			i := deleteRow[k]
			if err := kb.UnmarshalJSON(rows[i].Data); err != nil {
				bad = append(bad, RowError{Index: i, Code: CodeInvalidRecord, Err: fmt.Errorf("the key columns do not match the table schema: %w", err)})
				continue
			}
			n++
		}
		if n > 0 {
			p.deletes = kb.NewRecordBatch()
		}
		kb.Release()
	}
	return p, bad
}

// keyFields resolves the unique keys (or the schema's identifier fields).
func keyFields(sc *iceberggo.Schema, uniqueKeys []string) ([]string, []int, error) {
	if len(uniqueKeys) == 0 {
		for _, id := range sc.IdentifierFieldIDs {
			f, ok := sc.FindFieldByID(id)
			if !ok {
				return nil, nil, fmt.Errorf("identifier field %d is not in the schema", id)
			}
			uniqueKeys = append(uniqueKeys, f.Name)
		}
	}
	if len(uniqueKeys) == 0 {
		return nil, nil, errors.New("update and delete need UniqueKeys in the DestinationTableConfiguration or identifier fields in the table schema")
	}
	ids := make([]int, len(uniqueKeys))
	for i, k := range uniqueKeys {
		f, ok := sc.FindFieldByName(k)
		if !ok || strings.Contains(k, ".") {
			return nil, nil, fmt.Errorf("the configured unique keys for the table do not match with the fields present in the schema: %s", k)
		}
		ids[i] = f.ID
	}
	return uniqueKeys, ids, nil
}

// keyOf is the raw JSON of the key members, joined.
func keyOf(row []byte, keyNames []string) (string, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(row, &top); err != nil {
		return "", fmt.Errorf("the record is not a JSON object: %v", err)
	}
	var b strings.Builder
	for _, k := range keyNames {
		v, ok := top[k]
		if !ok || string(v) == "null" {
			return "", fmt.Errorf("unique key %s is missing", k)
		}
		b.Write(bytes.TrimSpace(v))
		b.WriteByte(0)
	}
	return b.String(), nil
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
			bad = append(bad, RowError{Index: i, Code: CodeInvalidRecord, Err: err})
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
