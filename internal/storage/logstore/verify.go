package logstore

import (
	"errors"
	"fmt"
	"os"
	"path"
	"sort"
	"strings"

	"github.com/eddy-streams/eddy/internal/storage"
	"github.com/eddy-streams/eddy/internal/vfs"
)

// Report is the result of Verify.
type Report struct {
	Dir      string
	Shards   int
	Segments int
	Records  uint64
	Bytes    int64
	// Problems are corruption: data that recovery would refuse or that
	// reads would fail on. Notes are benign findings (a torn tail that the
	// next open cuts off, an index that will be rebuilt, leftovers).
	Problems []string
	Notes    []string
}

// OK reports whether no problem was found.
func (r Report) OK() bool { return len(r.Problems) == 0 }

func (r Report) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "data directory %s: %d shards, %d segments, %d records, %d bytes\n", r.Dir, r.Shards, r.Segments, r.Records, r.Bytes)
	for _, p := range r.Problems {
		fmt.Fprintf(&b, "PROBLEM: %s\n", p)
	}
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "note: %s\n", n)
	}
	if r.OK() {
		b.WriteString("OK\n")
	} else {
		fmt.Fprintf(&b, "%d problems found\n", len(r.Problems))
	}
	return b.String()
}

// Verify checks a data directory offline (for `eddy ctl verify`): every
// shard's state file, every segment's header and frames (length, CRC,
// version, position continuity within and across segments, record layout,
// time order), every index against the frames, and the metadata blobs. It
// takes the LOCK, so it refuses (storage.ErrLocked) while a server runs.
// The error is for failures to run at all; findings are in the Report.
func Verify(dir string) (Report, error) { return VerifyFS(vfs.OS, dir) }

// VerifyFS is Verify on another file system (tests).
func VerifyFS(fs vfs.FS, dir string) (Report, error) {
	dir = path.Clean(dir)
	rep := Report{Dir: dir}
	if _, err := fs.Stat(dir); err != nil {
		return rep, fmt.Errorf("verify %s: %w", dir, err)
	}
	lock, err := fs.Lock(path.Join(dir, lockName))
	if err != nil {
		if errors.Is(err, vfs.ErrLocked) {
			return rep, fmt.Errorf("verify %s: %w", dir, storage.ErrLocked)
		}
		return rep, fmt.Errorf("verify %s: %w", dir, err)
	}
	defer lock.Close()
	problem := func(f string, a ...any) { rep.Problems = append(rep.Problems, fmt.Sprintf(f, a...)) }
	note := func(f string, a ...any) { rep.Notes = append(rep.Notes, fmt.Sprintf(f, a...)) }
	if _, err := fs.Stat(path.Join(dir, uncleanName)); err == nil {
		note("unclean marker present: the last run did not close cleanly; the next open scans active segments")
	}

	if ents, err := fs.ReadDir(path.Join(dir, metaDir)); err == nil {
		for _, e := range ents {
			p := path.Join(dir, metaDir, e.Name)
			if !strings.HasSuffix(e.Name, ".meta") {
				note("stray file %s", p)
				continue
			}
			b, err := readFile(fs, p)
			if err != nil {
				return rep, fmt.Errorf("read %s: %w", p, err)
			}
			if _, err := decodeMeta(b); err != nil {
				problem("metadata %s: %v", p, err)
			}
		}
	}

	root := path.Join(dir, shardsDir)
	streams, err := fs.ReadDir(root)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return rep, fmt.Errorf("list %s: %w", root, err)
	}
	for _, s := range streams {
		if strings.HasPrefix(s.Name, trashPrefix) {
			note("deleted shard data %s not yet removed (removed on next open)", path.Join(root, s.Name))
			continue
		}
		if !s.IsDir {
			continue
		}
		ents, err := fs.ReadDir(path.Join(root, s.Name))
		if err != nil {
			return rep, fmt.Errorf("list %s: %w", path.Join(root, s.Name), err)
		}
		for _, e := range ents {
			if e.IsDir {
				if err := verifyShard(fs, dir, path.Join(root, s.Name, e.Name), &rep, problem, note); err != nil {
					return rep, err
				}
			}
		}
	}
	return rep, nil
}

