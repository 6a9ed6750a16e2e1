package iceberg

import (
	"context"
	"errors"
	"fmt"

	"github.com/apache/iceberg-go/table"

	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/firehose/fhdest"
)

// Error codes of Iceberg error records (Eddy's names; AWS documents only
// some of its codes).
const (
	CodeInvalidRecord = "Iceberg.InvalidRecord"   // not JSON or does not fit the schema (permanent)
	CodeTableNotFound = "Iceberg.TableNotFound"   // the database or table is not in the catalog
	CodeNotIceberg    = "Iceberg.NotIcebergTable" // the Glue table has no ICEBERG parameters
	CodeCommitFailed  = "Iceberg.CommitFailed"    // S3 or catalog failure while writing or committing
)

// requestIDProp is the snapshot summary property holding the Firehose
// request id of the buffer a snapshot appended: a retry of a buffer whose
// commit succeeded (a restart between commit and checkpoint) finds it and
// does not append the rows twice.
const requestIDProp = "eddy.firehose.request-id"

// dedupDepth is how many recent snapshots are searched for a request id.
const dedupDepth = 64

// Destination delivers every record of a batch to one table.
type Destination struct {
	Catalog  *Catalog
	Database string
	Table    string
}

var _ fhdest.Destination = (*Destination)(nil)

// Close implements fhdest.Destination.
func (d *Destination) Close() error { return nil }

// Deliver implements fhdest.Destination: one append snapshot with every
// record that fits the schema; the others fail permanently.
func (d *Destination) Deliver(ctx context.Context, b *fhdest.Batch) []fhdest.Failure {
	rows := make([][]byte, len(b.Records))
	for i, r := range b.Records {
		rows[i] = r.Data
	}
	bad, err := d.Catalog.appendOnce(ctx, d.Database, d.Table, rows, b.RequestID)
	if err != nil {
		code := CodeCommitFailed
		var ae *awserr.Error
		var ni *NotIcebergError
		switch {
		case errors.As(err, &ae) && ae.Type == "EntityNotFoundException":
			code = CodeTableNotFound
		case errors.As(err, &ni):
			code = CodeNotIceberg
		}
		return fhdest.AllFailed(b, code, fmt.Sprintf("%s.%s: %v", d.Database, d.Table, err), false)
	}
	out := make([]fhdest.Failure, 0, len(bad))
	for _, r := range bad {
		out = append(out, fhdest.Failure{Index: r.Index, Code: CodeInvalidRecord, Message: r.Err.Error(), Permanent: true})
	}
	return out
}

// appendOnce is Append that skips a buffer a recent snapshot already holds.
func (c *Catalog) appendOnce(ctx context.Context, db, name string, rows [][]byte, requestID string) ([]RowError, error) {
	if requestID != "" {
		tbl, err := c.LoadTable(ctx, table.Identifier{db, name})
		if err != nil {
			return nil, err
		}
		if committed(tbl, requestID) {
			// The rows are in the table; only their conversion errors are
			// still to report, and those do not depend on the commit.
			sc := tbl.Schema()
			asc, err := table.SchemaToArrowSchema(sc, nil, true, false)
			if err != nil {
				return nil, err
			}
			rec, bad := convert(asc, sc, rows)
			if rec != nil {
				rec.Release()
			}
			return bad, nil
		}
	}
	return c.appendProps(ctx, db, name, rows, map[string]string{requestIDProp: requestID})
}

// committed reports whether one of the table's recent snapshots appended
// the buffer requestID.
func committed(tbl *table.Table, requestID string) bool {
	s := tbl.CurrentSnapshot()
	meta := tbl.Metadata()
	for i := 0; s != nil && i < dedupDepth; i++ {
		if s.Summary != nil && s.Summary.Properties[requestIDProp] == requestID {
			return true
		}
		if s.ParentSnapshotID == nil {
			return false
		}
		s = meta.SnapshotByID(*s.ParentSnapshotID)
	}
	return false
}
