package lambda

// Cluster mode: every node answers for every function and mapping.
//
// With Options.Shared (natsstore, in cluster mode) functions and event
// source mappings are not one blob but one replicated item each, in
// namespace "lambda": "fn/ACCOUNT/REGION/NAME" (storedFunction without
// its node-local code directory) and "esm/UUID" (mappingSettings).
//   - A change is written by compare-and-set on the revision of each item
//     it touched (saveLocked diffs the items against what this node last
//     wrote or saw). Two nodes changing different items never conflict; a
//     lost race on one answers 409 ResourceConflictException ("An update
//     is in progress"), and the winner's version reaches this node through
//     the watch, replacing the local change.
//   - Every node watches the namespace: items created, changed or deleted
//     elsewhere are applied here within the watch's latency (milliseconds),
//     so List/Get answer the same on every node; a new or changed mapping
//     (re)starts its leased runner here, which runs only on the lease
//     holder; a deleted one stops.
//   - A zip's bytes go to the replicated object store under
//     "lambda-code/ACCOUNT/REGION/NAME/SHA-RANDOM" (storedFunction.CodeObject);
//     a node that learns of the function fetches and extracts it into its
//     own data directory before installing it, so any node can run it. A
//     local-directory function (S3Bucket "eddy-local") names a path that
//     must exist on every node that runs it.
//
// Lock order: as in service.go; code is fetched with no lock held.

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/replicated"
)

// SharedItems is the replicated store of cluster mode: per-item control
// state, and objects for the functions' code.
type SharedItems interface {
	replicated.Items
	replicated.Objects
}

const itemNamespace = "lambda"

// item is what this node last wrote or saw of one replicated item.
type item struct {
	rev  uint64
	blob []byte
}

func fnItemKey(k fkey) string { return "fn/" + k.account + "/" + k.region + "/" + k.name }

func esmItemKey(uuid string) string { return "esm/" + uuid }

// sharedBlob is a function as replicated: without this node's code
// directory (each node extracts the zip into its own).
func (f *function) sharedBlob() ([]byte, error) {
	sf := f.storedFunction
	if !sf.LocalDir {
		sf.CodeDir = ""
	}
	return json.Marshal(sf)
}

// errConcurrent is a lost compare-and-set on a resource.
func errConcurrent(arn string) *awserr.Error {
	return awserr.New(tResourceConflict, http.StatusConflict, "The operation cannot be performed at this time. An update is in progress for resource: %s", arn)
}

// loadShared is New's load in cluster mode.
func (s *Service) loadShared() error {
	type kv struct {
		key string
		val []byte
		rev uint64
	}
	var all []kv
	if err := s.o.Shared.LoadItems(itemNamespace, func(key string, val []byte, rev uint64) {
		all = append(all, kv{key, val, rev})
	}); err != nil {
		return fmt.Errorf("load lambda items: %w", err)
	}
	if len(all) == 0 && !s.migrated {
		s.migrated = true
		if n, err := s.migrateLegacy(); err != nil {
			return err
		} else if n > 0 {
			return s.loadShared()
		}
	}
	for _, e := range all {
		s.applyItem(e.key, e.val, e.rev)
	}
	return nil
}

// migrateLegacy copies the "lambda" blob (written before the control
// plane was shared per item) into the items, with the extracted code zipped again into the object store.
// Items another node created first are left alone. Called from New only.
func (s *Service) migrateLegacy() (int, error) {
	if s.o.Backend == nil {
		return 0, nil
	}
	b, err := s.o.Backend.LoadMeta("lambda")
	if err != nil || b == nil {
		return 0, err
	}
	var p persisted
	if err := json.Unmarshal(b, &p); err != nil {
		return 0, fmt.Errorf("decode lambda metadata: %w", err)
	}
	n := 0
	put := func(key string, v any) error {
		blob, err := json.Marshal(v)
		if err != nil {
			return err
		}
		if _, err := s.o.Shared.PutItem(itemNamespace, key, 0, blob); err != nil && !s.o.Shared.IsConflict(err) {
			return fmt.Errorf("migrate lambda item %s: %w", key, err)
		}
		n++
		return nil
	}
	for _, sf := range p.Functions {
		k := fkey{sf.Account, sf.Region, sf.Config.FunctionName}
		if !sf.LocalDir && sf.CodeDir != "" && sf.CodeObject == "" {
			zb, err := zipDir(sf.CodeDir)
			if err == nil {
				sf.CodeObject, err = s.storeCode(k, zb, codeInfo{dir: sf.CodeDir})
			}
			if err != nil {
				s.log.Error("lambda: migrate code", "function", k.name, "err", err)
			}
		}
		if !sf.LocalDir {
			sf.CodeDir = ""
		}
		if err := put(fnItemKey(k), sf); err != nil {
			return n, err
		}
	}
	for _, ms := range p.Mappings {
		if err := put(esmItemKey(ms.UUID), ms); err != nil {
			return n, err
		}
	}
	// emptied, so that deleting every item later does not bring these back
	if err := s.o.Backend.SaveMeta("lambda", []byte(`{"v":1,"functions":null,"mappings":null}`)); err != nil {
		return n, fmt.Errorf("clear migrated lambda metadata: %w", err)
	}
	s.log.Info("lambda: copied the single-blob functions and mappings into per-item keys", "items", n)
	return n, nil
}

