package kpl

import (
	"bytes"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	cases := [][]Record{
		{{PartitionKey: "a", Data: []byte("one")}},
		{{PartitionKey: "a", Data: []byte("one")}, {PartitionKey: "b", ExplicitHashKey: "123", Data: []byte("two")}, {PartitionKey: "a", Data: nil}},
	}
	for i, recs := range cases {
		agg := Aggregate(recs)
		got, ok := Deaggregate(agg)
		if !ok || len(got) != len(recs) {
			t.Fatalf("case %d: ok=%v len=%d", i, ok, len(got))
		}
		for j := range recs {
			if got[j].PartitionKey != recs[j].PartitionKey || got[j].ExplicitHashKey != recs[j].ExplicitHashKey || !bytes.Equal(got[j].Data, recs[j].Data) {
				t.Errorf("case %d rec %d: got %+v want %+v", i, j, got[j], recs[j])
			}
		}
	}
}

func TestNotAggregate(t *testing.T) {
	good := Aggregate([]Record{{PartitionKey: "k", Data: []byte("x")}})
	badMD5 := append([]byte(nil), good...)
	badMD5[len(badMD5)-1] ^= 1
	for name, b := range map[string][]byte{
		"plain":   []byte("hello world, not aggregated"),
		"short":   Magic,
		"bad md5": badMD5,
		"empty":   nil,
	} {
		if _, ok := Deaggregate(b); ok {
			t.Errorf("%s: treated as aggregate", name)
		}
	}
}

func FuzzDeaggregate(f *testing.F) {
	f.Add(Aggregate([]Record{{PartitionKey: "a", Data: []byte("x")}, {PartitionKey: "b", ExplicitHashKey: "9", Data: []byte("yy")}}))
	f.Add([]byte("plain"))
	f.Add(append(append([]byte(nil), Magic...), make([]byte, 20)...))
	f.Fuzz(func(t *testing.T, b []byte) {
		recs, ok := Deaggregate(b)
		if !ok {
			return
		}
		again, ok := Deaggregate(Aggregate(recs))
		if !ok || len(again) != len(recs) {
			t.Fatalf("re-aggregate: ok=%v %d vs %d", ok, len(again), len(recs))
		}
	})
}
