package bench

import (
	"math/bits"
	"time"
)

// Histogram is a log-linear latency histogram in the spirit of HdrHistogram:
// durations in nanoseconds, exact below 128 ns, and above that 64 linear
// sub-buckets per power of two, so a reported quantile is within 1/64 (1.6%)
// of the true value. Fixed memory (about 30 KiB), O(1) Record, no
// allocation. Not safe for concurrent use: give each goroutine its own and
// Merge them at the end.
type Histogram struct {
	counts [histBuckets]uint64
	n      uint64
	sum    time.Duration
	min    time.Duration
	max    time.Duration
}

const (
	subBits     = 7 // values below 1<<subBits are exact
	subHalf     = 1 << (subBits - 1)
	histBuckets = (64-subBits)*subHalf + 1<<subBits
)

func bucketOf(v uint64) int {
	if v < 1<<subBits {
		return int(v)
	}
	exp := bits.Len64(v) - subBits // >= 1
	sub := v >> uint(exp)          // in [subHalf, 2*subHalf)
	return exp*subHalf + int(sub)
}

// bucketMid is a representative value of bucket i: its midpoint.
func bucketMid(i int) uint64 {
	if i < 1<<subBits {
		return uint64(i)
	}
	exp := i/subHalf - 1
	sub := uint64(i - exp*subHalf)
	lo := sub << uint(exp)
	return lo + (uint64(1)<<uint(exp))/2
}

// Record adds one duration; negative durations count as zero.
func (h *Histogram) Record(d time.Duration) {
	if d < 0 {
		d = 0
	}
	h.counts[bucketOf(uint64(d))]++
	if h.n == 0 || d < h.min {
		h.min = d
	}
	if d > h.max {
		h.max = d
	}
	h.n++
	h.sum += d
}

// Merge adds every sample of o to h.
func (h *Histogram) Merge(o *Histogram) {
	if o.n == 0 {
		return
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	if h.n == 0 || o.min < h.min {
		h.min = o.min
	}
	if o.max > h.max {
		h.max = o.max
	}
	h.n += o.n
	h.sum += o.sum
}

// Count is the number of recorded samples.
func (h *Histogram) Count() uint64 { return h.n }

// Quantile returns the q-quantile (0 <= q <= 1), clamped to the observed
// min and max; 0 for an empty histogram.
func (h *Histogram) Quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	if q <= 0 {
		return h.min
	}
	if q >= 1 {
		return h.max
	}
	rank := uint64(q*float64(h.n-1)) + 1 // 1-based rank of the sample wanted
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			v := time.Duration(bucketMid(i))
			return min(max(v, h.min), h.max)
		}
	}
	return h.max
}

// Summary condenses h into the figures a report shows.
func (h *Histogram) Summary() Latency {
	l := Latency{Count: h.n}
	if h.n == 0 {
		return l
	}
	l.Mean = ms(h.sum / time.Duration(h.n))
	l.P50 = ms(h.Quantile(0.50))
	l.P90 = ms(h.Quantile(0.90))
	l.P99 = ms(h.Quantile(0.99))
	l.Max = ms(h.max)
	return l
}

// ms converts to fractional milliseconds.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
