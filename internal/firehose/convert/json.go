package convert

// A strict JSON (RFC 8259) scanner for the conversion hot path. It accepts
// exactly what encoding/json accepts and decodes strings exactly as
// encoding/json does (invalid UTF-8 and lone surrogates become U+FFFD), so
// that rows built from it equal those built from encoding/json's values;
// FuzzDecodeJSON and FuzzRowReference check both against encoding/json.

import (
	"encoding/json"
	"fmt"
	"strconv"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// maxJSONDepth is encoding/json's nesting limit.
const maxJSONDepth = 10000

// syntaxError is a JSON syntax error at an offset.
type syntaxError struct {
	off int
	msg string
}

func (e *syntaxError) Error() string { return fmt.Sprintf("%s (at offset %d)", e.msg, e.off) }

func errAt(b []byte, i int, what string) error {
	if i >= len(b) {
		return &syntaxError{off: i, msg: "unexpected end of JSON input"}
	}
	return &syntaxError{off: i, msg: fmt.Sprintf("invalid character %q %s", b[i], what)}
}

func skipWS(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// scanString checks the string whose opening quote is at b[i] and returns
// the offset after its closing quote; plain is true when its content
// (b[i+1:end-1]) is already its decoded value (no escapes, valid UTF-8).
func scanString(b []byte, i int) (end int, plain bool, err error) {
	i++
	plain = true
	ascii := true
	start := i
	for i < len(b) {
		c := b[i]
		switch {
		case c == '"':
			if !ascii && plain {
				plain = utf8.Valid(b[start:i])
			}
			return i + 1, plain, nil
		case c == '\\':
			plain = false
			if i+1 >= len(b) {
				return 0, false, errAt(b, len(b), "")
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				for k := 2; k < 6; k++ {
					if i+k >= len(b) {
						return 0, false, errAt(b, len(b), "")
					}
					if !isHex(b[i+k]) {
						return 0, false, errAt(b, i+k, "in \\u hexadecimal character escape")
					}
				}
				i += 6
			default:
				return 0, false, errAt(b, i+1, "in string escape code")
			}
			continue
		case c < 0x20:
			return 0, false, errAt(b, i, "in string literal")
		case c >= utf8.RuneSelf:
			ascii = false
		}
		i++
	}
	return 0, false, errAt(b, len(b), "")
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// scanNumber checks the number starting at b[i].
func scanNumber(b []byte, i int) (int, error) {
	if b[i] == '-' {
		i++
	}
	if i >= len(b) {
		return 0, errAt(b, i, "")
	}
	switch {
	case b[i] == '0':
		i++
	case b[i] >= '1' && b[i] <= '9':
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		return 0, errAt(b, i, "in numeric literal")
	}
	if i < len(b) && b[i] == '.' {
		i++
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			return 0, errAt(b, i, "after decimal point in numeric literal")
		}
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			return 0, errAt(b, i, "in exponent of numeric literal")
		}
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	}
	return i, nil
}

func scanLiteral(b []byte, i int, lit string) (int, error) {
	for k := 0; k < len(lit); k++ {
		if i+k >= len(b) || b[i+k] != lit[k] {
			return 0, errAt(b, i+k, "in literal "+lit)
		}
	}
	return i + len(lit), nil
}

// skipValue checks the value starting at b[i] (no leading white space)
// and returns the offset after it.
func skipValue(b []byte, i, depth int) (int, error) { return skip(b, i, depth, false) }

// skip is skipValue; with floats, numbers a float64 cannot hold are errors
// too (as when decoding into float64).
func skip(b []byte, i, depth int, floats bool) (int, error) {
	if i >= len(b) {
		return 0, errAt(b, i, "")
	}
	switch c := b[i]; {
	case c == '"':
		end, _, err := scanString(b, i)
		return end, err
	case c == '{' || c == '[':
		if depth >= maxJSONDepth {
			return 0, &syntaxError{off: i, msg: "exceeded max depth"}
		}
		closing := byte('}')
		if c == '[' {
			closing = ']'
		}
		i = skipWS(b, i+1)
		if i < len(b) && b[i] == closing {
			return i + 1, nil
		}
		for {
			var err error
			if c == '{' {
				if i >= len(b) || b[i] != '"' {
					return 0, errAt(b, i, "looking for beginning of object key string")
				}
				if i, _, err = scanString(b, i); err != nil {
					return 0, err
				}
				i = skipWS(b, i)
				if i >= len(b) || b[i] != ':' {
					return 0, errAt(b, i, "after object key")
				}
				i = skipWS(b, i+1)
			}
			if i, err = skip(b, i, depth+1, floats); err != nil {
				return 0, err
			}
			i = skipWS(b, i)
			if i < len(b) && b[i] == ',' {
				i = skipWS(b, i+1)
				continue
			}
			if i < len(b) && b[i] == closing {
				return i + 1, nil
			}
			return 0, errAt(b, i, "after "+map[bool]string{true: "object key:value pair", false: "array element"}[c == '{'])
		}
	case c == '-' || c >= '0' && c <= '9':
		end, err := scanNumber(b, i)
		if err == nil && floats && end-i > 16 || err == nil && floats && bytesHasExp(b[i:end]) {
			if _, ferr := strconv.ParseFloat(unsafe.String(&b[i], end-i), 64); ferr != nil {
				return 0, fmt.Errorf("cannot unmarshal number %s into Go value of type float64", b[i:end])
			}
		}
		return end, err
	case c == 't':
		return scanLiteral(b, i, "true")
	case c == 'f':
		return scanLiteral(b, i, "false")
	case c == 'n':
		return scanLiteral(b, i, "null")
	}
	return 0, errAt(b, i, "looking for beginning of value")
}

// unquote decodes the string whose quotes are at b[0] and b[len(b)-1] (as
// checked by scanString) as encoding/json does.
func unquote(b []byte) []byte {
	b = b[1 : len(b)-1]
	out := make([]byte, 0, len(b)+2*utf8.UTFMax)
	for r := 0; r < len(b); {
		c := b[r]
		switch {
		case c == '\\':
			switch e := b[r+1]; e {
			case 'b':
				out = append(out, '\b')
			case 'f':
				out = append(out, '\f')
			case 'n':
				out = append(out, '\n')
			case 'r':
				out = append(out, '\r')
			case 't':
				out = append(out, '\t')
			case 'u':
				rr := hex4(b[r+2:])
				r += 6
				if utf16.IsSurrogate(rr) {
					if r+6 <= len(b) && b[r] == '\\' && b[r+1] == 'u' {
						if dec := utf16.DecodeRune(rr, hex4(b[r+2:])); dec != unicode.ReplacementChar {
							out = utf8.AppendRune(out, dec)
							r += 6
							continue
						}
					}
					rr = unicode.ReplacementChar
				}
				out = utf8.AppendRune(out, rr)
				continue
			default: // " \ /
				out = append(out, e)
			}
			r += 2
		case c < utf8.RuneSelf:
			out = append(out, c)
			r++
		default:
			rr, size := utf8.DecodeRune(b[r:])
			if rr == utf8.RuneError && size == 1 {
				out = utf8.AppendRune(out, unicode.ReplacementChar)
			} else {
				out = append(out, b[r:r+size]...)
			}
			r += size
		}
	}
	return out
}

func hex4(b []byte) rune {
	var r rune
	for _, c := range b[:4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		default:
			c = c - 'A' + 10
		}
		r = r<<4 | rune(c)
	}
	return r
}

