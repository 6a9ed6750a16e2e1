package logstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/eddy-streams/eddy/internal/storage"
	"github.com/eddy-streams/eddy/internal/vfs"
)

// Store is the embedded durable backend. Create it with Open.
type Store struct {
	dir  string
	o    Options
	fs   vfs.FS
	log  *slog.Logger
	lock io.Closer

	mu     sync.RWMutex
	shards map[storage.ShardID]*shard
	closed bool

	metaMu sync.Mutex // serialises SaveMeta (and Close against it)
	dirMu  sync.Mutex // serialises the file work of CreateShard and DeleteShard

	stop chan struct{}
	wg   sync.WaitGroup

	cacheUsed atomic.Int64 // bytes held by tail caches
	syncs     atomic.Int64 // segment fdatasyncs
}

var _ storage.Backend = (*Store)(nil)

// Open opens (creating if needed) the data directory dir, takes its LOCK
// (storage.ErrLocked if another process holds it) and recovers every shard.
// After an unclean stop, the active segment of each shard is scanned and a
// torn tail (damage with no valid frame after it) is cut off (the bytes are
// kept in a .torn-<ms> file). A shard with damage is quarantined rather
// than failing Open: its appends fail with storage.ErrCorrupt, its reads
// stop at the damage (or all fail, when its layout cannot be read), and the
// other shards work as usual.
func Open(dir string, opts Options) (*Store, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	fs := o.FS
	dir = path.Clean(dir)
	if err := mkdirDurable(fs, dir); err != nil {
		return nil, fmt.Errorf("logstore: open %s: %w", dir, err)
	}
	lock, err := fs.Lock(path.Join(dir, lockName))
	if err != nil {
		if errors.Is(err, vfs.ErrLocked) {
			return nil, fmt.Errorf("logstore: open %s: %w", dir, storage.ErrLocked)
		}
		return nil, fmt.Errorf("logstore: lock %s: %w", dir, err)
	}
	st := &Store{dir: dir, o: o, fs: fs, log: o.Logger, lock: lock,
		shards: map[storage.ShardID]*shard{}, stop: make(chan struct{})}
	if err := st.open(); err != nil {
		for _, sh := range st.shards {
			sh.closeFilesLocked()
		}
		lock.Close()
		return nil, fmt.Errorf("logstore: open %s: %w", dir, err)
	}
	if o.Durability == Interval {
		st.wg.Add(1)
		go st.syncLoop()
	}
	return st, nil
}

func (st *Store) open() error {
	fs := st.fs
	_, err := fs.Stat(path.Join(st.dir, uncleanName))
	clean := errors.Is(err, os.ErrNotExist)
	if err != nil && !clean {
		return fmt.Errorf("stat unclean marker: %w", err)
	}
	// The marker goes down first: a crash during recovery recovers again.
	f, err := fs.Create(path.Join(st.dir, uncleanName))
	if err != nil {
		return fmt.Errorf("create unclean marker: %w", err)
	}
	f.Close()
	for _, d := range []string{metaDir, shardsDir} {
		if err := mkdirDurable(fs, path.Join(st.dir, d)); err != nil {
			return err
		}
	}
	if err := fs.SyncDir(st.dir); err != nil {
		return fmt.Errorf("sync dir %s: %w", st.dir, err)
	}
	if !clean {
		st.log.Warn("unclean shutdown detected; scanning active segments", "dir", st.dir)
	}

	// Find shard directories.
	root := path.Join(st.dir, shardsDir)
	streams, err := fs.ReadDir(root)
	if err != nil {
		return fmt.Errorf("list %s: %w", root, err)
	}
	var dirs []string
	trashed := false
	for _, s := range streams {
		p := path.Join(root, s.Name)
		if strings.HasPrefix(s.Name, trashPrefix) {
			if err := fs.RemoveAll(p); err != nil {
				st.log.Warn("cannot remove deleted shard data", "path", p, "err", err)
			}
			trashed = true
			continue
		}
		if !s.IsDir {
			continue
		}
		if !clean {
			// make the shard directories' entries (creations, deletions) durable
			if err := fs.SyncDir(p); err != nil {
				return fmt.Errorf("sync dir %s: %w", p, err)
			}
		}
		ents, err := fs.ReadDir(p)
		if err != nil {
			return fmt.Errorf("list %s: %w", p, err)
		}
		for _, e := range ents {
			if e.IsDir {
				dirs = append(dirs, path.Join(p, e.Name))
			}
		}
	}

	if trashed || !clean {
		if err := fs.SyncDir(root); err != nil {
			return fmt.Errorf("sync dir %s: %w", root, err)
		}
	}

	// Load them, a few at a time.
	type result struct {
		sh  *shard
		err error
	}
	res := make([]result, len(dirs))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 4)
	for i, d := range dirs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			sh, err := st.loadShard(d, clean)
			res[i] = result{sh, err}
		}()
	}
	wg.Wait()
	var errs []error
	for i, r := range res {
		if r.err != nil && isDamage(r.err) {
			// Quarantine the shard rather than refuse to open the store:
			// the others keep working and this one fails every call.
			id, ok := shardIDOfDir(dirs[i])
			if !ok {
				st.log.Error("ignoring a damaged shard directory whose name names no shard", "dir", dirs[i], "err", r.err)
				continue
			}
			sh := &shard{st: st, id: id, dir: dirs[i], unknown: true, corrupt: r.err}
			st.log.Error("shard quarantined: its layout cannot be read; reads and appends fail until it is repaired or deleted",
				"stream", id.Stream, "shard", id.Index, "dir", dirs[i], "err", r.err)
			st.shards[id] = sh
			continue
		}
		if r.err != nil {
			errs = append(errs, r.err)
			continue
		}
		if r.sh != nil {
			st.shards[r.sh.id] = r.sh
		}
	}
	return errors.Join(errs...)
}

