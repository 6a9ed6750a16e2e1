package iceberg

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/apache/iceberg-go/table"
	"github.com/itchyny/gojq"

	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/firehose/fhdest"
)

// Error codes of Iceberg error records. Iceberg.InvalidUniqueKeys is AWS's;
// the others are Eddy's names (AWS does not document its full list).
const (
	CodeInvalidRecord     = "Iceberg.InvalidRecord"     // not JSON or does not fit the schema (permanent)
	CodeRoutingFailed     = "Iceberg.RoutingFailed"     // the routing query gave no table or an unknown operation (permanent)
	CodeInvalidUniqueKeys = "Iceberg.InvalidUniqueKeys" // update/delete without usable unique keys (permanent)
	CodeTableNotFound     = "Iceberg.TableNotFound"     // the database or table is not in the catalog
	CodeNotIceberg        = "Iceberg.NotIcebergTable"   // the Glue table has no ICEBERG parameters
	CodeCommitFailed      = "Iceberg.CommitFailed"      // S3 or catalog failure while writing or committing
)

// Operations a record can ask for (AWS's values of "operation").
const (
	OpInsert = "insert"
	OpUpdate = "update"
	OpDelete = "delete"
)

// requestIDProp is the snapshot summary property holding the Firehose
// request id of the buffer a snapshot came from: a retry of a buffer whose
// commit succeeded (a restart between commit and checkpoint) finds it and
// does not apply the rows twice.
const requestIDProp = "eddy.firehose.request-id"

// dedupDepth is how many recent snapshots are searched for a request id.
const dedupDepth = 64

// TableConfig is one DestinationTableConfiguration.
type TableConfig struct {
	Database, Table   string
	UniqueKeys        []string
	ErrorOutputPrefix string // S3ErrorOutputPrefix: where this table's failed records go
}

// Destination delivers a batch to its tables.
//
// Routing follows AWS: with a MetadataExtractionQuery (JQ), each record's
// destinationDatabaseName, destinationTableName and operation come from
// the query's result object; members the query does not give fall back to
// the single configured table (if exactly one is configured) and to
// "insert". Without a query every record is an insert into the single
// configured table.
type Destination struct {
	Catalog *Catalog
	Tables  []TableConfig
	Query   *gojq.Code // nil: no routing query
}

var _ fhdest.Destination = (*Destination)(nil)

// ParseQuery compiles a MetadataExtractionQuery.
func ParseQuery(q string) (*gojq.Code, error) {
	parsed, err := gojq.Parse(q)
	if err != nil {
		return nil, fmt.Errorf("MetadataExtractionQuery: %w", err)
	}
	code, err := gojq.Compile(parsed)
	if err != nil {
		return nil, fmt.Errorf("MetadataExtractionQuery: %w", err)
	}
	return code, nil
}

// Close implements fhdest.Destination.
func (d *Destination) Close() error { return nil }

type route struct{ db, table, op string }

func (d *Destination) route(ctx context.Context, data []byte) (route, error) {
	var r route
	if len(d.Tables) == 1 {
		r.db, r.table = d.Tables[0].Database, d.Tables[0].Table
	}
	r.op = OpInsert
	if d.Query == nil {
		return r, nil
	}
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		return r, fmt.Errorf("the record is not valid JSON: %v", err)
	}
	out, ok := d.Query.RunWithContext(ctx, v).Next()
	if !ok {
		return r, errors.New("the MetadataExtractionQuery returned no value")
	}
	if err, isErr := out.(error); isErr {
		return r, fmt.Errorf("the MetadataExtractionQuery failed: %v", err)
	}
	m, isObj := out.(map[string]any)
	if !isObj {
		return r, errors.New("the MetadataExtractionQuery did not return an object")
	}
	for k, dst := range map[string]*string{"destinationDatabaseName": &r.db, "destinationTableName": &r.table, "operation": &r.op} {
		switch x := m[k].(type) {
		case nil:
		case string:
			if x != "" {
				*dst = x
			}
		default:
			return r, fmt.Errorf("%s is not a string", k)
		}
	}
	r.op = strings.ToLower(r.op)
	if r.op != OpInsert && r.op != OpUpdate && r.op != OpDelete {
		return r, fmt.Errorf("operation %q is not insert, update or delete", r.op)
	}
	if r.db == "" || r.table == "" {
		return r, errors.New("the record has no destinationDatabaseName or destinationTableName")
	}
	return r, nil
}

// Deliver implements fhdest.Destination: per table, one commit holding the
// equality deletes of the updated and deleted keys and the inserted rows.
// Records that do not route or convert fail permanently; a table whose
// commit fails fails its records (retryable); the other tables commit.
func (d *Destination) Deliver(ctx context.Context, b *fhdest.Batch) []fhdest.Failure {
	var out []fhdest.Failure
	type group struct {
		idx  []int
		rows []Row
	}
	groups := map[[2]string]*group{}
	var order [][2]string
	for i, r := range b.Records {
		rt, err := d.route(ctx, r.Data)
		if err != nil {
			f := fhdest.Failure{Index: i, Code: CodeRoutingFailed, Message: err.Error(), Permanent: true}
			if len(d.Tables) == 1 {
				f.ErrorOutputPrefix = d.Tables[0].ErrorOutputPrefix
			}
			out = append(out, f)
			continue
		}
		k := [2]string{rt.db, rt.table}
		g := groups[k]
		if g == nil {
			g = &group{}
			groups[k] = g
			order = append(order, k)
		}
		g.idx = append(g.idx, i)
		g.rows = append(g.rows, Row{Data: r.Data, Op: rt.op})
	}
	for _, k := range order {
		g := groups[k]
		var keys []string
		var prefix string
		for _, t := range d.Tables {
			if strings.EqualFold(t.Database, k[0]) && strings.EqualFold(t.Table, k[1]) {
				keys, prefix = t.UniqueKeys, t.ErrorOutputPrefix
			}
		}
		bad, err := d.Catalog.Write(ctx, k[0], k[1], g.rows, keys, b.RequestID)
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
			msg := fmt.Sprintf("%s.%s: %v", k[0], k[1], err)
			for _, i := range g.idx {
				out = append(out, fhdest.Failure{Index: i, Code: code, Message: msg, ErrorOutputPrefix: prefix})
			}
			continue
		}
		for _, r := range bad {
			out = append(out, fhdest.Failure{Index: g.idx[r.Index], Code: r.Code, Message: r.Err.Error(), Permanent: true, ErrorOutputPrefix: prefix})
		}
	}
	return out
}

// committed reports whether one of the table's recent snapshots came from
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
