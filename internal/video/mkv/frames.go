package mkv

import (
	"errors"
)

// ErrBadBlock is a Cluster whose blocks cannot be read as frames.
var ErrBadBlock = errors.New("mkv: malformed or laced block")

// Frame is one block of a Cluster: its track, presentation time in
// milliseconds on the Matroska timeline, keyframe flag and payload (the
// codec's bytes, aliasing the cluster).
type Frame struct {
	Track uint64
	PTS   int64
	Key   bool
	Data  []byte
}

// Frames lists the frames of one stored Cluster element (its 4-byte ID and
// 8-byte size first, as the splitter keeps it) in storage order, with the
// Cluster's Timecode in milliseconds. scale is the TimecodeScale (ns per
// unit). SimpleBlocks carry their keyframe flag; a BlockGroup without a
// ReferenceBlock is a keyframe. Laced blocks are refused (ErrBadBlock), as
// are truncated ones.
func Frames(cluster []byte, scale uint64) (tcMs int64, frames []Frame, err error) {
	if len(cluster) < 12 {
		return 0, nil, ErrBadBlock
	}
	if scale == 0 {
		scale = 1_000_000
	}
	var tc int64
	ok := Children(cluster[12:], func(id uint32, p []byte) bool {
		switch id {
		case IDTimecode:
			tc = int64(Uint(p))
		case IDSimpleBlock, IDBlockGroup:
			bp, key := p, false
			if id == IDBlockGroup {
				bp, key = nil, true
				Children(p, func(cid uint32, cp []byte) bool {
					switch cid {
					case IDBlock:
						bp = cp
					case IDRefBlock:
						key = false
					}
					return true
				})
			}
			tn, rel, flags, ok := BlockHeader(bp)
			if !ok || flags&0x06 != 0 {
				err = ErrBadBlock
				return false
			}
			if id == IDSimpleBlock {
				key = flags&0x80 != 0
			}
			_, n, _, _ := readVint(bp)
			frames = append(frames, Frame{Track: tn, PTS: (tc + rel) * int64(scale) / 1e6, Key: key, Data: bp[n+3:]})
		}
		return true
	})
	if err != nil {
		return 0, nil, err
	}
	if !ok {
		return 0, nil, ErrBadBlock
	}
	return tc * int64(scale) / 1e6, frames, nil
}
