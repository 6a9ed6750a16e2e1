package format

import (
	"errors"
	"fmt"
	"strings"

	"github.com/eddy-streams/eddy/internal/analytics/exec"
)

// node is a trie node of compiled JSONPath mappings.
type node struct {
	fields map[string]*node
	names  []string // the keys of fields, for a linear search when few
	kids   []*node
	col    int   // column taking this value whole (-1: none)
	elem   *node // `[0:]` followed by a path: one row per array element
}

func newNode() *node { return &node{col: -1} }

// child finds the trie node of a key: a linear scan of a few names beats
// hashing them.
func (n *node) child(key []byte) *node {
	if len(n.names) > 8 {
		return n.fields[string(key)]
	}
	for i, name := range n.names {
		if len(name) == len(key) && name == string(key) {
			return n.kids[i]
		}
	}
	return nil
}

type span struct {
	start, end int32
	kind       uint8
	esc        bool
}

// JSON decodes JSON records by a compiled schema.
type JSON struct {
	cols    []exec.Column
	root    *node // the record row object
	rowPath []string
	flat    bool   // a `[0:].x` mapping exists
	flatCol []bool // columns inside the flattened array
	co      coercer

	spans     []span // per column, outside the array
	elemSpans []span // per element × column
	nElems    int
	inElem    bool
	sawArray  bool
	depth     int
}

const maxDepth = 64

// NewJSON compiles a schema. rowPath is RecordRowPath ("$", or "$.a.b" for
// rows nested in an object).
func NewJSON(rowPath string, specs []ColumnSpec) (*JSON, error) {
	cols, err := Columns(specs)
	if err != nil {
		return nil, err
	}
	d := &JSON{cols: cols, root: newNode(), flatCol: make([]bool, len(cols)), co: newCoercer(cols), spans: make([]span, len(cols))}
	rp := strings.TrimSpace(rowPath)
	if rp == "" || rp[0] != '$' {
		return nil, fmt.Errorf("RecordRowPath %q must start with $", rowPath)
	}
	if rp != "$" {
		if rp[1] != '.' {
			return nil, fmt.Errorf("RecordRowPath %q: only $ and $.field paths are supported", rowPath)
		}
		for _, f := range strings.Split(rp[2:], ".") {
			if f == "" || strings.ContainsAny(f, "[]*") {
				return nil, fmt.Errorf("RecordRowPath %q: only $ and $.field paths are supported", rowPath)
			}
			d.rowPath = append(d.rowPath, f)
		}
	}
	for i, s := range specs {
		m := s.Mapping
		if m == "" {
			m = "$." + s.Name
		}
		if err := d.add(i, m); err != nil {
			return nil, fmt.Errorf("column %s: %w", s.Name, err)
		}
	}
	return d, nil
}

// add compiles one mapping.
func (d *JSON) add(col int, path string) error {
	if !strings.HasPrefix(path, "$") {
		return fmt.Errorf("mapping %q must start with $", path)
	}
	rest := path[1:]
	n := d.root
	inArray := false
	for rest != "" {
		if strings.HasPrefix(rest, "[0:]") {
			rest = rest[4:]
			if rest == "" {
				break // the whole array as text
			}
			if inArray {
				return fmt.Errorf("mapping %q: only one level of array dereference is supported", path)
			}
			if n.elem == nil {
				if d.flat {
					return fmt.Errorf("mapping %q: only one array may be flattened per schema", path)
				}
				n.elem = newNode()
				d.flat = true
			}
			n = n.elem
			inArray = true
			continue
		}
		if rest[0] != '.' {
			return fmt.Errorf("mapping %q is not a supported JSONPath ($.a.b, $.a[0:], $.a[0:].b)", path)
		}
		rest = rest[1:]
		end := strings.IndexAny(rest, ".[")
		name := rest
		if end >= 0 {
			name, rest = rest[:end], rest[end:]
		} else {
			rest = ""
		}
		if name == "" || strings.ContainsAny(name, "*]'\"") {
			return fmt.Errorf("mapping %q is not a supported JSONPath ($.a.b, $.a[0:], $.a[0:].b)", path)
		}
		if n.fields == nil {
			n.fields = map[string]*node{}
		}
		c := n.fields[name]
		if c == nil {
			c = newNode()
			n.fields[name] = c
			n.names = append(n.names, name)
			n.kids = append(n.kids, c)
		}
		n = c
	}
	if n == d.root {
		return fmt.Errorf("mapping %q names the whole record", path)
	}
	if n.col >= 0 {
		return fmt.Errorf("mapping %q is mapped twice", path)
	}
	n.col = col
	d.flatCol[col] = inArray
	return nil
}

