// Package glue is Eddy's subset of the AWS Glue Data Catalog: databases,
// tables and table versions (JSON 1.1, target prefix `AWSGlue`), enough for
// `aws glue create-table` and the SDKs to set up the schema that Firehose
// record format conversion reads. Firehose reads it in process through
// Catalog.
//
// Names are stored lower-cased, as Glue does. Every table change keeps the
// previous definition as a version: VersionId "0" at creation, then "1", "2"…
//
// Persisted metadata (namespace "glue", JSON, written atomically by the
// storage backend after every change):
//
//	{"version": 1,
//	 "catalogs": {"<account>/<region>": {"<db>": {
//	    "input": {…DatabaseInput members…}, "createdMs": N,
//	    "tables": {"<table>": {"createdMs": N, "nextVersion": N,
//	        "versions": [{"id": "0", "updatedMs": N, "input": {…TableInput members…}}]}}}}}}
//
// In cluster mode (Options.Shared) the catalog is instead one replicated
// item per database and per table, changed by compare-and-set and
// followed by every node (cluster.go).
//
// Locking: one mutex (Service.mu) guards the whole catalog; saves happen
// under it (the catalog is small and changes rarely).
package glue

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/awsproto"
	"github.com/eddy-streams/eddy/internal/storage"
)

const metaVersion = 1

// Options configures a Service.
type Options struct {
	Backend        storage.Backend // metadata persistence (SaveMeta/LoadMeta)
	Now            func() time.Time
	Logger         *slog.Logger
	DefaultAccount string
	DefaultRegion  string
	// Shared, in cluster mode, holds the catalog as one replicated item per
	// database and per table instead of the "glue" blob (cluster.go).
	Shared SharedItems
}

// Service implements awsproto.Service for the Glue Data Catalog subset.
type Service struct {
	opts Options
	now  func() time.Time

	mu       sync.Mutex
	catalogs map[string]map[string]*database // account/region → name → db

	// cluster mode (cluster.go), under mu
	items     map[string]item // item key → what the store holds
	stale     bool            // a race was lost: reload before the next answer
	stopWatch context.CancelFunc
}

type database struct {
	Input     map[string]json.RawMessage `json:"input"`
	CreatedMs int64                      `json:"createdMs"`
	Tables    map[string]*table          `json:"tables"`
}

type table struct {
	CreatedMs   int64     `json:"createdMs"`
	NextVersion int       `json:"nextVersion"`
	Versions    []version `json:"versions"` // oldest first; the last is current
}

type version struct {
	ID        string                     `json:"id"`
	UpdatedMs int64                      `json:"updatedMs"`
	Input     map[string]json.RawMessage `json:"input"`
}

type persisted struct {
	Version  int                             `json:"version"`
	Catalogs map[string]map[string]*database `json:"catalogs"`
}

// New loads the catalog from the backend.
func New(o Options) (*Service, error) {
	s := &Service{opts: o, now: o.Now, catalogs: map[string]map[string]*database{}}
	if s.now == nil {
		s.now = time.Now
	}
	if s.opts.Logger == nil {
		s.opts.Logger = slog.Default()
	}
	if o.Shared != nil {
		s.items = map[string]item{}
		if err := s.loadShared(); err != nil {
			return nil, err
		}
		if err := s.startShared(); err != nil {
			return nil, err
		}
		return s, nil
	}
	if o.Backend != nil {
		blob, err := o.Backend.LoadMeta("glue")
		if err != nil {
			return nil, fmt.Errorf("glue: load metadata: %w", err)
		}
		if blob != nil {
			var p persisted
			if err := json.Unmarshal(blob, &p); err != nil {
				return nil, fmt.Errorf("glue: decode metadata: %w", err)
			}
			if p.Version != metaVersion {
				return nil, fmt.Errorf("glue: metadata version %d, want %d", p.Version, metaVersion)
			}
			if p.Catalogs != nil {
				s.catalogs = p.Catalogs
			}
		}
	}
	return s, nil
}

// TargetPrefix implements awsproto.Service.
func (s *Service) TargetPrefix() string { return "AWSGlue" }

var operations = map[string]func(*Service, *awsproto.Request) (any, error){
	"CreateDatabase":     (*Service).createDatabase,
	"GetDatabase":        (*Service).getDatabase,
	"GetDatabases":       (*Service).getDatabases,
	"DeleteDatabase":     (*Service).deleteDatabase,
	"CreateTable":        (*Service).createTable,
	"GetTable":           (*Service).getTable,
	"GetTables":          (*Service).getTables,
	"UpdateTable":        (*Service).updateTable,
	"DeleteTable":        (*Service).deleteTable,
	"GetTableVersions":   (*Service).getTableVersions,
	"GetTableVersion":    (*Service).getTableVersion,
	"DeleteTableVersion": (*Service).deleteTableVersion,
}

// Operations lists the operations Handle serves.
func (s *Service) Operations() []string {
	out := make([]string, 0, len(operations))
	for op := range operations {
		out = append(out, op)
	}
	sort.Strings(out)
	return out
}

// Handle implements awsproto.Service.
func (s *Service) Handle(req *awsproto.Request) (any, error) {
	if req.Account == "" {
		req.Account = s.opts.DefaultAccount
	}
	if req.Region == "" {
		req.Region = s.opts.DefaultRegion
	}
	op := operations[req.Operation]
	if op == nil {
		return nil, awserr.UnknownOperation()
	}
	out, err := op(s, req)
	if err != nil {
		s.refresh() // after a lost race (cluster mode): read the winner's version
	}
	return out, err
}

// Glue's error types.
const (
	tEntityNotFound = "EntityNotFoundException"
	tAlreadyExists  = "AlreadyExistsException"
	tInvalidInput   = "InvalidInputException"
)

