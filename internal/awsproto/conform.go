package awsproto

// A request body whose member has the wrong type gets the message AWS's
// deserializer (Coral) gives for that pair of value and member type. The
// strict decoders (encoding/json, fxamacker/cbor) run first; only when they
// fail does conform walk a generic decoding of the body against the Go shape
// to find AWS's message, or to apply the lenient conversions AWS makes (a
// decimal for an integer member is truncated, "true"/"no"/… for a boolean
// member), after which the body is decoded again.
//
// The messages, by JSON value (rows) and member type (columns), are listed
// with their sources in docs/compat/kinesis.md ("Serialization errors").

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"reflect"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/fxamacker/cbor/v2"

	"github.com/eddy-streams/eddy/internal/awserr"
)

// valueKind is a decoded value's kind as Coral names it in its messages.
type valueKind int

const (
	kNull valueKind = iota
	kString
	kNumber
	kTrue
	kFalse
	kList
	kMap
	kBytes // CBOR byte string
	kTime  // CBOR tag 1
)

func (k valueKind) token() string {
	switch k {
	case kString:
		return "STRING_VALUE"
	case kNumber:
		return "NUMBER_VALUE"
	case kTrue:
		return "TRUE_VALUE"
	case kFalse:
		return "FALSE_VALUE"
	case kBytes:
		return "BLOB_VALUE"
	case kTime:
		return "TIMESTAMP_VALUE"
	}
	return "NULL_VALUE"
}

// memberType is a model member type.
type memberType int

const (
	mAny memberType = iota
	mString
	mInteger
	mLong
	mDouble
	mBoolean
	mBlob
	mTimestamp
	mList
	mMap
	mStructure
)

// article+name of a scalar member type as Coral writes it after "converted to".
func (m memberType) target() string {
	switch m {
	case mString:
		return "a String"
	case mInteger:
		return "an Integer"
	case mLong:
		return "a Long"
	case mDouble:
		return "a Double"
	case mBoolean:
		return "a Boolean"
	case mBlob:
		return "a Blob"
	}
	return "a " + fmt.Sprint(int(m))
}

var (
	timestampType = reflect.TypeOf(Timestamp{})
	bytesType     = reflect.TypeOf([]byte(nil))
	rawType       = reflect.TypeOf(json.RawMessage(nil))
)

// memberOf classifies a Go field type. tag is the field's `aws` tag
// ("long" marks a model Long; Go's int64 serves both).
func memberOf(t reflect.Type, tag string) memberType {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == timestampType:
		return mTimestamp
	case t == bytesType:
		return mBlob
	case t == rawType:
		return mAny
	}
	switch t.Kind() {
	case reflect.String:
		return mString
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if tag == "long" {
			return mLong
		}
		return mInteger
	case reflect.Float32, reflect.Float64:
		return mDouble
	case reflect.Bool:
		return mBoolean
	case reflect.Slice, reflect.Array:
		return mList
	case reflect.Map:
		return mMap
	case reflect.Struct:
		return mStructure
	}
	return mAny
}

var (
	msgStartList   = "Start of list found where not expected"
	msgStartStruct = "Start of structure or map found where not expected."
)

func serErr(msg string) *awserr.Error {
	return &awserr.Error{Type: awserr.TSerialization, Status: 400, Message: msg}
}

// bareSerialization is the SerializationException AWS gives a body that is
// not a JSON object at all: no message.
func bareSerialization() *awserr.Error {
	return &awserr.Error{Type: awserr.TSerialization, Status: 400}
}

// rawJSON is a JSON value not decoded yet: the JSON check decodes only the
// containers it walks into, and checks strings and numbers in place.
type rawJSON []byte

// MarshalJSON writes the value as it came.
func (r rawJSON) MarshalJSON() ([]byte, error) { return r, nil }

func (r rawJSON) kind() valueKind {
	if len(r) == 0 {
		return kNull
	}
	switch r[0] {
	case '"':
		return kString
	case '{':
		return kMap
	case '[':
		return kList
	case 't':
		return kTrue
	case 'f':
		return kFalse
	case 'n':
		return kNull
	}
	return kNumber
}

// text is a raw JSON string's content, unescaped only when it has escapes.
func (r rawJSON) text() []byte {
	if len(r) >= 2 && bytes.IndexByte(r, '\\') < 0 && utf8.Valid(r) {
		return r[1 : len(r)-1]
	}
	var s string
	if json.Unmarshal(r, &s) != nil {
		return nil
	}
	return []byte(s)
}

