package vfs

import (
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

func readAll(t *testing.T, fs FS, name string) string {
	t.Helper()
	f, err := fs.Open(name)
	if err != nil {
		t.Fatalf("open %s: %v", name, err)
	}
	defer f.Close()
	n, _ := f.Size()
	b := make([]byte, n)
	if _, err := f.ReadAt(b, 0); err != nil && !errors.Is(err, io.EOF) {
		t.Fatal(err)
	}
	return string(b)
}

func TestMemCrashKeepsOnlySynced(t *testing.T) {
	m := NewMem()
	if err := m.MkdirAll("/d", 0o755); err != nil {
		t.Fatal(err)
	}
	m.SyncAll()
	f, err := m.Create("/d/a")
	if err != nil {
		t.Fatal(err)
	}
	f.WriteAt([]byte("hello"), 0)
	f.Sync()
	f.WriteAt([]byte(" world"), 5)
	// the file's entry is not durable yet: a crash removes it entirely
	m.Crash()
	if _, err := m.Stat("/d/a"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("unsynced dir entry survived crash: %v", err)
	}
	if _, err := f.WriteAt([]byte("x"), 0); err == nil {
		t.Fatal("stale handle still writable after crash")
	}

	f, _ = m.Create("/d/a")
	f.WriteAt([]byte("hello"), 0)
	f.Sync()
	m.SyncDir("/d")
	f.WriteAt([]byte(" world"), 5)
	if got := readAll(t, m, "/d/a"); got != "hello world" {
		t.Fatalf("before crash: %q", got)
	}
	m.Crash()
	if got := readAll(t, m, "/d/a"); got != "hello" {
		t.Fatalf("after crash: %q, want synced part only", got)
	}

	// rename is durable only after the directory sync
	g, _ := m.Create("/d/b.tmp")
	g.WriteAt([]byte("new"), 0)
	g.Sync()
	m.SyncDir("/d")
	m.Rename("/d/b.tmp", "/d/b")
	m.Crash()
	if _, err := m.Stat("/d/b"); err == nil {
		t.Fatal("rename survived without dir sync")
	}
	m.Rename("/d/b.tmp", "/d/b")
	m.SyncDir("/d")
	m.Crash()
	if got := readAll(t, m, "/d/b"); got != "new" {
		t.Fatalf("renamed file: %q", got)
	}
}

func TestMemCrashTornTail(t *testing.T) {
	for seed := range uint64(50) {
		m := NewMem()
		f, _ := m.Create("/a")
		f.WriteAt([]byte("synced"), 0)
		f.Sync()
		m.SyncDir("/")
		f.WriteAt([]byte("unsynced-tail"), 6)
		m.CrashWith(CrashOptions{Rand: rand.New(rand.NewPCG(seed, 1)), Tear: true})
		got := readAll(t, m, "/a")
		if len(got) < 6 || got[:6] != "synced" || len(got) > 6+len("unsynced-tail") {
			t.Fatalf("seed %d: %q", seed, got)
		}
	}
}

func TestMemFaults(t *testing.T) {
	m := NewMem()
	f, _ := m.Create("/a")
	m.Inject(Fault{Ops: OpWrite, After: 1, Times: 1, Err: syscall.EIO})
	if _, err := f.WriteAt([]byte("a"), 0); err != nil {
		t.Fatalf("first write: %v", err)
	}
	if _, err := f.WriteAt([]byte("b"), 1); !errors.Is(err, syscall.EIO) {
		t.Fatalf("second write: %v, want EIO", err)
	}
	if _, err := f.WriteAt([]byte("c"), 1); err != nil {
		t.Fatalf("third write: %v", err)
	}
	m.ClearFaults()
	m.Inject(Fault{Ops: OpSync, Err: syscall.EIO})
	if err := f.Sync(); !errors.Is(err, syscall.EIO) {
		t.Fatalf("sync: %v", err)
	}

	m.ClearFaults()
	m.SetCapacity(m.Used() + 4)
	n, err := f.WriteAt([]byte("123456"), 2)
	if !errors.Is(err, syscall.ENOSPC) || n != 4 {
		t.Fatalf("capacity write: n=%d err=%v", n, err)
	}
	if err := f.Truncate(2); err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte("12"), 2); err != nil {
		t.Fatalf("write after freeing space: %v", err)
	}
}

func TestLock(t *testing.T) {
	for name, fs := range map[string]FS{"os": OS, "mem": NewMem()} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			if name == "mem" {
				fs.MkdirAll(dir, 0o755)
			}
			p := filepath.Join(dir, "LOCK")
			l, err := fs.Lock(p)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := fs.Lock(p); !errors.Is(err, ErrLocked) {
				t.Fatalf("second lock: %v, want ErrLocked", err)
			}
			l.Close()
			l2, err := fs.Lock(p)
			if err != nil {
				t.Fatalf("lock after release: %v", err)
			}
			l2.Close()
		})
	}
}

func TestOSFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	f, err := OS.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteAt([]byte("abcdef"), 0)
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	f.Truncate(3)
	if n, _ := f.Size(); n != 3 {
		t.Fatalf("size %d", n)
	}
	f.Close()
	if err := OS.SyncDir(filepath.Dir(p)); err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, OS, p); got != "abc" {
		t.Fatalf("%q", got)
	}
	ents, _ := OS.ReadDir(filepath.Dir(p))
	if len(ents) != 1 || ents[0].Name != "f" || ents[0].Size != 3 {
		t.Fatalf("readdir %+v", ents)
	}
}

func TestMemCrashClone(t *testing.T) {
	m := NewMem()
	f, _ := m.Create("/a")
	f.WriteAt([]byte("durable"), 0)
	f.Sync()
	m.SyncDir("/")
	f.WriteAt([]byte("+volatile"), 7)
	g, _ := m.Create("/b") // entry never synced

	c := m.CrashClone(CrashOptions{})
	if got := readAll(t, c, "/a"); got != "durable" {
		t.Fatalf("clone after power loss: %q", got)
	}
	if _, err := c.Stat("/b"); err == nil {
		t.Fatal("unsynced entry survived")
	}
	// the old FS and its handles are dead: nothing reaches the clone
	if _, err := m.Create("/c"); err == nil {
		t.Fatal("create on a crashed FS succeeded")
	}
	if err := m.Remove("/a"); err == nil {
		t.Fatal("remove on a crashed FS succeeded")
	}
	if _, err := g.WriteAt([]byte("x"), 0); err == nil {
		t.Fatal("write through an old handle succeeded")
	}

	// a process kill keeps everything, and a later power loss still knows
	// what was synced
	k := c.CrashClone(CrashOptions{KeepAll: true})
	h, _ := k.OpenFile("/a", os.O_RDWR, 0)
	h.WriteAt([]byte("!"), 7)
	if got := readAll(t, k, "/a"); got != "durable!" {
		t.Fatalf("after kill: %q", got)
	}
	p := k.CrashClone(CrashOptions{})
	if got := readAll(t, p, "/a"); got != "durable" {
		t.Fatalf("power loss after kill: %q", got)
	}
}
