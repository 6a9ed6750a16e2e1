// Package storagetest is the conformance suite every storage.Backend must
// pass: call Run from a backend's tests (and RunReopen for durable ones).
//
// The suite uses the wall clock: arrival times are assigned by the backend,
// so a backend under test must take its clock from time.Now (or one that
// advances with it). Waiting for a new millisecond is a bounded poll, not a
// sleep.
package storagetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/eddy-streams/eddy/internal/storage"
)

var ctx = context.Background()

// Run runs the conformance suite. open must return a fresh, empty backend;
// the suite closes it (closing twice must be harmless).
func Run(t *testing.T, open func(t *testing.T) storage.Backend) {
	cases := []struct {
		name string
		fn   func(t *testing.T, b storage.Backend)
	}{
		{"AppendRead", testAppendRead},
		{"EmptyAndLargeRecords", testEmptyAndLarge},
		{"AppendKeepsNoBuffers", testAppendKeepsNoBuffers},
		{"Limits", testLimits},
		{"ReadInSteps", testReadInSteps},
		{"ArrivalClamp", testArrivalClamp},
		{"PosAtTime", testPosAtTime},
		{"Bounds", testBounds},
		{"Trim", testTrim},
		{"Seal", testSeal},
		{"CreateDelete", testCreateDelete},
		{"Watch", testWatch},
		{"ConcurrentAppenders", testConcurrent},
		{"Meta", testMeta},
		{"Close", testClose},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := open(t)
			t.Cleanup(func() { b.Close() })
			c.fn(t, b)
		})
	}
}

// ---- helpers ----

func sid(i uint32) storage.ShardID { return storage.ShardID{Stream: "stream-1", Index: i} }

func recs(prefix string, n, size int) []storage.Record {
	out := make([]storage.Record, n)
	for i := range out {
		d := bytes.Repeat([]byte{byte('a' + i%26)}, size)
		copy(d, fmt.Sprintf("%s-%d", prefix, i))
		out[i] = storage.Record{PartitionKey: fmt.Sprintf("pk-%s-%d", prefix, i), Data: d}
	}
	return out
}

type got struct {
	Pos  uint64
	Ms   int64
	PK   string
	Data string
}

func readAll(t *testing.T, b storage.Backend, id storage.ShardID, from uint64, lim storage.ReadLimits) ([]got, uint64) {
	t.Helper()
	var out []got
	next, err := b.Read(ctx, id, from, lim, func(r storage.StoredRecord) bool {
		out = append(out, got{r.Pos, r.ArrivalMs, string(r.PartitionKey), string(r.Data)})
		return true
	})
	if err != nil {
		t.Fatalf("Read(%v, %d): %v", id, from, err)
	}
	return out, next
}

func mustCreate(t *testing.T, b storage.Backend, id storage.ShardID, createdMs int64) {
	t.Helper()
	if err := b.CreateShard(ctx, id, createdMs); err != nil {
		t.Fatalf("CreateShard(%v): %v", id, err)
	}
}

func mustAppend(t *testing.T, b storage.Backend, id storage.ShardID, rs []storage.Record) storage.AppendResult {
	t.Helper()
	res, err := b.Append(ctx, id, rs)
	if err != nil {
		t.Fatalf("Append(%v, %d recs): %v", id, len(rs), err)
	}
	return res
}

func mustBounds(t *testing.T, b storage.Backend, id storage.ShardID) storage.Bounds {
	t.Helper()
	bd, err := b.Bounds(ctx, id)
	if err != nil {
		t.Fatalf("Bounds(%v): %v", id, err)
	}
	return bd
}

func nowMs() int64 { return time.Now().UnixMilli() }

// nextMilli polls the wall clock until it passes ms (bounded).
func nextMilli(t *testing.T, ms int64) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for nowMs() <= ms {
		if time.Now().After(deadline) {
			t.Fatal("wall clock did not advance")
		}
		time.Sleep(100 * time.Microsecond) // yield; the condition is re-checked
	}
}

