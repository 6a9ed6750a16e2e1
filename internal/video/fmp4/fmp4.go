// Package fmp4 repackages Matroska fragments as fragmented MP4 without
// transcoding: an init segment (ftyp + moov with one trak per H.264, H.265
// or AAC track) from a stream's Tracks, and one media segment (moof + mdat)
// per Cluster. H.264/H.265 blocks in Matroska are already length-prefixed
// NAL units with the avcC/hvcC record as CodecPrivate, and AAC blocks are
// raw frames with the AudioSpecificConfig as CodecPrivate, so sample bytes
// are copied as they are.
//
// Timescales: video 90 kHz (Matroska's millisecond timecodes × 90), AAC the
// sample rate (1024 samples per frame). Block timecodes are presentation
// times; decode times are the same values sorted (B-frames get signed
// composition offsets, trun version 1).
package fmp4

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sort"

	"github.com/eddy-streams/eddy/internal/video/mkv"
)

// ErrUnsupported is a track or block the repackager cannot carry.
var ErrUnsupported = errors.New("fmp4: unsupported media")

// Track is one repackaged track.
type Track struct {
	ID        uint32 // MP4 track ID (1-based, in header order)
	MKV       mkv.Track
	Video     bool
	Timescale uint32
	Codec     string // RFC 6381 codec string for HLS CODECS
}

// Tracks picks the tracks fmp4 can carry from a header: H.264, H.265, AAC.
func Tracks(h *mkv.Header) ([]Track, error) {
	var out []Track
	for _, t := range h.TrackList {
		tr := Track{ID: uint32(len(out) + 1), MKV: t}
		switch t.CodecID {
		case "V_MPEG4/ISO/AVC", "V_MPEG/ISO/AVC":
			if len(t.CodecPrivate) < 4 {
				return nil, fmt.Errorf("%w: H.264 track %d without codec private data", ErrUnsupported, t.Number)
			}
			tr.Video, tr.Timescale = true, 90000
			tr.Codec = fmt.Sprintf("avc1.%02x%02x%02x", t.CodecPrivate[1], t.CodecPrivate[2], t.CodecPrivate[3])
		case "V_MPEGH/ISO/HEVC", "V_MPEG/ISO/HEVC":
			if len(t.CodecPrivate) < 23 {
				return nil, fmt.Errorf("%w: H.265 track %d without codec private data", ErrUnsupported, t.Number)
			}
			tr.Video, tr.Timescale = true, 90000
			tr.Codec = "hvc1"
		case "A_AAC", "A_AAC/MPEG4/LC", "A_AAC/MPEG2/LC":
			if len(t.CodecPrivate) < 2 {
				return nil, fmt.Errorf("%w: AAC track %d without codec private data", ErrUnsupported, t.Number)
			}
			rate := t.SampleRate
			if rate <= 0 {
				rate = 44100
			}
			tr.Timescale = uint32(rate)
			tr.Codec = fmt.Sprintf("mp4a.40.%d", t.CodecPrivate[0]>>3)
		default:
			continue
		}
		out = append(out, tr)
	}
	video := false
	for _, t := range out {
		video = video || t.Video
	}
	if !video {
		// AWS wants track 1 to be the video; Eddy takes it in any position
		return nil, fmt.Errorf("%w: no H.264 or H.265 track", ErrUnsupported)
	}
	return out, nil
}

func box(typ string, parts ...[]byte) []byte {
	n := 8
	for _, p := range parts {
		n += len(p)
	}
	b := make([]byte, 8, n)
	binary.BigEndian.PutUint32(b, uint32(n))
	copy(b[4:], typ)
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

func full(typ string, version byte, flags uint32, parts ...[]byte) []byte {
	h := []byte{version, byte(flags >> 16), byte(flags >> 8), byte(flags)}
	return box(typ, append([][]byte{h}, parts...)...)
}

func u16(v uint16) []byte { return binary.BigEndian.AppendUint16(nil, v) }
func u32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }
func u64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

var matrix = func() []byte {
	var b []byte
	for _, v := range []uint32{0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000} {
		b = append(b, u32(v)...)
	}
	return b
}()

// Init is the initialization segment for tracks.
func Init(tracks []Track) []byte {
	ftyp := box("ftyp", []byte("iso6"), u32(0x200), []byte("iso6mp41isomdash"))
	var mvhd []byte
	mvhd = append(mvhd, u32(0)...)
	mvhd = append(mvhd, u32(0)...)
	mvhd = append(mvhd, u32(1000)...)
	mvhd = append(mvhd, u32(0)...)
	mvhd = append(mvhd, u32(0x10000)...)
	mvhd = append(mvhd, u16(0x100)...)
	mvhd = append(mvhd, make([]byte, 10)...)
	mvhd = append(mvhd, matrix...)
	mvhd = append(mvhd, make([]byte, 24)...)
	mvhd = append(mvhd, u32(uint32(len(tracks)+1))...)
	parts := [][]byte{full("mvhd", 0, 0, mvhd)}
	var trex [][]byte
	for _, t := range tracks {
		parts = append(parts, trak(t))
		trex = append(trex, full("trex", 0, 0, u32(t.ID), u32(1), u32(0), u32(0), u32(0)))
	}
	parts = append(parts, box("mvex", trex...))
	return append(ftyp, box("moov", parts...)...)
}

