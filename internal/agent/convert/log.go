package convert

import (
	"encoding/json"
	"errors"
	"fmt"
	"github.com/eddy-streams/eddy/internal/awsproto"
	"regexp"
	"strings"
)

// Log formats of LOGTOJSON and their default field names (the AWS agent's).
var (
	commonFields   = []string{"host", "ident", "authuser", "datetime", "request", "response", "bytes"}
	combinedFields = append(append([]string(nil), commonFields...), "referer", "agent")
	errorFields    = []string{"timestamp", "module", "severity", "processid", "threadid", "client", "message"}
	syslogFields   = []string{"timestamp", "hostname", "program", "processid", "message"}
)

// Regular expressions for the formats not parsed by hand. They follow the
// AWS agent's field sets; the Apache error log also accepts lines without a
// [client …] part (startup and module notices), whose client is null.
const (
	reMonth       = `(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*`
	reTime        = `\d{1,2}:\d{2}:\d{2}(?:[.,]\d+)?`
	reErrorLog    = `^\[((?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]*\s+` + reMonth + `\s+\d{1,2}\s+` + reTime + `\s+\d{4})\] \[(?:(\w+):)?(\w+)\] \[pid (\d+)(?::tid (\d+))?\] (?:\[client ([^\]\s]+)\] )?(.*)$`
	reSyslogTail  = ` (?:<\d+\.\d+> )?([a-zA-Z0-9._-]+) ([\w._/%-]+)(?:\[(\d+)\])?: (.*)$`
	reSyslog      = `^(` + reMonth + `\s+\d{1,2}\s+` + reTime + `)` + reSyslogTail
	reRFC3339Sysl = `^(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2}))` + reSyslogTail
)

// logToJSON parses one log format into a JSON object.
type logToJSON struct {
	format  string
	fields  [][]byte // pre-encoded `"name":`
	re      *regexp.Regexp
	dashNil bool // "-" means absent (Apache formats)
	pretty  bool
	vals    [][]byte
	present []bool
}

func parseLog(raw map[string]json.RawMessage) (Converter, error) {
	format, err := strField(raw, "logFormat", true)
	if err != nil {
		return nil, err
	}
	pattern, err := strField(raw, "matchPattern", false)
	if err != nil {
		return nil, err
	}
	custom, hasCustom, err := listField(raw, "customFieldNames")
	if err != nil {
		return nil, err
	}
	pretty, err := jsonFormat(raw)
	if err != nil {
		return nil, err
	}
	var defaults []string
	var expr string
	dashNil := false
	switch format {
	case "COMMONAPACHELOG":
		defaults, dashNil = commonFields, true
	case "COMBINEDAPACHELOG":
		defaults, dashNil = combinedFields, true
	case "APACHEERRORLOG":
		defaults, expr, dashNil = errorFields, reErrorLog, true
	case "SYSLOG":
		defaults, expr = syslogFields, reSyslog
	case "RFC3339SYSLOG":
		defaults, expr = syslogFields, reRFC3339Sysl
	default:
		return nil, fmt.Errorf("logFormat: unknown format %q (allowed: COMMONAPACHELOG, COMBINEDAPACHELOG, APACHEERRORLOG, SYSLOG, RFC3339SYSLOG)", format)
	}
	fields := defaults
	c := &logToJSON{format: format, dashNil: dashNil, pretty: pretty}
	if pattern != "" {
		if !hasCustom {
			return nil, errors.New("customFieldNames: required when matchPattern is set")
		}
		re, err := regexp.Compile(`^(?:` + pattern + `)$`)
		if err != nil {
			return nil, fmt.Errorf("matchPattern: not a valid regular expression: %w", err)
		}
		if re.NumSubexp() != len(custom) {
			return nil, fmt.Errorf("customFieldNames: %d names for %d groups in matchPattern", len(custom), re.NumSubexp())
		}
		c.re = re
		fields = custom
	} else {
		if hasCustom {
			if len(custom) != len(defaults) {
				return nil, fmt.Errorf("customFieldNames: %s has %d fields (%s), got %d names", format, len(defaults), strings.Join(defaults, ", "), len(custom))
			}
			fields = custom
		}
		if expr != "" {
			c.re = regexp.MustCompile(expr)
		}
	}
	for _, f := range fields {
		c.fields = append(c.fields, append(awsproto.AppendJSONString(nil, []byte(f)), ':'))
	}
	c.vals = make([][]byte, len(fields))
	c.present = make([]bool, len(fields))
	return c, nil
}

func (c *logToJSON) Name() string { return "LOGTOJSON" }

