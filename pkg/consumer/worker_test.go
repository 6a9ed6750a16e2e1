package consumer

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/eddy-streams/eddy/internal/shardmap"
	"github.com/eddy-streams/eddy/pkg/kpl"
)

type running struct {
	w      *Worker
	cancel context.CancelFunc
	done   chan error
}

func start(w *Worker) *running {
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{w: w, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- w.Run(ctx) }()
	return r
}

// crash stops a worker without handing its leases over.
func (r *running) crash() { r.cancel(); <-r.done }

func owners(t *testing.T, s LeaseStore) map[string]string {
	t.Helper()
	ls, err := s.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, l := range ls {
		m[l.Key] = l.Owner
	}
	return m
}

func perOwner(m map[string]string) map[string]int {
	c := map[string]int{}
	for _, o := range m {
		c[o]++
	}
	return c
}

// putN puts n records with keys k0..k(keys-1) and data "key:i".
func putN(f *fakeStream, from, n, keys int) []string {
	var out []string
	for i := from; i < from+n; i++ {
		k := "k" + strconv.Itoa(i%keys)
		d := k + ":" + strconv.Itoa(i)
		f.putKey(k, d)
		out = append(out, d)
	}
	return out
}

// TestWorkersBalanceAndFailover: three workers spread six shards two each;
// a crashed worker's leases are taken by the others after the failover
// time, and every record is processed.
func TestWorkersBalanceAndFailover(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newStream(6)
		store := NewMemoryStore()
		log := newLog()
		want := putN(f, 0, 600, 60)
		var ws []*running
		for _, id := range []string{"a", "b", "c"} {
			ws = append(ws, start(testWorker(t, id, f, store, log, nil)))
		}
		time.Sleep(30 * time.Second)
		if c := perOwner(owners(t, store)); c["a"] != 2 || c["b"] != 2 || c["c"] != 2 {
			t.Fatalf("not balanced: %v", c)
		}
		ws[0].crash()
		crashAt := time.Now()
		want = append(want, putN(f, 600, 600, 60)...)
		// every lease has a live owner again within failover + 2 taker periods
		// of a's last renewal (the taker sees a counter change up to one
		// period late, and takes at its first run after failover)
		deadline := crashAt.Add(3*time.Second + 2*3*time.Second)
		for {
			c := perOwner(owners(t, store))
			if c["a"] == 0 && c["b"]+c["c"] == 6 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("a's leases not taken over by %v: %v", deadline.Sub(crashAt), c)
			}
			time.Sleep(100 * time.Millisecond)
		}
		time.Sleep(10 * time.Second)
		for _, d := range want {
			if log.count(d) == 0 {
				t.Fatalf("%s never processed", d)
			}
		}
		for _, r := range ws[1:] {
			r.crash()
		}
	})
}

// TestReshardParentsFirst: after a split and a merge, each child's first
// record is processed only after its parents' last; per key, records come
// in put order; every parent lease ends at SHARD_END with childShardIds.
func TestReshardParentsFirst(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newStream(2)
		store := NewMemoryStore()
		log := newLog()
		putN(f, 0, 300, 40)
		f.split("shardId-000000000000") // → 2, 3
		putN(f, 300, 300, 40)
		f.merge("shardId-000000000003", "shardId-000000000001") // → 4
		putN(f, 600, 300, 40)
		a := start(testWorker(t, "a", f, store, log, nil))
		b := start(testWorker(t, "b", f, store, log, nil))
		time.Sleep(60 * time.Second)
		a.crash()
		b.crash()
		ev := log.snapshot()
		// at least once (a steal may repeat a batch); order checks use first deliveries
		first := map[string]bool{}
		var uniq []event
		for _, e := range ev {
			if !first[string(e.rec.Data)] {
				first[string(e.rec.Data)] = true
				uniq = append(uniq, e)
			}
		}
		if len(uniq) != 900 {
			t.Fatalf("%d distinct records processed, want 900", len(uniq))
		}
		// a worker that has not yet noticed a steal may still deliver a
		// parent's batch late (at least once); first deliveries keep the order
		firstAt, lastAt := map[string]int{}, map[string]int{}
		for i, e := range uniq {
			if _, ok := firstAt[e.shard]; !ok {
				firstAt[e.shard] = i
			}
			lastAt[e.shard] = i
		}
		for _, s := range f.shards {
			for _, p := range s.parents {
				if firstAt[s.id] < lastAt[p] {
					t.Errorf("%s started (event %d) before parent %s ended (event %d)", s.id, firstAt[s.id], p, lastAt[p])
				}
			}
		}
		lastIdx := map[string]int{}
		for _, e := range uniq {
			k, n, _ := strings.Cut(string(e.rec.Data), ":")
			i, _ := strconv.Atoi(n)
			if i < lastIdx[k] {
				t.Fatalf("key %s: %d after %d", k, i, lastIdx[k])
			}
			lastIdx[k] = i
		}
		ls, _ := store.List(context.Background())
		for _, l := range ls {
			closed := l.Key <= "shardId-000000000003" && l.Key != "shardId-000000000002"
			if closed && (!l.Done() || len(l.ChildShardIDs) == 0) {
				t.Errorf("lease %s: checkpoint %s children %v", l.Key, l.Checkpoint, l.ChildShardIDs)
			}
			if l.Key == "shardId-000000000004" && len(l.ParentShardIDs) != 2 {
				t.Errorf("merge child parents %v", l.ParentShardIDs)
			}
		}
	})
}