func trak(t Track) []byte {
	var tkhd []byte
	tkhd = append(tkhd, u32(0)...)
	tkhd = append(tkhd, u32(0)...)
	tkhd = append(tkhd, u32(t.ID)...)
	tkhd = append(tkhd, u32(0)...)
	tkhd = append(tkhd, u32(0)...)
	tkhd = append(tkhd, make([]byte, 8)...)
	tkhd = append(tkhd, u16(0)...)
	tkhd = append(tkhd, u16(0)...)
	if t.Video {
		tkhd = append(tkhd, u16(0)...)
	} else {
		tkhd = append(tkhd, u16(0x100)...)
	}
	tkhd = append(tkhd, u16(0)...)
	tkhd = append(tkhd, matrix...)
	tkhd = append(tkhd, u32(uint32(t.MKV.Width)<<16)...)
	tkhd = append(tkhd, u32(uint32(t.MKV.Height)<<16)...)

	mdhd := full("mdhd", 0, 0, u32(0), u32(0), u32(t.Timescale), u32(0), u16(0x55C4), u16(0))
	handler, name, media := "soun", "SoundHandler", full("smhd", 0, 0, u32(0))
	if t.Video {
		handler, name, media = "vide", "VideoHandler", full("vmhd", 0, 1, make([]byte, 8))
	}
	hdlr := full("hdlr", 0, 0, u32(0), []byte(handler), make([]byte, 12), append([]byte(name), 0))
	dinf := box("dinf", full("dref", 0, 0, u32(1), full("url ", 0, 1)))
	stbl := box("stbl",
		full("stsd", 0, 0, u32(1), sampleEntry(t)),
		full("stts", 0, 0, u32(0)),
		full("stsc", 0, 0, u32(0)),
		full("stsz", 0, 0, u32(0), u32(0)),
		full("stco", 0, 0, u32(0)),
	)
	return box("trak", full("tkhd", 0, 3, tkhd), box("mdia", mdhd, hdlr, box("minf", media, dinf, stbl)))
}

