// Package fragstore keeps one Kinesis video stream's fragments durably under
// a directory: append-only segment files of CRC-framed records, each
// fragment fsynced before Append returns (PERSISTED is acknowledged only
// after that), and an in-memory index rebuilt by scanning at Open.
//
// Segment file "<first fragment seq, 20 digits>.seg", a sequence of frames:
//
//	off  size  field
//	0    4     magic "KVF1"
//	4    4     payload length n, little endian
//	8    4     CRC-32C (Castagnoli) of the payload, little endian
//	12   n     payload
//
// Payload, version 2 (written now) or 1 (read, written before fragment
// metadata was kept):
//
//	0    1     version = 2 (or 1)
//	1    1     kind: 1 header, 2 fragment
//	header:   2 u32 header id | u32 len + EBML header element | u32 len + Info | u32 len + Tracks
//	fragment: 2 u64 seq | u32 header id | i64 producer ms | i64 server ms | u32 duration ms
//	          | v2 only: u32 T + T bytes of tags, each u32 len + name, u32 len + value
//	          | cluster element (rest)
//
// A header record is the same in both versions. The tags are the
// producer's fragment metadata (MKV SimpleTags before the Cluster), in
// stream order.
// Every segment starts with the header record its first fragment uses, so a
// segment can be deleted whole by retention. A torn tail (short or bad
// frame at the end of the last segment) is truncated at Open; fragments
// before it are kept.
//
// Fragment sequences are handed out by Reserve when a fragment starts (its
// BUFFERING acknowledgement carries the number) and need not all be stored:
// a fragment refused after its start leaves a gap. So that a number once
// shown is never shown again for another fragment, after a restart too,
// reservations are made in blocks whose end is written first to the file
// "reserved" (decimal, written to a temporary file, fsynced, renamed); Open
// continues after the larger of that and the last stored sequence. See
// docs/format/video-fragments.md.
package fragstore

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/eddy-streams/eddy/internal/video/mkv"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

const (
	magic   = "KVF1"
	version = 2
	// version1 records (no fragment tags) are still read
	version1   = 1
	kindHeader = 1
	kindFrag   = 2
	// SegmentBytes is when a new segment starts.
	SegmentBytes = 64 << 20
	maxPayload   = 64 << 20
	// reserveBlock is how many sequences one write of "reserved" covers
	reserveBlock = 1024
	reservedFile = "reserved"
)

// Meta describes one stored fragment.
type Meta struct {
	Seq uint64
	// Ord counts the stream's stored fragments without gaps (1, 2, 3, … in
	// this process; after a restart it starts again from the oldest kept
	// fragment): HLS media sequence numbers need consecutive values
	Ord      uint64
	HeaderID uint32
	Producer int64 // ms since the epoch
	Server   int64 // ms since the epoch
	Duration int64 // ms
	Size     int64 // cluster bytes
	// Tags counts the fragment's metadata tags
	Tags   int
	seg    *segment
	off    int64 // of the cluster bytes in seg
	tagLen int64 // bytes of the tag block just before them (0 in version 1)
}

type segment struct {
	name  string
	first uint64
	size  int64
}

// Store is one stream's fragments. Safe for concurrent use; one mutex.
type Store struct {
	dir string

	mu       sync.Mutex
	frags    []Meta
	headers  map[uint32]*mkv.Header
	lastHdr  uint32
	active   *os.File
	segs     []*segment
	nextSeq  uint64 // after the last stored fragment
	nextRes  uint64 // next sequence Reserve hands out (≥ nextSeq)
	resEnd   uint64 // last sequence covered by the "reserved" file
	ord      uint64 // Ord of the last stored fragment
	err      error  // sticky write/fsync error
	changed  chan struct{}
	closed   bool
	segBytes int64
}

