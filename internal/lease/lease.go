// Package lease runs background work on exactly one node at a time.
//
// A service that runs a loop per resource (a Firehose delivery stream, a
// Lambda event source mapping, an analytics application) asks a Leaser to
// Run it under a named lease. On one node (Local) the loop simply runs. In
// cluster mode (Shared, over natsstore's replicated KV bucket) the loop runs
// only while this node holds the lease: it starts when the node acquires
// it, its context is cancelled when the node can no longer be sure it still
// holds it, and another node takes it over once the lease expires.
//
// Exactly one node at a time rests on two things:
//
//   - Time. A holder renews every TTL/3. It cancels its loop at its own
//     deadline (the written expiry less TTL/3) unless a renewal came first;
//     another node takes the lease only after the written expiry on its own
//     clock. So the old loop's context is cancelled at least TTL/3 before a
//     new holder starts, as long as clocks differ by less than that.
//   - Fencing. Each takeover raises the lease's epoch. A loop keeps its
//     checkpoint through a Fence: the new holder first rewrites the
//     checkpoint key with its epoch (Claim), so a write by a stale holder
//     (paused past its deadline, say) fails its compare-and-set and cannot
//     move progress backwards or forwards.
//
// Failover time after a holder dies: at most TTL (expiry) plus one step
// interval (TTL/3) before another node starts the loop.
package lease

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"
)

// Leaser runs functions under named leases.
type Leaser interface {
	// Run calls fn each time this node acquires the lease name, with a
	// context that is cancelled as soon as the node loses the lease (or
	// ctx ends) and the lease's epoch (its takeover count, the fencing
	// token). After a loss it waits for fn to return and tries again. Run
	// returns when ctx ends, or when fn returns on its own while the lease
	// is held (the work is over: a stream deleted); it then releases the
	// lease.
	Run(ctx context.Context, name string, fn func(ctx context.Context, epoch uint64))
}

// Local is the single-node Leaser: this node always holds every lease.
type Local struct{}

// Run calls fn once, with epoch 0.
func (Local) Run(ctx context.Context, name string, fn func(context.Context, uint64)) {
	fn(ctx, 0)
}

// Claim is one node's handle on one named lease in a shared store;
// *natsstore.Lease implements it. Its methods are called from one goroutine.
type Claim interface {
	// Step acquires, renews or observes the lease and reports whether
	// this node holds it afterwards.
	Step(ctx context.Context) (bool, error)
	// Deadline is when this node must stop acting without a renewal.
	Deadline() time.Time
	Epoch() uint64
	Release(ctx context.Context) error
}

// Shared is the cluster Leaser over claims in a replicated store.
type Shared struct {
	// New makes this node's claim on a lease name.
	New func(name string) Claim
	// TTL is the lease duration given to New's claims; Run steps every TTL/3.
	TTL    time.Duration
	Now    func() time.Time // nil: time.Now
	Logger *slog.Logger
}

// DefaultTTL is the lease duration of cluster mode: a dead holder's work
// restarts on another node within TTL + TTL/3 (about 13 s).
const DefaultTTL = 10 * time.Second

// running is one start of fn under the lease.
type running struct {
	cancel  context.CancelFunc
	done    chan struct{} // closed when fn returns
	timer   *time.Timer   // cancels fn at the claim's deadline
	expired atomic.Bool   // the timer fired
}

func (r *running) stop() {
	r.cancel()
	r.timer.Stop()
	<-r.done
}

// Run implements Leaser.
func (s *Shared) Run(ctx context.Context, name string, fn func(context.Context, uint64)) {
	now := s.Now
	if now == nil {
		now = time.Now
	}
	log := s.Logger
	if log == nil {
		log = slog.Default()
	}
	log = log.With("lease", name)
	ttl := s.TTL
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	c := s.New(name)
	var r *running // nil while fn is not running
	defer func() {
		if r != nil {
			r.stop()
		}
		rctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if err := c.Release(rctx); err != nil {
			log.Debug("release lease", "err", err)
		}
	}()
	tick := time.NewTicker(ttl / 3)
	defer tick.Stop()
	for {
		if r != nil && r.expired.Load() {
			// the deadline passed before a renewal: fn was cancelled
			<-r.done
			r = nil
			log.Warn("lease deadline passed without renewal: stopped")
		}
		held, err := c.Step(ctx)
		if err != nil && ctx.Err() == nil {
			log.Warn("lease step", "err", err)
		}
		switch {
		case held && r == nil:
			fctx, cancel := context.WithCancel(ctx)
			r = &running{cancel: cancel, done: make(chan struct{})}
			epoch := c.Epoch()
			log.Info("lease acquired: starting", "epoch", epoch)
			rr := r
			r.timer = time.AfterFunc(c.Deadline().Sub(now()), func() { rr.expired.Store(true); cancel() })
			go func() {
				defer close(rr.done)
				fn(fctx, epoch)
			}()
		case held:
			r.timer.Reset(c.Deadline().Sub(now()))
		case r != nil:
			log.Info("lease lost: stopping")
			r.stop()
			r = nil
		}
		var done chan struct{}
		if r != nil {
			done = r.done
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-done:
			if !r.expired.Load() && ctx.Err() == nil {
				return // fn's work is over
			}
		}
	}
}

