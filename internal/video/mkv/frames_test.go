package mkv

import (
	"bytes"
	"errors"
	"testing"
)

func testCluster(tc uint64, blocks ...[]byte) []byte {
	p := AppendUint(nil, IDTimecode, tc)
	for _, b := range blocks {
		p = append(p, b...)
	}
	return append(AppendSize8(AppendID(nil, IDCluster), uint64(len(p))), p...)
}

// TestFrames: SimpleBlocks with their keyframe flag, a BlockGroup (key
// without a ReferenceBlock, not with one), times in ms on the cluster's
// timecode; laced and truncated blocks are refused.
func TestFrames(t *testing.T) {
	sb := func(track byte, rel int16, flags byte, data ...byte) []byte {
		return AppendElement(nil, IDSimpleBlock, append([]byte{0x80 | track, byte(uint16(rel) >> 8), byte(rel), flags}, data...))
	}
	bg := func(ref bool, data ...byte) []byte {
		p := AppendElement(nil, IDBlock, append([]byte{0x81, 0, 40, 0}, data...))
		if ref {
			p = append(p, AppendUint(nil, IDRefBlock, 1)...)
		}
		return AppendElement(nil, IDBlockGroup, p)
	}
	// timecode scale 100 µs: timecode 20000 = 2000 ms, rel 10 = 1 ms
	tc, fr, err := Frames(testCluster(20000, sb(1, 0, 0x80, 1, 2), sb(2, 10, 0, 3), bg(false, 4), bg(true, 5)), 100_000)
	if err != nil || tc != 2000 || len(fr) != 4 {
		t.Fatalf("tc %d, %d frames, %v", tc, len(fr), err)
	}
	want := []Frame{{1, 2000, true, []byte{1, 2}}, {2, 2001, false, []byte{3}}, {1, 2004, true, []byte{4}}, {1, 2004, false, []byte{5}}}
	for i, w := range want {
		f := fr[i]
		if f.Track != w.Track || f.PTS != w.PTS || f.Key != w.Key || !bytes.Equal(f.Data, w.Data) {
			t.Fatalf("frame %d: %+v, want %+v", i, f, w)
		}
	}
	if _, _, err := Frames(testCluster(0, sb(1, 0, 0x82, 1)), 0); !errors.Is(err, ErrBadBlock) {
		t.Fatalf("laced: %v", err)
	}
	if _, _, err := Frames(testCluster(0, AppendElement(nil, IDSimpleBlock, []byte{0x81, 0})), 0); !errors.Is(err, ErrBadBlock) {
		t.Fatalf("short block: %v", err)
	}
}

func FuzzFrames(f *testing.F) {
	f.Add(testCluster(5, AppendElement(nil, IDSimpleBlock, []byte{0x81, 0, 1, 0x80, 9})), uint64(1_000_000))
	f.Fuzz(func(t *testing.T, cl []byte, scale uint64) {
		_, fr, err := Frames(cl, scale)
		if err != nil {
			return
		}
		for _, x := range fr {
			if len(x.Data) > len(cl) {
				t.Fatal("frame larger than the cluster")
			}
		}
	})
}
