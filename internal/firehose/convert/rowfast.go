package convert

// The row builder of the hot path. One pass over the record checks its
// syntax and notes, for every top-level member whose key (normalised as
// the SerDe does) names a column, where its value lies; duplicate keys:
// the last one wins, as with encoding/json's maps. A second pass, in
// column order, turns each noted value into Parquet values: scalars
// straight from the record's bytes (strings without escapes are not
// copied), nested values (struct, array, map columns, or an object in a
// scalar column) through DecodeJSON and the same emit as the reference.
//
// rowReference (row.go) is the plain encoding/json version it must equal;
// FuzzRowReference checks that it does.

import (
	"encoding/json"
	"strconv"
	"strings"
	"unsafe"

	"github.com/parquet-go/parquet-go"
)

// matcher is a Schema prepared for one Deserializer.
type matcher struct {
	s      *Schema
	d      *Deserializer
	byName map[string]int   // normalised key → root column, for columns without a mapping
	mapped map[string][]int // JSON key → root columns mapped to it (OpenX ColumnToJsonKeyMappings)
	flat   bool             // every column is a scalar
	names  []colName        // byName as a list, when short enough that a scan beats hashing
}

type colName struct {
	name string
	col  int
}

func newMatcher(s *Schema, d *Deserializer) *matcher {
	m := &matcher{s: s, d: d, byName: map[string]int{}, flat: true}
	for i, n := range s.root {
		if n.typ.Kind == Struct || n.typ.Kind == Array || n.typ.Kind == Map {
			m.flat = false
		}
		if key, ok := d.Mappings[n.name]; ok {
			if m.mapped == nil {
				m.mapped = map[string][]int{}
			}
			m.mapped[key] = append(m.mapped[key], i)
			continue
		}
		m.byName[n.name] = i
	}
	if len(m.byName) <= 16 {
		for name, c := range m.byName {
			m.names = append(m.names, colName{name, c})
		}
	}
	return m
}

// normalize returns key as fields() would (lower case, dots to
// underscores as configured), using buf when it must change it.
func (m *matcher) normalize(key []byte, buf []byte) []byte {
	lower := m.d.Hive || m.d.CaseInsensitive
	dots := !m.d.Hive && m.d.DotsToUnderscores
	if !lower && !dots {
		return key
	}
	change := false
	for _, c := range key {
		if c >= 0x80 {
			k := string(key)
			if dots {
				k = strings.ReplaceAll(k, ".", "_")
			}
			if lower {
				k = strings.ToLower(k)
			}
			return []byte(k)
		}
		if lower && c >= 'A' && c <= 'Z' || dots && c == '.' {
			change = true
		}
	}
	if !change {
		return key
	}
	buf = buf[:0]
	for _, c := range key {
		switch {
		case lower && c >= 'A' && c <= 'Z':
			c += 'a' - 'A'
		case dots && c == '.':
			c = '_'
		}
		buf = append(buf, c)
	}
	return buf
}

// column returns the root column named key (normalised) that no mapping
// feeds, or -1.
func (m *matcher) column(key []byte) int {
	if m.names == nil {
		if c, ok := m.byName[string(key)]; ok {
			return c
		}
		return -1
	}
	for _, nm := range m.names {
		if len(nm.name) == len(key) && nm.name == string(key) {
			return nm.col
		}
	}
	return -1
}

type span struct{ start, end int } // end 0: absent

// row converts one record. The row may refer to rec's bytes: rec must not
// change while the row is in use.
func (m *matcher) row(rec []byte) (parquet.Row, error) {
	s := m.s
	var spanBuf [32]span
	var spans []span
	if len(s.root) <= len(spanBuf) {
		spans = spanBuf[:len(s.root)]
	} else {
		spans = make([]span, len(s.root))
	}
	i := skipWS(rec, 0)
	if i >= len(rec) || rec[i] != '{' {
		if _, err := DecodeJSON(rec, true); err != nil {
			return nil, &RecordError{Code: CodeParseError, Message: "The record is not valid JSON: " + err.Error()}
		}
		return nil, &RecordError{Code: CodeParseError, Message: "The record is not a JSON object."}
	}
	var keyBuf [64]byte
	end, err := m.members(rec, i, spans, keyBuf[:0])
	if err != nil {
		return nil, &RecordError{Code: CodeParseError, Message: "The record is not valid JSON: " + err.Error()}
	}
	if end = skipWS(rec, end); end != len(rec) {
		if _, err := skipValue(rec, end, 0); err == nil {
			return nil, &RecordError{Code: CodeParseError, Message: "The record holds more than one JSON value."}
		}
		return nil, &RecordError{Code: CodeParseError, Message: "The record is not valid JSON: " + errAt(rec, end, "after top-level value").Error()}
	}
	if m.flat {
		row := make(parquet.Row, len(s.root))
		for c, n := range s.root {
			sp := spans[c]
			if sp.end == 0 || rec[sp.start] == 'n' {
				row[c] = parquet.NullValue().Level(0, 0, n.leaf)
				continue
			}
			v, err := m.scalar(n, rec, sp)
			if err != nil {
				return nil, err
			}
			row[c] = v.Level(0, 1, n.leaf)
		}
		return row, nil
	}
	row := make(parquet.Row, 0, s.nLeaves)
	var cols [][]parquet.Value
	for c, n := range s.root {
		sp := spans[c]
		if sp.end == 0 || rec[sp.start] == 'n' {
			for _, l := range n.leaves {
				row = append(row, parquet.NullValue().Level(0, 0, l))
			}
			continue
		}
		if len(n.leaves) == 1 && n.typ.Kind != Struct && n.typ.Kind != Array && n.typ.Kind != Map {
			v, err := m.scalar(n, rec, sp)
			if err != nil {
				return nil, err
			}
			row = append(row, v.Level(0, 1, n.leaf))
			continue
		}
		if n.typ.Kind == Array && rec[sp.start] == '[' && len(n.leaves) == 1 {
			if out, ok, err := m.scalarArray(n, rec, sp, row); ok {
				if err != nil {
					return nil, err
				}
				row = out
				continue
			}
		}
		val, err := DecodeJSON(rec[sp.start:sp.end], true)
		if err != nil { // checked by members already
			return nil, &RecordError{Code: CodeParseError, Message: "The record is not valid JSON: " + err.Error()}
		}
		if cols == nil {
			cols = make([][]parquet.Value, s.nLeaves)
		}
		if err := m.d.emit(n, val, 0, 0, cols); err != nil {
			return nil, err
		}
		for _, l := range n.leaves {
			row = append(row, cols[l]...)
		}
	}
	return row, nil
}

