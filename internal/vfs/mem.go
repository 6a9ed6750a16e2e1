package vfs

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path"
	"sort"
	"strings"
	"sync"
	"syscall"
)

// Op names a class of file-system operation for fault injection.
type Op uint32

const (
	OpWrite Op = 1 << iota
	OpSync
	OpSyncDir
	OpCreate // OpenFile that creates, MkdirAll that creates
	OpRename
	OpRemove
	OpTruncate
	OpRead

	OpAll Op = 1<<iota - 1
)

// Fault makes matching operations fail.
type Fault struct {
	Ops   Op     // which operations (bit set)
	After int    // let this many matching operations succeed first
	Times int    // fail this many times, then stop (0: fail forever)
	Err   error  // the error (wrapped in *os.PathError); default ErrInjected
	Path  string // only paths containing this substring ("" = all)
	// Partial makes a failing write land its first half before failing,
	// like a short write.
	Partial bool

	seen, failed int
}

// CrashOptions shape what survives Crash.
type CrashOptions struct {
	// KeepAll keeps every byte written, synced or not: a process crash
	// (kill -9) rather than a power loss. Only open handles and locks die.
	KeepAll bool
	// Rand, when set, keeps a random prefix of each file's unsynced
	// appended bytes (writeback happened partly) instead of none.
	Rand *rand.Rand
	// Tear additionally garbles the last few bytes of what was kept from an
	// unsynced tail (a torn sector). Needs Rand.
	Tear bool
}

// Mem is an in-memory FS that tracks durability. The zero value is not
// usable; call NewMem.
type Mem struct {
	mu       sync.Mutex
	root     *memNode
	gen      int // bumped by Crash; older handles fail
	locks    map[string]bool
	faults   []*Fault
	capacity int64 // 0 = unlimited
	used     int64
	ops      map[Op]int
	onSync   func(name string)
	dead     bool // replaced by a CrashClone: every operation fails
}

var errDead = errors.New("vfs: file system crashed (use the clone)")

type memNode struct {
	dir bool
	// directories
	children, durable map[string]*memNode
	// files
	data, synced []byte
	low          int64 // lowest offset changed since last sync; len(data)+ when clean
}

// NewMem returns an empty in-memory FS whose root exists and is durable.
func NewMem() *Mem {
	return &Mem{root: newDir(), locks: map[string]bool{}, ops: map[Op]int{}}
}

func newDir() *memNode {
	return &memNode{dir: true, children: map[string]*memNode{}, durable: map[string]*memNode{}}
}

func split(name string) []string {
	name = strings.Trim(path.Clean("/"+name), "/")
	if name == "" {
		return nil
	}
	return strings.Split(name, "/")
}

// walk returns the parent directory of name and name's last element.
func (m *Mem) parent(name string) (*memNode, string, error) {
	parts := split(name)
	if len(parts) == 0 {
		return nil, "", &os.PathError{Op: "open", Path: name, Err: syscall.EINVAL}
	}
	d := m.root
	for _, p := range parts[:len(parts)-1] {
		c := d.children[p]
		if c == nil {
			return nil, "", &os.PathError{Op: "open", Path: name, Err: os.ErrNotExist}
		}
		if !c.dir {
			return nil, "", &os.PathError{Op: "open", Path: name, Err: syscall.ENOTDIR}
		}
		d = c
	}
	return d, parts[len(parts)-1], nil
}

func (m *Mem) lookup(name string) (*memNode, error) {
	if len(split(name)) == 0 {
		return m.root, nil
	}
	d, base, err := m.parent(name)
	if err != nil {
		return nil, err
	}
	n := d.children[base]
	if n == nil {
		return nil, &os.PathError{Op: "open", Path: name, Err: os.ErrNotExist}
	}
	return n, nil
}

// Inject adds a fault. Faults are checked in order; the first that fires wins.
func (m *Mem) Inject(f Fault) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if f.Err == nil {
		f.Err = ErrInjected
	}
	m.faults = append(m.faults, &f)
}

// ClearFaults removes every injected fault.
func (m *Mem) ClearFaults() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.faults = nil
}

