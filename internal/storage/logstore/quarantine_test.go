package logstore_test

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path"
	"strings"
	"sync"
	"testing"

	"github.com/eddy-streams/eddy/internal/storage"
	"github.com/eddy-streams/eddy/internal/storage/logstore"
	"github.com/eddy-streams/eddy/internal/vfs"
)

// logBuf collects a store's log lines.
type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) { l.mu.Lock(); defer l.mu.Unlock(); return l.b.Write(p) }
func (l *logBuf) String() string              { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

func memRead(t *testing.T, mem *vfs.Mem, name string) []byte {
	t.Helper()
	f, err := mem.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n, _ := f.Size()
	b := make([]byte, n)
	if _, err := f.ReadAt(b, 0); err != nil && n > 0 {
		t.Fatal(err)
	}
	return b
}

func memWrite(t *testing.T, mem *vfs.Mem, name string, off int64, p []byte) {
	t.Helper()
	f, err := mem.OpenFile(name, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(p, off); err != nil {
		t.Fatal(err)
	}
}

func memGlob(t *testing.T, mem *vfs.Mem, dir, suffix string) []string {
	t.Helper()
	ents, err := mem.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		if strings.HasSuffix(e.Name, suffix) || (suffix == ".torn" && strings.Contains(e.Name, ".torn-")) {
			out = append(out, path.Join(dir, e.Name))
		}
	}
	return out
}

const shardDir0 = "/data/shards/s/0000000000"

// crashedMemShard writes 30 three-record batches (frames of 191 bytes) into
// one active segment of shard s/0 on the crashable FS and kills the
// process (every written byte kept, unclean marker left), so the next open
// scans the active segment. It returns the segment's path.
func crashedMemShard(t *testing.T, mode logstore.Mode) (*vfs.Mem, string) {
	t.Helper()
	mem := vfs.NewMem()
	st := openMem(t, mem, logstore.Options{Durability: mode})
	if err := st.CreateShard(bg, sh0, 0); err != nil {
		t.Fatal(err)
	}
	for i := range 30 {
		if _, err := st.Append(bg, sh0, batch(string(rune('a'+i%26)), 3)); err != nil {
			t.Fatal(err)
		}
	}
	crashed := mem.CrashClone(vfs.CrashOptions{KeepAll: true})
	segs := memGlob(t, crashed, shardDir0, ".seg")
	if len(segs) != 1 {
		t.Fatalf("want one (active) segment, have %v", segs)
	}
	if n := len(memRead(t, crashed, segs[0])); n != 32+30*191 {
		t.Fatalf("segment of %d bytes, want %d", n, 32+30*191)
	}
	return crashed, segs[0]
}

// TestActiveSegmentDamage: in the active segment, damage followed by a
// valid frame is corruption (reported, the shard quarantined, nothing cut
// off), while damage with no valid frame after it is a torn tail (cut off
// and kept aside).
func TestActiveSegmentDamage(t *testing.T) {
	const frame = 191
	frameOff := func(i int) int64 { return 32 + int64(i)*frame }
	cases := []struct {
		name    string
		damage  func(t *testing.T, mem *vfs.Mem, seg string)
		corrupt bool
		good    int // records readable before the damage
	}{
		{"bit flip in the middle", func(t *testing.T, mem *vfs.Mem, seg string) {
			b := memRead(t, mem, seg)
			memWrite(t, mem, seg, frameOff(15)+100, []byte{b[frameOff(15)+100] ^ 0x08})
		}, true, 45},
		{"bit flip in a frame length", func(t *testing.T, mem *vfs.Mem, seg string) {
			b := memRead(t, mem, seg)
			memWrite(t, mem, seg, frameOff(12)+2, []byte{b[frameOff(12)+2] ^ 0x40})
		}, true, 36},
		{"zeroed block in the middle", func(t *testing.T, mem *vfs.Mem, seg string) {
			memWrite(t, mem, seg, frameOff(20)+7, make([]byte, 300))
		}, true, 60},
		{"bit flip in the last frame", func(t *testing.T, mem *vfs.Mem, seg string) {
			b := memRead(t, mem, seg)
			memWrite(t, mem, seg, frameOff(29)+60, []byte{b[frameOff(29)+60] ^ 0x01})
		}, false, 87},
		{"garbage after the last frame", func(t *testing.T, mem *vfs.Mem, seg string) {
			memWrite(t, mem, seg, frameOff(30), bytes.Repeat([]byte{0x5a}, 500))
		}, false, 90},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, mode := range []logstore.Mode{logstore.Always, logstore.None} {
				mem, seg := crashedMemShard(t, mode)
				c.damage(t, mem, seg)
				before := memRead(t, mem, seg)

				rep, err := logstore.VerifyFS(mem, "/data")
				if err != nil {
					t.Fatal(err)
				}
				if rep.OK() == c.corrupt || (len(rep.Damaged) == 1) != c.corrupt {
					t.Fatalf("%s: verify says OK=%v damaged=%v, want corruption=%v\n%s", mode, rep.OK(), rep.Damaged, c.corrupt, rep)
				}
				if c.corrupt && (!strings.Contains(rep.String(), "DAMAGED SHARD: shard s/0") || !strings.Contains(rep.String(), "not a torn tail")) {
					t.Fatalf("verify must name the shard and call it corruption:\n%s", rep)
				}

				var logs logBuf
				st, err := logstore.Open("/data", logstore.Options{FS: mem, Durability: mode, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
				if err != nil {
					t.Fatalf("%s: open: %v", mode, err)
				}
				var n int
				next, rerr := st.Read(bg, sh0, 0, storage.ReadLimits{}, func(storage.StoredRecord) bool { n++; return true })
				if c.corrupt && rerr == nil {
					// the records before the damage are served; the read
					// that starts at the damage fails
					if next != uint64(c.good) {
						t.Fatalf("%s: read stopped at %d, want %d", mode, next, c.good)
					}
					_, rerr = st.Read(bg, sh0, next, storage.ReadLimits{}, func(storage.StoredRecord) bool { n++; return true })
					if ch := st.Watch(sh0, next); !isClosed(ch) {
						t.Fatalf("%s: a watcher at the damage is never woken", mode)
					}
				}
				_, aerr := st.Append(bg, sh0, batch("z", 1))
				torn := memGlob(t, mem, shardDir0, ".torn")
				if c.corrupt {
					if n != c.good || !errors.Is(rerr, storage.ErrCorrupt) || !strings.Contains(rerr.Error(), seg) {
						t.Fatalf("%s: read %d records then %v; want %d then ErrCorrupt naming %s", mode, n, rerr, c.good, seg)
					}
					if !errors.Is(aerr, storage.ErrCorrupt) || !strings.Contains(aerr.Error(), "quarantined") {
						t.Fatalf("%s: append to the quarantined shard: %v", mode, aerr)
					}
					if after := memRead(t, mem, seg); !bytes.Equal(after, before) || len(torn) != 0 {
						t.Fatalf("%s: recovery changed the segment (%d -> %d bytes) or cut a tail %v: the valid frames after the damage must stay", mode, len(before), len(after), torn)
					}
					l := logs.String()
					if !strings.Contains(l, "shard quarantined") || !strings.Contains(l, seg) || !strings.Contains(l, fmt.Sprintf("offset=%d", c.good/3*frame+32)) {
						t.Fatalf("%s: log must name the shard, the segment and the offset:\n%s", mode, l)
					}
				} else {
					if n != c.good || rerr != nil || aerr != nil || len(torn) != 1 {
						t.Fatalf("%s: torn tail: read %d records (%v), append %v, kept %v; want %d, nil, nil, one .torn file", mode, n, rerr, aerr, torn, c.good)
					}
				}
				if err := st.Close(); err != nil {
					t.Fatal(err)
				}
				if c.corrupt {
					// A clean close does not launder the damage: the next
					// open finds it again.
					st, err := logstore.Open("/data", logstore.Options{FS: mem, Durability: mode, Logger: quiet})
					if err != nil {
						t.Fatal(err)
					}
					if _, err := st.Append(bg, sh0, batch("z", 1)); !errors.Is(err, storage.ErrCorrupt) {
						t.Fatalf("%s: append after a clean reopen: %v, want ErrCorrupt", mode, err)
					}
					st.Close()
				}
			}
		})
	}
}

// TestQuarantinedShardBesideHealthy: damage to some shards (an unreadable
// state file, a bad segment header, a bad frame in the middle of the
// active segment) quarantines those shards at open instead of failing it;
// the healthy shards read and write, the quarantined ones fail with
// ErrCorrupt naming the shard and the file, and Verify names each of them.
func TestQuarantinedShardBesideHealthy(t *testing.T) {
	mem := vfs.NewMem()
	o := logstore.Options{FS: mem, Logger: quiet, SegmentBytes: 2048} // 10 frames of 191 bytes per segment
	st, err := logstore.Open("/data", o)
	if err != nil {
		t.Fatal(err)
	}
	sid := func(stream string, i uint32) storage.ShardID { return storage.ShardID{Stream: stream, Index: i} }
	ids := []storage.ShardID{sid("s", 0), sid("s", 1), sid("s", 2), sid("s", 3), sid("other", 0)}
	for _, id := range ids {
		if err := st.CreateShard(bg, id, 0); err != nil {
			t.Fatal(err)
		}
		for i := range 25 { // segments of 10, 10 and 5 frames
			if _, err := st.Append(bg, id, batch(string(rune('a'+i)), 3)); err != nil {
				t.Fatal(err)
			}
		}
	}
	mem = mem.CrashClone(vfs.CrashOptions{KeepAll: true})
	o.FS = mem
	dir := func(i int) string { return fmt.Sprintf("/data/shards/s/%010d", i) }
	state1 := dir(1) + "/shard.state"
	b := memRead(t, mem, state1)
	memWrite(t, mem, state1, 20, []byte{b[20] ^ 0xff})
	seg2 := memGlob(t, mem, dir(2), ".seg")[0]
	memWrite(t, mem, seg2, 10, []byte{0xee}) // header base: header CRC fails
	segs3 := memGlob(t, mem, dir(3), ".seg")
	active3 := segs3[len(segs3)-1]
	b = memRead(t, mem, active3)
	memWrite(t, mem, active3, 32+191+40, []byte{b[32+191+40] ^ 0x10}) // 2nd of 5 frames

	rep, err := logstore.VerifyFS(mem, "/data")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"shard s/1 in " + dir(1), "shard s/2 in " + dir(2), "shard s/3 in " + dir(3)}
	if fmt.Sprint(rep.Damaged) != fmt.Sprint(want) {
		t.Fatalf("verify names %q, want %q\n%s", rep.Damaged, want, rep)
	}
	for _, w := range want {
		if !strings.Contains(rep.String(), "DAMAGED SHARD: "+w) {
			t.Fatalf("report does not name %s:\n%s", w, rep)
		}
	}

	var logs logBuf
	o.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	st, err = logstore.Open("/data", o)
	if err != nil {
		t.Fatalf("open with damaged shards: %v (must quarantine them, not fail)", err)
	}
	defer st.Close()
	for _, who := range []string{"stream=s shard=1", "stream=s shard=2", "stream=s shard=3"} {
		if l := logs.String(); !strings.Contains(l, "shard quarantined") || !strings.Contains(l, who) {
			t.Fatalf("no quarantine log line naming %s:\n%s", who, l)
		}
	}
	if s := st.Stats(); s.Corrupt != 3 || s.Shards != 5 {
		t.Fatalf("stats: %+v, want 5 shards of which 3 corrupt", s)
	}

	// healthy shards keep working
	for _, id := range []storage.ShardID{ids[0], ids[4]} {
		if r, err := st.Append(bg, id, batch("z", 2)); err != nil || r.FirstPos != 75 {
			t.Fatalf("append to healthy %v: %+v %v", id, r, err)
		}
		if got := readPKs(t, st, id); len(got) != 77 || !strings.HasSuffix(got, "yyyzz") {
			t.Fatalf("read of healthy %v: %q", id, got)
		}
	}

	// shards whose layout is unknown fail every call, naming shard and file
	for _, c := range []struct {
		id   storage.ShardID
		file string
	}{{ids[1], state1}, {ids[2], seg2}} {
		name := fmt.Sprintf("shard %s/%d", c.id.Stream, c.id.Index)
		check := func(op string, err error) {
			t.Helper()
			if !errors.Is(err, storage.ErrCorrupt) || !strings.Contains(err.Error(), name+" is quarantined") || !strings.Contains(err.Error(), c.file) {
				t.Fatalf("%s on %s: %v; want ErrCorrupt naming the shard and %s", op, name, err, c.file)
			}
		}
		_, err := st.Append(bg, c.id, batch("x", 1))
		check("Append", err)
		_, err = st.Read(bg, c.id, 0, storage.ReadLimits{}, func(storage.StoredRecord) bool { t.Fatal("record from a quarantined shard"); return false })
		check("Read", err)
		_, err = st.Bounds(bg, c.id)
		check("Bounds", err)
		_, err = st.PosAtTime(bg, c.id, 0)
		check("PosAtTime", err)
		check("Trim", st.Trim(bg, c.id, 1<<62))
		check("SealShard", st.SealShard(bg, c.id))
		if !isClosed(st.Watch(c.id, 0)) {
			t.Fatalf("Watch on %s blocks", name)
		}
		if err := st.CreateShard(bg, c.id, 0); !errors.Is(err, storage.ErrExists) {
			t.Fatalf("CreateShard over quarantined %s: %v, want ErrExists", name, err)
		}
	}

	// the shard with a bad active frame serves what precedes the damage
	var n int
	next, err := st.Read(bg, ids[3], 0, storage.ReadLimits{}, func(storage.StoredRecord) bool { n++; return true })
	if err != nil || n != 63 || next != 63 {
		t.Fatalf("read of s/3 up to the damage: %d records, next %d, %v; want 63", n, next, err)
	}
	if _, err := st.Read(bg, ids[3], next, storage.ReadLimits{}, func(storage.StoredRecord) bool { return true }); !errors.Is(err, storage.ErrCorrupt) || !strings.Contains(err.Error(), active3) {
		t.Fatalf("read of s/3 at the damage: %v", err)
	}
	if _, err := st.Append(bg, ids[3], batch("x", 1)); !errors.Is(err, storage.ErrCorrupt) || !strings.Contains(err.Error(), "offset 223") {
		t.Fatalf("append to s/3: %v; want ErrCorrupt naming offset 223", err)
	}
	// retention must not seal the damaged active segment away
	if err := st.Trim(bg, ids[3], 1<<62); err != nil {
		t.Fatalf("trim of s/3: %v", err)
	}
	if after := memRead(t, mem, active3); len(after) != 32+5*191 {
		t.Fatalf("active segment of s/3 now %d bytes: the frames after the damage must stay", len(after))
	}

	// a quarantined shard can still be deleted (its stream deleted)
	if err := st.DeleteShard(bg, ids[1]); err != nil {
		t.Fatalf("delete quarantined shard: %v", err)
	}
	if _, err := st.Bounds(bg, ids[1]); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("bounds after delete: %v", err)
	}
	if err := st.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	rep, err = logstore.VerifyFS(mem, "/data")
	if err != nil || len(rep.Damaged) != 2 || strings.Contains(rep.String(), "s/1 ") {
		t.Fatalf("verify after deleting s/1: %v\n%s", err, rep)
	}
}
