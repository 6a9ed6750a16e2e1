// Package memstore is an in-memory storage.Backend: fast, not durable. It is
// the backend of `--durability none --data-dir ""` style test servers and the
// reference the conformance suite is first checked against.
package memstore

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/eddy-streams/eddy/internal/storage"
)

// Store is the in-memory backend.
type Store struct {
	mu     sync.RWMutex
	shards map[storage.ShardID]*shard
	meta   map[string][]byte
	closed bool
	now    func() time.Time
}

type rec struct {
	ms   int64
	pk   []byte
	data []byte
}

type shard struct {
	mu        sync.RWMutex
	base      uint64 // position of recs[0]
	recs      []rec
	lastMs    int64
	createdMs int64
	sealed    bool
	watch     chan struct{}
}

// New returns an empty store. now may be nil (wall clock).
func New(now func() time.Time) *Store {
	if now == nil {
		now = time.Now
	}
	return &Store{shards: map[storage.ShardID]*shard{}, meta: map[string][]byte{}, now: now}
}

func (s *Store) get(id storage.ShardID) (*shard, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, storage.ErrClosed
	}
	sh := s.shards[id]
	if sh == nil {
		return nil, fmt.Errorf("shard %s/%d: %w", id.Stream, id.Index, storage.ErrNotFound)
	}
	return sh, nil
}

func (s *Store) CreateShard(_ context.Context, id storage.ShardID, createdMs int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return storage.ErrClosed
	}
	if s.shards[id] != nil {
		return fmt.Errorf("shard %s/%d: %w", id.Stream, id.Index, storage.ErrExists)
	}
	s.shards[id] = &shard{createdMs: createdMs, lastMs: createdMs, watch: make(chan struct{})}
	return nil
}

func (s *Store) Append(_ context.Context, id storage.ShardID, recs []storage.Record) (storage.AppendResult, error) {
	if len(recs) == 0 {
		return storage.AppendResult{}, fmt.Errorf("append to shard %s/%d: empty batch", id.Stream, id.Index)
	}
	sh, err := s.get(id)
	if err != nil {
		return storage.AppendResult{}, err
	}
	ms := s.now().UnixMilli()
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.sealed {
		return storage.AppendResult{}, storage.ErrShardSealed
	}
	ms = max(ms, sh.lastMs)
	sh.lastMs = ms
	first := sh.base + uint64(len(sh.recs))
	for _, r := range recs {
		// one allocation per record for key and data
		b := make([]byte, len(r.PartitionKey)+len(r.Data))
		n := copy(b, r.PartitionKey)
		copy(b[n:], r.Data)
		sh.recs = append(sh.recs, rec{ms: ms, pk: b[:n:n], data: b[n:]})
	}
	close(sh.watch)
	sh.watch = make(chan struct{})
	return storage.AppendResult{FirstPos: first, ArrivalMs: ms}, nil
}

func (s *Store) Read(ctx context.Context, id storage.ShardID, from uint64, lim storage.ReadLimits, fn func(storage.StoredRecord) bool) (uint64, error) {
	sh, err := s.get(id)
	if err != nil {
		return from, err
	}
	// fn runs without the lock (a slow reader must not stall Append): the
	// records below the snapshot's length are never written again (Append
	// writes past it, Trim builds a new slice).
	sh.mu.RLock()
	recs, base := sh.recs, sh.base
	sh.mu.RUnlock()
	if from < base {
		from = base
	}
	pos := from
	n, bytes := 0, 0
	for i := int(from - base); i >= 0 && i < len(recs); i++ {
		r := &recs[i]
		sz := len(r.pk) + len(r.data)
		if n > 0 && ((lim.MaxRecords > 0 && n >= lim.MaxRecords) || (lim.MaxBytes > 0 && bytes+sz > lim.MaxBytes)) {
			break
		}
		n++
		bytes += sz
		pos++
		if !fn(storage.StoredRecord{Pos: pos - 1, ArrivalMs: r.ms, PartitionKey: r.pk, Data: r.data}) {
			break
		}
	}
	return pos, nil
}

func (s *Store) PosAtTime(_ context.Context, id storage.ShardID, ms int64) (uint64, error) {
	sh, err := s.get(id)
	if err != nil {
		return 0, err
	}
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	i := sort.Search(len(sh.recs), func(i int) bool { return sh.recs[i].ms >= ms })
	return sh.base + uint64(i), nil
}

func (s *Store) Bounds(_ context.Context, id storage.ShardID) (storage.Bounds, error) {
	sh, err := s.get(id)
	if err != nil {
		return storage.Bounds{}, err
	}
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	b := storage.Bounds{Trim: sh.base, Next: sh.base + uint64(len(sh.recs)), Sealed: sh.sealed, CreatedMs: sh.createdMs}
	if b.Next > 0 {
		b.TipMs = sh.lastMs
	}
	return b, nil
}

func (s *Store) Watch(id storage.ShardID, next uint64) <-chan struct{} {
	sh, err := s.get(id)
	if err != nil {
		return closedCh
	}
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	if sh.sealed || sh.base+uint64(len(sh.recs)) > next {
		return closedCh
	}
	return sh.watch
}

var closedCh = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

func (s *Store) SealShard(_ context.Context, id storage.ShardID) error {
	sh, err := s.get(id)
	if err != nil {
		return err
	}
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if !sh.sealed {
		sh.sealed = true
		close(sh.watch)
		sh.watch = make(chan struct{})
	}
	return nil
}

func (s *Store) Trim(_ context.Context, id storage.ShardID, cutoffMs int64) error {
	sh, err := s.get(id)
	if err != nil {
		return err
	}
	sh.mu.Lock()
	defer sh.mu.Unlock()
	i := sort.Search(len(sh.recs), func(i int) bool { return sh.recs[i].ms >= cutoffMs })
	if i == 0 {
		return nil
	}
	sh.recs = append([]rec(nil), sh.recs[i:]...)
	sh.base += uint64(i)
	return nil
}

func (s *Store) DeleteShard(_ context.Context, id storage.ShardID) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return storage.ErrClosed
	}
	sh := s.shards[id]
	if sh == nil {
		return fmt.Errorf("shard %s/%d: %w", id.Stream, id.Index, storage.ErrNotFound)
	}
	delete(s.shards, id)
	sh.mu.Lock()
	close(sh.watch)
	sh.watch = closedCh
	sh.sealed = true
	sh.mu.Unlock()
	return nil
}

func (s *Store) SaveMeta(ns string, blob []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return storage.ErrClosed
	}
	s.meta[ns] = append([]byte(nil), blob...)
	return nil
}

func (s *Store) LoadMeta(ns string) ([]byte, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, storage.ErrClosed
	}
	return s.meta[ns], nil
}

func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	// wake every watcher: the backend is gone
	for _, sh := range s.shards {
		sh.mu.Lock()
		close(sh.watch)
		sh.watch = closedCh
		sh.mu.Unlock()
	}
	return nil
}

var _ storage.Backend = (*Store)(nil)