// appendDistinct appends n batches whose arrival times all differ.
func appendDistinct(t *testing.T, b storage.Backend, id storage.ShardID, n, per int) []storage.AppendResult {
	t.Helper()
	var out []storage.AppendResult
	last := int64(0)
	for i := range n {
		nextMilli(t, last)
		r := mustAppend(t, b, id, recs(fmt.Sprint("b", i), per, 10))
		if i > 0 && r.ArrivalMs <= last {
			t.Fatalf("batch %d arrival %d not after %d: backend clock does not follow the wall clock", i, r.ArrivalMs, last)
		}
		last = r.ArrivalMs
		out = append(out, r)
	}
	return out
}

func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

func waitClosed(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatalf("watch channel not closed after %s", what)
	}
}

// ---- cases ----

func testAppendRead(t *testing.T, b storage.Backend) {
	id := sid(0)
	created := nowMs() - 1000
	mustCreate(t, b, id, created)
	var want []got
	pos := uint64(0)
	lastMs := int64(0)
	for i, n := range []int{1, 3, 2, 500} {
		rs := recs(fmt.Sprint("batch", i), n, 100)
		res := mustAppend(t, b, id, rs)
		if res.FirstPos != pos {
			t.Fatalf("batch %d FirstPos = %d, want %d", i, res.FirstPos, pos)
		}
		if res.ArrivalMs < lastMs || res.ArrivalMs < created {
			t.Fatalf("batch %d arrival %d went backwards (last %d, created %d)", i, res.ArrivalMs, lastMs, created)
		}
		lastMs = res.ArrivalMs
		for j, r := range rs {
			want = append(want, got{pos + uint64(j), res.ArrivalMs, r.PartitionKey, string(r.Data)})
		}
		pos += uint64(n)
	}
	all, next := readAll(t, b, id, 0, storage.ReadLimits{})
	if next != pos || len(all) != len(want) {
		t.Fatalf("read %d records, next %d; want %d, %d", len(all), next, len(want), pos)
	}
	for i := range want {
		if all[i] != want[i] {
			t.Fatalf("record %d = %+v, want %+v", i, all[i], want[i])
		}
	}
	for _, from := range []uint64{1, 4, 5, 505} {
		part, next := readAll(t, b, id, from, storage.ReadLimits{})
		if next != pos || uint64(len(part)) != pos-from || (len(part) > 0 && part[0] != want[from]) {
			t.Fatalf("read from %d: %d records, next %d", from, len(part), next)
		}
	}
	for _, from := range []uint64{pos, pos + 100} {
		part, next := readAll(t, b, id, from, storage.ReadLimits{})
		if len(part) != 0 || next != from {
			t.Fatalf("read from %d past the tip: %d records, next %d", from, len(part), next)
		}
	}
	if _, err := b.Append(ctx, id, nil); err == nil {
		t.Fatal("Append of an empty batch succeeded")
	}
}