// TestGracefulShutdownHandsOver: Shutdown calls ShutdownRequested, the
// final checkpoint is stored and the leases are released, so another
// worker takes them at its next taker run, well before the failover time.
func TestGracefulShutdownHandsOver(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newStream(4)
		store := NewMemoryStore()
		log := newLog()
		putN(f, 0, 200, 20)
		slow := func(c *Config) { c.FailoverTime = 30 * time.Second }
		a := start(testWorker(t, "a", f, store, log, slow))
		time.Sleep(5 * time.Second)
		if c := perOwner(owners(t, store)); c["a"] != 4 {
			t.Fatalf("a holds %v", c)
		}
		b := start(testWorker(t, "b", f, store, log, slow))
		time.Sleep(time.Second)
		heldByA := len(a.w.Held()) // includes one b stole that a has not noticed yet
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := a.w.Shutdown(ctx); err != nil {
			t.Fatal(err)
		}
		cancel()
		<-a.done
		if log.shutdowns != heldByA || heldByA != 4 {
			t.Errorf("ShutdownRequested %d times for %d leases", log.shutdowns, heldByA)
		}
		ls, _ := store.List(context.Background())
		for _, l := range ls {
			if l.Owner != "" && l.Owner != "b" || !isSequence(l.Checkpoint) {
				t.Errorf("after shutdown: %+v", l)
			}
		}
		handed := time.Now()
		for perOwner(owners(t, store))["b"] != 4 {
			time.Sleep(100 * time.Millisecond)
		}
		if el := time.Since(handed); el > 31*time.Second {
			t.Errorf("b took the released leases after %v (one taker period is 30 s)", el)
		}
		// b resumes after the checkpoints: nothing processed twice
		putN(f, 200, 100, 20)
		time.Sleep(5 * time.Second)
		b.crash()
		log.mu.Lock()
		defer log.mu.Unlock()
		for d, n := range log.seen {
			if n != 1 {
				t.Errorf("%s processed %d times", d, n)
			}
		}
		if len(log.seen) != 300 {
			t.Errorf("%d records processed", len(log.seen))
		}
	})
}

// TestStealAndLeaseLost: a second worker steals to balance; the victim's
// processor gets LeaseLost and its checkpoints fail with ErrLeaseLost.
func TestStealAndLeaseLost(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newStream(4)
		store := NewMemoryStore()
		log := newLog()
		a := start(testWorker(t, "a", f, store, log, nil))
		time.Sleep(4 * time.Second)
		b := start(testWorker(t, "b", f, store, log, nil))
		time.Sleep(20 * time.Second)
		c := perOwner(owners(t, store))
		if c["a"] != 2 || c["b"] != 2 {
			t.Fatalf("after stealing: %v", c)
		}
		log.mu.Lock()
		nlost := len(log.lost)
		log.mu.Unlock()
		if nlost != 2 || a.w.Stats().LeasesLost != 2 || b.w.Stats().LeasesStolen != 2 {
			t.Fatalf("lost %v, a %+v, b %+v", log.lost, a.w.Stats(), b.w.Stats())
		}
		a.crash()
		b.crash()
	})
}

