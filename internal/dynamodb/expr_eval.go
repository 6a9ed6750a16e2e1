package dynamodb

import (
	"bytes"
	"sort"
	"strings"
	"unicode/utf8"
)

// resolve finds the value at path in it, or nil.
func resolve(it Item, p docPath) *AV {
	if len(p) == 0 || p[0].isIdx {
		return nil
	}
	cur := it[p[0].name]
	for _, e := range p[1:] {
		if cur == nil {
			return nil
		}
		if e.isIdx {
			if cur.L == nil || e.index >= len(cur.L) {
				return nil
			}
			cur = cur.L[e.index]
		} else {
			if cur.M == nil {
				return nil
			}
			cur = cur.M[e.name]
		}
	}
	return cur
}

// evalOperand computes an operand's value for it; nil means "no value"
// (a missing attribute, or size of something without a size).
func evalOperand(o *operand, it Item) (*AV, error) {
	switch o.kind {
	case oPath:
		return resolve(it, o.path), nil
	case oValue:
		return o.val, nil
	case oSize:
		v := resolve(it, o.a.path)
		n := -1
		switch {
		case v == nil:
		case v.S != nil:
			n = utf8.RuneCountInString(*v.S)
		case v.B != nil:
			n = len(v.B)
		case v.SS != nil:
			n = len(v.SS)
		case v.NS != nil:
			n = len(v.NS)
		case v.BS != nil:
			n = len(v.BS)
		case v.L != nil:
			n = len(v.L)
		case v.M != nil:
			n = len(v.M)
		}
		if n < 0 {
			return nil, nil
		}
		return num(itoa(n)), nil
	case oIfNotExists:
		if v := resolve(it, o.a.path); v != nil {
			return v, nil
		}
		return evalSetValue(o.b, it)
	}
	return evalSetValue(o, it)
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}

var errBadOperandType = invalid("An operand in the update expression has an incorrect data type")

// evalSetValue computes the right-hand side of a SET action.
func evalSetValue(o *operand, it Item) (*AV, error) {
	switch o.kind {
	case oPath:
		v := resolve(it, o.path)
		if v == nil {
			return nil, invalid("The provided expression refers to an attribute that does not exist in the item")
		}
		return v, nil
	case oValue:
		return o.val, nil
	case oIfNotExists:
		return evalOperand(o, it)
	case oListAppend:
		a, err := evalSetValue(o.a, it)
		if err != nil {
			return nil, err
		}
		b, err := evalSetValue(o.b, it)
		if err != nil {
			return nil, err
		}
		if a.L == nil || b.L == nil {
			return nil, errBadOperandType
		}
		l := make([]*AV, 0, len(a.L)+len(b.L))
		l = append(l, a.L...)
		l = append(l, b.L...)
		return list(l), nil
	case oPlus, oMinus:
		a, err := evalSetValue(o.a, it)
		if err != nil {
			return nil, err
		}
		b, err := evalSetValue(o.b, it)
		if err != nil {
			return nil, err
		}
		if a.N == nil || b.N == nil {
			return nil, errBadOperandType
		}
		n, err := addNum(*a.N, *b.N, o.kind == oMinus)
		if err != nil {
			return nil, err
		}
		return num(n), nil
	}
	return nil, invalid("Invalid UpdateExpression: The function is not allowed in an update expression")
}

// evalCond evaluates a condition against it (nil: no item).
func evalCond(c *cond, it Item) (bool, error) {
	switch c.kind {
	case cTrue:
		return true, nil
	case cAnd:
		l, err := evalCond(c.a, it)
		if err != nil || !l {
			return false, err
		}
		return evalCond(c.b, it)
	case cOr:
		l, err := evalCond(c.a, it)
		if err != nil || l {
			return l, err
		}
		return evalCond(c.b, it)
	case cNot:
		l, err := evalCond(c.a, it)
		return !l, err
	case cCmp:
		l, err := evalOperand(c.args[0], it)
		if err != nil {
			return false, err
		}
		r, err := evalOperand(c.args[1], it)
		if err != nil {
			return false, err
		}
		return cmpOp(c.op, l, r), nil
	case cBetween:
		vals := make([]*AV, 3)
		for i, a := range c.args {
			v, err := evalOperand(a, it)
			if err != nil {
				return false, err
			}
			vals[i] = v
		}
		lo, ok1 := compare(vals[0], vals[1])
		hi, ok2 := compare(vals[0], vals[2])
		return ok1 && ok2 && lo >= 0 && hi <= 0, nil
	case cIn:
		v, err := evalOperand(c.args[0], it)
		if err != nil || v == nil {
			return false, err
		}
		for _, a := range c.args[1:] {
			w, err := evalOperand(a, it)
			if err != nil {
				return false, err
			}
			if equal(v, w) {
				return true, nil
			}
		}
		return false, nil
	case cFunc:
		return evalFunc(c, it)
	}
	return false, nil
}

