package logstore

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"

	"github.com/eddy-streams/eddy/internal/storage"
)

// On-disk constants. They are part of the file formats documented in
// doc.go and docs/format/; do not change them without bumping a version.
const (
	segMagic     = "EDSG"
	segVersion   = 1
	segHeaderLen = 32

	frameHeaderLen = 32
	frameVersion   = 1
	// maxFrameLen bounds frameLen (bytes after the length field) when
	// decoding; larger values are corruption, not a huge allocation.
	maxFrameLen = 1 << 30

	idxMagic     = "EDIX"
	idxVersion   = 1
	idxHeaderLen = 56
	idxEntryLen  = 16

	shardMagic   = "EDSH"
	shardVersion = 1

	metaMagic   = "EDMT"
	metaVersion = 1
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func crc(b []byte) uint32 { return crc32.Checksum(b, castagnoli) }

var le = binary.LittleEndian

// Decoding errors. errShort means "not enough bytes": at the end of the
// active segment that is a torn tail, elsewhere corruption.
var (
	errShort     = errors.New("short frame")
	errBadLen    = errors.New("bad frame length")
	errBadCRC    = errors.New("frame checksum mismatch")
	errVersion   = errors.New("unknown format version")
	errBadBase   = errors.New("frame position out of sequence")
	errBadRecord = errors.New("malformed record inside frame")
	errBadHeader = errors.New("bad header")
)

// ---- segment header ----

type segHeader struct {
	Base      uint64
	CreatedMs int64
	ShardTag  uint32
}

func shardTag(id storage.ShardID) uint32 {
	b := fmt.Appendf(nil, "%s/%d", id.Stream, id.Index)
	return crc(b)
}

func (h segHeader) encode() []byte {
	b := make([]byte, segHeaderLen)
	copy(b[0:4], segMagic)
	le.PutUint16(b[4:], segVersion)
	le.PutUint16(b[6:], segHeaderLen)
	le.PutUint64(b[8:], h.Base)
	le.PutUint64(b[16:], uint64(h.CreatedMs))
	le.PutUint32(b[24:], h.ShardTag)
	le.PutUint32(b[28:], crc(b[:28]))
	return b
}

func decodeSegHeader(b []byte) (segHeader, error) {
	if len(b) < segHeaderLen {
		return segHeader{}, fmt.Errorf("segment header: %w", errShort)
	}
	if string(b[0:4]) != segMagic {
		return segHeader{}, fmt.Errorf("segment header magic %q: %w", b[0:4], errBadHeader)
	}
	if crc(b[:28]) != le.Uint32(b[28:]) {
		return segHeader{}, fmt.Errorf("segment header: %w", errBadCRC)
	}
	if v := le.Uint16(b[4:]); v != segVersion {
		return segHeader{}, fmt.Errorf("segment header version %d: %w", v, errVersion)
	}
	if l := le.Uint16(b[6:]); l != segHeaderLen {
		return segHeader{}, fmt.Errorf("segment header length %d: %w", l, errBadHeader)
	}
	return segHeader{Base: le.Uint64(b[8:]), CreatedMs: int64(le.Uint64(b[16:])), ShardTag: le.Uint32(b[24:])}, nil
}

// ---- frames ----

type frameHeader struct {
	Size  int // whole frame in bytes, header included
	Base  uint64
	Count uint32
	Ms    int64
}

func uvarintLen(x uint64) int {
	n := 1
	for x >= 0x80 {
		x >>= 7
		n++
	}
	return n
}

// frameSize is the encoded size of a frame holding recs.
func frameSize(recs []storage.Record) int {
	n := frameHeaderLen
	for i := range recs {
		pk, d := len(recs[i].PartitionKey), len(recs[i].Data)
		n += uvarintLen(uint64(pk)) + pk + uvarintLen(uint64(d)) + d
	}
	return n
}

// appendFrame encodes recs as one frame onto dst (which should have room
// for frameSize(recs) bytes to avoid growing).
func appendFrame(dst []byte, base uint64, ms int64, recs []storage.Record) []byte {
	start := len(dst)
	var hdr [frameHeaderLen]byte
	dst = append(dst, hdr[:]...)
	for i := range recs {
		dst = binary.AppendUvarint(dst, uint64(len(recs[i].PartitionKey)))
		dst = append(dst, recs[i].PartitionKey...)
		dst = binary.AppendUvarint(dst, uint64(len(recs[i].Data)))
		dst = append(dst, recs[i].Data...)
	}
	f := dst[start:]
	le.PutUint32(f[0:], uint32(len(f)-4))
	f[8] = frameVersion
	f[9] = 0 // flags: codec none
	le.PutUint16(f[10:], 0)
	le.PutUint64(f[12:], base)
	le.PutUint32(f[20:], uint32(len(recs)))
	le.PutUint64(f[24:], uint64(ms))
	le.PutUint32(f[4:], crc(f[8:]))
	return dst
}

// peekFrameSize returns the total size announced by the frame at b[0:], or
// an error when the length field is impossible.
func peekFrameSize(b []byte) (int, error) {
	if len(b) < 4 {
		return 0, errShort
	}
	n := le.Uint32(b)
	if n < frameHeaderLen-4 || n > maxFrameLen {
		return 0, fmt.Errorf("%w: %d", errBadLen, n)
	}
	return int(n) + 4, nil
}

// decodeFrame validates the frame at the start of b (length, CRC, version,
// count) and returns its header. It does not check the base position and
// does not parse records (see checkRecords).
func decodeFrame(b []byte) (frameHeader, error) {
	size, err := peekFrameSize(b)
	if err != nil {
		return frameHeader{}, err
	}
	if len(b) < size {
		return frameHeader{}, errShort
	}
	f := b[:size]
	if crc(f[8:]) != le.Uint32(f[4:]) {
		return frameHeader{}, errBadCRC
	}
	return frameHeaderOf(f)
}

// frameHeaderOf reads the header fields of a frame known to be complete
// (trusted bytes, e.g. the tail cache).
func frameHeaderOf(f []byte) (frameHeader, error) {
	if f[8] != frameVersion {
		return frameHeader{}, fmt.Errorf("frame %w %d", errVersion, f[8])
	}
	h := frameHeader{Size: len(f), Base: le.Uint64(f[12:]), Count: le.Uint32(f[20:]), Ms: int64(le.Uint64(f[24:]))}
	if h.Count == 0 || f[9] != 0 || le.Uint16(f[10:]) != 0 {
		return frameHeader{}, fmt.Errorf("%w: count %d flags %#x reserved %#x", errBadRecord, h.Count, f[9], le.Uint16(f[10:]))
	}
	return h, nil
}

// forEachRecord calls fn for each record of a complete frame f, stopping
// when fn returns false. It fails if the records do not exactly fill the
// frame.
func forEachRecord(f []byte, count uint32, fn func(i uint32, pk, data []byte) bool) error {
	b := f[frameHeaderLen:]
	for i := uint32(0); i < count; i++ {
		pk, rest, ok := field(b)
		if !ok {
			return fmt.Errorf("%w: record %d key", errBadRecord, i)
		}
		data, rest, ok := field(rest)
		if !ok {
			return fmt.Errorf("%w: record %d data", errBadRecord, i)
		}
		b = rest
		if fn != nil && !fn(i, pk, data) {
			return nil
		}
	}
	if len(b) != 0 {
		return fmt.Errorf("%w: %d trailing bytes", errBadRecord, len(b))
	}
	return nil
}

func field(b []byte) (v, rest []byte, ok bool) {
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)-k) {
		return nil, nil, false
	}
	return b[k : k+int(n)], b[k+int(n):], true
}

