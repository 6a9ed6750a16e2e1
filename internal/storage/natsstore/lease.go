package natsstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Lease is a named, time-bounded claim in the metadata bucket that at most
// one node holds at a time: background work (Firehose delivery, event
// source mappings, retention) runs on the holder and moves when it dies.
//
// The value {owner, expiresMs, epoch} is changed only by compare-and-set on
// the key's revision, so two nodes never both take a free or expired lease.
// A holder must renew before expiresMs; a node takes an expired lease over.
// Safety rests on clocks: a holder stops its work once its own clock passes
// expiresMs − TTL/3 without a renewal (so the clocks may differ by up to
// TTL/3). In nats.go v1.56 only Create takes a per-key TTL, which is why
// the expiry lives in the value.
type Lease struct {
	s     *Store
	key   string
	owner string
	ttl   time.Duration
	now   func() time.Time

	rev     uint64 // revision of our last successful write (0: not held)
	expires int64  // ms, of our last successful write
	epoch   uint64
}

type leaseValue struct {
	Owner     string `json:"owner"`
	ExpiresMs int64  `json:"expiresMs"`
	Epoch     uint64 `json:"epoch"`
}

// NewLease prepares a lease on name for owner (a node name). now may be nil.
func (s *Store) NewLease(name, owner string, ttl time.Duration, now func() time.Time) *Lease {
	if now == nil {
		now = s.opts.Now
	}
	return &Lease{s: s, key: "lease." + name, owner: owner, ttl: ttl, now: now}
}

// Held reports whether this node may act as the holder right now.
func (l *Lease) Held() bool {
	return l.rev != 0 && l.now().UnixMilli() < l.expires-l.ttl.Milliseconds()/3
}

// Deadline is when this node must have stopped acting on the lease unless
// a Step renews it first: its last written expiry less TTL/3 (the allowance
// for clock differences between nodes). Zero when not held.
func (l *Lease) Deadline() time.Time {
	if l.rev == 0 {
		return time.Time{}
	}
	return time.UnixMilli(l.expires - l.ttl.Milliseconds()/3)
}

// Epoch is the lease's takeover count: it grows each time the lease changes
// hands, so work can be fenced by it.
func (l *Lease) Epoch() uint64 { return l.epoch }

// Step acquires, renews or observes the lease once and reports whether this
// node holds it afterwards. Call it every TTL/3 or so.
func (l *Lease) Step(ctx context.Context) (bool, error) {
	now := l.now().UnixMilli()
	e, err := l.s.kv.Get(ctx, l.key)
	var cur leaseValue
	var rev uint64
	switch {
	case errors.Is(err, jetstream.ErrKeyNotFound):
	case err != nil:
		l.rev = 0
		return false, fmt.Errorf("lease %s: %w", l.key, unavailable(err))
	default:
		rev = e.Revision()
		if err := json.Unmarshal(e.Value(), &cur); err != nil {
			return false, fmt.Errorf("lease %s: bad value: %w", l.key, err)
		}
	}
	mine := rev != 0 && cur.Owner == l.owner && rev == l.rev
	if rev != 0 && !mine && now < cur.ExpiresMs {
		l.rev = 0 // someone else holds it
		return false, nil
	}
	next := leaseValue{Owner: l.owner, ExpiresMs: now + l.ttl.Milliseconds(), Epoch: cur.Epoch}
	if !mine {
		next.Epoch++
	}
	b, _ := json.Marshal(next)
	var nrev uint64
	if rev == 0 {
		nrev, err = l.s.kv.Create(ctx, l.key, b)
	} else {
		nrev, err = l.s.kv.Update(ctx, l.key, b, rev)
	}
	if err != nil {
		l.rev = 0
		if errors.Is(err, jetstream.ErrKeyExists) || isJSCode(err, jetstream.JSErrCodeStreamWrongLastSequence) || isJSCode(err, jetstream.JSErrCodeStreamWrongLastSequenceConstant) {
			return false, nil // another node moved first
		}
		return false, fmt.Errorf("lease %s: %w", l.key, unavailable(err))
	}
	l.rev, l.expires, l.epoch = nrev, next.ExpiresMs, next.Epoch
	return true, nil
}

// Release gives the lease up at once (on a clean shutdown), so another node
// need not wait for it to expire.
func (l *Lease) Release(ctx context.Context) error {
	if l.rev == 0 {
		return nil
	}
	b, _ := json.Marshal(leaseValue{Owner: "", ExpiresMs: 0, Epoch: l.epoch})
	_, err := l.s.kv.Update(ctx, l.key, b, l.rev)
	l.rev = 0
	return err
}
