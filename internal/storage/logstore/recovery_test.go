package logstore_test

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/eddy-streams/eddy/internal/storage"
	"github.com/eddy-streams/eddy/internal/storage/logstore"
)

// fill creates a shard with n batches over several small segments and
// closes the store; it returns the shard directory.
func fill(t *testing.T, dir string, n int) string {
	t.Helper()
	st, err := logstore.Open(dir, logstore.Options{Logger: quiet, SegmentBytes: 2048})
	if err != nil {
		t.Fatal(err)
	}
	st.CreateShard(bg, sh0, 0)
	for i := range n {
		if _, err := st.Append(bg, sh0, batch(string(rune('a'+i%26)), 3)); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, "shards", "s", "0000000000")
}

func segFiles(t *testing.T, dir string) []string {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(dir, "*.seg"))
	if len(m) < 3 {
		t.Fatalf("want several segments, have %d", len(m))
	}
	return m
}

func TestVerifyCleanDir(t *testing.T) {
	dir := t.TempDir()
	fill(t, dir, 40)
	rep, err := logstore.Verify(dir)
	if err != nil || !rep.OK() || rep.Records != 120 || rep.Shards != 1 || rep.Segments < 3 {
		t.Fatalf("verify: %v\n%s", err, rep)
	}
	if !strings.Contains(rep.String(), "OK") {
		t.Fatalf("report text: %s", rep)
	}
}