// Columns implements Decoder.
func (d *JSON) Columns() []exec.Column { return d.cols }

var errSyntax = errors.New("malformed JSON")

// Decode implements Decoder. A record may hold several JSON documents one
// after another (newline-delimited or not); each gives its rows.
func (d *JSON) Decode(rec []byte, b *exec.Batch) (int, error) {
	start := b.Len
	total := 0
	i := skipWS(rec, 0)
	if i >= len(rec) {
		return 0, fmt.Errorf("%w: empty record", errSyntax)
	}
	for i < len(rec) {
		n, next, err := d.decodeDoc(rec, i, b)
		if err != nil {
			Truncate(b, start)
			return 0, err
		}
		total += n
		i = skipWS(rec, next)
	}
	return total, nil
}

func (d *JSON) decodeDoc(rec []byte, i int, b *exec.Batch) (int, int, error) {
	for k := range d.spans {
		d.spans[k] = span{}
	}
	d.nElems, d.inElem, d.sawArray, d.depth = 0, false, false, 0
	// descend RecordRowPath
	var end int
	var err error
	if len(d.rowPath) == 0 {
		if rec[i] != '{' {
			return 0, 0, fmt.Errorf("%w: the record is not a JSON object", errSyntax)
		}
		end, err = d.object(rec, i, d.root)
	} else {
		end, err = d.descend(rec, i, 0)
	}
	if err != nil {
		return 0, 0, err
	}
	rows, err := d.emit(rec, b)
	return rows, end, err
}

// descend walks rowPath[k:] from the object at i.
func (d *JSON) descend(rec []byte, i, k int) (int, error) {
	if i >= len(rec) || rec[i] != '{' {
		return skipValue(rec, i, 0)
	}
	i++
	for {
		i = skipWS(rec, i)
		if i >= len(rec) {
			return 0, errSyntax
		}
		if rec[i] == '}' {
			return i + 1, nil
		}
		ks, ke, _, next, err := scanString(rec, i)
		if err != nil {
			return 0, err
		}
		i = skipWS(rec, next)
		if i >= len(rec) || rec[i] != ':' {
			return 0, errSyntax
		}
		i = skipWS(rec, i+1)
		if i >= len(rec) {
			return 0, errSyntax
		}
		if string(rec[ks:ke]) == d.rowPath[k] {
			if k == len(d.rowPath)-1 {
				if rec[i] == '{' {
					i, err = d.object(rec, i, d.root)
				} else {
					i, err = skipValue(rec, i, 0)
				}
			} else {
				i, err = d.descend(rec, i, k+1)
			}
		} else {
			i, err = skipValue(rec, i, 0)
		}
		if err != nil {
			return 0, err
		}
		i = skipWS(rec, i)
		if i < len(rec) && rec[i] == ',' {
			i++
			continue
		}
		if i < len(rec) && rec[i] == '}' {
			return i + 1, nil
		}
		return 0, errSyntax
	}
}