func verifyShard(fs vfs.FS, root, dir string, rep *Report, problem, note func(string, ...any)) error {
	b, err := readFile(fs, path.Join(dir, stateName))
	if errors.Is(err, os.ErrNotExist) {
		note("%s: no state file (unfinished create; removed on next open)", dir)
		return nil
	}
	if err != nil {
		return fmt.Errorf("read %s: %w", path.Join(dir, stateName), err)
	}
	state, err := decodeShardState(b)
	if err != nil {
		problem("%s: state file: %v", dir, err)
		return nil
	}
	rep.Shards++
	name := fmt.Sprintf("shard %s/%d", state.ID.Stream, state.ID.Index)
	if want := shardDirOf(root, state.ID); want != dir {
		problem("%s: stored in %s, expected %s", name, dir, want)
	}
	ents, err := fs.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("list %s: %w", dir, err)
	}
	var bases []uint64
	idx := map[uint64]bool{}
	for _, e := range ents {
		if b, ok := parseSegName(e.Name); ok {
			bases = append(bases, b)
			continue
		}
		switch {
		case e.Name == stateName:
		case strings.HasSuffix(e.Name, ".idx"):
			var b uint64
			if _, err := fmt.Sscanf(e.Name, "%020d.idx", &b); err == nil {
				idx[b] = true
			}
		case strings.Contains(e.Name, ".torn-"):
			note("%s: %s holds %d bytes cut off by an earlier recovery", name, e.Name, e.Size)
		default:
			note("%s: stray file %s", name, e.Name)
		}
	}
	sort.Slice(bases, func(i, j int) bool { return bases[i] < bases[j] })
	if len(bases) == 0 {
		problem("%s: no segment files", name)
		return nil
	}
	var next uint64
	havePrev := false
	for i, base := range bases {
		last := i == len(bases)-1
		segPath := path.Join(dir, segName(base))
		f, err := fs.Open(segPath)
		if err != nil {
			return fmt.Errorf("open %s: %w", segPath, err)
		}
		size, _ := f.Size()
		rep.Segments++
		rep.Bytes += size
		hb := make([]byte, segHeaderLen)
		n, _ := f.ReadAt(hb, 0)
		h, herr := decodeSegHeader(hb[:n])
		if herr == nil && h.Base != base {
			herr = fmt.Errorf("header names base %d", h.Base)
		}
		if herr == nil && h.ShardTag != shardTag(state.ID) {
			herr = errors.New("header belongs to another shard")
		}
		if herr != nil {
			if last && i > 0 {
				note("%s: last segment %s has a torn header (crash while rolling); the next open drops it", name, segPath)
			} else {
				problem("%s: segment %s: %v", name, segPath, herr)
			}
			f.Close()
			continue
		}
		res := scanSegment(f, base, size, 1) // an entry per frame: check the .idx against them
		f.Close()
		if res.ioErr != nil {
			return fmt.Errorf("read %s: %w", segPath, res.ioErr)
		}
		if !last && res.err == nil && res.sum.Next <= state.Trim {
			note("%s: segment %s lies wholly below the trim horizon %d (an interrupted trim; removed on next open)", name, segPath, state.Trim)
			continue
		}
		if havePrev && base != next {
			problem("%s: segment %s starts at %d but the previous one ends at %d", name, segPath, base, next)
		}
		havePrev = true
		rep.Records += res.sum.Next - base
		next = res.sum.Next
		if res.err != nil {
			if last {
				note("%s: active segment %s has a torn tail of %d bytes at offset %d (%v); the next open cuts it off", name, segPath, size-res.sum.Size, res.sum.Size, res.err)
			} else {
				problem("%s: sealed segment %s: bad frame at offset %d of %d: %v", name, segPath, res.sum.Size, size, res.err)
			}
		}
		if !idx[base] {
			if !last {
				note("%s: index of %s missing (rebuilt on next open)", name, segPath)
			}
			continue
		}
		ib, err := readFile(fs, path.Join(dir, idxName(base)))
		if err != nil {
			return fmt.Errorf("read index of %s: %w", segPath, err)
		}
		sum, ientries, err := decodeIndex(ib)
		switch {
		case err != nil:
			note("%s: index of %s unreadable (%v); rebuilt on next open", name, segPath, err)
		case sum.Size != size && last:
			// normal: the active segment grew after the index was written at Close
		case sum != res.sum:
			if res.err == nil {
				problem("%s: index of %s says %+v, frames say %+v", name, segPath, sum, res.sum)
			}
		default:
			frames := make(map[uint32]indexEntry, len(res.index))
			for _, e := range res.index {
				frames[e.Off] = e
			}
			for _, e := range ientries {
				if f, ok := frames[e.Off]; !ok || f != e {
					problem("%s: index of %s has entry %+v that matches no frame", name, segPath, e)
					break
				}
			}
		}
	}
	if state.Trim > next {
		problem("%s: trim horizon %d beyond the end of the log %d", name, state.Trim, next)
	}
	return nil
}