// listOf and the map case of mapEntries decode one level of a container.
func listOf(v any) []any {
	switch x := v.(type) {
	case []any:
		return x
	case rawJSON:
		var out []any
		i := skipWS(x, 1)
		for i < len(x) && x[i] != ']' {
			j := skipValue(x, i)
			out = append(out, rawJSON(x[i:j]))
			i = skipWS(x, j)
			if i < len(x) && x[i] == ',' {
				i = skipWS(x, i+1)
			}
		}
		return out
	}
	return nil
}

// The splitters below walk JSON already known to be valid (the strict
// decoder or json.Valid checked it): strings are skipped with IndexByte, so
// a large blob costs a memory scan, not a parse.

func skipWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index after the string starting at b[i] == '"'.
func skipString(b []byte, i int) int {
	i++
	for {
		j := bytes.IndexByte(b[i:], '"')
		if j < 0 {
			return len(b)
		}
		i += j
		// an escaped quote has an odd number of backslashes before it
		n := 0
		for k := i - 1; k >= 0 && b[k] == '\\'; k-- {
			n++
		}
		i++
		if n%2 == 0 {
			return i
		}
	}
}

// skipValue returns the index after the value starting at b[i].
func skipValue(b []byte, i int) int {
	if i >= len(b) {
		return i
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				i = skipString(b, i)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return i
	}
	for i < len(b) && b[i] != ',' && b[i] != '}' && b[i] != ']' && b[i] != ' ' && b[i] != '\t' && b[i] != '\n' && b[i] != '\r' {
		i++
	}
	return i
}

func kindOf(v any) valueKind {
	switch x := v.(type) {
	case nil:
		return kNull
	case rawJSON:
		return x.kind()
	case string:
		return kString
	case json.Number, float64, float32, int64, uint64, *big.Int, big.Int:
		return kNumber
	case bool:
		if x {
			return kTrue
		}
		return kFalse
	case []any:
		return kList
	case map[string]any, map[any]any:
		return kMap
	case []byte:
		return kBytes
	case cbor.Tag:
		if x.Number == 1 {
			return kTime
		}
		return kindOf(x.Content)
	case time.Time:
		return kTime
	}
	return kNull
}

// conform checks v (a generic decoding) against the member type t and
// returns a JSON-ready copy with AWS's conversions applied, or AWS's
// SerializationException.
type conformer struct {
	changed bool // a value was converted: the strict decoding differs
}

func (cf *conformer) conform(v any, t reflect.Type, tag string) (any, *awserr.Error) {
	k := kindOf(v)
	if k == kNull {
		return nil, nil
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	m := memberOf(t, tag)
	// lists and maps where they are not expected read the same for every
	// scalar member type
	switch m {
	case mAny:
		return jsonReady(v), nil
	case mList:
		switch k {
		case kList:
			list := listOf(v)
			out := make([]any, len(list))
			for i, e := range list {
				c, err := cf.conform(e, t.Elem(), "")
				if err != nil {
					return nil, err
				}
				out[i] = c
			}
			return out, nil
		case kMap:
			return nil, serErr(msgStartStruct)
		}
		return nil, serErr("Expected list or null")
	case mMap:
		switch k {
		case kMap:
			out := map[string]any{}
			for key, e := range mapEntries(v) {
				c, err := cf.conform(e, t.Elem(), "")
				if err != nil {
					return nil, err
				}
				out[key] = c
			}
			return out, nil
		case kList:
			return nil, serErr(msgStartList)
		}
		return nil, serErr("Expected map or null")
	case mStructure:
		switch k {
		case kMap:
			return cf.conformStruct(mapEntries(v), t)
		case kList:
			return nil, serErr(msgStartList)
		}
		return nil, serErr("Expected null")
	}
	switch k {
	case kList:
		return nil, serErr(msgStartList)
	case kMap:
		return nil, serErr(msgStartStruct)
	}
	switch m {
	case mString:
		if k == kString {
			return v, nil
		}
	case mInteger, mLong:
		if k == kNumber {
			n := truncate(v, m)
			if r, ok := v.(rawJSON); !ok || json.Number(r) != n {
				cf.changed = true
			}
			return n, nil
		}
	case mDouble:
		if k == kNumber {
			return jsonReady(v), nil
		}
	case mBoolean:
		switch k {
		case kTrue, kFalse:
			return v, nil
		case kString:
			switch strings.ToLower(strOf(v)) {
			case "true", "yes", "y", "t", "1":
				cf.changed = true
				return true, nil
			case "false", "no", "n", "f", "0":
				cf.changed = true
				return false, nil
			}
			// the string path says "an Boolean", as AWS writes it
			return nil, serErr("STRING_VALUE can not be converted to an Boolean")
		}
	case mBlob:
		switch k {
		case kBytes:
			return v, nil
		case kString:
			var err *awserr.Error
			if r, ok := v.(rawJSON); ok {
				err = checkBase64(r.text())
			} else {
				err = checkBase64(v.(string))
			}
			if err != nil {
				return nil, err
			}
			return v, nil
		}
	case mTimestamp:
		switch k {
		case kNumber:
			return jsonReady(v), nil
		case kTime:
			return jsonReady(v), nil
		case kString:
			return nil, serErr("class java.lang.String can not be converted to milliseconds since epoch")
		case kTrue, kFalse:
			return nil, serErr("class java.lang.Boolean can not be converted to milliseconds since epoch")
		}
		return nil, serErr(k.token() + " can not be converted to milliseconds since epoch")
	}
	return nil, serErr(k.token() + " can not be converted to " + m.target())
}

// conformStruct checks the members of an object against struct type t.
// Members the shape does not know are dropped, as AWS ignores them; member
// names match exactly (encoding/json would also match other cases).
func (cf *conformer) conformStruct(obj map[string]any, t reflect.Type) (any, *awserr.Error) {
	out := map[string]any{}
	fields := structFields(t)
	if len(obj) > 0 && !cf.changed {
		// encoding/json would fill a member from a key that differs only in
		// case; AWS ignores such a key
		for k := range obj {
			for _, f := range fields {
				if k != f.name && strings.EqualFold(k, f.name) {
					cf.changed = true
				}
			}
		}
	}
	for _, f := range fields {
		v, ok := obj[f.name]
		if !ok {
			continue
		}
		c, err := cf.conform(v, f.typ, f.tag)
		if err != nil {
			return nil, err
		}
		if c != nil {
			out[f.name] = c
		}
	}
	return out, nil
}

type field struct {
	name string
	typ  reflect.Type
	tag  string
}

func structFields(t reflect.Type) []field {
	var out []field
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if f.Anonymous && name == "" {
			ft := f.Type
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				out = append(out, structFields(ft)...)
				continue
			}
		}
		if name == "" {
			name = f.Name
		}
		out = append(out, field{name: name, typ: f.Type, tag: f.Tag.Get("aws")})
	}
	return out
}