// ---- index files ----

type indexEntry struct {
	Rel uint32 // position - segment base
	Off uint32 // byte offset of the frame holding position base+Rel
	Ms  int64  // that frame's arrival time
}

// segSummary is what an index file stores besides its entries.
type segSummary struct {
	Base, Next   uint64
	Size         int64
	MinMs, MaxMs int64
}

func encodeIndex(s segSummary, ents []indexEntry) []byte {
	b := make([]byte, idxHeaderLen+idxEntryLen*len(ents)+4)
	copy(b[0:4], idxMagic)
	le.PutUint16(b[4:], idxVersion)
	le.PutUint64(b[8:], s.Base)
	le.PutUint64(b[16:], s.Next)
	le.PutUint64(b[24:], uint64(s.Size))
	le.PutUint64(b[32:], uint64(s.MinMs))
	le.PutUint64(b[40:], uint64(s.MaxMs))
	le.PutUint32(b[48:], uint32(len(ents)))
	p := b[idxHeaderLen:]
	for _, e := range ents {
		le.PutUint32(p[0:], e.Rel)
		le.PutUint32(p[4:], e.Off)
		le.PutUint64(p[8:], uint64(e.Ms))
		p = p[idxEntryLen:]
	}
	le.PutUint32(p, crc(b[:len(b)-4]))
	return b
}

