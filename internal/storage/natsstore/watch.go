package natsstore

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/eddy-streams/eddy/internal/storage"
)

// watchSet keeps the channels handed out by Watch, per shard, with one core
// NATS subscription on the shard's notice subject while any are waiting.
type watchSet struct {
	s      *Store
	mu     sync.Mutex
	closed bool
	m      map[storage.ShardID]*watchEntry
}

type watchEntry struct {
	waiters []waiter
	sub     *nats.Subscription
}

type waiter struct {
	next uint64
	ch   chan struct{}
}

func newWatchSet(s *Store) *watchSet {
	return &watchSet{s: s, m: map[storage.ShardID]*watchEntry{}}
}

func closedCh() chan struct{} {
	ch := make(chan struct{})
	close(ch)
	return ch
}

// add registers first and then looks at the shard, so an append between the
// two cannot be missed.
func (w *watchSet) add(id storage.ShardID, next uint64) <-chan struct{} {
	ch := make(chan struct{})
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return closedCh()
	}
	e := w.m[id]
	if e == nil {
		e = &watchEntry{}
		w.m[id] = e
		sub, err := w.s.nc.Subscribe(subject("kinw", id), func(m *nats.Msg) {
			if string(m.Data) == "end" {
				w.notify(id, 0, true)
				return
			}
			if seq, err := strconv.ParseUint(string(m.Data), 10, 64); err == nil {
				w.notify(id, seq, false)
			}
		})
		if err == nil {
			e.sub = sub
		}
	}
	e.waiters = append(e.waiters, waiter{next: next, ch: ch})
	w.mu.Unlock()

	ctx, cancel := context.WithTimeout(context.Background(), w.s.opts.Timeout)
	defer cancel()
	b, err := w.s.Bounds(ctx, id)
	switch {
	case err != nil && errors.Is(err, storage.ErrUnavailable):
		// leave it to the poll
	case err != nil || b.Sealed:
		w.notify(id, 0, true)
	default:
		w.notify(id, b.Next, false)
	}
	return ch
}

// notify closes the waiters whose position is now readable (tip is the
// shard's Next), or all of them when all is set.
func (w *watchSet) notify(id storage.ShardID, tip uint64, all bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	e := w.m[id]
	if e == nil {
		return
	}
	keep := e.waiters[:0]
	for _, wt := range e.waiters {
		if all || wt.next < tip {
			close(wt.ch)
		} else {
			keep = append(keep, wt)
		}
	}
	clear(e.waiters[len(keep):])
	e.waiters = keep
	if len(keep) == 0 {
		if e.sub != nil {
			e.sub.Unsubscribe()
		}
		delete(w.m, id)
	}
}

func (w *watchSet) ids() []storage.ShardID {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make([]storage.ShardID, 0, len(w.m))
	for id := range w.m {
		out = append(out, id)
	}
	return out
}

func (w *watchSet) closeAll() {
	w.mu.Lock()
	w.closed = true
	ids := make([]storage.ShardID, 0, len(w.m))
	for id := range w.m {
		ids = append(ids, id)
	}
	w.mu.Unlock()
	for _, id := range ids {
		w.notify(id, 0, true)
	}
}

// pollLoop re-checks watched shards now and then: a writer that died between
// its ack and its notice must not leave readers waiting forever.
func (s *Store) pollLoop() {
	defer s.wg.Done()
	t := time.NewTicker(s.opts.PollInterval)
	defer t.Stop()
	for {
		select {
		case <-s.done:
			return
		case <-t.C:
		}
		for _, id := range s.watch.ids() {
			ctx, cancel := context.WithTimeout(context.Background(), s.opts.Timeout)
			b, err := s.Bounds(ctx, id)
			cancel()
			switch {
			case err != nil && errors.Is(err, storage.ErrNotFound):
				s.watch.notify(id, 0, true)
			case err == nil && b.Sealed:
				s.watch.notify(id, 0, true)
			case err == nil:
				s.watch.notify(id, b.Next, false)
			}
		}
	}
}