func sampleEntry(t Track) []byte {
	if t.Video {
		var v []byte
		v = append(v, make([]byte, 6)...)
		v = append(v, u16(1)...)
		v = append(v, make([]byte, 16)...)
		v = append(v, u16(uint16(t.MKV.Width))...)
		v = append(v, u16(uint16(t.MKV.Height))...)
		v = append(v, u32(0x480000)...)
		v = append(v, u32(0x480000)...)
		v = append(v, u32(0)...)
		v = append(v, u16(1)...)
		v = append(v, make([]byte, 32)...)
		v = append(v, u16(0x18)...)
		v = append(v, u16(0xFFFF)...)
		if t.Codec == "hvc1" {
			return box("hvc1", v, box("hvcC", t.MKV.CodecPrivate))
		}
		return box("avc1", v, box("avcC", t.MKV.CodecPrivate))
	}
	ch := t.MKV.Channels
	if ch == 0 {
		ch = 2
	}
	var a []byte
	a = append(a, make([]byte, 6)...)
	a = append(a, u16(1)...)
	a = append(a, make([]byte, 8)...)
	a = append(a, u16(uint16(ch))...)
	a = append(a, u16(16)...)
	a = append(a, make([]byte, 4)...)
	a = append(a, u32(t.Timescale<<16)...)
	asc := t.MKV.CodecPrivate
	dsi := append([]byte{0x05, byte(len(asc))}, asc...)
	dcd := append([]byte{0x04, byte(13 + len(dsi)), 0x40, 0x15, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, dsi...)
	es := append([]byte{0x03, byte(3 + len(dcd) + 3), 0, 0, 0}, dcd...)
	es = append(es, 0x06, 0x01, 0x02)
	return box("mp4a", a, full("esds", 0, 0, es))
}

type sample struct {
	pts  int64 // ms
	data []byte
	key  bool
}

// Segment is the media segment (moof + mdat) for one Cluster (the whole
// element, as stored), with sequence number seq, on the Matroska timeline.
func Segment(tracks []Track, scale uint64, cluster []byte, seq uint32) ([]byte, error) {
	return SegmentAt(tracks, scale, cluster, seq, -1)
}

// SegmentAt is Segment with the timeline moved so that the Cluster's
// Timecode falls at atMs (ms); atMs < 0 keeps the Matroska timeline.
func SegmentAt(tracks []Track, scale uint64, cluster []byte, seq uint32, atMs int64) ([]byte, error) {
	if len(cluster) < 12 {
		return nil, fmt.Errorf("%w: short cluster", ErrUnsupported)
	}
	byTrack := map[uint64]*[]sample{}
	for i := range tracks {
		byTrack[tracks[i].MKV.Number] = new([]sample)
	}
	tcMs, frames, err := mkv.Frames(cluster, scale)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnsupported, err)
	}
	shift := int64(0)
	if atMs >= 0 {
		shift = atMs - tcMs
	}
	for _, f := range frames {
		if list := byTrack[f.Track]; list != nil {
			*list = append(*list, sample{pts: f.PTS + shift, data: f.Data, key: f.Key})
		}
	}
	type run struct {
		traf   []byte
		offPos int // position of the data_offset field inside traf
		data   [][]byte
		size   int
	}
	var runs []run
	for _, t := range tracks {
		ss := *byTrack[t.MKV.Number]
		if len(ss) == 0 {
			if len(tracks) > 1 {
				continue
			}
			// a track alone (DASH) with no frames in this cluster: an
			// empty run at the cluster's time
			at := tcMs
			if atMs >= 0 {
				at = atMs
			}
			traf := box("traf", full("tfhd", 0, 0x020000, u32(t.ID)),
				full("tfdt", 1, 0, u64(uint64(max(at*int64(t.Timescale)/1000, 0)))),
				full("trun", 1, 0x000001, u32(0), u32(0)))
			runs = append(runs, run{traf: traf, offPos: len(traf) - 4})
			continue
		}
		n := len(ss)
		dts := make([]int64, n)
		durs := make([]uint32, n)
		ctos := make([]int32, n)
		if t.Video {
			sorted := make([]int64, n)
			for i, s := range ss {
				sorted[i] = s.pts * 90
			}
			sort.Slice(sorted, func(i, j int) bool { return sorted[i] < sorted[j] })
			copy(dts, sorted)
			frame := int64(t.MKV.DefaultDuration) * 90000 / 1e9
			for i := range ss {
				if i+1 < n {
					durs[i] = uint32(dts[i+1] - dts[i])
				} else if frame > 0 {
					durs[i] = uint32(frame)
				} else if i > 0 {
					durs[i] = durs[i-1]
				} else {
					durs[i] = 3600
				}
				ctos[i] = int32(ss[i].pts*90 - dts[i])
			}
		} else {
			base := ss[0].pts * int64(t.Timescale) / 1000
			for i := range ss {
				dts[i] = base + int64(i)*1024
				durs[i] = 1024
			}
		}
		var tr []byte
		tr = append(tr, u32(uint32(n))...)
		offPos := len(tr)
		tr = append(tr, u32(0)...)
		size := 0
		var data [][]byte
		for i, s := range ss {
			tr = append(tr, u32(durs[i])...)
			tr = append(tr, u32(uint32(len(s.data)))...)
			fl := uint32(0x01010000)
			if s.key || !t.Video {
				fl = 0x02000000
			}
			tr = append(tr, u32(fl)...)
			tr = append(tr, u32(uint32(ctos[i]))...)
			size += len(s.data)
			data = append(data, s.data)
		}
		trun := full("trun", 1, 0x000001|0x000100|0x000200|0x000400|0x000800, tr)
		traf := box("traf",
			full("tfhd", 0, 0x020000, u32(t.ID)),
			full("tfdt", 1, 0, u64(uint64(max(dts[0], 0)))),
			trun)
		// the data offset sits in trun, at the end of traf: locate it
		offPos = len(traf) - len(trun) + 12 + offPos
		runs = append(runs, run{traf: traf, offPos: offPos, data: data, size: size})
	}
	if len(runs) == 0 {
		return nil, fmt.Errorf("%w: no samples", ErrUnsupported)
	}
	parts := [][]byte{full("mfhd", 0, 0, u32(seq))}
	for _, r := range runs {
		parts = append(parts, r.traf)
	}
	moof := box("moof", parts...)
	// patch data offsets: relative to the moof's first byte
	pos := 8 + 16 // moof header + mfhd
	dataOff := len(moof) + 8
	for _, r := range runs {
		binary.BigEndian.PutUint32(moof[pos+r.offPos:], uint32(dataOff))
		pos += len(r.traf)
		dataOff += r.size
	}
	total := 0
	for _, r := range runs {
		total += r.size
	}
	out := make([]byte, 0, len(moof)+8+total)
	out = append(out, moof...)
	out = append(out, u32(uint32(8+total))...)
	out = append(out, "mdat"...)
	for _, r := range runs {
		for _, d := range r.data {
			out = append(out, d...)
		}
	}
	return out, nil
}
