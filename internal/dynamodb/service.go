// Package dynamodb serves the DynamoDB API (JSON 1.0, X-Amz-Target prefix
// "DynamoDB_20120810") on Eddy's port: the subset every Kinesis Client
// Library needs for its lease, coordinator and worker-metrics tables, and
// the common single-table operations around it.
//
// Design:
//   - Tables and items live in memory, per account and region, under one
//     RWMutex (Service.mu). Every change is appended to a CRC-framed log
//     (see store.go and docs/format/dynamodb.md) before the call returns;
//     with Options.Sync the log is fsynced first. Opening replays the log;
//     a torn tail is cut off. The log is compacted into a snapshot of the
//     live state (temp file, fsync, rename, fsync dir) when it grows past
//     four times the live size.
//   - Expressions are parsed once per request by a hand-written parser
//     (expr_parse.go) into an AST evaluated per item (expr_eval.go). The
//     legacy parameters (Expected, AttributeUpdates, KeyConditions,
//     ScanFilter, QueryFilter, AttributesToGet) are translated into the same
//     AST (legacy.go), so both forms share one evaluator.
//   - Numbers are decimal strings normalised on the way in (38 significant
//     digits, DynamoDB's magnitude range) and compared as decimals.
//   - Tables and indexes are ACTIVE at once. Query and Scan walk the table
//     in primary-key order; that is O(items) per call, fine for coordination
//     tables, not a big-data store.
//
// One file per operation (op_*.go), each opened by a comment on its
// behaviour and any difference from AWS.
package dynamodb

import (
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"log/slog"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/awsproto"
)

// TargetPrefix is the X-Amz-Target prefix of the DynamoDB API.
const TargetPrefix = "DynamoDB_20120810"

// ContentType is what DynamoDB answers with.
const ContentType = "application/x-amz-json-1.0"

// Options configure the service.
type Options struct {
	// Dir holds the log; empty keeps everything in memory.
	Dir string
	// Sync fsyncs the log before a change is acknowledged.
	Sync bool
	// SyncInterval, without Sync, fsyncs the log this often.
	SyncInterval time.Duration
	// ExpireTTL starts a background sweep deleting expired items of tables
	// with TTL enabled every minute (SweepTTL runs one sweep).
	ExpireTTL bool
	Now       func() time.Time
	Logger    *slog.Logger
}

// Service is the DynamoDB API.
type Service struct {
	opt Options
	now func() time.Time
	log *slog.Logger

	mu     sync.RWMutex
	tables map[string]*table // by tableKey(account, region, name)
	wal    *wal              // nil: in memory

	stop chan struct{}
	done chan struct{}

	sweepStop chan struct{} // nil without Options.SweepTTL
	sweepDone chan struct{}
}

type call struct {
	account, region string
	body            []byte
	// syncSeq is the log sequence this call's changes must reach stable
	// storage at before it answers (0: nothing written).
	syncSeq uint64
}

type opFunc func(s *Service, c *call) (any, error)

var ops = map[string]opFunc{}

func register(name string, f opFunc) { ops[name] = f }

// Open loads the tables under o.Dir (if any) and returns the service.
func Open(o Options) (*Service, error) {
	s := &Service{opt: o, now: o.Now, log: o.Logger, tables: map[string]*table{}}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if o.Dir != "" {
		w, err := openWAL(o.Dir, o.Sync, s.log, s.replay)
		if err != nil {
			return nil, err
		}
		s.wal = w
		if !o.Sync && o.SyncInterval > 0 {
			s.stop, s.done = make(chan struct{}), make(chan struct{})
			go s.syncLoop(w, o.SyncInterval)
		}
	}
	if o.ExpireTTL {
		s.sweepStop, s.sweepDone = make(chan struct{}), make(chan struct{})
		go s.sweepLoop()
	}
	return s, nil
}

// syncLoop fsyncs the log every interval (--durability interval).
func (s *Service) syncLoop(w *wal, every time.Duration) {
	defer close(s.done)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			if err := w.flush(); err != nil {
				s.log.Error("dynamodb log sync failed", "err", err)
			}
		}
	}
}

