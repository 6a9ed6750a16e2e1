package logstore

import (
	"bytes"
	"testing"

	"github.com/eddy-streams/eddy/internal/storage"
	"github.com/eddy-streams/eddy/internal/vfs"
)

func seedFrames() [][]byte {
	var out [][]byte
	f1 := appendFrame(nil, 0, 1000, []storage.Record{{PartitionKey: "a", Data: []byte("hello")}})
	f2 := appendFrame(nil, 1, 1001, []storage.Record{{PartitionKey: "", Data: nil}, {PartitionKey: "k", Data: bytes.Repeat([]byte{7}, 300)}})
	two := append(append([]byte{}, f1...), f2...)
	out = append(out, f1, two, two[:len(two)-3], []byte{}, []byte{1, 2, 3})
	flip := append([]byte{}, two...)
	flip[40] ^= 0xff
	out = append(out, flip)
	// damage in the first frame with a valid one after it (corruption)
	mid := append([]byte{}, two...)
	mid[36] ^= 0x01
	out = append(out, mid)
	return out
}

// FuzzReadFrames feeds arbitrary bytes as a segment body to the recovery
// scanner and to the frame decoder: no panic, no huge allocation, and what
// is accepted must decode to exactly count records.
func FuzzReadFrames(f *testing.F) {
	for _, s := range seedFrames() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		mem := vfs.NewMem()
		file, _ := mem.Create("/seg")
		file.WriteAt(segHeader{Base: 0}.encode(), 0)
		file.WriteAt(body, segHeaderLen)
		size := int64(segHeaderLen + len(body))
		res := scanSegment(file, 0, size, 64)
		if res.ioErr != nil {
			t.Fatal(res.ioErr)
		}
		if res.err == nil && res.sum.Size != size {
			t.Fatalf("scan stopped at %d of %d without an error", res.sum.Size, size)
		}
		// Everything the scanner accepted reads back through the reader path.
		v := view{seg: &segment{name: "/seg"}, f: file, size: res.sum.Size}
		var n uint64
		err := scanFrames(v, segHeaderLen, 0, func(h frameHeader, fr []byte) bool {
			if err := forEachRecord(fr, h.Count, func(uint32, []byte, []byte) bool { n++; return true }); err != nil {
				t.Fatalf("accepted frame has bad records: %v", err)
			}
			return true
		})
		if err != nil || n != res.sum.Next {
			t.Fatalf("reader: %d records, %v; scanner: %d", n, err, res.sum.Next)
		}
		if len(res.index) > 0 {
			if _, _, err := decodeIndex(encodeIndex(res.sum, res.index)); err != nil {
				t.Fatalf("index built by the scanner does not decode: %v", err)
			}
		}
		// Past a bad frame, evidence of corruption is a whole valid frame
		// in sequence after the damage.
		if res.err != nil {
			at, h, found, err := validFrameAfter(file, res.sum.Size, size, res.sum.Next, res.sum.MaxMs)
			if err != nil {
				t.Fatal(err)
			}
			if found {
				fr := make([]byte, h.Size)
				file.ReadAt(fr, at)
				dh, derr := decodeFrame(fr)
				if at < res.sum.Size || at+int64(h.Size) > size || derr != nil || dh != h ||
					h.Base < res.sum.Next || h.Base-res.sum.Next > uint64(at-res.sum.Size)/2 || h.Ms < res.sum.MaxMs {
					t.Fatalf("evidence frame at %d (%+v, %v) breaks the rule; bad frame at %d, next %d", at, h, derr, res.sum.Size, res.sum.Next)
				}
			}
		}
		// the bare decoder must not panic either
		if h, err := decodeFrame(body); err == nil {
			_ = forEachRecord(body[:h.Size], h.Count, nil)
		}
	})
}

// FuzzReadIndex: arbitrary index files decode or fail cleanly, and what
// decodes re-encodes to the same bytes.
func FuzzReadIndex(f *testing.F) {
	f.Add(encodeIndex(segSummary{Base: 5, Next: 9, Size: 500, MinMs: 1, MaxMs: 2}, []indexEntry{{0, 32, 1}, {3, 300, 2}}))
	f.Add(encodeIndex(segSummary{Base: 0, Next: 0, Size: 32}, nil))
	f.Add([]byte("EDIX"))
	f.Fuzz(func(t *testing.T, b []byte) {
		sum, ents, err := decodeIndex(b)
		if err != nil {
			return
		}
		if !bytes.Equal(encodeIndex(sum, ents), b) {
			t.Fatal("index round trip differs")
		}
	})
}

// FuzzHeaders covers the segment header, shard state and meta decoders.
func FuzzHeaders(f *testing.F) {
	f.Add(segHeader{Base: 7, CreatedMs: 9, ShardTag: 3}.encode())
	f.Add(shardState{ID: storage.ShardID{Stream: "s", Index: 2}, CreatedMs: 5, Trim: 4, Sealed: true}.encode())
	f.Add(encodeMeta([]byte("{}")))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		if h, err := decodeSegHeader(b); err == nil && !bytes.Equal(h.encode(), b[:segHeaderLen]) {
			t.Fatal("segment header round trip differs")
		}
		if s, err := decodeShardState(b); err == nil && !bytes.Equal(s.encode(), b) {
			t.Fatal("shard state round trip differs")
		}
		if m, err := decodeMeta(b); err == nil && !bytes.Equal(encodeMeta(m), b) {
			t.Fatal("meta round trip differs")
		}
	})
}

// FuzzFrameRecords wraps arbitrary record bytes in a frame with a correct
// CRC, so the record parser (not just the checksum) meets hostile input.
func FuzzFrameRecords(f *testing.F) {
	good := appendFrame(nil, 0, 1, []storage.Record{{PartitionKey: "pk", Data: []byte("data")}, {PartitionKey: "", Data: nil}})
	f.Add(uint32(2), good[frameHeaderLen:])
	f.Add(uint32(1), []byte{0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Add(uint32(0), []byte{})
	f.Fuzz(func(t *testing.T, count uint32, recs []byte) {
		fr := make([]byte, frameHeaderLen, frameHeaderLen+len(recs))
		fr = append(fr, recs...)
		le.PutUint32(fr[0:], uint32(len(fr)-4))
		fr[8] = frameVersion
		le.PutUint32(fr[20:], count)
		le.PutUint32(fr[4:], crc(fr[8:]))
		h, err := decodeFrame(fr)
		if err != nil {
			return
		}
		n := uint32(0)
		if err := forEachRecord(fr, h.Count, func(uint32, []byte, []byte) bool { n++; return true }); err == nil && n != count {
			t.Fatalf("parsed %d records, header says %d", n, count)
		}
	})
}
