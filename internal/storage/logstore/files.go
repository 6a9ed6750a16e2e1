package logstore

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strconv"
	"strings"
	"syscall"

	"github.com/eddy-streams/eddy/internal/storage"
	"github.com/eddy-streams/eddy/internal/vfs"
)

// Names inside the data directory.
const (
	lockName    = "LOCK"
	uncleanName = "unclean"
	metaDir     = "meta"
	shardsDir   = "shards"
	stateName   = "shard.state"
	trashPrefix = ".deleted-"
	tmpSuffix   = ".tmp"
)

// escape maps an arbitrary string to a file name: [A-Za-z0-9-] stay, every
// other byte becomes _XX (hex). The empty string is "_".
func escape(s string) string {
	if s == "" {
		return "_"
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "_%02x", c)
		}
	}
	return b.String()
}

// unescape is the inverse of escape; ok is false for a name escape never
// produces (so that two directories never name the same shard).
func unescape(name string) (string, bool) {
	if name == "_" {
		return "", true
	}
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c != '_' {
			b.WriteByte(c)
			continue
		}
		if i+2 >= len(name) {
			return "", false
		}
		v, err := strconv.ParseUint(name[i+1:i+3], 16, 8)
		if err != nil {
			return "", false
		}
		b.WriteByte(byte(v))
		i += 2
	}
	s := b.String()
	return s, escape(s) == name
}

// shardIDOfDir reads a shard's id from its directory's path
// (<root>/shards/<escaped stream>/<10-digit index>), for shards whose
// state file cannot be trusted.
func shardIDOfDir(dir string) (storage.ShardID, bool) {
	ix := path.Base(dir)
	stream, ok := unescape(path.Base(path.Dir(dir)))
	if !ok || len(ix) != 10 {
		return storage.ShardID{}, false
	}
	v, err := strconv.ParseUint(ix, 10, 32)
	if err != nil {
		return storage.ShardID{}, false
	}
	return storage.ShardID{Stream: stream, Index: uint32(v)}, true
}

func shardDirOf(root string, id storage.ShardID) string {
	return path.Join(root, shardsDir, escape(id.Stream), fmt.Sprintf("%010d", id.Index))
}

func segName(base uint64) string { return fmt.Sprintf("%020d.seg", base) }
func idxName(base uint64) string { return fmt.Sprintf("%020d.idx", base) }

// parseSegName returns the base position of a "<20 digits>.seg" name.
func parseSegName(name string) (uint64, bool) {
	num, ok := strings.CutSuffix(name, ".seg")
	if !ok || len(num) != 20 {
		return 0, false
	}
	v, err := strconv.ParseUint(num, 10, 64)
	return v, err == nil
}

func isNoSpace(err error) bool { return errors.Is(err, syscall.ENOSPC) }

// readFile reads a whole (small) file.
func readFile(fs vfs.FS, name string) ([]byte, error) {
	f, err := fs.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	n, err := f.Size()
	if err != nil {
		return nil, err
	}
	b := make([]byte, n)
	if _, err := f.ReadAt(b, 0); err != nil && !(errors.Is(err, io.EOF) && n == 0) {
		return nil, err
	}
	return b, nil
}

// writeAtomic replaces dir/name with data: write a temp file, fsync it,
// rename it over name, fsync the directory. On failure the temp file is
// removed and name is untouched.
func writeAtomic(fs vfs.FS, dir, name string, data []byte) (err error) {
	tmp := path.Join(dir, name+tmpSuffix)
	f, err := fs.Create(tmp)
	if err != nil {
		return fmt.Errorf("create %s: %w", tmp, err)
	}
	defer func() {
		if err != nil {
			fs.Remove(tmp)
		}
	}()
	if _, err = f.WriteAt(data, 0); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", tmp, err)
	}
	if err = f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("sync %s: %w", tmp, err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", tmp, err)
	}
	if err = fs.Rename(tmp, path.Join(dir, name)); err != nil {
		return fmt.Errorf("rename %s: %w", tmp, err)
	}
	if err = fs.SyncDir(dir); err != nil {
		return fmt.Errorf("sync dir %s: %w", dir, err)
	}
	return nil
}

// mkdirDurable creates dir and any missing parents, and fsyncs the parent
// of every directory it created so the new entries survive a crash.
func mkdirDurable(fs vfs.FS, dir string) error {
	var missing []string
	for d := path.Clean(dir); ; d = path.Dir(d) {
		if _, err := fs.Stat(d); err == nil {
			break
		} else if !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("stat %s: %w", d, err)
		}
		missing = append(missing, d)
		if p := path.Dir(d); p == d {
			break
		}
	}
	if len(missing) == 0 {
		return nil
	}
	if err := fs.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("mkdir %s: %w", dir, err)
	}
	for i := len(missing) - 1; i >= 0; i-- {
		if err := fs.SyncDir(path.Dir(missing[i])); err != nil {
			return fmt.Errorf("sync dir %s: %w", path.Dir(missing[i]), err)
		}
	}
	return nil
}

// createSegment makes a durable, empty segment (header only) in dir.
func createSegment(fs vfs.FS, dir string, id storage.ShardID, base uint64, nowMs int64) (*segment, error) {
	name := path.Join(dir, segName(base))
	f, err := fs.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, fmt.Errorf("create segment %s: %w", name, err)
	}
	fail := func(err error) (*segment, error) {
		f.Close()
		fs.Remove(name)
		return nil, err
	}
	if _, err := f.WriteAt(segHeader{Base: base, CreatedMs: nowMs, ShardTag: shardTag(id)}.encode(), 0); err != nil {
		return fail(fmt.Errorf("write segment header %s: %w", name, err))
	}
	if err := f.Sync(); err != nil {
		return fail(fmt.Errorf("sync segment %s: %w", name, err))
	}
	if err := fs.SyncDir(dir); err != nil {
		return fail(fmt.Errorf("sync dir %s: %w", dir, err))
	}
	return &segment{name: name, base: base, next: base, size: segHeaderLen, createdMs: nowMs, f: f}, nil
}

func isNotExist(err error) bool { return errors.Is(err, os.ErrNotExist) }
