package logstore_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eddy-streams/eddy/internal/storage"
	"github.com/eddy-streams/eddy/internal/storage/logstore"
	"github.com/eddy-streams/eddy/internal/vfs"
)

var bg = context.Background()

// crashModel is what the test knows about one shard across crash rounds.
type crashModel struct {
	known map[uint64]string // position -> payload (acknowledged, or seen after recovery)
	floor uint64            // positions below must survive every later crash
}

// TestCrashProperty appends from several goroutines, cuts the power at a
// random moment (dropping unsynced bytes, sometimes keeping a torn piece of
// them), reopens, and checks: each shard is a gap-free log whose content at
// every known position is what was acknowledged there; in always mode every
// acknowledged record survives; records recovered once survive every later
// crash (recovery syncs them), so no position is ever reused.
func TestCrashProperty(t *testing.T) {
	seeds := 12
	if !testing.Short() {
		seeds = 40
	}
	for _, mode := range []logstore.Mode{logstore.Always, logstore.Interval, logstore.None} {
		t.Run(mode.String(), func(t *testing.T) {
			for seed := range uint64(seeds) {
				t.Run(fmt.Sprint(seed), func(t *testing.T) { crashRun(t, mode, seed) })
			}
		})
	}
}

func crashRun(t *testing.T, mode logstore.Mode, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, uint64(mode)))
	mem := vfs.NewMem()
	const dir = "/data/eddy"
	// a clock that ticks 1 ms per reading, so Trim cutoffs fall between batches
	var clockMs atomic.Int64
	clockMs.Store(1_700_000_000_000)
	opts := logstore.Options{
		Now:           func() time.Time { return time.UnixMilli(clockMs.Add(1)) },
		Durability:    mode,
		Interval:      time.Millisecond,
		FS:            mem,
		Logger:        quiet,
		SegmentBytes:  int64(1024 + rng.IntN(4096)),
		IndexInterval: 128 + rng.IntN(512),
	}
	const shards = 3
	ids := make([]storage.ShardID, shards)
	models := make([]*crashModel, shards)
	for i := range ids {
		ids[i] = storage.ShardID{Stream: "s", Index: uint32(i)}
		models[i] = &crashModel{known: map[uint64]string{}}
	}
	attempted := sync.Map{} // payload -> true
	sealed := sync.Map{}    // ShardID -> true once SealShard returned
	var totalAcked int64
	defer func() {
		if totalAcked == 0 {
			t.Error("no append was acknowledged in any round")
		}
		t.Logf("%d appends acknowledged over 4 rounds; final trim/next: %v", totalAcked, finalBounds(mem, opts, ids))
	}()
	for round := range 4 {
		if round > 0 {
			// whatever the crash left, verification finds no corruption
			rep, err := logstore.VerifyFS(mem, dir)
			if err != nil || !rep.OK() {
				t.Fatalf("round %d: verify after crash: %v\n%s", round, err, rep)
			}
		}
		st, err := logstore.Open(dir, opts)
		if err != nil {
			t.Fatalf("round %d: open: %v", round, err)
		}
		if round == 0 {
			for _, id := range ids {
				if err := st.CreateShard(bg, id, 0); err != nil {
					t.Fatal(err)
				}
			}
		} else {
			for i, id := range ids {
				checkRecovered(t, st, id, models[i], &attempted, mode, round)
			}
			// an acknowledged seal is durable
			sealed.Range(func(k, _ any) bool {
				bd, err := st.Bounds(bg, k.(storage.ShardID))
				if err != nil || !bd.Sealed {
					t.Fatalf("round %d: shard %v was sealed before the crash: %+v, %v", round, k, bd, err)
				}
				return true
			})
		}

		// Writers run until the crash.
		var acked atomic.Int64
		var wg sync.WaitGroup
		var mu sync.Mutex
		crashAt := int64(5 + rng.IntN(60))
		if rng.IntN(4) == 0 {
			crashAt = 0 // crash again right after recovery
		}
		for w := range 4 {
			wg.Add(1)
			wr := rand.New(rand.NewPCG(seed, uint64(round*10+w)))
			go func() {
				defer wg.Done()
				for i := 0; ; i++ {
					si := wr.IntN(shards)
					n := 1 + wr.IntN(6)
					recs := make([]storage.Record, n)
					payloads := make([]string, n)
					for j := range recs {
						payloads[j] = fmt.Sprintf("r%d.w%d.%d.%d.%s", round, w, i, j, string(make([]byte, wr.IntN(200))))
						attempted.Store(payloads[j], true)
						recs[j] = storage.Record{PartitionKey: fmt.Sprint("w", w), Data: []byte(payloads[j])}
					}
					res, err := st.Append(bg, ids[si], recs)
					if err != nil {
						return // crashed: the store is dead now
					}
					mu.Lock()
					m := models[si]
					for j, p := range payloads {
						m.known[res.FirstPos+uint64(j)] = p
					}
					if mode == logstore.Always {
						m.floor = max(m.floor, res.FirstPos+uint64(n))
					}
					mu.Unlock()
					acked.Add(1)
				}
			}()
		}
		// and a janitor trimming old records, which rolls and deletes segments
		crashed := make(chan struct{})
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-crashed:
					return
				default:
				}
				if err := st.Trim(bg, ids[i%shards], clockMs.Load()-300); err != nil {
					return
				}
				time.Sleep(100 * time.Microsecond)
			}
		}()
		// and shards being created, written and deleted
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-crashed:
					return
				default:
				}
				id := storage.ShardID{Stream: fmt.Sprint("tmp-", round), Index: uint32(i)}
				if err := st.CreateShard(bg, id, 0); err != nil {
					return
				}
				if _, err := st.Append(bg, id, []storage.Record{{Data: []byte("t")}}); err != nil {
					return
				}
				switch i % 3 {
				case 0:
					if err := st.DeleteShard(bg, id); err != nil {
						return
					}
				case 1:
					if err := st.SealShard(bg, id); err != nil {
						return
					}
					sealed.Store(id, true)
				}
			}
		}()
		deadline := time.Now().Add(10 * time.Second)
		for acked.Load() < crashAt && time.Now().Before(deadline) {
			time.Sleep(50 * time.Microsecond)
		}
		// a third of the crashes are process kills (page cache survives),
		// the rest power losses, half of them tearing the unsynced tail
		// The old store keeps running against the dead FS; nothing it does
		// reaches the clone that the next round opens.
		mem = mem.CrashClone(vfs.CrashOptions{KeepAll: rng.IntN(3) == 0, Rand: rng, Tear: rng.IntN(2) == 0})
		opts.FS = mem
		close(crashed)
		wg.Wait()
		st.Close()
		totalAcked += acked.Load()
	}
}

