package natsstore_test

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/eddy-streams/eddy/internal/storage"
	"github.com/eddy-streams/eddy/internal/storage/natsstore"
	"github.com/eddy-streams/eddy/internal/storage/natsstore/natstest"
)

// TestItems: per-item compare-and-set (a stale revision loses, a create of
// an existing key loses, a delete at a stale revision loses, a key can be
// created again after a delete), LoadItems sees exactly the live items of
// its namespace, and WatchItems reports puts and deletes in order.
func TestItems(t *testing.T) {
	st, err := natsstore.OpenEmbedded(t.TempDir(), "items")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type ev struct {
		key string
		val string
		del bool
	}
	var mu sync.Mutex
	var evs []ev
	if err := st.WatchItems(ctx, "ns", func(key string, val []byte, rev uint64) {
		mu.Lock()
		evs = append(evs, ev{key, string(val), val == nil})
		mu.Unlock()
	}); err != nil {
		t.Fatal(err)
	}
	r1, err := st.PutItem("ns", "fn/a b/c", 0, []byte("one"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.PutItem("ns", "fn/a b/c", 0, []byte("again")); !st.IsConflict(err) {
		t.Fatalf("create of an existing item: %v, want a conflict", err)
	}
	r2, err := st.PutItem("ns", "fn/a b/c", r1, []byte("two"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.PutItem("ns", "fn/a b/c", r1, []byte("stale")); !st.IsConflict(err) {
		t.Fatalf("update at a stale revision: %v, want a conflict", err)
	}
	if _, err := st.PutItem("other", "x", 0, []byte("elsewhere")); err != nil {
		t.Fatal(err)
	}
	if _, err := st.PutItem("ns", "esm/u", 0, []byte("m")); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	if err := st.LoadItems("ns", func(key string, val []byte, rev uint64) { got[key] = string(val) }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got["fn/a b/c"] != "two" || got["esm/u"] != "m" {
		t.Fatalf("LoadItems: %v", got)
	}
	if err := st.DeleteItem("ns", "fn/a b/c", r1); !st.IsConflict(err) {
		t.Fatalf("delete at a stale revision: %v, want a conflict", err)
	}
	if err := st.DeleteItem("ns", "fn/a b/c", r2); err != nil {
		t.Fatal(err)
	}
	if _, err := st.PutItem("ns", "fn/a b/c", 0, []byte("three")); err != nil {
		t.Fatalf("create after delete: %v", err)
	}
	want := []ev{{"fn/a b/c", "one", false}, {"fn/a b/c", "two", false}, {"esm/u", "m", false}, {"fn/a b/c", "", true}, {"fn/a b/c", "three", false}}
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		n := len(evs)
		mu.Unlock()
		if n >= len(want) || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(evs) != len(want) {
		t.Fatalf("watch saw %v, want %v", evs, want)
	}
	for i := range want {
		if evs[i] != want[i] {
			t.Fatalf("watch event %d: %v, want %v", i, evs[i], want[i])
		}
	}
}

// TestObjects: a multi-chunk object (the 50 MB Lambda zip limit is far
// above one message) comes back byte for byte; a missing one is
// storage.ErrNotFound; delete is idempotent.
func TestObjects(t *testing.T) {
	st, err := natsstore.OpenEmbedded(t.TempDir(), "objects")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	data := make([]byte, 3<<20+17)
	for i := range data {
		data[i] = byte(rand.IntN(256))
	}
	if err := st.PutObject("lambda-code/a/b/f/1", data); err != nil {
		t.Fatal(err)
	}
	back, err := st.GetObject("lambda-code/a/b/f/1")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(back, data) {
		t.Fatalf("object came back %d bytes, differing from the %d put", len(back), len(data))
	}
	if _, err := st.GetObject("nope"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("missing object: %v, want ErrNotFound", err)
	}
	for range 2 {
		if err := st.DeleteObject("lambda-code/a/b/f/1"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.GetObject("lambda-code/a/b/f/1"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("deleted object: %v, want ErrNotFound", err)
	}
}

// BenchmarkItemPropagation: compare-and-sets of one item through node 0 of
// an in-process 3-node R3 cluster; "acked" waits for the write's answer,
// "seen-on-node1" also until node 1's watch reports it: how soon another
// node's List/Get answers follow a change (Lambda, analytics), against the
// cost of the write itself.
func BenchmarkItemPropagation(b *testing.B) {
	stores, _ := natstest.StartCluster(b, 3)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var last sync.Map // key -> newest revision node 1 saw
	note := make(chan struct{}, 1)
	if err := stores[1].WatchItems(ctx, "bench", func(key string, val []byte, rev uint64) {
		last.Store(key, rev)
		select {
		case note <- struct{}{}:
		default:
		}
	}); err != nil {
		b.Fatal(err)
	}
	val := bytes.Repeat([]byte("x"), 1024)
	revs := map[string]uint64{}
	// warm up: the bucket's stream may still be electing its leader
	for deadline := time.Now().Add(20 * time.Second); ; {
		_, err := stores[0].PutItem("bench", "warmup", 0, val)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			b.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, wait := range []bool{false, true} {
		name := map[bool]string{false: "acked", true: "seen-on-node1"}[wait]
		key := "fn/000000000000/us-east-1/" + name
		b.Run(name, func(b *testing.B) {
			for range b.N {
				r, err := stores[0].PutItem("bench", key, revs[key], val)
				if err != nil {
					b.Fatal(err)
				}
				revs[key] = r
				for wait {
					if v, ok := last.Load(key); ok && v.(uint64) >= r {
						break
					}
					<-note
				}
			}
		})
	}
}
