package convert

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/eddy-streams/eddy/internal/awsproto"
	"regexp"
)

// csvToJSON maps delimited columns to named JSON fields. Like the AWS agent,
// the delimiter is a regular expression, missing columns become null, extra
// columns are dropped, trailing empty columns count as missing, and there is
// no quoting.
type csvToJSON struct {
	fields  []string
	keys    [][]byte // pre-encoded `"name":`
	lit     []byte   // literal delimiter when the pattern has no metacharacters
	re      *regexp.Regexp
	pretty  bool
	vals    [][]byte
	present []bool
}

func parseCSV(raw map[string]json.RawMessage) (Converter, error) {
	fields, ok, err := listField(raw, "customFieldNames")
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errors.New("customFieldNames: required for CSVTOJSON")
	}
	delim, err := strField(raw, "delimiter", false)
	if err != nil {
		return nil, err
	}
	if delim == "" {
		delim = ","
	}
	pretty, err := jsonFormat(raw)
	if err != nil {
		return nil, err
	}
	c := &csvToJSON{fields: fields, pretty: pretty}
	if regexp.QuoteMeta(delim) == delim {
		c.lit = []byte(delim)
	} else {
		re, err := regexp.Compile(delim)
		if err != nil {
			return nil, fmt.Errorf("delimiter: not a valid regular expression: %w", err)
		}
		c.re = re
	}
	for _, f := range fields {
		c.keys = append(c.keys, append(awsproto.AppendJSONString(nil, []byte(f)), ':'))
	}
	c.vals = make([][]byte, len(fields))
	c.present = make([]bool, len(fields))
	return c, nil
}

func (c *csvToJSON) Name() string { return "CSVTOJSON" }

func (c *csvToJSON) Convert(dst, rec []byte) ([]byte, error) {
	rec = trimNL(rec)
	n := 0
	if c.re != nil {
		for _, col := range c.re.Split(string(rec), len(c.fields)+1) {
			if n == len(c.fields) {
				break
			}
			c.vals[n] = []byte(col)
			n++
		}
	} else {
		rest := rec
		for n < len(c.fields) {
			i := bytes.Index(rest, c.lit)
			if i < 0 {
				c.vals[n] = rest
				n++
				break
			}
			c.vals[n] = rest[:i]
			n++
			rest = rest[i+len(c.lit):]
		}
	}
	// Trailing empty columns are missing (String.split semantics).
	for n > 0 && len(c.vals[n-1]) == 0 {
		n--
	}
	start := len(dst)
	dst = append(dst, '{')
	for i, k := range c.keys {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, k...)
		if i < n {
			dst = awsproto.AppendJSONString(dst, c.vals[i])
		} else {
			dst = append(dst, "null"...)
		}
	}
	dst = append(dst, '}')
	for i := range c.vals {
		c.vals[i] = nil
	}
	return finish(dst, start, c.pretty), nil
}
