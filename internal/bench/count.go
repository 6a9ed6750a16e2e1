package bench

import (
	"encoding/json"
	"errors"
	"fmt"
)

// countRecords returns the number of elements of the top-level "Records"
// array of a JSON object: the record count of a PutRecords (or Firehose
// PutRecordBatch) request body. It is a single forward scan with no
// allocation on the common path: strings are skipped with their escapes,
// nested values by bracket depth. For valid JSON it agrees with
// encoding/json (exact, case-sensitive key match; the last duplicate key
// wins; a null or absent "Records" counts 0). Invalid JSON yields an error or
// a count, never a panic; it is not a validator.
func countRecords(b []byte) (int, error) {
	i := skipWS(b, 0)
	if i >= len(b) || b[i] != '{' {
		return 0, errors.New("body is not a JSON object")
	}
	i = skipWS(b, i+1)
	if i < len(b) && b[i] == '}' {
		return 0, nil
	}
	count := 0
	for {
		if i >= len(b) || b[i] != '"' {
			return 0, fmt.Errorf("expected member name at offset %d", i)
		}
		end, err := skipString(b, i)
		if err != nil {
			return 0, err
		}
		isRecords, err := keyIs(b[i:end], "Records")
		if err != nil {
			return 0, err
		}
		i = skipWS(b, end)
		if i >= len(b) || b[i] != ':' {
			return 0, fmt.Errorf("expected ':' at offset %d", i)
		}
		i = skipWS(b, i+1)
		if isRecords {
			n, next, err := countArray(b, i)
			if err != nil {
				return 0, err
			}
			count, i = n, next
		} else if i, err = skipValue(b, i); err != nil {
			return 0, err
		}
		i = skipWS(b, i)
		if i >= len(b) {
			return 0, errors.New("unterminated object")
		}
		switch b[i] {
		case ',':
			i = skipWS(b, i+1)
		case '}':
			return count, nil
		default:
			return 0, fmt.Errorf("unexpected %q at offset %d", b[i], i)
		}
	}
}

// keyIs reports whether the JSON string literal lit (quotes included)
// decodes to want. Literals without escapes are compared directly.
func keyIs(lit []byte, want string) (bool, error) {
	plain := true
	for _, c := range lit[1 : len(lit)-1] {
		if c == '\\' {
			plain = false
			break
		}
	}
	if plain {
		return string(lit[1:len(lit)-1]) == want, nil
	}
	var s string
	if err := json.Unmarshal(lit, &s); err != nil {
		return false, fmt.Errorf("bad member name: %w", err)
	}
	return s == want, nil
}

// countArray counts the elements of the array (or null) starting at b[i] and
// returns the offset after it.
func countArray(b []byte, i int) (n, next int, err error) {
	if i < len(b) && b[i] == 'n' {
		next, err = skipValue(b, i)
		return 0, next, err
	}
	if i >= len(b) || b[i] != '[' {
		return 0, i, fmt.Errorf("\"Records\" is not an array at offset %d", i)
	}
	i = skipWS(b, i+1)
	if i < len(b) && b[i] == ']' {
		return 0, i + 1, nil
	}
	for {
		if i, err = skipValue(b, i); err != nil {
			return 0, i, err
		}
		n++
		i = skipWS(b, i)
		if i >= len(b) {
			return 0, i, errors.New("unterminated array")
		}
		switch b[i] {
		case ',':
			i = skipWS(b, i+1)
		case ']':
			return n, i + 1, nil
		default:
			return 0, i, fmt.Errorf("unexpected %q in array at offset %d", b[i], i)
		}
	}
}

// skipValue returns the offset just after the JSON value starting at b[i].
func skipValue(b []byte, i int) (int, error) {
	if i >= len(b) {
		return i, errors.New("expected value at end of input")
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				end, err := skipString(b, i)
				if err != nil {
					return end, err
				}
				i = end
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1, nil
				}
			}
			i++
		}
		return i, errors.New("unterminated container")
	case ',', ':', '}', ']':
		return i, fmt.Errorf("expected value at offset %d", i)
	}
	start := i
	for i < len(b) {
		switch b[i] {
		case ',', '}', ']', ' ', '\t', '\r', '\n', ':', '"', '{', '[':
			if i == start {
				return i, fmt.Errorf("expected value at offset %d", i)
			}
			return i, nil
		}
		i++
	}
	return i, nil
}

// skipString returns the offset just after the string literal at b[i].
func skipString(b []byte, i int) (int, error) {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1, nil
		}
	}
	return i, errors.New("unterminated string")
}

func skipWS(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\r', '\n':
			i++
		default:
			return i
		}
	}
	return i
}