// testAppendKeepsNoBuffers: the caller owns its buffers again as soon as
// Append returns. Keys and data are carved from one reused buffer (the keys
// as strings aliasing it, as a zero-copy request decoder makes them); after
// each Append the buffer and the record slice are overwritten, and every
// batch still reads back as it was appended.
func testAppendKeepsNoBuffers(t *testing.T, b storage.Backend) {
	id := sid(0)
	mustCreate(t, b, id, 0)
	buf := make([]byte, 64<<10)
	rs := make([]storage.Record, 8)
	var want []got
	for batch := range 6 {
		size := []int{0, 3, 100, 5000}[batch%4]
		off := 0
		var batchWant []got
		for i := range rs {
			pk := fmt.Sprintf("key-%d-%d", batch, i)
			n := copy(buf[off:], pk)
			key := unsafe.String(&buf[off], n) // aliases buf
			off += n
			data := buf[off : off+size : off+size]
			for j := range data {
				data[j] = byte(batch*31 + i*7 + j)
			}
			off += size
			rs[i] = storage.Record{PartitionKey: key, Data: data}
			batchWant = append(batchWant, got{PK: pk, Data: string(data)})
		}
		res := mustAppend(t, b, id, rs)
		for i := range batchWant {
			batchWant[i].Pos, batchWant[i].Ms = res.FirstPos+uint64(i), res.ArrivalMs
		}
		want = append(want, batchWant...)
		// the caller reuses everything it passed in
		for i := range buf[:off] {
			buf[i] = 0xEE
		}
		for i := range rs {
			rs[i] = storage.Record{PartitionKey: "clobbered", Data: []byte("clobbered")}
		}
	}
	out, _ := readAll(t, b, id, 0, storage.ReadLimits{})
	if len(out) != len(want) {
		t.Fatalf("read %d records, want %d", len(out), len(want))
	}
	for i := range want {
		if out[i] != want[i] {
			t.Fatalf("record %d changed after the caller reused its buffers:\n got pos %d ms %d key %q data %.40q\nwant pos %d ms %d key %q data %.40q",
				i, out[i].Pos, out[i].Ms, out[i].PK, out[i].Data, want[i].Pos, want[i].Ms, want[i].PK, want[i].Data)
		}
	}
}

func testEmptyAndLarge(t *testing.T, b storage.Backend) {
	id := sid(1)
	mustCreate(t, b, id, nowMs())
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	rs := []storage.Record{{PartitionKey: "", Data: nil}, {PartitionKey: "k", Data: big}, {PartitionKey: "x", Data: []byte{}}}
	mustAppend(t, b, id, rs)
	all, _ := readAll(t, b, id, 0, storage.ReadLimits{})
	if len(all) != 3 || all[0].PK != "" || all[0].Data != "" || all[1].Data != string(big) || all[2].PK != "x" || all[2].Data != "" {
		t.Fatalf("round trip of empty and 1 MiB records failed: %d records", len(all))
	}
}

func testLimits(t *testing.T, b storage.Backend) {
	id := sid(2)
	mustCreate(t, b, id, nowMs())
	mustAppend(t, b, id, recs("l", 10, 100)) // each record: ~6-byte key + 100 bytes
	sz := len("pk-l-0") + 100
	cases := []struct {
		name     string
		lim      storage.ReadLimits
		stopAt   int // fn returns false after this many (0: never)
		wantN    int
		wantNext uint64
	}{
		{"no limits", storage.ReadLimits{}, 0, 10, 10},
		{"max records", storage.ReadLimits{MaxRecords: 3}, 0, 3, 3},
		{"max bytes below one record yields one", storage.ReadLimits{MaxBytes: 1}, 0, 1, 1},
		{"max bytes exactly two", storage.ReadLimits{MaxBytes: 2 * sz}, 0, 2, 2},
		{"max bytes just under three", storage.ReadLimits{MaxBytes: 3*sz - 1}, 0, 2, 2},
		{"both, records tighter", storage.ReadLimits{MaxRecords: 4, MaxBytes: 100 * sz}, 0, 4, 4},
		{"callback stops", storage.ReadLimits{}, 1, 1, 1},
	}
	for _, c := range cases {
		n := 0
		next, err := b.Read(ctx, id, 0, c.lim, func(storage.StoredRecord) bool {
			n++
			return c.stopAt == 0 || n < c.stopAt
		})
		if err != nil || n != c.wantN || next != c.wantNext {
			t.Errorf("%s: n=%d next=%d err=%v; want n=%d next=%d", c.name, n, next, err, c.wantN, c.wantNext)
		}
	}
}

