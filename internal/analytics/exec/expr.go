package exec

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/eddy-streams/eddy/internal/analytics/sql"
)

// System column indexes in a scope (negative: not in Batch.Cols).
const (
	idxRowtime = -1 - iota
	idxArrival
	idxPartitionKey
	idxShardID
	idxSequence
)

// scopeCol is one column visible to expressions.
type scopeCol struct {
	quals  []string // names that qualify it (stream name, alias)
	name   string
	field  string // set for a flattened field of a ROW-typed column
	col    Column
	idx    int
	system bool // excluded from *
	mono   bool // values never decrease along the stream (copied from a monotonic expression)
	rtTime bool // and follow ROWTIME
}

type scope struct {
	cols []scopeCol
}

// physical returns the batch columns of the scope (non-system, in order).
func (s *scope) physical() []Column {
	var cols []Column
	for _, c := range s.cols {
		if c.idx >= 0 {
			cols = append(cols, c.col)
		}
	}
	return cols
}

// evalCtx is the row being evaluated.
type evalCtx struct {
	b    *Batch
	i    int
	err  error
	prog *Program
}

func (c *evalCtx) fail(err error) value {
	if c.err == nil {
		c.err = err
	}
	return nullValue
}

// cexpr is a compiled, typed expression.
type cexpr struct {
	col    Column // result type (Name unused)
	fields []Column
	fn     func(c *evalCtx) value
	konst  bool
	colIdx int   // >=0 or idxRowtime when the expression is a plain column reference; otherwise -100
	mono   bool  // non-decreasing along the stream
	rtTime bool  // a time that follows ROWTIME (ROWTIME itself, or a column copied from it)
	stepMs int64 // window length of STEP/FLOOR over ROWTIME (0 if unknown)
	rtStep int64 // >0 when the expression is exactly floor(ROWTIME / rtStep) * rtStep
}

func (e *cexpr) t() Type { return e.col.Type }

func mk(t Type, fn func(c *evalCtx) value) *cexpr {
	return &cexpr{col: Column{Type: t}, fn: fn, colIdx: -100}
}

func constExpr(t Type, v value) *cexpr {
	e := mk(t, func(*evalCtx) value { return v })
	e.konst = true
	return e
}

// fold evaluates a constant expression once.
func fold(e *cexpr) *cexpr {
	if !e.konst {
		return e
	}
	var c evalCtx
	v := e.fn(&c)
	if c.err != nil {
		return e
	}
	ne := *e
	ne.fn = func(*evalCtx) value { return v }
	return &ne
}

type evalError struct {
	name, msg string
}

func (e *evalError) Error() string { return e.msg }

func errDivZero() error { return &evalError{"DIVIDE_BY_ZERO", "Division by zero"} }

// compiler compiles expressions against a scope.
type compiler struct {
	pl    *planner
	sc    *scope
	subst func(e sql.Expr) *cexpr // post-aggregation or analytic substitution
}

func semErr(pos sql.Pos, format string, args ...any) {
	panic(sql.Errorf(pos, format, args...))
}

// resolve finds the scope column an identifier names.
func (cp *compiler) resolve(id *sql.Ident) (scopeCol, bool) {
	parts := id.Parts
	match := func(qual, name, field string) (scopeCol, int) {
		var found scopeCol
		n := 0
		for _, c := range cp.sc.cols {
			if c.name != name || c.field != field {
				continue
			}
			if qual != "" {
				ok := false
				for _, q := range c.quals {
					if q == qual {
						ok = true
					}
				}
				if !ok {
					continue
				}
			}
			if n == 0 {
				found = c
			}
			n++
		}
		return found, n
	}
	try := func(qual, name, field string) (scopeCol, bool) {
		c, n := match(qual, name, field)
		if n > 1 && c.idx != idxRowtime {
			semErr(id.Parts[0].Pos, "Column '%s' is ambiguous", name)
		}
		return c, n >= 1
	}
	switch len(parts) {
	case 1:
		return try("", parts[0].Text, "")
	case 2:
		if c, ok := try(parts[0].Text, parts[1].Text, ""); ok {
			return c, true
		}
		return try("", parts[0].Text, parts[1].Text)
	case 3:
		return try(parts[0].Text, parts[1].Text, parts[2].Text)
	}
	return scopeCol{}, false
}

func colRef(sc scopeCol) *cexpr {
	c := sc.col
	idx := sc.idx
	var fn func(cx *evalCtx) value
	switch idx {
	case idxRowtime:
		fn = func(cx *evalCtx) value { return value{i: cx.b.RowTime[cx.i]} }
	case idxArrival:
		fn = func(cx *evalCtx) value {
			if cx.b.ApproximateArrivalTime == nil {
				return nullValue
			}
			return value{i: cx.b.ApproximateArrivalTime[cx.i]}
		}
	case idxPartitionKey, idxShardID, idxSequence:
		fn = func(cx *evalCtx) value {
			var s []string
			switch idx {
			case idxPartitionKey:
				s = cx.b.PartitionKey
			case idxShardID:
				s = cx.b.ShardID
			default:
				s = cx.b.SequenceNumber
			}
			if s == nil {
				return nullValue
			}
			return value{s: s[cx.i]}
		}
	default:
		switch {
		case c.Type == TypeDecimal:
			sc := scaleOf(c)
			fn = func(cx *evalCtx) value {
				v := &cx.b.Cols[idx]
				if v.Null != nil && v.Null[cx.i] {
					return nullValue
				}
				return value{f: float64(v.I64[cx.i]) / sc}
			}
		case usesI(c.Type):
			fn = func(cx *evalCtx) value {
				v := &cx.b.Cols[idx]
				if v.Null != nil && v.Null[cx.i] {
					return nullValue
				}
				return value{i: v.I64[cx.i]}
			}
		case isFloatType(c.Type):
			fn = func(cx *evalCtx) value {
				v := &cx.b.Cols[idx]
				if v.Null != nil && v.Null[cx.i] {
					return nullValue
				}
				return value{f: v.F64[cx.i]}
			}
		case isStrType(c.Type):
			fn = func(cx *evalCtx) value {
				v := &cx.b.Cols[idx]
				if v.Null != nil && v.Null[cx.i] {
					return nullValue
				}
				return value{s: v.Str[cx.i]}
			}
		default:
			fn = func(cx *evalCtx) value {
				v := &cx.b.Cols[idx]
				if v.Null != nil && v.Null[cx.i] {
					return nullValue
				}
				return value{s: string(v.Bin[cx.i])}
			}
		}
	}
	e := &cexpr{col: c, fn: fn, colIdx: idx}
	e.col.Name = ""
	if idx == idxRowtime {
		e.mono, e.rtTime = true, true
	}
	if sc.mono {
		e.mono = true
		e.rtTime = sc.rtTime
	}
	return e
}

