package logstore_test

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eddy-streams/eddy/internal/storage"
	"github.com/eddy-streams/eddy/internal/storage/logstore"
	"github.com/eddy-streams/eddy/internal/vfs"
)

// In always mode a record is invisible to readers (Bounds, Read, Watch)
// until the fdatasync covering it has returned.
func TestAlwaysReadersSeeOnlySynced(t *testing.T) {
	mem := vfs.NewMem()
	st := openMem(t, mem, logstore.Options{Durability: logstore.Always})
	defer st.Close()
	st.CreateShard(bg, sh0, 0)
	inSync, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	mem.OnSync(func(name string) {
		if strings.HasSuffix(name, ".seg") {
			once.Do(func() { close(inSync); <-release })
		}
	})
	w := st.Watch(sh0, 0)
	done := make(chan error, 1)
	go func() {
		_, err := st.Append(bg, sh0, batch("a", 2))
		done <- err
	}()
	<-inSync // the frame is written, its fdatasync is in flight
	if bd, _ := st.Bounds(bg, sh0); bd.Next != 0 || bd.TipMs != 0 {
		t.Fatalf("unsynced records visible in bounds: %+v", bd)
	}
	if got := readPKs(t, st, sh0); got != "" {
		t.Fatalf("unsynced records readable: %q", got)
	}
	select {
	case <-w:
		t.Fatal("watch fired before the sync")
	case <-done:
		t.Fatal("append acknowledged before its sync returned")
	default:
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	waitClosedT(t, w)
	if got := readPKs(t, st, sh0); got != "aa" {
		t.Fatalf("after the sync: %q", got)
	}
}

func waitClosedT(t *testing.T, ch <-chan struct{}) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatal("watch not closed")
	}
}

// Concurrent appenders to one shard share fdatasyncs: with a 1 ms device
// flush, 32 writers need far fewer syncs than appends.
func TestGroupCommitSharesSyncs(t *testing.T) {
	mem := vfs.NewMem()
	st := openMem(t, mem, logstore.Options{Durability: logstore.Always})
	defer st.Close()
	st.CreateShard(bg, sh0, 0)
	mem.OnSync(func(string) { time.Sleep(time.Millisecond) }) // device latency, not a wait for state
	before := mem.Ops(vfs.OpSync)
	const writers, each = 32, 10
	var wg sync.WaitGroup
	for range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				if _, err := st.Append(bg, sh0, []storage.Record{{PartitionKey: "k", Data: []byte("v")}}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	syncs := mem.Ops(vfs.OpSync) - before
	if syncs == 0 || syncs > writers*each/4 {
		t.Fatalf("%d fdatasyncs for %d appends: group commit is not sharing syncs", syncs, writers*each)
	}
	t.Logf("%d appends, %d fdatasyncs", writers*each, syncs)
}

func TestStats(t *testing.T) {
	mem := vfs.NewMem()
	st := openMem(t, mem, logstore.Options{Durability: logstore.Always, SegmentBytes: 1024})
	defer st.Close()
	for i := range uint32(3) {
		st.CreateShard(bg, storage.ShardID{Stream: "s", Index: i}, 0)
		for range 10 {
			st.Append(bg, storage.ShardID{Stream: "s", Index: i}, batch("x", 2))
		}
	}
	s := st.Stats()
	if s.Shards != 3 || s.Records != 60 || s.Segments <= 3 || s.Bytes < 60*50 || s.Syncs < 30 || s.Poisoned != 0 || s.TailCacheBytes == 0 {
		t.Fatalf("stats %+v", s)
	}
}

// Frames bigger than a tail-cache chunk (PutRecords of 500 × 4 KiB) are
// cached too and read back intact, interleaved with small ones.
func TestTailCacheBigFrames(t *testing.T) {
	mem := vfs.NewMem()
	st := openMem(t, mem, logstore.Options{Durability: logstore.None})
	defer st.Close()
	st.CreateShard(bg, sh0, 0)
	var want strings.Builder
	for i := range 12 {
		n, size := 1, 10
		if i%3 == 0 {
			n, size = 500, 4096 // ~2 MiB frame
		}
		recs := make([]storage.Record, n)
		for j := range recs {
			recs[j] = storage.Record{PartitionKey: string(rune('a' + i)), Data: []byte(strings.Repeat(string(rune('a'+i)), size))}
			want.WriteString(string(rune('a' + i)))
		}
		if _, err := st.Append(bg, sh0, recs); err != nil {
			t.Fatal(err)
		}
	}
	if got := readPKs(t, st, sh0); got != want.String() {
		t.Fatalf("read back %d records, want %d", len(got), want.Len())
	}
	if st.Stats().TailCacheBytes < 2<<20 {
		t.Fatalf("big frames not cached: %+v", st.Stats())
	}
}