// Store is a versioned key-value store shared by the nodes (natsstore).
type Store interface {
	LoadMetaRev(namespace string) ([]byte, uint64, error)
	UpdateMeta(namespace string, rev uint64, blob []byte) (uint64, error)
	IsConflict(err error) bool
}

// ErrFenced is a checkpoint write by a holder that lost its lease: another
// node claimed the checkpoint since.
var ErrFenced = errors.New("lease: checkpoint claimed by a newer lease holder")

// Fence is a lease holder's write access to one checkpoint key.
type Fence struct {
	st    Store
	ns    string
	rev   uint64
	epoch uint64
}

type envelope struct {
	Epoch uint64          `json:"epoch"`
	Data  json.RawMessage `json:"data,omitempty"`
}

// ClaimCheckpoint is the first thing a new holder of lease epoch does: it
// reads the checkpoint at ns (nil when none) and writes it back stamped
// with epoch, so any later write by an older holder fails. It refuses
// (ErrFenced) when the key already carries a newer epoch.
func ClaimCheckpoint(st Store, ns string, epoch uint64) (*Fence, []byte, error) {
	for range 5 {
		blob, rev, err := st.LoadMetaRev(ns)
		if err != nil {
			return nil, nil, fmt.Errorf("claim checkpoint %s: %w", ns, err)
		}
		var env envelope
		if blob != nil {
			if err := json.Unmarshal(blob, &env); err != nil {
				return nil, nil, fmt.Errorf("claim checkpoint %s: decode: %w", ns, err)
			}
		}
		if env.Epoch > epoch {
			return nil, nil, fmt.Errorf("claim checkpoint %s at epoch %d (stored %d): %w", ns, epoch, env.Epoch, ErrFenced)
		}
		env.Epoch = epoch
		nb, _ := json.Marshal(env)
		nrev, err := st.UpdateMeta(ns, rev, nb)
		if err != nil && st.IsConflict(err) {
			continue // an older holder's last write raced us: read again
		}
		if err != nil {
			return nil, nil, fmt.Errorf("claim checkpoint %s: %w", ns, err)
		}
		var data []byte
		if len(env.Data) > 0 {
			data = env.Data
		}
		return &Fence{st: st, ns: ns, rev: nrev, epoch: epoch}, data, nil
	}
	return nil, nil, fmt.Errorf("claim checkpoint %s: kept losing races: %w", ns, ErrFenced)
}

// Save writes data (JSON) as the checkpoint, only if no one claimed the key
// since this holder's last write.
func (f *Fence) Save(data []byte) error {
	b, err := json.Marshal(envelope{Epoch: f.epoch, Data: data})
	if err != nil {
		return fmt.Errorf("checkpoint %s: %w", f.ns, err)
	}
	rev, err := f.st.UpdateMeta(f.ns, f.rev, b)
	if err != nil && f.st.IsConflict(err) {
		return fmt.Errorf("checkpoint %s at epoch %d: %w", f.ns, f.epoch, ErrFenced)
	}
	if err != nil {
		return fmt.Errorf("checkpoint %s: %w", f.ns, err)
	}
	f.rev = rev
	return nil
}

// Epoch is the lease epoch this fence writes under.
func (f *Fence) Epoch() uint64 { return f.epoch }

// CheckpointEpoch is the lease epoch a checkpoint was last claimed under (0:
// never claimed).
func CheckpointEpoch(st Store, ns string) (uint64, error) {
	blob, _, err := st.LoadMetaRev(ns)
	if err != nil || blob == nil {
		return 0, err
	}
	var env envelope
	if err := json.Unmarshal(blob, &env); err != nil {
		return 0, fmt.Errorf("checkpoint %s: decode: %w", ns, err)
	}
	return env.Epoch, nil
}
