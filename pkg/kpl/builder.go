package kpl

import (
	"crypto/md5"
	"encoding/binary"
	"math/bits"
)

// Builder encodes an aggregated record incrementally: each Add appends the
// user record's protobuf bytes at once, so the size is known exactly at any
// time and sealing costs one copy and one MD5. The partition and explicit
// hash key tables are de-duplicated. Protobuf allows fields in any order;
// Bytes writes the key tables first, then the records, as the KPL does.
//
// A Builder is not safe for concurrent use. The zero value is ready.
type Builder struct {
	keys    []byte // field 1 entries (partition key table)
	ehks    []byte // field 2 entries (explicit hash key table)
	recs    []byte // field 3 entries (records)
	pkIdx   map[string]uint64
	ehkIdx  map[string]uint64
	nPK     uint64
	nEHK    uint64
	n       int
	lastPK  string // one-entry cache: consecutive records often share a key
	lastIdx uint64

	// the first record, kept so a one-record aggregate can go out raw
	firstPK, firstEHK string
	firstData         [2]int // offset and length of its data inside recs
}

// Len is the number of user records added.
func (b *Builder) Len() int { return b.n }

// Size is the exact length Bytes would return.
func (b *Builder) Size() int {
	return len(Magic) + len(b.keys) + len(b.ehks) + len(b.recs) + md5.Size
}

// SizeWith is Size after adding a record with these keys and data length,
// without adding it (keys already in the tables cost nothing more).
func (b *Builder) SizeWith(pk, ehk string, dataLen int) int {
	s := b.Size()
	pkIdx := b.nPK
	if i, ok := b.lookupPK(pk); ok {
		pkIdx = i
	} else {
		s += 1 + varintLen(uint64(len(pk))) + len(pk)
	}
	inner := 1 + varintLen(pkIdx) + 1 + varintLen(uint64(dataLen)) + dataLen
	if ehk != "" {
		ehkIdx := b.nEHK
		if i, ok := b.ehkIdx[ehk]; ok {
			ehkIdx = i
		} else {
			s += 1 + varintLen(uint64(len(ehk))) + len(ehk)
		}
		inner += 1 + varintLen(ehkIdx)
	}
	return s + 1 + varintLen(uint64(inner)) + inner
}

func (b *Builder) lookupPK(pk string) (uint64, bool) {
	if b.nPK > 0 && pk == b.lastPK {
		return b.lastIdx, true
	}
	i, ok := b.pkIdx[pk]
	return i, ok
}

// Add appends one user record. ehk may be empty.
func (b *Builder) Add(pk, ehk string, data []byte) {
	pkIdx, ok := b.lookupPK(pk)
	if !ok {
		if b.pkIdx == nil {
			b.pkIdx = make(map[string]uint64, 64)
		}
		pkIdx = b.nPK
		b.pkIdx[pk] = pkIdx
		b.nPK++
		b.keys = append(b.keys, 1<<3|2)
		b.keys = appendVarint(b.keys, uint64(len(pk)))
		b.keys = append(b.keys, pk...)
	}
	b.lastPK, b.lastIdx = pk, pkIdx
	inner := 1 + varintLen(pkIdx) + 1 + varintLen(uint64(len(data))) + len(data)
	var ehkIdx uint64
	if ehk != "" {
		var ok bool
		if ehkIdx, ok = b.ehkIdx[ehk]; !ok {
			if b.ehkIdx == nil {
				b.ehkIdx = make(map[string]uint64)
			}
			ehkIdx = b.nEHK
			b.ehkIdx[ehk] = ehkIdx
			b.nEHK++
			b.ehks = append(b.ehks, 2<<3|2)
			b.ehks = appendVarint(b.ehks, uint64(len(ehk)))
			b.ehks = append(b.ehks, ehk...)
		}
		inner += 1 + varintLen(ehkIdx)
	}
	b.recs = append(b.recs, 3<<3|2)
	b.recs = appendVarint(b.recs, uint64(inner))
	b.recs = append(b.recs, 1<<3|wireVarint)
	b.recs = appendVarint(b.recs, pkIdx)
	if ehk != "" {
		b.recs = append(b.recs, 2<<3|wireVarint)
		b.recs = appendVarint(b.recs, ehkIdx)
	}
	b.recs = append(b.recs, 3<<3|2)
	b.recs = appendVarint(b.recs, uint64(len(data)))
	if b.n == 0 {
		b.firstPK, b.firstEHK = pk, ehk
		b.firstData = [2]int{len(b.recs), len(data)}
	}
	b.recs = append(b.recs, data...)
	b.n++
}

// First returns the first record added (its data aliases the builder until
// Reset): a one-record aggregate is sent as this plain record.
func (b *Builder) First() (pk, ehk string, data []byte) {
	return b.firstPK, b.firstEHK, b.recs[b.firstData[0] : b.firstData[0]+b.firstData[1]]
}

// AppendBytes appends the whole aggregated record (magic, protobuf, MD5) to dst.
func (b *Builder) AppendBytes(dst []byte) []byte {
	start := len(dst)
	dst = append(dst, Magic...)
	dst = append(dst, b.keys...)
	dst = append(dst, b.ehks...)
	dst = append(dst, b.recs...)
	sum := md5.Sum(dst[start+len(Magic):])
	return append(dst, sum[:]...)
}

// Bytes returns the aggregated record in a new slice.
func (b *Builder) Bytes() []byte { return b.AppendBytes(make([]byte, 0, b.Size())) }

// Reset empties the builder, keeping its buffers.
func (b *Builder) Reset() {
	b.keys, b.ehks, b.recs = b.keys[:0], b.ehks[:0], b.recs[:0]
	clear(b.pkIdx)
	clear(b.ehkIdx)
	b.nPK, b.nEHK, b.n = 0, 0, 0
	b.lastPK, b.firstPK, b.firstEHK = "", "", ""
}

func varintLen(v uint64) int { return (bits.Len64(v|1) + 6) / 7 }

func appendVarint(b []byte, v uint64) []byte {
	if v < 0x80 {
		return append(b, byte(v))
	}
	return binary.AppendUvarint(b, v)
}

// wireVarint is protobuf's wire type 0 (varint), the low bits of a field tag.
const wireVarint = 0
