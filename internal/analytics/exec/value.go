package exec

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// Internal expression types beyond the column types.
const (
	typeNull Type = 200 + iota
	typeInterval
	typeRow
	typeCursor
)

// value is one SQL value during evaluation. Which field holds it follows
// the expression's static type: i for integers, BOOLEAN, DATE, TIME,
// TIMESTAMP and INTERVAL (ms); f for REAL, DOUBLE and DECIMAL; s for
// character and binary strings; r for ROW values.
type value struct {
	i    int64
	f    float64
	s    string
	r    *[]value // ROW values only: a pointer keeps value small (48 bytes)
	null bool
}

func rowValue(r []value) value { return value{r: &r} }

// row returns the fields of a ROW value (nil for other values).
func (v value) row() []value {
	if v.r == nil {
		return nil
	}
	return *v.r
}

var nullValue = value{null: true}

func isIntType(t Type) bool {
	switch t {
	case TypeTinyint, TypeSmallint, TypeInteger, TypeBigint:
		return true
	}
	return false
}
func isFloatType(t Type) bool { return t == TypeReal || t == TypeDouble || t == TypeDecimal }
func isNumeric(t Type) bool   { return isIntType(t) || isFloatType(t) }
func isStrType(t Type) bool   { return t == TypeVarchar || t == TypeChar }
func isBinType(t Type) bool   { return t == TypeBinary || t == TypeVarbinary }
func isTimeLike(t Type) bool  { return t == TypeDate || t == TypeTime || t == TypeTimestamp }

// usesI reports whether values of t live in value.i / Vector.I64.
func usesI(t Type) bool {
	return isIntType(t) || t == TypeBoolean || isTimeLike(t) || t == typeInterval
}

var pow10 = [...]float64{1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19}

func scaleOf(c Column) float64 {
	if c.Scale >= 0 && c.Scale < len(pow10) {
		return pow10[c.Scale]
	}
	return 1
}

// getVal reads row i of v, whose column is c.
func getVal(v *Vector, c *Column, i int) value {
	if v.Null != nil && i < len(v.Null) && v.Null[i] {
		return nullValue
	}
	switch {
	case c.Type == TypeDecimal:
		return value{f: float64(v.I64[i]) / scaleOf(*c)}
	case usesI(c.Type):
		return value{i: v.I64[i]}
	case isFloatType(c.Type):
		return value{f: v.F64[i]}
	case isStrType(c.Type):
		return value{s: v.Str[i]}
	case isBinType(c.Type):
		return value{s: string(v.Bin[i])}
	}
	return nullValue
}

// appendVal appends x to v (column c). x must already be of c's type.
func appendVal(v *Vector, c *Column, x value) {
	n := vecLen(v, c.Type)
	if x.null {
		if v.Null == nil {
			v.Null = make([]bool, n, n+16)
		}
		v.Null = append(v.Null, true)
	} else if v.Null != nil {
		v.Null = append(v.Null, false)
	}
	switch {
	case c.Type == TypeDecimal:
		v.I64 = append(v.I64, int64(math.Round(x.f*scaleOf(*c))))
	case usesI(c.Type):
		v.I64 = append(v.I64, x.i)
	case isFloatType(c.Type):
		v.F64 = append(v.F64, x.f)
	case isStrType(c.Type):
		v.Str = append(v.Str, x.s)
	case isBinType(c.Type):
		if x.null {
			v.Bin = append(v.Bin, nil)
		} else {
			v.Bin = append(v.Bin, []byte(x.s))
		}
	}
}

func vecLen(v *Vector, t Type) int {
	switch {
	case usesI(t) || t == TypeDecimal:
		return len(v.I64)
	case isFloatType(t):
		return len(v.F64)
	case isStrType(t):
		return len(v.Str)
	case isBinType(t):
		return len(v.Bin)
	}
	return 0
}

func truncVec(v *Vector, n int) {
	if v.Null != nil {
		v.Null = v.Null[:n]
	}
	switch {
	case len(v.I64) > n:
		v.I64 = v.I64[:n]
	case len(v.F64) > n:
		v.F64 = v.F64[:n]
	case len(v.Str) > n:
		clear(v.Str[n:])
		v.Str = v.Str[:n]
	case len(v.Bin) > n:
		v.Bin = v.Bin[:n]
	}
}