// rowRef compiles a reference to a whole ROW-typed column (all its
// flattened fields).
func (cp *compiler) rowRef(id *sql.Ident) *cexpr {
	if len(id.Parts) > 2 {
		return nil
	}
	qual, name := "", id.Parts[0].Text
	if len(id.Parts) == 2 {
		qual, name = id.Parts[0].Text, id.Parts[1].Text
	}
	var fields []scopeCol
	for _, c := range cp.sc.cols {
		if c.name == name && c.field != "" {
			if qual != "" {
				ok := false
				for _, q := range c.quals {
					ok = ok || q == qual
				}
				if !ok {
					continue
				}
			}
			fields = append(fields, c)
		}
	}
	if len(fields) == 0 {
		return nil
	}
	refs := make([]*cexpr, len(fields))
	fcols := make([]Column, len(fields))
	for i, f := range fields {
		refs[i] = colRef(f)
		fcols[i] = f.col
		fcols[i].Name = f.field
	}
	e := mk(typeRow, func(c *evalCtx) value {
		r := make([]value, len(refs))
		for i, ref := range refs {
			r[i] = ref.fn(c)
		}
		return rowValue(r)
	})
	e.fields = fcols
	return e
}

func (cp *compiler) compile(e sql.Expr) *cexpr {
	if cp.subst != nil {
		if s := cp.subst(e); s != nil {
			return s
		}
	}
	switch e := e.(type) {
	case *sql.Ident:
		if sc, ok := cp.resolve(e); ok {
			return colRef(sc)
		}
		if r := cp.rowRef(e); r != nil {
			return r
		}
		if cp.subst != nil {
			semErr(e.Parts[0].Pos, "Expression '%s' is not being grouped", identText(e))
		}
		semErr(e.Parts[0].Pos, "Column '%s' not found in any table", identText(e))
	case *sql.Literal:
		return cp.literal(e)
	case *sql.Interval:
		return constExpr(typeInterval, value{i: e.Ms})
	case *sql.Unary:
		return cp.unary(e)
	case *sql.Binary:
		return cp.binary(e)
	case *sql.Call:
		return cp.call(e)
	case *sql.Case:
		return cp.caseExpr(e)
	case *sql.Cast:
		x := cp.compile(e.X)
		to := columnOf(e.Type)
		return cp.castTo(x, to)
	case *sql.Like:
		return cp.like(e)
	case *sql.IsNull:
		x := cp.compile(e.X)
		not, truth := e.Not, e.Truth
		return mk(TypeBoolean, func(c *evalCtx) value {
			v := x.fn(c)
			var r bool
			switch truth {
			case "":
				r = v.null
			case "TRUE":
				r = !v.null && v.i != 0
			case "FALSE":
				r = !v.null && v.i == 0
			case "UNKNOWN":
				r = v.null
			}
			if not {
				r = !r
			}
			return boolVal(r)
		})
	case *sql.IsDistinct:
		l, r := cp.compile(e.L), cp.compile(e.R)
		cmp := cp.comparer(e.P, l, r)
		not := e.Not
		return mk(TypeBoolean, func(c *evalCtx) value {
			a, b := l.fn(c), r.fn(c)
			var distinct bool
			switch {
			case a.null && b.null:
				distinct = false
			case a.null || b.null:
				distinct = true
			default:
				distinct = cmp(c, a, b) != 0
			}
			return boolVal(distinct != not)
		})
	case *sql.Between:
		x, lo, hi := cp.compile(e.X), cp.compile(e.Lo), cp.compile(e.Hi)
		c1, c2 := cp.comparer(e.P, x, lo), cp.comparer(e.P, x, hi)
		not := e.Not
		return mk(TypeBoolean, func(c *evalCtx) value {
			v, a, b := x.fn(c), lo.fn(c), hi.fn(c)
			if v.null || a.null || b.null {
				return nullValue
			}
			r := c1(c, v, a) >= 0 && c2(c, v, b) <= 0
			return boolVal(r != not)
		})
	case *sql.In:
		x := cp.compile(e.X)
		items := make([]*cexpr, len(e.List))
		cmps := make([]func(*evalCtx, value, value) int, len(e.List))
		for i, it := range e.List {
			items[i] = cp.compile(it)
			cmps[i] = cp.comparer(e.P, x, items[i])
		}
		not := e.Not
		return mk(TypeBoolean, func(c *evalCtx) value {
			v := x.fn(c)
			if v.null {
				return nullValue
			}
			sawNull := false
			for i, it := range items {
				w := it.fn(c)
				if w.null {
					sawNull = true
					continue
				}
				if cmps[i](c, v, w) == 0 {
					return boolVal(!not)
				}
			}
			if sawNull {
				return nullValue
			}
			return boolVal(not)
		})
	case *sql.FloorTo:
		return cp.floorTo(e)
	case *sql.Step:
		return cp.step(e)
	case *sql.Extract:
		return cp.extract(e)
	case *sql.Position:
		return cp.position(e)
	case *sql.Substring:
		return cp.substring(e)
	case *sql.Trim:
		return cp.trim(e)
	case *sql.Overlay:
		return cp.overlay(e)
	case *sql.Cursor:
		semErr(e.P, "CURSOR is only allowed as an argument of a table function in FROM TABLE(…)")
	}
	semErr(sql.PosOf(e), "unsupported expression")
	return nil
}

