package natsstore

// Per-item control state and replicated objects, for services whose
// control plane is a set of independent items (Lambda functions and event
// source mappings, analytics applications): one KV key per item, so two
// nodes changing different items never conflict, and each change is a
// compare-and-set on that item's revision.
//
// Keys in EDDY_META: "item.<hex namespace>.<hex item key>" (hex keeps any
// name a single NATS subject token). Objects (function code zips) live in
// the JetStream object store EDDY_OBJECTS (same replica count as the
// metadata bucket), chunked by the object store itself.

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/eddy-streams/eddy/internal/storage"
)

const objectBucket = "EDDY_OBJECTS"

func itemPrefix(ns string) string { return "item." + hex.EncodeToString([]byte(ns)) + "." }

func itemKey(ns, key string) string { return itemPrefix(ns) + hex.EncodeToString([]byte(key)) }

func itemName(ns, k string) (string, bool) {
	p := itemPrefix(ns)
	if len(k) <= len(p) || k[:len(p)] != p {
		return "", false
	}
	b, err := hex.DecodeString(k[len(p):])
	return string(b), err == nil
}

// LoadItems calls fn with every item of a namespace and its revision.
func (s *Store) LoadItems(ns string, fn func(key string, val []byte, rev uint64)) error {
	if s.isClosed() {
		return storage.ErrClosed
	}
	ctx, cancel := s.metaCtx()
	defer cancel()
	w, err := s.kv.Watch(ctx, itemPrefix(ns)+"*", jetstream.IgnoreDeletes())
	if err != nil {
		return fmt.Errorf("load items %q: %w", ns, unavailable(err))
	}
	defer w.Stop()
	for {
		select {
		case <-ctx.Done():
			return fmt.Errorf("load items %q: %w", ns, unavailable(ctx.Err()))
		case e, ok := <-w.Updates():
			if !ok {
				return fmt.Errorf("load items %q: watcher closed", ns)
			}
			if e == nil {
				return nil // initial values done
			}
			if name, ok := itemName(ns, e.Key()); ok && e.Operation() == jetstream.KeyValuePut {
				fn(name, e.Value(), e.Revision())
			}
		}
	}
}

// PutItem writes an item only if it is still at revision rev (0: only if
// absent), returning its new revision; ErrConflict when another node moved
// it first.
func (s *Store) PutItem(ns, key string, rev uint64, val []byte) (uint64, error) {
	if s.isClosed() {
		return 0, storage.ErrClosed
	}
	ctx, cancel := s.metaCtx()
	defer cancel()
	var nrev uint64
	var err error
	if rev == 0 {
		nrev, err = s.kv.Create(ctx, itemKey(ns, key), append([]byte(nil), val...))
	} else {
		nrev, err = s.kv.Update(ctx, itemKey(ns, key), append([]byte(nil), val...), rev)
	}
	if isCASLoss(err) {
		return 0, fmt.Errorf("put item %s/%s at revision %d: %w", ns, key, rev, ErrConflict)
	}
	if err != nil {
		return 0, fmt.Errorf("put item %s/%s: %w", ns, key, unavailable(err))
	}
	return nrev, nil
}

// DeleteItem removes an item only if it is still at revision rev.
func (s *Store) DeleteItem(ns, key string, rev uint64) error {
	if s.isClosed() {
		return storage.ErrClosed
	}
	ctx, cancel := s.metaCtx()
	defer cancel()
	err := s.kv.Delete(ctx, itemKey(ns, key), jetstream.LastRevision(rev))
	if isCASLoss(err) {
		return fmt.Errorf("delete item %s/%s at revision %d: %w", ns, key, rev, ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("delete item %s/%s: %w", ns, key, unavailable(err))
	}
	return nil
}

func isCASLoss(err error) bool {
	return errors.Is(err, jetstream.ErrKeyExists) || isJSCode(err, jetstream.JSErrCodeStreamWrongLastSequence) ||
		isJSCode(err, jetstream.JSErrCodeStreamWrongLastSequenceConstant)
}

// WatchItems calls fn with every later change to a namespace's items (from
// any node, this one included) until ctx ends: val is nil for a deletion.
func (s *Store) WatchItems(ctx context.Context, ns string, fn func(key string, val []byte, rev uint64)) error {
	w, err := s.kv.Watch(ctx, itemPrefix(ns)+"*", jetstream.UpdatesOnly())
	if err != nil {
		return fmt.Errorf("watch items %q: %w", ns, err)
	}
	go func() {
		defer w.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case e, ok := <-w.Updates():
				if !ok {
					return
				}
				if e == nil {
					continue
				}
				name, ok := itemName(ns, e.Key())
				if !ok {
					continue
				}
				if e.Operation() == jetstream.KeyValuePut {
					fn(name, e.Value(), e.Revision())
				} else {
					fn(name, nil, e.Revision())
				}
			}
		}
	}()
	return nil
}

func (s *Store) objects(ctx context.Context) (jetstream.ObjectStore, error) {
	obs, err := s.js.ObjectStore(ctx, objectBucket)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		obs, err = s.js.CreateObjectStore(ctx, jetstream.ObjectStoreConfig{Bucket: objectBucket,
			Storage: jetstream.FileStorage, Replicas: s.opts.Replicas})
		if errors.Is(err, jetstream.ErrBucketExists) || isJSCode(err, jetstream.JSErrCodeStreamNameInUse) {
			obs, err = s.js.ObjectStore(ctx, objectBucket)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("object bucket %s: %w", objectBucket, unavailable(err))
	}
	return obs, nil
}

// PutObject stores a replicated object (chunked by the object store).
func (s *Store) PutObject(name string, data []byte) error {
	if s.isClosed() {
		return storage.ErrClosed
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*s.opts.Timeout)
	defer cancel()
	obs, err := s.objects(ctx)
	if err != nil {
		return err
	}
	if _, err := obs.PutBytes(ctx, name, data); err != nil {
		return fmt.Errorf("put object %s: %w", name, unavailable(err))
	}
	return nil
}

// GetObject reads a replicated object; storage.ErrNotFound when absent.
func (s *Store) GetObject(name string) ([]byte, error) {
	if s.isClosed() {
		return nil, storage.ErrClosed
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*s.opts.Timeout)
	defer cancel()
	obs, err := s.objects(ctx)
	if err != nil {
		return nil, err
	}
	b, err := obs.GetBytes(ctx, name)
	if errors.Is(err, jetstream.ErrObjectNotFound) {
		return nil, fmt.Errorf("get object %s: %w", name, storage.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get object %s: %w", name, unavailable(err))
	}
	return b, nil
}

// DeleteObject removes a replicated object (absent is fine).
func (s *Store) DeleteObject(name string) error {
	if s.isClosed() {
		return storage.ErrClosed
	}
	ctx, cancel := s.metaCtx()
	defer cancel()
	obs, err := s.objects(ctx)
	if err != nil {
		return err
	}
	if err := obs.Delete(ctx, name); err != nil && !errors.Is(err, jetstream.ErrObjectNotFound) {
		return fmt.Errorf("delete object %s: %w", name, unavailable(err))
	}
	return nil
}