// members scans the object at rec[i] and notes where each column's value is.
func (m *matcher) members(rec []byte, i int, spans []span, keyBuf []byte) (int, error) {
	i = skipWS(rec, i+1)
	if i < len(rec) && rec[i] == '}' {
		return i + 1, nil
	}
	for {
		if i >= len(rec) || rec[i] != '"' {
			return 0, errAt(rec, i, "looking for beginning of object key string")
		}
		kend, plain, err := scanString(rec, i)
		if err != nil {
			return 0, err
		}
		key := stringContent(rec, i, kend, plain)
		i = skipWS(rec, kend)
		if i >= len(rec) || rec[i] != ':' {
			return 0, errAt(rec, i, "after object key")
		}
		vstart := skipWS(rec, i+1)
		vend, err := skipValue(rec, vstart, 1)
		if err != nil {
			return 0, err
		}
		sp := span{vstart, vend}
		if m.mapped != nil {
			for _, c := range m.mapped[string(key)] {
				spans[c] = sp
			}
		}
		if c := m.column(m.normalize(key, keyBuf)); c >= 0 {
			spans[c] = sp
		}
		i = skipWS(rec, vend)
		if i < len(rec) && rec[i] == ',' {
			i = skipWS(rec, i+1)
			continue
		}
		if i < len(rec) && rec[i] == '}' {
			return i + 1, nil
		}
		return 0, errAt(rec, i, "after object key:value pair")
	}
}

// scalar converts the value at sp for the scalar column n.
func (m *matcher) scalar(n *node, rec []byte, sp span) (parquet.Value, error) {
	d, t := m.d, n.typ
	raw := rec[sp.start:sp.end]
	switch c := raw[0]; {
	case c == '"':
		_, plain, _ := scanString(rec, sp.start)
		b := stringContent(rec, sp.start, sp.end, plain)
		switch {
		case (t.Kind == String || t.Kind == Binary) && t.Length == 0:
			return parquet.ByteArrayValue(b), nil
		case t.Kind == Decimal && !d.Hive:
			return decimalValue(t, n.name, strings.TrimSpace(unsafe.String(unsafe.SliceData(b), len(b))))
		}
		// Copied: the reference's values do not alias the record.
		return d.leaf(t, n.name, string(b))
	case c == '-' || c >= '0' && c <= '9':
		num := unsafe.String(unsafe.SliceData(raw), len(raw))
		switch t.Kind {
		case String, Binary:
			if t.Length == 0 {
				return parquet.ByteArrayValue(raw), nil
			}
		case BigInt:
			if i, err := strconv.ParseInt(num, 10, 64); err == nil {
				return parquet.Int64Value(i), nil
			}
		case Int:
			if i, err := strconv.ParseInt(num, 10, 32); err == nil {
				return parquet.Int32Value(int32(i)), nil
			}
		case Double:
			if f, err := strconv.ParseFloat(num, 64); err == nil {
				return parquet.DoubleValue(f), nil
			}
		case Decimal:
			return decimalValue(t, n.name, num)
		case Timestamp:
			if !d.Hive {
				ms, err := epoch(num, n.name)
				return parquet.Int64Value(ms), err
			}
		}
		return d.leaf(t, n.name, json.Number(string(raw)))
	case c == 't' || c == 'f':
		return d.leaf(t, n.name, c == 't')
	}
	val, err := DecodeJSON(raw, true)
	if err != nil {
		return parquet.Value{}, &RecordError{Code: CodeParseError, Message: "The record is not valid JSON: " + err.Error()}
	}
	return d.leaf(t, n.name, val)
}

// scalarArray appends the values of an array of scalars (column n, array
// at sp) to row as emit does; ok is false when an element is an object or
// an array (left to emit).
func (m *matcher) scalarArray(n *node, rec []byte, sp span, row parquet.Row) (parquet.Row, bool, error) {
	el := n.children[0]
	start := len(row)
	i := skipWS(rec, sp.start+1)
	if rec[i] == ']' { // empty: one null at the array's level
		return append(row, parquet.NullValue().Level(0, 1, el.leaf)), true, nil
	}
	for k := 0; ; k++ {
		r := 0
		if k > 0 {
			r = n.repDepth
		}
		end, err := skipValue(rec, i, 2) // checked by members: no error
		if err != nil {
			return row[:start], false, nil
		}
		switch rec[i] {
		case '{', '[':
			return row[:start], false, nil
		case 'n':
			row = append(row, parquet.NullValue().Level(r, 2, el.leaf))
		default:
			v, err := m.scalar(el, rec, span{i, end})
			if err != nil {
				return row[:start], true, err
			}
			row = append(row, v.Level(r, 3, el.leaf))
		}
		i = skipWS(rec, end)
		if rec[i] == ']' {
			return row, true, nil
		}
		i = skipWS(rec, i+1) // the comma
	}
}
