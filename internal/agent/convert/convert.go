// Package convert implements the agent's data converters — the
// dataProcessingOptions of the AWS Kinesis Agent's agent.json: SINGLELINE,
// CSVTOJSON, LOGTOJSON and ADDMETADATA, applied to each record in the order
// they are configured.
//
// Design:
//   - A record is the bytes of one (possibly multi-line) log record with its
//     trailing newline, as the AWS agent sends it. Every converter strips that
//     newline, converts, and appends a newline again, so chained output stays
//     newline-terminated like the AWS agent's.
//   - Converters append into a caller-owned buffer (Convert(dst, rec)) and
//     never keep a reference to either slice: the hot path allocates nothing.
//   - A record a parser cannot read returns an error wrapping ErrUnparsed. The
//     caller decides (flow setting onParseError) whether the raw record is sent
//     or skipped; either way it is counted. The AWS agent drops such records
//     silently; this package never decides that.
//   - The Apache access-log formats are parsed by hand (they dominate real
//     traffic); the other formats and matchPattern use RE2 regular expressions.
//   - JSON is written by hand with keys in field order, values as strings and
//     "-" as null for the Apache formats, matching the AWS agent's output.
package convert

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/eddy-streams/eddy/internal/awsproto"
	"strings"
	"time"
)

// ErrUnparsed marks a record that does not match the configured format.
var ErrUnparsed = errors.New("record does not match the log format")

// Converter transforms one record. It appends the result to dst and returns
// it; rec is never modified or retained.
type Converter interface {
	Convert(dst, rec []byte) ([]byte, error)
	Name() string
}

// Chain applies converters in order.
type Chain struct {
	convs []Converter
	bufs  [2][]byte
}

// NewChain returns a chain of the given converters.
func NewChain(convs ...Converter) *Chain { return &Chain{convs: convs} }

// Len is the number of converters.
func (c *Chain) Len() int { return len(c.convs) }

// Convert runs rec through every converter. The result aliases an internal
// buffer that the next call reuses; with no converters it is rec itself.
// A Chain is not safe for concurrent use.
func (c *Chain) Convert(rec []byte) ([]byte, error) {
	cur := rec
	for i, cv := range c.convs {
		b := i % 2
		out, err := cv.Convert(c.bufs[b][:0], cur)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", cv.Name(), err)
		}
		c.bufs[b] = out
		cur = out
	}
	return cur, nil
}

// Options are what converters need from outside the option itself.
type Options struct {
	Now func() time.Time // ADDMETADATA timestamps; time.Now when nil
}

// Parse builds a converter from one dataProcessingOptions entry. Errors name
// the offending key.
func Parse(raw map[string]json.RawMessage, opt Options) (Converter, error) {
	name, err := strField(raw, "optionName", true)
	if err != nil {
		return nil, err
	}
	var allowed []string
	var conv Converter
	switch name {
	case "SINGLELINE":
		allowed = []string{"parseOptions"}
		conv, err = parseSingleLine(raw)
	case "CSVTOJSON":
		allowed = []string{"customFieldNames", "delimiter", "jsonFormat"}
		conv, err = parseCSV(raw)
	case "LOGTOJSON":
		allowed = []string{"logFormat", "matchPattern", "customFieldNames", "jsonFormat"}
		conv, err = parseLog(raw)
	case "ADDMETADATA":
		allowed = []string{"metadata", "metadataFields", "timestamp", "jsonFormat"}
		conv, err = parseAddMetadata(raw, opt)
	case "ADDEC2METADATA", "ADDBRACKETS", "USINGPLUGGIN":
		return nil, fmt.Errorf("optionName: %q is not supported by eddy agent (supported: SINGLELINE, CSVTOJSON, LOGTOJSON, ADDMETADATA)", name)
	default:
		return nil, fmt.Errorf("optionName: unknown converter %q (supported: SINGLELINE, CSVTOJSON, LOGTOJSON, ADDMETADATA)", name)
	}
	if err != nil {
		return nil, err
	}
	for k := range raw {
		if k == "optionName" {
			continue
		}
		ok := false
		for _, a := range allowed {
			if k == a {
				ok = true
			}
		}
		if !ok {
			return nil, fmt.Errorf("%s: unknown key for %s (allowed: %s)", k, name, strings.Join(allowed, ", "))
		}
	}
	return conv, nil
}

// strField reads a string-valued key (numbers are accepted as their text).
func strField(raw map[string]json.RawMessage, key string, required bool) (string, error) {
	v, ok := raw[key]
	if !ok {
		if required {
			return "", fmt.Errorf("%s: required", key)
		}
		return "", nil
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		var n json.Number
		if err2 := json.Unmarshal(v, &n); err2 != nil {
			return "", fmt.Errorf("%s: want a string, got %s", key, v)
		}
		s = n.String()
	}
	return s, nil
}

