package exec

import (
	"strconv"
	"strings"

	"github.com/eddy-streams/eddy/internal/analytics/sql"
)

// The log-parsing functions return ROW values whose fields are COLUMN1…n
// (or the names a column description gives).

func rowCols(n int, t Column) []Column {
	cols := make([]Column, n)
	for i := range cols {
		cols[i] = t
		cols[i].Name = "COLUMN" + strconv.Itoa(i+1)
	}
	return cols
}

func constString(cp *compiler, x *cexpr, pos sql.Pos, what string) string {
	if !x.konst {
		semErr(pos, "%s must be a constant", what)
	}
	var c evalCtx
	v := x.fn(&c)
	if v.null {
		semErr(pos, "%s must not be NULL", what)
	}
	if !isStrType(x.t()) {
		return toString(v, x.t())
	}
	return v.s
}

var w3cFormats = map[string]string{
	"COMMON":            `%h %l %u %t "%r" %>s %b`,
	"COMMON WITH VHOST": `%v %h %l %u %t "%r" %>s %b`,
	"NCSA EXTENDED":     `%h %l %u %t "%r" %>s %b "%[Referer]i" "%[User-agent]i"`,
	"REFERER":           `%[Referer]i ---> %U`,
	"AGENT":             `%[User-agent]i`,
}

// w3cPart is a specifier (spec non-empty) or literal text.
type w3cPart struct {
	spec string
	lit  string
}

func parseW3CFormat(f string) []w3cPart {
	var parts []w3cPart
	var lit strings.Builder
	for i := 0; i < len(f); i++ {
		if f[i] != '%' || i+1 >= len(f) {
			lit.WriteByte(f[i])
			continue
		}
		if lit.Len() > 0 {
			parts = append(parts, w3cPart{lit: lit.String()})
			lit.Reset()
		}
		j := i + 1
		for j < len(f) && (f[j] == '>' || f[j] == '<' || f[j] == '!' || f[j] == ',' || f[j] >= '0' && f[j] <= '9') {
			j++
		}
		if j < len(f) && (f[j] == '[' || f[j] == '{') {
			close := byte(']')
			if f[j] == '{' {
				close = '}'
			}
			k := strings.IndexByte(f[j:], close)
			if k < 0 {
				k = len(f) - j - 1
			}
			j += k + 1
		}
		if j < len(f) {
			j++
		}
		parts = append(parts, w3cPart{spec: f[i:j]})
		i = j - 1
	}
	if lit.Len() > 0 {
		parts = append(parts, w3cPart{lit: lit.String()})
	}
	return parts
}

// parseW3C splits line by the format's parts; fields it cannot find are
// NULL.
func parseW3C(line string, parts []w3cPart, n int) []value {
	out := make([]value, n)
	for i := range out {
		out[i] = nullValue
	}
	pos, field := 0, 0
	for k, p := range parts {
		if p.spec == "" {
			if strings.HasPrefix(line[pos:], p.lit) {
				pos += len(p.lit)
			}
			continue
		}
		var end int
		switch {
		case strings.HasSuffix(p.spec, "t") && pos < len(line) && line[pos] == '[':
			e := strings.IndexByte(line[pos:], ']')
			if e < 0 {
				end = len(line)
			} else {
				end = pos + e + 1
			}
		case k+1 < len(parts) && parts[k+1].spec == "":
			lit := parts[k+1].lit
			e := strings.Index(line[pos:], lit)
			if e < 0 {
				end = len(line)
			} else {
				end = pos + e
			}
		default:
			end = len(line)
		}
		if field < n {
			out[field] = value{s: line[pos:end]}
		}
		field++
		pos = end
	}
	return out
}

