// Package mpegts repackages one Matroska fragment (a stored Cluster and its
// track header) as an MPEG-2 transport stream segment for HLS, without
// transcoding. The transport-stream layer (PAT, PMT, 188-byte packets, PES
// headers, adaptation fields with PCR, continuity counters) is written by
// github.com/asticode/go-astits; this package converts the elementary
// streams and timestamps:
//
//   - H.264 (V_MPEG4/ISO/AVC): Matroska blocks are length-prefixed NAL units
//     with the avcC record as CodecPrivate. Each access unit becomes Annex B:
//     an access unit delimiter, then, on keyframes, the SPS and PPS from avcC,
//     then every NAL unit behind a 00 00 00 01 start code (the block's own
//     delimiters and, on keyframes, its own parameter sets are dropped, so
//     each appears once).
//   - H.265 (V_MPEGH/ISO/HEVC): the same with the hvcC record's VPS, SPS
//     and PPS and the HEVC delimiter.
//   - AAC (A_AAC…): raw frames with the AudioSpecificConfig as CodecPrivate;
//     each frame gets a 7-byte ADTS header (no CRC) built from it.
//
// Layout of a segment (byte tables of the headers: docs/format/video-mpegts.md):
//
//	PAT (PID 0) | PMT (PID 0x1000) | PES packets on PID 0x100 (video, stream
//	type 0x1B or 0x24, stream id 0xE0, PCR PID) and 0x101… (AAC, type 0x0F,
//	stream id 0xC0…), in decode-time order
//
// Timestamps are 90 kHz: a frame at producer time t ms is at t×90 + 90000
// (the one-second offset keeps decode times of reordered frames positive),
// modulo 2^33 as the format wraps. Decode times of reordered video (B-frames)
// are the sorted presentation times moved back by the largest reorder
// distance in the fragment. Every video PES carries a PCR equal to its
// decode time minus 100 ms; keyframes set random_access_indicator, and the
// PAT and PMT are repeated before them. Continuity counters start at 0 in
// every segment (each segment is complete in itself), so the first PES of
// each PID sets discontinuity_indicator, which tells demuxers the counter
// jump from the previous segment is intended. A fragment with audio only
// (the tail of a recording) gets an adaptation-only packet on the video PID
// carrying the PCR.
package mpegts

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"

	"github.com/asticode/go-astits"

	"github.com/eddy-streams/eddy/internal/video/mkv"
)

// ErrUnsupported is media the repackager cannot carry.
var ErrUnsupported = errors.New("mpegts: unsupported media")

const (
	videoPID  = 0x100
	firstAPID = 0x101
	offset90  = 90000     // 1 s, added to every timestamp
	pcrLead   = 9000      // PCR runs 100 ms ahead of decode
	wrap33    = 1<<33 - 1 // 33-bit timestamps
	maxADTS   = 1<<13 - 1 // 13-bit ADTS frame length
	audioID   = 0xC0      // PES stream id of the first audio stream
	videoID   = 0xE0      // PES stream id of video
)

type codec int

const (
	h264 codec = iota
	h265
	aac
)

type track struct {
	num    uint64
	pid    uint16
	codec  codec
	params [][]byte // parameter-set NAL units (video)
	nalLen int      // NAL length-field size (video)
	adts   [7]byte  // ADTS header template (audio)
}

// Tracks reports whether a header has a video track this package carries.
func Tracks(h *mkv.Header) error {
	_, err := tracks(h)
	return err
}

