package shardmap

import (
	"errors"
	"math/bits"
)

// Sequence numbers follow the layout AWS uses (reverse-engineered by
// kinesalite and checked there against real AWS): a 188-bit number written
// as a 56-digit decimal. From the most significant end:
//
//	bits  field            width  meaning
//	184   version              4  always 2
//	148   shardCreateSecs     36  shard creation, epoch seconds
//	144   shardIndexLow        4  low nibble of the shard index
//	 80   position            64  per-shard record position (storage order)
//	 72   reserved             8  0
//	 36   arrivalSecs         36  record arrival, epoch seconds
//	  4   shardIndex          32  shard index
//	  0   version              4  always 2
//
// Within a shard the number grows with the position. The number names its
// shard and the shard's creation time, so a number from another shard or from
// a deleted and re-created stream is recognised as foreign.
type SeqFields struct {
	ShardCreateSecs uint64
	ShardIndex      uint32
	Pos             uint64
	ArrivalSecs     uint64
}

// EndPos is the position encoded in a closed shard's EndingSequenceNumber.
const EndPos = 0x7fffffffffffffff

const mask36 = 1<<36 - 1

// u192 is a 192-bit unsigned integer, w[0] most significant.
type u192 [3]uint64

func (v u192) getBits(lsb, width uint) uint64 {
	var out uint64
	for i := uint(0); i < width; i++ {
		b := lsb + i
		if v[2-b/64]>>(b%64)&1 == 1 {
			out |= 1 << i
		}
	}
	return out
}

// EncodeSeq renders f as a decimal sequence number.
func EncodeSeq(f SeqFields) string {
	var b [64]byte
	return string(AppendSeq(b[:0], f))
}

// AppendSeq appends the decimal sequence number of f to dst.
func AppendSeq(dst []byte, f SeqFields) []byte {
	// Assemble words directly (hot path in GetRecords).
	// w0 = bits 128..191, w1 = bits 64..127, w2 = bits 0..63.
	ix := uint64(f.ShardIndex)
	var v u192
	// w2: bits 0..3 = 2, 4..35 shardIndex, 36..63 low 28 bits of arrival
	v[2] = 2 | ix<<4 | (f.ArrivalSecs&mask36)<<36
	// w1: bits 64..71 = arrival high 8 bits, 72..79 reserved, 80..127 pos low 48 bits
	v[1] = (f.ArrivalSecs&mask36)>>28 | (f.Pos&(1<<48-1))<<16
	// w0: bits 128..143 pos high 16, 144..147 ix low nibble, 148..183 create, 184..187 version
	v[0] = f.Pos>>48 | (ix&0xf)<<16 | (f.ShardCreateSecs&mask36)<<20 | 2<<56
	return appendDecimal(dst, v)
}

// pos1 is 2^80 in decimal: the step between the sequence numbers of
// consecutive positions (the position field starts at bit 80).
const pos1 = "1208925819614629174706176"

// AppendSeqRun appends the sequence numbers of n consecutive positions from
// f.Pos (same shard and arrival second), each followed by a space. The
// first is formatted in full; each next one adds 2^80 in decimal, which is
// far cheaper than a 188-bit division chain.
func AppendSeqRun(dst []byte, f SeqFields, n int) []byte {
	if n <= 0 {
		return dst
	}
	var cur [60]byte
	d := AppendSeq(cur[:0], f)
	for k := 0; k < n; k++ {
		if k > 0 {
			d = addDecimal(d, pos1)
		}
		dst = append(dst, d...)
		dst = append(dst, ' ')
	}
	return dst
}

// addDecimal adds the decimal c to the decimal d in place (d has spare
// capacity for one more digit).
func addDecimal(d []byte, c string) []byte {
	carry := byte(0)
	i, j := len(d)-1, len(c)-1
	for ; i >= 0; i-- {
		x := d[i] - '0' + carry
		if j >= 0 {
			x += c[j] - '0'
			j--
		}
		if x >= 10 {
			x -= 10
			carry = 1
		} else {
			carry = 0
		}
		d[i] = '0' + x
		if j < 0 && carry == 0 {
			return d
		}
	}
	if carry == 1 {
		d = append(d[:1], d...)
		d[0] = '1'
	}
	return d
}

func appendDecimal(dst []byte, v u192) []byte {
	const p = 10000000000000000000 // 10^19
	var chunks [4]uint64
	n := 0
	for v[0] != 0 || v[1] != 0 || v[2] != 0 {
		var r uint64
		v[0], r = bits.Div64(0, v[0], p)
		v[1], r = bits.Div64(r, v[1], p)
		v[2], r = bits.Div64(r, v[2], p)
		chunks[n] = r
		n++
	}
	if n == 0 {
		return append(dst, '0')
	}
	var tmp [20]byte
	for i := n - 1; i >= 0; i-- {
		c := chunks[i]
		j := len(tmp)
		for c > 0 {
			j--
			tmp[j] = byte('0' + c%10)
			c /= 10
		}
		if i != n-1 {
			for len(tmp)-j < 19 {
				j--
				tmp[j] = '0'
			}
		}
		dst = append(dst, tmp[j:]...)
	}
	return dst
}

// ErrBadSeq is returned for a string that is not a sequence number of ours.
var ErrBadSeq = errors.New("invalid sequence number")

// DecodeSeq parses a decimal sequence number.
func DecodeSeq(s string) (SeqFields, error) {
	if len(s) == 0 || len(s) > 57 {
		return SeqFields{}, ErrBadSeq
	}
	var v u192
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return SeqFields{}, ErrBadSeq
		}
		// v = v*10 + d
		carry := uint64(c - '0')
		for w := 2; w >= 0; w-- {
			hi, lo := bits.Mul64(v[w], 10)
			lo, c2 := bits.Add64(lo, carry, 0)
			v[w] = lo
			carry = hi + c2
		}
		if carry != 0 {
			return SeqFields{}, ErrBadSeq
		}
	}
	if v.getBits(0, 4) != 2 || v.getBits(184, 8) != 2 || v.getBits(72, 8) != 0 {
		return SeqFields{}, ErrBadSeq
	}
	f := SeqFields{
		ShardCreateSecs: v.getBits(148, 36),
		ShardIndex:      uint32(v.getBits(4, 32)),
		Pos:             v.getBits(80, 64),
		ArrivalSecs:     v.getBits(36, 36),
	}
	if uint64(f.ShardIndex)&0xf != v.getBits(144, 4) {
		return SeqFields{}, ErrBadSeq
	}
	return f, nil
}