func (cp *compiler) logParse(name string, e *sql.Call) *cexpr {
	vc := Column{Type: TypeVarchar, Size: 1024}
	switch name {
	case "W3C_LOG_PARSE":
		a := cp.args(e, 2, 2)
		s := cp.coerceStr(a[0])
		f := constString(cp, a[1], e.P, "W3C_LOG_PARSE format")
		if pre, ok := w3cFormats[strings.ToUpper(strings.TrimSpace(f))]; ok {
			f = pre
		}
		parts := parseW3CFormat(f)
		n := 0
		for _, p := range parts {
			if p.spec != "" {
				n++
			}
		}
		out := mk(typeRow, func(c *evalCtx) value {
			v := s.fn(c)
			if v.null {
				return rowValue(nullRow(n))
			}
			return rowValue(parseW3C(v.s, parts, n))
		})
		out.fields = rowCols(n, vc)
		return out
	case "REGEX_LOG_PARSE", "FAST_REGEX_LOG_PARSER", "FAST_REGEX_LOG_PARSE":
		a := cp.args(e, 2, 2)
		s := cp.coerceStr(a[0])
		pat := constString(cp, a[1], e.P, name+" pattern")
		re, err := compileJava(pat)
		if err != nil {
			semErr(sql.PosOf(e.Args[1]), "invalid regular expression: %v", err)
		}
		n := re.groups
		out := mk(typeRow, func(c *evalCtx) value {
			v := s.fn(c)
			if v.null {
				return rowValue(nullRow(n))
			}
			r, err := re.submatches(v.s)
			if err != nil {
				return c.fail(&evalError{"REGEX_ERROR", err.Error()})
			}
			if r == nil {
				return rowValue(nullRow(n))
			}
			return rowValue(r)
		})
		out.fields = rowCols(n, vc)
		return out
	case "VARIABLE_COLUMN_LOG_PARSE":
		a := cp.args(e, 3, 5)
		s := cp.coerceStr(a[0])
		var cols []Column
		if isIntType(a[1].t()) {
			if !a[1].konst {
				semErr(sql.PosOf(e.Args[1]), "the number of columns must be a constant")
			}
			var c evalCtx
			n := int(a[1].fn(&c).i)
			if n < 1 || n > 1000 {
				semErr(e.P, "invalid number of columns %d", n)
			}
			cols = rowCols(n, Column{Type: TypeVarchar, Size: 1024})
		} else {
			cols = cp.columnDescs(constString(cp, a[1], e.P, "column description"), e.P)
		}
		delim := constString(cp, a[2], e.P, "delimiter")
		esc, quote := "", ""
		if len(a) > 3 {
			esc = constString(cp, a[3], e.P, "escape")
		}
		if len(a) > 4 {
			quote = constString(cp, a[4], e.P, "quote")
		}
		out := mk(typeRow, func(c *evalCtx) value {
			v := s.fn(c)
			if v.null {
				return rowValue(nullRow(len(cols)))
			}
			fields := splitFields(v.s, delim, esc, quote)
			r := make([]value, len(cols))
			for k := range cols {
				if k >= len(fields) {
					r[k] = nullValue
					continue
				}
				x, err := convert(value{s: fields[k]}, TypeVarchar, cols[k])
				if err != nil {
					return c.fail(&evalError{"CAST_ERROR", err.Error()})
				}
				r[k] = x
			}
			return rowValue(r)
		})
		out.fields = cols
		return out
	case "SYS_LOG_PARSE":
		a := cp.args(e, 1, 1)
		s := cp.coerceStr(a[0])
		out := mk(typeRow, func(c *evalCtx) value {
			v := s.fn(c)
			if v.null || len(v.s) < 16 {
				return rowValue(nullRow(2))
			}
			ms, err := parseJava(v.s[:15], "MMM dd HH:mm:ss")
			if err != nil {
				ms, err = parseJava(strings.Replace(v.s[:15], "  ", " 0", 1), "MMM dd HH:mm:ss")
			}
			if err != nil {
				return rowValue(nullRow(2))
			}
			return rowValue([]value{{i: ms}, {s: strings.TrimLeft(v.s[15:], " ")}})
		})
		out.fields = []Column{{Name: "COLUMN1", Type: TypeTimestamp}, {Name: "COLUMN2", Type: TypeVarchar, Size: 1024}}
		return out
	case "FIXED_COLUMN_LOG_PARSE":
		a := cp.args(e, 2, 2)
		s := cp.coerceStr(a[0])
		desc := constString(cp, a[1], e.P, "column description")
		type fixed struct {
			col        Column
			start, len int
		}
		var fs []fixed
		for _, part := range strings.Split(desc, ",") {
			up := strings.ToUpper(part)
			si := strings.Index(up, " START ")
			if si < 0 {
				semErr(e.P, "column description %q needs START", strings.TrimSpace(part))
			}
			cols := cp.columnDescs(part[:si], e.P)
			rest := strings.Fields(part[si+7:])
			f := fixed{col: cols[0], len: -1}
			if len(rest) == 0 {
				semErr(e.P, "bad START in %q", part)
			}
			var err error
			if f.start, err = strconv.Atoi(rest[0]); err != nil || f.start < 0 {
				semErr(e.P, "bad START in %q", strings.TrimSpace(part))
			}
			if len(rest) >= 3 && strings.EqualFold(rest[1], "FOR") {
				if f.len, err = strconv.Atoi(rest[2]); err != nil || f.len < 0 {
					semErr(e.P, "bad FOR in %q", strings.TrimSpace(part))
				}
			}
			fs = append(fs, f)
		}
		cols := make([]Column, len(fs))
		for i, f := range fs {
			cols[i] = f.col
		}
		out := mk(typeRow, func(c *evalCtx) value {
			v := s.fn(c)
			if v.null {
				return rowValue(nullRow(len(fs)))
			}
			r := make([]value, len(fs))
			for k, f := range fs {
				if f.start >= len(v.s) {
					r[k] = nullValue
					continue
				}
				end := len(v.s)
				if f.len >= 0 && f.start+f.len < end {
					end = f.start + f.len
				}
				x, err := convert(value{s: strings.TrimSpace(v.s[f.start:end])}, TypeVarchar, f.col)
				if err != nil {
					return c.fail(&evalError{"CAST_ERROR", err.Error()})
				}
				r[k] = x
			}
			return rowValue(r)
		})
		out.fields = cols
		return out
	}
	semErr(e.P, "No match found for function signature %s", name)
	return nil
}

