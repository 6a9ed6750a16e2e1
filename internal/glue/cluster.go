package glue

// Cluster mode: every node answers for the whole catalog.
//
// With Options.Shared (natsstore, in cluster mode) the catalog is not one
// blob but one replicated item per database and one per table (the table
// with all its versions), in namespace "glue". Item keys are JSON arrays,
// so that any Glue name (which may hold "/") stays unambiguous:
// ["ACCOUNT","REGION","db"] for a database ({"input":…,"createdMs":N}) and
// ["ACCOUNT","REGION","db","table"] for a table (the table JSON of the
// single-node blob). Two nodes changing different tables never conflict.
//   - saveLocked writes each item that differs from what the store holds
//     by compare-and-set on its revision (databases before their tables),
//     and deletes the removed ones (tables before their database). A lost
//     race answers what AWS answers for it: a create racing another node's
//     create of the same name AlreadyExistsException ("Database already
//     exists." / "Table already exists."); UpdateTable with a VersionId and
//     CommitIcebergTable ConcurrentModificationException "Table T version V
//     is not the current version." (as a stale VersionId does on one
//     node); anything else ConcurrentModificationException. The operation
//     then rolls its in-memory change back and the node reloads the
//     namespace before answering, so that a retry reads the winner's
//     version (an Iceberg writer's retry commits on fresh metadata at once).
//   - Every node watches the namespace and applies other nodes' changes
//     within the watch's latency (a table created through node A is known
//     to node B's Firehose delivery streams and GetTable a few ms later).
//   - The first cluster start copies the single-node blob ("glue" meta)
//     into items and empties it.
//
// Known limit: a table created through one node while another node
// deletes its database at the same moment may leave a table item without
// a database; such an item is invisible (also to a database created again
// under the name) and is deleted by the next change saved through any
// node that knows it.
//
// Lock order: mu, then the store's own locks (saves and reloads run under
// mu; the watch callback takes mu).

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"

	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/replicated"
)

const sharedNamespace = "glue"

// SharedItems is the replicated per-item store of cluster mode.
type SharedItems = replicated.Items

type item struct {
	rev  uint64
	blob []byte
}

// dbItem is a database's item (its tables are items of their own).
type dbItem struct {
	Input     map[string]json.RawMessage `json:"input"`
	CreatedMs int64                      `json:"createdMs"`
}

// lostRace is a compare-and-set lost to another node; it unwraps to the
// AWS error answered for it.
type lostRace struct {
	key    []string
	create bool
	aws    *awserr.Error
}

func (e *lostRace) Error() string { return e.aws.Error() }
func (e *lostRace) Unwrap() error { return e.aws }

func itemKey(parts ...string) string {
	b, _ := json.Marshal(parts)
	return string(b)
}

func parseItemKey(k string) ([]string, bool) {
	var p []string
	if json.Unmarshal([]byte(k), &p) != nil || len(p) < 3 || len(p) > 4 {
		return nil, false
	}
	return p, true
}

// loadShared is New's load in cluster mode.
func (s *Service) loadShared() error {
	if err := s.migrateLegacy(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reloadLocked()
}

// reloadLocked replaces what this node knows of the shared catalog with
// the store's current items (rebuilt from scratch, so that nothing a lost
// race left in memory survives). s.mu held.
func (s *Service) reloadLocked() error {
	type kv struct {
		key string
		val []byte
		rev uint64
		n   int
	}
	var all []kv
	err := s.opts.Shared.LoadItems(sharedNamespace, func(key string, val []byte, rev uint64) {
		if p, ok := parseItemKey(key); ok {
			all = append(all, kv{key, val, rev, len(p)})
		}
	})
	if err != nil {
		return fmt.Errorf("glue: load shared catalog: %w", err)
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].n < all[j].n }) // databases first
	s.catalogs = map[string]map[string]*database{}
	s.items = map[string]item{}
	for _, e := range all {
		s.applyLocked(e.key, e.val, e.rev)
	}
	return nil
}

