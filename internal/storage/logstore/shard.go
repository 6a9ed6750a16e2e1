package logstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"sync"

	"github.com/eddy-streams/eddy/internal/storage"
	"github.com/eddy-streams/eddy/internal/vfs"
)

// segment is one segment file of a shard. All fields are guarded by the
// owning shard's mu; index entries and tail bytes below a reader's snapshot
// length are immutable, so readers use them after unlocking.
type segment struct {
	name       string // path of the .seg file
	base, next uint64 // positions [base, next)
	size       int64  // bytes of valid frames, header included
	minMs      int64
	maxMs      int64
	createdMs  int64
	index      []indexEntry
	lastIdxOff int64

	f       vfs.File // nil until opened (sealed segments open lazily)
	rw      bool     // f was opened for writing
	refs    int      // readers and syncers using f
	removed bool     // deleted or closed: close f when refs drops to 0

	badErr error // non-nil: bytes from size on failed verification (ErrCorrupt)
}

func (s *segment) summary() segSummary {
	return segSummary{Base: s.base, Next: s.next, Size: s.size, MinMs: s.minMs, MaxMs: s.maxMs}
}

func (s *segment) apply(sum segSummary, ents []indexEntry) {
	s.next, s.size, s.minMs, s.maxMs, s.index = sum.Next, sum.Size, sum.MinMs, sum.MaxMs, ents
	if n := len(ents); n > 0 {
		s.lastIdxOff = int64(ents[n-1].Off)
	}
}

// shard is one shard log.
//
// Locks: syncMu (the group-commit leader) is taken before mu. st.mu is
// never taken while holding either.
type shard struct {
	st  *Store
	id  storage.ShardID
	dir string

	syncMu sync.Mutex

	mu        sync.Mutex
	createdMs int64
	sealed    bool
	deleted   bool
	closed    bool
	corrupt   error // recovery found damage (a bad frame or a gap): the shard is quarantined, appends refused
	// unknown: quarantined at open because its layout could not be read
	// (bad state file or segment header, no segments): segs is empty and
	// every call but DeleteShard fails with corrupt.
	unknown   bool
	werr      error // sticky write/sync error: appends refused until reopen
	trim      uint64
	segs      []*segment // by base; the last one is active
	next      uint64     // next position to write
	lastMs    int64      // arrival floor for the next batch
	tipMs     int64      // arrival of the newest written record
	durable   uint64     // positions below are synced
	durableMs int64      // arrival of record durable-1
	watch     chan struct{}
	tail      tailCache
}

func (st *Store) newShard(id storage.ShardID, dir string, s shardState) *shard {
	return &shard{st: st, id: id, dir: dir, createdMs: s.CreatedMs, sealed: s.Sealed, trim: s.Trim, lastMs: s.CreatedMs}
}

func (sh *shard) String() string { return fmt.Sprintf("shard %s/%d", sh.id.Stream, sh.id.Index) }

func (sh *shard) active() *segment { return sh.segs[len(sh.segs)-1] }

func (sh *shard) visibleLocked() (uint64, int64) {
	if sh.st.o.Durability == Always {
		return sh.durable, sh.durableMs
	}
	return sh.next, sh.tipMs
}

func (sh *shard) notifyLocked() {
	if sh.watch != nil {
		close(sh.watch)
		sh.watch = nil
	}
}

func (sh *shard) liveLocked() error {
	if sh.deleted {
		return fmt.Errorf("%s: %w", sh, storage.ErrNotFound)
	}
	if sh.closed {
		return storage.ErrClosed
	}
	return nil
}

// readableLocked is liveLocked for calls that need the shard's layout: a
// shard quarantined at open fails them.
func (sh *shard) readableLocked() error {
	if err := sh.liveLocked(); err != nil {
		return err
	}
	if sh.unknown {
		return fmt.Errorf("%s is quarantined: %w", sh, sh.corrupt)
	}
	return nil
}