func checkRecovered(t *testing.T, st *logstore.Store, id storage.ShardID, m *crashModel, attempted *sync.Map, mode logstore.Mode, round int) {
	t.Helper()
	bd, err := st.Bounds(bg, id)
	if err != nil {
		t.Fatalf("round %d %v: bounds: %v", round, id, err)
	}
	if bd.Next < m.floor {
		t.Fatalf("round %d %v: recovered %d records, but %d were durable (mode %v)", round, id, bd.Next, m.floor, mode)
	}
	lastByWriter := map[string]string{}
	pos := bd.Trim
	_, err = st.Read(bg, id, 0, storage.ReadLimits{}, func(r storage.StoredRecord) bool {
		if r.Pos != pos {
			t.Fatalf("round %d %v: hole: record at %d, expected %d", round, id, r.Pos, pos)
		}
		p := string(r.Data)
		if want, ok := m.known[r.Pos]; ok && want != p {
			t.Fatalf("round %d %v: position %d holds %.20q, acknowledged %.20q", round, id, r.Pos, p, want)
		}
		if _, ok := attempted.Load(p); !ok {
			t.Fatalf("round %d %v: position %d holds bytes never written: %.20q", round, id, r.Pos, p)
		}
		if prev, ok := lastByWriter[string(r.PartitionKey)]; ok && prev == p {
			t.Fatalf("round %d %v: duplicate record %.20q", round, id, p)
		}
		lastByWriter[string(r.PartitionKey)] = p
		pos++
		return true
	})
	if err != nil {
		t.Fatalf("round %d %v: read: %v", round, id, err)
	}
	if pos != bd.Next {
		t.Fatalf("round %d %v: read up to %d, bounds say %d", round, id, pos, bd.Next)
	}
	// What was lost is forgotten; what is here now is durable from now on.
	for p := range m.known {
		if p >= pos {
			delete(m.known, p)
		}
	}
	_, _ = st.Read(bg, id, 0, storage.ReadLimits{}, func(r storage.StoredRecord) bool {
		m.known[r.Pos] = string(r.Data)
		return true
	})
	m.floor = pos
	probe := fmt.Sprint("probe-", round)
	attempted.Store(probe, true)
	if _, err := st.Append(bg, id, []storage.Record{{PartitionKey: "probe", Data: []byte(probe)}}); err == nil {
		// positions continue right after the recovered tip
		bd2, _ := st.Bounds(bg, id)
		if bd2.Next != pos+1 {
			t.Fatalf("round %d %v: append after recovery landed at tip %d, want %d", round, id, bd2.Next, pos+1)
		}
		m.known[pos] = probe
		if mode == logstore.Always {
			m.floor = pos + 1
		}
	} else if !errors.Is(err, storage.ErrClosed) {
		t.Fatalf("round %d %v: append after recovery: %v", round, id, err)
	}
}

func finalBounds(mem *vfs.Mem, opts logstore.Options, ids []storage.ShardID) []storage.Bounds {
	opts.FS = mem.CrashClone(vfs.CrashOptions{})
	st, err := logstore.Open("/data/eddy", opts)
	if err != nil {
		return nil
	}
	defer st.Close()
	var out []storage.Bounds
	for _, id := range ids {
		b, _ := st.Bounds(bg, id)
		out = append(out, b)
	}
	return out
}