// applyItem installs another node's change (the watch's callback).
func (s *Service) applyItem(key string, val []byte, rev uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.applyLocked(key, val, rev)
}

// applyLocked installs revision rev of an item (val nil: deleted) unless
// this node already knows that revision or a later one. s.mu held.
func (s *Service) applyLocked(key string, val []byte, rev uint64) {
	p, ok := parseItemKey(key)
	if !ok {
		return
	}
	it, known := s.items[key]
	if val == nil {
		if !known || rev <= it.rev {
			return
		}
		delete(s.items, key)
		c := s.catalogs[p[0]+"/"+p[1]]
		if c == nil {
			return
		}
		if len(p) == 3 {
			delete(c, p[2])
		} else if db := c[p[2]]; db != nil {
			delete(db.Tables, p[3])
		}
		return
	}
	if known && rev <= it.rev {
		return
	}
	s.items[key] = item{rev: rev, blob: val}
	c := s.catalogs[p[0]+"/"+p[1]]
	if c == nil {
		c = map[string]*database{}
		s.catalogs[p[0]+"/"+p[1]] = c
	}
	if len(p) == 3 {
		var d dbItem
		if err := json.Unmarshal(val, &d); err != nil {
			s.opts.Logger.Error("glue: decode shared database", "key", key, "err", err)
			return
		}
		db := &database{Input: d.Input, CreatedMs: d.CreatedMs, Tables: map[string]*table{}}
		if old := c[p[2]]; old != nil {
			db.Tables = old.Tables
		}
		// a table item left without its database (see the known limit) is
		// not attached to a database created again under the name: the
		// items arrive in write order, databases before their tables
		c[p[2]] = db
		return
	}
	var t table
	if err := json.Unmarshal(val, &t); err != nil {
		s.opts.Logger.Error("glue: decode shared table", "key", key, "err", err)
		return
	}
	if db := c[p[2]]; db != nil {
		db.Tables[p[3]] = &t
	}
}

// saveItemsLocked writes the items that changed by compare-and-set. s.mu
// held. A lost race is a *lostRace; the caller rolls its change back.
func (s *Service) saveItemsLocked() error {
	sh := s.opts.Shared
	cur := map[string][]byte{}
	for cat, c := range s.catalogs {
		acct, region := splitCatalog(cat)
		for name, db := range c {
			b, err := json.Marshal(dbItem{Input: db.Input, CreatedMs: db.CreatedMs})
			if err != nil {
				return fmt.Errorf("glue: encode database %s: %w", name, err)
			}
			cur[itemKey(acct, region, name)] = b
			for tn, t := range db.Tables {
				b, err := json.Marshal(t)
				if err != nil {
					return fmt.Errorf("glue: encode table %s: %w", tn, err)
				}
				cur[itemKey(acct, region, name, tn)] = b
			}
		}
	}
	puts := make([][]string, 0, 2)
	for key, b := range cur {
		if it, ok := s.items[key]; !ok || string(it.blob) != string(b) {
			p, _ := parseItemKey(key)
			puts = append(puts, p)
		}
	}
	var dels [][]string
	for key := range s.items {
		if _, ok := cur[key]; !ok {
			p, _ := parseItemKey(key)
			dels = append(dels, p)
		}
	}
	sort.Slice(puts, func(i, j int) bool { return len(puts[i]) < len(puts[j]) }) // databases first
	sort.Slice(dels, func(i, j int) bool { return len(dels[i]) > len(dels[j]) }) // tables first
	for _, p := range puts {
		key := itemKey(p...)
		it := s.items[key]
		rev, err := sh.PutItem(sharedNamespace, key, it.rev, cur[key])
		if err != nil && sh.IsConflict(err) {
			s.stale = true
			return newLostRace(p, it.rev == 0)
		}
		if err != nil {
			s.stale = true // partly saved: reload before the next answer
			return fmt.Errorf("glue: save %v: %w", p, err)
		}
		s.items[key] = item{rev: rev, blob: cur[key]}
	}
	for _, p := range dels {
		key := itemKey(p...)
		err := sh.DeleteItem(sharedNamespace, key, s.items[key].rev)
		if err != nil && sh.IsConflict(err) {
			s.stale = true
			return newLostRace(p, false)
		}
		if err != nil {
			s.stale = true
			return fmt.Errorf("glue: delete %v: %w", p, err)
		}
		delete(s.items, key)
	}
	return nil
}

