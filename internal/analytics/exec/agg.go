package exec

import (
	"math"
	"strings"

	"github.com/eddy-streams/eddy/internal/analytics/sql"
)

// aggregator holds one aggregate's state for every group slot in dense
// slices indexed by slot.
type aggregator interface {
	grow(n int)              // make slots [0,n) valid (new ones empty)
	add(slot int32, v value) // fold one input value
	result(slot int32) value
	clear(slot int32) // empty one slot (stagger windows reuse slots)
	reset()           // drop every slot
	save(w *enc, n int)
	load(r *dec, n int) error
}

// aggDef is an aggregate call found in a query.
type aggDef struct {
	call  *sql.Call
	kind  string
	arg   *cexpr // nil for COUNT(*)
	out   Column
	canon string
}

func newAggregator(d *aggDef) aggregator {
	var at Type
	if d.arg != nil {
		at = d.arg.t()
	}
	switch d.kind {
	case "COUNT":
		if d.call.Distinct {
			return &distinctCountAgg{t: at}
		}
		return &countAgg{star: d.arg == nil}
	case "SUM":
		if usesI(at) {
			return &sumIntAgg{}
		}
		return &sumFloatAgg{}
	case "AVG", "VAR_POP", "VAR_SAMP", "STDDEV_POP", "STDDEV_SAMP":
		return &momentAgg{kind: d.kind, intOut: isIntType(at) && d.kind == "AVG"}
	case "MIN", "MAX":
		return &minMaxAgg{max: d.kind == "MAX", t: at}
	case "FIRST_VALUE", "LAST_VALUE":
		return &firstLastAgg{last: d.kind == "LAST_VALUE", ignoreNulls: d.call.IgnoreNulls}
	case "ANY", "SOME", "EVERY":
		return &boolAgg{every: d.kind == "EVERY"}
	}
	return nil
}

// aggOutType is the result type of an aggregate over arg.
func aggOutType(kind string, arg *cexpr) Column {
	switch kind {
	case "COUNT":
		return Column{Type: TypeBigint}
	case "SUM":
		if isIntType(arg.t()) {
			return Column{Type: TypeBigint}
		}
		return Column{Type: TypeDouble}
	case "AVG":
		if isIntType(arg.t()) {
			return Column{Type: arg.t()}
		}
		return Column{Type: TypeDouble}
	case "VAR_POP", "VAR_SAMP", "STDDEV_POP", "STDDEV_SAMP", "EXP_AVG":
		return Column{Type: TypeDouble}
	case "ANY", "SOME", "EVERY":
		return Column{Type: TypeBoolean}
	}
	c := arg.col
	c.Name = ""
	return c
}

type countAgg struct {
	star bool
	n    []int64
}

func (a *countAgg) grow(n int) {
	for len(a.n) < n {
		a.n = append(a.n, 0)
	}
}
func (a *countAgg) add(s int32, v value) {
	if a.star || !v.null {
		a.n[s]++
	}
}
func (a *countAgg) result(s int32) value { return value{i: a.n[s]} }
func (a *countAgg) clear(s int32)        { a.n[s] = 0 }
func (a *countAgg) reset()               { a.n = a.n[:0] }
func (a *countAgg) save(w *enc, n int) {
	for i := 0; i < n; i++ {
		w.i64(a.n[i])
	}
}
func (a *countAgg) load(r *dec, n int) error {
	a.grow(n)
	for i := 0; i < n; i++ {
		a.n[i] = r.i64()
	}
	return r.err
}

type distinctCountAgg struct {
	t    Type
	sets []map[string]struct{}
}

func (a *distinctCountAgg) grow(n int) {
	for len(a.sets) < n {
		a.sets = append(a.sets, nil)
	}
}
func (a *distinctCountAgg) add(s int32, v value) {
	if v.null {
		return
	}
	if a.sets[s] == nil {
		a.sets[s] = map[string]struct{}{}
	}
	a.sets[s][string(appendKey(nil, v, a.t))] = struct{}{}
}
func (a *distinctCountAgg) result(s int32) value { return value{i: int64(len(a.sets[s]))} }
func (a *distinctCountAgg) clear(s int32)        { a.sets[s] = nil }
func (a *distinctCountAgg) reset()               { clear(a.sets); a.sets = a.sets[:0] }
func (a *distinctCountAgg) save(w *enc, n int) {
	for i := 0; i < n; i++ {
		w.uv(uint64(len(a.sets[i])))
		for k := range a.sets[i] {
			w.str(k)
		}
	}
}
func (a *distinctCountAgg) load(r *dec, n int) error {
	a.grow(n)
	for i := 0; i < n; i++ {
		m := int(r.uv())
		if m > 0 {
			a.sets[i] = make(map[string]struct{}, m)
		}
		for j := 0; j < m && r.err == nil; j++ {
			a.sets[i][r.str()] = struct{}{}
		}
	}
	return r.err
}