// SetCapacity limits the total bytes held by files (0: unlimited). A write
// that does not fit lands what fits and fails with ENOSPC.
func (m *Mem) SetCapacity(n int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.capacity = n
}

// Used reports the bytes held by files.
func (m *Mem) Used() int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.used
}

// faultLocked reports the injected fault for op on name, if one fires.
func (m *Mem) faultLocked(op Op, name string) *Fault {
	for _, f := range m.faults {
		if f.Ops&op == 0 || (f.Path != "" && !strings.Contains(name, f.Path)) {
			continue
		}
		f.seen++
		if f.seen <= f.After {
			continue
		}
		if f.Times > 0 && f.failed >= f.Times {
			continue
		}
		f.failed++
		return f
	}
	return nil
}

func opName(op Op) string {
	switch op {
	case OpWrite:
		return "write"
	case OpSync:
		return "sync"
	case OpSyncDir:
		return "syncdir"
	case OpCreate:
		return "create"
	case OpRename:
		return "rename"
	case OpRemove:
		return "remove"
	case OpTruncate:
		return "truncate"
	case OpRead:
		return "read"
	}
	return "op"
}

// Ops reports how many operations of a kind were attempted.
func (m *Mem) Ops(op Op) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.ops[op]
}

// OnSync sets a hook that runs (without the FS lock) at the start of every
// file Sync: tests use it to hold a sync in flight or to model device
// latency. nil removes it.
func (m *Mem) OnSync(fn func(name string)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.onSync = fn
}

func (m *Mem) check(op Op, name string) error {
	m.ops[op]++
	if f := m.faultLocked(op, name); f != nil {
		return &os.PathError{Op: opName(op), Path: name, Err: f.Err}
	}
	return nil
}

// SyncAll makes the whole current tree durable (test setup helper).
func (m *Mem) SyncAll() {
	m.mu.Lock()
	defer m.mu.Unlock()
	var rec func(n *memNode)
	rec = func(n *memNode) {
		if !n.dir {
			n.synced = append([]byte(nil), n.data...)
			n.low = int64(len(n.data))
			return
		}
		n.durable = make(map[string]*memNode, len(n.children))
		for k, c := range n.children {
			n.durable[k] = c
			rec(c)
		}
	}
	rec(m.root)
}

// Crash drops everything that was not made durable, invalidates every open
// handle and releases every lock: the state after a power loss.
func (m *Mem) Crash() { m.CrashWith(CrashOptions{}) }

// CrashWith is Crash with options (see CrashOptions).
func (m *Mem) CrashWith(o CrashOptions) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.gen++
	m.locks = map[string]bool{}
	if o.KeepAll {
		return
	}
	m.used = 0
	var rec func(n *memNode)
	rec = func(n *memNode) {
		if !n.dir {
			keep := append([]byte(nil), n.synced...)
			if o.Rand != nil && n.low >= int64(len(n.synced)) && len(n.data) > len(n.synced) {
				extra := n.data[len(n.synced):]
				k := o.Rand.IntN(len(extra) + 1)
				start := len(keep)
				keep = append(keep, extra[:k]...)
				if o.Tear && k > 0 {
					g := 1 + o.Rand.IntN(min(k, 16))
					for i := len(keep) - g; i < len(keep); i++ {
						if i >= start {
							keep[i] = byte(o.Rand.IntN(256))
						}
					}
				}
			}
			n.data = keep
			n.synced = append([]byte(nil), keep...)
			n.low = int64(len(keep))
			m.used += int64(len(keep))
			return
		}
		n.children = make(map[string]*memNode, len(n.durable))
		for k, c := range n.durable {
			n.children[k] = c
			rec(c)
		}
	}
	rec(m.root)
}

