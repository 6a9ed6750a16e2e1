package format

import (
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/eddy-streams/eddy/internal/analytics/exec"
)

// ErrorColumns are the columns of the error stream, in order.
var ErrorColumns = []exec.Column{
	{Name: "ERROR_TIME", Type: exec.TypeTimestamp},
	{Name: "ERROR_LEVEL", Type: exec.TypeVarchar, Size: 10},
	{Name: "ERROR_NAME", Type: exec.TypeVarchar, Size: 32},
	{Name: "MESSAGE", Type: exec.TypeVarchar, Size: 4096},
	{Name: "DATA_ROWTIME", Type: exec.TypeTimestamp},
	{Name: "DATA_ROW", Type: exec.TypeVarchar, Size: 49152},
	{Name: "PUMP_NAME", Type: exec.TypeVarchar, Size: 128},
}

// AppendJSONRow appends row i of b as a JSON object keyed by column name
// (AWS's JSON destination format: timestamps as "2006-01-02 15:04:05.000",
// NULL as null).
func AppendJSONRow(dst []byte, cols []exec.Column, b *exec.Batch, i int) []byte {
	dst = append(dst, '{')
	for c := range cols {
		if c > 0 {
			dst = append(dst, ',')
		}
		dst = appendJSONString(dst, cols[c].Name)
		dst = append(dst, ':')
		if c >= len(b.Cols) {
			dst = append(dst, "null"...)
			continue
		}
		v := &b.Cols[c]
		if len(v.Null) > i && v.Null[i] {
			dst = append(dst, "null"...)
			continue
		}
		switch cols[c].Type {
		case exec.TypeVarchar, exec.TypeChar:
			dst = appendJSONString(dst, v.Str[i])
		case exec.TypeBinary, exec.TypeVarbinary:
			dst = appendJSONString(dst, string(v.Bin[i]))
		case exec.TypeDate, exec.TypeTime, exec.TypeTimestamp:
			dst = append(dst, '"')
			dst = appendValue(dst, cols[c], v, i)
			dst = append(dst, '"')
		default:
			dst = appendValue(dst, cols[c], v, i)
		}
	}
	return append(dst, '}')
}

// AppendCSVRow appends row i of b as delimited text (NULL as an empty
// field; fields holding the delimiter, a quote or a newline are quoted).
func AppendCSVRow(dst []byte, cols []exec.Column, b *exec.Batch, i int, delim byte) []byte {
	for c := range cols {
		if c > 0 {
			dst = append(dst, delim)
		}
		if c >= len(b.Cols) {
			continue
		}
		v := &b.Cols[c]
		if len(v.Null) > i && v.Null[i] {
			continue
		}
		start := len(dst)
		dst = appendValue(dst, cols[c], v, i)
		if cols[c].Type == exec.TypeVarchar || cols[c].Type == exec.TypeChar {
			field := dst[start:]
			needs := false
			for _, ch := range field {
				if ch == delim || ch == '"' || ch == '\n' || ch == '\r' {
					needs = true
					break
				}
			}
			if needs {
				q := append([]byte{'"'}, nil...)
				for _, ch := range field {
					if ch == '"' {
						q = append(q, '"')
					}
					q = append(q, ch)
				}
				q = append(q, '"')
				dst = append(dst[:start], q...)
			}
		}
	}
	return dst
}

// appendValue writes one non-NULL value as text.
func appendValue(dst []byte, col exec.Column, v *exec.Vector, i int) []byte {
	switch col.Type {
	case exec.TypeVarchar, exec.TypeChar:
		return append(dst, v.Str[i]...)
	case exec.TypeBinary, exec.TypeVarbinary:
		return append(dst, v.Bin[i]...)
	case exec.TypeBoolean:
		if v.I64[i] != 0 {
			return append(dst, "true"...)
		}
		return append(dst, "false"...)
	case exec.TypeReal:
		return strconv.AppendFloat(dst, v.F64[i], 'g', -1, 32)
	case exec.TypeDouble:
		return strconv.AppendFloat(dst, v.F64[i], 'g', -1, 64)
	case exec.TypeDecimal:
		return appendDecimal(dst, v.I64[i], col.Scale)
	case exec.TypeDate:
		return time.UnixMilli(v.I64[i]*86400000).UTC().AppendFormat(dst, "2006-01-02")
	case exec.TypeTime:
		return time.UnixMilli(v.I64[i]).UTC().AppendFormat(dst, "15:04:05.000")
	case exec.TypeTimestamp:
		return time.UnixMilli(v.I64[i]).UTC().AppendFormat(dst, "2006-01-02 15:04:05.000")
	}
	return strconv.AppendInt(dst, v.I64[i], 10)
}

func appendDecimal(dst []byte, n int64, scale int) []byte {
	if scale <= 0 {
		return strconv.AppendInt(dst, n, 10)
	}
	if n < 0 {
		dst = append(dst, '-')
		n = -n
	}
	p := pow10(scale)
	dst = strconv.AppendInt(dst, n/p, 10)
	dst = append(dst, '.')
	frac := strconv.FormatInt(n%p, 10)
	for k := len(frac); k < scale; k++ {
		dst = append(dst, '0')
	}
	return append(dst, frac...)
}

const hexDigits = "0123456789abcdef"

func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			dst = append(dst, c)
			i++
			continue
		}
		if c < utf8.RuneSelf {
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
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, `\ufffd`...)
		} else {
			dst = append(dst, s[i:i+size]...)
		}
		i += size
	}
	return append(dst, '"')
}