func identText(id *sql.Ident) string {
	var parts []string
	for _, p := range id.Parts {
		parts = append(parts, p.Text)
	}
	return strings.Join(parts, ".")
}

func boolVal(b bool) value {
	if b {
		return value{i: 1}
	}
	return value{i: 0}
}

// sqlTypes maps a declared type name to its type (the inverse of
// typeNames for the declarable types).
var sqlTypes = func() map[string]Type {
	m := map[string]Type{}
	for t, name := range typeNames {
		if t >= TypeVarchar && t <= TypeVarbinary {
			m[name] = t
		}
	}
	return m
}()

func columnOf(tn sql.TypeName) Column {
	c := Column{Size: tn.Size, Scale: tn.Scale, Type: sqlTypes[tn.Name]}
	switch {
	case c.Type == TypeChar && c.Size < 0:
		c.Size = 1
	case c.Type == TypeDecimal && c.Size < 0:
		c.Size = 19
	case c.Size < 0:
		c.Size = 0
	}
	return c
}

func (cp *compiler) literal(e *sql.Literal) *cexpr {
	switch e.Kind {
	case sql.LitNumber:
		if !strings.ContainsAny(e.Val, ".eE") {
			if n, err := strconv.ParseInt(e.Val, 10, 64); err == nil {
				t := TypeInteger
				if n > math.MaxInt32 {
					t = TypeBigint
				}
				return constExpr(t, value{i: n})
			}
		}
		f, err := strconv.ParseFloat(e.Val, 64)
		if err != nil {
			semErr(e.P, "invalid number %s", e.Val)
		}
		t := TypeDecimal
		if strings.ContainsAny(e.Val, "eE") {
			t = TypeDouble
		}
		c := constExpr(t, value{f: f})
		if t == TypeDecimal {
			c.col.Size = 19
			if dot := strings.IndexByte(e.Val, '.'); dot >= 0 {
				c.col.Scale = len(e.Val) - dot - 1
			}
		}
		return c
	case sql.LitString:
		c := constExpr(TypeChar, value{s: e.Val})
		c.col.Size = len(e.Val)
		return c
	case sql.LitBool:
		return constExpr(TypeBoolean, boolVal(e.Val == "TRUE"))
	case sql.LitNull:
		return constExpr(typeNull, nullValue)
	case sql.LitDate:
		ms, ok := parseTimestamp(e.Val)
		if !ok {
			semErr(e.P, "invalid DATE literal '%s'", e.Val)
		}
		return constExpr(TypeDate, value{i: floorDiv(ms, msPerDay)})
	case sql.LitTime:
		ms, ok := parseTimeOfDay(e.Val)
		if !ok {
			semErr(e.P, "invalid TIME literal '%s'", e.Val)
		}
		return constExpr(TypeTime, value{i: ms})
	case sql.LitTimestamp:
		ms, ok := parseTimestamp(e.Val)
		if !ok {
			semErr(e.P, "invalid TIMESTAMP literal '%s'", e.Val)
		}
		return constExpr(TypeTimestamp, value{i: ms})
	}
	semErr(e.P, "bad literal")
	return nil
}

// castTo converts x to column type to at run time; failures are evaluation
// errors.
func (cp *compiler) castTo(x *cexpr, to Column) *cexpr {
	from := x.t()
	if from == typeRow || from == typeCursor {
		semErr(sql.Pos{Line: 1, Col: 1}, "cannot CAST a %s", from)
	}
	e := mk(to.Type, func(c *evalCtx) value {
		v := x.fn(c)
		if v.null {
			return v
		}
		r, err := convert(v, from, to)
		if err != nil {
			return c.fail(&evalError{"CAST_ERROR", err.Error()})
		}
		return r
	})
	e.col = to
	e.konst = x.konst
	return fold(e)
}

// toDouble coerces numeric (or character) x to a float at run time.
func (cp *compiler) toDouble(x *cexpr) *cexpr {
	if isFloatType(x.t()) {
		return x
	}
	return cp.castTo(x, Column{Type: TypeDouble})
}

func (cp *compiler) unary(e *sql.Unary) *cexpr {
	x := cp.compile(e.X)
	switch e.Op {
	case "NOT":
		r := mk(TypeBoolean, func(c *evalCtx) value {
			v := x.fn(c)
			if v.null {
				return v
			}
			return boolVal(v.i == 0)
		})
		r.konst = x.konst
		return fold(r)
	case "+":
		return x
	}
	t := x.t()
	var r *cexpr
	switch {
	case usesI(t) && t != TypeBoolean && !isTimeLike(t):
		r = mk(t, func(c *evalCtx) value {
			v := x.fn(c)
			v.i = -v.i
			return v
		})
	case isFloatType(t):
		r = mk(t, func(c *evalCtx) value {
			v := x.fn(c)
			v.f = -v.f
			return v
		})
	case t == typeNull:
		return x
	default:
		semErr(e.P, "Cannot apply '-' to arguments of type '%s'", t)
	}
	r.col = x.col
	r.konst = x.konst
	return fold(r)
}

