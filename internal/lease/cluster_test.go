package lease_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eddy-streams/eddy/internal/lease"
	"github.com/eddy-streams/eddy/internal/storage/natsstore/natstest"
)

// TestSharedOneHolderAcrossNodes runs the same leased loop on three nodes of
// an in-process R3 cluster: exactly one runs it; when that node's NATS
// server dies, another takes over (with a higher epoch), the two never run
// at once, and the dead holder's checkpoint writes are fenced off.
func TestSharedOneHolderAcrossNodes(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a 3-node NATS cluster and waits for a lease to expire")
	}
	stores, servers := natstest.StartCluster(t, 3)
	const ttl = 1500 * time.Millisecond
	var (
		active, maxActive atomic.Int32
		mu                sync.Mutex
		fences            = map[int]*lease.Fence{}
	)
	type start struct {
		node  int
		epoch uint64
	}
	starts := make(chan start, 16)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()
	for i, st := range stores {
		sh := &lease.Shared{TTL: ttl, New: func(name string) lease.Claim { return st.NewLease(name, fmt.Sprint("n", i), ttl, nil) }}
		wg.Add(1)
		go func() {
			defer wg.Done()
			sh.Run(ctx, "firehose.s1", func(ctx context.Context, epoch uint64) {
				n := active.Add(1)
				defer active.Add(-1)
				for {
					m := maxActive.Load()
					if n <= m || maxActive.CompareAndSwap(m, n) {
						break
					}
				}
				f, _, err := lease.ClaimCheckpoint(st, "ck.s1", epoch)
				if err != nil {
					t.Errorf("node %d claim at epoch %d: %v", i, epoch, err)
					return
				}
				mu.Lock()
				fences[i] = f
				mu.Unlock()
				starts <- start{i, epoch}
				<-ctx.Done()
			})
		}()
	}
	var first start
	select {
	case first = <-starts:
	case <-time.After(30 * time.Second):
		t.Fatal("no node started the leased loop")
	}
	// the holder's NATS server dies: its renewals fail, its loop stops at
	// its deadline, and another node takes the lease after it expires
	servers[first.node].Shutdown()
	var second start
	select {
	case second = <-starts:
	case <-time.After(40 * time.Second):
		t.Fatal("no node took the lease over after the holder died")
	}
	if second.node == first.node || second.epoch <= first.epoch {
		t.Fatalf("takeover %+v after %+v: want another node and a higher epoch", second, first)
	}
	if m := maxActive.Load(); m != 1 {
		t.Fatalf("%d loops ran at once, want 1", m)
	}
	// a write under the old epoch (a holder paused past its deadline)
	// through a live node fails; the new holder's succeeds
	mu.Lock()
	newF := fences[second.node]
	mu.Unlock()
	stale, _, err := lease.ClaimCheckpoint(stores[second.node], "ck.s1", second.epoch) // same epoch, fresh fence at the current revision
	if err != nil {
		t.Fatal(err)
	}
	if err := newF.Save([]byte(`{"pos":1}`)); !errors.Is(err, lease.ErrFenced) {
		t.Fatalf("save through a fence whose key moved on: %v, want ErrFenced", err)
	}
	if err := stale.Save([]byte(`{"pos":2}`)); err != nil {
		t.Fatalf("save through the current fence: %v", err)
	}
	if _, _, err := lease.ClaimCheckpoint(stores[second.node], "ck.s1", first.epoch); !errors.Is(err, lease.ErrFenced) {
		t.Fatalf("claim under the dead holder's epoch: %v, want ErrFenced", err)
	}
}