// TestCheckpointSubSequence: a processor that checkpoints in the middle of
// a KPL aggregate resumes (in a new worker) at the next user record.
func TestCheckpointSubSequence(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newStream(1)
		var recs []kpl.Record
		for i := range 10 {
			recs = append(recs, kpl.Record{PartitionKey: "k" + strconv.Itoa(i), Data: []byte("agg:" + strconv.Itoa(i))})
		}
		f.put("a", shardmap.HashPartitionKey("k0"), kpl.Aggregate(recs))
		f.putKey("plain", "plain:0")
		store := NewMemoryStore()
		stopAt := &stopProc{stop: 4}
		w := start(testWorker(t, "a", f, store, nil, func(c *Config) {
			c.Processor = func(string) RecordProcessor { return stopAt }
		}))
		time.Sleep(5 * time.Second)
		w.crash()
		l, _ := store.Get(context.Background(), "shardId-000000000000")
		if l.SubSequence != 4 || !isSequence(l.Checkpoint) {
			t.Fatalf("checkpoint %s/%d", l.Checkpoint, l.SubSequence)
		}
		log := newLog()
		w2 := start(testWorker(t, "b", f, store, log, nil))
		time.Sleep(15 * time.Second) // a's lease expires first
		w2.crash()
		var got []string
		for _, e := range log.snapshot() {
			got = append(got, string(e.rec.Data))
			if e.rec.Aggregated != strings.HasPrefix(string(e.rec.Data), "agg") {
				t.Errorf("%s: Aggregated %v", e.rec.Data, e.rec.Aggregated)
			}
		}
		if fmt.Sprint(got) != "[agg:5 agg:6 agg:7 agg:8 agg:9 plain:0]" {
			t.Fatalf("resumed with %v", got)
		}
	})
}

// stopProc checkpoints at sub-sequence stop of the first aggregate.
type stopProc struct{ stop int64 }

func (p *stopProc) Initialize(context.Context, InitializationInput) {}
func (p *stopProc) ProcessRecords(ctx context.Context, in ProcessRecordsInput) {
	for _, r := range in.Records {
		if r.Aggregated && r.SubSequenceNumber == p.stop {
			if err := in.Checkpointer.CheckpointRecord(ctx, r); err != nil {
				panic(err)
			}
		}
	}
}
func (p *stopProc) LeaseLost(context.Context, LeaseLostInput)                 {}
func (p *stopProc) ShardEnded(context.Context, ShardEndedInput)               {}
func (p *stopProc) ShutdownRequested(context.Context, ShutdownRequestedInput) {}

// TestAggregateOutsideRangeDropped: an aggregate holding a record that
// belongs to another shard is dropped whole, as the KCL does.
func TestAggregateOutsideRangeDropped(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newStream(2)
		// find keys on each shard
		var k0, k1 string
		for i := 0; k0 == "" || k1 == ""; i++ {
			k := "key" + strconv.Itoa(i)
			if f.shards[0].rng.Contains(shardmap.HashPartitionKey(k)) {
				k0 = k
			} else {
				k1 = k
			}
		}
		bad := kpl.Aggregate([]kpl.Record{{PartitionKey: k0, Data: []byte("bad-0")}, {PartitionKey: k1, Data: []byte("bad-1")}})
		good := kpl.Aggregate([]kpl.Record{{PartitionKey: k0, Data: []byte("good-0")}, {PartitionKey: k0, Data: []byte("good-1")}})
		f.put("a", shardmap.HashPartitionKey(k0), bad)
		f.put("a", shardmap.HashPartitionKey(k0), good)
		store := NewMemoryStore()
		log := newLog()
		w := start(testWorker(t, "a", f, store, log, nil))
		time.Sleep(5 * time.Second)
		w.crash()
		if log.count("bad-0")+log.count("bad-1") != 0 || log.count("good-0") != 1 || log.count("good-1") != 1 {
			t.Fatalf("seen %v", log.seen)
		}
	})
}