func (cp *compiler) binary(e *sql.Binary) *cexpr {
	l, r := cp.compile(e.L), cp.compile(e.R)
	var out *cexpr
	switch e.Op {
	case "AND", "OR":
		and := e.Op == "AND"
		out = mk(TypeBoolean, func(c *evalCtx) value {
			a := l.fn(c)
			if !a.null && (a.i != 0) != and {
				return boolVal(!and)
			}
			b := r.fn(c)
			if !b.null && (b.i != 0) != and {
				return boolVal(!and)
			}
			if a.null || b.null {
				return nullValue
			}
			return boolVal(and)
		})
	case "=", "<>", "<", "<=", ">", ">=":
		cmp := cp.comparer(e.P, l, r)
		var test func(int) bool
		switch e.Op {
		case "=":
			test = func(k int) bool { return k == 0 }
		case "<>":
			test = func(k int) bool { return k != 0 }
		case "<":
			test = func(k int) bool { return k < 0 }
		case "<=":
			test = func(k int) bool { return k <= 0 }
		case ">":
			test = func(k int) bool { return k > 0 }
		default:
			test = func(k int) bool { return k >= 0 }
		}
		lf, rf := l.fn, r.fn
		out = mk(TypeBoolean, func(c *evalCtx) value {
			a, b := lf(c), rf(c)
			if a.null || b.null {
				return nullValue
			}
			return boolVal(test(cmp(c, a, b)))
		})
	case "||":
		lt, rt := l.t(), r.t()
		out = mk(TypeVarchar, func(c *evalCtx) value {
			a, b := l.fn(c), r.fn(c)
			if a.null || b.null {
				return nullValue
			}
			return value{s: toString(a, lt) + toString(b, rt)}
		})
		out.col.Size = l.col.Size + r.col.Size
	default:
		out = cp.arith(e, l, r)
	}
	out.konst = l.konst && r.konst
	return fold(out)
}

func (cp *compiler) arith(e *sql.Binary, l, r *cexpr) *cexpr {
	lt, rt := l.t(), r.t()
	op := e.Op
	if lt == typeNull || rt == typeNull {
		return constExpr(typeNull, nullValue)
	}
	// Datetime arithmetic.
	switch {
	case (lt == TypeTimestamp || lt == TypeTime) && rt == typeInterval && (op == "+" || op == "-"),
		lt == typeInterval && rt == TypeTimestamp && op == "+":
		sign := int64(1)
		if op == "-" {
			sign = -1
		}
		t := lt
		if lt == typeInterval {
			t = rt
		}
		return mk(t, func(c *evalCtx) value {
			a, b := l.fn(c), r.fn(c)
			if a.null || b.null {
				return nullValue
			}
			if lt == typeInterval {
				return value{i: a.i + b.i}
			}
			return value{i: a.i + sign*b.i}
		})
	case lt == TypeDate && rt == typeInterval && (op == "+" || op == "-"):
		sign := int64(1)
		if op == "-" {
			sign = -1
		}
		return mk(TypeDate, func(c *evalCtx) value {
			a, b := l.fn(c), r.fn(c)
			if a.null || b.null {
				return nullValue
			}
			return value{i: a.i + sign*floorDiv(b.i, msPerDay)}
		})
	case isTimeLike(lt) && lt == rt && op == "-":
		mul := int64(1)
		if lt == TypeDate {
			mul = msPerDay
		}
		return mk(typeInterval, func(c *evalCtx) value {
			a, b := l.fn(c), r.fn(c)
			if a.null || b.null {
				return nullValue
			}
			return value{i: (a.i - b.i) * mul}
		})
	case lt == typeInterval && rt == typeInterval && (op == "+" || op == "-"):
		sign := int64(1)
		if op == "-" {
			sign = -1
		}
		return mk(typeInterval, func(c *evalCtx) value {
			a, b := l.fn(c), r.fn(c)
			if a.null || b.null {
				return nullValue
			}
			return value{i: a.i + sign*b.i}
		})
	case lt == typeInterval && isNumeric(rt) && (op == "*" || op == "/"),
		isNumeric(lt) && rt == typeInterval && op == "*":
		iv, n := l, r
		if rt == typeInterval {
			iv, n = r, l
		}
		nd := cp.toDouble(n)
		return mk(typeInterval, func(c *evalCtx) value {
			a, b := iv.fn(c), nd.fn(c)
			if a.null || b.null {
				return nullValue
			}
			if op == "/" {
				if b.f == 0 {
					return c.fail(errDivZero())
				}
				return value{i: int64(float64(a.i) / b.f)}
			}
			return value{i: int64(float64(a.i) * b.f)}
		})
	}
	if !isNumeric(lt) && !isStrType(lt) || !isNumeric(rt) && !isStrType(rt) || isStrType(lt) && isStrType(rt) {
		semErr(e.P, "Cannot apply '%s' to arguments of type '%s %s %s'", op, lt, op, rt)
	}
	if isIntType(lt) && isIntType(rt) {
		t := TypeBigint
		if lt != TypeBigint && rt != TypeBigint {
			t = TypeInteger
		}
		var fn func(c *evalCtx) value
		switch op {
		case "+":
			fn = func(c *evalCtx) value {
				a, b := l.fn(c), r.fn(c)
				if a.null || b.null {
					return nullValue
				}
				return value{i: a.i + b.i}
			}
		case "-":
			fn = func(c *evalCtx) value {
				a, b := l.fn(c), r.fn(c)
				if a.null || b.null {
					return nullValue
				}
				return value{i: a.i - b.i}
			}
		case "*":
			fn = func(c *evalCtx) value {
				a, b := l.fn(c), r.fn(c)
				if a.null || b.null {
					return nullValue
				}
				return value{i: a.i * b.i}
			}
		case "/", "%":
			mod := op == "%"
			fn = func(c *evalCtx) value {
				a, b := l.fn(c), r.fn(c)
				if a.null || b.null {
					return nullValue
				}
				if b.i == 0 {
					return c.fail(errDivZero())
				}
				if mod {
					return value{i: a.i % b.i}
				}
				return value{i: a.i / b.i}
			}
		}
		return mk(t, fn)
	}
	ld, rd := cp.toDouble(l), cp.toDouble(r)
	t := TypeDouble
	if (lt == TypeDecimal || isIntType(lt)) && (rt == TypeDecimal || isIntType(rt)) {
		t = TypeDecimal
	}
	var fn func(c *evalCtx) value
	lf, rf := ld.fn, rd.fn
	switch op {
	case "+":
		fn = func(c *evalCtx) value {
			a, b := lf(c), rf(c)
			if a.null || b.null {
				return nullValue
			}
			return value{f: a.f + b.f}
		}
	case "-":
		fn = func(c *evalCtx) value {
			a, b := lf(c), rf(c)
			if a.null || b.null {
				return nullValue
			}
			return value{f: a.f - b.f}
		}
	case "*":
		fn = func(c *evalCtx) value {
			a, b := lf(c), rf(c)
			if a.null || b.null {
				return nullValue
			}
			return value{f: a.f * b.f}
		}
	case "/":
		fn = func(c *evalCtx) value {
			a, b := lf(c), rf(c)
			if a.null || b.null {
				return nullValue
			}
			if b.f == 0 {
				return c.fail(errDivZero())
			}
			return value{f: a.f / b.f}
		}
	default:
		fn = func(c *evalCtx) value {
			a, b := lf(c), rf(c)
			if a.null || b.null {
				return nullValue
			}
			if b.f == 0 {
				return c.fail(errDivZero())
			}
			return value{f: math.Mod(a.f, b.f)}
		}
	}
	out := mk(t, fn)
	if t == TypeDecimal {
		out.col.Size, out.col.Scale = 19, max(l.col.Scale, r.col.Scale)
		if op == "*" {
			out.col.Scale = l.col.Scale + r.col.Scale
		}
		if op == "/" {
			out.col.Scale = 6
		}
	}
	return out
}