// Close syncs and closes the log.
func (s *Service) Close() error {
	if s.sweepStop != nil {
		close(s.sweepStop)
		<-s.sweepDone
		s.sweepStop = nil
	}
	if s.stop != nil {
		close(s.stop)
		<-s.done
		s.stop = nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.wal == nil {
		return nil
	}
	err := s.wal.close()
	s.wal = nil
	return err
}

// TargetPrefix implements awsproto.Service.
func (s *Service) TargetPrefix() string { return TargetPrefix }

// Handle implements awsproto.Service for in-process callers: the result
// is the JSON 1.0 response body.
func (s *Service) Handle(req *awsproto.Request) (any, error) {
	out, err := s.Call(req.Account, req.Region, req.Operation, req.Body)
	if err != nil {
		return nil, err
	}
	return awsproto.Raw(out), nil
}

// Call runs one operation on a JSON request body and returns the JSON
// response body.
func (s *Service) Call(account, region, op string, body []byte) ([]byte, error) {
	f, ok := ops[op]
	if !ok {
		return nil, &awserr.Error{Type: tUnknownOperation, Status: 400}
	}
	c := &call{account: account, region: region, body: body}
	out, err := f(s, c)
	if c.syncSeq > 0 {
		// group commit: the fsync runs after the service lock is released,
		// one fsync covering every change appended before it
		if serr := s.syncTo(c.syncSeq); serr != nil {
			s.log.Error("dynamodb log sync failed", "err", serr)
			return nil, &awserr.Error{Type: tInternalServer, Status: 500, Message: "Internal server error"}
		}
	}
	if err != nil {
		return nil, err
	}
	if out == nil {
		return []byte("{}"), nil
	}
	b, err := json.Marshal(out)
	if err != nil {
		return nil, fmt.Errorf("encode %s response: %w", op, err)
	}
	return b, nil
}

// Claims implements gateway.Protocol: requests whose target names this
// service.
func (s *Service) Claims(r *http.Request, _ []byte) (string, bool) {
	prefix, op, _ := strings.Cut(r.Header.Get("X-Amz-Target"), ".")
	return op, prefix == TargetPrefix
}

// ServeAWS implements gateway.Protocol: it answers in JSON 1.0 with the
// CRC32 header DynamoDB sends (the SDKs verify it).
func (s *Service) ServeAWS(w http.ResponseWriter, r *http.Request, req *awsproto.Request, authErr error) string {
	var out []byte
	err := authErr
	if err == nil {
		out, err = s.serve(req)
	}
	if err != nil {
		return s.writeError(w, req.Operation, err)
	}
	writeJSON(w, http.StatusOK, out)
	return "200"
}

func (s *Service) serve(req *awsproto.Request) (out []byte, err error) {
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("panic in dynamodb handler", "op", req.Operation, "panic", p)
			out, err = nil, awserr.Internal()
		}
	}()
	return s.Call(req.Account, req.Region, req.Operation, req.Body)
}

func writeJSON(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", ContentType)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("x-amz-crc32", strconv.FormatUint(uint64(crc32.ChecksumIEEE(body)), 10))
	w.WriteHeader(status)
	w.Write(body)
}

type errorBody struct {
	Type                string         `json:"__type"`
	Message             string         `json:"message,omitempty"`
	Item                Item           `json:"Item,omitempty"`
	CancellationReasons []cancelReason `json:"CancellationReasons,omitempty"`
}

func (s *Service) writeError(w http.ResponseWriter, op string, err error) string {
	var ae *awserr.Error
	var ext *apiError
	eb := errorBody{}
	if errors.As(err, &ext) {
		ae = ext.AWS
		eb.Item = ext.Item
		eb.CancellationReasons = ext.Reasons
	} else if e, ok := awserr.As(err); ok {
		ae = e
	} else {
		s.log.Error("dynamodb request failed", "op", op, "err", err)
		ae = awserr.Internal()
	}
	eb.Type = wireType(ae.Type)
	eb.Message = ae.Message
	var b []byte
	if ae.Type == tSerialization {
		b, _ = json.Marshal(struct {
			Type    string `json:"__type"`
			Message string `json:"Message,omitempty"`
		}{eb.Type, eb.Message})
	} else {
		b, _ = json.Marshal(eb)
	}
	w.Header().Set("x-amzn-ErrorType", ae.Type)
	writeJSON(w, ae.Status, b)
	return ae.Type
}

// decode reads the request body into v.
func decode(c *call, v any) error {
	if len(strings.TrimSpace(string(c.body))) == 0 {
		return nil
	}
	if err := json.Unmarshal(c.body, v); err != nil {
		var ae *awserr.Error
		if errors.As(err, &ae) {
			return ae
		}
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return &awserr.Error{Type: tSerialization, Status: 400, Message: "Unexpected value type in payload"}
		}
		return &awserr.Error{Type: tSerialization, Status: 400, Message: "Start of structure or map found where not expected."}
	}
	return nil
}

// ---- tables ----

func tableKey(account, region, name string) string { return account + "/" + region + "/" + name }

// tableName resolves a TableName member (a name or a table ARN).
func tableName(c *call, v *string) (account, region, name string) {
	account, region = c.account, c.region
	if v == nil {
		return
	}
	name = *v
	if strings.HasPrefix(name, "arn:") {
		parts := strings.SplitN(name, ":", 6)
		if len(parts) == 6 && strings.HasPrefix(parts[5], "table/") {
			region, account = parts[3], parts[4]
			name = strings.TrimPrefix(parts[5], "table/")
			if i := strings.IndexByte(name, '/'); i >= 0 {
				name = name[:i]
			}
		}
	}
	return
}

