package logstore_test

import (
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eddy-streams/eddy/internal/storage"
	"github.com/eddy-streams/eddy/internal/storage/logstore"
	"github.com/eddy-streams/eddy/internal/vfs"
)

type fakeClock struct{ ms atomic.Int64 }

func (c *fakeClock) Now() time.Time          { return time.UnixMilli(c.ms.Load()) }
func (c *fakeClock) Advance(d time.Duration) { c.ms.Add(d.Milliseconds()) }

func countSegs(t *testing.T, fs vfs.FS, dir string) int {
	t.Helper()
	ents, err := fs.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range ents {
		if strings.HasSuffix(e.Name, ".seg") {
			n++
		}
	}
	return n
}

func TestRetentionDeletesWholeSegments(t *testing.T) {
	mem := vfs.NewMem()
	clk := &fakeClock{}
	clk.ms.Store(1_700_000_000_000)
	o := logstore.Options{Durability: logstore.Always, Now: clk.Now, SegmentAge: time.Hour, SegmentBytes: 1 << 30}
	st := openMem(t, mem, o)
	if err := st.CreateShard(bg, sh0, clk.ms.Load()); err != nil {
		t.Fatal(err)
	}
	shardDir := "/data/shards/s/0000000000"
	// 10 hours of traffic, one batch every 20 minutes: the age limit rolls
	// a segment every hour.
	var arrivals []int64
	for i := range 30 {
		r, err := st.Append(bg, sh0, batch(string(rune('a'+i%26)), 2))
		if err != nil {
			t.Fatal(err)
		}
		arrivals = append(arrivals, r.ArrivalMs)
		clk.Advance(20 * time.Minute)
	}
	segs := countSegs(t, mem, shardDir)
	if segs < 9 {
		t.Fatalf("%d segments after 10 h with a 1 h age limit", segs)
	}
	// 24 h retention is not reached: nothing goes.
	if err := st.Trim(bg, sh0, clk.ms.Load()-24*time.Hour.Milliseconds()); err != nil {
		t.Fatal(err)
	}
	if n := countSegs(t, mem, shardDir); n != segs {
		t.Fatalf("trim before anything expired removed segments: %d -> %d", segs, n)
	}
	// Cut at batch 13: positions 0..25 vanish at once; segments wholly
	// before the cutoff are deleted, the one holding it stays.
	cut := arrivals[13]
	if err := st.Trim(bg, sh0, cut); err != nil {
		t.Fatal(err)
	}
	bd, _ := st.Bounds(bg, sh0)
	if bd.Trim != 26 || bd.Next != 60 {
		t.Fatalf("bounds after trim %+v, want trim 26 next 60", bd)
	}
	after := countSegs(t, mem, shardDir)
	if after >= segs || after < segs-5 {
		t.Fatalf("segments %d -> %d after trimming ~4.3 h of 10 h", segs, after)
	}
	if got := readPKs(t, st, sh0); len(got) != 34 || got[0] != 'n' {
		t.Fatalf("read after trim: %q", got)
	}
	st.Close()

	// The horizon and the deletions survive a reopen.
	st = openMem(t, mem, o)
	if bd2, _ := st.Bounds(bg, sh0); bd2 != bd {
		t.Fatalf("bounds after reopen %+v, want %+v", bd2, bd)
	}
	// Everything expires on a quiet shard: the active segment is rolled
	// and deleted too, and the next position is kept.
	clk.Advance(48 * time.Hour)
	if err := st.Trim(bg, sh0, clk.ms.Load()-24*time.Hour.Milliseconds()); err != nil {
		t.Fatal(err)
	}
	if n := countSegs(t, mem, shardDir); n != 1 {
		t.Fatalf("%d segments left after everything expired, want 1 (empty)", n)
	}
	if bd, _ := st.Bounds(bg, sh0); bd.Trim != 60 || bd.Next != 60 {
		t.Fatalf("bounds after expiring all %+v", bd)
	}
	st.Close()
	st = openMem(t, mem, o)
	defer st.Close()
	if r, err := st.Append(bg, sh0, batch("z", 1)); err != nil || r.FirstPos != 60 {
		t.Fatalf("append after full expiry and reopen: %+v, %v; want position 60", r, err)
	}
	if rep, err := logstore.VerifyFS(mem, "/data"); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("verify while open: %v %v", rep, err)
	}
}

// A reader in the middle of a segment keeps reading it while Trim deletes
// the file (unlink semantics plus reference counts), then stops cleanly.
func TestTrimUnderReader(t *testing.T) {
	dir := t.TempDir()
	clk := &fakeClock{}
	clk.ms.Store(1_700_000_000_000)
	st, err := logstore.Open(dir, logstore.Options{Now: clk.Now, Logger: quiet, SegmentBytes: 8 << 10, TailCacheBytes: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	st.CreateShard(bg, sh0, 0)
	for i := range 40 {
		if _, err := st.Append(bg, sh0, batch(string(rune('a'+i%26)), 10)); err != nil {
			t.Fatal(err)
		}
		clk.Advance(time.Second)
	}
	want := readPKs(t, st, sh0)
	var got strings.Builder
	started, release := make(chan struct{}), make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		first := true
		_, err := st.Read(bg, sh0, 0, storage.ReadLimits{}, func(r storage.StoredRecord) bool {
			if first {
				first = false
				close(started)
				<-release
			}
			got.Write(r.PartitionKey)
			return true
		})
		if err != nil {
			t.Errorf("read across trim: %v", err)
		}
	}()
	<-started
	if err := st.Trim(bg, sh0, clk.ms.Load()); err != nil {
		t.Fatal(err)
	}
	if n := countSegs(t, vfs.OS, filepath.Join(dir, "shards", "s", "0000000000")); n != 1 {
		t.Fatalf("%d segments after trimming everything, want 1", n)
	}
	close(release)
	wg.Wait()
	// The segment being read is finished from its unlinked file; segments
	// the reader had not reached yet are gone (Trim is immediate), so the
	// reader ends early, with a clean prefix and no error.
	if got.Len() < 30 || !strings.HasPrefix(want, got.String()) {
		t.Fatalf("reader saw %q, want a prefix of %q covering at least the first segment", got.String(), want)
	}
}