// mapEntries turns a decoded JSON or CBOR map into string-keyed entries
// (CBOR keys that are not text are dropped: no member has such a name).
func mapEntries(v any) map[string]any {
	switch m := v.(type) {
	case rawJSON:
		out := map[string]any{}
		i := skipWS(m, 1)
		for i < len(m) && m[i] == '"' {
			j := skipString(m, i)
			key := string(rawJSON(m[i:j]).text())
			i = skipWS(m, j)
			if i < len(m) && m[i] == ':' {
				i = skipWS(m, i+1)
			}
			j = skipValue(m, i)
			out[key] = rawJSON(m[i:j]) // the last of duplicate keys wins, as in encoding/json
			i = skipWS(m, j)
			if i < len(m) && m[i] == ',' {
				i = skipWS(m, i+1)
			}
		}
		return out
	case map[string]any:
		return m
	case map[any]any:
		out := make(map[string]any, len(m))
		for k, e := range m {
			if s, ok := k.(string); ok {
				out[s] = e
			}
		}
		return out
	}
	return nil
}

// strOf is a string value's text.
func strOf(v any) string {
	if r, ok := v.(rawJSON); ok {
		return string(r.text())
	}
	s, _ := v.(string)
	return s
}

// truncate reads a number as Coral reads it for an Integer or Long member:
// the integer part, saturated at the type's bounds.
func truncate(v any, m memberType) any {
	lo, hi := big.NewInt(math.MinInt32), big.NewInt(math.MaxInt32)
	if m == mLong {
		lo, hi = big.NewInt(math.MinInt64), big.NewInt(math.MaxInt64)
	}
	var n *big.Int
	if r, ok := v.(rawJSON); ok {
		v = json.Number(r)
	}
	switch x := v.(type) {
	case json.Number:
		f, _, err := big.ParseFloat(string(x), 10, 256, big.ToZero)
		if err != nil {
			return json.Number("0")
		}
		n, _ = f.Int(nil)
	case float64:
		if math.IsNaN(x) {
			return json.Number("0")
		}
		f := new(big.Float).SetPrec(256)
		if math.IsInf(x, 0) {
			f.SetInf(x < 0)
			if x < 0 {
				return json.Number(lo.String())
			}
			return json.Number(hi.String())
		}
		f.SetFloat64(x)
		n, _ = f.Int(nil)
	case int64:
		n = big.NewInt(x)
	case uint64:
		n = new(big.Int).SetUint64(x)
	case *big.Int:
		n = x
	case big.Int:
		n = &x
	default:
		return json.Number("0")
	}
	if n.Cmp(lo) < 0 {
		n = lo
	} else if n.Cmp(hi) > 0 {
		n = hi
	}
	return json.Number(n.String())
}