func testReadInSteps(t *testing.T, b storage.Backend) {
	id := sid(3)
	mustCreate(t, b, id, nowMs())
	for i := range 20 {
		mustAppend(t, b, id, recs(fmt.Sprint(i), 1+i%7, 50))
	}
	all, tip := readAll(t, b, id, 0, storage.ReadLimits{})
	var stepped []got
	for pos := uint64(0); pos < tip; {
		part, next := readAll(t, b, id, pos, storage.ReadLimits{MaxRecords: 7})
		if len(part) == 0 || next != pos+uint64(len(part)) {
			t.Fatalf("step from %d: %d records, next %d", pos, len(part), next)
		}
		stepped = append(stepped, part...)
		pos = next
	}
	if len(stepped) != len(all) {
		t.Fatalf("stepped read %d records, full read %d", len(stepped), len(all))
	}
	for i := range all {
		if stepped[i] != all[i] || all[i].Pos != uint64(i) {
			t.Fatalf("record %d differs: %+v vs %+v", i, stepped[i], all[i])
		}
	}
}

func testArrivalClamp(t *testing.T, b storage.Backend) {
	id := sid(4)
	future := nowMs() + time.Hour.Milliseconds()
	mustCreate(t, b, id, future)
	for range 3 {
		if r := mustAppend(t, b, id, recs("c", 1, 1)); r.ArrivalMs != future {
			t.Fatalf("arrival %d, want the creation time %d (the floor)", r.ArrivalMs, future)
		}
	}
	if bd := mustBounds(t, b, id); bd.TipMs != future || bd.CreatedMs != future {
		t.Fatalf("bounds %+v", bd)
	}
}

func testPosAtTime(t *testing.T, b storage.Backend) {
	id := sid(5)
	mustCreate(t, b, id, nowMs()-1000)
	if p, err := b.PosAtTime(ctx, id, 0); err != nil || p != 0 {
		t.Fatalf("PosAtTime on empty shard = %d, %v", p, err)
	}
	res := appendDistinct(t, b, id, 5, 3)
	tip := res[len(res)-1].FirstPos + 3
	cases := []struct {
		ms   int64
		want uint64
	}{{0, 0}, {res[len(res)-1].ArrivalMs + 1, tip}}
	for i, r := range res {
		cases = append(cases, struct {
			ms   int64
			want uint64
		}{r.ArrivalMs, r.FirstPos}, struct {
			ms   int64
			want uint64
		}{r.ArrivalMs + 1, r.FirstPos + 3})
		if i > 0 && r.ArrivalMs > res[i-1].ArrivalMs+1 {
			cases = append(cases, struct {
				ms   int64
				want uint64
			}{r.ArrivalMs - 1, r.FirstPos})
		}
	}
	for _, c := range cases {
		if p, err := b.PosAtTime(ctx, id, c.ms); err != nil || p != c.want {
			t.Errorf("PosAtTime(%d) = %d, %v; want %d", c.ms, p, err, c.want)
		}
	}
}

func testBounds(t *testing.T, b storage.Backend) {
	id := sid(6)
	created := nowMs() - 5000
	mustCreate(t, b, id, created)
	if bd := mustBounds(t, b, id); bd != (storage.Bounds{CreatedMs: created}) {
		t.Fatalf("empty shard bounds %+v", bd)
	}
	mustAppend(t, b, id, recs("a", 2, 1))
	r := mustAppend(t, b, id, recs("b", 3, 1))
	want := storage.Bounds{Trim: 0, Next: 5, TipMs: r.ArrivalMs, CreatedMs: created}
	if bd := mustBounds(t, b, id); bd != want {
		t.Fatalf("bounds %+v, want %+v", bd, want)
	}
}

