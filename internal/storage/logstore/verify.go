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
	// Damaged names every shard ("shard <stream id>/<index> in <dir>") with
	// a problem. Open quarantines a shard whose damage it meets (a bad
	// frame, a gap, an unreadable state file or segment header): its appends
	// fail and its reads stop at the damage, while the other shards work.
	Damaged []string
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
	for _, d := range r.Damaged {
		fmt.Fprintf(&b, "DAMAGED SHARD: %s\n", d)
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
				sd := path.Join(root, s.Name, e.Name)
				before := len(rep.Problems)
				if err := verifyShard(fs, dir, sd, &rep, problem, note); err != nil {
					return rep, err
				}
				if len(rep.Problems) > before {
					who := "unnamed shard"
					if id, ok := shardIDOfDir(sd); ok {
						who = fmt.Sprintf("shard %s/%d", id.Stream, id.Index)
					}
					rep.Damaged = append(rep.Damaged, fmt.Sprintf("%s in %s", who, sd))
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
		who := "a shard directory with an unparseable name"
		if id, ok := shardIDOfDir(dir); ok {
			who = fmt.Sprintf("shard %s/%d", id.Stream, id.Index)
		}
		problem("%s: state file %s: %v", who, path.Join(dir, stateName), err)
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
		var evidence string
		if res.err != nil && last && res.ioErr == nil {
			at, fh, found, err := validFrameAfter(f, res.sum.Size, size, res.sum.Next, res.sum.MaxMs)
			if err != nil {
				f.Close()
				return fmt.Errorf("read %s: %w", segPath, err)
			}
			if found {
				evidence = fmt.Sprintf("a valid frame (position %d) follows at offset %d", fh.Base, at)
			}
		}
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
			switch {
			case last && evidence != "":
				problem("%s: active segment %s: bad frame at offset %d of %d (%v), and %s: corruption, not a torn tail", name, segPath, res.sum.Size, size, res.err, evidence)
			case last:
				note("%s: active segment %s has a torn tail of %d bytes at offset %d (%v); the next open cuts it off", name, segPath, size-res.sum.Size, res.sum.Size, res.err)
			default:
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