func nullRow(n int) []value {
	r := make([]value, n)
	for i := range r {
		r[i] = nullValue
	}
	return r
}

// columnDescs parses 'NAME TYPE VARCHAR(16) [NOT NULL], …'.
func (cp *compiler) columnDescs(desc string, pos sql.Pos) []Column {
	var cols []Column
	for _, part := range strings.Split(desc, ",") {
		// Re-join pieces split inside parentheses (DECIMAL(10,2)).
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		src := "CREATE STREAM x (" + strings.Replace(part, " TYPE ", " ", 1) + ")"
		src = strings.Replace(src, " type ", " ", 1)
		script, err := sql.Parse(src)
		if err != nil || len(script.Stmts) != 1 {
			semErr(pos, "invalid column description %q", part)
		}
		cd := script.Stmts[0].(*sql.CreateStream).Columns[0]
		c := columnOf(cd.Type)
		c.Name = cd.Name.Text
		cols = append(cols, c)
	}
	if len(cols) == 0 {
		semErr(pos, "empty column description")
	}
	return cols
}

// splitFields splits s on delim, honouring an escape string and a quote
// pair.
func splitFields(s, delim, esc, quote string) []string {
	if delim == "" {
		return []string{s}
	}
	var open, close byte
	if quote != "" {
		open, close = quote[0], quote[0]
		if len(quote) > 1 {
			close = quote[1]
		}
	}
	var fields []string
	var cur strings.Builder
	inQuote := false
	for i := 0; i < len(s); {
		switch {
		case esc != "" && strings.HasPrefix(s[i:], esc) && i+len(esc) < len(s):
			i += len(esc)
			cur.WriteByte(s[i])
			i++
		case quote != "" && !inQuote && s[i] == open:
			inQuote = true
			i++
		case quote != "" && inQuote && s[i] == close:
			inQuote = false
			i++
		case !inQuote && strings.HasPrefix(s[i:], delim):
			fields = append(fields, cur.String())
			cur.Reset()
			i += len(delim)
		default:
			cur.WriteByte(s[i])
			i++
		}
	}
	return append(fields, cur.String())
}
