package convert

import (
	"fmt"
	"sort"
	"strings"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/encoding"
)

// Column is one table column as the Glue catalog gives it.
type Column struct {
	Name string
	Type string // Hive type string
}

// node is a column (or nested field) with what row building needs: its
// Hive type, its children in Parquet column order and the leaf column
// indexes it spans.
type node struct {
	name     string
	typ      *Type
	children []*node // struct fields sorted by name; list: [elem]; map: [key, value]
	leaf     int     // column index of a leaf
	leaves   []int   // every leaf column index under this node
	repDepth int     // repeated ancestors, including this node's own list/map
}

// Schema is a table schema ready for conversion.
type Schema struct {
	pq      *parquet.Schema
	root    []*node // top-level columns, in Parquet (name) order
	byName  map[string]*node
	nLeaves int
}

// NewSchema builds the Parquet schema of cols. dict chooses dictionary
// encoding for byte-array leaves.
func NewSchema(cols []Column, dict bool) (*Schema, error) {
	if len(cols) == 0 {
		return nil, fmt.Errorf("the table has no columns")
	}
	g := parquet.Group{}
	s := &Schema{byName: map[string]*node{}}
	types := map[string]*Type{}
	for _, c := range cols {
		name := strings.ToLower(c.Name)
		if _, dup := types[name]; dup {
			return nil, fmt.Errorf("duplicate column %q", c.Name)
		}
		t, err := ParseType(c.Type)
		if err != nil {
			return nil, fmt.Errorf("column %s: %w", c.Name, err)
		}
		types[name] = t
		g[name] = parquetNode(t, dict)
	}
	s.pq = parquet.NewSchema("hive_schema", g)
	names := make([]string, 0, len(types))
	for n := range types {
		names = append(names, n)
	}
	sort.Strings(names) // parquet.Group orders fields by name
	next := 0
	for _, n := range names {
		nd := buildNode(n, types[n], &next, 0)
		s.root = append(s.root, nd)
		s.byName[n] = nd
	}
	s.nLeaves = next
	return s, nil
}

// Parquet is the Parquet schema.
func (s *Schema) Parquet() *parquet.Schema { return s.pq }

func buildNode(name string, t *Type, next *int, rep int) *node {
	n := &node{name: name, typ: t, repDepth: rep}
	switch t.Kind {
	case Struct:
		fs := append([]Field(nil), t.Fields...)
		sort.Slice(fs, func(i, j int) bool { return fs[i].Name < fs[j].Name })
		for _, f := range fs {
			n.children = append(n.children, buildNode(f.Name, f.Type, next, rep))
		}
	case Array:
		n.repDepth = rep + 1
		n.children = []*node{buildNode("element", t.Elem, next, rep+1)}
	case Map:
		n.repDepth = rep + 1
		n.children = []*node{buildNode("key", t.Key, next, rep+1), buildNode("value", t.Val, next, rep+1)}
	default:
		n.leaf = *next
		*next++
		n.leaves = []int{n.leaf}
		return n
	}
	for _, c := range n.children {
		n.leaves = append(n.leaves, c.leaves...)
	}
	return n
}

func parquetNode(t *Type, dict bool) parquet.Node {
	return parquet.Optional(baseNode(t, dict))
}

func baseNode(t *Type, dict bool) parquet.Node {
	var n parquet.Node
	switch t.Kind {
	case Boolean:
		return parquet.Leaf(parquet.BooleanType)
	case TinyInt:
		n = parquet.Int(8)
	case SmallInt:
		n = parquet.Int(16)
	case Int:
		n = parquet.Int(32)
	case BigInt:
		n = parquet.Int(64)
	case Float:
		n = parquet.Leaf(parquet.FloatType)
	case Double:
		n = parquet.Leaf(parquet.DoubleType)
	case Decimal:
		if t.Precision <= 18 {
			n = parquet.Decimal(t.Scale, t.Precision, parquet.Int64Type)
		} else {
			n = parquet.Decimal(t.Scale, t.Precision, parquet.FixedLenByteArrayType(16))
		}
	case String:
		n = parquet.String()
	case Binary:
		n = parquet.Leaf(parquet.ByteArrayType)
	case Timestamp:
		n = parquet.Timestamp(parquet.Millisecond)
	case Date:
		n = parquet.Date()
	case Array:
		return parquet.List(parquetNode(t.Elem, dict))
	case Map:
		return parquet.Map(baseNode(t.Key, dict), parquetNode(t.Val, dict))
	case Struct:
		g := parquet.Group{}
		for _, f := range t.Fields {
			g[f.Name] = parquetNode(f.Type, dict)
		}
		return g
	}
	if dict && (t.Kind == String || t.Kind == Binary) {
		return parquet.Encoded(n, &parquet.RLEDictionary)
	}
	if !dict && (t.Kind == String || t.Kind == Binary) {
		return parquet.Encoded(n, &parquet.Plain)
	}
	return n
}

var _ encoding.Encoding = &parquet.Plain