// Open opens (or creates) the store in dir, scanning its segments.
func Open(dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("fragstore: %w", err)
	}
	s := &Store{dir: dir, headers: map[uint32]*mkv.Header{}, changed: make(chan struct{}), nextSeq: 1, segBytes: SegmentBytes}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("fragstore: %w", err)
	}
	var names []string
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".seg") {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	for i, n := range names {
		if err := s.scan(n, i == len(names)-1); err != nil {
			return nil, err
		}
	}
	s.nextRes = s.nextSeq
	b, err := os.ReadFile(filepath.Join(dir, reservedFile))
	switch {
	case err == nil:
		v, perr := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
		if perr != nil {
			return nil, fmt.Errorf("fragstore: %s in %s: %w", reservedFile, dir, perr)
		}
		s.resEnd = v
		s.nextRes = max(s.nextRes, v+1)
	case !os.IsNotExist(err):
		return nil, fmt.Errorf("fragstore: %w", err)
	}
	return s, nil
}

// Reserve hands out the sequence of a fragment that is starting: greater
// than every sequence handed out or stored before, in this process or an
// earlier one. A failure to record the reservation is sticky.
func (s *Store) Reserve() (uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, errors.New("fragstore: closed")
	}
	if s.err != nil {
		return 0, s.err
	}
	seq := max(s.nextRes, s.nextSeq)
	if seq > s.resEnd {
		end := seq + reserveBlock - 1
		if err := s.writeReserved(end); err != nil {
			s.err = err
			return 0, err
		}
		s.resEnd = end
	}
	s.nextRes = seq + 1
	return seq, nil
}

// writeReserved records end durably: temporary file, fsync, rename,
// directory fsync.
func (s *Store) writeReserved(end uint64) error {
	tmp := filepath.Join(s.dir, reservedFile+".tmp")
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("fragstore: create %s: %w", tmp, err)
	}
	_, err = f.WriteString(strconv.FormatUint(end, 10) + "\n")
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("fragstore: write %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, filepath.Join(s.dir, reservedFile)); err != nil {
		return fmt.Errorf("fragstore: rename %s: %w", tmp, err)
	}
	return syncDir(s.dir)
}

func (s *Store) scan(name string, last bool) error {
	path := filepath.Join(s.dir, name)
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("fragstore: read %s: %w", name, err)
	}
	seg := &segment{name: name}
	var first uint64
	fmt.Sscanf(strings.TrimSuffix(name, ".seg"), "%d", &first)
	seg.first = first
	off := 0
	for off < len(b) {
		n, ok := frameAt(b[off:])
		if !ok {
			break
		}
		p := b[off+12 : off+12+n]
		if err := s.apply(seg, int64(off+12), p); err != nil {
			break
		}
		off += 12 + n
	}
	// damage inside an older segment: what precedes it is kept, the file
	// is left as it is; in the last one it is a torn tail, cut off
	if off < len(b) && last {
		if err := os.Truncate(path, int64(off)); err != nil {
			return fmt.Errorf("fragstore: truncate torn tail of %s: %w", name, err)
		}
	}
	seg.size = int64(off)
	s.segs = append(s.segs, seg)
	return nil
}

func frameAt(b []byte) (int, bool) {
	if len(b) < 12 || string(b[:4]) != magic {
		return 0, false
	}
	n := int(binary.LittleEndian.Uint32(b[4:]))
	if n > maxPayload || len(b) < 12+n {
		return 0, false
	}
	if crc32.Checksum(b[12:12+n], castagnoli) != binary.LittleEndian.Uint32(b[8:]) {
		return 0, false
	}
	return n, true
}

