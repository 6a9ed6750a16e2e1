package fragstore

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/eddy-streams/eddy/internal/video/mkv"
)

func hdr(codec string) *mkv.Header {
	var te []byte
	te = mkv.AppendUint(te, mkv.IDTrackNumber, 1)
	te = mkv.AppendUint(te, mkv.IDTrackType, 1)
	te = mkv.AppendString(te, mkv.IDCodecID, codec)
	h := &mkv.Header{
		EBML:   mkv.AppendElement(nil, mkv.IDEBML, mkv.AppendString(nil, 0x4282, "matroska")),
		Info:   mkv.AppendElement(nil, mkv.IDInfo, mkv.AppendUint(nil, mkv.IDTimecodeScale, 1000000)),
		Tracks: mkv.AppendElement(nil, mkv.IDTracks, mkv.AppendElement(nil, mkv.IDTrackEntry, te)),
	}
	p, err := mkv.ParseHeader(h.EBML, h.Info, h.Tracks)
	if err != nil {
		panic(err)
	}
	return p
}

func TestAppendReopenTornTail(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	now := time.UnixMilli(1_700_000_000_000)
	var metas []Meta
	for i := 0; i < 5; i++ {
		h := hdr("V_MPEG4/ISO/AVC")
		if i >= 3 {
			h = hdr("V_MPEGH/ISO/HEVC") // a new header version mid-stream
		}
		m, err := s.Append(h, now.Add(time.Duration(i)*time.Second), now, time.Second, bytes.Repeat([]byte{byte(i)}, 100+i))
		if err != nil {
			t.Fatal(err)
		}
		metas = append(metas, m)
	}
	s.Close()
	// a torn tail: half a frame after the last fragment
	seg := filepath.Join(dir, metas[0].seg.name)
	f, _ := os.OpenFile(seg, os.O_WRONLY|os.O_APPEND, 0)
	f.Write([]byte("KVF1\x40\x00\x00\x00garbage"))
	f.Close()
	st, _ := os.Stat(seg)
	s, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	fr := s.Fragments()
	if len(fr) != 5 {
		t.Fatalf("%d fragments after reopen", len(fr))
	}
	for i, m := range fr {
		h, cl, err := s.Read(m)
		if err != nil || !bytes.Equal(cl, bytes.Repeat([]byte{byte(i)}, 100+i)) || m.Seq != uint64(i+1) {
			t.Fatalf("fragment %d: %v %+v", i, err, m)
		}
		want := "V_MPEG4/ISO/AVC"
		if i >= 3 {
			want = "V_MPEGH/ISO/HEVC"
		}
		if h.TrackList[0].CodecID != want {
			t.Fatalf("fragment %d header %s", i, h.TrackList[0].CodecID)
		}
	}
	st2, _ := os.Stat(seg)
	if st2.Size() >= st.Size() {
		t.Fatal("torn tail not truncated")
	}
	m, err := s.Append(hdr("V_MPEGH/ISO/HEVC"), now.Add(10*time.Second), now, time.Second, []byte("next"))
	// numbers reserved before the reopen are skipped; the ordinal goes on
	if err != nil || m.Seq <= 5 || m.Ord != 6 {
		t.Fatalf("append after reopen: %v %+v", err, m)
	}
}

