package lease_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/eddy-streams/eddy/internal/lease"
	"github.com/eddy-streams/eddy/internal/storage/memstore"
)

func TestLocalRunsAtOnce(t *testing.T) {
	ran := false
	lease.Local{}.Run(context.Background(), "x", func(ctx context.Context, epoch uint64) {
		ran = ctx.Err() == nil && epoch == 0
	})
	if !ran {
		t.Fatal("Local must call fn with a live context and epoch 0")
	}
}

// fakeClaim is a lease the test holds or drops by hand.
type fakeClaim struct {
	mu       sync.Mutex
	held     bool
	err      error
	epoch    uint64
	ttl      time.Duration
	deadline time.Time
	released bool
	steps    chan struct{}
}

func (c *fakeClaim) Step(ctx context.Context) (bool, error) {
	c.mu.Lock()
	defer func() {
		c.mu.Unlock()
		select {
		case c.steps <- struct{}{}:
		default:
		}
	}()
	if c.err != nil {
		return false, c.err
	}
	if c.held {
		c.deadline = time.Now().Add(c.ttl)
	}
	return c.held, nil
}
func (c *fakeClaim) Deadline() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.deadline }
func (c *fakeClaim) Epoch() uint64       { c.mu.Lock(); defer c.mu.Unlock(); return c.epoch }
func (c *fakeClaim) Release(context.Context) error {
	c.mu.Lock()
	c.released = true
	c.mu.Unlock()
	return nil
}
func (c *fakeClaim) set(held bool, err error) { c.mu.Lock(); c.held, c.err = held, err; c.mu.Unlock() }

func waitFor(t *testing.T, what string, ch <-chan struct{}) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(20 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
	}
}

// TestSharedStartsStopsAndRestarts: fn runs only while the claim is held,
// is cancelled when a step reports the lease gone, and runs again (with the
// new epoch) when it comes back.
func TestSharedStartsStopsAndRestarts(t *testing.T) {
	c := &fakeClaim{ttl: time.Hour, epoch: 4, steps: make(chan struct{}, 1)}
	sh := &lease.Shared{New: func(string) lease.Claim { return c }, TTL: 30 * time.Millisecond}
	started := make(chan uint64, 4)
	stopped := make(chan struct{}, 4)
	ctx, cancel := context.WithCancel(context.Background())
	runDone := make(chan struct{})
	go func() {
		defer close(runDone)
		sh.Run(ctx, "fh", func(ctx context.Context, epoch uint64) {
			started <- epoch
			<-ctx.Done()
			stopped <- struct{}{}
		})
	}()
	waitFor(t, "a step", c.steps)
	select {
	case <-started:
		t.Fatal("fn started without the lease")
	default:
	}
	c.set(true, nil)
	if e := <-started; e != 4 {
		t.Fatalf("epoch %d, want 4", e)
	}
	c.set(false, nil)
	waitFor(t, "fn stopped on lease loss", stopped)
	c.mu.Lock()
	c.epoch = 5
	c.mu.Unlock()
	c.set(true, nil)
	if e := <-started; e != 5 {
		t.Fatalf("epoch after regaining %d, want 5", e)
	}
	cancel()
	waitFor(t, "Run returned", runDone)
	waitFor(t, "fn stopped on cancel", stopped)
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.released {
		t.Fatal("Run must release the lease when it returns")
	}
}