func (sh *shard) writableLocked() error {
	if err := sh.liveLocked(); err != nil {
		return err
	}
	if sh.sealed {
		return fmt.Errorf("%s: %w", sh, storage.ErrShardSealed)
	}
	if sh.werr != nil {
		return fmt.Errorf("%s: %w (cause: %v)", sh, storage.ErrPoisoned, sh.werr)
	}
	if sh.corrupt != nil {
		return fmt.Errorf("%s is quarantined, appends refused: %w", sh, sh.corrupt)
	}
	return nil
}

func (sh *shard) poisonLocked(err error) error {
	if sh.werr == nil {
		sh.werr = err
		sh.st.log.Error("shard poisoned: writes refused until reopen", "stream", sh.id.Stream, "shard", sh.id.Index, "err", err)
	}
	return fmt.Errorf("%s: %w (cause: %v)", sh, storage.ErrPoisoned, err)
}

// ioErrLocked turns a failed write of a new file into the caller's error:
// ENOSPC fails cleanly (nothing half-written is left behind), anything else
// poisons the shard.
func (sh *shard) ioErrLocked(err error) error {
	if isNoSpace(err) {
		return fmt.Errorf("%s: %w: %v", sh, storage.ErrNoSpace, err)
	}
	return sh.poisonLocked(err)
}

func (sh *shard) markDurableLocked(t uint64, ms int64) {
	if t > sh.durable {
		sh.durable, sh.durableMs = t, ms
		if sh.st.o.Durability == Always {
			sh.notifyLocked()
		}
	}
}

func (sh *shard) closeIfUnusedLocked(s *segment) {
	if s.removed && s.refs == 0 && s.f != nil {
		s.f.Close()
		s.f = nil
	}
}

// unrefLocked drops a reference. Sealed segments are closed as soon as no
// reader holds them, so open files stay bounded by shards + readers.
func (sh *shard) unrefLocked(s *segment) {
	s.refs--
	if s.refs == 0 && s.f != nil && (s.removed || s != sh.active()) {
		s.f.Close()
		s.f, s.rw = nil, false
	}
}

// closeFilesLocked closes every handle (used when Open fails).
func (sh *shard) closeFilesLocked() {
	for _, s := range sh.segs {
		s.removed = true
		sh.closeIfUnusedLocked(s)
	}
}

// ---- buffers ----

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 64<<10); return &b }}

func getBuf(n int) *[]byte {
	bp := bufPool.Get().(*[]byte)
	if cap(*bp) < n {
		*bp = make([]byte, 0, max(n, 2*cap(*bp)))
	}
	return bp
}

func putBuf(bp *[]byte) {
	if cap(*bp) <= 16<<20 {
		*bp = (*bp)[:0]
		bufPool.Put(bp)
	}
}

// ---- append ----

// Append writes recs as one frame with one write(2) and, in Always mode,
// waits for the group commit that covers it.
func (st *Store) Append(ctx context.Context, id storage.ShardID, recs []storage.Record) (storage.AppendResult, error) {
	if len(recs) == 0 {
		return storage.AppendResult{}, fmt.Errorf("append to shard %s/%d: empty batch", id.Stream, id.Index)
	}
	size := frameSize(recs)
	if size-4 > maxFrameLen {
		return storage.AppendResult{}, fmt.Errorf("append to shard %s/%d: batch of %d bytes exceeds the %d-byte frame limit", id.Stream, id.Index, size, maxFrameLen)
	}
	if err := ctx.Err(); err != nil {
		return storage.AppendResult{}, err
	}
	sh, err := st.get(id)
	if err != nil {
		return storage.AppendResult{}, err
	}
	bp := getBuf(size)
	defer putBuf(bp)

	sh.mu.Lock()
	if err := sh.writableLocked(); err != nil {
		sh.mu.Unlock()
		return storage.AppendResult{}, err
	}
	nowMs := st.nowMs()
	act := sh.active()
	if act.next > act.base && (act.size+int64(size) > st.o.SegmentBytes || nowMs-act.createdMs >= st.o.SegmentAge.Milliseconds()) {
		if err := sh.rollLocked(nowMs); err != nil {
			sh.mu.Unlock()
			return storage.AppendResult{}, err
		}
		act = sh.active()
	}
	ms := max(nowMs, sh.lastMs)
	first := sh.next
	frame := appendFrame((*bp)[:0], first, ms, recs)
	*bp = frame
	off := act.size
	if _, err := act.f.WriteAt(frame, off); err != nil {
		err = sh.writeFailedLocked(act, off, err)
		sh.mu.Unlock()
		return storage.AppendResult{}, err
	}
	count := uint32(len(recs))
	if act.next == act.base || off-act.lastIdxOff >= int64(st.o.IndexInterval) {
		act.index = append(act.index, indexEntry{Rel: uint32(first - act.base), Off: uint32(off), Ms: ms})
		act.lastIdxOff = off
	}
	if act.next == act.base {
		act.minMs = ms
	}
	act.maxMs = ms
	act.next += uint64(count)
	act.size += int64(len(frame))
	sh.next += uint64(count)
	sh.lastMs, sh.tipMs = ms, ms
	sh.cacheLocked(off, frame)
	if st.o.Durability != Always {
		sh.notifyLocked()
	}
	target := sh.next
	sh.mu.Unlock()

	if st.o.Durability == Always {
		if err := sh.syncTo(target, false); err != nil {
			return storage.AppendResult{}, err
		}
	}
	return storage.AppendResult{FirstPos: first, ArrivalMs: ms}, nil
}