// CrashClone returns the file system as it would be found after a crash
// (see CrashOptions) and kills m: every later operation on m or on its open
// handles fails. Unlike CrashWith, this is safe while other goroutines
// still use m: nothing they do afterwards can reach the clone.
func (m *Mem) CrashClone(o CrashOptions) *Mem {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.dead = true
	m.gen++
	c := &Mem{locks: map[string]bool{}, ops: map[Op]int{}, capacity: m.capacity}
	var clone func(n *memNode) *memNode
	clone = func(n *memNode) *memNode {
		if !n.dir {
			keep := append([]byte(nil), n.synced...)
			if o.KeepAll {
				keep = append(keep[:0], n.data...)
			} else if o.Rand != nil && n.low >= int64(len(n.synced)) && len(n.data) > len(n.synced) {
				extra := n.data[len(n.synced):]
				k := o.Rand.IntN(len(extra) + 1)
				start := len(keep)
				keep = append(keep, extra[:k]...)
				if o.Tear && k > 0 {
					g := 1 + o.Rand.IntN(min(k, 16))
					for i := max(len(keep)-g, start); i < len(keep); i++ {
						keep[i] = byte(o.Rand.IntN(256))
					}
				}
			}
			c.used += int64(len(keep))
			if o.KeepAll {
				return &memNode{data: keep, synced: append([]byte(nil), n.synced...), low: n.low}
			}
			return &memNode{data: keep, synced: append([]byte(nil), keep...), low: int64(len(keep))}
		}
		d := newDir()
		src := n.durable
		if o.KeepAll {
			src = n.children
		}
		for k, ch := range src {
			cc := clone(ch)
			d.children[k] = cc
			if !o.KeepAll || n.durable[k] == ch {
				d.durable[k] = cc
			}
		}
		if o.KeepAll {
			// entries whose durable version differs (renamed over, removed)
			for k, dn := range n.durable {
				if n.children[k] != dn {
					d.durable[k] = clone(dn)
				}
			}
		}
		return d
	}
	c.root = clone(m.root)
	return c
}

func (m *Mem) OpenFile(name string, flag int, perm os.FileMode) (File, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.dead {
		return nil, &os.PathError{Op: "fs", Path: name, Err: errDead}
	}
	d, base, err := m.parent(name)
	if err != nil {
		return nil, err
	}
	n := d.children[base]
	if n != nil && n.dir {
		if flag&(os.O_WRONLY|os.O_RDWR) != 0 {
			return nil, &os.PathError{Op: "open", Path: name, Err: syscall.EISDIR}
		}
	}
	if n != nil && flag&os.O_CREATE != 0 && flag&os.O_EXCL != 0 {
		return nil, &os.PathError{Op: "open", Path: name, Err: os.ErrExist}
	}
	if n == nil {
		if flag&os.O_CREATE == 0 {
			return nil, &os.PathError{Op: "open", Path: name, Err: os.ErrNotExist}
		}
		if err := m.check(OpCreate, name); err != nil {
			return nil, err
		}
		n = &memNode{}
		d.children[base] = n
	} else if flag&os.O_TRUNC != 0 && !n.dir {
		m.used -= int64(len(n.data))
		n.data = n.data[:0:0]
		n.low = 0
	}
	return &memFile{fs: m, n: n, name: name, gen: m.gen, write: flag&(os.O_WRONLY|os.O_RDWR) != 0}, nil
}

func (m *Mem) Create(name string) (File, error) {
	return m.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
}

func (m *Mem) Open(name string) (File, error) { return m.OpenFile(name, os.O_RDONLY, 0) }

func sizeOf(n *memNode) int64 {
	if !n.dir {
		return int64(len(n.data))
	}
	var s int64
	for _, c := range n.children {
		s += sizeOf(c)
	}
	return s
}

func (m *Mem) Remove(name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.dead {
		return &os.PathError{Op: "fs", Path: name, Err: errDead}
	}
	d, base, err := m.parent(name)
	if err != nil {
		return err
	}
	n := d.children[base]
	if n == nil {
		return &os.PathError{Op: "remove", Path: name, Err: os.ErrNotExist}
	}
	if n.dir && len(n.children) > 0 {
		return &os.PathError{Op: "remove", Path: name, Err: syscall.ENOTEMPTY}
	}
	if err := m.check(OpRemove, name); err != nil {
		return err
	}
	m.used -= sizeOf(n)
	delete(d.children, base)
	return nil
}

func (m *Mem) RemoveAll(name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.dead {
		return &os.PathError{Op: "fs", Path: name, Err: errDead}
	}
	d, base, err := m.parent(name)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return err
	}
	n := d.children[base]
	if n == nil {
		return nil
	}
	if err := m.check(OpRemove, name); err != nil {
		return err
	}
	m.used -= sizeOf(n)
	delete(d.children, base)
	return nil
}