func testTrim(t *testing.T, b storage.Backend) {
	id := sid(7)
	mustCreate(t, b, id, nowMs()-1000)
	res := appendDistinct(t, b, id, 4, 5)
	// Trimming before the first arrival changes nothing.
	if err := b.Trim(ctx, id, res[0].ArrivalMs); err != nil {
		t.Fatal(err)
	}
	if bd := mustBounds(t, b, id); bd.Trim != 0 || bd.Next != 20 {
		t.Fatalf("after no-op trim: %+v", bd)
	}
	if err := b.Trim(ctx, id, res[2].ArrivalMs); err != nil {
		t.Fatal(err)
	}
	bd := mustBounds(t, b, id)
	if bd.Trim != res[2].FirstPos || bd.Next != 20 {
		t.Fatalf("after trim to batch 2: %+v, want trim %d", bd, res[2].FirstPos)
	}
	all, next := readAll(t, b, id, 0, storage.ReadLimits{})
	if len(all) != 10 || all[0].Pos != res[2].FirstPos || next != 20 {
		t.Fatalf("read after trim: %d records from %v, next %d", len(all), all[0].Pos, next)
	}
	if _, next := readAll(t, b, id, 0, storage.ReadLimits{MaxRecords: 1}); next != res[2].FirstPos+1 {
		t.Fatalf("read from 0 after trim: next %d", next)
	}
	if p, _ := b.PosAtTime(ctx, id, 0); p != bd.Trim {
		t.Fatalf("PosAtTime(0) after trim = %d, want the horizon %d", p, bd.Trim)
	}
	// An earlier cutoff never moves the horizon back.
	b.Trim(ctx, id, res[1].ArrivalMs)
	if bd := mustBounds(t, b, id); bd.Trim != res[2].FirstPos {
		t.Fatalf("trim went back: %+v", bd)
	}
	// Trim everything: the window is empty but Next stays.
	if err := b.Trim(ctx, id, nowMs()+time.Hour.Milliseconds()); err != nil {
		t.Fatal(err)
	}
	if bd := mustBounds(t, b, id); bd.Trim != 20 || bd.Next != 20 {
		t.Fatalf("after trimming all: %+v", bd)
	}
	if all, next := readAll(t, b, id, 0, storage.ReadLimits{}); len(all) != 0 || next != 20 {
		t.Fatalf("read after trimming all: %d records, next %d", len(all), next)
	}
	if r := mustAppend(t, b, id, recs("after", 2, 1)); r.FirstPos != 20 {
		t.Fatalf("append after trimming all got position %d, want 20", r.FirstPos)
	}
	if all, _ := readAll(t, b, id, 0, storage.ReadLimits{}); len(all) != 2 || all[0].Pos != 20 {
		t.Fatalf("read after append: %+v", all)
	}
}

func testSeal(t *testing.T, b storage.Backend) {
	id := sid(8)
	mustCreate(t, b, id, nowMs())
	mustAppend(t, b, id, recs("s", 3, 1))
	w := b.Watch(id, 3)
	if isClosed(w) {
		t.Fatal("watch for an unwritten position closed early")
	}
	if err := b.SealShard(ctx, id); err != nil {
		t.Fatal(err)
	}
	waitClosed(t, w, "seal")
	if _, err := b.Append(ctx, id, recs("x", 1, 1)); !errors.Is(err, storage.ErrShardSealed) {
		t.Fatalf("append to sealed shard: %v, want ErrShardSealed", err)
	}
	if err := b.SealShard(ctx, id); err != nil {
		t.Fatalf("sealing twice: %v", err)
	}
	if bd := mustBounds(t, b, id); !bd.Sealed || bd.Next != 3 {
		t.Fatalf("bounds of sealed shard %+v", bd)
	}
	if all, _ := readAll(t, b, id, 0, storage.ReadLimits{}); len(all) != 3 {
		t.Fatalf("read of sealed shard: %d records", len(all))
	}
	if !isClosed(b.Watch(id, 3)) {
		t.Fatal("watch on a sealed shard must be closed")
	}
}