// writeFailedLocked handles a failed frame write at off: on ENOSPC the
// partial frame is cut off and the append fails cleanly; any other error
// (or a failed cut) poisons the shard.
func (sh *shard) writeFailedLocked(act *segment, off int64, err error) error {
	if isNoSpace(err) {
		if terr := act.f.Truncate(off); terr != nil {
			return sh.poisonLocked(fmt.Errorf("write segment %s: %v; truncate back to %d: %w", act.name, err, off, terr))
		}
		return fmt.Errorf("%s: %w: %v", sh, storage.ErrNoSpace, err)
	}
	return sh.poisonLocked(fmt.Errorf("write segment %s: %w", act.name, err))
}

// syncTo makes positions below target durable, sharing one fdatasync with
// every appender that queues meanwhile (group commit: whoever holds syncMu
// syncs everything written so far). background syncs whatever is written.
func (sh *shard) syncTo(target uint64, background bool) error {
	sh.syncMu.Lock()
	defer sh.syncMu.Unlock()
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if background {
		target = sh.next
	}
	if sh.durable >= target {
		return nil
	}
	if err := sh.readableLocked(); err != nil {
		return err
	}
	if sh.werr != nil {
		return fmt.Errorf("%s: %w (cause: %v)", sh, storage.ErrPoisoned, sh.werr)
	}
	act := sh.active()
	act.refs++
	t, tms := sh.next, sh.tipMs
	sh.mu.Unlock()
	err := sh.syncFile(act)
	sh.mu.Lock()
	sh.unrefLocked(act)
	if err != nil {
		return sh.poisonLocked(fmt.Errorf("sync segment %s: %w", act.name, err))
	}
	sh.markDurableLocked(t, tms)
	return nil
}

// rollLocked seals the active segment (fdatasync, write its index) and
// starts a new one, durable before any frame goes into it.
func (sh *shard) rollLocked(nowMs int64) error {
	act := sh.active()
	if err := sh.syncFile(act); err != nil {
		return sh.poisonLocked(fmt.Errorf("sync segment %s: %w", act.name, err))
	}
	sh.markDurableLocked(sh.next, sh.tipMs)
	fs := sh.st.fs
	if err := writeAtomic(fs, sh.dir, idxName(act.base), encodeIndex(act.summary(), act.index)); err != nil {
		return sh.ioErrLocked(err)
	}
	seg, err := createSegment(fs, sh.dir, sh.id, sh.next, nowMs)
	if err != nil {
		return sh.ioErrLocked(err)
	}
	seg.rw = true
	sh.segs = append(sh.segs, seg)
	sh.dropTailLocked()
	if act.refs == 0 {
		act.f.Close()
		act.f, act.rw = nil, false
	}
	return nil
}

