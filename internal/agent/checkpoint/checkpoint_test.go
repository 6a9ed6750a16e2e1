package checkpoint

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/eddy-streams/eddy/internal/agent/tail"
)

func TestRoundTripAndTTL(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "checkpoints")
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	s, err := Open(path, 7*24*time.Hour, clock)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	p1 := tail.Position{Path: "/var/log/a", Dev: 1, Ino: 2, FP: 3, FPLen: 1024, Offset: 99, ModTime: 5}
	if err := s.Set("kinesis:s:/var/log/a", p1); err != nil {
		t.Fatal(err)
	}
	now = now.Add(6 * 24 * time.Hour)
	for i := 0; i < 5; i++ { // several in-place writes, alternating slots
		if err := s.Set("fh:d:/var/log/b", tail.Position{Path: "/var/log/b", Offset: int64(i)}); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		after   time.Duration
		wantOld bool
	}{{0, true}, {2 * 24 * time.Hour, false}}
	for _, tc := range cases {
		s2, err := Open(path, 7*24*time.Hour, func() time.Time { return now.Add(tc.after) })
		if err != nil {
			t.Fatal(err)
		}
		got, ok := s2.Get("kinesis:s:/var/log/a")
		if ok != tc.wantOld || (ok && got != p1) {
			t.Errorf("after %v: Get = %+v, %v; want present=%v", tc.after, got, ok, tc.wantOld)
		}
		if b, ok := s2.Get("fh:d:/var/log/b"); !ok || b.Offset != 4 {
			t.Errorf("after %v: latest entry = %+v, %v; want offset 4", tc.after, b, ok)
		}
		s2.Close()
	}
	ents, _ := os.ReadDir(filepath.Dir(path))
	if len(ents) != 1 {
		t.Errorf("temp files left behind: %v", ents)
	}
}

// A torn write of the newest slot falls back to the previous checkpoint.
func TestTornSlotFallsBack(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cp")
	s, err := Open(path, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := int64(1); i <= 3; i++ {
		if err := s.Set("f", tail.Position{Offset: i}); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	slotSize := int(binary.BigEndian.Uint32(data[12:]))
	// seq 3 lives in slot 1: damage its payload.
	data[headerSize+slotSize+slotHeader+5] ^= 0xff
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(path, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if p, _ := s2.Get("f"); p.Offset != 2 {
		t.Errorf("offset %d after a torn write of the newest slot, want 2", p.Offset)
	}
	// Writing again goes on from there and is readable.
	if err := s2.Set("f", tail.Position{Offset: 9}); err != nil {
		t.Fatal(err)
	}
	s3, err := Open(path, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s3.Close()
	if p, _ := s3.Get("f"); p.Offset != 9 {
		t.Errorf("offset %d, want 9", p.Offset)
	}
}

// A document larger than the slots moves to a bigger file.
func TestGrowsSlots(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cp")
	s, err := Open(path, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	long := "/var/log/" + strings.Repeat("x", 3000)
	for i := 0; i < 20; i++ {
		if err := s.Set(long+string(rune('a'+i)), tail.Position{Path: long, Offset: int64(i)}); err != nil {
			t.Fatal(err)
		}
	}
	s2, err := Open(path, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	for i := 0; i < 20; i++ {
		if p, ok := s2.Get(long + string(rune('a'+i))); !ok || p.Offset != int64(i) {
			t.Fatalf("entry %d: %+v %v", i, p, ok)
		}
	}
}

func TestRejectsBadFiles(t *testing.T) {
	valid := func() []byte {
		path := filepath.Join(t.TempDir(), "cp")
		s, err := Open(path, 0, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Set("f", tail.Position{Offset: 1}); err != nil {
			t.Fatal(err)
		}
		s.Close()
		data, _ := os.ReadFile(path)
		return data
	}
	bothBad := valid()
	ss := int(binary.BigEndian.Uint32(bothBad[12:]))
	bothBad[headerSize+slotHeader] ^= 1
	bothBad[headerSize+ss+slotHeader] ^= 1
	wrongVersion := valid()
	binary.BigEndian.PutUint32(wrongVersion[8:], 9)
	for name, data := range map[string][]byte{
		"empty": nil, "json": []byte(`{"version":1,"flows":{}}`), "both slots damaged": bothBad,
		"version": wrongVersion, "truncated": valid()[:100],
	} {
		path := filepath.Join(t.TempDir(), "cp")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		if s, err := Open(path, 0, nil); err == nil {
			s.Close()
			t.Errorf("%s: Open succeeded", name)
		}
	}
}

func FuzzDecode(f *testing.F) {
	path := filepath.Join(f.TempDir(), "cp")
	s, err := Open(path, 0, nil)
	if err != nil {
		f.Fatal(err)
	}
	for i := int64(0); i < 3; i++ {
		if err := s.Set("kinesis:s:/a", tail.Position{Path: "/a", Dev: 1, Ino: 2, FP: 3, FPLen: 4, Offset: i}); err != nil {
			f.Fatal(err)
		}
	}
	s.Close()
	data, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add(data[:headerSize])
	f.Add([]byte(magic))
	f.Fuzz(func(t *testing.T, data []byte) {
		flows, err := Decode(data)
		if err != nil {
			return
		}
		for id, e := range flows {
			if e.Position.Offset < 0 {
				t.Fatalf("%s: negative offset accepted", id)
			}
		}
	})
}

func BenchmarkSet(b *testing.B) {
	s, err := Open(filepath.Join(b.TempDir(), "cp"), 0, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	for i := 0; i < b.N; i++ {
		if err := s.Set("kinesis:s:/var/log/a", tail.Position{Path: "/var/log/a", Offset: int64(i)}); err != nil {
			b.Fatal(err)
		}
	}
}