func (c *logToJSON) Convert(dst, rec []byte) ([]byte, error) {
	line := trimNL(rec)
	for i := range c.present {
		c.present[i] = false
	}
	if c.re != nil {
		m := c.re.FindSubmatchIndex(line)
		if m == nil {
			return nil, fmt.Errorf("%s: %w", c.format, ErrUnparsed)
		}
		for i := range c.vals {
			a, b := m[2+2*i], m[3+2*i]
			if a >= 0 {
				c.vals[i], c.present[i] = line[a:b], true
			}
		}
	} else if !parseApache(line, c.vals, c.present, len(c.vals) == len(combinedFields)) {
		return nil, fmt.Errorf("%s: %w", c.format, ErrUnparsed)
	}
	start := len(dst)
	dst = append(dst, '{')
	for i, k := range c.fields {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, k...)
		v := c.vals[i]
		if !c.present[i] || (c.dashNil && len(v) == 1 && v[0] == '-') {
			dst = append(dst, "null"...)
		} else {
			dst = awsproto.AppendJSONString(dst, v)
		}
	}
	dst = append(dst, '}')
	for i := range c.vals {
		c.vals[i] = nil
	}
	return finish(dst, start, c.pretty), nil
}

// parseApache reads an Apache common (7 fields) or combined (9 fields) access
// log line:
//
//	host ident authuser [datetime] "request" status bytes ["referer" "agent"]
//
// Anything after the last field is ignored (like the AWS agent's trailing
// ".*"). Quoted fields may contain backslash-escaped quotes, as Apache writes
// them; the value is the text between the quotes, escapes kept.
func parseApache(s []byte, vals [][]byte, present []bool, combined bool) bool {
	i := 0
	// host, ident, authuser: non-empty tokens separated by one space.
	for f := 0; f < 3; f++ {
		j := i
		for j < len(s) && s[j] != ' ' {
			j++
		}
		if j == i || j == len(s) {
			return false
		}
		vals[f], present[f] = s[i:j], true
		i = j + 1
	}
	// [datetime]
	if i >= len(s) || s[i] != '[' {
		return false
	}
	j := i + 1
	for j < len(s) && s[j] != ']' {
		j++
	}
	if j == len(s) || !httpDate(s[i+1:j]) {
		return false
	}
	vals[3], present[3] = s[i+1:j], true
	i = j + 1
	if i+1 >= len(s) || s[i] != ' ' {
		return false
	}
	i++
	v, n, ok := quoted(s[i:])
	if !ok {
		return false
	}
	vals[4], present[4] = v, true
	i += n
	// status and bytes: an integer or "-".
	for f := 5; f < 7; f++ {
		if i >= len(s) || s[i] != ' ' {
			return false
		}
		i++
		j := i
		for j < len(s) && s[j] != ' ' {
			j++
		}
		if !intOrDash(s[i:j]) {
			return false
		}
		vals[f], present[f] = s[i:j], true
		i = j
	}
	if !combined {
		return true
	}
	for f := 7; f < 9; f++ {
		if i+1 >= len(s) || s[i] != ' ' {
			return false
		}
		i++
		v, n, ok := quoted(s[i:])
		if !ok {
			return false
		}
		vals[f], present[f] = v, true
		i += n
	}
	return true
}

// quoted reads a non-empty "…" field at the start of s, honouring \" and \\.
// It returns the inner text and the bytes consumed.
func quoted(s []byte) ([]byte, int, bool) {
	if len(s) < 3 || s[0] != '"' {
		return nil, 0, false
	}
	for j := 1; j < len(s); j++ {
		switch s[j] {
		case '\\':
			j++
		case '"':
			if j == 1 {
				return nil, 0, false
			}
			return s[1:j], j + 1, true
		}
	}
	return nil, 0, false
}

func intOrDash(s []byte) bool {
	if len(s) == 1 && s[0] == '-' {
		return true
	}
	if len(s) > 0 && (s[0] == '+' || s[0] == '-') {
		s = s[1:]
	}
	if len(s) == 0 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// httpDate checks the shape dd/Mon/yyyy:hh:mm:ss zone, e.g.
// 10/Oct/2000:13:55:36 -0700.
func httpDate(s []byte) bool {
	// Minimal length: d/Mon/y:h:mm:ss +0 → be lenient on widths but strict
	// on separators.
	p := 0
	digits := func(min, max int) bool {
		n := 0
		for p < len(s) && s[p] >= '0' && s[p] <= '9' && n < max {
			p++
			n++
		}
		return n >= min
	}
	lit := func(c byte) bool {
		if p < len(s) && s[p] == c {
			p++
			return true
		}
		return false
	}
	if !digits(1, 2) || !lit('/') {
		return false
	}
	m := p
	for p < len(s) && ((s[p] >= 'a' && s[p] <= 'z') || (s[p] >= 'A' && s[p] <= 'Z')) {
		p++
	}
	if p-m < 3 || !lit('/') || !digits(1, 9) || !lit(':') || !digits(1, 2) || !lit(':') ||
		!digits(2, 2) || !lit(':') || !digits(2, 2) {
		return false
	}
	if lit('.') || lit(',') {
		if !digits(1, 9) {
			return false
		}
	}
	if !lit(' ') {
		return false
	}
	if p < len(s) && (s[p] == '+' || s[p] == '-') {
		p++
	}
	return digits(1, 4) && p == len(s)
}
