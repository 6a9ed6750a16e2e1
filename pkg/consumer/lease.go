package consumer

import (
	"context"
	"errors"
	"slices"
	"sort"
	"sync"
)

// Checkpoint sentinels, as the Java KCL writes them.
const (
	TrimHorizon = "TRIM_HORIZON"
	Latest      = "LATEST"
	AtTimestamp = "AT_TIMESTAMP"
	ShardEnd    = "SHARD_END"
)

// Lease is one item of the lease table, in the Java KCL 2.x schema
// (attribute names in brackets).
type Lease struct {
	Key                string   // [leaseKey] the shard id
	Owner              string   // [leaseOwner] worker id; empty = unassigned
	Counter            int64    // [leaseCounter] bumped by every renew, take, evict and checkpoint
	Checkpoint         string   // [checkpoint] sequence number or a sentinel
	SubSequence        int64    // [checkpointSubSequenceNumber]
	PendingCheckpoint  string   // [pendingCheckpoint] two-phase checkpoint, read and kept
	PendingSubSequence int64    // [pendingCheckpointSubSequenceNumber]
	PendingState       []byte   // [pendingCheckpointState]
	OwnerSwitches      int64    // [ownerSwitchesSinceCheckpoint]
	ParentShardIDs     []string // [parentShardId] 1 after a split, 2 after a merge
	ChildShardIDs      []string // [childShardIds] written when the shard ended
	StartingHashKey    string   // [startingHashKey]
	EndingHashKey      string   // [endingHashKey]
	CheckpointOwner    string   // [checkpointOwner] KCL 3.x graceful handoff; read and kept
}

// Done reports whether the shard was processed to its end.
func (l Lease) Done() bool { return l.Checkpoint == ShardEnd }

// ErrConflict is a conditional write that lost: the lease changed under us
// (another worker took it, or the counter moved).
var ErrConflict = errors.New("consumer: lease changed (conditional check failed)")

// LeaseStore is the lease table. Every write is conditional as the Java
// KCL's are, so workers in other processes (and Java workers) can share it.
type LeaseStore interface {
	// Init creates the table if it does not exist and waits until usable.
	Init(ctx context.Context) error
	// List returns every lease (a consistent scan).
	List(ctx context.Context) ([]Lease, error)
	// Get returns one lease, or nil when it does not exist.
	Get(ctx context.Context, key string) (*Lease, error)
	// Create writes l unless a lease with its key exists (false then).
	Create(ctx context.Context, l Lease) (bool, error)
	// Renew bumps the counter if counter and owner are still l's.
	Renew(ctx context.Context, l *Lease) error
	// Take makes owner the owner if the counter is still l's; it bumps the
	// counter and ownerSwitchesSinceCheckpoint.
	Take(ctx context.Context, l *Lease, owner string) error
	// Evict removes the owner if it is still l's owner (graceful hand-over).
	Evict(ctx context.Context, l *Lease) error
	// Checkpoint stores the position if l's owner and counter still hold;
	// it resets ownerSwitchesSinceCheckpoint and bumps the counter.
	Checkpoint(ctx context.Context, l *Lease, seq string, sub int64) error
	// PrepareCheckpoint stores a pending checkpoint (the KCL's two-phase
	// prepareCheckpoint) under the same conditions; Checkpoint clears it.
	PrepareCheckpoint(ctx context.Context, l *Lease, seq string, sub int64) error
	// SetChildren records a finished shard's children (unconditional).
	SetChildren(ctx context.Context, key string, children []string) error
	// Delete removes a lease.
	Delete(ctx context.Context, key string) error
}

// MemoryStore is a LeaseStore in memory: for tests and for one-process
// applications that need no durable checkpoints.
type MemoryStore struct {
	mu     sync.Mutex
	leases map[string]Lease
	failFn func(op, key string) error
}

// SetFail installs fault injection: f is called before every operation
// and an error it returns fails the operation. nil removes it.
func (m *MemoryStore) SetFail(f func(op, key string) error) {
	m.mu.Lock()
	m.failFn = f
	m.mu.Unlock()
}

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore { return &MemoryStore{leases: map[string]Lease{}} }