func tracks(h *mkv.Header) ([]track, error) {
	var out []track
	video := false
	apid := uint16(firstAPID)
	for _, t := range h.TrackList {
		switch t.CodecID {
		case "V_MPEG4/ISO/AVC", "V_MPEG/ISO/AVC", "V_MPEGH/ISO/HEVC", "V_MPEG/ISO/HEVC":
			if video {
				continue // one video stream per program
			}
			tr := track{num: t.Number, pid: videoPID, codec: h264}
			var err error
			if t.CodecID == "V_MPEGH/ISO/HEVC" || t.CodecID == "V_MPEG/ISO/HEVC" {
				tr.codec = h265
				tr.params, tr.nalLen, err = parseHVCC(t.CodecPrivate)
			} else {
				tr.params, tr.nalLen, err = parseAVCC(t.CodecPrivate)
			}
			if err != nil {
				return nil, fmt.Errorf("%w: track %d: %v", ErrUnsupported, t.Number, err)
			}
			video = true
			out = append(out, tr)
		case "A_AAC", "A_AAC/MPEG4/LC", "A_AAC/MPEG2/LC":
			tr := track{num: t.Number, pid: apid, codec: aac}
			var err error
			if tr.adts, err = adtsTemplate(t.CodecPrivate, t.SampleRate, t.Channels); err != nil {
				return nil, fmt.Errorf("%w: track %d: %v", ErrUnsupported, t.Number, err)
			}
			apid++
			out = append(out, tr)
		}
	}
	if !video {
		return nil, fmt.Errorf("%w: no H.264 or H.265 track", ErrUnsupported)
	}
	return out, nil
}

// parseAVCC reads the SPS and PPS and the NAL length size from an
// AVCDecoderConfigurationRecord (ISO/IEC 14496-15 5.3.3.1).
func parseAVCC(p []byte) ([][]byte, int, error) {
	if len(p) < 7 || p[0] != 1 {
		return nil, 0, errors.New("avcC record malformed")
	}
	nalLen := int(p[4]&3) + 1
	var params [][]byte
	pos := 6
	for set, count := 0, int(p[5]&0x1F); set < 2; set++ {
		for i := 0; i < count; i++ {
			if pos+2 > len(p) {
				return nil, 0, errors.New("avcC record truncated")
			}
			n := int(binary.BigEndian.Uint16(p[pos:]))
			pos += 2
			if pos+n > len(p) || n == 0 {
				return nil, 0, errors.New("avcC record truncated")
			}
			params = append(params, p[pos:pos+n])
			pos += n
		}
		if set == 0 {
			if pos >= len(p) {
				return nil, 0, errors.New("avcC record truncated")
			}
			count = int(p[pos])
			pos++
		}
	}
	return params, nalLen, nil
}

// parseHVCC reads the parameter-set arrays and the NAL length size from an
// HEVCDecoderConfigurationRecord (ISO/IEC 14496-15 8.3.3.1).
func parseHVCC(p []byte) ([][]byte, int, error) {
	if len(p) < 23 || p[0] != 1 {
		return nil, 0, errors.New("hvcC record malformed")
	}
	nalLen := int(p[21]&3) + 1
	var params [][]byte
	pos := 23
	for a := 0; a < int(p[22]); a++ {
		if pos+3 > len(p) {
			return nil, 0, errors.New("hvcC record truncated")
		}
		n := int(binary.BigEndian.Uint16(p[pos+1:]))
		pos += 3
		for i := 0; i < n; i++ {
			if pos+2 > len(p) {
				return nil, 0, errors.New("hvcC record truncated")
			}
			l := int(binary.BigEndian.Uint16(p[pos:]))
			pos += 2
			if pos+l > len(p) || l == 0 {
				return nil, 0, errors.New("hvcC record truncated")
			}
			params = append(params, p[pos:pos+l])
			pos += l
		}
	}
	return params, nalLen, nil
}

var adtsRates = []int{96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350}

// adtsTemplate builds the fixed part of the ADTS header from an
// AudioSpecificConfig (ISO/IEC 14496-3 1.6.2.1): profile = object type - 1
// (AAC Main, LC, SSR, LTP only), the sampling-frequency index (an explicit
// 24-bit frequency is mapped to its index), the channel configuration.
func adtsTemplate(asc []byte, rate float64, channels uint64) ([7]byte, error) {
	var h [7]byte
	if len(asc) < 2 {
		return h, errors.New("AudioSpecificConfig too short")
	}
	obj := int(asc[0] >> 3)
	if obj < 1 || obj > 4 {
		return h, fmt.Errorf("AAC object type %d cannot be carried in ADTS", obj)
	}
	idx := int(asc[0]&7)<<1 | int(asc[1]>>7)
	ch := int(asc[1]>>3) & 0xF
	if idx == 15 {
		if len(asc) < 5 {
			return h, errors.New("AudioSpecificConfig too short")
		}
		f := int(asc[1]&0x7F)<<17 | int(asc[2])<<9 | int(asc[3])<<1 | int(asc[4]>>7)
		ch = int(asc[4]>>3) & 0xF
		idx = -1
		for i, r := range adtsRates {
			if r == f {
				idx = i
			}
		}
		if idx < 0 {
			return h, fmt.Errorf("AAC sampling frequency %d has no ADTS index", f)
		}
	}
	if idx > 12 {
		return h, fmt.Errorf("AAC sampling-frequency index %d is reserved", idx)
	}
	if ch == 0 && channels > 0 && channels < 8 {
		ch = int(channels)
	}
	h[0] = 0xFF
	h[1] = 0xF1 // MPEG-4, layer 0, no CRC
	h[2] = byte(obj-1)<<6 | byte(idx)<<2 | byte(ch>>2)
	h[3] = byte(ch&3) << 6
	h[5] = 0x1F // buffer fullness 0x7FF (variable rate)
	h[6] = 0xFC
	return h, nil
}

