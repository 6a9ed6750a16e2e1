package logstore_test

import (
	"errors"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/eddy-streams/eddy/internal/storage"
	"github.com/eddy-streams/eddy/internal/storage/logstore"
	"github.com/eddy-streams/eddy/internal/vfs"
)

func openMem(t *testing.T, mem *vfs.Mem, o logstore.Options) *logstore.Store {
	t.Helper()
	o.FS = mem
	o.Logger = quiet
	st, err := logstore.Open("/data", o)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	return st
}

func batch(s string, n int) []storage.Record {
	out := make([]storage.Record, n)
	for i := range out {
		out[i] = storage.Record{PartitionKey: s, Data: []byte(strings.Repeat(s, 50))}
	}
	return out
}

func readPKs(t *testing.T, st *logstore.Store, id storage.ShardID) string {
	t.Helper()
	var b strings.Builder
	if _, err := st.Read(bg, id, 0, storage.ReadLimits{}, func(r storage.StoredRecord) bool {
		b.Write(r.PartitionKey)
		return true
	}); err != nil {
		t.Fatalf("read: %v", err)
	}
	return b.String()
}

var sh0 = storage.ShardID{Stream: "s", Index: 0}

func TestStickyPoison(t *testing.T) {
	cases := []struct {
		name  string
		mode  logstore.Mode
		fault vfs.Fault
	}{
		{"fsync EIO in always mode", logstore.Always, vfs.Fault{Ops: vfs.OpSync, Times: 1, Err: syscall.EIO, Path: ".seg"}},
		{"write EIO in always mode", logstore.Always, vfs.Fault{Ops: vfs.OpWrite, Times: 1, Err: syscall.EIO, Path: ".seg"}},
		{"write EIO in none mode", logstore.None, vfs.Fault{Ops: vfs.OpWrite, Times: 1, Err: syscall.EIO, Path: ".seg"}},
		{"short write with EIO", logstore.Interval, vfs.Fault{Ops: vfs.OpWrite, Times: 1, Err: syscall.EIO, Partial: true, Path: ".seg"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			mem := vfs.NewMem()
			st := openMem(t, mem, logstore.Options{Durability: c.mode})
			if err := st.CreateShard(bg, sh0, 0); err != nil {
				t.Fatal(err)
			}
			if _, err := st.Append(bg, sh0, batch("a", 3)); err != nil {
				t.Fatal(err)
			}
			mem.Inject(c.fault)
			if _, err := st.Append(bg, sh0, batch("b", 3)); !errors.Is(err, storage.ErrPoisoned) {
				t.Fatalf("append under fault: %v, want ErrPoisoned", err)
			}
			// The fault is gone, but the shard stays poisoned: never retry fsync.
			if _, err := st.Append(bg, sh0, batch("c", 1)); !errors.Is(err, storage.ErrPoisoned) {
				t.Fatalf("append after fault: %v, want ErrPoisoned (sticky)", err)
			}
			if got := readPKs(t, st, sh0); !strings.HasPrefix(got, "aaa") {
				t.Fatalf("acknowledged records unreadable: %q", got)
			}
			if err := st.Close(); !errors.Is(err, storage.ErrPoisoned) {
				t.Fatalf("close of a poisoned store: %v, want ErrPoisoned", err)
			}
			// Reopening clears the poison; the log is a prefix of the appends.
			st = openMem(t, mem, logstore.Options{Durability: c.mode})
			defer st.Close()
			got := readPKs(t, st, sh0)
			if got != "aaa" && got != "aaabbb" {
				t.Fatalf("after reopen the log holds %q, want aaa or aaabbb", got)
			}
			if _, err := st.Append(bg, sh0, batch("d", 1)); err != nil {
				t.Fatalf("append after reopen: %v", err)
			}
			if got2 := readPKs(t, st, sh0); got2 != got+"d" {
				t.Fatalf("after append: %q", got2)
			}
		})
	}
}