func cmpOp(op string, l, r *AV) bool {
	switch op {
	case "=":
		return l != nil && r != nil && equal(l, r)
	case "<>":
		return l == nil || r == nil || !equal(l, r)
	}
	n, ok := compare(l, r)
	if !ok {
		return false
	}
	switch op {
	case "<":
		return n < 0
	case "<=":
		return n <= 0
	case ">":
		return n > 0
	case ">=":
		return n >= 0
	}
	return false
}

func evalFunc(c *cond, it Item) (bool, error) {
	v := resolve(it, c.args[0].path)
	switch c.op {
	case "attribute_exists":
		return v != nil, nil
	case "attribute_not_exists":
		return v == nil, nil
	}
	arg, err := evalOperand(c.args[1], it)
	if err != nil || v == nil || arg == nil {
		return false, err
	}
	switch c.op {
	case "attribute_type":
		return arg.S != nil && v.Type() == *arg.S, nil
	case "begins_with":
		switch {
		case v.S != nil && arg.S != nil:
			return strings.HasPrefix(*v.S, *arg.S), nil
		case v.B != nil && arg.B != nil:
			return bytes.HasPrefix(v.B, arg.B), nil
		}
		return false, nil
	case "contains":
		switch {
		case v.S != nil:
			return arg.S != nil && strings.Contains(*v.S, *arg.S), nil
		case v.B != nil:
			return arg.B != nil && bytes.Contains(v.B, arg.B), nil
		case v.SS != nil:
			return arg.S != nil && setHas("SS", v.SS, *arg.S), nil
		case v.NS != nil:
			return arg.N != nil && setHas("NS", v.NS, *arg.N), nil
		case v.BS != nil:
			return arg.B != nil && setHas("BS", bsStrings(v.BS), string(arg.B)), nil
		case v.L != nil:
			for _, e := range v.L {
				if equal(e, arg) {
					return true, nil
				}
			}
		}
		return false, nil
	}
	return false, nil
}

// applyUpdate runs the actions on a copy of old (nil: a new item holding
// only key) and returns the new item. Right-hand sides read the item as it
// was before the update, as DynamoDB does.
func applyUpdate(old Item, key Item, acts []action) (Item, error) {
	var it Item
	if old != nil {
		it = old.Clone()
	} else {
		it = key.Clone()
	}
	src := old
	if src == nil {
		src = key
	}
	// compute every value first
	vals := make([]*AV, len(acts))
	for i, a := range acts {
		if a.kind == aSet {
			v, err := evalSetValue(a.val, src)
			if err != nil {
				return nil, err
			}
			vals[i] = v.Clone()
		}
	}
	// removals of list elements run from the highest index down
	order := make([]int, len(acts))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(x, y int) bool {
		a, b := acts[order[x]], acts[order[y]]
		if a.kind == aRemove && b.kind == aRemove && len(a.path) == len(b.path) {
			la, lb := a.path[len(a.path)-1], b.path[len(b.path)-1]
			if la.isIdx && lb.isIdx {
				return la.index > lb.index
			}
		}
		return false
	})
	for _, i := range order {
		a := acts[i]
		var err error
		switch a.kind {
		case aSet:
			err = setPath(it, a.path, vals[i])
		case aRemove:
			removePath(it, a.path)
		case aAdd:
			err = addPath(it, a.path, a.val.val)
		case aDelete:
			err = deletePath(it, a.path, a.val.val)
		}
		if err != nil {
			return nil, err
		}
	}
	return it, nil
}

var errBadPath = invalid("The document path provided in the update expression is invalid for update")