func TestTornTailCutAndKept(t *testing.T) {
	dir := t.TempDir()
	sd := fill(t, dir, 40)
	segs := segFiles(t, sd)
	active := segs[len(segs)-1]
	// a crash mid-write: half a frame of garbage at the end, unclean marker
	f, _ := os.OpenFile(active, os.O_WRONLY|os.O_APPEND, 0)
	f.Write([]byte{200, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7})
	f.Close()
	os.WriteFile(filepath.Join(dir, "unclean"), nil, 0o644)

	rep, err := logstore.Verify(dir)
	if err != nil || !rep.OK() || !strings.Contains(rep.String(), "torn tail of 11 bytes") {
		t.Fatalf("verify of a torn tail: %v\n%s", err, rep)
	}
	st, err := logstore.Open(dir, logstore.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if got := readPKs(t, st, sh0); len(got) != 120 {
		t.Fatalf("%d records after cutting the torn tail, want 120", len(got))
	}
	if r, err := st.Append(bg, sh0, batch("z", 1)); err != nil || r.FirstPos != 120 {
		t.Fatalf("append after recovery: %+v %v", r, err)
	}
	st.Close()
	torn, _ := filepath.Glob(active + ".torn-*")
	if len(torn) != 1 {
		t.Fatalf("torn bytes not kept aside: %v", torn)
	}
	if b, _ := os.ReadFile(torn[0]); len(b) != 11 {
		t.Fatalf("torn file holds %d bytes, want 11", len(b))
	}
	if rep, err := logstore.Verify(dir); err != nil || !rep.OK() {
		t.Fatalf("verify after recovery: %v\n%s", err, rep)
	}
}

func TestCorruptSealedSegment(t *testing.T) {
	dir := t.TempDir()
	sd := fill(t, dir, 40)
	segs := segFiles(t, sd)
	// flip a byte inside the second frame of the second segment, and drop
	// its index so that recovery has to scan it
	victim := segs[1]
	b, _ := os.ReadFile(victim)
	b[len(b)-20] ^= 0x55
	os.WriteFile(victim, b, 0o644)
	os.Remove(strings.TrimSuffix(victim, ".seg") + ".idx")
	os.WriteFile(filepath.Join(dir, "unclean"), nil, 0o644)

	rep, err := logstore.Verify(dir)
	if err != nil || rep.OK() || !strings.Contains(rep.String(), "sealed segment") {
		t.Fatalf("verify must report the corrupt sealed segment: %v\n%s", err, rep)
	}
	st, err := logstore.Open(dir, logstore.Options{Logger: quiet})
	if err != nil {
		t.Fatalf("open with a corrupt sealed segment: %v", err)
	}
	defer st.Close()
	var n int
	next, err := st.Read(bg, sh0, 0, storage.ReadLimits{}, func(storage.StoredRecord) bool { n++; return true })
	if err != nil || n == 0 || n >= 120 || next != uint64(n) {
		t.Fatalf("read up to the bad frame: %d records, next %d, %v; want the records before it", n, next, err)
	}
	if _, err := st.Read(bg, sh0, next, storage.ReadLimits{}, func(storage.StoredRecord) bool { n++; return true }); !errors.Is(err, storage.ErrCorrupt) || !strings.Contains(err.Error(), victim) {
		t.Fatalf("read from the bad frame: %v; want ErrCorrupt naming %s", err, victim)
	}
	if _, err := st.Append(bg, sh0, batch("x", 1)); !errors.Is(err, storage.ErrCorrupt) {
		t.Fatalf("append to a corrupt shard: %v, want ErrCorrupt", err)
	}
	// Data after the bad segment is still there for readers that skip it.
	bd, _ := st.Bounds(bg, sh0)
	var tail int
	if _, err := st.Read(bg, sh0, bd.Next-3, storage.ReadLimits{}, func(storage.StoredRecord) bool { tail++; return true }); err != nil || tail != 3 {
		t.Fatalf("read of the newest records: %d, %v", tail, err)
	}
}

// Bit rot in a sealed segment whose index is intact is caught by the read
// path's CRC check, not served.
func TestReadDetectsBitRot(t *testing.T) {
	dir := t.TempDir()
	sd := fill(t, dir, 40)
	victim := segFiles(t, sd)[0]
	b, _ := os.ReadFile(victim)
	b[100] ^= 1
	os.WriteFile(victim, b, 0o644)
	st, err := logstore.Open(dir, logstore.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	_, err = st.Read(bg, sh0, 0, storage.ReadLimits{}, func(storage.StoredRecord) bool { return true })
	if !errors.Is(err, storage.ErrCorrupt) {
		t.Fatalf("read over a flipped bit: %v, want ErrCorrupt", err)
	}
}

// A crash while rolling can leave a last segment whose header never made
// it to disk. Open sets it aside and keeps appending to the previous one.
func TestTornRollHeader(t *testing.T) {
	dir := t.TempDir()
	sd := fill(t, dir, 40)
	st, _ := logstore.Open(dir, logstore.Options{Logger: quiet})
	bd, _ := st.Bounds(bg, sh0)
	st.Close()
	bogus := filepath.Join(sd, strings.Repeat("0", 20-len(itoa(bd.Next)))+itoa(bd.Next)+".seg")
	os.WriteFile(bogus, []byte("EDSG\x01\x00garbage"), 0o644)
	os.WriteFile(filepath.Join(dir, "unclean"), nil, 0o644)
	if rep, err := logstore.Verify(dir); err != nil || !rep.OK() || !strings.Contains(rep.String(), "torn header") {
		t.Fatalf("verify: %v\n%s", err, rep)
	}
	st, err := logstore.Open(dir, logstore.Options{Logger: quiet})
	if err != nil {
		t.Fatalf("open with a torn roll: %v", err)
	}
	defer st.Close()
	if r, err := st.Append(bg, sh0, batch("z", 1)); err != nil || r.FirstPos != bd.Next {
		t.Fatalf("append after torn roll: %+v, %v; want position %d", r, err, bd.Next)
	}
	if got := readPKs(t, st, sh0); len(got) != 121 {
		t.Fatalf("%d records, want 121", len(got))
	}
	if kept, _ := filepath.Glob(bogus + ".torn-*"); len(kept) != 1 {
		t.Fatalf("torn segment not kept aside: %v", kept)
	}
}

func itoa(v uint64) string { return strconv.FormatUint(v, 10) }

// Trim persists the horizon, then unlinks segments; the unlinks may reach
// the disk in any order. A segment below the horizon that survives a crash
// while an older one is gone is a leftover, not a gap.
func TestInterruptedTrimLeftover(t *testing.T) {
	dir := t.TempDir()
	sd := fill(t, dir, 40)
	segs := segFiles(t, sd)
	saved, _ := os.ReadFile(segs[1])
	st, err := logstore.Open(dir, logstore.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Trim(bg, sh0, 1<<62); err != nil { // everything
		t.Fatal(err)
	}
	bd, _ := st.Bounds(bg, sh0)
	st.Close()
	os.WriteFile(segs[1], saved, 0o644) // its unlink "did not reach the disk"
	os.WriteFile(filepath.Join(dir, "unclean"), nil, 0o644)
	if rep, err := logstore.Verify(dir); err != nil || !rep.OK() || !strings.Contains(rep.String(), "interrupted trim") {
		t.Fatalf("verify: %v\n%s", err, rep)
	}
	st, err = logstore.Open(dir, logstore.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if bd2, _ := st.Bounds(bg, sh0); bd2 != bd {
		t.Fatalf("bounds %+v, want %+v", bd2, bd)
	}
	if r, err := st.Append(bg, sh0, batch("n", 1)); err != nil || r.FirstPos != bd.Next {
		t.Fatalf("append: %+v %v (a leftover must not mark the shard corrupt)", r, err)
	}
	if _, err := os.Stat(segs[1]); !os.IsNotExist(err) {
		t.Fatalf("leftover segment not removed: %v", err)
	}
}