// TestSharedStopsAtDeadline: when renewals fail (no quorum), fn is cancelled
// at the claim's deadline, not left running until a step succeeds.
func TestSharedStopsAtDeadline(t *testing.T) {
	c := &fakeClaim{ttl: 150 * time.Millisecond, held: true, steps: make(chan struct{}, 1)}
	sh := &lease.Shared{New: func(string) lease.Claim { return c }, TTL: time.Hour} // steps every 20 min: only the deadline can stop fn
	started := make(chan struct{}, 1)
	stopped := make(chan struct{}, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go sh.Run(ctx, "fh", func(ctx context.Context, _ uint64) {
		started <- struct{}{}
		c.set(false, errors.New("no quorum"))
		<-ctx.Done()
		stopped <- struct{}{}
	})
	waitFor(t, "start", started)
	waitFor(t, "fn cancelled at the deadline", stopped)
}

// TestSharedFnReturns: fn returning on its own (the work is over) ends Run
// and releases the lease.
func TestSharedFnReturns(t *testing.T) {
	c := &fakeClaim{ttl: time.Hour, held: true, steps: make(chan struct{}, 1)}
	sh := &lease.Shared{New: func(string) lease.Claim { return c }, TTL: time.Hour}
	done := make(chan struct{})
	go func() {
		defer close(done)
		sh.Run(context.Background(), "fh", func(context.Context, uint64) {})
	}()
	waitFor(t, "Run returned after fn", done)
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.released {
		t.Fatal("not released")
	}
}

// memStore is an in-memory versioned store for the fence tests.
type memStore struct {
	mu   sync.Mutex
	blob map[string][]byte
	rev  map[string]uint64
	next uint64
}

var errConflict = errors.New("conflict")

func (m *memStore) LoadMetaRev(ns string) ([]byte, uint64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.blob[ns], m.rev[ns], nil
}
func (m *memStore) UpdateMeta(ns string, rev uint64, b []byte) (uint64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.rev[ns] != rev {
		return 0, errConflict
	}
	m.next++
	m.blob[ns], m.rev[ns] = b, m.next
	return m.next, nil
}
func (m *memStore) IsConflict(err error) bool { return errors.Is(err, errConflict) }

func TestFenceStaleHolderCannotWrite(t *testing.T) {
	st := &memStore{blob: map[string][]byte{}, rev: map[string]uint64{}}
	old, data, err := lease.ClaimCheckpoint(st, "ck", 1)
	if err != nil || data != nil {
		t.Fatalf("first claim: %v %q", err, data)
	}
	if err := old.Save([]byte(`{"pos":10}`)); err != nil {
		t.Fatal(err)
	}
	nw, data, err := lease.ClaimCheckpoint(st, "ck", 2)
	if err != nil || string(data) != `{"pos":10}` {
		t.Fatalf("takeover claim: %v %q", err, data)
	}
	if err := old.Save([]byte(`{"pos":20}`)); !errors.Is(err, lease.ErrFenced) {
		t.Fatalf("stale holder's save: %v, want ErrFenced", err)
	}
	if err := nw.Save([]byte(`{"pos":15}`)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := lease.ClaimCheckpoint(st, "ck", 1); !errors.Is(err, lease.ErrFenced) {
		t.Fatalf("claim with an older epoch: %v, want ErrFenced", err)
	}
	_, data, _ = lease.ClaimCheckpoint(st, "ck", 3)
	if string(data) != `{"pos":15}` {
		t.Fatalf("checkpoint %q, want the new holder's", data)
	}
}

// TestFencedMeta: namespaces under the prefix go through fences (a save
// without a claim only before any holder claimed; a former holder's save
// refused after a takeover; loads unwrap the checkpoint); others pass to
// the backend.
func TestFencedMeta(t *testing.T) {
	be := memstore.New(nil)
	st := &memStore{blob: map[string][]byte{}, rev: map[string]uint64{}}
	fm := &lease.FencedMeta{Backend: be, Store: st, Prefixes: []string{"esm-"}}
	if err := fm.SaveMeta("esm-1", []byte(`{"pos":1}`)); err != nil {
		t.Fatalf("initial save before any holder: %v", err)
	}
	if b, err := fm.LoadMeta("esm-1"); err != nil || string(b) != `{"pos":1}` {
		t.Fatalf("load: %q %v", b, err)
	}
	data, err := fm.Claim("esm-1", 3)
	if err != nil || string(data) != `{"pos":1}` {
		t.Fatalf("claim: %q %v", data, err)
	}
	if err := fm.SaveMeta("esm-1", []byte(`{"pos":2}`)); err != nil {
		t.Fatalf("holder's save: %v", err)
	}
	other := &lease.FencedMeta{Backend: be, Store: st, Prefixes: []string{"esm-"}} // another node
	if _, err := other.Claim("esm-1", 4); err != nil {
		t.Fatal(err)
	}
	if err := fm.SaveMeta("esm-1", []byte(`{"pos":9}`)); !errors.Is(err, lease.ErrFenced) {
		t.Fatalf("former holder's save: %v, want ErrFenced", err)
	}
	fm.Drop("esm-1")
	if err := fm.SaveMeta("esm-1", []byte(`{"pos":9}`)); !errors.Is(err, lease.ErrFenced) {
		t.Fatalf("save without a claim after a holder: %v, want ErrFenced", err)
	}
	if b, _ := fm.LoadMeta("esm-1"); string(b) != `{"pos":2}` {
		t.Fatalf("checkpoint %q, want the last holder's", b)
	}
	if err := fm.SaveMeta("lambda", []byte("x")); err != nil {
		t.Fatal(err)
	}
	if b, _ := be.LoadMeta("lambda"); string(b) != "x" {
		t.Fatalf("other namespaces go to the backend unchanged: %q", b)
	}
}
