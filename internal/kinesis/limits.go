package kinesis

import (
	"sync"
	"time"
)

// AWS per-shard quotas, enforced only with Options.EnforceLimits.
const (
	writeBytesPerSec   = 1 << 20 // 1 MiB/s per shard
	writeRecordsPerSec = 1000
	readBytesPerSec    = 2 << 20 // 2 MiB/s per shard
	readCallsPerSec    = 5
)

// limiter holds token buckets per (stream id, shard index, kind). Buckets
// hold one second of quota, refilled continuously.
type limiter struct {
	now     func() time.Time
	mu      sync.Mutex
	buckets map[limKey]*bucket
}

type limKey struct {
	stream string
	shard  uint32
	kind   uint8 // 0 write bytes, 1 write records, 2 read bytes, 3 read calls
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newLimiter(now func() time.Time) *limiter {
	return &limiter{now: now, buckets: map[limKey]*bucket{}}
}

func rateOf(kind uint8) float64 {
	switch kind {
	case 0:
		return writeBytesPerSec
	case 1:
		return writeRecordsPerSec
	case 2:
		return readBytesPerSec
	}
	return readCallsPerSec
}

// take tries to take n tokens of each (kind, amount) pair atomically.
func (l *limiter) take(stream string, shard uint32, kinds []uint8, amounts []float64) bool {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	bs := make([]*bucket, len(kinds))
	for i, k := range kinds {
		key := limKey{stream, shard, k}
		b := l.buckets[key]
		rate := rateOf(k)
		if b == nil {
			b = &bucket{tokens: rate, last: now}
			l.buckets[key] = b
		}
		if el := now.Sub(b.last).Seconds(); el > 0 {
			b.tokens = min(rate, b.tokens+el*rate)
			b.last = now
		}
		if b.tokens < amounts[i] {
			return false
		}
		bs[i] = b
	}
	for i, b := range bs {
		b.tokens -= amounts[i]
	}
	return true
}

// debt takes tokens without checking (a read's bytes are known only after it).
func (l *limiter) debt(stream string, shard uint32, kind uint8, n float64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if b := l.buckets[limKey{stream, shard, kind}]; b != nil {
		b.tokens -= n
	}
}

func (l *limiter) forget(stream string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for k := range l.buckets {
		if k.stream == stream {
			delete(l.buckets, k)
		}
	}
}