func setPath(it Item, p docPath, v *AV) error {
	if len(p) == 1 {
		it[p[0].name] = v
		return nil
	}
	parent := resolve(it, p[:len(p)-1])
	last := p[len(p)-1]
	if parent == nil {
		return errBadPath
	}
	if last.isIdx {
		if parent.L == nil {
			return errBadPath
		}
		if last.index >= len(parent.L) {
			parent.L = append(parent.L, v)
		} else {
			parent.L[last.index] = v
		}
		return nil
	}
	if parent.M == nil {
		return errBadPath
	}
	parent.M[last.name] = v
	return nil
}

func removePath(it Item, p docPath) {
	if len(p) == 1 {
		delete(it, p[0].name)
		return
	}
	parent := resolve(it, p[:len(p)-1])
	last := p[len(p)-1]
	if parent == nil {
		return
	}
	if last.isIdx {
		if parent.L != nil && last.index < len(parent.L) {
			parent.L = append(parent.L[:last.index], parent.L[last.index+1:]...)
		}
		return
	}
	if parent.M != nil {
		delete(parent.M, last.name)
	}
}

func addPath(it Item, p docPath, v *AV) error {
	cur := resolve(it, p)
	if v.N != nil {
		if cur == nil {
			return setPath(it, p, v.Clone())
		}
		if cur.N == nil {
			return errBadOperandType
		}
		n, err := addNum(*cur.N, *v.N, false)
		if err != nil {
			return err
		}
		return setPath(it, p, num(n))
	}
	elems, kind, ok := setElems(v)
	if !ok {
		return errBadOperandType
	}
	if cur == nil {
		return setPath(it, p, v.Clone())
	}
	have, ckind, ok := setElems(cur)
	if !ok || ckind != kind {
		return errBadOperandType
	}
	out := append([]string{}, have...)
	for _, e := range elems {
		if !setHas(kind, out, e) {
			out = append(out, e)
		}
	}
	return setPath(it, p, makeSet(kind, out))
}

func deletePath(it Item, p docPath, v *AV) error {
	elems, kind, ok := setElems(v)
	if !ok {
		return errBadOperandType
	}
	cur := resolve(it, p)
	if cur == nil {
		return nil
	}
	have, ckind, ok := setElems(cur)
	if !ok || ckind != kind {
		return errBadOperandType
	}
	var out []string
	for _, e := range have {
		if !setHas(kind, elems, e) {
			out = append(out, e)
		}
	}
	if len(out) == 0 {
		removePath(it, p)
		return nil
	}
	return setPath(it, p, makeSet(kind, out))
}

// projection trie: the paths to keep.
type projNode struct {
	leaf  bool
	names map[string]*projNode
	idx   map[int]*projNode
}

func buildProj(paths []docPath) *projNode {
	root := &projNode{}
	for _, p := range paths {
		n := root
		for _, e := range p {
			var next *projNode
			if e.isIdx {
				if n.idx == nil {
					n.idx = map[int]*projNode{}
				}
				if next = n.idx[e.index]; next == nil {
					next = &projNode{}
					n.idx[e.index] = next
				}
			} else {
				if n.names == nil {
					n.names = map[string]*projNode{}
				}
				if next = n.names[e.name]; next == nil {
					next = &projNode{}
					n.names[e.name] = next
				}
			}
			n = next
		}
		n.leaf = true
	}
	return root
}

// project keeps only paths of it (nil paths: everything).
func project(it Item, paths []docPath) Item {
	if it == nil {
		return nil
	}
	if paths == nil {
		return it.Clone()
	}
	root := buildProj(paths)
	out := Item{}
	for name, n := range root.names {
		if v := projectValue(it[name], n); v != nil {
			out[name] = v
		}
	}
	return out
}

func projectValue(v *AV, n *projNode) *AV {
	if v == nil {
		return nil
	}
	if n.leaf {
		return v.Clone()
	}
	if v.M != nil && n.names != nil {
		m := Item{}
		for name, c := range n.names {
			if w := projectValue(v.M[name], c); w != nil {
				m[name] = w
			}
		}
		if len(m) == 0 {
			return nil
		}
		return mapAV(m)
	}
	if v.L != nil && n.idx != nil {
		idx := make([]int, 0, len(n.idx))
		for i := range n.idx {
			idx = append(idx, i)
		}
		sort.Ints(idx)
		var l []*AV
		for _, i := range idx {
			if i < len(v.L) {
				if w := projectValue(v.L[i], n.idx[i]); w != nil {
					l = append(l, w)
				}
			}
		}
		if len(l) == 0 {
			return nil
		}
		return list(l)
	}
	return nil
}