// zipDir packs an extracted code directory again (its modes kept).
func zipDir(dir string) ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		h, err := zip.FileInfoHeader(info)
		if err != nil {
			return err
		}
		h.Name, h.Method = filepath.ToSlash(rel), zip.Deflate
		w, err := zw.CreateHeader(h)
		if err != nil {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		_, err = w.Write(b)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("zip %s: %w", dir, err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("zip %s: %w", dir, err)
	}
	return buf.Bytes(), nil
}

// saveItemsLocked writes every item that differs from what the store holds
// by compare-and-set, and deletes the items that are gone. s.mu held.
func (s *Service) saveItemsLocked() error {
	sh := s.o.Shared
	cur := map[string][]byte{}
	arn := map[string]string{}
	for k, f := range s.funcs {
		b, err := f.sharedBlob()
		if err != nil {
			return fmt.Errorf("encode function %s: %w", k.name, err)
		}
		cur[fnItemKey(k)], arn[fnItemKey(k)] = b, f.Config.FunctionArn
	}
	for u, m := range s.mappings {
		m.mu.Lock()
		b, err := json.Marshal(m.set)
		a := fmt.Sprintf("arn:aws:lambda:%s:%s:event-source-mapping:%s", m.set.Region, m.set.Account, u)
		m.mu.Unlock()
		if err != nil {
			return fmt.Errorf("encode mapping %s: %w", u, err)
		}
		cur[esmItemKey(u)], arn[esmItemKey(u)] = b, a
	}
	for key, b := range cur {
		it, ok := s.items[key]
		if ok && bytes.Equal(it.blob, b) {
			continue
		}
		rev, err := sh.PutItem(itemNamespace, key, it.rev, b)
		if err != nil && sh.IsConflict(err) {
			if k := keyOf(key); !ok && strings.HasPrefix(key, "fn/") {
				// created through another node at the same time
				return awserr.New(tResourceConflict, http.StatusConflict, "Function already exist: %s", k.name)
			}
			return errConcurrent(arn[key])
		}
		if err != nil {
			return fmt.Errorf("save lambda item %s: %w", key, err)
		}
		s.items[key] = item{rev: rev, blob: b}
	}
	for key, it := range s.items {
		if _, ok := cur[key]; ok {
			continue
		}
		err := sh.DeleteItem(itemNamespace, key, it.rev)
		if err != nil && sh.IsConflict(err) {
			return errConcurrent(itemARN(key, it.blob))
		}
		if err != nil {
			return fmt.Errorf("delete lambda item %s: %w", key, err)
		}
		delete(s.items, key)
	}
	return nil
}

// storeCode puts a zip into the replicated object store (cluster mode).
func (s *Service) storeCode(k fkey, zip []byte, info codeInfo) (string, error) {
	if s.o.Shared == nil || zip == nil {
		return "", nil
	}
	name := "lambda-code/" + k.account + "/" + k.region + "/" + k.name + "/" + filepath.Base(info.dir)
	if err := s.o.Shared.PutObject(name, zip); err != nil {
		return "", fmt.Errorf("replicate code of %s: %w", k.name, err)
	}
	return name, nil
}

// discardCode removes code installed for a change that did not happen.
func (s *Service) discardCode(c codeInfo, object string) {
	if !c.local && c.dir != "" {
		os.RemoveAll(c.dir)
	}
	s.dropCode(object)
}

// dropCode removes a replaced or deleted function's replicated zip.
func (s *Service) dropCode(object string) {
	if s.o.Shared == nil || object == "" {
		return
	}
	if err := s.o.Shared.DeleteObject(object); err != nil {
		s.log.Warn("delete replicated code", "object", object, "err", err)
	}
}

// watchShared applies other nodes' changes until Close.
func (s *Service) watchShared() error {
	if s.o.Shared == nil {
		return nil
	}
	if err := s.o.Shared.WatchItems(s.ctx, itemNamespace, s.applyItem); err != nil {
		return fmt.Errorf("lambda: %w", err)
	}
	// what changed between New's load and the watch
	go func() {
		if err := s.loadShared(); err != nil {
			s.log.Warn("lambda: reload shared items", "err", err)
		}
	}()
	return nil
}

// applyItem installs one item's revision (from the watch or the initial
// load) unless this node already has it or a newer one.
func (s *Service) applyItem(key string, val []byte, rev uint64) {
	stale := func() bool {
		it, ok := s.items[key]
		return ok && rev <= it.rev
	}
	s.mu.Lock()
	if _, known := s.items[key]; stale() || (val == nil && !known) {
		s.mu.Unlock()
		return
	}
	s.mu.Unlock()
	switch {
	case strings.HasPrefix(key, "fn/"):
		s.applyFunction(key, val, rev, stale)
	case strings.HasPrefix(key, "esm/"):
		s.applyMappingItem(key, val, rev, stale)
	}
}