// comparer returns a three-way comparison of values of l's and r's types.
func (cp *compiler) comparer(pos sql.Pos, l, r *cexpr) func(c *evalCtx, a, b value) int {
	lt, rt := l.t(), r.t()
	cmpI := func(_ *evalCtx, a, b value) int {
		switch {
		case a.i < b.i:
			return -1
		case a.i > b.i:
			return 1
		}
		return 0
	}
	cmpF := func(_ *evalCtx, a, b value) int {
		switch {
		case a.f < b.f:
			return -1
		case a.f > b.f:
			return 1
		}
		return 0
	}
	cmpS := func(_ *evalCtx, a, b value) int { return strings.Compare(a.s, b.s) }
	switch {
	case lt == typeNull || rt == typeNull:
		return cmpI
	case usesI(lt) && lt == rt, isIntType(lt) && isIntType(rt), lt == typeInterval && rt == typeInterval:
		return cmpI
	case isNumeric(lt) && isNumeric(rt):
		return func(c *evalCtx, a, b value) int {
			if !isFloatType(lt) {
				a.f = float64(a.i)
			}
			if !isFloatType(rt) {
				b.f = float64(b.i)
			}
			return cmpF(c, a, b)
		}
	case isStrType(lt) && isStrType(rt), isBinType(lt) && isBinType(rt):
		if lt == TypeChar || rt == TypeChar {
			return func(_ *evalCtx, a, b value) int {
				return strings.Compare(strings.TrimRight(a.s, " "), strings.TrimRight(b.s, " "))
			}
		}
		return cmpS
	case isStrType(lt) || isStrType(rt):
		// Character against another type: convert the character side.
		other := rt
		if isStrType(rt) {
			other = lt
		}
		to := Column{Type: other}
		if isNumeric(other) {
			to.Type = TypeDouble
		}
		inner := cp.comparer(pos, &cexpr{col: to}, &cexpr{col: to})
		strLeft := isStrType(lt)
		return func(c *evalCtx, a, b value) int {
			var err error
			if strLeft {
				a, err = convert(a, lt, to)
				if err == nil && isNumeric(other) {
					b, err = convert(b, rt, to)
				}
			} else {
				b, err = convert(b, rt, to)
				if err == nil && isNumeric(other) {
					a, err = convert(a, lt, to)
				}
			}
			if err != nil {
				c.fail(&evalError{"CAST_ERROR", err.Error()})
				return 0
			}
			return inner(c, a, b)
		}
	case lt == TypeTimestamp && rt == TypeDate:
		return func(c *evalCtx, a, b value) int { b.i *= msPerDay; return cmpI(c, a, b) }
	case lt == TypeDate && rt == TypeTimestamp:
		return func(c *evalCtx, a, b value) int { a.i *= msPerDay; return cmpI(c, a, b) }
	}
	semErr(pos, "Cannot compare values of types '%s' and '%s'", lt, rt)
	return nil
}

