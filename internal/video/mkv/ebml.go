// Package mkv reads and writes the Matroska (EBML) subset Kinesis Video
// Streams carries: a streaming reader that splits a PutMedia body into its
// header (EBML header, Info, Tracks) and one Cluster at a time with bounded
// memory, and append-style writers for the elements GetMedia adds (Tags,
// sized Segments and Clusters).
//
// EBML element layout: ID (1-4 bytes, the length marker kept, e.g. Cluster
// 0x1F43B675) | size (a 1-8 byte variable-length integer; all value bits set
// means "unknown size") | payload. Producers send Segment and Cluster with
// unknown size: an unknown-size Cluster ends at the next top-level ID.
package mkv

import (
	"encoding/binary"
	"math"
)

// Element IDs used here.
const (
	IDEBML          = 0x1A45DFA3
	IDSegment       = 0x18538067
	IDSeekHead      = 0x114D9B74
	IDInfo          = 0x1549A966
	IDTracks        = 0x1654AE6B
	IDCluster       = 0x1F43B675
	IDCues          = 0x1C53BB6B
	IDTags          = 0x1254C367
	IDChapters      = 0x1043A770
	IDAttachments   = 0x1941A469
	IDVoid          = 0xEC
	IDCRC32         = 0xBF
	IDTimecodeScale = 0x2AD7B1
	IDDuration      = 0x4489
	IDTimecode      = 0xE7
	IDSimpleBlock   = 0xA3
	IDBlockGroup    = 0xA0
	IDBlock         = 0xA1
	IDBlockDuration = 0x9B
	IDRefBlock      = 0xFB
	IDTrackEntry    = 0xAE
	IDTrackNumber   = 0xD7
	IDTrackUID      = 0x73C5
	IDTrackType     = 0x83
	IDCodecID       = 0x86
	IDCodecPrivate  = 0x63A2
	IDDefaultDur    = 0x23E383
	IDVideo         = 0xE0
	IDPixelWidth    = 0xB0
	IDPixelHeight   = 0xBA
	IDAudio         = 0xE1
	IDSamplingFreq  = 0xB5
	IDChannels      = 0x9F
	IDTag           = 0x7373
	IDTargets       = 0x63C0
	IDSimpleTag     = 0x67C8
	IDTagName       = 0x45A3
	IDTagString     = 0x4487
)

// UnknownSize marks an element whose size is "unknown" (all ones).
const UnknownSize = -1

// isTopLevel reports whether id ends an unknown-size Cluster.
func isTopLevel(id uint32) bool {
	switch id {
	case IDCluster, IDTags, IDCues, IDEBML, IDSegment, IDSeekHead, IDInfo, IDTracks, IDChapters, IDAttachments:
		return true
	}
	return false
}

// AppendID appends an element ID (its marker bits are part of the value).
func AppendID(b []byte, id uint32) []byte {
	switch {
	case id >= 1<<24:
		return append(b, byte(id>>24), byte(id>>16), byte(id>>8), byte(id))
	case id >= 1<<16:
		return append(b, byte(id>>16), byte(id>>8), byte(id))
	case id >= 1<<8:
		return append(b, byte(id>>8), byte(id))
	}
	return append(b, byte(id))
}

// AppendSize8 appends size as an 8-byte vint (the form producers use).
func AppendSize8(b []byte, size uint64) []byte {
	return binary.BigEndian.AppendUint64(b, size|0x01<<56)
}

// AppendUnknownSize appends the 8-byte "unknown size".
func AppendUnknownSize(b []byte) []byte {
	return append(b, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF)
}

// AppendSize appends size in the shortest vint form.
func AppendSize(b []byte, size uint64) []byte {
	for n := 1; n <= 8; n++ {
		if size < 1<<(7*n)-1 {
			v := size | 1<<(7*n)
			for i := n - 1; i >= 0; i-- {
				b = append(b, byte(v>>(8*i)))
			}
			return b
		}
	}
	return AppendSize8(b, size)
}

// AppendElement appends a whole element with payload p.
func AppendElement(b []byte, id uint32, p []byte) []byte {
	b = AppendID(b, id)
	b = AppendSize(b, uint64(len(p)))
	return append(b, p...)
}

// AppendUint appends an unsigned-integer element.
func AppendUint(b []byte, id uint32, v uint64) []byte {
	var buf [8]byte
	binary.BigEndian.PutUint64(buf[:], v)
	i := 0
	for i < 7 && buf[i] == 0 {
		i++
	}
	return AppendElement(b, id, buf[i:])
}

// AppendString appends a string element.
func AppendString(b []byte, id uint32, s string) []byte {
	b = AppendID(b, id)
	b = AppendSize(b, uint64(len(s)))
	return append(b, s...)
}

// AppendFloat appends an 8-byte float element.
func AppendFloat(b []byte, id uint32, f float64) []byte {
	var buf [8]byte
	binary.BigEndian.PutUint64(buf[:], math.Float64bits(f))
	return AppendElement(b, id, buf[:])
}

// Tag is one SimpleTag name/value.
type Tag struct{ Name, Value string }

// AppendTags appends a Tags element holding one Tag with the given
// SimpleTags (empty Targets: they apply to the whole segment).
func AppendTags(b []byte, tags ...Tag) []byte {
	var tag []byte
	tag = AppendElement(tag, IDTargets, nil)
	for _, t := range tags {
		var st []byte
		st = AppendString(st, IDTagName, t.Name)
		st = AppendString(st, IDTagString, t.Value)
		tag = AppendElement(tag, IDSimpleTag, st)
	}
	var tags2 []byte
	tags2 = AppendElement(tags2, IDTag, tag)
	return AppendElement(b, IDTags, tags2)
}

// readVint decodes a vint at p: value (marker removed), length, ok.
// unknown reports the all-ones value.
func readVint(p []byte) (v uint64, n int, unknown, ok bool) {
	if len(p) == 0 || p[0] == 0 {
		return 0, 0, false, false
	}
	n = 1
	for m := byte(0x80); p[0]&m == 0; m >>= 1 {
		n++
	}
	if len(p) < n {
		return 0, 0, false, false
	}
	v = uint64(p[0] & (0xFF >> n))
	all := v == uint64(0xFF>>n)
	for i := 1; i < n; i++ {
		v = v<<8 | uint64(p[i])
		all = all && p[i] == 0xFF
	}
	return v, n, all, true
}

// Uint decodes an unsigned-integer payload (0-8 bytes).
func Uint(p []byte) uint64 {
	var v uint64
	for _, c := range p {
		v = v<<8 | uint64(c)
	}
	return v
}

// Float decodes a 4- or 8-byte float payload.
func Float(p []byte) float64 {
	switch len(p) {
	case 4:
		return float64(math.Float32frombits(binary.BigEndian.Uint32(p)))
	case 8:
		return math.Float64frombits(binary.BigEndian.Uint64(p))
	}
	return 0
}

// Children iterates the child elements of a payload held in memory. It
// stops at the first malformed or unknown-size child and reports false.
func Children(p []byte, f func(id uint32, payload []byte) bool) bool {
	for len(p) > 0 {
		idv, n, _, ok := readVint(p)
		if !ok || n > 4 {
			return false
		}
		id := uint32(0)
		for i := 0; i < n; i++ {
			id = id<<8 | uint32(p[i])
		}
		_ = idv
		p = p[n:]
		size, m, unknown, ok := readVint(p)
		if !ok || unknown {
			return false
		}
		p = p[m:]
		if size > uint64(len(p)) {
			return false
		}
		if !f(id, p[:size]) {
			return true
		}
		p = p[size:]
	}
	return true
}
