package mpegts

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"

	"github.com/asticode/go-astits"

	"github.com/eddy-streams/eddy/internal/video/fmp4"
	"github.com/eddy-streams/eddy/internal/video/mkv"
)

var (
	sps = []byte{0x67, 0x42, 0xC0, 0x1E, 0xAA}
	pps = []byte{0x68, 0xCE, 0x3C, 0x80}
)

func avcc() []byte {
	b := []byte{1, 0x42, 0xC0, 0x1E, 0xFF, 0xE1, 0, byte(len(sps))}
	b = append(b, sps...)
	b = append(b, 1, 0, byte(len(pps)))
	return append(b, pps...)
}

func header(t testing.TB, videoCodec string, vpriv []byte) *mkv.Header {
	var te []byte
	te = mkv.AppendUint(te, mkv.IDTrackNumber, 1)
	te = mkv.AppendUint(te, mkv.IDTrackType, 1)
	te = mkv.AppendString(te, mkv.IDCodecID, videoCodec)
	te = mkv.AppendElement(te, mkv.IDCodecPrivate, vpriv)
	var ta []byte
	ta = mkv.AppendUint(ta, mkv.IDTrackNumber, 2)
	ta = mkv.AppendUint(ta, mkv.IDTrackType, 2)
	ta = mkv.AppendString(ta, mkv.IDCodecID, "A_AAC")
	ta = mkv.AppendElement(ta, mkv.IDCodecPrivate, []byte{0x12, 0x10}) // LC, 44.1 kHz, stereo
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

// nals length-prefixes NAL units (4-byte lengths).
func nals(units ...[]byte) []byte {
	var b []byte
	for _, u := range units {
		b = append(b, byte(len(u)>>24), byte(len(u)>>16), byte(len(u)>>8), byte(len(u)))
		b = append(b, u...)
	}
	return b
}

type got struct {
	pid      uint16
	pts, dts int64
	data     []byte
}

// demux reads a segment back with astits' demuxer, checking the packet
// layer on the way: 188-byte packets, continuity counters per PID, a PCR on
// every video PES start.
func demux(t *testing.T, seg []byte) (out []got, pat, pmt bool) {
	t.Helper()
	if len(seg)%188 != 0 {
		t.Fatalf("segment of %d bytes is not whole 188-byte packets", len(seg))
	}
	cc := map[uint16]int{}
	for off := 0; off < len(seg); off += 188 {
		p := seg[off : off+188]
		if p[0] != 0x47 {
			t.Fatalf("packet %d: sync byte %#x", off/188, p[0])
		}
		pid := uint16(p[1]&0x1F)<<8 | uint16(p[2])
		c := int(p[3] & 0x0F)
		if p[3]&0x10 != 0 { // has payload
			if prev, ok := cc[pid]; ok && c != (prev+1)&15 {
				t.Fatalf("PID %#x: continuity counter %d after %d", pid, c, prev)
			}
			cc[pid] = c
		}
		if pid == videoPID && p[1]&0x40 != 0 { // payload unit start
			if p[3]&0x20 == 0 || p[4] == 0 || p[5]&0x10 == 0 {
				t.Fatalf("video PES start at packet %d without PCR", off/188)
			}
		}
	}
	dmx := astits.NewDemuxer(context.Background(), bytes.NewReader(seg))
	for {
		d, err := dmx.NextData()
		if errors.Is(err, astits.ErrNoMorePackets) || errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case d.PAT != nil:
			pat = true
		case d.PMT != nil:
			pmt = true
			if d.PMT.PCRPID != videoPID {
				t.Fatalf("PCR PID %#x", d.PMT.PCRPID)
			}
		case d.PES != nil:
			g := got{pid: d.PID, data: d.PES.Data}
			if oh := d.PES.Header.OptionalHeader; oh != nil && oh.PTS != nil {
				g.pts, g.dts = oh.PTS.Base, oh.PTS.Base
				if oh.DTS != nil {
					g.dts = oh.DTS.Base
				}
			}
			out = append(out, g)
		}
	}
	return out, pat, pmt
}