func (m *Mem) Rename(oldname, newname string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.dead {
		return &os.PathError{Op: "fs", Path: oldname, Err: errDead}
	}
	od, ob, err := m.parent(oldname)
	if err != nil {
		return err
	}
	n := od.children[ob]
	if n == nil {
		return &os.PathError{Op: "rename", Path: oldname, Err: os.ErrNotExist}
	}
	nd, nb, err := m.parent(newname)
	if err != nil {
		return err
	}
	if err := m.check(OpRename, oldname); err != nil {
		return err
	}
	if old := nd.children[nb]; old != nil && old != n {
		if old.dir && len(old.children) > 0 {
			return &os.PathError{Op: "rename", Path: newname, Err: syscall.ENOTEMPTY}
		}
		m.used -= sizeOf(old)
	}
	delete(od.children, ob)
	nd.children[nb] = n
	return nil
}

func (m *Mem) ReadDir(name string) ([]FileInfo, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.dead {
		return nil, &os.PathError{Op: "fs", Path: name, Err: errDead}
	}
	n, err := m.lookup(name)
	if err != nil {
		return nil, err
	}
	if !n.dir {
		return nil, &os.PathError{Op: "readdir", Path: name, Err: syscall.ENOTDIR}
	}
	out := make([]FileInfo, 0, len(n.children))
	for k, c := range n.children {
		out = append(out, FileInfo{Name: k, IsDir: c.dir, Size: int64(len(c.data))})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func (m *Mem) MkdirAll(name string, _ os.FileMode) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.dead {
		return &os.PathError{Op: "fs", Path: name, Err: errDead}
	}
	d := m.root
	for _, p := range split(name) {
		c := d.children[p]
		if c == nil {
			if err := m.check(OpCreate, name); err != nil {
				return err
			}
			c = newDir()
			d.children[p] = c
		} else if !c.dir {
			return &os.PathError{Op: "mkdir", Path: name, Err: syscall.ENOTDIR}
		}
		d = c
	}
	return nil
}

func (m *Mem) Stat(name string) (FileInfo, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.dead {
		return FileInfo{}, &os.PathError{Op: "fs", Path: name, Err: errDead}
	}
	n, err := m.lookup(name)
	if err != nil {
		return FileInfo{}, err
	}
	return FileInfo{Name: path.Base(name), Size: int64(len(n.data)), IsDir: n.dir}, nil
}

func (m *Mem) SyncDir(name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.dead {
		return &os.PathError{Op: "fs", Path: name, Err: errDead}
	}
	n, err := m.lookup(name)
	if err != nil {
		return err
	}
	if !n.dir {
		return &os.PathError{Op: "syncdir", Path: name, Err: syscall.ENOTDIR}
	}
	if err := m.check(OpSyncDir, name); err != nil {
		return err
	}
	n.durable = make(map[string]*memNode, len(n.children))
	for k, c := range n.children {
		n.durable[k] = c
	}
	return nil
}

func (m *Mem) Lock(name string) (io.Closer, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.dead {
		return nil, &os.PathError{Op: "fs", Path: name, Err: errDead}
	}
	key := path.Clean("/" + name)
	if m.locks[key] {
		return nil, fmt.Errorf("lock %s: %w", name, ErrLocked)
	}
	m.locks[key] = true
	return &memLock{m: m, key: key, gen: m.gen}, nil
}

type memLock struct {
	m    *Mem
	key  string
	gen  int
	once sync.Once
}

func (l *memLock) Close() error {
	l.once.Do(func() {
		l.m.mu.Lock()
		defer l.m.mu.Unlock()
		if l.gen == l.m.gen {
			delete(l.m.locks, l.key)
		}
	})
	return nil
}

type memFile struct {
	fs     *Mem
	n      *memNode
	name   string
	gen    int
	write  bool
	closed bool
}

var errStale = errors.New("vfs: handle invalidated by crash")

func (f *memFile) okLocked(op string) error {
	if f.closed {
		return &os.PathError{Op: op, Path: f.name, Err: os.ErrClosed}
	}
	if f.gen != f.fs.gen {
		return &os.PathError{Op: op, Path: f.name, Err: errStale}
	}
	if f.n.dir && op != "close" && op != "sync" {
		return &os.PathError{Op: op, Path: f.name, Err: syscall.EISDIR}
	}
	return nil
}

func (f *memFile) ReadAt(p []byte, off int64) (int, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if err := f.okLocked("read"); err != nil {
		return 0, err
	}
	if err := f.fs.check(OpRead, f.name); err != nil {
		return 0, err
	}
	if off < 0 {
		return 0, &os.PathError{Op: "read", Path: f.name, Err: syscall.EINVAL}
	}
	if off >= int64(len(f.n.data)) {
		return 0, io.EOF
	}
	n := copy(p, f.n.data[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (f *memFile) WriteAt(p []byte, off int64) (int, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if err := f.okLocked("write"); err != nil {
		return 0, err
	}
	if !f.write || off < 0 {
		return 0, &os.PathError{Op: "write", Path: f.name, Err: syscall.EBADF}
	}
	want := p
	var ferr error
	f.fs.ops[OpWrite]++
	if fl := f.fs.faultLocked(OpWrite, f.name); fl != nil {
		ferr = &os.PathError{Op: "write", Path: f.name, Err: fl.Err}
		if !fl.Partial {
			return 0, ferr
		}
		want = p[:len(p)/2]
	}
	if c := f.fs.capacity; c > 0 {
		grow := off + int64(len(want)) - int64(len(f.n.data))
		if grow > 0 && f.fs.used+grow > c {
			room := c - f.fs.used + int64(len(f.n.data)) - off
			if room < 0 {
				room = 0
			}
			if room < int64(len(want)) {
				want = want[:room]
			}
			ferr = &os.PathError{Op: "write", Path: f.name, Err: syscall.ENOSPC}
		}
	}
	end := off + int64(len(want))
	if end > int64(len(f.n.data)) {
		f.fs.used += end - int64(len(f.n.data))
		if end > int64(cap(f.n.data)) {
			nd := make([]byte, end, max(end, 2*int64(cap(f.n.data))))
			copy(nd, f.n.data)
			f.n.data = nd
		} else {
			// zero any gap between the old end and off
			old := len(f.n.data)
			f.n.data = f.n.data[:end]
			clear(f.n.data[old:])
		}
	}
	copy(f.n.data[off:], want)
	f.n.low = min(f.n.low, off)
	if ferr != nil {
		return len(want), ferr
	}
	return len(p), nil
}

func (f *memFile) Sync() error {
	f.fs.mu.Lock()
	hook := f.fs.onSync
	f.fs.mu.Unlock()
	if hook != nil {
		hook(f.name)
	}
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if err := f.okLocked("sync"); err != nil {
		return err
	}
	if err := f.fs.check(OpSync, f.name); err != nil {
		return err
	}
	n := f.n
	low := min(n.low, int64(len(n.synced)), int64(len(n.data)))
	n.synced = append(n.synced[:low], n.data[low:]...)
	n.low = int64(len(n.data))
	return nil
}

func (f *memFile) Truncate(size int64) error {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if err := f.okLocked("truncate"); err != nil {
		return err
	}
	if !f.write || size < 0 {
		return &os.PathError{Op: "truncate", Path: f.name, Err: syscall.EINVAL}
	}
	if err := f.fs.check(OpTruncate, f.name); err != nil {
		return err
	}
	n := f.n
	f.fs.used += size - int64(len(n.data))
	if size <= int64(len(n.data)) {
		n.data = n.data[:size]
	} else {
		n.data = append(n.data, make([]byte, size-int64(len(n.data)))...)
	}
	n.low = min(n.low, size)
	return nil
}

func (f *memFile) Size() (int64, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if err := f.okLocked("stat"); err != nil {
		return 0, err
	}
	return int64(len(f.n.data)), nil
}

func (f *memFile) Close() error {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if f.closed {
		return &os.PathError{Op: "close", Path: f.name, Err: os.ErrClosed}
	}
	f.closed = true
	return nil
}