func (s *Store) apply(seg *segment, off int64, p []byte) error {
	if len(p) < 2 || (p[0] != version && p[0] != version1) {
		return errors.New("bad record")
	}
	switch p[1] {
	case kindHeader:
		r := p[2:]
		if len(r) < 4 {
			return errors.New("short header")
		}
		id := binary.LittleEndian.Uint32(r)
		r = r[4:]
		var parts [3][]byte
		for i := range parts {
			if len(r) < 4 {
				return errors.New("short header")
			}
			n := int(binary.LittleEndian.Uint32(r))
			if len(r) < 4+n {
				return errors.New("short header")
			}
			parts[i] = r[4 : 4+n]
			r = r[4+n:]
		}
		h, err := mkv.ParseHeader(parts[0], parts[1], parts[2])
		if err != nil {
			return err
		}
		s.headers[id] = h
		s.lastHdr = id
	case kindFrag:
		r := p[2:]
		if len(r) < 8+4+8+8+4 {
			return errors.New("short fragment")
		}
		m := Meta{
			Seq:      binary.LittleEndian.Uint64(r),
			HeaderID: binary.LittleEndian.Uint32(r[8:]),
			Producer: int64(binary.LittleEndian.Uint64(r[12:])),
			Server:   int64(binary.LittleEndian.Uint64(r[20:])),
			Duration: int64(binary.LittleEndian.Uint32(r[28:])),
			seg:      seg,
		}
		m.off = off + 2 + 32
		r = r[32:]
		if p[0] == version {
			if len(r) < 4 {
				return errors.New("short fragment")
			}
			n := int64(binary.LittleEndian.Uint32(r))
			if n > int64(len(r)-4) {
				return errors.New("short fragment tags")
			}
			tags, err := DecodeTags(r[4 : 4+n])
			if err != nil {
				return err
			}
			m.Tags = len(tags)
			m.tagLen = n
			m.off += 4 + n
			r = r[4+n:]
		}
		m.Size = int64(len(r))
		if s.headers[m.HeaderID] == nil || m.Seq < s.nextSeq {
			return errors.New("fragment without header or out of order")
		}
		s.ord++
		m.Ord = s.ord
		s.frags = append(s.frags, m)
		s.nextSeq = m.Seq + 1
	default:
		return errors.New("unknown record kind")
	}
	return nil
}

func frame(p []byte) []byte {
	b := make([]byte, 12, 12+len(p))
	copy(b, magic)
	binary.LittleEndian.PutUint32(b[4:], uint32(len(p)))
	binary.LittleEndian.PutUint32(b[8:], crc32.Checksum(p, castagnoli))
	return append(b, p...)
}

// EncodeTags appends the tag block of a version-2 fragment record: per
// tag, u32 length + name, u32 length + value (little endian).
func EncodeTags(b []byte, tags []mkv.Tag) []byte {
	for _, t := range tags {
		b = binary.LittleEndian.AppendUint32(b, uint32(len(t.Name)))
		b = append(b, t.Name...)
		b = binary.LittleEndian.AppendUint32(b, uint32(len(t.Value)))
		b = append(b, t.Value...)
	}
	return b
}

// DecodeTags reads a tag block written by EncodeTags; a short or
// overrunning length is an error.
func DecodeTags(b []byte) ([]mkv.Tag, error) {
	var out []mkv.Tag
	str := func() (string, bool) {
		if len(b) < 4 {
			return "", false
		}
		n := binary.LittleEndian.Uint32(b)
		if uint64(n) > uint64(len(b)-4) {
			return "", false
		}
		v := string(b[4 : 4+n])
		b = b[4+n:]
		return v, true
	}
	for len(b) > 0 {
		name, ok := str()
		if !ok {
			return nil, errors.New("fragstore: malformed fragment tags")
		}
		value, ok := str()
		if !ok {
			return nil, errors.New("fragstore: malformed fragment tags")
		}
		out = append(out, mkv.Tag{Name: name, Value: value})
	}
	return out, nil
}

func headerRecord(id uint32, h *mkv.Header) []byte {
	p := []byte{version, kindHeader}
	p = binary.LittleEndian.AppendUint32(p, id)
	for _, part := range [][]byte{h.EBML, h.Info, h.Tracks} {
		p = binary.LittleEndian.AppendUint32(p, uint32(len(part)))
		p = append(p, part...)
	}
	return frame(p)
}

func sameHeader(a, b *mkv.Header) bool {
	return bytes.Equal(a.EBML, b.EBML) && bytes.Equal(a.Info, b.Info) && bytes.Equal(a.Tracks, b.Tracks)
}

// Append reserves a sequence and stores the fragment under it (AppendSeq).
func (s *Store) Append(h *mkv.Header, producer, server time.Time, duration time.Duration, cluster []byte, tags ...mkv.Tag) (Meta, error) {
	seq, err := s.Reserve()
	if err != nil {
		return Meta{}, err
	}
	return s.AppendSeq(seq, h, producer, server, duration, cluster, tags...)
}