func resetVec(v *Vector) {
	v.Null = nil
	v.I64 = v.I64[:0]
	v.F64 = v.F64[:0]
	clear(v.Str)
	v.Str = v.Str[:0]
	v.Bin = v.Bin[:0]
}

// builder accumulates rows of a batch with a fixed schema.
type builder struct {
	cols []Column
	b    Batch
}

func newBuilder(cols []Column) *builder {
	bd := &builder{cols: cols}
	bd.b.Cols = make([]Vector, len(cols))
	for i, c := range cols {
		bd.b.Cols[i].Type = c.Type
	}
	return bd
}

func (bd *builder) reset() {
	bd.b.Len = 0
	bd.b.RowTime = bd.b.RowTime[:0]
	for i := range bd.b.Cols {
		resetVec(&bd.b.Cols[i])
	}
}

func (bd *builder) truncate(n int) {
	bd.b.Len = n
	bd.b.RowTime = bd.b.RowTime[:n]
	for i := range bd.b.Cols {
		truncVec(&bd.b.Cols[i], n)
	}
}

// appendRow appends a row from vals (one per column).
func (bd *builder) appendRow(rt int64, vals []value) {
	bd.b.RowTime = append(bd.b.RowTime, rt)
	for k := range bd.cols {
		appendVal(&bd.b.Cols[k], &bd.cols[k], vals[k])
	}
	bd.b.Len++
}

// copyRow appends row i of src (same schema prefix starting at column off
// of bd) — used by joins and buffers.
func (bd *builder) copyFrom(off int, src *Batch, srcCols []Column, i int) {
	for k := range srcCols {
		dc, sc := &bd.cols[off+k], &srcCols[k]
		d, s := &bd.b.Cols[off+k], &src.Cols[k]
		if dc.Type != sc.Type || dc.Scale != sc.Scale {
			appendVal(d, dc, getVal(s, sc, i))
			continue
		}
		// Same type: copy the slot as is (a NULL row's slot holds a zero).
		var n int
		switch {
		case usesI(dc.Type) || dc.Type == TypeDecimal:
			n = len(d.I64)
			d.I64 = append(d.I64, s.I64[i])
		case isFloatType(dc.Type):
			n = len(d.F64)
			d.F64 = append(d.F64, s.F64[i])
		case isStrType(dc.Type):
			n = len(d.Str)
			d.Str = append(d.Str, s.Str[i])
		default:
			n = len(d.Bin)
			d.Bin = append(d.Bin, s.Bin[i])
		}
		switch {
		case s.Null != nil && s.Null[i]:
			if d.Null == nil {
				d.Null = make([]bool, n, n+16)
			}
			d.Null = append(d.Null, true)
		case d.Null != nil:
			d.Null = append(d.Null, false)
		}
	}
}

func (bd *builder) appendNulls(off, n int) {
	for k := off; k < off+n; k++ {
		appendVal(&bd.b.Cols[k], &bd.cols[k], nullValue)
	}
}

// --- conversions -----------------------------------------------------

const msPerDay = 86_400_000

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func formatTimestamp(ms int64) string {
	return time.UnixMilli(ms).UTC().Format("2006-01-02 15:04:05.000")
}
func formatDate(days int64) string {
	return time.UnixMilli(days * msPerDay).UTC().Format("2006-01-02")
}
func formatTime(ms int64) string {
	return time.UnixMilli(ms).UTC().Format("15:04:05.000")
}

var tsLayouts = []string{
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02T15:04:05.999999999Z07:00",
	"2006-01-02 15:04",
	"2006-01-02T15:04",
	"2006-01-02",
}

// parseTimestamp accepts the datetime forms AWS documents for coercion
// ('1992-02-14', '1992-02-14 18:35:44.0') and ISO-8601 with a T and up to
// nanoseconds.
func parseTimestamp(s string) (int64, bool) {
	s = strings.TrimSpace(s)
	for _, l := range tsLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UnixMilli(), true
		}
	}
	return 0, false
}

