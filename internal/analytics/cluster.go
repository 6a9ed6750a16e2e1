package analytics

// Cluster mode: every node answers for every application.
//
// With Options.Shared (natsstore, in cluster mode) the applications are
// not one blob but one replicated item each, in namespace "analytics",
// keyed "ACCOUNT/REGION/NAME" (so two nodes creating one name race on one
// key): the application's persisted JSON.
//   - saveLocked writes each application that differs from what the store
//     holds by compare-and-set on its revision, and deletes the removed
//     ones. A lost race answers ConcurrentModificationException (400, as
//     AWS answers two concurrent edits of one application); the winner's
//     version then reaches this node through the watch.
//   - Every node watches the namespace and applies other nodes' changes
//     within the watch's latency. It then reconciles its runs with the
//     statuses: an application RUNNING elsewhere is launched here too (the
//     Launcher runs it only on the lease holder, internal/app/leased.go),
//     from the position of its last start unless a holder has checkpointed
//     since (StartMark, the checkpoint epoch at that start); one whose run
//     configuration changed is restarted from its last stopped point; one
//     no longer RUNNING, or deleted, is stopped here.
//
// Lock order: runMu, then mu, then saveMu (as in service.go).

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"

	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/replicated"
)

// SharedItems is the replicated per-item store of cluster mode.
type SharedItems = replicated.Items

// Marked is a Run that knows the checkpoint epoch at its start (the
// leased launcher's): saved with the application so that the other nodes
// launch it from the same point.
type Marked interface {
	StartMark() uint64
}

type item struct {
	rev  uint64
	blob []byte
}

func (k appKey) item() string { return k.account + "/" + k.region + "/" + k.name }

func parseAppKey(s string) (appKey, bool) {
	p := strings.SplitN(s, "/", 3)
	if len(p) != 3 {
		return appKey{}, false
	}
	return appKey{p[0], p[1], p[2]}, true
}

// loadShared is New's load in cluster mode.
func (s *Service) loadShared() error {
	if err := s.migrateLegacy(); err != nil {
		return err
	}
	return s.opt.Shared.LoadItems(metaNamespace, func(key string, val []byte, rev uint64) {
		k, ok := parseAppKey(key)
		if !ok {
			return
		}
		var a application
		if err := json.Unmarshal(val, &a); err != nil {
			s.log.Error("analytics: decode shared application", "key", key, "err", err)
			return
		}
		s.apps[k] = &a
		s.items[key] = item{rev: rev, blob: val}
	})
}

// saveItemsLocked writes the applications that changed by compare-and-set.
// s.mu held.
func (s *Service) saveItemsLocked() error {
	s.saveMu.Lock()
	defer s.saveMu.Unlock()
	sh := s.opt.Shared
	cur := map[string][]byte{}
	for k, a := range s.apps {
		b, err := json.Marshal(a)
		if err != nil {
			return fmt.Errorf("analytics: encode application %s: %w", a.Name, err)
		}
		cur[k.item()] = b
	}
	for key, b := range cur {
		it, ok := s.items[key]
		if ok && bytes.Equal(it.blob, b) {
			continue
		}
		rev, err := sh.PutItem(metaNamespace, key, it.rev, b)
		if err != nil && sh.IsConflict(err) {
			return errLostRace(key)
		}
		if err != nil {
			return fmt.Errorf("analytics: save application %s: %w", key, err)
		}
		s.items[key] = item{rev: rev, blob: b}
	}
	for key, it := range s.items {
		if _, ok := cur[key]; ok {
			continue
		}
		err := sh.DeleteItem(metaNamespace, key, it.rev)
		if err != nil && sh.IsConflict(err) {
			return errLostRace(key)
		}
		if err != nil {
			return fmt.Errorf("analytics: delete application %s: %w", key, err)
		}
		delete(s.items, key)
	}
	return nil
}

func errLostRace(key string) *awserr.Error {
	k, _ := parseAppKey(key)
	return awserr.New(TConcurrentModification, 400, "Application %s was changed through another node at the same time; describe it and retry.", k.name)
}

// watchShared applies other nodes' changes until ctx ends.
func (s *Service) watchShared(ctx context.Context) error {
	if err := s.opt.Shared.WatchItems(ctx, metaNamespace, s.applyItem); err != nil {
		return fmt.Errorf("analytics: %w", err)
	}
	go func() {
		// what changed between New's load and the watch
		type kv struct {
			key string
			val []byte
			rev uint64
		}
		var all []kv
		if err := s.opt.Shared.LoadItems(metaNamespace, func(key string, val []byte, rev uint64) {
			all = append(all, kv{key, val, rev})
		}); err != nil {
			s.log.Warn("analytics: reload shared applications", "err", err)
			return
		}
		for _, e := range all {
			s.applyItem(e.key, e.val, e.rev)
		}
	}()
	return nil
}

