package format

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"unicode/utf8"
	"unsafe"

	"github.com/eddy-streams/eddy/internal/analytics/exec"
)

// value kinds a scanner hands to the coercer
const (
	kMissing uint8 = iota
	kNull
	kTrue
	kFalse
	kNumber
	kString // raw bytes between the quotes; esc tells whether to unescape
	kObject // source text
	kArray  // source text
)

// ErrCoerce marks a value the column's type cannot take.
var ErrCoerce = errors.New("type conversion")

// coercer appends values to typed vectors. It interns strings of
// low-cardinality columns so repeated values allocate nothing.
type coercer struct {
	cols    []exec.Column
	intern  []map[string]string
	scratch []byte
}

const internLimit = 4096 // distinct values kept per column

func newCoercer(cols []exec.Column) coercer {
	c := coercer{cols: cols, intern: make([]map[string]string, len(cols))}
	for i := range c.intern {
		c.intern[i] = map[string]string{}
	}
	return c
}

func bstr(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// str returns b as a string, interned for column i.
func (c *coercer) str(i int, b []byte) string {
	m := c.intern[i]
	if s, ok := m[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(m) < internLimit {
		m[s] = s
	}
	return s
}

func appendNull(v *exec.Vector) {
	v.Null = append(v.Null, true)
	switch v.Type {
	case exec.TypeReal, exec.TypeDouble:
		v.F64 = append(v.F64, 0)
	case exec.TypeVarchar, exec.TypeChar:
		v.Str = append(v.Str, "")
	case exec.TypeBinary, exec.TypeVarbinary:
		v.Bin = append(v.Bin, nil)
	default:
		v.I64 = append(v.I64, 0)
	}
}

// put appends one value of kind k with text raw (for kString: the bytes
// between the quotes, escaped when esc) to column i of b.
func (c *coercer) put(b *exec.Batch, i int, k uint8, raw []byte, esc bool) error {
	v := &b.Cols[i]
	col := &c.cols[i]
	switch k {
	case kMissing, kNull:
		appendNull(v)
		return nil
	}
	if k == kString && esc {
		var err error
		c.scratch, err = unescape(c.scratch[:0], raw)
		if err != nil {
			return err
		}
		raw = c.scratch
	}
	switch col.Type {
	case exec.TypeVarchar, exec.TypeChar:
		var s string
		switch k {
		case kTrue:
			s = "true"
		case kFalse:
			s = "false"
		default:
			raw = truncateRunes(raw, col.Size)
			s = c.str(i, raw)
		}
		v.Str = append(v.Str, s)
	case exec.TypeBoolean:
		var x int64
		switch k {
		case kTrue:
			x = 1
		case kFalse:
		case kNumber:
			f, err := strconv.ParseFloat(bstr(raw), 64)
			if err != nil {
				return fmt.Errorf("%w: %q is not a number", ErrCoerce, raw)
			}
			if f != 0 {
				x = 1
			}
		case kString:
			if len(raw) == 4 && (raw[0]|0x20) == 't' && (raw[1]|0x20) == 'r' && (raw[2]|0x20) == 'u' && (raw[3]|0x20) == 'e' {
				x = 1
			}
		default:
			return fmt.Errorf("%w: a JSON %s cannot go into BOOLEAN column %s", ErrCoerce, kindName(k), col.Name)
		}
		v.I64 = append(v.I64, x)
	case exec.TypeTinyint, exec.TypeSmallint, exec.TypeInteger, exec.TypeBigint:
		var x int64
		switch k {
		case kTrue:
			x = 1
		case kFalse:
		case kNumber, kString:
			n, err := parseInt(raw)
			if err != nil {
				return fmt.Errorf("%w: %q cannot go into %s column %s", ErrCoerce, raw, TypeName(*col), col.Name)
			}
			x = n
		default:
			return fmt.Errorf("%w: a JSON %s cannot go into %s column %s", ErrCoerce, kindName(k), TypeName(*col), col.Name)
		}
		lo, hi := intRange(col.Type)
		if x < lo || x > hi {
			return fmt.Errorf("%w: %d is out of range for %s column %s", ErrCoerce, x, TypeName(*col), col.Name)
		}
		v.I64 = append(v.I64, x)
	case exec.TypeReal, exec.TypeDouble:
		var f float64
		switch k {
		case kTrue:
			f = 1
		case kFalse:
		case kNumber, kString:
			x, err := strconv.ParseFloat(bstr(trimSpace(raw)), 64)
			if err != nil {
				return fmt.Errorf("%w: %q cannot go into %s column %s", ErrCoerce, raw, TypeName(*col), col.Name)
			}
			f = x
			if col.Type == exec.TypeReal {
				f = float64(float32(f))
			}
		default:
			return fmt.Errorf("%w: a JSON %s cannot go into %s column %s", ErrCoerce, kindName(k), TypeName(*col), col.Name)
		}
		v.F64 = append(v.F64, f)
	case exec.TypeDecimal:
		var x int64
		switch k {
		case kTrue:
			x = pow10(col.Scale)
		case kFalse:
		case kNumber, kString:
			n, err := parseDecimal(trimSpace(raw), col.Size, col.Scale)
			if err != nil {
				return fmt.Errorf("%w: %q cannot go into %s column %s: %v", ErrCoerce, raw, TypeName(*col), col.Name, err)
			}
			x = n
		default:
			return fmt.Errorf("%w: a JSON %s cannot go into %s column %s", ErrCoerce, kindName(k), TypeName(*col), col.Name)
		}
		v.I64 = append(v.I64, x)
	case exec.TypeDate, exec.TypeTime, exec.TypeTimestamp:
		var ms int64
		switch k {
		case kNumber:
			n, err := parseInt(raw)
			if err != nil {
				return fmt.Errorf("%w: %q cannot go into %s column %s", ErrCoerce, raw, TypeName(*col), col.Name)
			}
			ms = n // epoch milliseconds
		case kString:
			t, err := ParseDatetime(trimSpace(raw))
			if err != nil {
				return fmt.Errorf("%w: %q cannot go into %s column %s", ErrCoerce, raw, TypeName(*col), col.Name)
			}
			ms = t
		default:
			return fmt.Errorf("%w: a JSON %s cannot go into %s column %s", ErrCoerce, kindName(k), TypeName(*col), col.Name)
		}
		switch col.Type {
		case exec.TypeDate:
			ms = floorDiv(ms, 86400000)
		case exec.TypeTime:
			ms = ms - floorDiv(ms, 86400000)*86400000
		}
		v.I64 = append(v.I64, ms)
	case exec.TypeBinary, exec.TypeVarbinary:
		if k != kString {
			return fmt.Errorf("%w: a JSON %s cannot go into %s column %s", ErrCoerce, kindName(k), TypeName(*col), col.Name)
		}
		if len(raw) > col.Size {
			raw = raw[:col.Size]
		}
		v.Bin = append(v.Bin, append([]byte(nil), raw...))
	default:
		return fmt.Errorf("%w: column %s has an unknown type", ErrCoerce, col.Name)
	}
	v.Null = append(v.Null, false)
	return nil
}

func kindName(k uint8) string {
	switch k {
	case kObject:
		return "object"
	case kArray:
		return "array"
	case kTrue, kFalse:
		return "boolean"
	case kNumber:
		return "number"
	case kString:
		return "string"
	}
	return "value"
}

func intRange(t exec.Type) (int64, int64) {
	switch t {
	case exec.TypeTinyint:
		return math.MinInt8, math.MaxInt8
	case exec.TypeSmallint:
		return math.MinInt16, math.MaxInt16
	case exec.TypeInteger:
		return math.MinInt32, math.MaxInt32
	}
	return math.MinInt64, math.MaxInt64
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t' || b[0] == '\r' || b[0] == '\n') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t' || b[len(b)-1] == '\r' || b[len(b)-1] == '\n') {
		b = b[:len(b)-1]
	}
	return b
}

// parseInt reads a decimal integer; a number with a fraction or exponent
// is accepted only when integral (123.0, 1e3).
func parseInt(b []byte) (int64, error) {
	b = trimSpace(b)
	if len(b) == 0 {
		return 0, ErrCoerce
	}
	neg := false
	i := 0
	if b[0] == '-' || b[0] == '+' {
		neg = b[0] == '-'
		i = 1
	}
	if i == len(b) {
		return 0, ErrCoerce
	}
	var n uint64
	for ; i < len(b); i++ {
		c := b[i]
		if c < '0' || c > '9' {
			f, err := strconv.ParseFloat(bstr(b), 64)
			if err != nil || f != math.Trunc(f) || f < -9.223372036854775e18 || f > 9.223372036854775e18 {
				return 0, ErrCoerce
			}
			return int64(f), nil
		}
		if n > (math.MaxUint64-9)/10 {
			return 0, ErrCoerce
		}
		n = n*10 + uint64(c-'0')
	}
	if neg {
		if n > 1<<63 {
			return 0, ErrCoerce
		}
		return -int64(n), nil
	}
	if n > math.MaxInt64 {
		return 0, ErrCoerce
	}
	return int64(n), nil
}

func pow10(n int) int64 {
	p := int64(1)
	for ; n > 0; n-- {
		p *= 10
	}
	return p
}

// parseDecimal reads a decimal number into its unscaled value at scale;
// extra fraction digits are truncated; more than precision digits is an
// error.
func parseDecimal(b []byte, precision, scale int) (int64, error) {
	if len(b) == 0 {
		return 0, ErrCoerce
	}
	for _, c := range b {
		if c == 'e' || c == 'E' {
			f, err := strconv.ParseFloat(bstr(b), 64)
			if err != nil {
				return 0, ErrCoerce
			}
			return int64(math.Round(f * float64(pow10(scale)))), nil
		}
	}
	neg := false
	if b[0] == '-' || b[0] == '+' {
		neg = b[0] == '-'
		b = b[1:]
	}
	var n int64
	digits, frac := 0, -1
	for _, c := range b {
		if c == '.' {
			if frac >= 0 {
				return 0, ErrCoerce
			}
			frac = 0
			continue
		}
		if c < '0' || c > '9' {
			return 0, ErrCoerce
		}
		if frac >= 0 {
			if frac == scale {
				continue // truncate
			}
			frac++
		}
		if n != 0 || c != '0' {
			digits++
		}
		if digits > 18 {
			return 0, ErrCoerce
		}
		n = n*10 + int64(c-'0')
	}
	if frac < 0 {
		frac = 0
	}
	for ; frac < scale; frac++ {
		n *= 10
		digits++
	}
	if digits > precision {
		return 0, fmt.Errorf("more than %d digits", precision)
	}
	if neg {
		n = -n
	}
	return n, nil
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// truncateRunes cuts b to n characters.
func truncateRunes(b []byte, n int) []byte {
	if n <= 0 || len(b) <= n {
		return b
	}
	count := 0
	for i := 0; i < len(b); {
		if count == n {
			return b[:i]
		}
		if b[i] < utf8.RuneSelf {
			i++
		} else {
			_, sz := utf8.DecodeRune(b[i:])
			i += sz
		}
		count++
	}
	return b
}

// ParseDatetime reads "1992-02-14", "1992-02-14 18:35:44[.fff…]",
// "1992-02-14T18:35:44[.fff…][Z|±hh:mm]" and "18:35:44[.fff]" (a time of
// day) into epoch milliseconds (UTC).
func ParseDatetime(b []byte) (int64, error) {
	num := func(s []byte) (int, bool) {
		n := 0
		if len(s) == 0 {
			return 0, false
		}
		for _, c := range s {
			if c < '0' || c > '9' {
				return 0, false
			}
			n = n*10 + int(c-'0')
		}
		return n, true
	}
	var days int64
	rest := b
	if len(b) >= 10 && b[4] == '-' && b[7] == '-' {
		y, ok1 := num(b[0:4])
		mo, ok2 := num(b[5:7])
		d, ok3 := num(b[8:10])
		if !ok1 || !ok2 || !ok3 || mo < 1 || mo > 12 || d < 1 || d > daysIn(y, mo) {
			return 0, ErrCoerce
		}
		days = daysFromCivil(int64(y), mo, d)
		rest = b[10:]
		if len(rest) == 0 {
			return days * 86400000, nil
		}
		if rest[0] != ' ' && rest[0] != 'T' {
			return 0, ErrCoerce
		}
		rest = rest[1:]
	}
	if len(rest) < 5 || rest[2] != ':' {
		return 0, ErrCoerce
	}
	h, ok1 := num(rest[0:2])
	mi, ok2 := num(rest[3:5])
	if !ok1 || !ok2 || h > 23 || mi > 59 {
		return 0, ErrCoerce
	}
	rest = rest[5:]
	sec, ms := 0, 0
	if len(rest) > 0 && rest[0] == ':' {
		if len(rest) < 3 {
			return 0, ErrCoerce
		}
		s, ok := num(rest[1:3])
		if !ok || s > 60 {
			return 0, ErrCoerce
		}
		sec = s
		rest = rest[3:]
		if len(rest) > 0 && rest[0] == '.' {
			rest = rest[1:]
			i := 0
			scale := 100
			for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
				if scale > 0 {
					ms += int(rest[i]-'0') * scale
					scale /= 10
				}
				i++
			}
			if i == 0 {
				return 0, ErrCoerce
			}
			rest = rest[i:]
		}
	}
	off := 0
	switch {
	case len(rest) == 0:
	case len(rest) == 1 && (rest[0] == 'Z' || rest[0] == 'z'):
	case len(rest) == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':':
		oh, ok1 := num(rest[1:3])
		om, ok2 := num(rest[4:6])
		if !ok1 || !ok2 {
			return 0, ErrCoerce
		}
		off = oh*3600 + om*60
		if rest[0] == '-' {
			off = -off
		}
	default:
		return 0, ErrCoerce
	}
	return days*86400000 + int64(h*3600+mi*60+sec-off)*1000 + int64(ms), nil
}

func daysIn(y, m int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// daysFromCivil is days since 1970-01-01 of a proleptic Gregorian date.
func daysFromCivil(y int64, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := floorDiv(y, 400)
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := int64((153*mp+2)/5 + d - 1)
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

// unescape decodes a JSON string body (between the quotes).
func unescape(dst, s []byte) ([]byte, error) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' {
			dst = append(dst, c)
			continue
		}
		i++
		if i >= len(s) {
			return dst, errors.New("bad escape in string")
		}
		switch s[i] {
		case '"', '\\', '/':
			dst = append(dst, s[i])
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r, ok := hex4(s[i+1:])
			if !ok {
				return dst, errors.New("bad \\u escape in string")
			}
			i += 4
			if r >= 0xD800 && r < 0xDC00 && i+2 < len(s) && s[i+1] == '\\' && s[i+2] == 'u' {
				if r2, ok := hex4(s[i+3:]); ok && r2 >= 0xDC00 && r2 < 0xE000 {
					r = 0x10000 + (r-0xD800)<<10 + (r2 - 0xDC00)
					i += 6
				}
			}
			dst = utf8.AppendRune(dst, rune(r))
		default:
			return dst, errors.New("bad escape in string")
		}
	}
	return dst, nil
}

func hex4(s []byte) (int, bool) {
	if len(s) < 4 {
		return 0, false
	}
	n := 0
	for _, c := range s[:4] {
		switch {
		case c >= '0' && c <= '9':
			n = n*16 + int(c-'0')
		case c >= 'a' && c <= 'f':
			n = n*16 + int(c-'a'+10)
		case c >= 'A' && c <= 'F':
			n = n*16 + int(c-'A'+10)
		default:
			return 0, false
		}
	}
	return n, true
}