// jsonReady turns CBOR-decoded scalars into values encoding/json writes as
// the same JSON (a tag-1 timestamp of milliseconds becomes epoch seconds).
func jsonReady(v any) any {
	switch x := v.(type) {
	case time.Time:
		// the CBOR decoder read tag 1's milliseconds as seconds
		return json.Number(string(AppendEpochSeconds(nil, x.Unix())))
	case cbor.Tag:
		if x.Number == 1 {
			switch c := x.Content.(type) {
			case uint64:
				return json.Number(string(AppendEpochSeconds(nil, int64(min(c, 1<<62)))))
			case int64:
				return json.Number(string(AppendEpochSeconds(nil, c)))
			case float64:
				if math.IsNaN(c) || math.IsInf(c, 0) {
					return json.Number("0")
				}
				return json.Number(string(AppendEpochSeconds(nil, int64(c))))
			}
			return nil
		}
		return jsonReady(x.Content)
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return json.Number("0")
		}
	case map[any]any:
		return mapEntries(x)
	}
	return v
}

// checkBase64 applies AWS's checks to a Blob member's text, with its
// messages (kinesalite's AWS-recorded tests): length a multiple of 4, the
// base64 alphabet with '=' only as padding at the end, and no bits set past
// the data in the last character (canonical encoding). It does not allocate.
func checkBase64[T string | []byte](s T) *awserr.Error {
	if len(s)%4 != 0 {
		return serErr(fmt.Sprintf("'%s' can not be converted to a Blob: Base64 encoded length is expected a multiple of 4 bytes but found: %d", s, len(s)))
	}
	pad := 0
	if n := len(s); n > 0 && s[n-1] == '=' {
		pad = 1
		if n > 1 && s[n-2] == '=' {
			pad = 2
		}
	}
	for i := 0; i < len(s)-pad; i++ {
		if b64val(s[i]) < 0 {
			return serErr(fmt.Sprintf("'%s' can not be converted to a Blob: Invalid Base64 character: '%c'", s, s[i]))
		}
	}
	if pad > 0 {
		last := b64val(s[len(s)-pad-1])
		if last < 0 || (pad == 1 && last&0x3 != 0) || (pad == 2 && last&0xf != 0) || len(s) == pad {
			return serErr(fmt.Sprintf("'%s' can not be converted to a Blob: Invalid last non-pad Base64 character dectected", s))
		}
	}
	return nil
}

func b64val(c byte) int {
	switch {
	case c >= 'A' && c <= 'Z':
		return int(c - 'A')
	case c >= 'a' && c <= 'z':
		return int(c-'a') + 26
	case c >= '0' && c <= '9':
		return int(c-'0') + 52
	case c == '+':
		return 62
	case c == '/':
		return 63
	}
	return -1
}

// check walks body against v's shape. strictOK says whether the strict
// decoder already filled v; check decodes again into v only when AWS's
// reading differs (a conversion, or a strict failure).
func check(c Codec, body []byte, v any, strictOK bool) error {
	var tree any
	if c == CBOR {
		if err := cborDec.Unmarshal(body, &tree); err != nil {
			return bareSerialization()
		}
	} else {
		body = bytes.TrimSpace(body)
		// the strict decoder checked the syntax when it succeeded
		if !strictOK && !json.Valid(body) {
			return bareSerialization()
		}
		tree = rawJSON(body)
	}
	switch kindOf(tree) {
	case kMap:
	case kList:
		return serErr(msgStartList)
	default:
		return bareSerialization()
	}
	t := reflect.TypeOf(v)
	if t == nil || t.Kind() != reflect.Pointer {
		return bareSerialization()
	}
	var cf conformer
	norm, aerr := cf.conform(tree, t.Elem(), "")
	if aerr != nil {
		return aerr
	}
	if strictOK && !cf.changed {
		return nil
	}
	rv := reflect.ValueOf(v).Elem()
	rv.Set(reflect.Zero(rv.Type()))
	b, err := json.Marshal(norm)
	if err != nil {
		return bareSerialization()
	}
	if err := json.Unmarshal(b, v); err != nil {
		if ae, ok := awserr.As(err); ok {
			return ae
		}
		return bareSerialization()
	}
	return nil
}