func TestSegmentH264AndAAC(t *testing.T) {
	h := header(t, "V_MPEG4/ISO/AVC", avcc())
	idr := []byte{0x65, 0x88, 0x84, 0x00}
	pslice := []byte{0x41, 0x9A, 0x02}
	bslice := []byte{0x01, 0x9E, 0x04}
	aacFrame := bytes.Repeat([]byte{0x21}, 300)
	// decode order I P B with presentation 0, 80, 40 ms (one B-frame)
	cl := cluster(1000,
		block(1, 0, true, nals([]byte{0x09, 0x10}, sps, pps, idr)...), // in-band AUD and parameter sets: dropped
		block(2, 0, true, aacFrame...),
		block(1, 80, false, nals(pslice)...),
		block(1, 40, false, nals(bslice)...),
		block(2, 23, true, aacFrame...),
	)
	seg, err := Segment(h, cl, 1_700_000_000_000)
	if err != nil {
		t.Fatal(err)
	}
	pes, pat, pmt := demux(t, seg)
	if !pat || !pmt {
		t.Fatalf("PAT %v PMT %v", pat, pmt)
	}
	base := int64(1_700_000_000_000)*90 + offset90
	var video, audio []got
	for _, p := range pes {
		if p.pid == videoPID {
			video = append(video, p)
		} else if p.pid == firstAPID {
			audio = append(audio, p)
		}
	}
	if len(video) != 3 || len(audio) != 2 {
		t.Fatalf("%d video and %d audio PES", len(video), len(audio))
	}
	sc := []byte{0, 0, 0, 1}
	wantIDR := bytes.Join([][]byte{nil, {0x09, 0xF0}, sps, pps, idr}, sc)
	if !bytes.Equal(video[0].data, wantIDR) {
		t.Fatalf("IDR access unit\n got %x\nwant %x", video[0].data, wantIDR)
	}
	if want := bytes.Join([][]byte{nil, {0x09, 0xF0}, pslice}, sc); !bytes.Equal(video[1].data, want) {
		t.Fatalf("P access unit %x", video[1].data)
	}
	// presentation times as stored; decode times sorted and moved back by
	// the reorder distance (40 ms = 3600 ticks)
	wrapped := func(v int64) int64 { return v & wrap33 }
	for i, w := range []struct{ pts, dts int64 }{{0, -3600}, {80 * 90, 40*90 - 3600}, {40 * 90, 80*90 - 3600}} {
		if video[i].pts != wrapped(base+w.pts) || video[i].dts != wrapped(base+w.dts) {
			t.Fatalf("video %d: pts %d dts %d, want %d %d", i, video[i].pts, video[i].dts, wrapped(base+w.pts), wrapped(base+w.dts))
		}
		if video[i].dts > video[i].pts {
			t.Fatalf("video %d decodes after it shows", i)
		}
	}
	a := audio[0].data
	if len(a) != 307 || a[0] != 0xFF || a[1] != 0xF1 {
		t.Fatalf("ADTS header %x", a[:7])
	}
	// profile LC (1), frequency index 4 (44.1 kHz), 2 channels, length 307
	if prof, idx, ch := a[2]>>6, a[2]>>2&0xF, (a[2]&1)<<2|a[3]>>6; prof != 1 || idx != 4 || ch != 2 {
		t.Fatalf("ADTS profile %d index %d channels %d", prof, idx, ch)
	}
	if n := int(a[3]&3)<<11 | int(a[4])<<3 | int(a[5]>>5); n != 307 {
		t.Fatalf("ADTS frame length %d", n)
	}
	if !bytes.Equal(a[7:], aacFrame) || audio[1].pts != wrapped(base+23*90) {
		t.Fatal("AAC payload or timestamp changed")
	}
}

func TestSegmentH265(t *testing.T) {
	vps := []byte{0x40, 0x01, 0x0C}
	hsps := []byte{0x42, 0x01, 0x01}
	hpps := []byte{0x44, 0x01, 0xC1}
	rec := make([]byte, 23)
	rec[0], rec[21], rec[22] = 1, 0xF3, 3
	for i, n := range [][]byte{vps, hsps, hpps} {
		rec = append(rec, 0x80|byte(32+i), 0, 1, 0, byte(len(n)))
		rec = append(rec, n...)
	}
	h := header(t, "V_MPEGH/ISO/HEVC", rec)
	idr := []byte{0x26, 0x01, 0xAF}
	seg, err := Segment(h, cluster(0, block(1, 0, true, nals(idr)...)), 0)
	if err != nil {
		t.Fatal(err)
	}
	pes, _, _ := demux(t, seg)
	want := bytes.Join([][]byte{nil, {0x46, 0x01, 0x50}, vps, hsps, hpps, idr}, []byte{0, 0, 0, 1})
	if len(pes) != 1 || !bytes.Equal(pes[0].data, want) {
		t.Fatalf("HEVC access unit %x", pes)
	}
	dmx := astits.NewDemuxer(context.Background(), bytes.NewReader(seg))
	for {
		d, err := dmx.NextData()
		if err != nil {
			t.Fatal("no PMT")
		}
		if d.PMT != nil {
			if d.PMT.ElementaryStreams[0].StreamType != astits.StreamTypeH265Video {
				t.Fatalf("stream type %#x", d.PMT.ElementaryStreams[0].StreamType)
			}
			break
		}
	}
}

// TestSegmentAudioOnly: a fragment with audio alone still carries a PCR
// (an adaptation-only packet on the PCR PID, before the audio).
func TestSegmentAudioOnly(t *testing.T) {
	h := header(t, "V_MPEG4/ISO/AVC", avcc())
	seg, err := Segment(h, cluster(0, block(2, 0, true, 1, 2, 3)), 0)
	if err != nil {
		t.Fatal(err)
	}
	pes, _, _ := demux(t, seg)
	if len(pes) != 1 || pes[0].pid != firstAPID {
		t.Fatalf("PES %v", pes)
	}
	pcr := -1
	for off := 0; off < len(seg); off += 188 {
		p := seg[off:]
		if uint16(p[1]&0x1F)<<8|uint16(p[2]) == videoPID && p[3]&0x20 != 0 && p[4] == 183 && p[5]&0x10 != 0 {
			pcr = off / 188
		}
	}
	if pcr < 0 {
		t.Fatal("no PCR packet")
	}
}