// appendADTS appends one AAC frame with its ADTS header.
func appendADTS(b []byte, tmpl [7]byte, frame []byte) ([]byte, error) {
	n := len(frame) + 7
	if n > maxADTS {
		return b, fmt.Errorf("%w: AAC frame of %d bytes exceeds ADTS", ErrUnsupported, len(frame))
	}
	h := tmpl
	h[3] |= byte(n >> 11)
	h[4] = byte(n >> 3)
	h[5] |= byte(n&7) << 5
	b = append(b, h[:]...)
	return append(b, frame...), nil
}

var startCode = []byte{0, 0, 0, 1}

// nalType is the NAL unit type of n's first byte for codec c.
func nalType(c codec, n []byte) int {
	if c == h265 {
		return int(n[0]>>1) & 0x3F
	}
	return int(n[0] & 0x1F)
}

// appendAnnexB converts one length-prefixed access unit to Annex B.
func appendAnnexB(b []byte, t *track, au []byte, key bool) ([]byte, error) {
	aud, audType, spsType := []byte{0x09, 0xF0}, 9, 7
	if t.codec == h265 {
		aud, audType, spsType = []byte{0x46, 0x01, 0x50}, 35, 33
	}
	b = append(b, startCode...)
	b = append(b, aud...)
	if key {
		for _, p := range t.params {
			b = append(b, startCode...)
			b = append(b, p...)
		}
	}
	for p := au; len(p) > 0; {
		if len(p) < t.nalLen {
			return b, fmt.Errorf("%w: truncated NAL length", ErrUnsupported)
		}
		n := 0
		for i := 0; i < t.nalLen; i++ {
			n = n<<8 | int(p[i])
		}
		p = p[t.nalLen:]
		if n > len(p) {
			return b, fmt.Errorf("%w: NAL unit of %d bytes past the block's end", ErrUnsupported, n)
		}
		nal := p[:n]
		p = p[n:]
		if n == 0 {
			continue
		}
		typ := nalType(t.codec, nal)
		if typ == audType {
			continue
		}
		if key && len(t.params) > 0 && (typ == spsType || typ == spsType+1 || t.codec == h265 && typ == 32) {
			continue // the record's parameter sets are already in front
		}
		b = append(b, startCode...)
		b = append(b, nal...)
	}
	return b, nil
}

type pes struct {
	t        *track
	pts, dts int64 // 90 kHz, before wrapping
	key      bool
	data     []byte
}