func TestBackgroundSyncErrorPoisons(t *testing.T) {
	mem := vfs.NewMem()
	st := openMem(t, mem, logstore.Options{Durability: logstore.Interval, Interval: time.Millisecond})
	defer st.Close()
	st.CreateShard(bg, sh0, 0)
	mem.Inject(vfs.Fault{Ops: vfs.OpSync, Err: syscall.EIO, Path: ".seg"})
	if _, err := st.Append(bg, sh0, batch("a", 1)); err != nil {
		t.Fatalf("interval mode acknowledges after write: %v", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := st.Append(bg, sh0, batch("b", 1))
		if errors.Is(err, storage.ErrPoisoned) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("background sync failure never poisoned the shard (last err %v)", err)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestNoSpaceThenResume(t *testing.T) {
	for _, mode := range []logstore.Mode{logstore.Always, logstore.Interval, logstore.None} {
		t.Run(mode.String(), func(t *testing.T) {
			mem := vfs.NewMem()
			// small segments so that a roll (new files) also meets a full disk
			o := logstore.Options{Durability: mode, SegmentBytes: 2048}
			st := openMem(t, mem, o)
			st.CreateShard(bg, sh0, 0)
			want := ""
			full := 0
			add := func(s string, n int) error {
				_, err := st.Append(bg, sh0, batch(s, n))
				if err == nil {
					want += strings.Repeat(s, n)
				}
				if errors.Is(err, storage.ErrNoSpace) {
					full++
				}
				return err
			}
			if err := add("a", 2); err != nil {
				t.Fatal(err)
			}
			for i := range 30 {
				// leave room for a few hundred bytes only
				mem.SetCapacity(mem.Used() + int64(50+i*37%300))
				for j := 0; j < 5; j++ {
					err := add(string(rune('b'+i%20)), 1+j)
					if err != nil && !errors.Is(err, storage.ErrNoSpace) {
						t.Fatalf("round %d: %v, want nil or ErrNoSpace", i, err)
					}
				}
				mem.SetCapacity(0) // space freed: appends work again
				if err := add("z", 1); err != nil {
					t.Fatalf("round %d: append after freeing space: %v", i, err)
				}
			}
			// injected ENOSPC with a short write
			mem.Inject(vfs.Fault{Ops: vfs.OpWrite, Times: 1, Err: syscall.ENOSPC, Partial: true, Path: ".seg"})
			if err := add("p", 3); !errors.Is(err, storage.ErrNoSpace) {
				t.Fatalf("partial ENOSPC write: %v", err)
			}
			if err := add("q", 1); err != nil {
				t.Fatal(err)
			}
			if full < 30 {
				t.Fatalf("only %d appends met a full disk; the test is not exercising ENOSPC", full)
			}
			if got := readPKs(t, st, sh0); got != want {
				t.Fatalf("log holds %q\nwant        %q", got, want)
			}
			if err := st.Close(); err != nil {
				t.Fatal(err)
			}
			rep, err := logstore.VerifyFS(mem, "/data")
			if err != nil || !rep.OK() {
				t.Fatalf("verify after ENOSPC episodes: %v\n%s", err, rep)
			}
			st = openMem(t, mem, o)
			defer st.Close()
			if got := readPKs(t, st, sh0); got != want {
				t.Fatalf("after reopen the log holds %q, want %q", got, want)
			}
		})
	}
}

func TestLockRefusesSecondOpen(t *testing.T) {
	dir := t.TempDir()
	st, err := logstore.Open(dir, logstore.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := logstore.Open(dir, logstore.Options{Logger: quiet}); !errors.Is(err, storage.ErrLocked) {
		t.Fatalf("second open: %v, want ErrLocked", err)
	}
	if _, err := logstore.Verify(dir); !errors.Is(err, storage.ErrLocked) {
		t.Fatalf("verify of an open store: %v, want ErrLocked", err)
	}
	st.Close()
	st, err = logstore.Open(dir, logstore.Options{Logger: quiet})
	if err != nil {
		t.Fatalf("open after close: %v", err)
	}
	st.Close()
	if _, err := logstore.Open(filepath.Join(dir, "LOCK", "x"), logstore.Options{Logger: quiet}); err == nil {
		t.Fatal("open under a file succeeded")
	}
}

func TestParseDurability(t *testing.T) {
	cases := []struct {
		in   string
		mode logstore.Mode
		d    time.Duration
		ok   bool
	}{
		{"always", logstore.Always, 0, true},
		{"none", logstore.None, 0, true},
		{"interval", logstore.Interval, time.Second, true},
		{"interval=250ms", logstore.Interval, 250 * time.Millisecond, true},
		{"interval=2s", logstore.Interval, 2 * time.Second, true},
		{"interval=0s", 0, 0, false},
		{"interval=-1s", 0, 0, false},
		{"interval=abc", 0, 0, false},
		{"sometimes", 0, 0, false},
		{"", 0, 0, false},
	}
	for _, c := range cases {
		m, d, err := logstore.ParseDurability(c.in)
		if (err == nil) != c.ok || (c.ok && (m != c.mode || d != c.d)) {
			t.Errorf("ParseDurability(%q) = %v, %v, %v", c.in, m, d, err)
		}
	}
}
