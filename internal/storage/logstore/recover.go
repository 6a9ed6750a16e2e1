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

// scanResult is what a full scan of a segment file finds.
type scanResult struct {
	sum   segSummary   // of the valid prefix; Size = end of the last good frame
	index []indexEntry // sparse index of the valid prefix
	err   error        // why scanning stopped before the end of the file (bad bytes)
	ioErr error        // a read failed: nothing can be concluded
	count int          // frames
}

// scanSegment checks every frame of a segment file from its header on:
// length, CRC, version, position continuity, record layout and
// non-decreasing arrival times. It stops at the first bad frame.
func scanSegment(f vfs.File, base uint64, size int64, indexInterval int) scanResult {
	res := scanResult{sum: segSummary{Base: base, Next: base, Size: segHeaderLen}}
	r := frameReader{f: f, end: size}
	defer r.release()
	off := int64(segHeaderLen)
	lastIdx := int64(-1)
	for off < size {
		frame, h, err := r.frame(off)
		if err == nil && h.Base != res.sum.Next {
			err = fmt.Errorf("%w: frame at %d, want %d", errBadBase, h.Base, res.sum.Next)
		}
		if err == nil && res.count > 0 && h.Ms < res.sum.MaxMs {
			err = fmt.Errorf("%w: arrival time %d before %d", errBadRecord, h.Ms, res.sum.MaxMs)
		}
		if err == nil {
			err = forEachRecord(frame, h.Count, nil)
		}
		if err != nil {
			var ioe errIO
			if errors.As(err, &ioe) {
				res.ioErr = ioe.err
			} else {
				res.err = fmt.Errorf("offset %d: %w", off, err)
			}
			return res
		}
		if lastIdx < 0 || off-lastIdx >= int64(indexInterval) {
			res.index = append(res.index, indexEntry{Rel: uint32(h.Base - base), Off: uint32(off), Ms: h.Ms})
			lastIdx = off
		}
		if res.count == 0 {
			res.sum.MinMs = h.Ms
		}
		res.sum.MaxMs = h.Ms
		res.sum.Next += uint64(h.Count)
		res.count++
		off += int64(len(frame))
		res.sum.Size = off
	}
	return res
}

// validFrameAfter looks for evidence that damage at byte bad of a segment
// is not a torn tail: a valid frame starting at or after bad. It scans
// byte by byte and counts a frame only if its header is that of a version-1
// frame (flags and reserved bytes zero, count >= 1) whose length ends inside
// the file, its base is at or after expect (the position the damaged frame
// should have had) and at most (offset-bad)/2 beyond it (a record takes at
// least two bytes, so no more positions fit in the damaged bytes), its
// arrival time is at least minMs (the last good frame's), and then its CRC
// matches and its records fill it exactly. A write cut short never leaves
// such a frame behind; random or zeroed bytes match the fixed header bytes
// and the CRC together with odds of about 2^-64 per offset.
//
// It returns the frame's offset and header, or found == false.
func validFrameAfter(f vfs.File, bad, size int64, expect uint64, minMs int64) (off int64, h frameHeader, found bool, err error) {
	const window = 1 << 20
	bp := getBuf(window + frameHeaderLen)
	defer putBuf(bp)
	for start := bad; start+frameHeaderLen <= size; start += window {
		n := int(min(int64(window+frameHeaderLen-1), size-start))
		b := (*bp)[:n]
		if k, rerr := f.ReadAt(b, start); k < n {
			if rerr == nil {
				rerr = errShort
			}
			return 0, h, false, rerr
		}
		for i := 0; i < window && i+frameHeaderLen <= n; i++ {
			c := b[i:]
			fl := int64(le.Uint32(c))
			if c[8] != frameVersion || c[9] != 0 || c[10] != 0 || c[11] != 0 ||
				fl < frameHeaderLen-4 || fl > maxFrameLen || start+int64(i)+4+fl > size {
				continue
			}
			at := start + int64(i)
			base, count, ms := le.Uint64(c[12:]), le.Uint32(c[20:]), int64(le.Uint64(c[24:]))
			if count == 0 || base < expect || base-expect > uint64(at-bad)/2 || ms < minMs {
				continue
			}
			fr := make([]byte, 4+fl)
			if k, rerr := f.ReadAt(fr, at); k < len(fr) {
				if rerr == nil {
					rerr = errShort
				}
				return 0, h, false, rerr
			}
			fh, derr := decodeFrame(fr)
			if derr != nil || forEachRecord(fr, fh.Count, nil) != nil {
				continue
			}
			return at, fh, true, nil
		}
	}
	return 0, h, false, nil
}