// object scans the object at rec[i] ('{') against trie node n.
func (d *JSON) object(rec []byte, i int, n *node) (int, error) {
	d.depth++
	if d.depth > maxDepth {
		return 0, fmt.Errorf("%w: nested too deeply", errSyntax)
	}
	defer func() { d.depth-- }()
	i++
	first := true
	for {
		i = skipWS(rec, i)
		if i >= len(rec) {
			return 0, errSyntax
		}
		if rec[i] == '}' {
			if !first {
				return 0, errSyntax // trailing comma
			}
			return i + 1, nil
		}
		ks, ke, kesc, next, err := scanString(rec, i)
		if err != nil {
			return 0, err
		}
		i = skipWS(rec, next)
		if i >= len(rec) || rec[i] != ':' {
			return 0, errSyntax
		}
		i = skipWS(rec, i+1)
		if i >= len(rec) {
			return 0, errSyntax
		}
		var child *node
		if n.fields != nil {
			key := rec[ks:ke]
			if kesc {
				var e error
				d.co.scratch, e = unescape(d.co.scratch[:0], key)
				if e != nil {
					return 0, errSyntax
				}
				key = d.co.scratch
			}
			child = n.child(key)
		}
		if child == nil {
			i, err = skipValue(rec, i, d.depth)
		} else {
			i, err = d.value(rec, i, child)
		}
		if err != nil {
			return 0, err
		}
		first = false
		i = skipWS(rec, i)
		if i < len(rec) && rec[i] == ',' {
			i++
			first = true
			i = skipWS(rec, i)
			if i < len(rec) && rec[i] == '}' {
				return 0, errSyntax
			}
			first = false
			continue
		}
		if i < len(rec) && rec[i] == '}' {
			return i + 1, nil
		}
		return 0, errSyntax
	}
}

// value handles the value at rec[i] for trie node n.
func (d *JSON) value(rec []byte, i int, n *node) (int, error) {
	start := i
	var sp span
	var end int
	var err error
	switch c := rec[i]; {
	case c == '{':
		if n.fields != nil {
			end, err = d.object(rec, i, n)
		} else {
			end, err = skipValue(rec, i, d.depth)
		}
		sp = span{start: int32(start), end: int32(end), kind: kObject}
	case c == '[':
		if n.elem != nil && !d.inElem {
			end, err = d.array(rec, i, n.elem)
		} else {
			end, err = skipValue(rec, i, d.depth)
		}
		sp = span{start: int32(start), end: int32(end), kind: kArray}
	case c == '"':
		s, e, esc, next, err2 := scanString(rec, i)
		end, err = next, err2
		sp = span{start: int32(s), end: int32(e), kind: kString, esc: esc}
	default:
		end, sp, err = scanScalar(rec, i)
	}
	if err != nil {
		return 0, err
	}
	if n.col >= 0 {
		d.setSpan(n.col, sp)
	}
	return end, nil
}

func (d *JSON) setSpan(col int, sp span) {
	if d.inElem && d.flatCol[col] {
		d.elemSpans[(d.nElems-1)*len(d.cols)+col] = sp
		return
	}
	if !d.flatCol[col] {
		d.spans[col] = sp
	}
}

// array scans the flattened array: one element scope per item.
func (d *JSON) array(rec []byte, i int, elem *node) (int, error) {
	d.sawArray = true
	d.nElems = 0
	i++
	for {
		i = skipWS(rec, i)
		if i >= len(rec) {
			return 0, errSyntax
		}
		if rec[i] == ']' {
			return i + 1, nil
		}
		d.nElems++
		need := d.nElems * len(d.cols)
		for len(d.elemSpans) < need {
			d.elemSpans = append(d.elemSpans, span{})
		}
		for k := need - len(d.cols); k < need; k++ {
			d.elemSpans[k] = span{}
		}
		d.inElem = true
		var err error
		i, err = d.value(rec, i, elem)
		d.inElem = false
		if err != nil {
			return 0, err
		}
		i = skipWS(rec, i)
		if i < len(rec) && rec[i] == ',' {
			i = skipWS(rec, i+1)
			if i < len(rec) && rec[i] == ']' {
				return 0, errSyntax // trailing comma
			}
			continue
		}
		if i < len(rec) && rec[i] == ']' {
			return i + 1, nil
		}
		return 0, errSyntax
	}
}

