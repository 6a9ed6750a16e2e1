package convert

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/parquet-go/parquet-go"
)

// Deserializer holds the JSON SerDe settings of a conversion.
type Deserializer struct {
	// Hive selects the Hive JSON SerDe (strict: no numbers written as
	// strings, no stringified nested values, no dots in keys); otherwise
	// the OpenX JSON SerDe.
	Hive bool
	// CaseInsensitive (OpenX; default true) matches keys without regard to case.
	CaseInsensitive bool
	// DotsToUnderscores (OpenX) replaces dots in JSON keys with underscores.
	DotsToUnderscores bool
	// Mappings (OpenX) maps a column name to the JSON key that feeds it.
	Mappings map[string]string
	// TimestampFormats (Hive) are Joda-Time patterns, or "millis".
	TimestampFormats []string

	layouts []string // TimestampFormats as Go layouts
	millis  bool
}

// Failure codes written to format-conversion-failed records.
const (
	CodeParseError    = "DataFormatConversion.ParseError"    // the record is not a JSON object
	CodeMalformedData = "DataFormatConversion.MalformedData" // a value does not fit its column
)

// RecordError is why one record could not be converted.
type RecordError struct {
	Code, Message string
}

func (e *RecordError) Error() string { return e.Code + ": " + e.Message }

func malformed(format string, args ...any) error {
	return &RecordError{Code: CodeMalformedData, Message: fmt.Sprintf(format, args...)}
}

// prepare compiles the timestamp formats.
func (d *Deserializer) prepare() error {
	d.layouts, d.millis = nil, false
	for _, f := range d.TimestampFormats {
		if f == "millis" {
			d.millis = true
			continue
		}
		l, err := jodaLayout(f)
		if err != nil {
			return fmt.Errorf("timestamp format %q: %w", f, err)
		}
		d.layouts = append(d.layouts, l)
	}
	return nil
}

// Row converts one JSON record into a Parquet row of s. The error is a
// *RecordError. The row may refer to rec's bytes: rec must not change
// while the row is in use. (A Converter prepares the key matching once;
// this prepares it on every call.)
func (s *Schema) Row(d *Deserializer, rec []byte) (parquet.Row, error) {
	return newMatcher(s, d).row(rec)
}

// rowReference is Row written plainly with encoding/json: the definition
// the hot path (rowfast.go) is fuzzed against.
func (s *Schema) rowReference(d *Deserializer, rec []byte) (parquet.Row, error) {
	dec := json.NewDecoder(bytes.NewReader(rec))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, &RecordError{Code: CodeParseError, Message: "The record is not valid JSON: " + err.Error()}
	}
	if dec.More() {
		return nil, &RecordError{Code: CodeParseError, Message: "The record holds more than one JSON value."}
	}
	if !json.Valid(rec) { // e.g. a stray closing bracket after the value, which More ignores
		return nil, &RecordError{Code: CodeParseError, Message: "The record is not valid JSON."}
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, &RecordError{Code: CodeParseError, Message: "The record is not a JSON object."}
	}
	cols := make([][]parquet.Value, s.nLeaves)
	m := d.fields(obj)
	for _, n := range s.root {
		var fv any
		if key, ok := d.Mappings[n.name]; ok {
			fv = obj[key]
		} else {
			fv = m[n.name]
		}
		if err := d.emit(n, fv, 0, 0, cols); err != nil {
			return nil, err
		}
	}
	size := 0
	for _, c := range cols {
		size += len(c)
	}
	row := make(parquet.Row, 0, size)
	for _, c := range cols {
		row = append(row, c...)
	}
	return row, nil
}

// fields normalises an object's keys as the SerDe matches them.
func (d *Deserializer) fields(obj map[string]any) map[string]any {
	if d.Hive {
		out := make(map[string]any, len(obj))
		for k, v := range obj {
			out[strings.ToLower(k)] = v
		}
		return out
	}
	if !d.CaseInsensitive && !d.DotsToUnderscores {
		return obj
	}
	out := make(map[string]any, len(obj))
	for k, v := range obj {
		if d.DotsToUnderscores {
			k = strings.ReplaceAll(k, ".", "_")
		}
		if d.CaseInsensitive {
			k = strings.ToLower(k)
		}
		out[k] = v
	}
	return out
}