// keepTorn copies bytes [from, to) of the segment aside into
// <segment>.torn-<unix ms>, as evidence of what recovery cut off.
func (st *Store) keepTorn(f vfs.File, name string, from, to int64) (string, error) {
	out := fmt.Sprintf("%s.torn-%d", name, st.nowMs())
	w, err := st.fs.Create(out)
	if err != nil {
		return out, err
	}
	defer w.Close()
	bp := getBuf(1 << 20)
	defer putBuf(bp)
	buf := (*bp)[:cap(*bp)]
	for off := from; off < to; {
		n := int(min(int64(len(buf)), to-off))
		k, err := f.ReadAt(buf[:n], off)
		if k > 0 {
			if _, werr := w.WriteAt(buf[:k], off-from); werr != nil {
				return out, werr
			}
		}
		if k < n {
			if err == nil {
				err = errShort
			}
			return out, err
		}
		off += int64(k)
	}
	if err := w.Sync(); err != nil {
		return out, err
	}
	return out, st.fs.SyncDir(path.Dir(name))
}

// loadShard recovers one shard directory. It returns nil, nil for the
// leftovers of a CreateShard that never finished.
func (st *Store) loadShard(dir string, clean bool) (*shard, error) {
	fs := st.fs
	b, err := readFile(fs, path.Join(dir, stateName))
	if errors.Is(err, os.ErrNotExist) {
		st.log.Warn("removing shard directory without a state file (unfinished create)", "dir", dir)
		if err := fs.RemoveAll(dir); err != nil {
			return nil, fmt.Errorf("remove %s: %w", dir, err)
		}
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read shard state in %s: %w", dir, err)
	}
	state, err := decodeShardState(b)
	if err != nil {
		return nil, fmt.Errorf("shard state %s: %w: %v", path.Join(dir, stateName), storage.ErrCorrupt, err)
	}
	if want := shardDirOf(st.dir, state.ID); want != dir {
		return nil, fmt.Errorf("shard state in %s names shard %s/%d (expected in %s): %w", dir, state.ID.Stream, state.ID.Index, want, storage.ErrCorrupt)
	}
	ents, err := fs.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", dir, err)
	}
	var bases []uint64
	for _, e := range ents {
		if strings.HasSuffix(e.Name, tmpSuffix) {
			fs.Remove(path.Join(dir, e.Name))
			continue
		}
		if b, ok := parseSegName(e.Name); ok {
			bases = append(bases, b)
		}
	}
	sort.Slice(bases, func(i, j int) bool { return bases[i] < bases[j] })
	if len(bases) == 0 {
		return nil, fmt.Errorf("shard %s/%d in %s has no segment files: %w", state.ID.Stream, state.ID.Index, dir, storage.ErrCorrupt)
	}
	sh := st.newShard(state.ID, dir, state)
	for i, base := range bases {
		last := i == len(bases)-1
		seg, err := st.loadSegment(sh, base, last, clean)
		if err != nil {
			sh.closeFilesLocked()
			return nil, err
		}
		if seg == nil {
			continue
		}
		sh.segs = append(sh.segs, seg)
	}
	// Finish an interrupted Trim: the horizon is persisted before segments
	// are unlinked, and unlinks may reach the disk in any order, so any
	// sealed segment wholly below the horizon is a leftover, not data.
	kept := sh.segs[:0]
	for i, s := range sh.segs {
		if i < len(sh.segs)-1 && s.next <= state.Trim {
			if s.f != nil {
				s.f.Close()
			}
			fs.Remove(s.name)
			fs.Remove(path.Join(dir, idxName(s.base)))
			continue
		}
		kept = append(kept, s)
	}
	if len(kept) < len(sh.segs) {
		sh.segs = kept
		if err := fs.SyncDir(dir); err != nil {
			sh.closeFilesLocked()
			return nil, fmt.Errorf("sync dir %s: %w", dir, err)
		}
	}
	for i := 1; i < len(sh.segs); i++ {
		if prev, s := sh.segs[i-1], sh.segs[i]; prev.next != s.base && sh.corrupt == nil {
			sh.corrupt = fmt.Errorf("%s: segment %s starts at %d, previous ends at %d: %w", sh, s.name, s.base, prev.next, storage.ErrCorrupt)
			st.log.Error("gap between segments", "err", sh.corrupt)
		}
	}
	act := sh.active()
	if !act.rw {
		// the segment after it was a torn roll and got dropped
		if act.f != nil {
			act.f.Close()
		}
		f, err := fs.OpenFile(act.name, os.O_RDWR, 0)
		if err != nil {
			sh.closeFilesLocked()
			return nil, fmt.Errorf("open segment %s: %w", act.name, err)
		}
		act.f, act.rw = f, true
	}
	if !clean {
		// What was recovered is durable from now on: the active segment's
		// bytes and its directory entry (a crash while rolling can leave a
		// complete new segment whose entry never reached the disk).
		if err := act.f.Sync(); err != nil {
			sh.closeFilesLocked()
			return nil, fmt.Errorf("sync segment %s: %w", act.name, err)
		}
		if err := fs.SyncDir(dir); err != nil {
			sh.closeFilesLocked()
			return nil, fmt.Errorf("sync dir %s: %w", dir, err)
		}
	}
	sh.next = act.next
	sh.durable = sh.next
	for _, s := range sh.segs {
		if s.next > s.base {
			sh.tipMs = max(sh.tipMs, s.maxMs)
		}
	}
	sh.tipMs = max(sh.tipMs, state.LastMs)
	sh.durableMs = sh.tipMs
	sh.lastMs = max(sh.tipMs, sh.createdMs)
	sh.trim = min(max(state.Trim, sh.segs[0].base), sh.next)
	return sh, nil
}