func (cp *compiler) caseExpr(e *sql.Case) *cexpr {
	var operand *cexpr
	if e.Operand != nil {
		operand = cp.compile(e.Operand)
	}
	conds := make([]*cexpr, len(e.Whens))
	thens := make([]*cexpr, len(e.Whens))
	var cmps []func(*evalCtx, value, value) int
	for i, w := range e.Whens {
		conds[i] = cp.compile(w.Cond)
		if operand != nil {
			cmps = append(cmps, cp.comparer(e.P, operand, conds[i]))
		}
		thens[i] = cp.compile(w.Then)
	}
	var els *cexpr
	if e.Else != nil {
		els = cp.compile(e.Else)
	}
	results := append([]*cexpr{}, thens...)
	if els != nil {
		results = append(results, els)
	}
	rc := unifyTypes(results)
	for i := range thens {
		thens[i] = cp.coerce(thens[i], rc)
	}
	if els != nil {
		els = cp.coerce(els, rc)
	}
	out := mk(rc.Type, func(c *evalCtx) value {
		var ov value
		if operand != nil {
			ov = operand.fn(c)
		}
		for i, cond := range conds {
			v := cond.fn(c)
			if v.null {
				continue
			}
			if operand != nil {
				if ov.null || cmps[i](c, ov, v) != 0 {
					continue
				}
			} else if v.i == 0 {
				continue
			}
			return thens[i].fn(c)
		}
		if els != nil {
			return els.fn(c)
		}
		return nullValue
	})
	out.col = rc
	return out
}

// unifyTypes picks the common type of alternatives (CASE, COALESCE).
func unifyTypes(es []*cexpr) Column {
	var out Column
	for _, e := range es {
		t := e.t()
		switch {
		case t == typeNull:
			continue
		case out.Type == 0:
			out = e.col
		case isIntType(out.Type) && isIntType(t):
			if t == TypeBigint {
				out.Type = TypeBigint
			}
		case isNumeric(out.Type) && isNumeric(t):
			out = Column{Type: TypeDouble}
		case isStrType(out.Type) && isStrType(t):
			out.Type = TypeVarchar
			if e.col.Size > out.Size {
				out.Size = e.col.Size
			}
		}
	}
	if out.Type == 0 {
		out.Type = typeNull
	}
	return out
}

func (cp *compiler) coerce(e *cexpr, to Column) *cexpr {
	if e.t() == to.Type || to.Type == typeNull || e.t() == typeNull {
		return e
	}
	if isStrType(e.t()) && isStrType(to.Type) {
		return e
	}
	return cp.castTo(e, Column{Type: to.Type, Size: 0, Scale: to.Scale})
}

// likeToRegexp translates a LIKE or SIMILAR TO pattern to a Go regexp.
func likeToRegexp(pat string, similar bool, esc rune) (*regexp.Regexp, error) {
	var sb strings.Builder
	sb.WriteString(`^(?s:`)
	escaped := false
	for _, r := range pat {
		if escaped {
			sb.WriteString(regexp.QuoteMeta(string(r)))
			escaped = false
			continue
		}
		if esc != 0 && r == esc {
			escaped = true
			continue
		}
		switch r {
		case '%':
			sb.WriteString(".*")
		case '_':
			sb.WriteString(".")
		default:
			if similar && strings.ContainsRune("|*+?{}()[]^-", r) {
				sb.WriteRune(r)
			} else {
				sb.WriteString(regexp.QuoteMeta(string(r)))
			}
		}
	}
	sb.WriteString(`)$`)
	return regexp.Compile(sb.String())
}

func (cp *compiler) like(e *sql.Like) *cexpr {
	x := cp.compile(e.X)
	pat := cp.compile(e.Pat)
	var esc *cexpr
	if e.Escape != nil {
		esc = cp.compile(e.Escape)
	}
	not, similar := e.Not, e.Similar
	xt := x.t()
	var fixed *regexp.Regexp
	if pat.konst && (esc == nil || esc.konst) {
		var c evalCtx
		pv := pat.fn(&c)
		var er rune
		if esc != nil {
			if ev := esc.fn(&c); !ev.null && ev.s != "" {
				er = []rune(ev.s)[0]
			}
		}
		if !pv.null {
			re, err := likeToRegexp(pv.s, similar, er)
			if err != nil {
				semErr(e.P, "invalid pattern '%s': %v", pv.s, err)
			}
			fixed = re
		}
	}
	cache := map[string]*regexp.Regexp{}
	return mk(TypeBoolean, func(c *evalCtx) value {
		v := x.fn(c)
		if v.null {
			return nullValue
		}
		re := fixed
		if re == nil {
			pv := pat.fn(c)
			if pv.null {
				return nullValue
			}
			var er rune
			if esc != nil {
				if ev := esc.fn(c); !ev.null && ev.s != "" {
					er = []rune(ev.s)[0]
				}
			}
			key := pv.s + "\x00" + string(er)
			if re = cache[key]; re == nil {
				var err error
				re, err = likeToRegexp(pv.s, similar, er)
				if err != nil {
					return c.fail(&evalError{"INVALID_PATTERN", err.Error()})
				}
				if len(cache) < 64 {
					cache[key] = re
				}
			}
		}
		s := v.s
		if !isStrType(xt) {
			s = toString(v, xt)
		}
		return boolVal(re.MatchString(s) != not)
	})
}

var unitMillis = map[string]int64{
	"MILLISECOND": 1, "SECOND": 1000, "MINUTE": 60_000, "HOUR": 3_600_000, "DAY": msPerDay,
}