func (s *Service) applyFunction(key string, val []byte, rev uint64, stale func() bool) {
	var sf storedFunction
	if val != nil {
		if err := json.Unmarshal(val, &sf); err != nil {
			s.log.Error("lambda: decode shared function", "key", key, "err", err)
			return
		}
	}
	// the code, fetched with no lock held
	var code codeInfo
	fetched := false
	if val != nil && !sf.LocalDir && sf.CodeObject != "" {
		s.mu.Lock()
		k := fkey{sf.Account, sf.Region, sf.Config.FunctionName}
		if f := s.funcs[k]; f != nil && f.CodeObject == sf.CodeObject && f.CodeDir != "" {
			sf.CodeDir = f.CodeDir // unchanged code
		}
		s.mu.Unlock()
		if sf.CodeDir == "" {
			zip, err := s.o.Shared.GetObject(sf.CodeObject)
			if err == nil {
				code, err = s.extractZip(sf.Config.FunctionName, zip)
			}
			if err != nil {
				s.log.Error("lambda: fetch replicated code; retrying", "function", sf.Config.FunctionName, "object", sf.CodeObject, "err", err)
				defer func() { go s.refetch(key, rev, sf.CodeObject, sf.Config.FunctionName) }()
			} else {
				sf.CodeDir, fetched = code.dir, true
			}
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if stale() {
		if fetched {
			os.RemoveAll(code.dir)
		}
		return
	}
	k := fkey{sf.Account, sf.Region, sf.Config.FunctionName}
	if val == nil {
		delete(s.items, key)
		if k = keyOf(key); s.funcs[k] != nil {
			f := s.funcs[k]
			delete(s.funcs, k)
			f.pool.close()
			if !f.LocalDir && f.CodeDir != "" {
				os.RemoveAll(f.CodeDir)
			}
		}
		return
	}
	s.items[key] = item{rev: rev, blob: val}
	old := s.funcs[k]
	f := &function{storedFunction: sf}
	f.pool = s.newPool(f)
	s.funcs[k] = f
	if old != nil {
		old.pool.close()
		if !old.LocalDir && old.CodeDir != "" && old.CodeDir != sf.CodeDir {
			os.RemoveAll(old.CodeDir)
		}
	}
}

// itemARN is the ARN of a replicated item, for error messages.
func itemARN(key string, blob []byte) string {
	if strings.HasPrefix(key, "fn/") {
		k := keyOf(key)
		return functionARN(k.region, k.account, k.name)
	}
	var set mappingSettings
	_ = json.Unmarshal(blob, &set)
	return fmt.Sprintf("arn:aws:lambda:%s:%s:event-source-mapping:%s", set.Region, set.Account, strings.TrimPrefix(key, "esm/"))
}

// keyOf parses "fn/ACCOUNT/REGION/NAME".
func keyOf(item string) fkey {
	p := strings.SplitN(strings.TrimPrefix(item, "fn/"), "/", 3)
	if len(p) != 3 {
		return fkey{}
	}
	return fkey{p[0], p[1], p[2]}
}

func (s *Service) applyMappingItem(key string, val []byte, rev uint64, stale func() bool) {
	uuid := strings.TrimPrefix(key, "esm/")
	var set mappingSettings
	if val != nil {
		if err := json.Unmarshal(val, &set); err != nil || set.UUID != uuid {
			s.log.Error("lambda: decode shared mapping", "key", key, "err", err)
			return
		}
	}
	// a running mapping stops (after its batch) with no Service lock held
	s.mu.Lock()
	m := s.mappings[uuid]
	s.mu.Unlock()
	if m != nil {
		m.stop()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if stale() {
		if m != nil && s.mappings[uuid] == m {
			s.startMappingLocked(m)
		}
		return
	}
	if val == nil {
		delete(s.items, key)
		delete(s.mappings, uuid)
		return
	}
	s.items[key] = item{rev: rev, blob: val}
	if m = s.mappings[uuid]; m == nil {
		m = &mapping{s: s, ckpt: checkpoints{Shards: map[string]shardCkpt{}}}
		s.mappings[uuid] = m
	}
	m.mu.Lock()
	m.set = set
	m.filters, _ = compileFilters(set.FilterCriteria)
	m.mu.Unlock()
	if s.ctx.Err() == nil {
		s.startMappingLocked(m)
	}
}

// refetch retries fetching a function's code (the store was unreachable
// when the function arrived) every second until it succeeds, the item
// changes again, or the service closes.
func (s *Service) refetch(key string, rev uint64, object, name string) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
		}
		zip, err := s.o.Shared.GetObject(object)
		var code codeInfo
		if err == nil {
			code, err = s.extractZip(name, zip)
		}
		if err != nil {
			continue
		}
		s.mu.Lock()
		f := s.funcs[keyOf(key)]
		if s.items[key].rev != rev || f == nil || f.CodeDir != "" {
			s.mu.Unlock()
			os.RemoveAll(code.dir)
			return
		}
		f.CodeDir = code.dir // not replicated: the item is unchanged
		old := f.pool
		f.pool = s.newPool(f)
		s.mu.Unlock()
		old.close()
		s.log.Info("lambda: fetched replicated code", "function", name)
		return
	}
}
