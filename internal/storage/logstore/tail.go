package logstore

import "sync"

// The tail cache keeps the newest bytes of each shard's active segment in
// memory so tailing readers are served without a syscall. It is a list of
// fixed-size chunks holding whole frames (a frame never spans chunks; a
// frame larger than a chunk gets its own chunk, if it fits in half the
// cache). Appends fill the newest chunk
// in place, past the length any reader snapshotted, so readers need no
// lock while they decode. Evicted chunks are recycled once no reader holds
// them (reference counts under the shard mutex): a steady write load makes
// no garbage, which keeps the resident size flat.

const tailChunkSize = 1 << 20

var chunkPool = sync.Pool{New: func() any { return &chunk{buf: make([]byte, 0, tailChunkSize)} }}

type chunk struct {
	buf     []byte // frames; cap is the chunk size
	start   int64  // segment offset of buf[0]
	refs    int    // readers holding a snapshot (shard mu)
	evicted bool   // no longer in the cache: recycle when refs drops to 0
}

// tailCache is guarded by the shard mutex.
type tailCache struct {
	chunks []*chunk // oldest first, contiguous in the segment
	bytes  int64    // sum of chunk capacities
}

// tailRef is a reader's snapshot of one chunk. buf is the chunk's slice
// header as it was at snapshot time: appends after it rewrite c.buf (the
// header) but never the bytes below len(buf), so the reader uses buf and
// never reads c.buf without the lock.
type tailRef struct {
	c     *chunk
	buf   []byte
	start int64
}

func (sh *shard) chunkSize() int { return min(tailChunkSize, sh.st.o.TailCacheBytes) }

func (sh *shard) recycleLocked(c *chunk) {
	if c.evicted && c.refs == 0 && cap(c.buf) == tailChunkSize {
		c.buf, c.evicted = c.buf[:0], false
		chunkPool.Put(c)
	}
}

func (sh *shard) evictOldestLocked() {
	t := &sh.tail
	c := t.chunks[0]
	t.chunks[0] = nil
	t.chunks = t.chunks[1:]
	t.bytes -= int64(cap(c.buf))
	sh.st.cacheUsed.Add(-int64(cap(c.buf)))
	c.evicted = true
	sh.recycleLocked(c)
}

// dropTailLocked empties the cache (roll, delete, close, odd offsets).
func (sh *shard) dropTailLocked() {
	for len(sh.tail.chunks) > 0 {
		sh.evictOldestLocked()
	}
	sh.tail.chunks = nil
}

// cacheLocked adds the frame just written at off.
func (sh *shard) cacheLocked(off int64, frame []byte) {
	size := sh.chunkSize()
	if size <= 0 {
		return
	}
	t := &sh.tail
	var last *chunk
	if n := len(t.chunks); n > 0 {
		last = t.chunks[n-1]
		if last.start+int64(len(last.buf)) != off {
			sh.dropTailLocked()
			last = nil
		}
	}
	if len(frame) > size {
		// a frame bigger than a chunk gets a chunk of its own (not
		// recycled) as long as it is at most half the cache
		if 2*len(frame) > sh.st.o.TailCacheBytes {
			sh.dropTailLocked()
			return
		}
		size = len(frame)
	}
	if last == nil || len(last.buf)+len(frame) > cap(last.buf) {
		for len(t.chunks) > 0 && t.bytes+int64(size) > int64(sh.st.o.TailCacheBytes) {
			sh.evictOldestLocked()
		}
		if sh.st.cacheUsed.Add(int64(size)) > sh.st.o.TailCacheTotalBytes {
			// over the store-wide budget: this shard reads from disk for now
			sh.st.cacheUsed.Add(-int64(size))
			sh.dropTailLocked()
			return
		}
		if size == tailChunkSize {
			last = chunkPool.Get().(*chunk)
		} else {
			last = &chunk{buf: make([]byte, 0, size)}
		}
		last.start = off
		t.chunks = append(t.chunks, last)
		t.bytes += int64(size)
	}
	last.buf = append(last.buf, frame...)
}

// snapshotTailLocked takes references on the cached chunks for a reader.
func (sh *shard) snapshotTailLocked() []tailRef {
	if len(sh.tail.chunks) == 0 {
		return nil
	}
	refs := make([]tailRef, len(sh.tail.chunks))
	for i, c := range sh.tail.chunks {
		c.refs++
		refs[i] = tailRef{c: c, buf: c.buf[:len(c.buf):len(c.buf)], start: c.start}
	}
	return refs
}

func (sh *shard) releaseTailLocked(refs []tailRef) {
	for _, r := range refs {
		r.c.refs--
		sh.recycleLocked(r.c)
	}
}

// tailFrame returns the cached frame at segment offset off, if cached.
func tailFrame(refs []tailRef, off int64) ([]byte, bool) {
	for i := len(refs) - 1; i >= 0; i-- {
		r := refs[i]
		if off >= r.start {
			if off >= r.start+int64(len(r.buf)) {
				return nil, false
			}
			b := r.buf[off-r.start:]
			sz, err := peekFrameSize(b)
			if err != nil || sz > len(b) {
				return nil, false
			}
			return b[:sz], true
		}
	}
	return nil, false
}