func decodeIndex(b []byte) (segSummary, []indexEntry, error) {
	var s segSummary
	if len(b) < idxHeaderLen+4 {
		return s, nil, fmt.Errorf("index: %w", errShort)
	}
	if string(b[0:4]) != idxMagic {
		return s, nil, fmt.Errorf("index magic: %w", errBadHeader)
	}
	if v := le.Uint16(b[4:]); v != idxVersion {
		return s, nil, fmt.Errorf("index version %d: %w", v, errVersion)
	}
	if le.Uint16(b[6:]) != 0 || le.Uint32(b[52:]) != 0 {
		return s, nil, fmt.Errorf("index reserved fields: %w", errBadHeader)
	}
	n := le.Uint32(b[48:])
	if uint64(len(b)) != idxHeaderLen+idxEntryLen*uint64(n)+4 {
		return s, nil, fmt.Errorf("index: %d entries in %d bytes: %w", n, len(b), errBadLen)
	}
	if crc(b[:len(b)-4]) != le.Uint32(b[len(b)-4:]) {
		return s, nil, fmt.Errorf("index: %w", errBadCRC)
	}
	s = segSummary{
		Base: le.Uint64(b[8:]), Next: le.Uint64(b[16:]), Size: int64(le.Uint64(b[24:])),
		MinMs: int64(le.Uint64(b[32:])), MaxMs: int64(le.Uint64(b[40:])),
	}
	if s.Next < s.Base || s.Size < segHeaderLen {
		return s, nil, fmt.Errorf("index summary base %d next %d size %d: %w", s.Base, s.Next, s.Size, errBadHeader)
	}
	ents := make([]indexEntry, n)
	p := b[idxHeaderLen:]
	for i := range ents {
		ents[i] = indexEntry{Rel: le.Uint32(p[0:]), Off: le.Uint32(p[4:]), Ms: int64(le.Uint64(p[8:]))}
		p = p[idxEntryLen:]
		e := ents[i]
		if uint64(e.Rel) >= s.Next-s.Base || int64(e.Off) < segHeaderLen || int64(e.Off) >= s.Size ||
			(i > 0 && (e.Rel <= ents[i-1].Rel || e.Off <= ents[i-1].Off || e.Ms < ents[i-1].Ms)) {
			return s, nil, fmt.Errorf("index entry %d out of order: %w", i, errBadHeader)
		}
	}
	if s.Next > s.Base && (n == 0 || ents[0].Rel != 0 || ents[0].Off != segHeaderLen) {
		return s, nil, fmt.Errorf("index: first entry missing: %w", errBadHeader)
	}
	return s, ents, nil
}

// ---- shard state file ----

type shardState struct {
	ID        storage.ShardID
	CreatedMs int64
	Trim      uint64
	LastMs    int64 // newest arrival when written: survives the deletion of every segment
	Sealed    bool
}

func (s shardState) encode() []byte {
	b := make([]byte, 38+len(s.ID.Stream)+4)
	copy(b[0:4], shardMagic)
	le.PutUint16(b[4:], shardVersion)
	var flags uint16
	if s.Sealed {
		flags |= 1
	}
	le.PutUint16(b[6:], flags)
	le.PutUint64(b[8:], uint64(s.CreatedMs))
	le.PutUint64(b[16:], s.Trim)
	le.PutUint64(b[24:], uint64(s.LastMs))
	le.PutUint32(b[32:], s.ID.Index)
	le.PutUint16(b[36:], uint16(len(s.ID.Stream)))
	copy(b[38:], s.ID.Stream)
	le.PutUint32(b[len(b)-4:], crc(b[:len(b)-4]))
	return b
}

func decodeShardState(b []byte) (shardState, error) {
	var s shardState
	if len(b) < 42 {
		return s, fmt.Errorf("shard state: %w", errShort)
	}
	if string(b[0:4]) != shardMagic {
		return s, fmt.Errorf("shard state magic: %w", errBadHeader)
	}
	if v := le.Uint16(b[4:]); v != shardVersion {
		return s, fmt.Errorf("shard state version %d: %w", v, errVersion)
	}
	n := int(le.Uint16(b[36:]))
	if len(b) != 42+n {
		return s, fmt.Errorf("shard state length: %w", errBadLen)
	}
	if crc(b[:len(b)-4]) != le.Uint32(b[len(b)-4:]) {
		return s, fmt.Errorf("shard state: %w", errBadCRC)
	}
	flags := le.Uint16(b[6:])
	if flags&^1 != 0 {
		return s, fmt.Errorf("shard state flags %#x: %w", flags, errBadHeader)
	}
	s.Sealed = flags&1 != 0
	s.CreatedMs = int64(le.Uint64(b[8:]))
	s.Trim = le.Uint64(b[16:])
	s.LastMs = int64(le.Uint64(b[24:]))
	s.ID = storage.ShardID{Index: le.Uint32(b[32:]), Stream: string(b[38 : 38+n])}
	return s, nil
}

// ---- metadata blobs ----

func encodeMeta(blob []byte) []byte {
	b := make([]byte, 16+len(blob)+4)
	copy(b[0:4], metaMagic)
	le.PutUint16(b[4:], metaVersion)
	le.PutUint64(b[8:], uint64(len(blob)))
	copy(b[16:], blob)
	le.PutUint32(b[len(b)-4:], crc(b[:len(b)-4]))
	return b
}

func decodeMeta(b []byte) ([]byte, error) {
	if len(b) < 20 {
		return nil, fmt.Errorf("meta: %w", errShort)
	}
	if string(b[0:4]) != metaMagic {
		return nil, fmt.Errorf("meta magic: %w", errBadHeader)
	}
	if v := le.Uint16(b[4:]); v != metaVersion {
		return nil, fmt.Errorf("meta version %d: %w", v, errVersion)
	}
	if le.Uint16(b[6:]) != 0 {
		return nil, fmt.Errorf("meta reserved field: %w", errBadHeader)
	}
	if n := le.Uint64(b[8:]); n != uint64(len(b)-20) {
		return nil, fmt.Errorf("meta length %d: %w", n, errBadLen)
	}
	if crc(b[:len(b)-4]) != le.Uint32(b[len(b)-4:]) {
		return nil, fmt.Errorf("meta: %w", errBadCRC)
	}
	return append([]byte{}, b[16:len(b)-4]...), nil
}