func validateTableName(v *awserr.Validation, name *string, path string) {
	if name == nil {
		v.Add(nil, path, "Member must not be null")
		return
	}
	n := *name
	if strings.HasPrefix(n, "arn:") {
		if len(n) > 1024 {
			v.Add(n, path, "Member must have length less than or equal to 1024")
		}
		return
	}
	if len(n) < 3 {
		v.Add(n, path, "Member must have length greater than or equal to 3")
	}
	if len(n) > 255 {
		v.Add(n, path, "Member must have length less than or equal to 255")
	}
	for _, r := range n {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '.' || r == '-') {
			v.Add(n, path, "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+")
			break
		}
	}
}

// lookupLocked finds a table; the caller holds s.mu.
func (s *Service) lookupLocked(c *call, name *string) (*table, error) {
	var v awserr.Validation
	validateTableName(&v, name, "tableName")
	if err := v.Err(); err != nil {
		return nil, err
	}
	a, r, n := tableName(c, name)
	t := s.tables[tableKey(a, r, n)]
	if t == nil {
		return nil, notFound()
	}
	return t, nil
}

// lookupNamedLocked is lookupLocked for the control-plane operations,
// whose not-found message names the table ("Requested resource not found:
// Table: T not found").
func (s *Service) lookupNamedLocked(c *call, name *string) (*table, error) {
	t, err := s.lookupLocked(c, name)
	if e, ok := awserr.As(err); ok && e.Type == tResourceNotFound {
		_, _, n := tableName(c, name)
		return nil, notFoundMsg("Requested resource not found: Table: " + n + " not found")
	}
	return t, err
}

// ---- persistence ----

// logRec is one record of the log.
type logRec struct {
	Op    string     `json:"op"` // table | drop | put | del | batch
	Table *tableMeta `json:"table,omitempty"`
	Key   string     `json:"k,omitempty"`
	Item  Item       `json:"item,omitempty"`
	Ops   []logRec   `json:"ops,omitempty"`
}

// replay applies one record while opening.
func (s *Service) replay(r logRec) error {
	switch r.Op {
	case "table":
		if r.Table == nil {
			return errors.New("table record without table")
		}
		k := tableKey(r.Table.Account, r.Table.Region, r.Table.Name)
		if t := s.tables[k]; t != nil && t.meta.ID == r.Table.ID {
			t.meta = *r.Table
			t.reindex()
			return nil
		}
		s.tables[k] = newTable(*r.Table)
	case "drop":
		delete(s.tables, r.Key)
	case "put", "del":
		t := s.tables[r.Key]
		if t == nil {
			return fmt.Errorf("%s for unknown table %q", r.Op, r.Key)
		}
		if r.Op == "put" {
			t.put(r.Item)
		} else {
			t.remove(r.Item)
		}
	case "batch":
		for _, o := range r.Ops {
			if err := s.replay(o); err != nil {
				return err
			}
		}
	default:
		return fmt.Errorf("unknown log record %q", r.Op)
	}
	return nil
}

func (s *Service) syncTo(seq uint64) error {
	s.mu.RLock()
	w := s.wal
	s.mu.RUnlock()
	if w == nil {
		return nil
	}
	return w.syncTo(seq)
}

// commitLocked appends recs to the log (one atomic record) and applies
// them; the caller's call is marked to wait for the record's fsync (after
// the lock is released: see Call).
func (s *Service) commitLocked(c *call, recs ...logRec) error {
	if len(recs) == 0 {
		return nil
	}
	rec := recs[0]
	if len(recs) > 1 {
		rec = logRec{Op: "batch", Ops: recs}
	}
	if s.wal != nil {
		seq, err := s.wal.append(rec)
		if err != nil {
			s.log.Error("dynamodb log write failed", "err", err)
			return &awserr.Error{Type: tInternalServer, Status: 500, Message: "Internal server error"}
		}
		c.syncSeq = seq
	}
	if err := s.replay(rec); err != nil {
		return fmt.Errorf("apply log record: %w", err)
	}
	if s.wal != nil && s.wal.needsCompaction(s.liveBytesLocked()) {
		if err := s.wal.compact(s.snapshotLocked()); err != nil {
			s.log.Error("dynamodb log compaction failed", "err", err)
		}
	}
	return nil
}

func (s *Service) liveBytesLocked() int64 {
	var n int64
	for _, t := range s.tables {
		n += t.bytes + 512
	}
	return n
}

// snapshotLocked lists records recreating the live state.
func (s *Service) snapshotLocked() []logRec {
	keys := make([]string, 0, len(s.tables))
	for k := range s.tables {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []logRec
	for _, k := range keys {
		t := s.tables[k]
		m := t.meta
		out = append(out, logRec{Op: "table", Table: &m})
		for _, ik := range t.order() {
			out = append(out, logRec{Op: "put", Key: k, Item: t.items[ik]})
		}
	}
	return out
}
