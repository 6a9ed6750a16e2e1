package mkv

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

func testHeader() []byte {
	var b []byte
	b = AppendElement(b, IDEBML, AppendString(nil, 0x4282, "matroska"))
	b = AppendID(b, IDSegment)
	b = AppendUnknownSize(b)
	b = AppendElement(b, IDInfo, AppendUint(nil, IDTimecodeScale, 1000000))
	var te []byte
	te = AppendUint(te, IDTrackNumber, 1)
	te = AppendUint(te, IDTrackType, 1)
	te = AppendString(te, IDCodecID, "V_MPEG4/ISO/AVC")
	te = AppendElement(te, IDCodecPrivate, []byte{1, 0x64, 0, 0x1f})
	te = AppendElement(te, IDVideo, AppendUint(AppendUint(nil, IDPixelWidth, 320), IDPixelHeight, 240))
	b = AppendElement(b, IDTracks, AppendElement(nil, IDTrackEntry, te))
	return b
}

func block(rel int16, key bool) []byte {
	f := byte(0)
	if key {
		f = 0x80
	}
	return AppendElement(nil, IDSimpleBlock, []byte{0x81, byte(uint16(rel) >> 8), byte(rel), f, 0, 0, 0, 1, 0x65})
}

// unknownCluster is a Cluster with unknown size, as producers send it.
func unknownCluster(tc uint64, blocks ...[]byte) []byte {
	b := AppendID(nil, IDCluster)
	b = AppendUnknownSize(b)
	b = AppendUint(b, IDTimecode, tc)
	for _, x := range blocks {
		b = append(b, x...)
	}
	return b
}

func TestSplitterUnknownSizes(t *testing.T) {
	var in []byte
	in = append(in, testHeader()...)
	in = append(in, unknownCluster(0, block(0, true), block(40, false))...)
	in = append(in, AppendTags(nil, Tag{"AWS_KINESISVIDEO_END_OF_FRAGMENT", ""})...)
	in = append(in, unknownCluster(1000, block(0, true))...)
	var starts []int64
	s := NewSplitter(bytes.NewReader(in), 1<<20)
	s.OnClusterStart = func(tc int64) { starts = append(starts, tc) }
	var got []*Cluster
	for {
		c, err := s.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, c)
	}
	if len(got) != 2 || got[0].Timecode != 0 || got[1].Timecode != 1000 || got[0].Blocks != 2 || !got[0].Keyframe {
		t.Fatalf("clusters %+v", got)
	}
	if len(starts) != 2 || got[0].VideoMax != 40 {
		t.Fatalf("starts %v max %d", starts, got[0].VideoMax)
	}
	tr := got[0].Header.Track(1)
	if tr == nil || tr.CodecID != "V_MPEG4/ISO/AVC" || tr.Width != 320 || len(tr.CodecPrivate) != 4 {
		t.Fatalf("track %+v", tr)
	}
	// the re-encoded cluster parses back on its own
	var again []byte
	again = append(again, testHeader()...)
	again = append(again, got[0].Raw...)
	c, err := NewSplitter(bytes.NewReader(again), 1<<20).Next()
	if err != nil || c.Blocks != 2 {
		t.Fatalf("re-read: %v %+v", err, c)
	}
	h, err := ParseHeader(got[0].Header.EBML, got[0].Header.Info, got[0].Header.Tracks)
	if err != nil || h.TimecodeScale != 1000000 || len(h.TrackList) != 1 {
		t.Fatalf("ParseHeader %v %+v", err, h)
	}
}

func TestSplitterLimits(t *testing.T) {
	in := append(testHeader(), unknownCluster(0, block(0, true), AppendElement(nil, IDSimpleBlock, make([]byte, 2000)))...)
	_, err := NewSplitter(bytes.NewReader(in), 1000).Next()
	var pe *ParseError
	if !errors.As(err, &pe) || pe.Code != CodeTooLarge {
		t.Fatalf("oversized: %v", err)
	}
	_, err = NewSplitter(bytes.NewReader(unknownCluster(0, block(0, true))), 1000).Next()
	if !errors.As(err, &pe) || pe.Code != CodeInvalidMKV {
		t.Fatalf("cluster before header: %v", err)
	}
}