func testCreateDelete(t *testing.T, b storage.Backend) {
	id := sid(9)
	mustCreate(t, b, id, nowMs())
	if err := b.CreateShard(ctx, id, nowMs()); !errors.Is(err, storage.ErrExists) {
		t.Fatalf("second create: %v, want ErrExists", err)
	}
	// other shards and other streams are independent
	other := storage.ShardID{Stream: "stream/2 with odd chars ü", Index: 9}
	mustCreate(t, b, other, nowMs())
	mustAppend(t, b, id, recs("d", 4, 1))
	mustAppend(t, b, other, recs("o", 1, 1))
	w := b.Watch(id, 4)
	if err := b.DeleteShard(ctx, id); err != nil {
		t.Fatal(err)
	}
	waitClosed(t, w, "delete")
	unknown := storage.ShardID{Stream: "nope", Index: 1}
	for _, sh := range []storage.ShardID{id, unknown} {
		if _, err := b.Append(ctx, sh, recs("x", 1, 1)); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("Append(%v): %v, want ErrNotFound", sh, err)
		}
		if _, err := b.Read(ctx, sh, 0, storage.ReadLimits{}, func(storage.StoredRecord) bool { return true }); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("Read(%v): %v, want ErrNotFound", sh, err)
		}
		if _, err := b.Bounds(ctx, sh); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("Bounds(%v): %v, want ErrNotFound", sh, err)
		}
		if _, err := b.PosAtTime(ctx, sh, 0); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("PosAtTime(%v): %v, want ErrNotFound", sh, err)
		}
		if err := b.SealShard(ctx, sh); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("SealShard(%v): %v, want ErrNotFound", sh, err)
		}
		if err := b.Trim(ctx, sh, 0); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("Trim(%v): %v, want ErrNotFound", sh, err)
		}
		if err := b.DeleteShard(ctx, sh); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("DeleteShard(%v): %v, want ErrNotFound", sh, err)
		}
		if !isClosed(b.Watch(sh, 0)) {
			t.Errorf("Watch(%v) of a missing shard must be closed", sh)
		}
	}
	// recreating starts a fresh log
	mustCreate(t, b, id, nowMs())
	if r := mustAppend(t, b, id, recs("new", 1, 1)); r.FirstPos != 0 {
		t.Fatalf("recreated shard starts at %d", r.FirstPos)
	}
	if all, _ := readAll(t, b, id, 0, storage.ReadLimits{}); len(all) != 1 || all[0].PK != "pk-new-0" {
		t.Fatalf("recreated shard holds %+v", all)
	}
	if all, _ := readAll(t, b, other, 0, storage.ReadLimits{}); len(all) != 1 || all[0].PK != "pk-o-0" {
		t.Fatalf("other shard holds %+v", all)
	}
}

func testWatch(t *testing.T, b storage.Backend) {
	id := sid(10)
	mustCreate(t, b, id, nowMs())
	w0 := b.Watch(id, 0)
	if isClosed(w0) {
		t.Fatal("watch on empty shard closed at once")
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		<-w0
	}()
	mustAppend(t, b, id, recs("w", 2, 1))
	waitClosed(t, done, "append")
	if !isClosed(b.Watch(id, 0)) || !isClosed(b.Watch(id, 1)) {
		t.Fatal("watch for a readable position must be closed at once")
	}
	w2 := b.Watch(id, 2)
	if isClosed(w2) {
		t.Fatal("watch for position 2 closed before it exists")
	}
	mustAppend(t, b, id, recs("w", 1, 1))
	waitClosed(t, w2, "second append")
	// Readable means readable: after the wake-up Read sees the record.
	if all, _ := readAll(t, b, id, 2, storage.ReadLimits{}); len(all) != 1 {
		t.Fatalf("after watch fired, read %d records", len(all))
	}
}