// floorTime truncates ms since epoch to unit (calendar units for WEEK and
// above); ceil rounds up.
func floorTime(ms int64, unit string, ceil bool) int64 {
	if u, ok := unitMillis[unit]; ok {
		f := floorDiv(ms, u) * u
		if ceil && f != ms {
			f += u
		}
		return f
	}
	t := time.UnixMilli(ms).UTC()
	var f time.Time
	switch unit {
	case "WEEK":
		d := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
		f = d.AddDate(0, 0, -int(d.Weekday()))
	case "MONTH":
		f = time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
	case "QUARTER":
		f = time.Date(t.Year(), t.Month()-(t.Month()-1)%3, 1, 0, 0, 0, 0, time.UTC)
	default:
		f = time.Date(t.Year(), 1, 1, 0, 0, 0, 0, time.UTC)
	}
	r := f.UnixMilli()
	if ceil && r != ms {
		switch unit {
		case "WEEK":
			r = f.AddDate(0, 0, 7).UnixMilli()
		case "MONTH":
			r = f.AddDate(0, 1, 0).UnixMilli()
		case "QUARTER":
			r = f.AddDate(0, 3, 0).UnixMilli()
		default:
			r = f.AddDate(1, 0, 0).UnixMilli()
		}
	}
	return r
}

func (cp *compiler) floorTo(e *sql.FloorTo) *cexpr {
	x := cp.compile(e.X)
	t := x.t()
	unit, ceil := e.Unit, e.Ceil
	switch t {
	case TypeTimestamp, TypeTime:
	case TypeDate:
		out := mk(TypeDate, func(c *evalCtx) value {
			v := x.fn(c)
			if v.null {
				return v
			}
			return value{i: floorDiv(floorTime(v.i*msPerDay, unit, ceil), msPerDay)}
		})
		return out
	default:
		semErr(e.P, "Cannot apply 'FLOOR … TO' to arguments of type '%s'", t)
	}
	out := mk(t, func(c *evalCtx) value {
		v := x.fn(c)
		if v.null {
			return v
		}
		return value{i: floorTime(v.i, unit, ceil)}
	})
	out.mono, out.rtTime = x.mono, x.rtTime
	if x.mono && x.rtTime && !ceil { // CEIL buckets close on change only
		out.stepMs = unitMillis[unit]
		if x.colIdx == idxRowtime && !ceil {
			out.rtStep = out.stepMs
		}
	}
	out.konst = x.konst
	return fold(out)
}

func (cp *compiler) step(e *sql.Step) *cexpr {
	x := cp.compile(e.X)
	by := cp.compile(e.By)
	if !by.konst {
		semErr(sql.PosOf(e.By), "STEP needs a constant BY")
	}
	var c evalCtx
	bv := by.fn(&c)
	switch {
	case isTimeLike(x.t()) && by.t() == typeInterval:
		if bv.i <= 0 {
			semErr(sql.PosOf(e.By), "STEP interval must be positive")
		}
		step := bv.i
		t := x.t()
		if t == TypeDate {
			out := mk(TypeDate, func(c *evalCtx) value {
				v := x.fn(c)
				if v.null {
					return v
				}
				return value{i: floorDiv(floorDiv(v.i*msPerDay, step)*step, msPerDay)}
			})
			return out
		}
		out := mk(t, func(c *evalCtx) value {
			v := x.fn(c)
			if v.null {
				return v
			}
			return value{i: floorDiv(v.i, step) * step}
		})
		out.mono, out.rtTime = x.mono, x.rtTime
		if x.mono && x.rtTime {
			out.stepMs = step
			if x.colIdx == idxRowtime {
				out.rtStep = step
			}
		}
		return out
	case isIntType(x.t()) && isIntType(by.t()):
		if bv.i <= 0 {
			semErr(sql.PosOf(e.By), "STEP must be positive")
		}
		step := bv.i
		out := mk(x.t(), func(c *evalCtx) value {
			v := x.fn(c)
			if v.null {
				return v
			}
			return value{i: floorDiv(v.i, step) * step}
		})
		out.mono = x.mono
		return out
	case isNumeric(x.t()) && isNumeric(by.t()):
		xd, bd := cp.toDouble(x), cp.toDouble(by)
		var c2 evalCtx
		step := bd.fn(&c2).f
		if step <= 0 {
			semErr(sql.PosOf(e.By), "STEP must be positive")
		}
		out := mk(TypeDouble, func(c *evalCtx) value {
			v := xd.fn(c)
			if v.null {
				return v
			}
			return value{f: math.Floor(v.f/step) * step}
		})
		out.mono = x.mono
		return out
	}
	semErr(e.P, "Cannot apply 'STEP' to arguments of type '%s BY %s'", x.t(), by.t())
	return nil
}

func (cp *compiler) extract(e *sql.Extract) *cexpr {
	x := cp.compile(e.X)
	t := x.t()
	field := e.Field
	if !isTimeLike(t) && t != typeInterval {
		semErr(e.P, "Cannot apply 'EXTRACT' to arguments of type '%s'", t)
	}
	return mk(TypeBigint, func(c *evalCtx) value {
		v := x.fn(c)
		if v.null {
			return v
		}
		ms := v.i
		if t == TypeDate {
			ms *= msPerDay
		}
		if t == typeInterval {
			switch field {
			case "DAY":
				return value{i: ms / msPerDay}
			case "HOUR":
				return value{i: ms % msPerDay / 3_600_000}
			case "MINUTE":
				return value{i: ms % 3_600_000 / 60_000}
			case "SECOND":
				return value{i: ms % 60_000 / 1000}
			}
			return value{i: ms}
		}
		tm := time.UnixMilli(ms).UTC()
		switch field {
		case "YEAR":
			return value{i: int64(tm.Year())}
		case "QUARTER":
			return value{i: int64(tm.Month()-1)/3 + 1}
		case "MONTH":
			return value{i: int64(tm.Month())}
		case "WEEK":
			_, w := tm.ISOWeek()
			return value{i: int64(w)}
		case "DAY":
			return value{i: int64(tm.Day())}
		case "HOUR":
			return value{i: int64(tm.Hour())}
		case "MINUTE":
			return value{i: int64(tm.Minute())}
		case "SECOND":
			return value{i: int64(tm.Second())}
		}
		return value{i: int64(tm.Nanosecond() / 1e6)}
	})
}

