package firehose

import (
	"iter"
	"maps"
	"unsafe"
)

// recList holds a partition's records in chunks that double in size up to
// recChunk records: appending never copies what is already there (one
// growing slice of 150,000 records spent a quarter of the loop's time
// reallocating and rescanning itself), and a partition of a few records
// stays small.
type recList struct {
	chunks [][]lakeRec
	n      int
}

const recChunk = 4096

func (l *recList) add(r lakeRec) {
	if k := len(l.chunks); k == 0 || len(l.chunks[k-1]) == cap(l.chunks[k-1]) {
		size := 16
		if k > 0 {
			size = min(2*cap(l.chunks[k-1]), recChunk)
		}
		l.chunks = append(l.chunks, make([]lakeRec, 0, size))
	}
	k := len(l.chunks) - 1
	l.chunks[k] = append(l.chunks[k], r)
	l.n++
}

func (l *recList) len() int { return l.n }

// last is the newest record; the list must not be empty.
func (l *recList) last() *lakeRec {
	c := l.chunks[len(l.chunks)-1]
	return &c[len(c)-1]
}

// all yields every record with its index, oldest first.
func (l *recList) all() iter.Seq2[int, *lakeRec] {
	return func(yield func(int, *lakeRec) bool) {
		i := 0
		for _, c := range l.chunks {
			for j := range c {
				if !yield(i, &c[j]) {
					return
				}
				i++
			}
		}
	}
}

// recOverhead is what a buffered record costs beyond its bytes: its place
// in a chunk.
const recOverhead = int(unsafe.Sizeof(lakeRec{}))

// share makes rec use the partition's keys map when it holds the same keys
// (records of one partition nearly always do: the keys name it), so a
// partition holds one map rather than one per record. It returns the
// bytes rec adds beyond its data: its slot, and a map it brings.
func (pt *partition) share(rec *lakeRec) int {
	if rec.keys == nil {
		return recOverhead
	}
	if pt.keys != nil && maps.Equal(pt.keys, rec.keys) {
		rec.keys = pt.keys
		return recOverhead
	}
	pt.keys = rec.keys
	return recOverhead + keysBytes(rec.keys)
}

// keysBytes estimates a keys map's memory: Go's map header and groups of
// 8 slots of two string headers, plus the strings.
func keysBytes(m map[string]string) int {
	n := 48 + (len(m)+7)/8*(8+8*32)
	for k, v := range m {
		n += len(k) + len(v)
	}
	return n
}
