// Package iceberg delivers Firehose records to Apache Iceberg tables: it
// converts JSON records to the table's schema, writes Parquet data files
// with github.com/apache/iceberg-go and commits them through a catalog.
//
// The catalog is Eddy's own Glue Data Catalog, reached in process through
// the small Glue interface below (no SDK client, no HTTP): an Iceberg table
// is a Glue table whose Parameters say table_type=ICEBERG and
// metadata_location=<the current metadata JSON in S3>, the convention of
// AWS Glue, Athena, Spark and iceberg-go's own Glue catalog. A commit writes
// a new metadata file and swaps metadata_location with Glue's VersionId
// check (optimistic concurrency), keeping previous_metadata_location; a lost
// race is iceberg-go's ErrCommitFailed, and Write redoes the write on fresh
// metadata.
//
// Table metadata and data live in S3 (Eddy's configured S3 endpoint), read
// and written through FS.
package iceberg

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"strings"

	icebergio "github.com/apache/iceberg-go/io"
	"github.com/apache/iceberg-go/table"

	"github.com/eddy-streams/eddy/internal/glue"
)

// Glue parameter names of an Iceberg table (the AWS convention).
const (
	ParamTableType        = "table_type"
	ParamMetadataLocation = "metadata_location"
	ParamPreviousLocation = "previous_metadata_location"
	TableTypeIceberg      = "ICEBERG"
)

// GlueTable is what a writer reads of a Glue table.
type GlueTable = glue.IcebergTable

// Glue is the catalog an Iceberg destination commits through (implemented
// by internal/glue.Service).
type Glue interface {
	// IcebergTable returns a table's current version and parameters.
	// A missing database or table is an EntityNotFoundException *awserr.Error.
	IcebergTable(ctx context.Context, account, region, catalogID, database, name string) (GlueTable, error)
	// CommitIcebergTable replaces the table's parameters if its current
	// version is still versionID; otherwise it fails with
	// ConcurrentModificationException (errors.Is glue.ErrVersionConflict).
	CommitIcebergTable(ctx context.Context, account, region, catalogID, database, name, versionID string, params map[string]string) error
}

var _ Glue = (*glue.Service)(nil)

// Catalog is iceberg-go's table.CatalogIO over Glue and FS.
type Catalog struct {
	Glue                       Glue
	Account, Region, CatalogID string
	FS                         func(ctx context.Context) *FS
}

var _ table.CatalogIO = (*Catalog)(nil)

func ident(id table.Identifier) (db, name string, err error) {
	if len(id) != 2 {
		return "", "", fmt.Errorf("table identifier %q must be database.table", strings.Join(id, "."))
	}
	return id[0], id[1], nil
}

func (c *Catalog) fsys(ctx context.Context) table.FSysF {
	return func(context.Context) (icebergio.IO, error) { return c.FS(ctx), nil }
}

// load reads the Glue table and its current metadata.
func (c *Catalog) load(ctx context.Context, id table.Identifier) (*table.Table, GlueTable, error) {
	db, name, err := ident(id)
	if err != nil {
		return nil, GlueTable{}, err
	}
	gt, err := c.Glue.IcebergTable(ctx, c.Account, c.Region, c.CatalogID, db, name)
	if err != nil {
		return nil, GlueTable{}, err
	}
	if !strings.EqualFold(gt.Parameters[ParamTableType], TableTypeIceberg) {
		return nil, gt, &NotIcebergError{Database: db, Table: name}
	}
	loc := gt.Parameters[ParamMetadataLocation]
	if loc == "" {
		return nil, gt, fmt.Errorf("table %s.%s has no %s parameter", db, name, ParamMetadataLocation)
	}
	t, err := table.NewFromLocation(ctx, id, loc, c.fsys(ctx), c)
	if err != nil {
		return nil, gt, fmt.Errorf("read metadata %s: %w", loc, err)
	}
	return t, gt, nil
}

// NotIcebergError: the Glue table is not an Iceberg table.
type NotIcebergError struct{ Database, Table string }

func (e *NotIcebergError) Error() string {
	return fmt.Sprintf("table %s.%s is not an Iceberg table (its Glue parameter table_type is not ICEBERG)", e.Database, e.Table)
}

// LoadTable implements table.CatalogIO.
func (c *Catalog) LoadTable(ctx context.Context, id table.Identifier) (*table.Table, error) {
	t, _, err := c.load(ctx, id)
	return t, err
}

// CommitTable implements table.CatalogIO: validate the requirements on the
// current metadata, apply the updates, write the next metadata file and
// swap metadata_location under Glue's VersionId check.
func (c *Catalog) CommitTable(ctx context.Context, id table.Identifier, reqs []table.Requirement, updates []table.Update) (table.Metadata, string, error) {
	cur, gt, err := c.load(ctx, id)
	if err != nil {
		return nil, "", err
	}
	for _, r := range reqs {
		if err := r.Validate(cur.Metadata()); err != nil {
			return nil, "", fmt.Errorf("%w: %w", table.ErrCommitFailed, err)
		}
	}
	meta, err := table.UpdateTableMetadata(cur.Metadata(), updates, cur.MetadataLocation())
	if err != nil {
		return nil, "", err
	}
	if meta.Equals(cur.Metadata()) {
		return cur.Metadata(), cur.MetadataLocation(), nil
	}
	lp, err := table.LoadLocationProvider(meta.Location(), meta.Properties())
	if err != nil {
		return nil, "", err
	}
	loc, err := lp.NewTableMetadataFileLocation(metadataVersion(cur.MetadataLocation()) + 1)
	if err != nil {
		return nil, "", err
	}
	if strings.HasSuffix(loc, ".gz.metadata.json") || !strings.HasSuffix(loc, ".metadata.json") {
		return nil, "", fmt.Errorf("table %s: only uncompressed metadata (write.metadata.compression-codec=none) is written by Eddy", strings.Join(id, "."))
	}
	body, err := json.Marshal(meta)
	if err != nil {
		return nil, "", fmt.Errorf("encode metadata: %w", err)
	}
	if err := c.FS(ctx).WriteFile(loc, body); err != nil {
		return nil, "", err
	}
	params := maps.Clone(gt.Parameters)
	params[ParamPreviousLocation] = cur.MetadataLocation()
	params[ParamMetadataLocation] = loc
	params[ParamTableType] = TableTypeIceberg
	if err := c.Glue.CommitIcebergTable(ctx, c.Account, c.Region, c.CatalogID, id[0], id[1], gt.VersionID, params); err != nil {
		_ = c.FS(ctx).Remove(loc)
		if errors.Is(err, glue.ErrVersionConflict) {
			return nil, "", fmt.Errorf("%w: %w", table.ErrCommitFailed, err)
		}
		return nil, "", err
	}
	return meta, loc, nil
}

// metadataVersion reads N of …/metadata/000NN-<uuid>.metadata.json (0 when
// the name follows another convention).
func metadataVersion(loc string) int {
	name := loc[strings.LastIndexByte(loc, '/')+1:]
	n, _, ok := strings.Cut(name, "-")
	if !ok {
		return 0
	}
	v, err := strconv.Atoi(n)
	if err != nil || v < 0 {
		return 0
	}
	return v
}
