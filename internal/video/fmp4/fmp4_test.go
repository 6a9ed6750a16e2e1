package fmp4

import (
	"encoding/binary"
	"testing"

	"github.com/eddy-streams/eddy/internal/video/mkv"
)

func header(t testing.TB) *mkv.Header {
	var te []byte
	te = mkv.AppendUint(te, mkv.IDTrackNumber, 1)
	te = mkv.AppendUint(te, mkv.IDTrackType, 1)
	te = mkv.AppendString(te, mkv.IDCodecID, "V_MPEG4/ISO/AVC")
	te = mkv.AppendElement(te, mkv.IDCodecPrivate, []byte{1, 0x64, 0, 0x1f, 0xff, 0xe0, 0xe1})
	var ta []byte
	ta = mkv.AppendUint(ta, mkv.IDTrackNumber, 2)
	ta = mkv.AppendUint(ta, mkv.IDTrackType, 2)
	ta = mkv.AppendString(ta, mkv.IDCodecID, "A_AAC")
	ta = mkv.AppendElement(ta, mkv.IDCodecPrivate, []byte{0x12, 0x10})
	ta = mkv.AppendElement(ta, mkv.IDAudio, mkv.AppendFloat(nil, mkv.IDSamplingFreq, 44100))
	h, err := mkv.ParseHeader(mkv.AppendElement(nil, mkv.IDEBML, nil),
		mkv.AppendElement(nil, mkv.IDInfo, nil),
		mkv.AppendElement(nil, mkv.IDTracks, append(mkv.AppendElement(nil, mkv.IDTrackEntry, te), mkv.AppendElement(nil, mkv.IDTrackEntry, ta)...)))
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func cluster(tc uint64, blocks ...[]byte) []byte {
	p := mkv.AppendUint(nil, mkv.IDTimecode, tc)
	for _, b := range blocks {
		p = append(p, b...)
	}
	c := mkv.AppendID(nil, mkv.IDCluster)
	c = mkv.AppendSize8(c, uint64(len(p)))
	return append(c, p...)
}

func block(track byte, rel int16, key bool, data ...byte) []byte {
	f := byte(0)
	if key {
		f = 0x80
	}
	return mkv.AppendElement(nil, mkv.IDSimpleBlock, append([]byte{0x80 | track, byte(uint16(rel) >> 8), byte(rel), f}, data...))
}

// boxesOK walks b as a sequence of boxes whose sizes add up exactly.
func boxesOK(b []byte) bool {
	for len(b) > 0 {
		if len(b) < 8 {
			return false
		}
		n := int(binary.BigEndian.Uint32(b))
		if n < 8 || n > len(b) {
			return false
		}
		b = b[n:]
	}
	return true
}

func TestInitAndSegment(t *testing.T) {
	tracks, err := Tracks(header(t))
	if err != nil || len(tracks) != 2 || tracks[0].Codec != "avc1.64001f" || tracks[1].Codec != "mp4a.40.2" || tracks[1].Timescale != 44100 {
		t.Fatalf("tracks %+v %v", tracks, err)
	}
	if !boxesOK(Init(tracks)) {
		t.Fatal("init boxes")
	}
	seg, err := Segment(tracks, 1000000, cluster(1000, block(1, 0, true, 0, 0, 0, 1, 0x65), block(2, 0, true, 1, 2), block(1, 80, false, 0, 0, 0, 1, 0x41), block(1, 40, false, 0, 0, 0, 1, 0x01)), 7)
	if err != nil || !boxesOK(seg) {
		t.Fatalf("segment %v", err)
	}
	// moof then mdat holding the 3 video and 1 audio sample bytes
	moof := int(binary.BigEndian.Uint32(seg))
	if string(seg[moof+4:moof+8]) != "mdat" || len(seg)-moof-8 != 5*3+2 {
		t.Fatalf("mdat %q %d", seg[moof+4:moof+8], len(seg)-moof-8)
	}
	if _, err := Segment(tracks, 1000000, cluster(0, block(1, 0, true, 1, 2, 3)[:3]), 1); err == nil {
		t.Fatal("malformed cluster accepted")
	}
}

// FuzzSegment: any cluster bytes give a segment with consistent boxes or
// an error, never a panic.
func FuzzSegment(f *testing.F) {
	f.Add(cluster(0, block(1, 0, true, 0, 0, 0, 1, 0x65), block(2, 5, true, 1, 2)))
	f.Add(cluster(5, block(1, -3, false)))
	h := header(f)
	tracks, _ := Tracks(h)
	f.Fuzz(func(t *testing.T, c []byte) {
		for _, tr := range [][]Track{tracks, tracks[:1], tracks[1:]} {
			seg, err := SegmentAt(tr, 1000000, c, 1, 1_700_000_000_000)
			if err == nil && !boxesOK(seg) {
				t.Fatal("inconsistent boxes")
			}
		}
	})
}