// FuzzSplitter: any input ends in clusters, io.EOF or a ParseError, never a
// panic, and no cluster exceeds the limit.
// metaTags is a Tags element of n SimpleTags (fragment metadata).
func metaTags(n int) []byte {
	var tag []byte
	for i := 0; i < n; i++ {
		tag = AppendElement(tag, IDSimpleTag, AppendString(nil, 0x45A3, "K"))
	}
	return AppendElement(nil, IDTags, AppendElement(nil, IDTag, tag))
}

// TestSplitterMetaTags: the SimpleTags of the Tags elements before a
// cluster (after the previous one) are counted for that cluster; an
// unknown-size cluster ends at the Tags that follow it.
func TestSplitterMetaTags(t *testing.T) {
	var in []byte
	in = append(in, testHeader()...)
	in = append(in, metaTags(2)...)
	in = append(in, metaTags(9)...)
	in = append(in, unknownCluster(0, block(0, true))...)
	in = append(in, metaTags(1)...)
	in = append(in, unknownCluster(1000, block(0, true))...)
	in = append(in, unknownCluster(2000, block(0, true))...)
	s := NewSplitter(bytes.NewReader(in), 1<<20)
	for i, want := range []int{11, 1, 0} {
		c, err := s.Next()
		if err != nil {
			t.Fatal(err)
		}
		if c.MetaTags != want {
			t.Fatalf("cluster %d: %d metadata tags, want %d", i, c.MetaTags, want)
		}
		if len(c.Tags) != want {
			t.Fatalf("cluster %d: %d tags kept, want %d", i, len(c.Tags), want)
		}
	}
}

// namedTags is a Tags element with one Tag of the given name/value pairs.
func namedTags(kv ...string) []byte {
	var tag []byte
	for i := 0; i+1 < len(kv); i += 2 {
		st := AppendString(nil, IDTagName, kv[i])
		st = AppendString(st, IDTagString, kv[i+1])
		tag = AppendElement(tag, IDSimpleTag, st)
	}
	return AppendElement(nil, IDTags, AppendElement(nil, IDTag, tag))
}

// TestSplitterTagValues: the name/value pairs before a cluster are kept
// for it in order; a run of Tags right after an unknown-size cluster that
// ends with the producer SDK's end-of-fragment marker belongs to that
// cluster (the marker counted, not kept); a SimpleTag without a name is
// counted but not kept; a Tags element after the last cluster belongs to
// no cluster.
func TestSplitterTagValues(t *testing.T) {
	var in []byte
	in = append(in, testHeader()...)
	in = append(in, namedTags("GPS", "47N", "Motion", "true")...)
	in = append(in, unknownCluster(0, block(0, true))...)
	in = append(in, namedTags("Late", "1")...)
	in = append(in, namedTags(EndOfFragmentTag, "")...)
	unnamed := AppendElement(nil, IDSimpleTag, AppendString(nil, IDTagString, "no name"))
	in = append(in, AppendElement(nil, IDTags, AppendElement(nil, IDTag, unnamed))...)
	in = append(in, namedTags("GPS", "48N")...)
	in = append(in, unknownCluster(1000, block(0, true))...)
	in = append(in, namedTags("GPS", "49N")...)
	in = append(in, AppendElement(nil, IDCluster, append(AppendUint(nil, IDTimecode, 2000), block(0, true)...))...)
	in = append(in, namedTags("late", "x")...)
	s := NewSplitter(bytes.NewReader(in), 1<<20)
	for i, want := range []struct {
		count int
		tags  string
	}{{4, "GPS=47N,Motion=true,Late=1"}, {2, "GPS=48N"}, {1, "GPS=49N"}} {
		c, err := s.Next()
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, tg := range c.Tags {
			got = append(got, tg.Name+"="+tg.Value)
		}
		if c.MetaTags != want.count || strings.Join(got, ",") != want.tags {
			t.Fatalf("cluster %d: count %d tags %q, want %d %q", i, c.MetaTags, got, want.count, want.tags)
		}
	}
	if _, err := s.Next(); !errors.Is(err, io.EOF) {
		t.Fatalf("after the last cluster: %v", err)
	}
}

