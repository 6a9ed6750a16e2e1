package firehose

import "iter"

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