func entityNotFound(format string, a ...any) error {
	return awserr.New(tEntityNotFound, 400, format, a...)
}
func alreadyExists(format string, a ...any) error {
	return awserr.New(tAlreadyExists, 400, format, a...)
}
func invalidInput(format string, a ...any) error { return awserr.New(tInvalidInput, 400, format, a...) }

// catalogLocked returns the databases of the request's catalog; CatalogId,
// when given, must be the caller's account (Eddy has no cross-account
// catalogs). s.mu must be held.
func (s *Service) catalogLocked(account, region string, catalogID *string, create bool) (map[string]*database, error) {
	if catalogID != nil && *catalogID != "" && *catalogID != account {
		return nil, awserr.AccessDenied("Cross account access to catalog %s is not supported by Eddy.", *catalogID)
	}
	key := account + "/" + region
	c := s.catalogs[key]
	if c == nil && create {
		c = map[string]*database{}
		s.catalogs[key] = c
	}
	return c, nil
}

func (s *Service) dbLocked(req *awsproto.Request, catalogID *string, name string) (*database, error) {
	c, err := s.catalogLocked(req.Account, req.Region, catalogID, false)
	if err != nil {
		return nil, err
	}
	db := c[strings.ToLower(name)]
	if db == nil {
		return nil, entityNotFound("Database %s not found.", name)
	}
	return db, nil
}

func (s *Service) tableLocked(req *awsproto.Request, catalogID *string, dbName, name string) (*database, *table, error) {
	db, err := s.dbLocked(req, catalogID, dbName)
	if err != nil {
		return nil, nil, err
	}
	t := db.Tables[strings.ToLower(name)]
	if t == nil {
		return nil, nil, entityNotFound("Table %s not found.", name)
	}
	return db, t, nil
}

// saveLocked persists the catalog; s.mu must be held.
func (s *Service) saveLocked() error {
	if s.opts.Shared != nil {
		return s.saveItemsLocked()
	}
	if s.opts.Backend == nil {
		return nil
	}
	blob, err := json.Marshal(persisted{Version: metaVersion, Catalogs: s.catalogs})
	if err != nil {
		return fmt.Errorf("glue: encode metadata: %w", err)
	}
	if err := s.opts.Backend.SaveMeta("glue", blob); err != nil {
		return fmt.Errorf("glue: save metadata: %w", err)
	}
	return nil
}

// validateName checks a Glue name: 1–255 characters of the single-line
// string pattern.
func validateName(v *awserr.Validation, name *string, path string) {
	if name == nil {
		v.Add(nil, path, "Member must not be null")
		return
	}
	if len(*name) < 1 {
		v.Add(*name, path, "Member must have length greater than or equal to 1")
	}
	if len(*name) > 255 {
		v.Add(*name, path, "Member must have length less than or equal to 255")
	}
	if strings.ContainsAny(*name, "\n\r\t") {
		v.Add(*name, path, `Member must satisfy regular expression pattern: [\u0020-\uD7FF\uE000-\uFFFD\uD800\uDC00-\uDBFF\uDFFF\t]*`)
	}
}

func secs(ms int64) float64 { return float64(ms) / 1000 }

func str(m map[string]json.RawMessage, k string) string {
	var s string
	_ = json.Unmarshal(m[k], &s)
	return s
}

func paginate(n int, next *string, max *int32) (start, end int, token string, err error) {
	if next != nil && *next != "" {
		if _, err := fmt.Sscanf(*next, "%d", &start); err != nil || start < 0 || start > n {
			return 0, 0, "", invalidInput("Invalid pagination token.")
		}
	}
	limit := 100
	if max != nil && *max > 0 {
		limit = int(*max)
	}
	end = min(n, start+limit)
	if end < n {
		token = fmt.Sprint(end)
	}
	return start, end, token, nil
}

// Column is one column of a catalog table.
type Column struct {
	Name, Type string
}

// TableSchema is what Firehose reads of a table version.
type TableSchema struct {
	Columns   []Column
	VersionID string
}

// Catalog is the typed in-process view of the catalog that other services
// (Firehose format conversion) use.
type Catalog interface {
	// TableSchema returns the columns of a table version ("" or "LATEST":
	// the current one). Errors are EntityNotFoundException *awserr.Error.
	TableSchema(ctx context.Context, account, region, catalogID, database, table, versionID string) (TableSchema, error)
}

var _ Catalog = (*Service)(nil)

// TableSchema implements Catalog.
func (s *Service) TableSchema(_ context.Context, account, region, catalogID, dbName, name, versionID string) (TableSchema, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	req := &awsproto.Request{Account: account, Region: region}
	var cid *string
	if catalogID != "" {
		cid = &catalogID
	}
	_, t, err := s.tableLocked(req, cid, dbName, name)
	if err != nil {
		return TableSchema{}, err
	}
	v := t.Versions[len(t.Versions)-1]
	if versionID != "" && versionID != "LATEST" {
		found := false
		for _, x := range t.Versions {
			if x.ID == versionID {
				v, found = x, true
			}
		}
		if !found {
			return TableSchema{}, entityNotFound("Version %s of table %s not found.", versionID, name)
		}
	}
	var sd struct {
		Columns []struct{ Name, Type string }
	}
	if raw := v.Input["StorageDescriptor"]; raw != nil {
		if err := json.Unmarshal(raw, &sd); err != nil {
			return TableSchema{}, invalidInput("Table %s has an unreadable StorageDescriptor: %v", name, err)
		}
	}
	out := TableSchema{VersionID: v.ID}
	for _, c := range sd.Columns {
		out.Columns = append(out.Columns, Column{Name: c.Name, Type: c.Type})
	}
	return out, nil
}