// AppendSeq stores one fragment (cluster is the whole Cluster element)
// under seq, a sequence from Reserve greater than every stored one, and
// fsyncs it, with the fragment's metadata tags. A write or fsync error is
// sticky: every later Append fails.
func (s *Store) AppendSeq(seq uint64, h *mkv.Header, producer, server time.Time, duration time.Duration, cluster []byte, tags ...mkv.Tag) (Meta, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return Meta{}, errors.New("fragstore: closed")
	}
	if s.err != nil {
		return Meta{}, s.err
	}
	if seq < s.nextSeq || seq >= s.nextRes {
		return Meta{}, fmt.Errorf("fragstore: sequence %d not reserved or not after the last stored %d", seq, s.nextSeq-1)
	}
	// the segment a fragment starts is named after its sequence
	s.nextSeq = seq
	var buf []byte
	newSeg := s.active == nil || s.segs[len(s.segs)-1].size >= s.segBytes
	if newSeg {
		if err := s.rollLocked(); err != nil {
			s.err = err
			return Meta{}, err
		}
	}
	hid := s.lastHdr
	if cur := s.headers[hid]; cur == nil || !sameHeader(cur, h) {
		hid++
		s.headers[hid] = h
		s.lastHdr = hid
		buf = append(buf, headerRecord(hid, h)...)
	} else if newSeg {
		buf = append(buf, headerRecord(hid, cur)...)
	}
	seg := s.segs[len(s.segs)-1]
	tb := EncodeTags(nil, tags)
	p := make([]byte, 0, 38+len(tb)+len(cluster))
	p = append(p, version, kindFrag)
	m := Meta{Seq: s.nextSeq, HeaderID: hid, Producer: producer.UnixMilli(), Server: server.UnixMilli(), Duration: duration.Milliseconds(), Size: int64(len(cluster)), Tags: len(tags), seg: seg, tagLen: int64(len(tb))}
	p = binary.LittleEndian.AppendUint64(p, m.Seq)
	p = binary.LittleEndian.AppendUint32(p, hid)
	p = binary.LittleEndian.AppendUint64(p, uint64(m.Producer))
	p = binary.LittleEndian.AppendUint64(p, uint64(m.Server))
	p = binary.LittleEndian.AppendUint32(p, uint32(max(m.Duration, 0)))
	p = binary.LittleEndian.AppendUint32(p, uint32(len(tb)))
	p = append(p, tb...)
	p = append(p, cluster...)
	if len(p) > maxPayload {
		return Meta{}, fmt.Errorf("fragstore: fragment record of %d bytes over %d", len(p), maxPayload)
	}
	m.off = seg.size + int64(len(buf)) + 12 + 38 + int64(len(tb))
	buf = append(buf, frame(p)...)
	if _, err := s.active.Write(buf); err != nil {
		s.err = fmt.Errorf("fragstore: write %s: %w", seg.name, err)
		return Meta{}, s.err
	}
	if err := s.active.Sync(); err != nil {
		s.err = fmt.Errorf("fragstore: fsync %s: %w", seg.name, err)
		return Meta{}, s.err
	}
	seg.size += int64(len(buf))
	s.ord++
	m.Ord = s.ord
	s.frags = append(s.frags, m)
	s.nextSeq = seq + 1
	close(s.changed)
	s.changed = make(chan struct{})
	return m, nil
}

// rollLocked starts a new segment file (or reopens the last one for append
// after Open when it has room).
func (s *Store) rollLocked() error {
	if s.active == nil && len(s.segs) > 0 && s.segs[len(s.segs)-1].size < s.segBytes {
		seg := s.segs[len(s.segs)-1]
		f, err := os.OpenFile(filepath.Join(s.dir, seg.name), os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return fmt.Errorf("fragstore: reopen %s: %w", seg.name, err)
		}
		s.active = f
		return nil
	}
	if s.active != nil {
		s.active.Close()
	}
	seg := &segment{name: fmt.Sprintf("%020d.seg", s.nextSeq), first: s.nextSeq}
	f, err := os.OpenFile(filepath.Join(s.dir, seg.name), os.O_CREATE|os.O_WRONLY|os.O_APPEND|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("fragstore: create %s: %w", seg.name, err)
	}
	if err := syncDir(s.dir); err != nil {
		f.Close()
		return err
	}
	s.active = f
	s.segs = append(s.segs, seg)
	// a new segment repeats the current header
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("fragstore: open dir: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("fragstore: fsync dir: %w", err)
	}
	return nil
}