// isDamage tells damage to a shard's files (quarantine it) from a failure
// to work with the file system at all (fail Open).
func isDamage(err error) bool {
	return errors.Is(err, storage.ErrCorrupt) || errors.Is(err, syscall.EIO)
}

// syncLoop is Interval mode's background fdatasync of dirty shards.
func (st *Store) syncLoop() {
	defer st.wg.Done()
	t := time.NewTicker(st.o.Interval)
	defer t.Stop()
	for {
		select {
		case <-st.stop:
			return
		case <-t.C:
		}
		st.mu.RLock()
		shards := make([]*shard, 0, len(st.shards))
		for _, sh := range st.shards {
			shards = append(shards, sh)
		}
		st.mu.RUnlock()
		for _, sh := range shards {
			if err := sh.syncTo(0, true); err != nil && !errors.Is(err, storage.ErrClosed) && !errors.Is(err, storage.ErrNotFound) {
				st.log.Error("background sync failed; shard poisoned", "stream", sh.id.Stream, "shard", sh.id.Index, "err", err)
			}
		}
	}
}

func (st *Store) get(id storage.ShardID) (*shard, error) {
	st.mu.RLock()
	defer st.mu.RUnlock()
	if st.closed {
		return nil, storage.ErrClosed
	}
	sh := st.shards[id]
	if sh == nil {
		return nil, fmt.Errorf("shard %s/%d: %w", id.Stream, id.Index, storage.ErrNotFound)
	}
	return sh, nil
}

func (st *Store) nowMs() int64 { return st.o.Now().UnixMilli() }

// CreateShard makes an empty shard log: its directory, first segment and
// state file, all durable before it returns.
func (st *Store) CreateShard(_ context.Context, id storage.ShardID, createdMs int64) error {
	st.dirMu.Lock()
	defer st.dirMu.Unlock()
	if _, err := st.get(id); err == nil {
		return fmt.Errorf("shard %s/%d: %w", id.Stream, id.Index, storage.ErrExists)
	} else if errors.Is(err, storage.ErrClosed) {
		return err
	}
	// The file work runs without st.mu so appends to other shards go on.
	dir := shardDirOf(st.dir, id)
	fail := func(err error) error {
		st.fs.RemoveAll(dir)
		if isNoSpace(err) {
			return fmt.Errorf("create shard %s/%d: %w: %v", id.Stream, id.Index, storage.ErrNoSpace, err)
		}
		return fmt.Errorf("create shard %s/%d: %w", id.Stream, id.Index, err)
	}
	if err := st.fs.RemoveAll(dir); err != nil { // leftovers of an unfinished create
		return fail(err)
	}
	if err := mkdirDurable(st.fs, dir); err != nil {
		return fail(err)
	}
	seg, err := createSegment(st.fs, dir, id, 0, st.nowMs())
	if err != nil {
		return fail(err)
	}
	state := shardState{ID: id, CreatedMs: createdMs}
	if err := writeAtomic(st.fs, dir, stateName, state.encode()); err != nil {
		seg.f.Close()
		return fail(err)
	}
	sh := st.newShard(id, dir, state)
	seg.rw = true
	sh.segs = []*segment{seg}
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.closed {
		seg.f.Close() // the shard is on disk and loads on the next open
		return storage.ErrClosed
	}
	st.shards[id] = sh
	return nil
}