func testConcurrent(t *testing.T, b storage.Backend) {
	const shards, writers, perWriter = 4, 8, 40
	for i := range uint32(shards) {
		mustCreate(t, b, sid(100+i), nowMs())
	}
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWriter {
				id := sid(100 + uint32((w+i)%shards))
				n := 1 + (w+i)%5
				rs := make([]storage.Record, n)
				for j := range rs {
					rs[j] = storage.Record{PartitionKey: fmt.Sprintf("w%d", w), Data: fmt.Appendf(nil, "%d.%d", i, j)}
				}
				if _, err := b.Append(ctx, id, rs); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	total := 0
	for i := range uint32(shards) {
		all, next := readAll(t, b, sid(100+i), 0, storage.ReadLimits{})
		if next != uint64(len(all)) {
			t.Fatalf("shard %d: next %d after %d records", i, next, len(all))
		}
		last := map[string][2]int{}
		for p, r := range all {
			if r.Pos != uint64(p) {
				t.Fatalf("shard %d: record %d has position %d", i, p, r.Pos)
			}
			var bi, ri int
			fmt.Sscanf(r.Data, "%d.%d", &bi, &ri)
			prev, seen := last[r.PK]
			if seen && !(bi > prev[0] || (bi == prev[0] && ri == prev[1]+1)) {
				t.Fatalf("shard %d: writer %s out of order: %v after %v", i, r.PK, [2]int{bi, ri}, prev)
			}
			last[r.PK] = [2]int{bi, ri}
		}
		total += len(all)
	}
	want := 0
	for w := range writers {
		for i := range perWriter {
			want += 1 + (w+i)%5
		}
	}
	if total != want {
		t.Fatalf("read %d records in total, appended %d", total, want)
	}
}

func testMeta(t *testing.T, b storage.Backend) {
	if blob, err := b.LoadMeta("kinesis"); err != nil || blob != nil {
		t.Fatalf("LoadMeta before save = %q, %v", blob, err)
	}
	if err := b.SaveMeta("kinesis", []byte("v1")); err != nil {
		t.Fatal(err)
	}
	if err := b.SaveMeta("firehose", []byte("other")); err != nil {
		t.Fatal(err)
	}
	big := bytes.Repeat([]byte{0, 1, 2, 255}, 1<<18)
	if err := b.SaveMeta("kinesis", big); err != nil {
		t.Fatal(err)
	}
	if blob, err := b.LoadMeta("kinesis"); err != nil || !bytes.Equal(blob, big) {
		t.Fatalf("LoadMeta after overwrite: %d bytes, %v", len(blob), err)
	}
	if blob, err := b.LoadMeta("firehose"); err != nil || string(blob) != "other" {
		t.Fatalf("LoadMeta(firehose) = %q, %v", blob, err)
	}
	// the caller's slice is not retained
	in := []byte("mutable")
	b.SaveMeta("x/y", in)
	in[0] = 'X'
	if blob, _ := b.LoadMeta("x/y"); string(blob) != "mutable" {
		t.Fatalf("meta aliases the caller's buffer: %q", blob)
	}
}

func testClose(t *testing.T, b storage.Backend) {
	id := sid(11)
	mustCreate(t, b, id, nowMs())
	mustAppend(t, b, id, recs("c", 1, 1))
	w := b.Watch(id, 1)
	if err := b.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	waitClosed(t, w, "Close")
	checks := map[string]error{}
	_, checks["Append"] = b.Append(ctx, id, recs("x", 1, 1))
	_, checks["Read"] = b.Read(ctx, id, 0, storage.ReadLimits{}, func(storage.StoredRecord) bool { return true })
	_, checks["Bounds"] = b.Bounds(ctx, id)
	_, checks["PosAtTime"] = b.PosAtTime(ctx, id, 0)
	checks["CreateShard"] = b.CreateShard(ctx, sid(12), 0)
	checks["SealShard"] = b.SealShard(ctx, id)
	checks["Trim"] = b.Trim(ctx, id, 0)
	checks["DeleteShard"] = b.DeleteShard(ctx, id)
	checks["SaveMeta"] = b.SaveMeta("k", []byte("x"))
	_, checks["LoadMeta"] = b.LoadMeta("k")
	for op, err := range checks {
		if !errors.Is(err, storage.ErrClosed) {
			t.Errorf("%s after Close: %v, want ErrClosed", op, err)
		}
	}
	if !isClosed(b.Watch(id, 5)) {
		t.Error("Watch after Close must return a closed channel")
	}
}
