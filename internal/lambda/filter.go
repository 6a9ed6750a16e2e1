package lambda

// Lambda's event-filtering pattern language, applied to a Kinesis record
// as {"partitionKey": …, "sequenceNumber": …, "data": <data as JSON>}.
// A pattern is a JSON object; every key must match (AND); a key's value is
// a nested pattern object or an array of alternatives (OR): literals
// (string, number, true/false, null) and the operators {"prefix": s},
// {"suffix": s}, {"equals-ignore-case": s}, {"anything-but": v | [v…] |
// {"prefix": s}}, {"numeric": [op, n, (op, n)]} and {"exists": bool}. An
// event value that is an array matches when any element does. Data that
// is not JSON matches only patterns without a "data" key.

import (
	"encoding/json"
	"fmt"
	"strings"
)

type pattern struct {
	fields map[string]*pattern // nested object
	alts   []matcher           // leaf alternatives
	leaf   bool
}

type matcher func(v any, present bool) bool

func compileFilters(fc *FilterCriteria) ([]*pattern, error) {
	if fc == nil {
		return nil, nil
	}
	if len(fc.Filters) > 5 {
		return nil, badMapping("Invalid filter pattern definition: a mapping takes at most 5 filters")
	}
	var out []*pattern
	for _, f := range fc.Filters {
		var raw any
		if err := json.Unmarshal([]byte(f.Pattern), &raw); err != nil {
			return nil, badMapping("Invalid filter pattern definition.")
		}
		obj, ok := raw.(map[string]any)
		if !ok {
			return nil, badMapping("Invalid filter pattern definition.")
		}
		p, err := compileObject(obj)
		if err != nil {
			return nil, badMapping("Invalid filter pattern definition. %s", err.Error())
		}
		out = append(out, p)
	}
	return out, nil
}

func compileObject(obj map[string]any) (*pattern, error) {
	p := &pattern{fields: map[string]*pattern{}}
	for k, v := range obj {
		switch x := v.(type) {
		case map[string]any:
			sub, err := compileObject(x)
			if err != nil {
				return nil, err
			}
			p.fields[k] = sub
		case []any:
			leaf := &pattern{leaf: true}
			for _, alt := range x {
				m, err := compileMatcher(alt)
				if err != nil {
					return nil, err
				}
				leaf.alts = append(leaf.alts, m)
			}
			if len(leaf.alts) == 0 {
				return nil, fmt.Errorf("empty array at %q", k)
			}
			p.fields[k] = leaf
		default:
			return nil, fmt.Errorf("value of %q must be an object or an array", k)
		}
	}
	return p, nil
}

func compileMatcher(alt any) (matcher, error) {
	obj, ok := alt.(map[string]any)
	if !ok {
		return func(v any, present bool) bool {
			return present && anyElem(v, func(e any) bool { return equalJSON(e, alt) })
		}, nil
	}
	if len(obj) != 1 {
		return nil, fmt.Errorf("an operator object takes one operator")
	}
	for op, arg := range obj {
		switch op {
		case "prefix", "suffix", "equals-ignore-case":
			s, ok := arg.(string)
			if !ok {
				return nil, fmt.Errorf("%s takes a string", op)
			}
			return func(v any, present bool) bool {
				return present && anyElem(v, func(e any) bool {
					es, ok := e.(string)
					switch {
					case !ok:
						return false
					case op == "prefix":
						return strings.HasPrefix(es, s)
					case op == "suffix":
						return strings.HasSuffix(es, s)
					}
					return strings.EqualFold(es, s)
				})
			}, nil
		case "exists":
			b, ok := arg.(bool)
			if !ok {
				return nil, fmt.Errorf("exists takes true or false")
			}
			return func(v any, present bool) bool { return present == b }, nil
		case "anything-but":
			var inner matcher
			switch a := arg.(type) {
			case []any:
				inner = func(v any, present bool) bool {
					for _, x := range a {
						if equalJSON(v, x) {
							return true
						}
					}
					return false
				}
			case map[string]any:
				m, err := compileMatcher(a)
				if err != nil {
					return nil, err
				}
				inner = m
			default:
				inner = func(v any, present bool) bool { return equalJSON(v, a) }
			}
			return func(v any, present bool) bool {
				return present && anyElem(v, func(e any) bool { return !inner(e, true) })
			}, nil
		case "numeric":
			a, ok := arg.([]any)
			if !ok || len(a) == 0 || len(a)%2 != 0 || len(a) > 4 {
				return nil, fmt.Errorf("numeric takes [op, number] or [op, number, op, number]")
			}
			type cmp struct {
				op string
				n  float64
			}
			var cs []cmp
			for i := 0; i < len(a); i += 2 {
				o, ok1 := a[i].(string)
				n, ok2 := a[i+1].(float64)
				if !ok1 || !ok2 || !strings.Contains("= < <= > >=", o) || o == "" {
					return nil, fmt.Errorf("numeric takes [op, number]")
				}
				cs = append(cs, cmp{o, n})
			}
			return func(v any, present bool) bool {
				return present && anyElem(v, func(e any) bool {
					f, ok := e.(float64)
					if !ok {
						return false
					}
					for _, c := range cs {
						var r bool
						switch c.op {
						case "=":
							r = f == c.n
						case "<":
							r = f < c.n
						case "<=":
							r = f <= c.n
						case ">":
							r = f > c.n
						case ">=":
							r = f >= c.n
						}
						if !r {
							return false
						}
					}
					return true
				})
			}, nil
		}
		return nil, fmt.Errorf("unsupported operator %q", op)
	}
	return nil, nil
}

func anyElem(v any, f func(any) bool) bool {
	if a, ok := v.([]any); ok {
		for _, e := range a {
			if f(e) {
				return true
			}
		}
		return false
	}
	return f(v)
}

func equalJSON(a, b any) bool {
	switch x := a.(type) {
	case string, float64, bool:
		return a == b
	case nil:
		return b == nil
	default:
		_ = x
		return false
	}
}

// match reports whether event (a decoded JSON object) matches p.
func (p *pattern) match(v any, present bool) bool {
	if p.leaf {
		for _, m := range p.alts {
			if m(v, present) {
				return true
			}
		}
		return false
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return false
	}
	for k, sub := range p.fields {
		fv, fp := obj[k]
		if !sub.match(fv, fp) {
			return false
		}
	}
	return true
}

// matchAny applies the filters (OR) to a Kinesis record's data.
func matchAny(ps []*pattern, pk string, data []byte) bool {
	var d any
	ev := map[string]any{"partitionKey": pk}
	if json.Unmarshal(data, &d) == nil {
		ev["data"] = d
	}
	for _, p := range ps {
		if p.match(ev, true) {
			return true
		}
	}
	return false
}
