package dynamodb

import (
	"bytes"
	"encoding/json"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/cockroachdb/apd/v3"
)

// AV is a DynamoDB AttributeValue in its JSON wire form: exactly one member
// is set. Numbers stay decimal strings (normalised by Validate) and are
// compared as decimals with 38 digits of precision.
type AV struct {
	S    *string        `json:"S,omitempty"`
	N    *string        `json:"N,omitempty"`
	B    []byte         `json:"B,omitempty"`
	SS   []string       `json:"SS,omitempty"`
	NS   []string       `json:"NS,omitempty"`
	BS   [][]byte       `json:"BS,omitempty"`
	M    map[string]*AV `json:"M,omitempty"`
	L    []*AV          `json:"L,omitempty"`
	NULL *bool          `json:"NULL,omitempty"`
	BOOL *bool          `json:"BOOL,omitempty"`

	// set records which members the decoder saw, so that an empty B, SS,
	// M or L ("B":"" or "L":[]) is told apart from a missing one.
	set uint16
}

// Item is an item: attribute name to value.
type Item map[string]*AV

const (
	fS uint16 = 1 << iota
	fN
	fB
	fSS
	fNS
	fBS
	fM
	fL
	fNULL
	fBOOL
)

// UnmarshalJSON decodes the wire form exactly, remembering which members
// were present (even empty ones).
func (a *AV) UnmarshalJSON(b []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	*a = AV{}
	for k, v := range raw {
		if bytes.Equal(bytes.TrimSpace(v), []byte("null")) {
			continue
		}
		var err error
		switch k {
		case "S":
			a.S = new(string)
			err = json.Unmarshal(v, a.S)
			a.set |= fS
		case "N":
			a.N = new(string)
			err = json.Unmarshal(v, a.N)
			a.set |= fN
		case "B":
			err = json.Unmarshal(v, &a.B)
			if a.B == nil {
				a.B = []byte{}
			}
			a.set |= fB
		case "SS":
			err = json.Unmarshal(v, &a.SS)
			a.set |= fSS
		case "NS":
			err = json.Unmarshal(v, &a.NS)
			a.set |= fNS
		case "BS":
			err = json.Unmarshal(v, &a.BS)
			a.set |= fBS
		case "M":
			err = json.Unmarshal(v, &a.M)
			if a.M == nil {
				a.M = map[string]*AV{}
			}
			a.set |= fM
		case "L":
			err = json.Unmarshal(v, &a.L)
			if a.L == nil {
				a.L = []*AV{}
			}
			a.set |= fL
		case "NULL":
			a.NULL = new(bool)
			err = json.Unmarshal(v, a.NULL)
			a.set |= fNULL
		case "BOOL":
			a.BOOL = new(bool)
			err = json.Unmarshal(v, a.BOOL)
			a.set |= fBOOL
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// MarshalJSON writes the one member that is set; empty maps, lists and
// binaries are written (omitempty would drop them).
func (a *AV) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	a.appendJSON(&buf)
	return buf.Bytes(), nil
}

func (a *AV) appendJSON(buf *bytes.Buffer) {
	str := func(s string) {
		b, _ := json.Marshal(s)
		buf.Write(b)
	}
	switch {
	case a == nil:
		buf.WriteString(`{"NULL":true}`)
	case a.S != nil:
		buf.WriteString(`{"S":`)
		str(*a.S)
		buf.WriteByte('}')
	case a.N != nil:
		buf.WriteString(`{"N":`)
		str(*a.N)
		buf.WriteByte('}')
	case a.B != nil:
		b, _ := json.Marshal(a.B)
		buf.WriteString(`{"B":`)
		buf.Write(b)
		buf.WriteByte('}')
	case a.SS != nil:
		b, _ := json.Marshal(a.SS)
		buf.WriteString(`{"SS":`)
		buf.Write(b)
		buf.WriteByte('}')
	case a.NS != nil:
		b, _ := json.Marshal(a.NS)
		buf.WriteString(`{"NS":`)
		buf.Write(b)
		buf.WriteByte('}')
	case a.BS != nil:
		b, _ := json.Marshal(a.BS)
		buf.WriteString(`{"BS":`)
		buf.Write(b)
		buf.WriteByte('}')
	case a.M != nil:
		buf.WriteString(`{"M":{`)
		keys := make([]string, 0, len(a.M))
		for k := range a.M {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for i, k := range keys {
			if i > 0 {
				buf.WriteByte(',')
			}
			str(k)
			buf.WriteByte(':')
			a.M[k].appendJSON(buf)
		}
		buf.WriteString(`}}`)
	case a.L != nil:
		buf.WriteString(`{"L":[`)
		for i, e := range a.L {
			if i > 0 {
				buf.WriteByte(',')
			}
			e.appendJSON(buf)
		}
		buf.WriteString(`]}`)
	case a.NULL != nil:
		buf.WriteString(`{"NULL":true}`)
	case a.BOOL != nil:
		if *a.BOOL {
			buf.WriteString(`{"BOOL":true}`)
		} else {
			buf.WriteString(`{"BOOL":false}`)
		}
	default:
		buf.WriteString(`{"NULL":true}`)
	}
}

// Type is the value's type descriptor ("S", "N", "SS", …), "" when none.
func (a *AV) Type() string {
	switch {
	case a == nil:
		return ""
	case a.S != nil:
		return "S"
	case a.N != nil:
		return "N"
	case a.B != nil:
		return "B"
	case a.SS != nil:
		return "SS"
	case a.NS != nil:
		return "NS"
	case a.BS != nil:
		return "BS"
	case a.M != nil:
		return "M"
	case a.L != nil:
		return "L"
	case a.NULL != nil:
		return "NULL"
	case a.BOOL != nil:
		return "BOOL"
	}
	return ""
}

func str(s string) *AV   { return &AV{S: &s} }
func num(s string) *AV   { return &AV{N: &s} }
func boolean(b bool) *AV { return &AV{BOOL: &b} }
func nullAV() *AV        { t := true; return &AV{NULL: &t} }
func list(l []*AV) *AV   { return &AV{L: l} }
func mapAV(m Item) *AV   { return &AV{M: m} }
func binAV(b []byte) *AV { return &AV{B: b} }

// Clone deep-copies a.
func (a *AV) Clone() *AV {
	if a == nil {
		return nil
	}
	c := *a
	if a.S != nil {
		s := *a.S
		c.S = &s
	}
	if a.N != nil {
		s := *a.N
		c.N = &s
	}
	if a.B != nil {
		c.B = append([]byte{}, a.B...)
	}
	if a.SS != nil {
		c.SS = append([]string{}, a.SS...)
	}
	if a.NS != nil {
		c.NS = append([]string{}, a.NS...)
	}
	if a.BS != nil {
		c.BS = make([][]byte, len(a.BS))
		for i, b := range a.BS {
			c.BS[i] = append([]byte{}, b...)
		}
	}
	if a.M != nil {
		c.M = make(map[string]*AV, len(a.M))
		for k, v := range a.M {
			c.M[k] = v.Clone()
		}
	}
	if a.L != nil {
		c.L = make([]*AV, len(a.L))
		for i, v := range a.L {
			c.L[i] = v.Clone()
		}
	}
	if a.NULL != nil {
		b := *a.NULL
		c.NULL = &b
	}
	if a.BOOL != nil {
		b := *a.BOOL
		c.BOOL = &b
	}
	return &c
}

// Clone deep-copies the item.
func (it Item) Clone() Item {
	if it == nil {
		return nil
	}
	c := make(Item, len(it))
	for k, v := range it {
		c[k] = v.Clone()
	}
	return c
}

func (a *AV) members() int {
	n := 0
	for f := a.set; f != 0; f &= f - 1 {
		n++
	}
	if a.set == 0 { // built in Go, not decoded
		for _, ok := range []bool{a.S != nil, a.N != nil, a.B != nil, a.SS != nil, a.NS != nil, a.BS != nil, a.M != nil, a.L != nil, a.NULL != nil, a.BOOL != nil} {
			if ok {
				n++
			}
		}
	}
	return n
}

var typeNames = map[string]string{"SS": "string set", "NS": "number set", "BS": "binary set"}

// Validate checks a decoded value as DynamoDB does and normalises its
// numbers in place. The error is the ValidationException message.
func (a *AV) Validate() error {
	return a.validate(0)
}

const maxDepth = 32

func (a *AV) validate(depth int) error {
	if a == nil {
		return invalid("Supplied AttributeValue is empty, must contain exactly one of the supported datatypes")
	}
	if depth > maxDepth {
		return invalid("Nesting Levels have exceeded supported limits")
	}
	switch a.members() {
	case 0:
		return invalid("Supplied AttributeValue is empty, must contain exactly one of the supported datatypes")
	case 1:
	default:
		return invalid("Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes")
	}
	switch {
	case a.S != nil:
		if !utf8.ValidString(*a.S) {
			return invalid("One or more parameter values were invalid: A string value is not valid UTF-8")
		}
	case a.N != nil:
		n, err := normNumber(*a.N)
		if err != nil {
			return err
		}
		a.N = &n
	case a.SS != nil:
		if len(a.SS) == 0 {
			return invalid("One or more parameter values were invalid: An string set  may not be empty")
		}
		if err := dupCheck(a.SS); err != nil {
			return err
		}
	case a.NS != nil:
		if len(a.NS) == 0 {
			return invalid("One or more parameter values were invalid: An number set  may not be empty")
		}
		for i, s := range a.NS {
			n, err := normNumber(s)
			if err != nil {
				return err
			}
			a.NS[i] = n
		}
		if err := dupCheck(a.NS); err != nil {
			return err
		}
	case a.BS != nil:
		if len(a.BS) == 0 {
			return invalid("One or more parameter values were invalid: Binary sets should not be empty")
		}
		ss := make([]string, len(a.BS))
		for i, b := range a.BS {
			ss[i] = string(b)
		}
		if err := dupCheck(ss); err != nil {
			return err
		}
	case a.M != nil:
		for _, v := range a.M {
			if err := v.validate(depth + 1); err != nil {
				return err
			}
		}
	case a.L != nil:
		for _, v := range a.L {
			if err := v.validate(depth + 1); err != nil {
				return err
			}
		}
	case a.NULL != nil:
		if !*a.NULL {
			return invalid("One or more parameter values were invalid: Null attribute value types must have the value of true")
		}
	}
	return nil
}

func dupCheck(ss []string) error {
	seen := make(map[string]struct{}, len(ss))
	for _, s := range ss {
		if _, ok := seen[s]; ok {
			return invalid("One or more parameter values were invalid: Input collection [%s] contains duplicates.", strings.Join(ss, ", "))
		}
		seen[s] = struct{}{}
	}
	return nil
}

// decCtx computes sums exactly (operands have at most 38 digits and
// exponents within DynamoDB's range); normNumber then refuses a result
// that needs more than 38 significant digits, as DynamoDB does.
var decCtx = apd.Context{Precision: 400, MaxExponent: 1000, MinExponent: -1000, Traps: apd.DefaultTraps}

// normNumber validates a DynamoDB number (at most 38 significant digits,
// magnitude between 1E-130 and 9.9…E+125) and returns its canonical decimal
// form without an exponent or trailing zeros, as DynamoDB returns it.
func normNumber(s string) (string, error) {
	d, err := parseDec(s)
	if err != nil {
		return "", err
	}
	if d.IsZero() {
		return "0", nil
	}
	d.Reduce(d)
	if d.NumDigits() > 38 {
		return "", invalid("Attempting to store more than 38 significant digits in a Number")
	}
	adj := int64(d.Exponent) + d.NumDigits() - 1
	if adj > 125 {
		return "", invalid("Number overflow. Attempting to store a number with magnitude larger than supported range")
	}
	if adj < -130 {
		return "", invalid("Number underflow. Attempting to store a number with magnitude smaller than supported range")
	}
	return d.Text('f'), nil
}

func parseDec(s string) (*apd.Decimal, error) {
	t := strings.TrimSpace(s)
	if t == "" || len(t) > 1000 {
		return nil, invalid("The parameter cannot be converted to a numeric value: %s", s)
	}
	for i := 0; i < len(t); i++ {
		c := t[i]
		if !(c >= '0' && c <= '9' || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E') {
			return nil, invalid("The parameter cannot be converted to a numeric value: %s", s)
		}
	}
	d, _, err := apd.NewFromString(t)
	if err != nil || d.Form != apd.Finite {
		return nil, invalid("The parameter cannot be converted to a numeric value: %s", s)
	}
	return d, nil
}

// cmpNum compares two normalised numbers.
func cmpNum(a, b string) int {
	x, err1 := parseDec(a)
	y, err2 := parseDec(b)
	if err1 != nil || err2 != nil {
		return strings.Compare(a, b)
	}
	return x.Cmp(y)
}

// addNum adds (or subtracts) two numbers with DynamoDB's 38 digits.
func addNum(a, b string, sub bool) (string, error) {
	x, err := parseDec(a)
	if err != nil {
		return "", err
	}
	y, err := parseDec(b)
	if err != nil {
		return "", err
	}
	var z apd.Decimal
	if sub {
		_, err = decCtx.Sub(&z, x, y)
	} else {
		_, err = decCtx.Add(&z, x, y)
	}
	if err != nil {
		return "", invalid("Number overflow. Attempting to store a number with magnitude larger than supported range")
	}
	return normNumber(z.Text('E'))
}

// equal reports deep equality (sets compare as sets, numbers numerically).
func equal(a, b *AV) bool {
	if a == nil || b == nil {
		return a == b
	}
	ta, tb := a.Type(), b.Type()
	if ta != tb {
		return false
	}
	switch ta {
	case "S":
		return *a.S == *b.S
	case "N":
		return cmpNum(*a.N, *b.N) == 0
	case "B":
		return bytes.Equal(a.B, b.B)
	case "BOOL":
		return *a.BOOL == *b.BOOL
	case "NULL":
		return true
	case "SS":
		return sameSet(a.SS, b.SS, func(x, y string) bool { return x == y })
	case "NS":
		return sameSet(a.NS, b.NS, func(x, y string) bool { return cmpNum(x, y) == 0 })
	case "BS":
		return sameSet(bsStrings(a.BS), bsStrings(b.BS), func(x, y string) bool { return x == y })
	case "L":
		if len(a.L) != len(b.L) {
			return false
		}
		for i := range a.L {
			if !equal(a.L[i], b.L[i]) {
				return false
			}
		}
		return true
	case "M":
		if len(a.M) != len(b.M) {
			return false
		}
		for k, v := range a.M {
			w, ok := b.M[k]
			if !ok || !equal(v, w) {
				return false
			}
		}
		return true
	}
	return false
}

func bsStrings(bs [][]byte) []string {
	out := make([]string, len(bs))
	for i, b := range bs {
		out[i] = string(b)
	}
	return out
}

func sameSet(a, b []string, eq func(x, y string) bool) bool {
	if len(a) != len(b) {
		return false
	}
	for _, x := range a {
		found := false
		for _, y := range b {
			if eq(x, y) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// compare orders two scalars of the same type (S, N or B); ok is false for
// other types or mismatched types.
func compare(a, b *AV) (int, bool) {
	if a == nil || b == nil {
		return 0, false
	}
	switch {
	case a.S != nil && b.S != nil:
		return strings.Compare(*a.S, *b.S), true
	case a.N != nil && b.N != nil:
		return cmpNum(*a.N, *b.N), true
	case a.B != nil && b.B != nil:
		return bytes.Compare(a.B, b.B), true
	}
	return 0, false
}

// size is the value's size in bytes by DynamoDB's accounting (close to it:
// numbers count one byte per two significant digits plus one).
func (a *AV) size() int {
	switch {
	case a == nil:
		return 0
	case a.S != nil:
		return len(*a.S)
	case a.N != nil:
		return numSize(*a.N)
	case a.B != nil:
		return len(a.B)
	case a.SS != nil:
		n := 0
		for _, s := range a.SS {
			n += len(s)
		}
		return n
	case a.NS != nil:
		n := 0
		for _, s := range a.NS {
			n += numSize(s)
		}
		return n
	case a.BS != nil:
		n := 0
		for _, b := range a.BS {
			n += len(b)
		}
		return n
	case a.M != nil:
		n := 3
		for k, v := range a.M {
			n += len(k) + v.size() + 1
		}
		return n
	case a.L != nil:
		n := 3
		for _, v := range a.L {
			n += v.size() + 1
		}
		return n
	}
	return 1
}

func numSize(s string) int {
	digits := 0
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			digits++
		}
	}
	return (digits+1)/2 + 1
}

// itemSize is the item's size: names plus values.
func itemSize(it Item) int {
	n := 0
	for k, v := range it {
		n += len(k) + v.size()
	}
	return n
}

// String renders a for messages the way DynamoDB does ("{N:5}", "{S:x}").
func (a *AV) String() string {
	switch {
	case a == nil:
		return "{}"
	case a.S != nil:
		return "{S:" + *a.S + "}"
	case a.N != nil:
		return "{N:" + *a.N + "}"
	case a.BOOL != nil:
		if *a.BOOL {
			return "{BOOL:true}"
		}
		return "{BOOL:false}"
	case a.NULL != nil:
		return "{NULL:true}"
	}
	b, _ := a.MarshalJSON()
	return string(b)
}

// setElems returns a set's elements as strings (numbers normalised), and
// its kind; ok is false for a non-set.
func setElems(a *AV) ([]string, string, bool) {
	switch {
	case a == nil:
		return nil, "", false
	case a.SS != nil:
		return a.SS, "SS", true
	case a.NS != nil:
		return a.NS, "NS", true
	case a.BS != nil:
		return bsStrings(a.BS), "BS", true
	}
	return nil, "", false
}

func makeSet(kind string, elems []string) *AV {
	if len(elems) == 0 {
		return nil
	}
	switch kind {
	case "SS":
		return &AV{SS: elems}
	case "NS":
		return &AV{NS: elems}
	default:
		bs := make([][]byte, len(elems))
		for i, e := range elems {
			bs[i] = []byte(e)
		}
		return &AV{BS: bs}
	}
}

func setHas(kind string, elems []string, x string) bool {
	for _, e := range elems {
		if e == x || kind == "NS" && cmpNum(e, x) == 0 {
			return true
		}
	}
	return false
}