// emit coerces the noted spans into rows.
func (d *JSON) emit(rec []byte, b *exec.Batch) (int, error) {
	rows := 1
	if d.flat && d.nElems > 0 {
		rows = d.nElems
	}
	for r := 0; r < rows; r++ {
		for c := range d.cols {
			sp := d.spans[c]
			if d.flatCol[c] {
				sp = span{}
				if d.nElems > 0 {
					sp = d.elemSpans[r*len(d.cols)+c]
				}
			}
			if err := d.co.put(b, c, sp.kind, rec[sp.start:sp.end], sp.esc); err != nil {
				return 0, err
			}
		}
		b.Len++
	}
	return rows, nil
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

// scanString reads the string at b[i] ('"'): the body is b[s:e].
func scanString(b []byte, i int) (s, e int, esc bool, next int, err error) {
	if i >= len(b) || b[i] != '"' {
		return 0, 0, false, 0, errSyntax
	}
	s = i + 1
	for j := s; j < len(b); j++ {
		switch c := b[j]; {
		case c == '"':
			return s, j, esc, j + 1, nil
		case c == '\\':
			esc = true
			j++
			if j >= len(b) {
				return 0, 0, false, 0, errSyntax
			}
			switch b[j] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if _, ok := hex4(b[j+1:]); !ok {
					return 0, 0, false, 0, errSyntax
				}
				j += 4
			default:
				return 0, 0, false, 0, errSyntax
			}
		case c < 0x20:
			return 0, 0, false, 0, errSyntax
		}
	}
	return 0, 0, false, 0, errSyntax
}

// scanScalar reads a number, true, false or null.
func scanScalar(b []byte, i int) (int, span, error) {
	switch b[i] {
	case 't':
		if len(b)-i >= 4 && string(b[i:i+4]) == "true" {
			return i + 4, span{kind: kTrue}, nil
		}
	case 'f':
		if len(b)-i >= 5 && string(b[i:i+5]) == "false" {
			return i + 5, span{kind: kFalse}, nil
		}
	case 'n':
		if len(b)-i >= 4 && string(b[i:i+4]) == "null" {
			return i + 4, span{kind: kNull}, nil
		}
	default:
		j := i
		if j < len(b) && b[j] == '-' {
			j++
		}
		digits := 0
		lead := j
		for j < len(b) && b[j] >= '0' && b[j] <= '9' {
			j++
			digits++
		}
		if digits == 0 || (digits > 1 && b[lead] == '0') {
			return 0, span{}, errSyntax
		}
		if j < len(b) && b[j] == '.' {
			j++
			fd := 0
			for j < len(b) && b[j] >= '0' && b[j] <= '9' {
				j++
				fd++
			}
			if fd == 0 {
				return 0, span{}, errSyntax
			}
		}
		if j < len(b) && (b[j] == 'e' || b[j] == 'E') {
			j++
			if j < len(b) && (b[j] == '+' || b[j] == '-') {
				j++
			}
			ed := 0
			for j < len(b) && b[j] >= '0' && b[j] <= '9' {
				j++
				ed++
			}
			if ed == 0 {
				return 0, span{}, errSyntax
			}
		}
		return j, span{start: int32(i), end: int32(j), kind: kNumber}, nil
	}
	return 0, span{}, errSyntax
}

// skipValue skips the JSON value at b[i], checking its syntax.
func skipValue(b []byte, i, depth int) (int, error) {
	if i >= len(b) {
		return 0, errSyntax
	}
	if depth > maxDepth {
		return 0, fmt.Errorf("%w: nested too deeply", errSyntax)
	}
	switch b[i] {
	case '"':
		_, _, _, next, err := scanString(b, i)
		return next, err
	case '{':
		i = skipWS(b, i+1)
		if i < len(b) && b[i] == '}' {
			return i + 1, nil
		}
		for {
			_, _, _, next, err := scanString(b, skipWS(b, i))
			if err != nil {
				return 0, err
			}
			i = skipWS(b, next)
			if i >= len(b) || b[i] != ':' {
				return 0, errSyntax
			}
			i, err = skipValue(b, skipWS(b, i+1), depth+1)
			if err != nil {
				return 0, err
			}
			i = skipWS(b, i)
			if i < len(b) && b[i] == ',' {
				i++
				continue
			}
			if i < len(b) && b[i] == '}' {
				return i + 1, nil
			}
			return 0, errSyntax
		}
	case '[':
		i = skipWS(b, i+1)
		if i < len(b) && b[i] == ']' {
			return i + 1, nil
		}
		for {
			var err error
			i, err = skipValue(b, skipWS(b, i), depth+1)
			if err != nil {
				return 0, err
			}
			i = skipWS(b, i)
			if i < len(b) && b[i] == ',' {
				i++
				continue
			}
			if i < len(b) && b[i] == ']' {
				return i + 1, nil
			}
			return 0, errSyntax
		}
	}
	next, _, err := scanScalar(b, i)
	return next, err
}