func newLostRace(p []string, create bool) *lostRace {
	e := &lostRace{key: p, create: create}
	switch {
	case create && len(p) == 3:
		e.aws = alreadyExists("Database already exists.").(*awserr.Error)
	case create:
		e.aws = alreadyExists("Table already exists.").(*awserr.Error)
	case len(p) == 3:
		e.aws = awserr.New(awserr.TConcurrentModification, 400, "Database %s was changed through another node at the same time; get it and retry.", p[2])
	default:
		e.aws = awserr.New(awserr.TConcurrentModification, 400, "Table %s was changed through another node at the same time; get it and retry.", p[3])
	}
	return e
}

func splitCatalog(k string) (string, string) {
	for i := 0; i < len(k); i++ {
		if k[i] == '/' {
			return k[:i], k[i+1:]
		}
	}
	return k, ""
}

// refresh reloads the shared catalog after this node lost a race, so that
// the caller's retry reads the winner's version without waiting for the
// watch.
func (s *Service) refresh() {
	if s.opts.Shared == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.stale {
		return
	}
	if err := s.reloadLocked(); err != nil {
		s.opts.Logger.Warn("glue: reload after a lost race", "err", err)
		return
	}
	s.stale = false
}

// startShared follows other nodes' changes until Close.
func (s *Service) startShared() error {
	ctx, cancel := context.WithCancel(context.Background())
	s.stopWatch = cancel
	if err := s.opts.Shared.WatchItems(ctx, sharedNamespace, s.applyItem); err != nil {
		cancel()
		return fmt.Errorf("glue: %w", err)
	}
	// what changed between the load and the watch
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reloadLocked()
}

// Close stops following other nodes' changes (cluster mode).
func (s *Service) Close() error {
	if s.stopWatch != nil {
		s.stopWatch()
	}
	return nil
}

// migrateLegacy copies the "glue" blob (written before the catalog was
// shared per item) into items, then empties it so that deleting every
// database later does not bring these back. Items another node created
// first are left alone.
func (s *Service) migrateLegacy() error {
	if s.opts.Backend == nil {
		return nil
	}
	blob, err := s.opts.Backend.LoadMeta("glue")
	if err != nil {
		return fmt.Errorf("glue: load metadata: %w", err)
	}
	if blob == nil {
		return nil
	}
	var p persisted
	if err := json.Unmarshal(blob, &p); err != nil {
		return fmt.Errorf("glue: decode metadata: %w", err)
	}
	if p.Version != metaVersion {
		return fmt.Errorf("glue: metadata version %d, want %d", p.Version, metaVersion)
	}
	n := 0
	put := func(key string, v any) error {
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		if _, err := s.opts.Shared.PutItem(sharedNamespace, key, 0, b); err != nil && !s.opts.Shared.IsConflict(err) {
			return fmt.Errorf("glue: migrate %s: %w", key, err)
		}
		n++
		return nil
	}
	for cat, c := range p.Catalogs {
		acct, region := splitCatalog(cat)
		for name, db := range c {
			if err := put(itemKey(acct, region, name), dbItem{Input: db.Input, CreatedMs: db.CreatedMs}); err != nil {
				return err
			}
			for tn, t := range db.Tables {
				if err := put(itemKey(acct, region, name, tn), t); err != nil {
					return err
				}
			}
		}
	}
	if n == 0 {
		return nil
	}
	if err := s.opts.Backend.SaveMeta("glue", []byte(`{"version":1,"catalogs":{}}`)); err != nil {
		return fmt.Errorf("glue: clear migrated metadata: %w", err)
	}
	s.opts.Logger.Info("glue: copied the single-blob catalog into per-item keys", "items", n)
	return nil
}