// TestInitialPositionLatest: with LATEST, only records put after the
// lease was created are processed; closed shards get no lease.
func TestInitialPositionLatest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newStream(1)
		putN(f, 0, 10, 3)
		f.split("shardId-000000000000")
		putN(f, 10, 10, 3)
		store := NewMemoryStore()
		log := newLog()
		w := start(testWorker(t, "a", f, store, log, func(c *Config) { c.InitialPosition = Latest }))
		time.Sleep(5 * time.Second)
		after := putN(f, 100, 10, 3)
		time.Sleep(5 * time.Second)
		w.crash()
		var got []string
		for _, e := range log.snapshot() {
			got = append(got, string(e.rec.Data))
		}
		sort.Strings(got)
		sort.Strings(after)
		if fmt.Sprint(got) != fmt.Sprint(after) {
			t.Fatalf("processed %v, want %v", got, after)
		}
		if _, ok := owners(t, store)["shardId-000000000000"]; ok {
			t.Fatal("closed shard leased under LATEST")
		}
	})
}

// TestRenewFailureGivesUp: a worker that cannot reach the lease table for
// longer than the failover time stops processing its shards.
func TestRenewFailureGivesUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newStream(2)
		store := NewMemoryStore()
		log := newLog()
		w := start(testWorker(t, "a", f, store, log, nil))
		time.Sleep(4 * time.Second)
		if len(w.w.Held()) != 2 {
			t.Fatalf("held %v", w.w.Held())
		}
		store.SetFail(func(op, key string) error { return errors.New("table unreachable") })
		time.Sleep(6 * time.Second)
		if h := w.w.Held(); len(h) != 0 {
			t.Fatalf("still holding %v", h)
		}
		w.crash()
	})
}

// TestPrepareCheckpointSeenByNextOwner: a pending checkpoint prepared by a
// worker that then dies reaches the next owner's Initialize; the
// checkpoint itself did not move.
func TestPrepareCheckpointSeenByNextOwner(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newStream(1)
		putN(f, 0, 5, 1)
		store := NewMemoryStore()
		prep := &prepProc{}
		a := start(testWorker(t, "a", f, store, nil, func(c *Config) {
			c.Processor = func(string) RecordProcessor { return prep }
		}))
		time.Sleep(3 * time.Second)
		a.crash()
		if prep.err != nil || prep.prepared == "" {
			t.Fatalf("prepare: %q %v", prep.prepared, prep.err)
		}
		next := &prepProc{}
		b := start(testWorker(t, "b", f, store, nil, func(c *Config) {
			c.Processor = func(string) RecordProcessor { return next }
		}))
		time.Sleep(15 * time.Second)
		b.crash()
		if next.init.PendingCheckpoint != prep.prepared || next.init.PendingSubSequenceNumber != 0 || next.init.Checkpoint != TrimHorizon {
			t.Fatalf("next owner initialised with %+v, prepared %s", next.init, prep.prepared)
		}
	})
}

// prepProc prepares a checkpoint at the last record of its first batch and
// never commits.
type prepProc struct {
	init     InitializationInput
	prepared string
	err      error
}

func (p *prepProc) Initialize(_ context.Context, in InitializationInput) { p.init = in }
func (p *prepProc) ProcessRecords(ctx context.Context, in ProcessRecordsInput) {
	if p.prepared == "" {
		last := in.Records[len(in.Records)-1]
		p.err = in.Checkpointer.PrepareCheckpoint(ctx, last.SequenceNumber, last.SubSequenceNumber)
		p.prepared = last.SequenceNumber
	}
}
func (p *prepProc) LeaseLost(context.Context, LeaseLostInput)                 {}
func (p *prepProc) ShardEnded(context.Context, ShardEndedInput)               {}
func (p *prepProc) ShutdownRequested(context.Context, ShutdownRequestedInput) {}

// TestTrimmedShardEnds: a lease whose shard the stream no longer lists
// (trimmed past retention) is ended, so nothing waits on it forever.
func TestTrimmedShardEnds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newStream(1)
		store := NewMemoryStore()
		store.Create(context.Background(), Lease{Key: "shardId-000000000099", Checkpoint: TrimHorizon})
		log := newLog()
		w := start(testWorker(t, "a", f, store, log, nil))
		time.Sleep(3 * time.Second)
		w.crash()
		l, _ := store.Get(context.Background(), "shardId-000000000099")
		if !l.Done() || log.ended["shardId-000000000099"] != 1 {
			t.Fatalf("gone shard's lease %+v, ShardEnded %v", l, log.ended)
		}
	})
}