// Segment repackages one stored Cluster element, whose track header is h,
// as a transport-stream segment; atMs is where the Cluster's Timecode falls
// on the output timeline (the fragment's producer timestamp in ms).
func Segment(h *mkv.Header, cluster []byte, atMs int64) ([]byte, error) {
	trs, err := tracks(h)
	if err != nil {
		return nil, err
	}
	tc, frames, err := mkv.Frames(cluster, h.TimecodeScale)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnsupported, err)
	}
	shift := atMs - tc
	byNum := map[uint64]*track{}
	for i := range trs {
		byNum[trs[i].num] = &trs[i]
	}
	var video []int // indexes into out of the video PES, decode order
	var out []pes
	for _, f := range frames {
		t := byNum[f.Track]
		if t == nil || len(f.Data) == 0 {
			continue
		}
		p := pes{t: t, pts: (f.PTS+shift)*90 + offset90, key: f.Key}
		if t.codec == aac {
			if p.data, err = appendADTS(nil, t.adts, f.Data); err != nil {
				return nil, err
			}
			p.dts = p.pts
		} else {
			if p.data, err = appendAnnexB(make([]byte, 0, len(f.Data)+64), t, f.Data, f.Key); err != nil {
				return nil, err
			}
			video = append(video, len(out))
		}
		out = append(out, p)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: no frames in the fragment", ErrUnsupported)
	}
	// decode times of video: presentation times sorted, moved back by the
	// largest reorder distance so that no frame decodes after it shows
	sorted := make([]int64, len(video))
	for i, k := range video {
		sorted[i] = out[k].pts
	}
	sort.Slice(sorted, func(i, j int) bool { return sorted[i] < sorted[j] })
	var delay int64
	for i, k := range video {
		delay = max(delay, sorted[i]-out[k].pts)
	}
	for i, k := range video {
		out[k].dts = sorted[i] - delay
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].dts < out[j].dts })

	var buf bytes.Buffer
	buf.Grow(len(cluster) + len(cluster)/8)
	mx := astits.NewMuxer(context.Background(), &buf, astits.MuxerOptTablesRetransmitPeriod(1<<30))
	for _, t := range trs {
		st := astits.StreamTypeADTS
		switch t.codec {
		case h264:
			st = astits.StreamTypeH264Video
		case h265:
			st = astits.StreamTypeH265Video
		}
		if err := mx.AddElementaryStream(astits.PMTElementaryStream{ElementaryPID: t.pid, StreamType: st}); err != nil {
			return nil, fmt.Errorf("mpegts: %w", err)
		}
	}
	mx.SetPCRPID(videoPID) // the tables go out before the first PES
	if len(video) == 0 {
		if _, err := mx.WriteTables(); err != nil {
			return nil, fmt.Errorf("mpegts: %w", err)
		}
		// 4 header + 1 length + 1 flags + 6 PCR + 176 stuffing = 188
		pcr := &astits.Packet{Header: astits.PacketHeader{PID: videoPID, HasAdaptationField: true},
			AdaptationField: &astits.PacketAdaptationField{HasPCR: true, DiscontinuityIndicator: true, StuffingLength: 176,
				PCR: &astits.ClockReference{Base: max(out[0].dts-pcrLead, 0) & wrap33}}}
		if _, err := mx.WritePacket(pcr); err != nil {
			return nil, fmt.Errorf("mpegts: %w", err)
		}
	}
	first := map[uint16]bool{}
	for _, p := range out {
		oh := &astits.PESOptionalHeader{MarkerBits: 2, PTS: &astits.ClockReference{Base: p.pts & wrap33}}
		d := &astits.MuxerData{PID: p.t.pid, PES: &astits.PESData{Header: &astits.PESHeader{OptionalHeader: oh}, Data: p.data}}
		if p.t.codec == aac {
			oh.PTSDTSIndicator = astits.PTSDTSIndicatorOnlyPTS
			d.PES.Header.StreamID = audioID + uint8(p.t.pid-firstAPID)
			if !first[p.t.pid] {
				d.AdaptationField = &astits.PacketAdaptationField{DiscontinuityIndicator: true}
			}
		} else {
			d.PES.Header.StreamID = videoID
			oh.DataAlignmentIndicator = true
			oh.PTSDTSIndicator = astits.PTSDTSIndicatorOnlyPTS
			if p.dts != p.pts {
				oh.PTSDTSIndicator = astits.PTSDTSIndicatorBothPresent
				oh.DTS = &astits.ClockReference{Base: p.dts & wrap33}
			}
			d.AdaptationField = &astits.PacketAdaptationField{
				HasPCR:                 true,
				PCR:                    &astits.ClockReference{Base: max(p.dts-pcrLead, 0) & wrap33},
				RandomAccessIndicator:  p.key,
				DiscontinuityIndicator: !first[p.t.pid],
			}
		}
		first[p.t.pid] = true
		if _, err := mx.WriteData(d); err != nil {
			return nil, fmt.Errorf("mpegts: %w", err)
		}
	}
	return buf.Bytes(), nil
}