func listField(raw map[string]json.RawMessage, key string) ([]string, bool, error) {
	v, ok := raw[key]
	if !ok {
		return nil, false, nil
	}
	var l []string
	if err := json.Unmarshal(v, &l); err != nil {
		return nil, true, fmt.Errorf("%s: want a list of strings, got %s", key, v)
	}
	if len(l) == 0 {
		return nil, true, fmt.Errorf("%s: must not be empty", key)
	}
	return l, true, nil
}

func boolField(raw map[string]json.RawMessage, key string) (bool, error) {
	v, ok := raw[key]
	if !ok {
		return false, nil
	}
	var b bool
	if err := json.Unmarshal(v, &b); err == nil {
		return b, nil
	}
	var s string
	if err := json.Unmarshal(v, &s); err == nil {
		switch strings.ToLower(s) {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
	}
	return false, fmt.Errorf("%s: want true or false, got %s", key, v)
}

// jsonFormat reads the jsonFormat key: COMPACT (default) or PRETTYPRINT.
func jsonFormat(raw map[string]json.RawMessage) (pretty bool, err error) {
	s, err := strField(raw, "jsonFormat", false)
	if err != nil {
		return false, err
	}
	switch s {
	case "", "COMPACT":
		return false, nil
	case "PRETTYPRINT":
		return true, nil
	}
	return false, fmt.Errorf("jsonFormat: want COMPACT or PRETTYPRINT, got %q", s)
}

// trimNL removes one trailing "\n" (and a "\r" before it).
func trimNL(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
		if n := len(b); n > 0 && b[n-1] == '\r' {
			b = b[:n-1]
		}
	}
	return b
}

// finish pretty-prints the JSON object written at dst[start:] when asked,
// then appends the record's newline.
func finish(dst []byte, start int, pretty bool) []byte {
	if pretty {
		var buf bytes.Buffer
		if err := json.Indent(&buf, dst[start:], "", "  "); err == nil {
			dst = append(dst[:start], buf.Bytes()...)
		}
	}
	return append(dst, '\n')
}

// ---- SINGLELINE ----

type singleLine struct {
	noTrim, escape bool
}

func parseSingleLine(raw map[string]json.RawMessage) (Converter, error) {
	c := &singleLine{}
	if v, ok := raw["parseOptions"]; ok {
		var opts []string
		if err := json.Unmarshal(v, &opts); err != nil {
			return nil, fmt.Errorf("parseOptions: want a list of strings, got %s", v)
		}
		for _, o := range opts {
			switch o {
			case "NO_TRIM":
				c.noTrim = true
			case "ESCAPE_NEW_LINE":
				c.escape = true
			default:
				return nil, fmt.Errorf("parseOptions: unknown option %q (allowed: NO_TRIM, ESCAPE_NEW_LINE)", o)
			}
		}
	}
	return c, nil
}

func (c *singleLine) Name() string { return "SINGLELINE" }

func (c *singleLine) Convert(dst, rec []byte) ([]byte, error) {
	rec = trimNL(rec)
	first := true
	for len(rec) > 0 || first {
		var line []byte
		if i := bytes.IndexByte(rec, '\n'); i >= 0 {
			line, rec = rec[:i], rec[i+1:]
		} else {
			line, rec = rec, nil
		}
		if !c.noTrim {
			line = bytes.TrimSpace(line)
		}
		if !first && c.escape {
			dst = append(dst, '\\', 'n')
		}
		dst = append(dst, line...)
		first = false
	}
	return append(dst, '\n'), nil
}

// ---- ADDMETADATA ----

type addMetadata struct {
	metadata []byte // compact JSON
	ts       bool
	now      func() time.Time
	pretty   bool
}

func parseAddMetadata(raw map[string]json.RawMessage, opt Options) (Converter, error) {
	key := "metadata"
	md, ok := raw[key]
	if !ok {
		key = "metadataFields"
		md, ok = raw[key]
	}
	if !ok {
		return nil, errors.New("metadata: required")
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, md); err != nil {
		return nil, fmt.Errorf("%s: not valid JSON: %w", key, err)
	}
	ts, err := boolField(raw, "timestamp")
	if err != nil {
		return nil, err
	}
	pretty, err := jsonFormat(raw)
	if err != nil {
		return nil, err
	}
	now := opt.Now
	if now == nil {
		now = time.Now
	}
	return &addMetadata{metadata: buf.Bytes(), ts: ts, now: now, pretty: pretty}, nil
}

func (c *addMetadata) Name() string { return "ADDMETADATA" }

func (c *addMetadata) Convert(dst, rec []byte) ([]byte, error) {
	start := len(dst)
	dst = append(dst, '{')
	if c.ts {
		dst = append(dst, `"ts":"`...)
		dst = c.now().UTC().AppendFormat(dst, "2006-01-02T15:04:05.000Z07:00")
		dst = append(dst, `",`...)
	}
	dst = append(dst, `"metadata":`...)
	dst = append(dst, c.metadata...)
	dst = append(dst, `,"data":`...)
	dst = awsproto.AppendJSONString(dst, trimNL(rec))
	dst = append(dst, '}')
	return finish(dst, start, c.pretty), nil
}
