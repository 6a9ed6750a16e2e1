package awsproto

import (
	"bytes"
	"encoding/base64"
	"unicode/utf8"
)

// The hot operations (Kinesis PutRecords, Firehose PutRecordBatch) decode
// their JSON bodies with a small Scanner that understands only the plain
// shape SDKs send and gives up on anything else, leaving it to Decode; the
// hot responses are written with AppendJSONString instead of reflection.

// Scanner reads JSON tokens from B starting at I.
type Scanner struct {
	B []byte
	I int
}

// WS skips white space.
func (s *Scanner) WS() {
	for s.I < len(s.B) {
		switch s.B[s.I] {
		case ' ', '\t', '\n', '\r':
			s.I++
		default:
			return
		}
	}
}

// Eat consumes c after white space, reporting whether it was there.
func (s *Scanner) Eat(c byte) bool {
	s.WS()
	if s.I < len(s.B) && s.B[s.I] == c {
		s.I++
		return true
	}
	return false
}

// Peek returns the next byte after white space (0 at the end).
func (s *Scanner) Peek() byte {
	s.WS()
	if s.I < len(s.B) {
		return s.B[s.I]
	}
	return 0
}

// Null consumes a literal null.
func (s *Scanner) Null() bool {
	s.WS()
	if len(s.B)-s.I >= 4 && string(s.B[s.I:s.I+4]) == "null" {
		s.I += 4
		return true
	}
	return false
}

// Str returns a string's raw bytes. ok is false for escapes, control
// characters and non-ASCII bytes (left to the generic decoder, which also
// replaces invalid UTF-8).
func (s *Scanner) Str() (b []byte, ok bool) {
	if !s.Eat('"') {
		return nil, false
	}
	start := s.I
	for s.I < len(s.B) {
		c := s.B[s.I]
		switch {
		case c == '"':
			s.I++
			return s.B[start : s.I-1], true
		case c == '\\' || c < 0x20 || c >= 0x80:
			return nil, false
		}
		s.I++
	}
	return nil, false
}

// RawStr returns the bytes up to the next quote without looking at them,
// for values the caller checks byte by byte anyway (base64 text: a
// backslash, control character or non-ASCII byte fails its decoding).
func (s *Scanner) RawStr() (b []byte, ok bool) {
	if !s.Eat('"') {
		return nil, false
	}
	j := bytes.IndexByte(s.B[s.I:], '"')
	if j < 0 {
		return nil, false
	}
	b = s.B[s.I : s.I+j]
	s.I += j + 1
	return b, true
}

// DecodeBase64 decodes standard padded base64 text into dst (which must
// have room for base64.StdEncoding.DecodedLen(len(src)) bytes), refusing the
// line breaks base64.StdEncoding would skip: they are not valid inside a JSON
// string.
func DecodeBase64(dst, src []byte) (int, bool) {
	if len(src)%4 != 0 {
		return 0, false
	}
	n, err := base64.StdEncoding.Strict().Decode(dst, src)
	pad := 0
	if len(src) > 0 && src[len(src)-1] == '=' {
		pad++
		if src[len(src)-2] == '=' {
			pad++
		}
	}
	if err != nil || n != len(src)/4*3-pad {
		return 0, false
	}
	return n, true
}

// End reports whether only white space is left.
func (s *Scanner) End() bool {
	s.WS()
	return s.I == len(s.B)
}

const hexDigits = "0123456789abcdef"

// AppendJSONString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD
// and U+2028/U+2029 are escaped, as encoding/json does; HTML characters are
// left alone.
func AppendJSONString(dst, s []byte) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRune(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i++
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
