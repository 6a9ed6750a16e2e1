package natsstore

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/eddy-streams/eddy/internal/storage"
)

// ErrConflict is UpdateMeta's answer when the key moved since the revision
// the caller read: another node won; reload and decide again.
var ErrConflict = errors.New("natsstore: metadata changed by another node")

func metaKey(ns string) string { return "meta." + hex.EncodeToString([]byte(ns)) }

func (s *Store) metaCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), s.opts.Timeout)
}

func (s *Store) SaveMeta(namespace string, blob []byte) error {
	if s.isClosed() {
		return storage.ErrClosed
	}
	ctx, cancel := s.metaCtx()
	defer cancel()
	if _, err := s.kv.Put(ctx, metaKey(namespace), append([]byte(nil), blob...)); err != nil {
		return fmt.Errorf("save meta %q: %w", namespace, unavailable(err))
	}
	return nil
}

func (s *Store) LoadMeta(namespace string) ([]byte, error) {
	blob, _, err := s.LoadMetaRev(namespace)
	return blob, err
}

// LoadMetaRev returns a namespace's blob and its KV revision (0 when none).
func (s *Store) LoadMetaRev(namespace string) ([]byte, uint64, error) {
	if s.isClosed() {
		return nil, 0, storage.ErrClosed
	}
	ctx, cancel := s.metaCtx()
	defer cancel()
	e, err := s.kv.Get(ctx, metaKey(namespace))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("load meta %q: %w", namespace, unavailable(err))
	}
	return e.Value(), e.Revision(), nil
}

// UpdateMeta replaces a namespace's blob only if it is still at revision rev
// (0: only if absent), returning the new revision. Two nodes racing on one
// control-plane change: exactly one gets ErrConflict.
func (s *Store) UpdateMeta(namespace string, rev uint64, blob []byte) (uint64, error) {
	if s.isClosed() {
		return 0, storage.ErrClosed
	}
	ctx, cancel := s.metaCtx()
	defer cancel()
	var nrev uint64
	var err error
	if rev == 0 {
		nrev, err = s.kv.Create(ctx, metaKey(namespace), append([]byte(nil), blob...))
	} else {
		nrev, err = s.kv.Update(ctx, metaKey(namespace), append([]byte(nil), blob...), rev)
	}
	if errors.Is(err, jetstream.ErrKeyExists) || isJSCode(err, jetstream.JSErrCodeStreamWrongLastSequence) || isJSCode(err, jetstream.JSErrCodeStreamWrongLastSequenceConstant) {
		return 0, fmt.Errorf("update meta %q at revision %d: %w", namespace, rev, ErrConflict)
	}
	if err != nil {
		return 0, fmt.Errorf("update meta %q: %w", namespace, unavailable(err))
	}
	return nrev, nil
}

// WatchMeta calls fn with every new revision of a namespace's blob (from
// any node) until ctx ends.
func (s *Store) WatchMeta(ctx context.Context, namespace string, fn func(blob []byte, rev uint64)) error {
	w, err := s.kv.Watch(ctx, metaKey(namespace), jetstream.UpdatesOnly())
	if err != nil {
		return fmt.Errorf("watch meta %q: %w", namespace, err)
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
				if e != nil && e.Operation() == jetstream.KeyValuePut {
					fn(e.Value(), e.Revision())
				}
			}
		}
	}()
	return nil
}

// IsConflict reports whether err is a lost compare-and-set race.
func (s *Store) IsConflict(err error) bool { return errors.Is(err, ErrConflict) }