func parseTimeOfDay(s string) (int64, bool) {
	s = strings.TrimSpace(s)
	for _, l := range []string{"15:04:05.999999999", "15:04"} {
		if t, err := time.Parse(l, s); err == nil {
			return int64(t.Hour())*3_600_000 + int64(t.Minute())*60_000 + int64(t.Second())*1000 + int64(t.Nanosecond()/1e6), true
		}
	}
	return 0, false
}

// toString renders x (of type t) as SQL would cast it to VARCHAR.
func toString(x value, t Type) string {
	switch {
	case t == TypeBoolean:
		if x.i != 0 {
			return "TRUE"
		}
		return "FALSE"
	case isIntType(t):
		return strconv.FormatInt(x.i, 10)
	case t == TypeReal:
		return strconv.FormatFloat(x.f, 'G', -1, 32)
	case isFloatType(t):
		return formatFloat(x.f)
	case t == TypeTimestamp:
		return formatTimestamp(x.i)
	case t == TypeDate:
		return formatDate(x.i)
	case t == TypeTime:
		return formatTime(x.i)
	case t == typeInterval:
		return strconv.FormatInt(x.i, 10)
	case t == typeRow:
		parts := make([]string, len(x.row()))
		for i, f := range x.row() {
			parts[i] = f.s
		}
		return "(" + strings.Join(parts, ",") + ")"
	}
	return x.s
}

func formatFloat(f float64) string {
	if f == math.Trunc(f) && math.Abs(f) < 1e15 {
		return strconv.FormatFloat(f, 'f', 1, 64)
	}
	return strconv.FormatFloat(f, 'G', -1, 64)
}

// convertErr describes a failed conversion.
type convertErr struct{ msg string }

func (e *convertErr) Error() string { return e.msg }

// convert casts x from type from to column type to (with size for
// character types). Character values longer than a VARCHAR are silently
// truncated, as AWS does on input coercion.
func convert(x value, from Type, to Column) (value, error) {
	if x.null {
		return nullValue, nil
	}
	if from == to.Type && !isStrType(to.Type) {
		if to.Type == TypeReal {
			x.f = float64(float32(x.f))
		}
		return x, nil
	}
	fail := func() (value, error) {
		return nullValue, &convertErr{"Cannot convert " + quoteVal(x, from) + " to " + typeString(to)}
	}
	switch {
	case isIntType(to.Type):
		var n int64
		switch {
		case usesI(from) && from != TypeDate && from != TypeTime:
			n = x.i
		case isFloatType(from):
			if math.IsNaN(x.f) || math.Abs(x.f) > 9.2e18 {
				return fail()
			}
			n = int64(math.Trunc(x.f))
			if to.Type != TypeBigint && float64(n) != x.f {
				n = int64(math.Round(x.f))
			}
		case isStrType(from):
			v, err := strconv.ParseInt(strings.TrimSpace(x.s), 10, 64)
			if err != nil {
				f, ferr := strconv.ParseFloat(strings.TrimSpace(x.s), 64)
				if ferr != nil || f != math.Trunc(f) {
					return fail()
				}
				v = int64(f)
			}
			n = v
		default:
			return fail()
		}
		lo, hi := intRange(to.Type)
		if n < lo || n > hi {
			return nullValue, &convertErr{"Value " + strconv.FormatInt(n, 10) + " out of range for " + typeString(to)}
		}
		return value{i: n}, nil
	case isFloatType(to.Type):
		var f float64
		switch {
		case isFloatType(from):
			f = x.f
		case usesI(from) && from != TypeDate && from != TypeTime && from != TypeTimestamp:
			f = float64(x.i)
		case isStrType(from):
			v, err := strconv.ParseFloat(strings.TrimSpace(x.s), 64)
			if err != nil {
				return fail()
			}
			f = v
		default:
			return fail()
		}
		if to.Type == TypeReal {
			f = float64(float32(f))
		}
		if to.Type == TypeDecimal && to.Scale >= 0 && to.Scale < len(pow10) {
			f = math.Round(f*pow10[to.Scale]) / pow10[to.Scale]
		}
		return value{f: f}, nil
	case to.Type == TypeBoolean:
		switch {
		case usesI(from) && !isTimeLike(from):
			if x.i != 0 {
				return value{i: 1}, nil
			}
			return value{i: 0}, nil
		case isFloatType(from):
			if x.f != 0 {
				return value{i: 1}, nil
			}
			return value{i: 0}, nil
		case isStrType(from):
			switch strings.ToUpper(strings.TrimSpace(x.s)) {
			case "TRUE":
				return value{i: 1}, nil
			case "FALSE":
				return value{i: 0}, nil
			}
		}
		return fail()
	case isStrType(to.Type):
		s := toString(x, from)
		if to.Size > 0 && len(s) > to.Size {
			s = truncRunes(s, to.Size)
		}
		if to.Type == TypeChar && to.Size > 0 && len(s) < to.Size {
			s += strings.Repeat(" ", to.Size-len(s))
		}
		return value{s: s}, nil
	case isBinType(to.Type):
		if isStrType(from) || isBinType(from) {
			return value{s: x.s}, nil
		}
		return fail()
	case to.Type == TypeTimestamp:
		switch {
		case from == TypeDate:
			return value{i: x.i * msPerDay}, nil
		case isStrType(from):
			if ms, ok := parseTimestamp(x.s); ok {
				return value{i: ms}, nil
			}
		case isIntType(from):
			return value{i: x.i}, nil
		}
		return fail()
	case to.Type == TypeDate:
		switch {
		case from == TypeTimestamp:
			return value{i: floorDiv(x.i, msPerDay)}, nil
		case isStrType(from):
			if ms, ok := parseTimestamp(x.s); ok {
				return value{i: floorDiv(ms, msPerDay)}, nil
			}
		}
		return fail()
	case to.Type == TypeTime:
		switch {
		case from == TypeTimestamp:
			return value{i: x.i - floorDiv(x.i, msPerDay)*msPerDay}, nil
		case isStrType(from):
			if ms, ok := parseTimeOfDay(x.s); ok {
				return value{i: ms}, nil
			}
			if ms, ok := parseTimestamp(x.s); ok {
				return value{i: ms - floorDiv(ms, msPerDay)*msPerDay}, nil
			}
		}
		return fail()
	}
	return fail()
}