// ---- reads ----

// view is a reader's snapshot of one segment.
type view struct {
	seg   *segment
	f     vfs.File
	size  int64
	index []indexEntry
	tail  []tailRef
}

func (sh *shard) viewLocked(s *segment, open bool) (view, error) {
	if open {
		if err := sh.openLocked(s); err != nil {
			return view{}, err
		}
	}
	s.refs++
	v := view{seg: s, f: s.f, size: s.size, index: s.index}
	if s == sh.active() {
		v.tail = sh.snapshotTailLocked()
	}
	return v, nil
}

// openLocked opens a sealed segment's file on first use. A segment that
// was removed (trimmed or deleted) before anyone opened it is gone.
func (sh *shard) openLocked(s *segment) error {
	if s.f != nil {
		return nil
	}
	if s.removed {
		return fmt.Errorf("segment %s: %w", s.name, storage.ErrTrimmed)
	}
	f, err := sh.st.fs.Open(s.name)
	if err != nil {
		return fmt.Errorf("open segment %s: %w", s.name, err)
	}
	s.f = f
	return nil
}

func (sh *shard) unview(vs ...view) {
	sh.mu.Lock()
	for _, v := range vs {
		sh.unrefLocked(v.seg)
		sh.releaseTailLocked(v.tail)
	}
	sh.mu.Unlock()
}

// lookup returns the index entry at or before relative position rel.
func lookup(index []indexEntry, rel uint64) indexEntry {
	i := sort.Search(len(index), func(i int) bool { return uint64(index[i].Rel) > rel })
	if i == 0 {
		return indexEntry{Off: segHeaderLen}
	}
	return index[i-1]
}

const readChunk = 256 << 10

// frameReader hands out complete, checked frames of a segment file through
// a pooled window buffer.
type frameReader struct {
	f    vfs.File
	end  int64
	bp   *[]byte
	win  []byte
	woff int64
}

func (r *frameReader) release() {
	if r.bp != nil {
		putBuf(r.bp)
		r.bp = nil
	}
}

// errIO marks a failure to read (as opposed to bad bytes).
type errIO struct{ err error }

func (e errIO) Error() string { return e.err.Error() }
func (e errIO) Unwrap() error { return e.err }

func (r *frameReader) bytes(off int64, n int) ([]byte, error) {
	if off+int64(n) > r.end {
		return nil, errShort
	}
	if r.win != nil && off >= r.woff && off+int64(n) <= r.woff+int64(len(r.win)) {
		return r.win[off-r.woff:], nil
	}
	want := int(min(int64(max(n, readChunk)), r.end-off))
	if r.bp == nil {
		r.bp = getBuf(want)
	} else if cap(*r.bp) < want {
		*r.bp = make([]byte, 0, want)
	}
	b := (*r.bp)[:want]
	k, err := r.f.ReadAt(b, off)
	if k < want {
		if err == nil || errors.Is(err, io.EOF) {
			return nil, errShort
		}
		return nil, errIO{err}
	}
	r.win, r.woff = b, off
	return b, nil
}

func (r *frameReader) frame(off int64) ([]byte, frameHeader, error) {
	b, err := r.bytes(off, frameHeaderLen)
	if err != nil {
		return nil, frameHeader{}, err
	}
	sz, err := peekFrameSize(b)
	if err != nil {
		return nil, frameHeader{}, err
	}
	if b, err = r.bytes(off, sz); err != nil {
		return nil, frameHeader{}, err
	}
	h, err := decodeFrame(b[:sz])
	return b[:sz], h, err
}

