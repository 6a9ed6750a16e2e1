// Package convert turns JSON records into Apache Parquet files the way
// Firehose's record format conversion does: the columns and their Hive types
// come from a Glue table, the JSON is read with the rules of the OpenX or the
// Hive JSON SerDe, and the file is written with parquet-go
// (github.com/parquet-go/parquet-go) using the ParquetSerDe options.
//
// Records that do not fit the schema are reported one by one (Failure) and
// left out of the file; the caller writes them to the format-conversion-failed
// error output.
//
// Hive types map to Parquet as follows (every column and nested field is
// optional, as Hive columns are nullable):
//
//	boolean            BOOLEAN
//	tinyint/smallint   INT32 (INT(8)/INT(16))
//	int                INT32
//	bigint             INT64
//	float / double     FLOAT / DOUBLE
//	decimal(p,s)       INT64 DECIMAL(p,s) for p ≤ 18, else FIXED_LEN_BYTE_ARRAY(16) DECIMAL(p,s)
//	string/char/varchar BYTE_ARRAY (STRING)
//	binary             BYTE_ARRAY
//	timestamp          INT64 TIMESTAMP(MILLIS, UTC)
//	date               INT32 DATE
//	array<T>           LIST
//	map<K,V>           MAP (keys required)
//	struct<a:T,…>      group
package convert

import (
	"fmt"
	"strconv"
	"strings"
)

// Kind is a Hive type's kind.
type Kind int

const (
	Boolean Kind = iota
	TinyInt
	SmallInt
	Int
	BigInt
	Float
	Double
	Decimal
	String
	Binary
	Timestamp
	Date
	Array
	Map
	Struct
)

// Type is a parsed Hive column type.
type Type struct {
	Kind             Kind
	Precision, Scale int     // decimal
	Length           int     // char/varchar (0: unbounded)
	Elem, Key, Val   *Type   // array, map
	Fields           []Field // struct, in declaration order
}

// Field is one struct field.
type Field struct {
	Name string
	Type *Type
}

// ParseType parses a Hive type string such as
// `array<struct<a:int,b:map<string,decimal(10,2)>>>`.
func ParseType(s string) (*Type, error) {
	p := &typeParser{s: strings.TrimSpace(s)}
	t, err := p.parse(0)
	if err != nil {
		return nil, err
	}
	p.skip()
	if p.i != len(p.s) {
		return nil, fmt.Errorf("unexpected %q at %d in type %q", p.s[p.i:], p.i, s)
	}
	return t, nil
}

type typeParser struct {
	s string
	i int
}

func (p *typeParser) skip() {
	for p.i < len(p.s) && p.s[p.i] == ' ' {
		p.i++
	}
}

func (p *typeParser) ident() string {
	p.skip()
	j := p.i
	for j < len(p.s) && (p.s[j] == '_' || p.s[j] >= 'a' && p.s[j] <= 'z' || p.s[j] >= 'A' && p.s[j] <= 'Z' || p.s[j] >= '0' && p.s[j] <= '9') {
		j++
	}
	id := p.s[p.i:j]
	p.i = j
	return id
}

func (p *typeParser) expect(c byte) error {
	p.skip()
	if p.i >= len(p.s) || p.s[p.i] != c {
		return fmt.Errorf("expected '%c' at %d in type %q", c, p.i, p.s)
	}
	p.i++
	return nil
}

func (p *typeParser) peek(c byte) bool {
	p.skip()
	return p.i < len(p.s) && p.s[p.i] == c
}

func (p *typeParser) number() (int, error) {
	p.skip()
	j := p.i
	for j < len(p.s) && p.s[j] >= '0' && p.s[j] <= '9' {
		j++
	}
	n, err := strconv.Atoi(p.s[p.i:j])
	if err != nil {
		return 0, fmt.Errorf("expected a number at %d in type %q", p.i, p.s)
	}
	p.i = j
	return n, nil
}

const maxDepth = 32

func (p *typeParser) parse(depth int) (*Type, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("type %q nests too deeply", p.s)
	}
	name := strings.ToLower(p.ident())
	switch name {
	case "boolean":
		return &Type{Kind: Boolean}, nil
	case "tinyint":
		return &Type{Kind: TinyInt}, nil
	case "smallint":
		return &Type{Kind: SmallInt}, nil
	case "int", "integer":
		return &Type{Kind: Int}, nil
	case "bigint":
		return &Type{Kind: BigInt}, nil
	case "float":
		return &Type{Kind: Float}, nil
	case "double":
		return &Type{Kind: Double}, nil
	case "string":
		return &Type{Kind: String}, nil
	case "binary":
		return &Type{Kind: Binary}, nil
	case "timestamp":
		return &Type{Kind: Timestamp}, nil
	case "date":
		return &Type{Kind: Date}, nil
	case "char", "varchar":
		t := &Type{Kind: String}
		if err := p.expect('('); err != nil {
			return nil, err
		}
		n, err := p.number()
		if err != nil {
			return nil, err
		}
		t.Length = n
		return t, p.expect(')')
	case "decimal":
		t := &Type{Kind: Decimal, Precision: 10, Scale: 0} // Hive's default
		if p.peek('(') {
			p.i++
			n, err := p.number()
			if err != nil {
				return nil, err
			}
			t.Precision = n
			if p.peek(',') {
				p.i++
				if t.Scale, err = p.number(); err != nil {
					return nil, err
				}
			}
			if err := p.expect(')'); err != nil {
				return nil, err
			}
		}
		if t.Precision < 1 || t.Precision > 38 || t.Scale < 0 || t.Scale > t.Precision {
			return nil, fmt.Errorf("invalid decimal(%d,%d) in type %q", t.Precision, t.Scale, p.s)
		}
		return t, nil
	case "array":
		if err := p.expect('<'); err != nil {
			return nil, err
		}
		e, err := p.parse(depth + 1)
		if err != nil {
			return nil, err
		}
		return &Type{Kind: Array, Elem: e}, p.expect('>')
	case "map":
		if err := p.expect('<'); err != nil {
			return nil, err
		}
		k, err := p.parse(depth + 1)
		if err != nil {
			return nil, err
		}
		if k.Kind >= Array {
			return nil, fmt.Errorf("map keys must be primitive in type %q", p.s)
		}
		if err := p.expect(','); err != nil {
			return nil, err
		}
		v, err := p.parse(depth + 1)
		if err != nil {
			return nil, err
		}
		return &Type{Kind: Map, Key: k, Val: v}, p.expect('>')
	case "struct":
		if err := p.expect('<'); err != nil {
			return nil, err
		}
		t := &Type{Kind: Struct}
		for {
			fn := p.ident()
			if fn == "" {
				return nil, fmt.Errorf("expected a field name at %d in type %q", p.i, p.s)
			}
			if err := p.expect(':'); err != nil {
				return nil, err
			}
			ft, err := p.parse(depth + 1)
			if err != nil {
				return nil, err
			}
			t.Fields = append(t.Fields, Field{Name: strings.ToLower(fn), Type: ft})
			if p.peek(',') {
				p.i++
				continue
			}
			return t, p.expect('>')
		}
	case "uniontype":
		return nil, fmt.Errorf("uniontype is not supported")
	case "":
		return nil, fmt.Errorf("expected a type name at %d in type %q", p.i, p.s)
	}
	return nil, fmt.Errorf("unknown type %q", name)
}