// Fragments returns a snapshot of the index, oldest first.
func (s *Store) Fragments() []Meta {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Meta(nil), s.frags...)
}

// Since returns up to max fragments with sequence ≥ seq, oldest first,
// without copying the rest of the index (live tails call it per fragment).
func (s *Store) Since(seq uint64, max int) []Meta {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := sort.Search(len(s.frags), func(i int) bool { return s.frags[i].Seq >= seq })
	j := min(len(s.frags), i+max)
	return append([]Meta(nil), s.frags[i:j]...)
}

// Last returns the newest n fragments, oldest first.
func (s *Store) Last(n int) []Meta {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Meta(nil), s.frags[max(0, len(s.frags)-n):]...)
}

// Find returns the fragment with sequence seq.
func (s *Store) Find(seq uint64) (Meta, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := sort.Search(len(s.frags), func(i int) bool { return s.frags[i].Seq >= seq })
	if i < len(s.frags) && s.frags[i].Seq == seq {
		return s.frags[i], true
	}
	return Meta{}, false
}

// Changed returns a channel closed at the next Append (or Close).
func (s *Store) Changed() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.changed
}

// Read returns a fragment's header and Cluster bytes.
func (s *Store) Read(m Meta) (*mkv.Header, []byte, error) {
	m.tagLen = 0 // the cluster alone
	h, _, b, err := s.ReadTags(m)
	return h, b, err
}

// ReadTags returns a fragment's header, metadata tags (none for a
// fragment written in version 1) and Cluster bytes.
func (s *Store) ReadTags(m Meta) (*mkv.Header, []mkv.Tag, []byte, error) {
	s.mu.Lock()
	h := s.headers[m.HeaderID]
	s.mu.Unlock()
	if h == nil || m.seg == nil {
		return nil, nil, nil, errors.New("fragstore: unknown fragment")
	}
	f, err := os.Open(filepath.Join(s.dir, m.seg.name))
	if err != nil {
		return nil, nil, nil, fmt.Errorf("fragstore: open %s: %w", m.seg.name, err)
	}
	defer f.Close()
	b := make([]byte, m.tagLen+m.Size)
	if _, err := f.ReadAt(b, m.off-m.tagLen); err != nil {
		return nil, nil, nil, fmt.Errorf("fragstore: read %s: %w", m.seg.name, err)
	}
	var tags []mkv.Tag
	if m.tagLen > 0 {
		if tags, err = DecodeTags(b[:m.tagLen]); err != nil {
			return nil, nil, nil, fmt.Errorf("fragstore: %s: %w", m.seg.name, err)
		}
	}
	return h, tags, b[m.tagLen:], nil
}

// Trim applies retention: fragments that arrived before cutoff leave the
// index at once, and whole segments holding only such fragments are
// deleted (the active segment's bytes stay until it is full and expires;
// a reopen before the next Trim shows them again).
func (s *Store) Trim(cutoff time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	ms := cutoff.UnixMilli()
	k := 0
	for k < len(s.frags) && s.frags[k].Server < ms {
		k++
	}
	s.frags = s.frags[k:]
	for len(s.segs) > 1 {
		seg := s.segs[0]
		last := -1
		for i := range s.frags {
			if s.frags[i].seg != seg {
				break
			}
			last = i
		}
		if last >= 0 && s.frags[last].Server >= ms {
			return nil
		}
		if err := os.Remove(filepath.Join(s.dir, seg.name)); err != nil && !os.IsNotExist(err) {
			return fmt.Errorf("fragstore: remove %s: %w", seg.name, err)
		}
		s.frags = s.frags[last+1:]
		s.segs = s.segs[1:]
	}
	return nil
}

// Close closes the active file and wakes waiters.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	close(s.changed)
	s.changed = make(chan struct{})
	if s.active != nil {
		return s.active.Close()
	}
	return nil
}

// Closed reports whether Close ran (a deleted stream).
func (s *Store) Closed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// Remove closes the store and deletes its directory.
func (s *Store) Remove() error {
	s.Close()
	return os.RemoveAll(s.dir)
}