func (d *Deserializer) emit(n *node, v any, rep, def int, cols [][]parquet.Value) error {
	if v == nil {
		for _, l := range n.leaves {
			cols[l] = append(cols[l], parquet.NullValue().Level(rep, def, l))
		}
		return nil
	}
	def++
	switch n.typ.Kind {
	case Struct:
		obj, ok := v.(map[string]any)
		if !ok {
			return malformed("Field %s: expected a JSON object for type struct, got %s.", n.name, jsonKind(v))
		}
		m := d.fields(obj)
		for _, c := range n.children {
			if err := d.emit(c, m[c.name], rep, def, cols); err != nil {
				return err
			}
		}
		return nil
	case Array:
		arr, ok := v.([]any)
		if !ok {
			return malformed("Field %s: expected a JSON array for type array, got %s.", n.name, jsonKind(v))
		}
		if len(arr) == 0 {
			for _, l := range n.leaves {
				cols[l] = append(cols[l], parquet.NullValue().Level(rep, def, l))
			}
			return nil
		}
		for i, e := range arr {
			r := rep
			if i > 0 {
				r = n.repDepth
			}
			if err := d.emit(n.children[0], e, r, def+1, cols); err != nil {
				return err
			}
		}
		return nil
	case Map:
		obj, ok := v.(map[string]any)
		if !ok {
			return malformed("Field %s: expected a JSON object for type map, got %s.", n.name, jsonKind(v))
		}
		if len(obj) == 0 {
			for _, l := range n.leaves {
				cols[l] = append(cols[l], parquet.NullValue().Level(rep, def, l))
			}
			return nil
		}
		keys := make([]string, 0, len(obj))
		for k := range obj {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		kn, vn := n.children[0], n.children[1]
		for i, k := range keys {
			r := rep
			if i > 0 {
				r = n.repDepth
			}
			kv, err := d.leaf(kn.typ, n.name, keyValue(kn.typ, k))
			if err != nil {
				return err
			}
			cols[kn.leaf] = append(cols[kn.leaf], kv.Level(r, def+1, kn.leaf))
			if err := d.emit(vn, obj[k], r, def+1, cols); err != nil {
				return err
			}
		}
		return nil
	}
	val, err := d.leaf(n.typ, n.name, v)
	if err != nil {
		return err
	}
	cols[n.leaf] = append(cols[n.leaf], val.Level(rep, def, n.leaf))
	return nil
}

// keyValue presents a map key (always a JSON string) as the value its type
// expects: numbers and booleans are parsed from the key text.
func keyValue(t *Type, k string) any {
	switch t.Kind {
	case String, Binary, Timestamp, Date:
		return k
	case Boolean:
		if b, err := strconv.ParseBool(k); err == nil {
			return b
		}
		return k
	}
	return json.Number(k)
}

func jsonKind(v any) string {
	switch v.(type) {
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	}
	return "null"
}

// number returns v as a number's text: a JSON number, or (OpenX only) a
// string holding one.
func (d *Deserializer) number(v any, field, typ string) (string, error) {
	switch x := v.(type) {
	case json.Number:
		return string(x), nil
	case string:
		if !d.Hive {
			return strings.TrimSpace(x), nil
		}
	}
	return "", malformed("Field %s: expected a number for type %s, got %s.", field, typ, jsonKind(v))
}

func (d *Deserializer) integer(v any, field, typ string, bits int) (int64, error) {
	s, err := d.number(v, field, typ)
	if err != nil {
		return 0, err
	}
	i, err := strconv.ParseInt(s, 10, bits)
	if err != nil {
		return 0, malformed("Field %s: %q is not a valid %s.", field, s, typ)
	}
	return i, nil
}

func (d *Deserializer) leaf(t *Type, field string, v any) (parquet.Value, error) {
	switch t.Kind {
	case Boolean:
		switch x := v.(type) {
		case bool:
			return parquet.BooleanValue(x), nil
		case string:
			if b, err := strconv.ParseBool(x); err == nil && !d.Hive {
				return parquet.BooleanValue(b), nil
			}
		}
		return parquet.Value{}, malformed("Field %s: expected a boolean, got %s.", field, jsonKind(v))
	case TinyInt:
		i, err := d.integer(v, field, "tinyint", 8)
		return parquet.Int32Value(int32(i)), err
	case SmallInt:
		i, err := d.integer(v, field, "smallint", 16)
		return parquet.Int32Value(int32(i)), err
	case Int:
		i, err := d.integer(v, field, "int", 32)
		return parquet.Int32Value(int32(i)), err
	case BigInt:
		i, err := d.integer(v, field, "bigint", 64)
		return parquet.Int64Value(i), err
	case Float, Double:
		s, err := d.number(v, field, "double")
		if err != nil {
			return parquet.Value{}, err
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return parquet.Value{}, malformed("Field %s: %q is not a valid number.", field, s)
		}
		if t.Kind == Float {
			if math.Abs(f) > math.MaxFloat32 {
				return parquet.Value{}, malformed("Field %s: %s is out of range for type float.", field, s)
			}
			return parquet.FloatValue(float32(f)), nil
		}
		return parquet.DoubleValue(f), nil
	case Decimal:
		s, err := d.number(v, field, "decimal")
		if err != nil {
			return parquet.Value{}, err
		}
		return decimalValue(t, field, s)
	case String, Binary:
		var s string
		switch x := v.(type) {
		case string:
			s = x
		case json.Number:
			s = string(x)
		case bool:
			s = strconv.FormatBool(x)
		default:
			if d.Hive {
				return parquet.Value{}, malformed("Field %s: expected a string, got %s.", field, jsonKind(v))
			}
			b, err := json.Marshal(v)
			if err != nil {
				return parquet.Value{}, malformed("Field %s: %v", field, err)
			}
			s = string(b)
		}
		if t.Length > 0 && len([]rune(s)) > t.Length {
			s = string([]rune(s)[:t.Length])
		}
		return parquet.ByteArrayValue([]byte(s)), nil
	case Timestamp:
		ms, err := d.timestamp(v, field)
		return parquet.Int64Value(ms), err
	case Date:
		switch x := v.(type) {
		case string:
			tm, err := time.Parse("2006-1-2", strings.TrimSpace(x))
			if err != nil {
				return parquet.Value{}, malformed("Field %s: %q is not a date (yyyy-MM-dd).", field, x)
			}
			return parquet.Int32Value(int32(tm.Unix() / 86400)), nil
		case json.Number:
			i, err := x.Int64()
			if err != nil || i < math.MinInt32 || i > math.MaxInt32 {
				return parquet.Value{}, malformed("Field %s: %s is not a day number.", field, x)
			}
			return parquet.Int32Value(int32(i)), nil
		}
		return parquet.Value{}, malformed("Field %s: expected a date, got %s.", field, jsonKind(v))
	}
	return parquet.Value{}, malformed("Field %s: unsupported type.", field)
}

var ten = big.NewInt(10)

// decimalValue scales s to t's scale (rounding half away from zero, as
// HiveDecimal does) and checks that it fits t's precision.
func decimalValue(t *Type, field, s string) (parquet.Value, error) {
	if v, ok := fastDecimal(t, s); ok {
		return parquet.Int64Value(v), nil
	}
	if len(s) > 200 {
		return parquet.Value{}, malformed("Field %s: decimal %.20q… is too long.", field, s)
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return parquet.Value{}, malformed("Field %s: %q is not a valid decimal.", field, s)
	}
	scale := new(big.Int).Exp(ten, big.NewInt(int64(t.Scale)), nil)
	r.Mul(r, new(big.Rat).SetInt(scale))
	num, den := r.Num(), r.Denom()
	q, rem := new(big.Int).QuoRem(num, den, new(big.Int))
	if rem.Sign() != 0 {
		twice := new(big.Int).Mul(new(big.Int).Abs(rem), big.NewInt(2))
		if twice.Cmp(den) >= 0 {
			if num.Sign() < 0 {
				q.Sub(q, big.NewInt(1))
			} else {
				q.Add(q, big.NewInt(1))
			}
		}
	}
	limit := new(big.Int).Exp(ten, big.NewInt(int64(t.Precision)), nil)
	if new(big.Int).Abs(q).Cmp(limit) >= 0 {
		return parquet.Value{}, malformed("Field %s: %s does not fit decimal(%d,%d).", field, s, t.Precision, t.Scale)
	}
	if t.Precision <= 18 {
		return parquet.Int64Value(q.Int64()), nil
	}
	// 16-byte big-endian two's complement.
	var buf [16]byte
	b := q.Bytes()
	if q.Sign() >= 0 {
		copy(buf[16-len(b):], b)
	} else {
		// two's complement of |q|: invert (|q| - 1)
		m := new(big.Int).Sub(new(big.Int).Abs(q), big.NewInt(1)).Bytes()
		for i := range buf {
			buf[i] = 0xff
		}
		for i, c := range m {
			buf[16-len(m)+i] = ^c
		}
	}
	return parquet.FixedLenByteArrayValue(buf[:]), nil
}

var errNoTimestamp = errors.New("no format matched")

// timestamp reads a timestamp as milliseconds since the epoch (UTC).
func (d *Deserializer) timestamp(v any, field string) (int64, error) {
	if d.Hive {
		switch x := v.(type) {
		case json.Number:
			if d.millis {
				if i, err := x.Int64(); err == nil {
					return i, nil
				}
			}
		case string:
			for _, l := range d.layouts {
				if tm, err := time.Parse(l, x); err == nil {
					return tm.UnixMilli(), nil
				}
			}
			if d.millis {
				if i, err := strconv.ParseInt(x, 10, 64); err == nil {
					return i, nil
				}
			}
			if len(d.layouts) == 0 {
				// java.sql.Timestamp.valueOf: yyyy-[m]m-[d]d hh:mm:ss[.f…]
				if tm, err := time.Parse("2006-1-2 15:04:05", x); err == nil {
					return tm.UnixMilli(), nil
				}
			}
		}
		return 0, malformed("Field %s: %v is not a timestamp in the configured formats.", field, v)
	}
	switch x := v.(type) {
	case json.Number:
		return epoch(string(x), field)
	case string:
		x = strings.TrimSpace(x)
		for _, l := range []string{time.RFC3339Nano, "2006-1-2 15:04:05", "2006-1-2T15:04:05"} {
			if tm, err := time.Parse(l, x); err == nil {
				return tm.UnixMilli(), nil
			}
		}
		if ms, err := epoch(x, field); err == nil {
			return ms, nil
		}
	}
	return 0, malformed("Field %s: %v is not a timestamp.", field, v)
}

// epoch reads epoch seconds, epoch milliseconds (13 digits or more) or
// fractional epoch seconds.
func epoch(s, field string) (int64, error) {
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		if i >= 1e11 || i <= -1e11 {
			return i, nil
		}
		return i * 1000, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) || math.Abs(f) > 1e15 {
		return 0, malformed("Field %s: %q is not a timestamp.", field, s)
	}
	return int64(math.Round(f * 1000)), nil
}