// stringContent returns the decoded value of the string b[i:end] (quotes
// included); with plain (from scanString) it is a sub-slice of b.
func stringContent(b []byte, i, end int, plain bool) []byte {
	if plain {
		return b[i+1 : end-1]
	}
	return unquote(b[i:end])
}

// DecodeJSON decodes one JSON document as encoding/json.Unmarshal into an
// `any` does (objects as map[string]any, arrays as []any, numbers as
// float64 or, with useNumber, json.Number), with the same strictness.
func DecodeJSON(b []byte, useNumber bool) (any, error) {
	i := skipWS(b, 0)
	v, end, err := decodeValue(b, i, useNumber, 0)
	if err != nil {
		return nil, err
	}
	if end = skipWS(b, end); end != len(b) {
		return nil, errAt(b, end, "after top-level value")
	}
	return v, nil
}

// decodeValue decodes the value starting at b[i] (no leading white space).
func decodeValue(b []byte, i int, useNumber bool, depth int) (any, int, error) {
	if i >= len(b) {
		return nil, 0, errAt(b, i, "")
	}
	switch c := b[i]; {
	case c == '"':
		end, plain, err := scanString(b, i)
		if err != nil {
			return nil, 0, err
		}
		return string(stringContent(b, i, end, plain)), end, nil
	case c == '{':
		if depth >= maxJSONDepth {
			return nil, 0, &syntaxError{off: i, msg: "exceeded max depth"}
		}
		m := map[string]any{}
		i = skipWS(b, i+1)
		if i < len(b) && b[i] == '}' {
			return m, i + 1, nil
		}
		for {
			if i >= len(b) || b[i] != '"' {
				return nil, 0, errAt(b, i, "looking for beginning of object key string")
			}
			end, plain, err := scanString(b, i)
			if err != nil {
				return nil, 0, err
			}
			key := string(stringContent(b, i, end, plain))
			i = skipWS(b, end)
			if i >= len(b) || b[i] != ':' {
				return nil, 0, errAt(b, i, "after object key")
			}
			v, end, err := decodeValue(b, skipWS(b, i+1), useNumber, depth+1)
			if err != nil {
				return nil, 0, err
			}
			m[key] = v
			i = skipWS(b, end)
			if i < len(b) && b[i] == ',' {
				i = skipWS(b, i+1)
				continue
			}
			if i < len(b) && b[i] == '}' {
				return m, i + 1, nil
			}
			return nil, 0, errAt(b, i, "after object key:value pair")
		}
	case c == '[':
		if depth >= maxJSONDepth {
			return nil, 0, &syntaxError{off: i, msg: "exceeded max depth"}
		}
		a := []any{}
		i = skipWS(b, i+1)
		if i < len(b) && b[i] == ']' {
			return a, i + 1, nil
		}
		for {
			v, end, err := decodeValue(b, i, useNumber, depth+1)
			if err != nil {
				return nil, 0, err
			}
			a = append(a, v)
			i = skipWS(b, end)
			if i < len(b) && b[i] == ',' {
				i = skipWS(b, i+1)
				continue
			}
			if i < len(b) && b[i] == ']' {
				return a, i + 1, nil
			}
			return nil, 0, errAt(b, i, "after array element")
		}
	case c == '-' || c >= '0' && c <= '9':
		end, err := scanNumber(b, i)
		if err != nil {
			return nil, 0, err
		}
		if useNumber {
			return json.Number(b[i:end]), end, nil
		}
		f, err := strconv.ParseFloat(unsafe.String(&b[i], end-i), 64)
		if err != nil {
			return nil, 0, fmt.Errorf("cannot unmarshal number %s into Go value of type float64", b[i:end])
		}
		return f, end, nil
	case c == 't':
		end, err := scanLiteral(b, i, "true")
		return true, end, err
	case c == 'f':
		end, err := scanLiteral(b, i, "false")
		return false, end, err
	case c == 'n':
		end, err := scanLiteral(b, i, "null")
		return nil, end, err
	}
	return nil, 0, errAt(b, i, "looking for beginning of value")
}