// applyItem installs another node's revision of an application and
// reconciles this node's run with it.
func (s *Service) applyItem(key string, val []byte, rev uint64) {
	k, ok := parseAppKey(key)
	if !ok {
		return
	}
	s.runMu.Lock()
	defer s.runMu.Unlock()
	if s.closed {
		return
	}
	s.mu.Lock()
	it, known := s.items[key]
	if (known && rev <= it.rev) || (val == nil && !known) {
		s.mu.Unlock()
		return
	}
	old := s.apps[k]
	if val == nil {
		delete(s.items, key)
		delete(s.apps, k)
		s.mu.Unlock()
		if old != nil {
			s.stopLogged(old)
		}
		return
	}
	var a application
	if err := json.Unmarshal(val, &a); err != nil {
		s.mu.Unlock()
		s.log.Error("analytics: decode shared application", "key", key, "err", err)
		return
	}
	s.items[key] = item{rev: rev, blob: val}
	var before RunSpec
	if old != nil && old.ID == a.ID {
		before = s.spec(old, "")
		*old = a // keep the pointer: runs and their watchers name it
	} else {
		if old != nil {
			s.mu.Unlock()
			s.stopLogged(old) // deleted and created again under the name
			s.mu.Lock()
		}
		old = &a
		s.apps[k] = old
	}
	cur := old
	running := cur.Status == statusRunning
	run := s.runs[cur.ID]
	changed := run != nil && !reflect.DeepEqual(before, s.spec(cur, ""))
	starting := ""
	if len(cur.Inputs) > 0 && cur.Inputs[0].Starting != nil {
		starting = *cur.Inputs[0].Starting
	}
	s.mu.Unlock()
	switch {
	case !running && run != nil:
		s.stopLogged(cur)
	case running && run != nil && changed:
		s.stopLogged(cur)
		s.launchLogged(cur, "LAST_STOPPED_POINT", nil)
	case running && run == nil:
		s.launchLogged(cur, starting, cur.StartMark)
	}
}

func (s *Service) stopLogged(a *application) {
	if err := s.stopRun(a); err != nil {
		s.log.Error("analytics: stop run", "application", a.Name, "err", err)
	}
}

// launchLogged launches a run another node's change asked for. runMu held.
func (s *Service) launchLogged(a *application, position string, mark *uint64) {
	if position == "" {
		position = "NOW"
	}
	if err := s.launchMarked(a, position, mark); err != nil {
		s.log.Error("analytics: launch", "application", a.Name, "err", err)
	}
}

// startShared is Start in cluster mode: launch (under their leases) the
// applications that are RUNNING and follow other nodes' changes. The
// single-node recovery of interrupted transitions does not apply: another
// node may be in the middle of one. runMu held.
func (s *Service) startShared() error {
	ctx, cancel := context.WithCancel(context.Background())
	s.stopWatch = cancel
	s.mu.Lock()
	var relaunch []*application
	for _, a := range s.apps {
		if a.Status == statusRunning {
			relaunch = append(relaunch, a)
		}
	}
	s.mu.Unlock()
	for _, a := range relaunch {
		starting := ""
		if len(a.Inputs) > 0 && a.Inputs[0].Starting != nil {
			starting = *a.Inputs[0].Starting
		}
		s.launchLogged(a, starting, a.StartMark)
	}
	return s.watchShared(ctx)
}

// migrateLegacy copies the "analytics" blob (written before the
// applications were shared per item) into the items, then empties it so
// that deleting every application later does not bring these back. Items
// another node created first are left alone.
func (s *Service) migrateLegacy() error {
	blob, err := s.opt.Backend.LoadMeta(metaNamespace)
	if err != nil {
		return err
	}
	if blob == nil {
		return nil
	}
	var p persisted
	if err := json.Unmarshal(blob, &p); err != nil {
		return fmt.Errorf("decode metadata: %w", err)
	}
	if len(p.Apps) == 0 {
		return nil
	}
	for _, a := range p.Apps {
		b, err := json.Marshal(a)
		if err != nil {
			return err
		}
		key := appKey{a.Account, a.Region, a.Name}.item()
		if _, err := s.opt.Shared.PutItem(metaNamespace, key, 0, b); err != nil && !s.opt.Shared.IsConflict(err) {
			return fmt.Errorf("migrate application %s: %w", key, err)
		}
	}
	if err := s.opt.Backend.SaveMeta(metaNamespace, []byte(`{"version":1,"apps":[]}`)); err != nil {
		return fmt.Errorf("clear migrated metadata: %w", err)
	}
	s.log.Info("analytics: copied the single-blob applications into per-item keys", "applications", len(p.Apps))
	return nil
}
