package checkpoint

import (
	"os"
	"path/filepath"
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
	p1 := tail.Position{Path: "/var/log/a", Dev: 1, Ino: 2, FP: 3, FPLen: 1024, Offset: 99, ModTime: 5}
	if err := s.Set("kinesis:s:/var/log/a", p1); err != nil {
		t.Fatal(err)
	}
	now = now.Add(6 * 24 * time.Hour)
	if err := s.Set("fh:d:/var/log/b", tail.Position{Path: "/var/log/b", Offset: 1}); err != nil {
		t.Fatal(err)
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
		if _, ok := s2.Get("fh:d:/var/log/b"); !ok {
			t.Errorf("after %v: recent entry dropped", tc.after)
		}
	}
	ents, _ := os.ReadDir(filepath.Dir(path))
	if len(ents) != 1 {
		t.Errorf("temp files left behind: %v", ents)
	}
}

func TestRejectsBadFiles(t *testing.T) {
	for _, data := range []string{"", "{", `{"version":2,"flows":{}}`, `{"version":1,"flows":{"x":{"position":{"offset":-1}}}}`} {
		path := filepath.Join(t.TempDir(), "cp")
		if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := Open(path, 0, nil); err == nil {
			t.Errorf("Open(%q) succeeded", data)
		}
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"version":1,"flows":{"kinesis:s:/a":{"position":{"path":"/a","dev":1,"ino":2,"fingerprint":3,"fingerprintLength":4,"offset":5,"modTimeUnixNano":6},"updated":"2026-01-01T00:00:00Z"}}}`))
	f.Add([]byte(`{"version":1}`))
	f.Add([]byte(`null`))
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