// scanFrames calls fn for each frame of v from byte offset off, whose first
// position must be expect, until fn returns false or the snapshot ends.
func scanFrames(v view, off int64, expect uint64, fn func(h frameHeader, frame []byte) bool) error {
	r := frameReader{f: v.f, end: v.size}
	defer r.release()
	for off < v.size {
		var frame []byte
		var h frameHeader
		var err error
		if fr, ok := tailFrame(v.tail, off); ok {
			frame = fr
			h, err = frameHeaderOf(frame)
		} else {
			frame, h, err = r.frame(off)
		}
		if err == nil && h.Base != expect {
			err = fmt.Errorf("%w: frame at %d, want %d", errBadBase, h.Base, expect)
		}
		if err != nil {
			var ioe errIO
			if errors.As(err, &ioe) {
				return fmt.Errorf("read segment %s offset %d: %w", v.seg.name, off, ioe.err)
			}
			return fmt.Errorf("segment %s offset %d: %w: %v", v.seg.name, off, storage.ErrCorrupt, err)
		}
		if !fn(h, frame) {
			return nil
		}
		expect = h.Base + uint64(h.Count)
		off += int64(len(frame))
	}
	return nil
}

// Read yields records from position from (clamped up to the trim horizon)
// up to the visible tip, within lim.
func (st *Store) Read(ctx context.Context, id storage.ShardID, from uint64, lim storage.ReadLimits, fn func(storage.StoredRecord) bool) (uint64, error) {
	sh, err := st.get(id)
	if err != nil {
		return from, err
	}
	sh.mu.Lock()
	if err := sh.readableLocked(); err != nil {
		sh.mu.Unlock()
		return from, err
	}
	vis, _ := sh.visibleLocked()
	from = max(from, sh.trim)
	if from >= vis {
		// at the tip; if the active segment is damaged, the tip is the damage
		err := sh.active().badErr
		sh.mu.Unlock()
		return from, err
	}
	i := sort.Search(len(sh.segs), func(i int) bool { return sh.segs[i].next > from })
	if i > 0 && sh.segs[i-1].badErr != nil && (i == len(sh.segs) || from < sh.segs[i].base) {
		// from lies in the unreadable rest of a damaged segment
		err := sh.segs[i-1].badErr
		sh.mu.Unlock()
		return from, err
	}
	var views []view
	for j := i; j < len(sh.segs) && sh.segs[j].base < vis; j++ {
		// only the first segment is opened now; the others when reached
		v, err := sh.viewLocked(sh.segs[j], j == i)
		if err != nil {
			sh.mu.Unlock()
			sh.unview(views...)
			return from, err
		}
		views = append(views, v)
	}
	sh.mu.Unlock()
	defer sh.unview(views...)

	pos := from
	n, nbytes := 0, 0
	stop := false
	var recErr error
	// damaged met after records were yielded: hand those over; the read
	// that starts at the damage gets the error
	damaged := func(err error) (uint64, error) {
		if n > 0 && errors.Is(err, storage.ErrCorrupt) {
			return pos, nil
		}
		return pos, err
	}
	for _, v := range views {
		if err := ctx.Err(); err != nil {
			return pos, err
		}
		if v.seg.base > pos {
			return damaged(fmt.Errorf("%s: positions %d to %d missing: %w", sh, pos, v.seg.base, storage.ErrCorrupt))
		}
		if v.f == nil {
			sh.mu.Lock()
			err := sh.openLocked(v.seg)
			v.f = v.seg.f
			sh.mu.Unlock()
			if errors.Is(err, storage.ErrTrimmed) {
				return pos, nil // trimmed under us: the caller's next read starts at the new horizon
			}
			if err != nil {
				return pos, err
			}
		}
		e := lookup(v.index, pos-v.seg.base)
		err := scanFrames(v, int64(e.Off), v.seg.base+uint64(e.Rel), func(h frameHeader, frame []byte) bool {
			if h.Base+uint64(h.Count) <= pos {
				return true
			}
			recErr = forEachRecord(frame, h.Count, func(i uint32, pk, data []byte) bool {
				p := h.Base + uint64(i)
				if p < pos {
					return true
				}
				if p >= vis {
					stop = true
					return false
				}
				sz := len(pk) + len(data)
				if n > 0 && ((lim.MaxRecords > 0 && n >= lim.MaxRecords) || (lim.MaxBytes > 0 && nbytes+sz > lim.MaxBytes)) {
					stop = true
					return false
				}
				n++
				nbytes += sz
				pos = p + 1
				if !fn(storage.StoredRecord{Pos: p, ArrivalMs: h.Ms, PartitionKey: pk, Data: data}) {
					stop = true
					return false
				}
				return true
			})
			return recErr == nil && !stop
		})
		if recErr != nil {
			return damaged(fmt.Errorf("%s: segment %s: %w: %v", sh, v.seg.name, storage.ErrCorrupt, recErr))
		}
		if err != nil {
			return damaged(fmt.Errorf("%s: %w", sh, err))
		}
		if stop {
			break
		}
		if v.seg.badErr != nil {
			// reached the damage (reads that stop before it break above)
			return damaged(v.seg.badErr)
		}
	}
	return pos, nil
}