// loadSegment opens one segment and rebuilds or loads its index. The last
// segment is the active one: after an unclean stop it is scanned and a torn
// tail is cut off. A bad frame in any other segment is corruption: the
// segment keeps its good prefix and the shard is marked corrupt.
func (st *Store) loadSegment(sh *shard, base uint64, last, clean bool) (*segment, error) {
	fs := st.fs
	name := path.Join(sh.dir, segName(base))
	flag := os.O_RDONLY
	if last {
		flag = os.O_RDWR
	}
	f, err := fs.OpenFile(name, flag, 0)
	if err != nil {
		return nil, fmt.Errorf("open segment %s: %w", name, err)
	}
	size, err := f.Size()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("stat segment %s: %w", name, err)
	}
	hb := make([]byte, segHeaderLen)
	n, _ := f.ReadAt(hb, 0)
	h, herr := decodeSegHeader(hb[:n])
	if herr == nil && h.Base != base {
		herr = fmt.Errorf("header names base %d: %w", h.Base, errBadHeader)
	}
	if herr == nil && h.ShardTag != shardTag(sh.id) {
		herr = fmt.Errorf("header belongs to another shard: %w", errBadHeader)
	}
	if herr != nil {
		if last && len(sh.segs) > 0 {
			// A roll that crashed before the new segment's header was durable.
			torn, terr := st.keepTorn(f, name, 0, size)
			f.Close()
			if terr != nil {
				return nil, fmt.Errorf("keep torn segment %s: %w", name, terr)
			}
			if err := fs.Remove(name); err != nil {
				return nil, fmt.Errorf("remove torn segment %s: %w", name, err)
			}
			if err := fs.SyncDir(sh.dir); err != nil {
				return nil, fmt.Errorf("sync dir %s: %w", sh.dir, err)
			}
			st.log.Warn("dropped a segment with a torn header (crash while rolling)", "segment", name, "kept", torn, "err", herr)
			return nil, nil
		}
		f.Close()
		return nil, fmt.Errorf("segment %s: %w: %v", name, storage.ErrCorrupt, herr)
	}
	seg := &segment{name: name, base: base, next: base, size: segHeaderLen, createdMs: h.CreatedMs, f: f, rw: last}
	done := func() (*segment, error) {
		if !last {
			f.Close()
			seg.f = nil
		}
		return seg, nil
	}
	idxPath := path.Join(sh.dir, idxName(base))
	if !last || clean {
		if b, err := readFile(fs, idxPath); err == nil {
			sum, ents, derr := decodeIndex(b)
			if derr == nil && sum.Base == base && sum.Size == size {
				seg.apply(sum, ents)
				return done()
			}
			if !last {
				st.log.Info("rebuilding segment index", "segment", name, "reason", fmt.Sprint(derr, " size ", sum.Size, "/", size))
			}
		}
	}
	res := scanSegment(f, base, size, st.o.IndexInterval)
	if res.ioErr != nil {
		f.Close()
		return nil, fmt.Errorf("scan segment %s: %w", name, res.ioErr)
	}
	seg.apply(res.sum, res.index)
	var evidence string
	if res.err != nil && last {
		// A torn tail is a damaged suffix with nothing valid after it. A
		// valid frame after the damage means written (and, in always mode,
		// possibly acknowledged) data follows it: corruption, not a tail to
		// cut.
		at, fh, found, err := validFrameAfter(f, res.sum.Size, size, res.sum.Next, res.sum.MaxMs)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("scan segment %s past offset %d: %w", name, res.sum.Size, err)
		}
		if found {
			evidence = fmt.Sprintf("a valid frame (position %d) follows at offset %d, so this is not a torn tail", fh.Base, at)
		}
	}
	switch {
	case res.err != nil && last && evidence == "":
		torn, terr := st.keepTorn(f, name, res.sum.Size, size)
		if terr != nil {
			f.Close()
			return nil, fmt.Errorf("keep torn tail of %s: %w", name, terr)
		}
		if err := f.Truncate(res.sum.Size); err != nil {
			f.Close()
			return nil, fmt.Errorf("truncate torn tail of %s: %w", name, err)
		}
		if err := f.Sync(); err != nil {
			f.Close()
			return nil, fmt.Errorf("sync segment %s: %w", name, err)
		}
		st.log.Warn("cut a torn tail off the active segment", "segment", name, "offset", res.sum.Size,
			"bytes", size-res.sum.Size, "kept", torn, "reason", res.err)
	case res.err != nil && last:
		seg.badErr = fmt.Errorf("%s: active segment %s: bad frame at offset %d of %d (%v); %s: %w",
			sh, name, res.sum.Size, size, res.err, evidence, storage.ErrCorrupt)
		if sh.corrupt == nil {
			sh.corrupt = seg.badErr
		}
		st.log.Error("shard quarantined: corrupt active segment; nothing cut off, reads stop at the bad frame, appends refused",
			"stream", sh.id.Stream, "shard", sh.id.Index, "segment", name, "offset", res.sum.Size, "err", seg.badErr)
	case res.err != nil:
		seg.badErr = fmt.Errorf("%s: sealed segment %s: bad frame at offset %d of %d (%v): %w", sh, name, res.sum.Size, size, res.err, storage.ErrCorrupt)
		if sh.corrupt == nil {
			sh.corrupt = seg.badErr
		}
		st.log.Error("shard quarantined: corrupt sealed segment; reads stop at the bad frame, appends refused",
			"stream", sh.id.Stream, "shard", sh.id.Index, "segment", name, "offset", res.sum.Size, "err", seg.badErr)
	case !last:
		if err := writeAtomic(fs, sh.dir, idxName(base), encodeIndex(seg.summary(), seg.index)); err != nil {
			st.log.Warn("cannot rewrite segment index", "segment", name, "err", err)
		}
	}
	return done()
}
