// Package shardmap is the pure core of Data Streams: hash-key arithmetic and
// routing, shard hash ranges for creation, split and merge, and the codecs of
// sequence numbers and shard iterators. It does no I/O, starts no goroutines
// and reads no clock: callers pass times in.
package shardmap

import (
	"crypto/md5"
	"encoding/binary"
	"errors"
	"math/bits"
)

// HashKey is an unsigned 128-bit hash key (Hi is the most significant half).
type HashKey struct{ Hi, Lo uint64 }

// MaxHashKey is 2^128-1.
var MaxHashKey = HashKey{^uint64(0), ^uint64(0)}

// HashPartitionKey is MD5 of the key's UTF-8 bytes read as a big-endian
// unsigned 128-bit integer, as Kinesis routes records.
func HashPartitionKey(pk string) HashKey {
	sum := md5.Sum([]byte(pk))
	return HashKey{binary.BigEndian.Uint64(sum[:8]), binary.BigEndian.Uint64(sum[8:])}
}

// Cmp returns -1, 0 or 1.
func (a HashKey) Cmp(b HashKey) int {
	switch {
	case a.Hi < b.Hi:
		return -1
	case a.Hi > b.Hi:
		return 1
	case a.Lo < b.Lo:
		return -1
	case a.Lo > b.Lo:
		return 1
	}
	return 0
}

// Add returns a+n (wrapping).
func (a HashKey) Add(n uint64) HashKey {
	lo, c := bits.Add64(a.Lo, n, 0)
	return HashKey{a.Hi + c, lo}
}

// Sub returns a-n (wrapping).
func (a HashKey) Sub(n uint64) HashKey {
	lo, b := bits.Sub64(a.Lo, n, 0)
	return HashKey{a.Hi - b, lo}
}

// String is the decimal form.
func (a HashKey) String() string {
	if a.Hi == 0 {
		return formatUint(a.Lo)
	}
	// split by 10^19
	const p = 10000000000000000000
	var digits [40]byte
	i := len(digits)
	hi, lo := a.Hi, a.Lo
	for hi != 0 || lo != 0 {
		var r uint64
		hi, r = bits.Div64(0, hi, p)
		lo, r = bits.Div64(r, lo, p)
		// emit 19 digits of r (padded unless this is the top chunk)
		for k := 0; k < 19; k++ {
			i--
			digits[i] = byte('0' + r%10)
			r /= 10
			if hi == 0 && lo == 0 && r == 0 {
				break
			}
		}
	}
	return string(digits[i:])
}

func formatUint(v uint64) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			break
		}
	}
	return string(b[i:])
}

var errHashKey = errors.New("not an unsigned 128-bit decimal")

// ParseHashKey parses a decimal in [0, 2^128-1].
func ParseHashKey(s string) (HashKey, error) {
	if s == "" || len(s) > 39 {
		return HashKey{}, errHashKey
	}
	var k HashKey
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return HashKey{}, errHashKey
		}
		// k = k*10 + d
		hiHi, hiLo := bits.Mul64(k.Hi, 10)
		loHi, loLo := bits.Mul64(k.Lo, 10)
		if hiHi != 0 {
			return HashKey{}, errHashKey
		}
		hi, c1 := bits.Add64(hiLo, loHi, 0)
		if c1 != 0 {
			return HashKey{}, errHashKey
		}
		lo, c2 := bits.Add64(loLo, uint64(c-'0'), 0)
		hi, c3 := bits.Add64(hi, 0, c2)
		if c3 != 0 {
			return HashKey{}, errHashKey
		}
		k = HashKey{hi, lo}
	}
	return k, nil
}

// Range is a closed hash-key range [Start, End].
type Range struct{ Start, End HashKey }

// Contains reports whether k is in r.
func (r Range) Contains(k HashKey) bool { return r.Start.Cmp(k) <= 0 && k.Cmp(r.End) <= 0 }

// EvenRanges splits the key space into n contiguous ranges the way Kinesis
// creates a stream: step = floor(2^128 / n), range i = [i*step, (i+1)*step-1],
// the last one ending at 2^128-1.
func EvenRanges(n int) []Range {
	if n <= 0 {
		return nil
	}
	step := divPow128(uint64(n))
	out := make([]Range, n)
	start := HashKey{}
	for i := 0; i < n; i++ {
		end := MaxHashKey
		if i < n-1 {
			end = addKeys(start, step).Sub(1)
		}
		out[i] = Range{start, end}
		start = end.Add(1)
	}
	return out
}

// divPow128 is floor(2^128 / n) for n >= 1 (n == 1 saturates to 2^128-1, and
// then only one range exists so the step is never used).
func divPow128(n uint64) HashKey {
	if n == 1 {
		return MaxHashKey
	}
	// 2^128 / n = ((2^64 * 2^64) / n): do long division on [1, 0, 0].
	qHi, r := bits.Div64(1, 0, n) // (1<<64)/n, valid since 1 < n
	qLo, _ := bits.Div64(r, 0, n)
	return HashKey{qHi, qLo}
}

func addKeys(a, b HashKey) HashKey {
	lo, c := bits.Add64(a.Lo, b.Lo, 0)
	return HashKey{a.Hi + b.Hi + c, lo}
}

// Midpoint is floor((r.Start + r.End) / 2) + 1 rounded so both halves are
// non-empty; used by UpdateShardCount's uniform splits.
func (r Range) Midpoint() HashKey {
	// (s + e) / 2 without overflow: s + (e - s) / 2
	d := subKeys(r.End, r.Start)
	half := HashKey{d.Hi >> 1, d.Lo>>1 | d.Hi<<63}
	return addKeys(r.Start, half).Add(1)
}

func subKeys(a, b HashKey) HashKey {
	lo, br := bits.Sub64(a.Lo, b.Lo, 0)
	return HashKey{a.Hi - b.Hi - br, lo}
}
