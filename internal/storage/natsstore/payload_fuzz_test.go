package natsstore

import (
	"bytes"
	"testing"

	"github.com/eddy-streams/eddy/internal/storage"
)

// FuzzDecode: the record payload decoder never panics, accepts only what it
// can account for byte by byte, and re-encoding what it accepts gives the
// same bytes.
func FuzzDecode(f *testing.F) {
	f.Add(encode(storage.Record{PartitionKey: "pk", Data: []byte("data")}))
	f.Add(encode(storage.Record{}))
	f.Add([]byte{1, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff})
	f.Add([]byte{2})
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := decode(7, b)
		if err != nil {
			return
		}
		if r.Pos != 6 {
			t.Fatalf("position %d for sequence 7", r.Pos)
		}
		again := encode(storage.Record{PartitionKey: string(r.PartitionKey), Data: r.Data})
		copy(again[1:9], b[1:9]) // the arrival time is set by Append, not encode
		if !bytes.Equal(again, b) {
			// a non-minimal uvarint key length decodes but re-encodes shorter
			if len(again) >= len(b) {
				t.Fatalf("re-encoding %x gave %x", b, again)
			}
		}
	})
}

func TestDecodeRejects(t *testing.T) {
	for _, b := range [][]byte{nil, {1}, {2, 0, 0, 0, 0, 0, 0, 0, 0, 0}, {1, 0, 0, 0, 0, 0, 0, 0, 0, 5, 'a'}} {
		if _, err := decode(1, b); err == nil {
			t.Errorf("decode(%x) accepted", b)
		}
	}
}