func truncRunes(s string, n int) string {
	count := 0
	for i := range s {
		if count == n {
			return s[:i]
		}
		count++
	}
	return s
}

func intRange(t Type) (int64, int64) {
	switch t {
	case TypeTinyint:
		return math.MinInt8, math.MaxInt8
	case TypeSmallint:
		return math.MinInt16, math.MaxInt16
	case TypeInteger:
		return math.MinInt32, math.MaxInt32
	}
	return math.MinInt64, math.MaxInt64
}

func quoteVal(x value, t Type) string {
	s := toString(x, t)
	if len(s) > 64 {
		s = s[:64] + "…"
	}
	return "'" + s + "'"
}

var typeNames = map[Type]string{
	TypeVarchar: "VARCHAR", TypeChar: "CHAR", TypeBoolean: "BOOLEAN", TypeTinyint: "TINYINT",
	TypeSmallint: "SMALLINT", TypeInteger: "INTEGER", TypeBigint: "BIGINT", TypeReal: "REAL",
	TypeDouble: "DOUBLE", TypeDecimal: "DECIMAL", TypeDate: "DATE", TypeTime: "TIME",
	TypeTimestamp: "TIMESTAMP", TypeBinary: "BINARY", TypeVarbinary: "VARBINARY",
	typeNull: "NULL", typeInterval: "INTERVAL", typeRow: "ROW", typeCursor: "CURSOR",
}

func (t Type) String() string {
	if s, ok := typeNames[t]; ok {
		return s
	}
	return "TYPE(" + strconv.Itoa(int(t)) + ")"
}

func typeString(c Column) string {
	s := c.Type.String()
	if c.Size > 0 {
		s += "(" + strconv.Itoa(c.Size)
		if c.Scale > 0 {
			s += "," + strconv.Itoa(c.Scale)
		}
		s += ")"
	}
	return s
}