// DeleteShard removes a shard: it disappears at once (readers and watchers
// are woken), its directory is renamed into the trash atomically and then
// removed.
func (st *Store) DeleteShard(_ context.Context, id storage.ShardID) error {
	st.dirMu.Lock()
	defer st.dirMu.Unlock()
	st.mu.Lock()
	if st.closed {
		st.mu.Unlock()
		return storage.ErrClosed
	}
	sh := st.shards[id]
	if sh == nil {
		st.mu.Unlock()
		return fmt.Errorf("shard %s/%d: %w", id.Stream, id.Index, storage.ErrNotFound)
	}
	delete(st.shards, id)
	st.mu.Unlock()
	sh.mu.Lock()
	sh.deleted = true
	sh.notifyLocked()
	for _, s := range sh.segs {
		s.removed = true
		sh.closeIfUnusedLocked(s)
	}
	sh.dropTailLocked()
	sh.mu.Unlock()
	trash := path.Join(st.dir, shardsDir, fmt.Sprintf("%s%s-%d-%d", trashPrefix, escape(id.Stream), id.Index, time.Now().UnixNano()))
	err := st.fs.Rename(sh.dir, trash)
	if err == nil {
		err = st.fs.SyncDir(path.Dir(sh.dir))
	}
	if err == nil {
		err = st.fs.SyncDir(path.Join(st.dir, shardsDir))
	}
	if err != nil {
		return fmt.Errorf("delete shard %s/%d: %w", id.Stream, id.Index, err)
	}
	if err := st.fs.RemoveAll(trash); err != nil {
		st.log.Warn("cannot remove deleted shard data; it is removed on next open", "path", trash, "err", err)
	}
	return nil
}

func (st *Store) metaPath(ns string) (dir, name string) {
	return path.Join(st.dir, metaDir), escape(ns) + ".meta"
}

// SaveMeta atomically replaces the namespace's metadata blob.
func (st *Store) SaveMeta(ns string, blob []byte) error {
	st.metaMu.Lock()
	defer st.metaMu.Unlock()
	st.mu.RLock()
	closed := st.closed
	st.mu.RUnlock()
	if closed {
		return storage.ErrClosed
	}
	dir, name := st.metaPath(ns)
	if err := writeAtomic(st.fs, dir, name, encodeMeta(blob)); err != nil {
		if isNoSpace(err) {
			return fmt.Errorf("save meta %s: %w: %v", ns, storage.ErrNoSpace, err)
		}
		return fmt.Errorf("save meta %s: %w", ns, err)
	}
	return nil
}

// LoadMeta returns the namespace's blob, or nil, nil if none was saved.
func (st *Store) LoadMeta(ns string) ([]byte, error) {
	st.mu.RLock()
	closed := st.closed
	st.mu.RUnlock()
	if closed {
		return nil, storage.ErrClosed
	}
	dir, name := st.metaPath(ns)
	b, err := readFile(st.fs, path.Join(dir, name))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load meta %s: %w", ns, err)
	}
	blob, err := decodeMeta(b)
	if err != nil {
		return nil, fmt.Errorf("load meta %s: %w: %v", ns, storage.ErrCorrupt, err)
	}
	return blob, nil
}

// Close syncs every shard, writes the active segments' indexes, removes the
// unclean marker (unless a shard failed) and releases the LOCK. Later calls
// on the store get storage.ErrClosed; a second Close returns nil.
func (st *Store) Close() error {
	st.metaMu.Lock() // let a SaveMeta in flight finish first
	defer st.metaMu.Unlock()
	st.mu.Lock()
	if st.closed {
		st.mu.Unlock()
		return nil
	}
	st.closed = true
	shards := make([]*shard, 0, len(st.shards))
	for _, sh := range st.shards {
		shards = append(shards, sh)
	}
	st.mu.Unlock()
	close(st.stop)
	st.wg.Wait()

	sort.Slice(shards, func(i, j int) bool { return shards[i].dir < shards[j].dir })
	var errs []error
	bad := false
	for _, sh := range shards {
		if err := sh.close(); err != nil {
			errs = append(errs, err)
			bad = true
		}
	}
	if !bad {
		if err := st.fs.Remove(path.Join(st.dir, uncleanName)); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, fmt.Errorf("remove unclean marker: %w", err))
		} else if err := st.fs.SyncDir(st.dir); err != nil {
			errs = append(errs, fmt.Errorf("sync dir %s: %w", st.dir, err))
		}
	}
	if err := st.lock.Close(); err != nil {
		errs = append(errs, fmt.Errorf("release lock: %w", err))
	}
	return errors.Join(errs...)
}