func bytesHasExp(n []byte) bool {
	for _, c := range n {
		if c == 'e' || c == 'E' {
			return true
		}
	}
	return false
}

// ValidJSON reports what DecodeJSON(b, false) would: nil exactly when it
// would succeed, without building the value.
func ValidJSON(b []byte) error {
	i := skipWS(b, 0)
	end, err := skip(b, i, 0, true)
	if err != nil {
		return err
	}
	if end = skipWS(b, end); end != len(b) {
		return errAt(b, end, "after top-level value")
	}
	return nil
}

// JSONKind is the kind of a value LookupJSON finds.
type JSONKind int

const (
	JSONNull JSONKind = iota // null, or a member that is not there
	JSONString
	JSONNumber
	JSONBool
	JSONObject
	JSONArray
)

// LookupJSON follows path (object member names) from the top of the
// document b, which ValidJSON accepted, as jq's .a.b does: a missing
// member or a null on the way gives null; anything else that is not an
// object on the way is an error. Duplicate members: the last one counts,
// as when decoding into a map. It returns the value's kind and its text
// (for a string, the decoded content).
func LookupJSON(b []byte, path []string) (JSONKind, []byte, error) {
	i := skipWS(b, 0)
	end := -1 // found with the value
	for _, name := range path {
		switch b[i] {
		case 'n':
			return JSONNull, nil, nil
		case '{':
		default:
			return 0, nil, fmt.Errorf("cannot index a non-object with %q", name)
		}
		found := false
		var vs, ve int
		j := skipWS(b, i+1)
		for b[j] != '}' {
			kend, plain, _ := scanString(b, j)
			key := stringContent(b, j, kend, plain)
			j = skipWS(b, kend)
			vstart := skipWS(b, j+1)
			vend, _ := skipValue(b, vstart, 1)
			if string(key) == name {
				found, vs, ve = true, vstart, vend
			}
			j = skipWS(b, vend)
			if b[j] == ',' {
				j = skipWS(b, j+1)
			}
		}
		if !found {
			return JSONNull, nil, nil
		}
		i, end = vs, ve
	}
	if end < 0 {
		end, _ = skipValue(b, i, 0)
	}
	switch c := b[i]; {
	case c == '"':
		_, plain, _ := scanString(b, i)
		return JSONString, stringContent(b, i, end, plain), nil
	case c == 't' || c == 'f':
		return JSONBool, b[i:end], nil
	case c == 'n':
		return JSONNull, nil, nil
	case c == '{':
		return JSONObject, b[i:end], nil
	case c == '[':
		return JSONArray, b[i:end], nil
	}
	return JSONNumber, b[i:end], nil
}