// TestSplitterTrailingTagsEnd: a stream that ends, or breaks, in the Tags
// after a complete unknown-size cluster still returns that cluster; the
// end or the error comes next.
func TestSplitterTrailingTagsEnd(t *testing.T) {
	var in []byte
	in = append(in, testHeader()...)
	in = append(in, unknownCluster(0, block(0, true))...)
	in = append(in, namedTags("GPS", "1")...)
	for _, tc := range []struct {
		name string
		in   []byte
		end  func(error) bool
	}{
		{"clean end", in, func(err error) bool { return errors.Is(err, io.EOF) }},
		{"truncated", in[:len(in)-2], func(err error) bool {
			var pe *ParseError
			return errors.As(err, &pe) && pe.Code == CodeInvalidMKV
		}},
	} {
		s := NewSplitter(bytes.NewReader(tc.in), 1<<20)
		if c, err := s.Next(); err != nil || c.Timecode != 0 {
			t.Fatalf("%s: cluster: %v", tc.name, err)
		}
		if _, err := s.Next(); !tc.end(err) {
			t.Fatalf("%s: then %v", tc.name, err)
		}
	}
}

func FuzzSplitter(f *testing.F) {
	h := testHeader()
	f.Add(append(append([]byte(nil), h...), unknownCluster(0, block(0, true))...))
	f.Add(h)
	f.Add(append(append([]byte(nil), h...), AppendElement(nil, IDCluster, AppendUint(nil, IDTimecode, 5))...))
	f.Add(append(append(append([]byte(nil), h...), namedTags("GPS", "47N", EndOfFragmentTag, "")...), unknownCluster(0, block(0, true))...))
	f.Fuzz(func(t *testing.T, in []byte) {
		s := NewSplitter(bytes.NewReader(in), 4096)
		for i := 0; i < 1000; i++ {
			c, err := s.Next()
			if err != nil {
				var pe *ParseError
				if !errors.Is(err, io.EOF) && !errors.As(err, &pe) {
					t.Fatalf("unexpected error type %T %v", err, err)
				}
				return
			}
			if len(c.Raw) > 4096+12 {
				t.Fatalf("cluster of %d bytes", len(c.Raw))
			}
			if len(c.Tags) > c.MetaTags || len(c.Tags) > maxKeptTags {
				t.Fatalf("%d tags kept of %d counted", len(c.Tags), c.MetaTags)
			}
		}
	})
}

// TestSplitterMetadataBound: the Tags before one cluster may hold at most
// 4 MiB in all (each within the limit is not enough); more is invalid MKV.
func TestSplitterMetadataBound(t *testing.T) {
	big := namedTags("blob", strings.Repeat("x", 3<<20))
	var in []byte
	in = append(in, testHeader()...)
	in = append(in, big...)
	in = append(in, unknownCluster(0, block(0, true))...)
	in = append(in, big...)
	in = append(in, unknownCluster(1000, block(0, true))...)
	in = append(in, big...)
	in = append(in, big...)
	in = append(in, unknownCluster(2000, block(0, true))...)
	s := NewSplitter(bytes.NewReader(in), 1<<20)
	for i := 0; i < 2; i++ {
		if c, err := s.Next(); err != nil || len(c.Tags) != 1 || len(c.Tags[0].Value) != 3<<20 {
			t.Fatalf("cluster %d: %v", i, err)
		}
	}
	var pe *ParseError
	if _, err := s.Next(); !errors.As(err, &pe) || pe.Code != CodeInvalidMKV {
		t.Fatalf("6 MiB of metadata: %v", err)
	}
}