func TestSegmentRefusesBadMedia(t *testing.T) {
	h := header(t, "V_MPEG4/ISO/AVC", avcc())
	// a NAL length running past the block
	if _, err := Segment(h, cluster(0, block(1, 0, true, 0, 0, 0, 99, 0x65)), 0); !errors.Is(err, ErrUnsupported) {
		t.Fatalf("NAL past the end: %v", err)
	}
	// no frames at all
	if _, err := Segment(h, cluster(0), 0); !errors.Is(err, ErrUnsupported) {
		t.Fatalf("empty cluster: %v", err)
	}
	// a broken avcC
	if _, err := Segment(header(t, "V_MPEG4/ISO/AVC", []byte{1, 2}), cluster(0), 0); !errors.Is(err, ErrUnsupported) {
		t.Fatalf("bad avcC: %v", err)
	}
	// AAC object type that ADTS cannot signal (HE-AAC, 5)
	if _, err := adtsTemplate([]byte{0x2B, 0x92}, 0, 0); err == nil {
		t.Fatal("HE-AAC accepted for ADTS")
	}
}

func FuzzSegment(f *testing.F) {
	f.Add(avcc(), cluster(0, block(1, 0, true, nals([]byte{0x65, 1, 2})...), block(2, 0, true, 1, 2)))
	f.Add([]byte{1, 2, 3}, []byte{0x1F, 0x43, 0xB6, 0x75})
	f.Add(append(make([]byte, 22), 3, 0x20, 0, 1, 0, 2, 0x40, 1), cluster(0, block(1, 0, true, nals([]byte{0x26, 1})...)))
	f.Fuzz(func(t *testing.T, priv, cl []byte) {
		codec := "V_MPEG4/ISO/AVC"
		if len(priv) > 22 { // long enough for an hvcC record: try HEVC too
			codec = "V_MPEGH/ISO/HEVC"
			priv = append([]byte{1}, priv[1:]...) // a copy: inputs stay untouched
		}
		var te []byte
		te = mkv.AppendUint(te, mkv.IDTrackNumber, 1)
		te = mkv.AppendUint(te, mkv.IDTrackType, 1)
		te = mkv.AppendString(te, mkv.IDCodecID, codec)
		te = mkv.AppendElement(te, mkv.IDCodecPrivate, priv)
		var ta []byte
		ta = mkv.AppendUint(ta, mkv.IDTrackNumber, 2)
		ta = mkv.AppendString(ta, mkv.IDCodecID, "A_AAC")
		ta = mkv.AppendElement(ta, mkv.IDCodecPrivate, priv)
		h, err := mkv.ParseHeader(mkv.AppendElement(nil, mkv.IDEBML, nil), mkv.AppendElement(nil, mkv.IDInfo, nil),
			mkv.AppendElement(nil, mkv.IDTracks, append(mkv.AppendElement(nil, mkv.IDTrackEntry, te), mkv.AppendElement(nil, mkv.IDTrackEntry, ta)...)))
		if err != nil {
			return
		}
		seg, err := Segment(h, cl, 1_700_000_000_000)
		if err != nil {
			return
		}
		if len(seg)%188 != 0 {
			t.Fatalf("%d bytes", len(seg))
		}
		for off := 0; off < len(seg); off += 188 {
			if seg[off] != 0x47 {
				t.Fatal("lost sync")
			}
		}
	})
}

// BenchmarkRepackage: one 1-second fragment of a 2 Mbit/s stream (25
// frames of 10 kB, a keyframe first, and 43 AAC frames) as an MPEG-TS
// segment and, for the ratio, as an fMP4 media segment.
func BenchmarkRepackage(b *testing.B) {
	h := header(b, "V_MPEG4/ISO/AVC", avcc())
	var blocks [][]byte
	frame := bytes.Repeat([]byte{0x41, 0x9A}, 5000)
	for i := 0; i < 25; i++ {
		nal := frame
		if i == 0 {
			nal = append([]byte{0x65}, frame[1:]...)
		}
		blocks = append(blocks, block(1, int16(i*40), i == 0, nals(nal)...))
	}
	for i := 0; i < 43; i++ {
		blocks = append(blocks, block(2, int16(i*23), true, bytes.Repeat([]byte{0x21}, 180)...))
	}
	cl := cluster(0, blocks...)
	b.Run("mpegts", func(b *testing.B) {
		b.SetBytes(int64(len(cl)))
		for i := 0; i < b.N; i++ {
			if _, err := Segment(h, cl, 1_700_000_000_000); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("fmp4", func(b *testing.B) {
		tracks, err := fmp4.Tracks(h)
		if err != nil {
			b.Fatal(err)
		}
		b.SetBytes(int64(len(cl)))
		for i := 0; i < b.N; i++ {
			if _, err := fmp4.SegmentAt(tracks, h.TimecodeScale, cl, 1, 1_700_000_000_000); err != nil {
				b.Fatal(err)
			}
		}
	})
}