func (cp *compiler) str(e sql.Expr) *cexpr {
	x := cp.compile(e)
	if isStrType(x.t()) || x.t() == typeNull {
		return x
	}
	return cp.castTo(x, Column{Type: TypeVarchar})
}

func (cp *compiler) intArg(e sql.Expr) *cexpr {
	x := cp.compile(e)
	if isIntType(x.t()) || x.t() == typeNull {
		return x
	}
	return cp.castTo(x, Column{Type: TypeBigint})
}

func (cp *compiler) position(e *sql.Position) *cexpr {
	sub, s := cp.str(e.Sub), cp.str(e.S)
	var from *cexpr
	if e.From != nil {
		from = cp.intArg(e.From)
	}
	return mk(TypeInteger, func(c *evalCtx) value {
		a, b := sub.fn(c), s.fn(c)
		if a.null || b.null {
			return nullValue
		}
		rs := []rune(b.s)
		start := 0
		if from != nil {
			f := from.fn(c)
			if f.null {
				return nullValue
			}
			start = int(f.i) - 1
			if start < 0 {
				start = 0
			}
			if start > len(rs) {
				return value{i: 0}
			}
		}
		idx := strings.Index(string(rs[start:]), a.s)
		if idx < 0 {
			return value{i: 0}
		}
		return value{i: int64(start + len([]rune(string(rs[start:])[:idx])) + 1)}
	})
}

func (cp *compiler) substring(e *sql.Substring) *cexpr {
	s := cp.str(e.S)
	if e.Regex {
		pat := cp.str(e.Pat)
		return mk(TypeVarchar, func(c *evalCtx) value {
			a, p := s.fn(c), pat.fn(c)
			if a.null || p.null {
				return nullValue
			}
			re, err := likeToRegexp(p.s, true, 0)
			if err != nil {
				return c.fail(&evalError{"INVALID_PATTERN", err.Error()})
			}
			// SQL's SIMILAR substring returns the matched part; we return the
			// first match of the unanchored pattern.
			un := strings.TrimSuffix(strings.TrimPrefix(re.String(), "^"), "$")
			m := regexp.MustCompile(un).FindString(a.s)
			return value{s: m}
		})
	}
	from := cp.intArg(e.From)
	var forE *cexpr
	if e.For != nil {
		forE = cp.intArg(e.For)
	}
	out := mk(TypeVarchar, func(c *evalCtx) value {
		a, f := s.fn(c), from.fn(c)
		if a.null || f.null {
			return nullValue
		}
		rs := []rune(a.s)
		start := f.i - 1
		end := int64(len(rs))
		if forE != nil {
			l := forE.fn(c)
			if l.null {
				return nullValue
			}
			if l.i < 0 {
				return c.fail(&evalError{"SUBSTRING_ERROR", "Negative substring length"})
			}
			end = start + l.i
		}
		if start < 0 {
			start = 0
		}
		if end > int64(len(rs)) {
			end = int64(len(rs))
		}
		if start >= end {
			return value{s: ""}
		}
		return value{s: string(rs[start:end])}
	})
	out.col.Size = s.col.Size
	return out
}

func (cp *compiler) trim(e *sql.Trim) *cexpr {
	s := cp.str(e.S)
	var chars *cexpr
	if e.Chars != nil {
		chars = cp.str(e.Chars)
	}
	where := e.Where
	out := mk(TypeVarchar, func(c *evalCtx) value {
		a := s.fn(c)
		if a.null {
			return a
		}
		cs := " "
		if chars != nil {
			cv := chars.fn(c)
			if cv.null {
				return nullValue
			}
			cs = cv.s
		}
		switch where {
		case "LEADING":
			return value{s: strings.TrimLeft(a.s, cs)}
		case "TRAILING":
			return value{s: strings.TrimRight(a.s, cs)}
		}
		return value{s: strings.Trim(a.s, cs)}
	})
	out.col.Size = s.col.Size
	return out
}

func (cp *compiler) overlay(e *sql.Overlay) *cexpr {
	s, r, from := cp.str(e.S), cp.str(e.R), cp.intArg(e.From)
	var forE *cexpr
	if e.For != nil {
		forE = cp.intArg(e.For)
	}
	return mk(TypeVarchar, func(c *evalCtx) value {
		a, b, f := s.fn(c), r.fn(c), from.fn(c)
		if a.null || b.null || f.null {
			return nullValue
		}
		rs := []rune(a.s)
		n := int64(len([]rune(b.s)))
		if forE != nil {
			l := forE.fn(c)
			if l.null {
				return nullValue
			}
			n = l.i
		}
		start := f.i - 1
		if start < 0 {
			start = 0
		}
		if start > int64(len(rs)) {
			start = int64(len(rs))
		}
		end := start + n
		if end > int64(len(rs)) {
			end = int64(len(rs))
		}
		if end < start {
			end = start
		}
		return value{s: string(rs[:start]) + b.s + string(rs[end:])}
	})
}