// PosAtTime returns the first visible position with arrival >= ms (the
// visible tip if none), never below the trim horizon.
func (st *Store) PosAtTime(_ context.Context, id storage.ShardID, ms int64) (uint64, error) {
	sh, err := st.get(id)
	if err != nil {
		return 0, err
	}
	return sh.posAtTime(ms)
}

func (sh *shard) posAtTime(ms int64) (uint64, error) {
	sh.mu.Lock()
	if err := sh.readableLocked(); err != nil {
		sh.mu.Unlock()
		return 0, err
	}
	vis, _ := sh.visibleLocked()
	trim := sh.trim
	clamp := func(p uint64) uint64 { return min(max(p, trim), vis) }
	var seg *segment
	for _, s := range sh.segs {
		if s.next > s.base && s.base < vis && s.next > trim && s.maxMs >= ms {
			seg = s
			break
		}
	}
	if seg == nil {
		sh.mu.Unlock()
		return vis, nil
	}
	if seg.minMs >= ms {
		sh.mu.Unlock()
		return clamp(seg.base), nil
	}
	v, err := sh.viewLocked(seg, true)
	segNext := seg.next
	sh.mu.Unlock()
	if err != nil {
		return 0, err
	}
	defer sh.unview(v)
	i := sort.Search(len(v.index), func(i int) bool { return v.index[i].Ms >= ms })
	e := lookup(nil, 0)
	if i > 0 {
		e = v.index[i-1]
	}
	res := segNext
	err = scanFrames(v, int64(e.Off), seg.base+uint64(e.Rel), func(h frameHeader, _ []byte) bool {
		if h.Ms >= ms {
			res = h.Base
			return false
		}
		return true
	})
	if err != nil {
		return 0, err
	}
	return clamp(res), nil
}

// Bounds reports the readable window.
func (st *Store) Bounds(_ context.Context, id storage.ShardID) (storage.Bounds, error) {
	sh, err := st.get(id)
	if err != nil {
		return storage.Bounds{}, err
	}
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if err := sh.readableLocked(); err != nil {
		return storage.Bounds{}, err
	}
	vis, tip := sh.visibleLocked()
	if vis == 0 {
		tip = 0
	}
	return storage.Bounds{Trim: sh.trim, Next: vis, TipMs: tip, Sealed: sh.sealed, CreatedMs: sh.createdMs}, nil
}

var closedCh = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

// Watch returns a channel closed once position next is readable, or the
// shard is sealed or deleted, or the store closes.
func (st *Store) Watch(id storage.ShardID, next uint64) <-chan struct{} {
	sh, err := st.get(id)
	if err != nil {
		return closedCh
	}
	sh.mu.Lock()
	defer sh.mu.Unlock()
	vis, _ := sh.visibleLocked()
	if sh.sealed || sh.deleted || sh.closed || sh.unknown || sh.active().badErr != nil || vis > next {
		// a reader at the damage of a quarantined shard wakes to its error
		return closedCh
	}
	if sh.watch == nil {
		sh.watch = make(chan struct{})
	}
	return sh.watch
}

func (sh *shard) stateLocked() shardState {
	return shardState{ID: sh.id, CreatedMs: sh.createdMs, Trim: sh.trim, LastMs: sh.tipMs, Sealed: sh.sealed}
}

