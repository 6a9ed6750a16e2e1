package firehose

// The hot path of MetadataExtraction. Most queries only pick fields,
// `{customer_id: .customer_id, device: .type.device}`; for those the keys
// are read straight from the record's bytes (convert.LookupJSON) instead of
// decoding it into maps and running gojq. Any other query runs on gojq.
// FuzzLakeKeys checks that both give the same keys and the same failures.

import (
	"errors"
	"strconv"

	"github.com/eddy-streams/eddy/internal/firehose/convert"
)

// fieldQuery is a MetadataExtractionQuery of the form {k: .a.b, …}.
type fieldQuery struct {
	keys  []string
	paths [][]string
}

// jqKeywords cannot be bare object keys or field names in the fast form.
var jqKeywords = map[string]bool{"and": true, "or": true, "not": true, "if": true, "then": true, "elif": true, "else": true,
	"end": true, "as": true, "reduce": true, "foreach": true, "try": true, "catch": true, "label": true, "import": true,
	"include": true, "def": true, "true": true, "false": true, "null": true, "__loc__": true}

// parseFieldQuery recognises the field-picking form; nil for anything else.
func parseFieldQuery(q string) *fieldQuery {
	i := 0
	ws := func() {
		for i < len(q) && (q[i] == ' ' || q[i] == '\t' || q[i] == '\n' || q[i] == '\r') {
			i++
		}
	}
	ident := func() (string, bool) {
		start := i
		for i < len(q) {
			c := q[i]
			if c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > start && c >= '0' && c <= '9' {
				i++
				continue
			}
			break
		}
		s := q[start:i]
		return s, s != "" && !jqKeywords[s]
	}
	f := &fieldQuery{}
	ws()
	if i >= len(q) || q[i] != '{' {
		return nil
	}
	i++
	for {
		ws()
		key, ok := ident()
		if !ok {
			return nil
		}
		ws()
		if i >= len(q) || q[i] != ':' {
			return nil
		}
		i++
		ws()
		var path []string
		for i < len(q) && q[i] == '.' {
			i++
			name, ok := ident()
			if !ok {
				return nil
			}
			path = append(path, name)
		}
		if len(path) == 0 {
			return nil
		}
		f.keys, f.paths = append(f.keys, key), append(f.paths, path)
		ws()
		if i < len(q) && q[i] == ',' {
			i++
			continue
		}
		if i < len(q) && q[i] == '}' {
			i++
			break
		}
		return nil
	}
	ws()
	if i != len(q) {
		return nil
	}
	return f
}

// eval returns what the query returns for data, as gojq would give it
// (numbers as float64; objects and arrays, which never make a key, as a
// placeholder).
func (f *fieldQuery) eval(data []byte) (map[string]any, error) {
	if err := convert.ValidJSON(data); err != nil {
		return nil, errors.New("the record is not valid JSON: " + err.Error())
	}
	out := make(map[string]any, len(f.keys))
	for k, key := range f.keys {
		kind, raw, err := convert.LookupJSON(data, f.paths[k])
		if err != nil {
			return nil, errors.New("the MetadataExtractionQuery failed: " + err.Error())
		}
		var v any
		switch kind {
		case convert.JSONString:
			v = string(raw)
		case convert.JSONBool:
			v = raw[0] == 't'
		case convert.JSONNumber:
			n, err := strconv.ParseFloat(string(raw), 64)
			if err != nil { // ValidJSON checked the range
				return nil, errors.New("the record is not valid JSON: " + err.Error())
			}
			v = n
		case convert.JSONObject:
			v = map[string]any{}
		case convert.JSONArray:
			v = []any{}
		}
		out[key] = v
	}
	return out, nil
}