func (m *MemoryStore) fail(op, key string) error {
	m.mu.Lock()
	f := m.failFn
	m.mu.Unlock()
	if f != nil {
		return f(op, key)
	}
	return nil
}

func cloneLease(l Lease) Lease {
	l.ParentShardIDs = slices.Clone(l.ParentShardIDs)
	l.ChildShardIDs = slices.Clone(l.ChildShardIDs)
	l.PendingState = slices.Clone(l.PendingState)
	return l
}

func (m *MemoryStore) Init(context.Context) error { return m.fail("Init", "") }

func (m *MemoryStore) List(context.Context) ([]Lease, error) {
	if err := m.fail("List", ""); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Lease, 0, len(m.leases))
	for _, l := range m.leases {
		out = append(out, cloneLease(l))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

func (m *MemoryStore) Get(_ context.Context, key string) (*Lease, error) {
	if err := m.fail("Get", key); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	l, ok := m.leases[key]
	if !ok {
		return nil, nil
	}
	c := cloneLease(l)
	return &c, nil
}

func (m *MemoryStore) Create(_ context.Context, l Lease) (bool, error) {
	if err := m.fail("Create", l.Key); err != nil {
		return false, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.leases[l.Key]; ok {
		return false, nil
	}
	m.leases[l.Key] = cloneLease(l)
	return true, nil
}

// update applies f to the stored lease if cond holds.
func (m *MemoryStore) update(op, key string, cond func(Lease) bool, f func(*Lease)) error {
	if err := m.fail(op, key); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	cur, ok := m.leases[key]
	if !ok || !cond(cur) {
		return ErrConflict
	}
	f(&cur)
	m.leases[key] = cur
	return nil
}

func (m *MemoryStore) Renew(_ context.Context, l *Lease) error {
	return m.update("Renew", l.Key, func(c Lease) bool { return c.Counter == l.Counter && c.Owner == l.Owner },
		func(c *Lease) { c.Counter++; l.Counter = c.Counter })
}

func (m *MemoryStore) Take(_ context.Context, l *Lease, owner string) error {
	return m.update("Take", l.Key, func(c Lease) bool { return c.Counter == l.Counter },
		func(c *Lease) {
			c.Counter++
			c.OwnerSwitches++
			c.Owner = owner
			c.CheckpointOwner = ""
			*l = cloneLease(*c)
		})
}

func (m *MemoryStore) Evict(_ context.Context, l *Lease) error {
	return m.update("Evict", l.Key, func(c Lease) bool { return c.Owner == l.Owner },
		func(c *Lease) { c.Owner = ""; c.Counter++; l.Counter = c.Counter; l.Owner = "" })
}

func (m *MemoryStore) Checkpoint(_ context.Context, l *Lease, seq string, sub int64) error {
	return m.update("Checkpoint", l.Key, func(c Lease) bool { return c.Counter == l.Counter && c.Owner == l.Owner },
		func(c *Lease) {
			c.Checkpoint, c.SubSequence, c.OwnerSwitches = seq, sub, 0
			c.PendingCheckpoint, c.PendingSubSequence, c.PendingState = "", 0, nil
			c.Counter++
			l.Checkpoint, l.SubSequence, l.Counter, l.OwnerSwitches = seq, sub, c.Counter, 0
		})
}

func (m *MemoryStore) PrepareCheckpoint(_ context.Context, l *Lease, seq string, sub int64) error {
	return m.update("PrepareCheckpoint", l.Key, func(c Lease) bool { return c.Counter == l.Counter && c.Owner == l.Owner },
		func(c *Lease) {
			c.PendingCheckpoint, c.PendingSubSequence = seq, sub
			c.Counter++
			l.PendingCheckpoint, l.PendingSubSequence, l.Counter = seq, sub, c.Counter
		})
}

func (m *MemoryStore) SetChildren(_ context.Context, key string, children []string) error {
	return m.update("SetChildren", key, func(Lease) bool { return true },
		func(c *Lease) { c.ChildShardIDs = slices.Clone(children) })
}

func (m *MemoryStore) Delete(_ context.Context, key string) error {
	if err := m.fail("Delete", key); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.leases, key)
	return nil
}