// jodaLayout turns a Joda-Time pattern into a Go time layout.
func jodaLayout(p string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(p); {
		c := p[i]
		j := i
		for j < len(p) && p[j] == c {
			j++
		}
		n := j - i
		switch c {
		case '\'':
			k := strings.IndexByte(p[i+1:], '\'')
			if k < 0 {
				return "", errors.New("unterminated quote")
			}
			b.WriteString(p[i+1 : i+1+k])
			i += k + 2
			continue
		case 'y':
			if n == 2 {
				b.WriteString("06")
			} else {
				b.WriteString("2006")
			}
		case 'M':
			b.WriteString(map[int]string{1: "1", 2: "01", 3: "Jan"}[min(n, 3)])
		case 'd':
			b.WriteString(map[bool]string{true: "2", false: "02"}[n == 1])
		case 'H':
			b.WriteString("15")
		case 'h':
			b.WriteString(map[bool]string{true: "3", false: "03"}[n == 1])
		case 'm':
			b.WriteString(map[bool]string{true: "4", false: "04"}[n == 1])
		case 's':
			b.WriteString(map[bool]string{true: "5", false: "05"}[n == 1])
		case 'S':
			b.WriteString(strings.Repeat("0", n))
		case 'a':
			b.WriteString("PM")
		case 'Z':
			b.WriteString(map[bool]string{true: "-0700", false: "-07:00"}[n == 1])
		case 'X':
			b.WriteString("Z07:00")
		default:
			if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' {
				return "", fmt.Errorf("unsupported pattern letter '%c'", c)
			}
			b.WriteString(p[i:j])
		}
		i = j
	}
	return b.String(), nil
}

