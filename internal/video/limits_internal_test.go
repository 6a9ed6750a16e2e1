package video

import (
	"bytes"
	"context"
	"io"
	"testing"
	"time"
)

// TestRateReader: 30 MB read at 12.5 MB/s with a one-second burst waits
// (30 − 12.5) / 12.5 = 1.4 s in all (plus at most one 20 ms chunk), in
// chunks rather than byte by byte, and every byte arrives unchanged.
func TestRateReader(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	var slept time.Duration
	waits := 0
	src := make([]byte, 30_000_000)
	for i := range src {
		src[i] = byte(i * 7)
	}
	rr := &rateReader{ctx: context.Background(), r: bytes.NewReader(src), byteRate: byteRate{perSec: putMediaBytesPerS,
		now:   func() time.Time { return now },
		sleep: func(_ context.Context, d time.Duration) error { now = now.Add(d); slept += d; waits++; return nil }}}
	got, err := io.ReadAll(rr)
	if err != nil || !bytes.Equal(got, src) {
		t.Fatalf("read %d bytes, %v", len(got), err)
	}
	if want := 1400 * time.Millisecond; slept < want-time.Millisecond || slept > want+25*time.Millisecond {
		t.Fatalf("waited %v, want %v", slept, want)
	}
	if waits > 100 { // 17.5 MB in 250 kB chunks is 70 waits
		t.Fatalf("%d waits: the reader trickles", waits)
	}
}

// TestRateWriter: GetMedia's output, 55 MB written in 1 MB calls at
// 25 MB/s with a one-second burst, waits (55 − 25) / 25 = 1.2 s in all
// (plus at most one 20 ms chunk) and passes every byte unchanged.
func TestRateWriter(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	var slept time.Duration
	var sink bytes.Buffer
	rw := &rateWriter{ctx: context.Background(), w: &sink, byteRate: byteRate{perSec: getMediaBytesPerS,
		now:   func() time.Time { return now },
		sleep: func(_ context.Context, d time.Duration) error { now = now.Add(d); slept += d; return nil }}}
	src := make([]byte, 55_000_000)
	for i := range src {
		src[i] = byte(i * 13)
	}
	for off := 0; off < len(src); off += 1 << 20 {
		if n, err := rw.Write(src[off:min(off+1<<20, len(src))]); err != nil || n != min(1<<20, len(src)-off) {
			t.Fatalf("write at %d: %d %v", off, n, err)
		}
	}
	if !bytes.Equal(sink.Bytes(), src) {
		t.Fatal("bytes changed")
	}
	if want := 1200 * time.Millisecond; slept < want-time.Millisecond || slept > want+25*time.Millisecond {
		t.Fatalf("waited %v, want %v", slept, want)
	}
}

// TestAdmission: per stream and operation, calls over the rate are
// ClientLimitExceededException and connections over the limit
// ConnectionLimitExceededException; released connections and a passing
// second make room again; other streams are not affected.
func TestAdmission(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	s := &Service{o: Options{Now: func() time.Time { return now }}}
	rel, err := s.admit("GetMediaForFragmentList", "arn-a", 0, fragListConns)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i < fragListConns; i++ {
		if _, err := s.admit("GetMediaForFragmentList", "arn-a", 0, fragListConns); err != nil {
			t.Fatalf("connection %d: %v", i+1, err)
		}
	}
	if _, err := s.admit("GetMediaForFragmentList", "arn-a", 0, fragListConns); err == nil || !bytes.Contains([]byte(err.Error()), []byte("ConnectionLimitExceeded")) {
		t.Fatalf("sixth connection: %v", err)
	}
	if _, err := s.admit("GetMediaForFragmentList", "arn-b", 0, fragListConns); err != nil {
		t.Fatalf("another stream: %v", err)
	}
	rel()
	if _, err := s.admit("GetMediaForFragmentList", "arn-a", 0, fragListConns); err != nil {
		t.Fatalf("after a release: %v", err)
	}
	for i := 0; i < putMediaTPS; i++ {
		r, err := s.admit("PutMedia", "arn-a", putMediaTPS, putMediaConns)
		if err != nil {
			t.Fatalf("call %d: %v", i+1, err)
		}
		r()
	}
	if _, err := s.admit("PutMedia", "arn-a", putMediaTPS, putMediaConns); err == nil || !bytes.Contains([]byte(err.Error()), []byte("ClientLimitExceeded")) {
		t.Fatalf("sixth call: %v", err)
	}
	now = now.Add(time.Second)
	if _, err := s.admit("PutMedia", "arn-a", putMediaTPS, putMediaConns); err != nil {
		t.Fatalf("a second later: %v", err)
	}
}