type sumIntAgg struct {
	sum []int64
	n   []int64
}

func (a *sumIntAgg) grow(n int) {
	for len(a.sum) < n {
		a.sum = append(a.sum, 0)
		a.n = append(a.n, 0)
	}
}
func (a *sumIntAgg) add(s int32, v value) {
	if !v.null {
		a.sum[s] += v.i
		a.n[s]++
	}
}
func (a *sumIntAgg) result(s int32) value {
	if a.n[s] == 0 {
		return nullValue
	}
	return value{i: a.sum[s]}
}
func (a *sumIntAgg) clear(s int32) { a.sum[s], a.n[s] = 0, 0 }
func (a *sumIntAgg) reset()        { a.sum, a.n = a.sum[:0], a.n[:0] }
func (a *sumIntAgg) save(w *enc, n int) {
	for i := 0; i < n; i++ {
		w.i64(a.sum[i])
		w.i64(a.n[i])
	}
}
func (a *sumIntAgg) load(r *dec, n int) error {
	a.grow(n)
	for i := 0; i < n; i++ {
		a.sum[i], a.n[i] = r.i64(), r.i64()
	}
	return r.err
}

type sumFloatAgg struct {
	sum []float64
	n   []int64
}

func (a *sumFloatAgg) grow(n int) {
	for len(a.sum) < n {
		a.sum = append(a.sum, 0)
		a.n = append(a.n, 0)
	}
}
func (a *sumFloatAgg) add(s int32, v value) {
	if !v.null {
		a.sum[s] += v.f
		a.n[s]++
	}
}
func (a *sumFloatAgg) result(s int32) value {
	if a.n[s] == 0 {
		return nullValue
	}
	return value{f: a.sum[s]}
}
func (a *sumFloatAgg) clear(s int32) { a.sum[s], a.n[s] = 0, 0 }
func (a *sumFloatAgg) reset()        { a.sum, a.n = a.sum[:0], a.n[:0] }
func (a *sumFloatAgg) save(w *enc, n int) {
	for i := 0; i < n; i++ {
		w.f64(a.sum[i])
		w.i64(a.n[i])
	}
}
func (a *sumFloatAgg) load(r *dec, n int) error {
	a.grow(n)
	for i := 0; i < n; i++ {
		a.sum[i], a.n[i] = r.f64(), r.i64()
	}
	return r.err
}

// momentAgg computes AVG and the variances with Welford's method. The
// argument arrives as a float (the planner casts integers).
type momentAgg struct {
	kind   string
	intOut bool
	n      []int64
	mean   []float64
	m2     []float64
}

func (a *momentAgg) grow(n int) {
	for len(a.n) < n {
		a.n = append(a.n, 0)
		a.mean = append(a.mean, 0)
		a.m2 = append(a.m2, 0)
	}
}
func (a *momentAgg) add(s int32, v value) {
	if v.null {
		return
	}
	a.n[s]++
	d := v.f - a.mean[s]
	a.mean[s] += d / float64(a.n[s])
	a.m2[s] += d * (v.f - a.mean[s])
}
func (a *momentAgg) result(s int32) value {
	return momentResult(a.kind, a.intOut, a.n[s], a.mean[s], a.m2[s])
}

func momentResult(kind string, intOut bool, n int64, mean, m2 float64) value {
	if n == 0 {
		return nullValue
	}
	switch kind {
	case "AVG":
		if intOut {
			return value{i: int64(mean)}
		}
		return value{f: mean}
	case "VAR_POP":
		return value{f: m2 / float64(n)}
	case "STDDEV_POP":
		return value{f: math.Sqrt(m2 / float64(n))}
	case "VAR_SAMP":
		if n < 2 {
			return nullValue
		}
		return value{f: m2 / float64(n-1)}
	default:
		if n < 2 {
			return nullValue
		}
		return value{f: math.Sqrt(m2 / float64(n-1))}
	}
}
func (a *momentAgg) clear(s int32) { a.n[s], a.mean[s], a.m2[s] = 0, 0, 0 }
func (a *momentAgg) reset()        { a.n, a.mean, a.m2 = a.n[:0], a.mean[:0], a.m2[:0] }
func (a *momentAgg) save(w *enc, n int) {
	for i := 0; i < n; i++ {
		w.i64(a.n[i])
		w.f64(a.mean[i])
		w.f64(a.m2[i])
	}
}
func (a *momentAgg) load(r *dec, n int) error {
	a.grow(n)
	for i := 0; i < n; i++ {
		a.n[i], a.mean[i], a.m2[i] = r.i64(), r.f64(), r.f64()
	}
	return r.err
}

type minMaxAgg struct {
	max  bool
	t    Type
	set  []bool
	vals []value
}