func TestSegmentsAndTrim(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.segBytes = 1000
	base := time.UnixMilli(1_700_000_000_000)
	for i := 0; i < 20; i++ {
		if _, err := s.Append(hdr("V_MPEG4/ISO/AVC"), base, base.Add(time.Duration(i)*time.Minute), time.Second, make([]byte, 300)); err != nil {
			t.Fatal(err)
		}
	}
	if len(s.segs) < 5 {
		t.Fatalf("%d segments", len(s.segs))
	}
	if err := s.Trim(base.Add(10 * time.Minute)); err != nil {
		t.Fatal(err)
	}
	fr := s.Fragments()
	if fr[0].Server != base.Add(10*time.Minute).UnixMilli() || fr[len(fr)-1].Seq != 20 {
		t.Fatalf("after trim first %d last %d", fr[0].Server, fr[len(fr)-1].Seq)
	}
	// every remaining fragment still reads (its segment repeats the header)
	s.Close()
	s2, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	// a reopen shows the active segment's expired fragments until the next
	// Trim (the service sweeps at start)
	if err := s2.Trim(base.Add(10 * time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got := s2.Fragments(); len(got) != len(fr) {
		t.Fatalf("reopen after trim: %d vs %d", len(got), len(fr))
	}
	for _, m := range s2.Fragments() {
		if _, _, err := s2.Read(m); err != nil {
			t.Fatal(err)
		}
	}
}

// FuzzOpen: any segment file content opens without panic, and every
// fragment the scan accepted reads back, its tags too (seeds: a version-1
// segment written by the old code, and a version-2 one with tags).
func FuzzOpen(f *testing.F) {
	f.Add(frame([]byte{1, 2, 0, 0, 0, 0}))
	f.Add(headerRecord(1, hdr("V_MPEG4/ISO/AVC")))
	if b, err := os.ReadFile("testdata/v1/00000000000000000001.seg"); err == nil {
		f.Add(b)
	}
	dir := f.TempDir()
	s, err := Open(dir)
	if err != nil {
		f.Fatal(err)
	}
	now := time.UnixMilli(1_700_000_000_000)
	s.Append(hdr("V_MPEG4/ISO/AVC"), now, now, time.Second, []byte("c1"), mkv.Tag{Name: "GPS", Value: "47N"}, mkv.Tag{Name: "Motion", Value: ""})
	s.Append(hdr("V_MPEG4/ISO/AVC"), now.Add(time.Second), now, time.Second, []byte("c2"))
	s.Close()
	if b, err := os.ReadFile(filepath.Join(dir, "00000000000000000001.seg")); err == nil {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "00000000000000000001.seg"), b, 0o644)
		s, err := Open(dir)
		if err != nil {
			return
		}
		for _, m := range s.Fragments() {
			_, tags, cl, err := s.ReadTags(m)
			if err != nil {
				t.Fatalf("fragment %d accepted at Open does not read: %v", m.Seq, err)
			}
			if len(tags) != m.Tags || int64(len(cl)) != m.Size {
				t.Fatalf("fragment %d: %d tags, %d bytes; index says %d, %d", m.Seq, len(tags), len(cl), m.Tags, m.Size)
			}
		}
		s.Close()
	})
}

// FuzzDecodeTags: any tag block decodes or is refused without panic, and
// what decodes encodes back to the same bytes.
func FuzzDecodeTags(f *testing.F) {
	f.Add(EncodeTags(nil, []mkv.Tag{{Name: "GPS", Value: "47N"}, {Name: "", Value: "x"}}))
	f.Add([]byte{5, 0, 0, 0, 'a'})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		tags, err := DecodeTags(b)
		if err != nil {
			return
		}
		if got := EncodeTags(nil, tags); !bytes.Equal(got, b) {
			t.Fatalf("re-encoded %x, decoded from %x", got, b)
		}
	})
}

// TestTagsRoundTrip: a fragment's metadata tags are stored with it and read
// back, after a reopen too; Read still returns the cluster alone.
func TestTagsRoundTrip(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	now := time.UnixMilli(1_700_000_000_000)
	want := []mkv.Tag{{Name: "GPS", Value: "47.608013N"}, {Name: "Motion", Value: "true"}, {Name: "empty", Value: ""}}
	if _, err := s.Append(hdr("V_MPEG4/ISO/AVC"), now, now, time.Second, []byte("cluster-1"), want...); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Append(hdr("V_MPEG4/ISO/AVC"), now.Add(time.Second), now, time.Second, []byte("cluster-2")); err != nil {
		t.Fatal(err)
	}
	check := func(s *Store) {
		t.Helper()
		fr := s.Fragments()
		if len(fr) != 2 || fr[0].Tags != 3 || fr[1].Tags != 0 {
			t.Fatalf("index %+v", fr)
		}
		_, tags, cl, err := s.ReadTags(fr[0])
		if err != nil || string(cl) != "cluster-1" || len(tags) != len(want) {
			t.Fatalf("ReadTags: %v %q %v", err, cl, tags)
		}
		for i := range want {
			if tags[i] != want[i] {
				t.Fatalf("tag %d: %+v, want %+v", i, tags[i], want[i])
			}
		}
		if _, cl, err := s.Read(fr[0]); err != nil || string(cl) != "cluster-1" {
			t.Fatalf("Read: %v %q", err, cl)
		}
		if _, tags, cl, err := s.ReadTags(fr[1]); err != nil || string(cl) != "cluster-2" || len(tags) != 0 {
			t.Fatalf("ReadTags untagged: %v %q %v", err, cl, tags)
		}
	}
	check(s)
	s.Close()
	s, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	check(s)
}