var _ = errNoTimestamp

// fastDecimal scales a plain decimal literal (-?digits[.digits]) with no
// rounding needed and at most 18 digits after scaling; ok=false sends
// everything else to the exact big.Rat path.
func fastDecimal(t *Type, s string) (int64, bool) {
	if t.Precision > 18 || len(s) == 0 || len(s) > 40 {
		return 0, false
	}
	neg := s[0] == '-'
	if neg {
		s = s[1:]
	}
	intPart, frac, _ := strings.Cut(s, ".")
	if intPart == "" || len(frac) > t.Scale {
		return 0, false
	}
	var v int64
	digits := 0
	for _, part := range []string{intPart, frac} {
		for i := 0; i < len(part); i++ {
			c := part[i]
			if c < '0' || c > '9' {
				return 0, false
			}
			v = v*10 + int64(c-'0')
			if v != 0 {
				digits++
			}
		}
	}
	for i := len(frac); i < t.Scale; i++ {
		v *= 10
		if v != 0 {
			digits++
		}
	}
	if digits > t.Precision || v >= pow10(t.Precision) {
		return 0, false
	}
	if neg {
		v = -v
	}
	return v, true
}

func pow10(n int) int64 {
	v := int64(1)
	for i := 0; i < n; i++ {
		v *= 10
	}
	return v
}
