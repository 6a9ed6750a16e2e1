package firehose

import (
	"reflect"
	"testing"
)

func TestRecListChunks(t *testing.T) {
	var l recList
	const n = 3*recChunk + 7
	for i := 0; i < n; i++ {
		l.add(lakeRec{pos: uint64(i)})
	}
	if l.len() != n || l.last().pos != n-1 {
		t.Fatalf("len %d last %d", l.len(), l.last().pos)
	}
	next := 0
	for i, r := range l.all() {
		if i != next || r.pos != uint64(i) {
			t.Fatalf("record %d at index %d has pos %d", next, i, r.pos)
		}
		next++
	}
	if next != n {
		t.Fatalf("all yielded %d records, want %d", next, n)
	}
	for _, c := range l.chunks {
		if cap(c) > recChunk {
			t.Fatalf("chunk of capacity %d > %d", cap(c), recChunk)
		}
	}
	if len(l.chunks[0]) != 16 {
		t.Fatalf("first chunk holds %d records, want 16 (small partitions stay small)", len(l.chunks[0]))
	}
}

// TestPartitionSharesKeys: records with the same keys share one map and are
// charged for it once; a record with other keys brings (and is charged
// for) its own.
func TestPartitionSharesKeys(t *testing.T) {
	pt := &partition{}
	a := lakeRec{keys: map[string]string{"c": "x", "d": "2024"}}
	first := pt.share(&a)
	if first != recOverhead+keysBytes(a.keys) || first <= recOverhead+len("cxd2024") {
		t.Fatalf("first record charged %d", first)
	}
	b := lakeRec{keys: map[string]string{"d": "2024", "c": "x"}}
	if got := pt.share(&b); got != recOverhead {
		t.Fatalf("second record charged %d, want %d", got, recOverhead)
	}
	if reflect.ValueOf(b.keys).UnsafePointer() != reflect.ValueOf(a.keys).UnsafePointer() {
		t.Fatal("equal keys not shared")
	}
	c := lakeRec{keys: map[string]string{"c": "y", "d": "2024"}}
	if got := pt.share(&c); got != recOverhead+keysBytes(c.keys) || c.keys["c"] != "y" {
		t.Fatalf("record with other keys charged %d, keys %v", got, c.keys)
	}
	if got := pt.share(&lakeRec{}); got != recOverhead {
		t.Fatalf("record without keys charged %d", got)
	}
}