// TestReadVersion1: a stream directory written by the code before fragment
// metadata was stored (testdata/v1: three fragments "v1a", "v1b", "v1c",
// record version 1) opens and reads, new fragments with tags are appended
// to it in version 2, and the mixed segment reopens.
func TestReadVersion1(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"00000000000000000001.seg", "reserved"} {
		b, err := os.ReadFile(filepath.Join("testdata/v1", n))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, n), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "00000000000000000001.seg")); len(b) < 13 || b[12] != 1 {
		t.Fatal("fixture is not a version-1 segment")
	}
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	old := func(s *Store) []Meta {
		t.Helper()
		fr := s.Fragments()
		if len(fr) < 3 {
			t.Fatalf("%d fragments from the version-1 fixture", len(fr))
		}
		for i, m := range fr[:3] {
			h, tags, cl, err := s.ReadTags(m)
			if err != nil || string(cl) != "v1"+string(rune('a'+i)) || len(tags) != 0 || m.Tags != 0 {
				t.Fatalf("fragment %d: %v %q %v", i, err, cl, tags)
			}
			if h.TrackList[0].CodecID != "V_MPEG4/ISO/AVC" || m.Seq != uint64(i+1) || m.Duration != 1000 || m.Producer != 1_700_000_000_000+int64(i)*1000 {
				t.Fatalf("fragment %d: %+v %+v", i, h.TrackList, m)
			}
		}
		return fr
	}
	old(s)
	now := time.UnixMilli(1_700_000_010_000)
	m, err := s.Append(hdr("V_MPEG4/ISO/AVC"), now, now, time.Second, []byte("v2"), mkv.Tag{Name: "GPS", Value: "47N"})
	if err != nil {
		t.Fatal(err)
	}
	if m.Seq <= 3 {
		t.Fatalf("new fragment sequence %d", m.Seq)
	}
	s.Close()
	s, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	fr := old(s)
	if len(fr) != 4 {
		t.Fatalf("%d fragments after append", len(fr))
	}
	_, tags, cl, err := s.ReadTags(fr[3])
	if err != nil || string(cl) != "v2" || len(tags) != 1 || tags[0] != (mkv.Tag{Name: "GPS", Value: "47N"}) {
		t.Fatalf("appended fragment: %v %q %v", err, cl, tags)
	}
}

// A sequence handed out by Reserve is never handed out again, whether the
// fragment was stored or not, after a reopen too; stored fragments keep
// consecutive Ords across the gaps.
func TestReserveUniqueAcrossReopen(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	now := time.UnixMilli(1_700_000_000_000)
	seen := map[uint64]bool{}
	var last uint64
	reserve := func(s *Store) uint64 {
		t.Helper()
		seq, err := s.Reserve()
		if err != nil {
			t.Fatal(err)
		}
		if seen[seq] || seq <= last {
			t.Fatalf("Reserve gave %d again or out of order (last %d)", seq, last)
		}
		seen[seq], last = true, seq
		return seq
	}
	a := reserve(s)
	dropped := reserve(s) // a fragment refused after BUFFERING
	b := reserve(s)
	if _, err := s.AppendSeq(a, hdr("V_MPEG4/ISO/AVC"), now, now, time.Second, []byte("a")); err != nil {
		t.Fatal(err)
	}
	mb, err := s.AppendSeq(b, hdr("V_MPEG4/ISO/AVC"), now.Add(time.Second), now, time.Second, []byte("b"))
	if err != nil {
		t.Fatal(err)
	}
	if mb.Seq != b || mb.Ord != 2 {
		t.Fatalf("stored %+v, want seq %d ord 2", mb, b)
	}
	if _, err := s.AppendSeq(dropped, hdr("V_MPEG4/ISO/AVC"), now, now, time.Second, []byte("late")); err == nil {
		t.Fatal("AppendSeq took a sequence below the last stored one")
	}
	if _, err := s.AppendSeq(last+5, hdr("V_MPEG4/ISO/AVC"), now, now, time.Second, []byte("x")); err == nil {
		t.Fatal("AppendSeq took a sequence never reserved")
	}
	unstored := reserve(s) // BUFFERING shown, then the process dies
	s.Close()

	s, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if n := reserve(s); n <= unstored {
		t.Fatalf("after reopen Reserve gave %d, not after %d shown before", n, unstored)
	}
	fr := s.Fragments()
	if len(fr) != 2 || fr[0].Ord != 1 || fr[1].Ord != 2 || fr[1].Seq != b {
		t.Fatalf("after reopen %+v", fr)
	}
	// enough reservations to need a new block, then a reopen again
	for i := 0; i < reserveBlock+3; i++ {
		reserve(s)
	}
	s.Close()
	s, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	reserve(s)
	m, err := s.Append(hdr("V_MPEG4/ISO/AVC"), now.Add(2*time.Second), now, time.Second, []byte("c"))
	if err != nil || m.Seq <= last || m.Ord != 3 {
		t.Fatalf("Append after reopen: %+v %v (last reserved %d)", m, err, last)
	}
	// a damaged reservation file is an error, not a silent restart at 1
	s.Close()
	os.WriteFile(filepath.Join(dir, reservedFile), []byte("garbage"), 0o644)
	if _, err := Open(dir); err == nil {
		t.Fatal("Open accepted a damaged reservation file")
	}
}