// SealShard refuses further appends, durably.
func (st *Store) SealShard(_ context.Context, id storage.ShardID) error {
	sh, err := st.get(id)
	if err != nil {
		return err
	}
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if err := sh.readableLocked(); err != nil {
		return err
	}
	if sh.sealed {
		return nil
	}
	sh.sealed = true
	sh.notifyLocked()
	if err := writeAtomic(st.fs, sh.dir, stateName, sh.stateLocked().encode()); err != nil {
		return fmt.Errorf("seal %s: %w", sh, err)
	}
	return nil
}

// Trim hides records that arrived before cutoffMs at once, persists the
// new horizon and deletes segments holding only trimmed records (rolling
// the active segment first when all of it is trimmed).
func (st *Store) Trim(_ context.Context, id storage.ShardID, cutoffMs int64) error {
	sh, err := st.get(id)
	if err != nil {
		return err
	}
	p, err := sh.posAtTime(cutoffMs)
	if err != nil {
		return err
	}
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if err := sh.readableLocked(); err != nil {
		return err
	}
	changed := p > sh.trim
	if changed {
		sh.trim = p
	}
	// A quarantined shard's active segment is never sealed away: its bytes
	// past the damage are evidence, and a new segment would reuse their
	// positions.
	if act := sh.active(); sh.werr == nil && sh.corrupt == nil && act.next > act.base && sh.trim >= act.next && sh.next == act.next {
		if err := sh.rollLocked(st.nowMs()); err != nil {
			return fmt.Errorf("trim %s: %w", sh, err)
		}
	}
	if changed {
		// The persisted horizon must never point past the durable log
		// (interval and none modes), or a power loss could leave it beyond
		// the recovered tip.
		if sh.trim > sh.durable && sh.werr == nil {
			act := sh.active()
			if err := sh.syncFile(act); err != nil {
				return sh.poisonLocked(fmt.Errorf("sync segment %s: %w", act.name, err))
			}
			sh.markDurableLocked(sh.next, sh.tipMs)
		}
		if err := writeAtomic(st.fs, sh.dir, stateName, sh.stateLocked().encode()); err != nil {
			return fmt.Errorf("trim %s: save state: %w", sh, err)
		}
	}
	var dead []*segment
	for len(sh.segs) > 1 && sh.segs[0].next <= sh.trim {
		dead = append(dead, sh.segs[0])
		sh.segs = sh.segs[1:]
	}
	if len(dead) == 0 {
		return nil
	}
	var errs []error
	for _, s := range dead {
		s.removed = true
		sh.closeIfUnusedLocked(s)
		if err := st.fs.Remove(s.name); err != nil {
			errs = append(errs, err)
		}
		if err := st.fs.Remove(path.Join(sh.dir, idxName(s.base))); err != nil && !isNotExist(err) {
			errs = append(errs, err)
		}
	}
	if err := st.fs.SyncDir(sh.dir); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("trim %s: remove segments: %w", sh, err)
	}
	return nil
}

// close syncs the shard and writes the active segment's index so the next
// open can skip scanning it. An error means the shard was not left clean.
func (sh *shard) close() error {
	sh.syncMu.Lock()
	defer sh.syncMu.Unlock()
	sh.mu.Lock()
	defer sh.mu.Unlock()
	var err error
	switch {
	case sh.deleted, sh.unknown:
	case sh.werr != nil:
		err = fmt.Errorf("%s: %w (cause: %v)", sh, storage.ErrPoisoned, sh.werr)
	default:
		act := sh.active()
		if serr := sh.syncFile(act); serr != nil {
			err = sh.poisonLocked(fmt.Errorf("sync segment %s: %w", act.name, serr))
			break
		}
		sh.markDurableLocked(sh.next, sh.tipMs)
		if werr := writeAtomic(sh.st.fs, sh.dir, idxName(act.base), encodeIndex(act.summary(), act.index)); werr != nil {
			err = fmt.Errorf("%s: write index: %w", sh, werr)
		}
	}
	sh.closed = true
	sh.notifyLocked()
	sh.closeFilesLocked()
	sh.dropTailLocked()
	return err
}

func (sh *shard) syncFile(s *segment) error {
	sh.st.syncs.Add(1)
	return s.f.Sync()
}
