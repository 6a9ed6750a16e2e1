package exec

import (
	"encoding/binary"
	"errors"
	"math"
)

// enc and dec are the snapshot encoding: unsigned varints, zig-zag signed
// varints, float64 bits as 8 bytes little-endian, and length-prefixed
// strings. Values carry a tag byte (see val).
type enc struct{ b []byte }

func (w *enc) uv(u uint64)   { w.b = binary.AppendUvarint(w.b, u) }
func (w *enc) i64(i int64)   { w.b = binary.AppendVarint(w.b, i) }
func (w *enc) f64(f float64) { w.b = binary.LittleEndian.AppendUint64(w.b, math.Float64bits(f)) }
func (w *enc) str(s string)  { w.uv(uint64(len(s))); w.b = append(w.b, s...) }
func (w *enc) bool(v bool) {
	if v {
		w.b = append(w.b, 1)
	} else {
		w.b = append(w.b, 0)
	}
}

// val writes a value: tag 0 null, 1 scalar (i, f, s), 2 row.
func (w *enc) val(v value) {
	switch {
	case v.null:
		w.b = append(w.b, 0)
	case v.r != nil:
		w.b = append(w.b, 2)
		w.uv(uint64(len(v.row())))
		for _, f := range v.row() {
			w.val(f)
		}
	default:
		w.b = append(w.b, 1)
		w.i64(v.i)
		w.f64(v.f)
		w.str(v.s)
	}
}

var errCorrupt = errors.New("analytics snapshot: corrupt or truncated state")

type dec struct {
	b   []byte
	err error
}

func (r *dec) fail() {
	if r.err == nil {
		r.err = errCorrupt
	}
	r.b = nil
}

func (r *dec) uv() uint64 {
	u, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[n:]
	return u
}

func (r *dec) i64() int64 {
	i, n := binary.Varint(r.b)
	if n <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[n:]
	return i
}

func (r *dec) f64() float64 {
	if len(r.b) < 8 {
		r.fail()
		return 0
	}
	f := math.Float64frombits(binary.LittleEndian.Uint64(r.b))
	r.b = r.b[8:]
	return f
}

func (r *dec) str() string {
	n := r.uv()
	if n > uint64(len(r.b)) {
		r.fail()
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}

func (r *dec) bool() bool {
	if len(r.b) < 1 {
		r.fail()
		return false
	}
	v := r.b[0] != 0
	r.b = r.b[1:]
	return v
}

// count reads a length and checks it against what the remaining bytes
// could hold, so corrupt input cannot trigger a huge allocation.
func (r *dec) count() int {
	n := r.uv()
	if n > uint64(len(r.b)) {
		r.fail()
		return 0
	}
	return int(n)
}

func (r *dec) val() value {
	if len(r.b) < 1 {
		r.fail()
		return nullValue
	}
	tag := r.b[0]
	r.b = r.b[1:]
	switch tag {
	case 0:
		return nullValue
	case 1:
		i := r.i64()
		f := r.f64()
		return value{i: i, f: f, s: r.str()}
	case 2:
		n := r.count()
		row := make([]value, n)
		for k := range row {
			row[k] = r.val()
		}
		return rowValue(row)
	}
	r.fail()
	return nullValue
}