func (a *minMaxAgg) grow(n int) {
	for len(a.set) < n {
		a.set = append(a.set, false)
		a.vals = append(a.vals, value{})
	}
}
func (a *minMaxAgg) add(s int32, v value) {
	if v.null {
		return
	}
	if !a.set[s] {
		a.set[s], a.vals[s] = true, v
		return
	}
	if c := compareValues(v, a.vals[s], a.t); (c > 0) == a.max && c != 0 {
		a.vals[s] = v
	}
}
func (a *minMaxAgg) result(s int32) value {
	if !a.set[s] {
		return nullValue
	}
	return a.vals[s]
}
func (a *minMaxAgg) clear(s int32) { a.set[s], a.vals[s] = false, value{} }
func (a *minMaxAgg) reset()        { a.set, a.vals = a.set[:0], a.vals[:0] }
func (a *minMaxAgg) save(w *enc, n int) {
	for i := 0; i < n; i++ {
		w.bool(a.set[i])
		w.val(a.vals[i])
	}
}
func (a *minMaxAgg) load(r *dec, n int) error {
	a.grow(n)
	for i := 0; i < n; i++ {
		a.set[i], a.vals[i] = r.bool(), r.val()
	}
	return r.err
}

type firstLastAgg struct {
	last, ignoreNulls bool
	set               []bool
	vals              []value
}

func (a *firstLastAgg) grow(n int) {
	for len(a.set) < n {
		a.set = append(a.set, false)
		a.vals = append(a.vals, value{})
	}
}
func (a *firstLastAgg) add(s int32, v value) {
	if v.null && a.ignoreNulls {
		return
	}
	if !a.set[s] || a.last {
		a.set[s], a.vals[s] = true, v
	}
}
func (a *firstLastAgg) result(s int32) value {
	if !a.set[s] {
		return nullValue
	}
	return a.vals[s]
}
func (a *firstLastAgg) clear(s int32) { a.set[s], a.vals[s] = false, value{} }
func (a *firstLastAgg) reset()        { a.set, a.vals = a.set[:0], a.vals[:0] }
func (a *firstLastAgg) save(w *enc, n int) {
	for i := 0; i < n; i++ {
		w.bool(a.set[i])
		w.val(a.vals[i])
	}
}
func (a *firstLastAgg) load(r *dec, n int) error {
	a.grow(n)
	for i := 0; i < n; i++ {
		a.set[i], a.vals[i] = r.bool(), r.val()
	}
	return r.err
}

type boolAgg struct {
	every bool
	st    []int8 // 0 empty, 1 true, 2 false
}

func (a *boolAgg) grow(n int) {
	for len(a.st) < n {
		a.st = append(a.st, 0)
	}
}
func (a *boolAgg) add(s int32, v value) {
	if v.null {
		return
	}
	b := v.i != 0
	cur := a.st[s]
	switch {
	case cur == 0:
		if b {
			a.st[s] = 1
		} else {
			a.st[s] = 2
		}
	case a.every && !b:
		a.st[s] = 2
	case !a.every && b:
		a.st[s] = 1
	}
}
func (a *boolAgg) result(s int32) value {
	if a.st[s] == 0 {
		return nullValue
	}
	return boolVal(a.st[s] == 1)
}
func (a *boolAgg) clear(s int32) { a.st[s] = 0 }
func (a *boolAgg) reset()        { a.st = a.st[:0] }
func (a *boolAgg) save(w *enc, n int) {
	for i := 0; i < n; i++ {
		w.i64(int64(a.st[i]))
	}
}
func (a *boolAgg) load(r *dec, n int) error {
	a.grow(n)
	for i := 0; i < n; i++ {
		a.st[i] = int8(r.i64())
	}
	return r.err
}

// compareValues orders two non-null values of type t.
func compareValues(a, b value, t Type) int {
	switch {
	case usesI(t):
		switch {
		case a.i < b.i:
			return -1
		case a.i > b.i:
			return 1
		}
		return 0
	case isFloatType(t):
		switch {
		case a.f < b.f:
			return -1
		case a.f > b.f:
			return 1
		}
		return 0
	}
	return strings.Compare(a.s, b.s)
}

// appendKey appends a binary encoding of v (type t) for hashing.
func appendKey(buf []byte, v value, t Type) []byte {
	if v.null {
		return append(buf, 0)
	}
	switch {
	case usesI(t):
		u := uint64(v.i)
		return append(buf, 1, byte(u), byte(u>>8), byte(u>>16), byte(u>>24), byte(u>>32), byte(u>>40), byte(u>>48), byte(u>>56))
	case isFloatType(t):
		u := math.Float64bits(v.f)
		return append(buf, 2, byte(u), byte(u>>8), byte(u>>16), byte(u>>24), byte(u>>32), byte(u>>40), byte(u>>48), byte(u>>56))
	case t == typeRow:
		buf = append(buf, 4)
		for _, f := range v.row() {
			buf = appendKey(buf, f, TypeVarchar)
		}
		return buf
	}
	n := len(v.s)
	buf = append(buf, 3, byte(n), byte(n>>8), byte(n>>16), byte(n>>24))
	return append(buf, v.s...)
}
