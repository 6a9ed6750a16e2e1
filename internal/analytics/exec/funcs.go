package exec

import (
	"math"
	"strings"
	"unicode"

	"github.com/eddy-streams/eddy/internal/analytics/sql"
)

// aggregateNames are the functions that aggregate (GROUP BY, STAGGER) or,
// with OVER, are analytic over a sliding window.
var aggregateNames = map[string]bool{
	"COUNT": true, "SUM": true, "AVG": true, "MIN": true, "MAX": true,
	"FIRST_VALUE": true, "LAST_VALUE": true, "VAR_POP": true, "VAR_SAMP": true,
	"STDDEV_POP": true, "STDDEV_SAMP": true, "EXP_AVG": true, "ANY": true, "EVERY": true,
	"SOME": true, "LAG": true, "NTH_VALUE": true,
}

func isAggCall(e sql.Expr) (*sql.Call, bool) {
	c, ok := e.(*sql.Call)
	if !ok || c.Name.Quoted {
		return nil, false
	}
	return c, aggregateNames[c.Name.Text]
}

// tableFuncNames are only valid in FROM TABLE(…).
var tableFuncNames = map[string]bool{
	"RANDOM_CUT_FOREST": true, "RANDOM_CUT_FOREST_WITH_EXPLANATION": true,
	"TOP_K_ITEMS_TUMBLING": true, "COUNT_DISTINCT_ITEMS_TUMBLING": true, "HOTSPOTS": true,
}

func (cp *compiler) args(e *sql.Call, lo, hi int) []*cexpr {
	if len(e.Args) < lo || len(e.Args) > hi {
		if lo == hi {
			semErr(e.P, "Invalid number of arguments to function '%s'. Was expecting %d arguments", e.Name.Text, lo)
		}
		semErr(e.P, "Invalid number of arguments to function '%s'. Was expecting %d to %d arguments", e.Name.Text, lo, hi)
	}
	out := make([]*cexpr, len(e.Args))
	for i, a := range e.Args {
		out[i] = cp.compile(a)
	}
	return out
}

func allConst(xs []*cexpr) bool {
	for _, x := range xs {
		if !x.konst {
			return false
		}
	}
	return true
}

// math1 builds a one-argument float function.
func (cp *compiler) math1(e *sql.Call, f func(float64) (float64, bool)) *cexpr {
	a := cp.args(e, 1, 1)
	x := cp.toDouble(a[0])
	name := e.Name.Text
	out := mk(TypeDouble, func(c *evalCtx) value {
		v := x.fn(c)
		if v.null {
			return v
		}
		r, ok := f(v.f)
		if !ok {
			return c.fail(&evalError{"INVALID_ARGUMENT", "Invalid argument to " + name})
		}
		return value{f: r}
	})
	out.konst = x.konst
	return fold(out)
}

func (cp *compiler) call(e *sql.Call) *cexpr {
	name := e.Name.Text
	if !e.Name.Quoted {
		name = strings.ToUpper(name)
	}
	if aggregateNames[name] {
		if e.Over != nil {
			semErr(e.P, "Analytic function '%s' is not allowed here", name)
		}
		semErr(e.P, "Aggregate function '%s' is not allowed here: streaming aggregation needs GROUP BY a monotonic expression, WINDOWED BY STAGGER or OVER a window", name)
	}
	if tableFuncNames[name] {
		semErr(e.P, "Table function '%s' must be used in FROM TABLE(…)", name)
	}
	switch name {
	case "ABS":
		a := cp.args(e, 1, 1)
		x := a[0]
		if isIntType(x.t()) {
			out := mk(x.t(), func(c *evalCtx) value {
				v := x.fn(c)
				if v.i < 0 {
					v.i = -v.i
				}
				return v
			})
			return out
		}
		return cp.math1(e, func(f float64) (float64, bool) { return math.Abs(f), true })
	case "CEIL", "CEILING":
		return cp.math1(e, func(f float64) (float64, bool) { return math.Ceil(f), true })
	case "FLOOR":
		return cp.math1(e, func(f float64) (float64, bool) { return math.Floor(f), true })
	case "EXP":
		return cp.math1(e, func(f float64) (float64, bool) { return math.Exp(f), true })
	case "LN":
		return cp.math1(e, func(f float64) (float64, bool) { return math.Log(f), f > 0 })
	case "LOG10":
		return cp.math1(e, func(f float64) (float64, bool) { return math.Log10(f), f > 0 })
	case "SQRT":
		return cp.math1(e, func(f float64) (float64, bool) { return math.Sqrt(f), f >= 0 })
	case "SIGN":
		return cp.math1(e, func(f float64) (float64, bool) {
			switch {
			case f > 0:
				return 1, true
			case f < 0:
				return -1, true
			}
			return 0, true
		})
	case "ROUND":
		a := cp.args(e, 1, 2)
		x := cp.toDouble(a[0])
		var d *cexpr
		if len(a) == 2 {
			d = cp.castTo(a[1], Column{Type: TypeInteger})
		}
		return mk(TypeDouble, func(c *evalCtx) value {
			v := x.fn(c)
			if v.null {
				return v
			}
			p := 1.0
			if d != nil {
				dv := d.fn(c)
				if dv.null {
					return nullValue
				}
				p = math.Pow(10, float64(dv.i))
			}
			return value{f: math.Round(v.f*p) / p}
		})
	case "MOD":
		a := cp.args(e, 2, 2)
		return cp.binaryOf(e, "%", a[0], a[1])
	case "POWER":
		a := cp.args(e, 2, 2)
		x, y := cp.toDouble(a[0]), cp.toDouble(a[1])
		out := mk(TypeDouble, func(c *evalCtx) value {
			v, w := x.fn(c), y.fn(c)
			if v.null || w.null {
				return nullValue
			}
			r := math.Pow(v.f, w.f)
			if math.IsNaN(r) {
				return c.fail(&evalError{"INVALID_ARGUMENT", "Invalid argument to POWER"})
			}
			return value{f: r}
		})
		out.konst = allConst(a)
		return fold(out)
	case "MONOTONIC":
		a := cp.args(e, 1, 1)
		x := *a[0]
		x.mono = true
		return &x
	case "CHAR_LENGTH", "CHARACTER_LENGTH":
		a := cp.args(e, 1, 1)
		x := cp.coerceStr(a[0])
		return mk(TypeInteger, func(c *evalCtx) value {
			v := x.fn(c)
			if v.null {
				return v
			}
			return value{i: int64(len([]rune(v.s)))}
		})
	case "LOWER", "UPPER", "INITCAP":
		a := cp.args(e, 1, 1)
		x := cp.coerceStr(a[0])
		var f func(string) string
		switch name {
		case "LOWER":
			f = strings.ToLower
		case "UPPER":
			f = strings.ToUpper
		default:
			f = initcap
		}
		out := mk(TypeVarchar, func(c *evalCtx) value {
			v := x.fn(c)
			if v.null {
				return v
			}
			return value{s: f(v.s)}
		})
		out.col.Size = x.col.Size
		out.konst = x.konst
		return fold(out)
	case "LTRIM", "RTRIM":
		a := cp.args(e, 1, 1)
		x := cp.coerceStr(a[0])
		left := name == "LTRIM"
		return mk(TypeVarchar, func(c *evalCtx) value {
			v := x.fn(c)
			if v.null {
				return v
			}
			if left {
				return value{s: strings.TrimLeft(v.s, " ")}
			}
			return value{s: strings.TrimRight(v.s, " ")}
		})
	case "REGEX_REPLACE":
		return cp.regexReplace(e)
	case "COALESCE":
		if len(e.Args) == 0 {
			semErr(e.P, "COALESCE needs arguments")
		}
		a := cp.args(e, 1, 1000)
		rc := unifyTypes(a)
		for i := range a {
			a[i] = cp.coerce(a[i], rc)
		}
		out := mk(rc.Type, func(c *evalCtx) value {
			for _, x := range a {
				if v := x.fn(c); !v.null {
					return v
				}
			}
			return nullValue
		})
		out.col = rc
		return out
	case "NULLIF":
		a := cp.args(e, 2, 2)
		cmp := cp.comparer(e.P, a[0], a[1])
		out := mk(a[0].t(), func(c *evalCtx) value {
			v, w := a[0].fn(c), a[1].fn(c)
			if v.null || w.null {
				return v
			}
			if cmp(c, v, w) == 0 {
				return nullValue
			}
			return v
		})
		out.col = a[0].col
		return out
	case "CURRENT_TIMESTAMP", "LOCALTIMESTAMP", "CURRENT_DATE", "CURRENT_TIME", "LOCALTIME":
		cp.args(e, 0, 0)
		var t Type
		switch name {
		case "CURRENT_DATE":
			t = TypeDate
		case "CURRENT_TIME", "LOCALTIME":
			t = TypeTime
		default:
			t = TypeTimestamp
		}
		return mk(t, func(c *evalCtx) value {
			ms := c.prog.queryStart()
			switch t {
			case TypeDate:
				return value{i: floorDiv(ms, msPerDay)}
			case TypeTime:
				return value{i: ms - floorDiv(ms, msPerDay)*msPerDay}
			}
			return value{i: ms}
		})
	case "CURRENT_ROW_TIMESTAMP":
		cp.args(e, 0, 0)
		return mk(TypeTimestamp, func(c *evalCtx) value { return value{i: c.prog.now} })
	case "TSDIFF":
		a := cp.args(e, 2, 2)
		return mk(TypeBigint, func(c *evalCtx) value {
			v, w := a[0].fn(c), a[1].fn(c)
			if v.null || w.null {
				return nullValue
			}
			return value{i: v.i - w.i}
		})
	case "TO_TIMESTAMP":
		a := cp.args(e, 1, 1)
		x := cp.castTo(a[0], Column{Type: TypeBigint})
		return mk(TypeTimestamp, func(c *evalCtx) value { return x.fn(c) })
	case "UNIX_TIMESTAMP":
		a := cp.args(e, 1, 1)
		x := a[0]
		if x.t() != TypeTimestamp {
			x = cp.castTo(x, Column{Type: TypeTimestamp})
		}
		return mk(TypeBigint, func(c *evalCtx) value { return x.fn(c) })
	case "CHAR_TO_TIMESTAMP", "CHAR_TO_DATE", "CHAR_TO_TIME":
		a := cp.args(e, 2, 2)
		f, s := cp.coerceStr(a[0]), cp.coerceStr(a[1])
		t := map[string]Type{"CHAR_TO_TIMESTAMP": TypeTimestamp, "CHAR_TO_DATE": TypeDate, "CHAR_TO_TIME": TypeTime}[name]
		return mk(t, func(c *evalCtx) value {
			fv, sv := f.fn(c), s.fn(c)
			if fv.null || sv.null {
				return nullValue
			}
			ms, err := parseJava(sv.s, fv.s)
			if err != nil {
				return c.fail(&evalError{"PARSE_ERROR", err.Error()})
			}
			switch t {
			case TypeDate:
				return value{i: floorDiv(ms, msPerDay)}
			case TypeTime:
				return value{i: ms - floorDiv(ms, msPerDay)*msPerDay}
			}
			return value{i: ms}
		})
	case "TIMESTAMP_TO_CHAR", "DATE_TO_CHAR", "TIME_TO_CHAR":
		a := cp.args(e, 2, 2)
		f := cp.coerceStr(a[0])
		x := a[1]
		xt := x.t()
		return mk(TypeVarchar, func(c *evalCtx) value {
			fv, v := f.fn(c), x.fn(c)
			if fv.null || v.null {
				return nullValue
			}
			ms := v.i
			if xt == TypeDate {
				ms *= msPerDay
			}
			return value{s: formatJava(ms, fv.s)}
		})
	case "W3C_LOG_PARSE", "REGEX_LOG_PARSE", "FAST_REGEX_LOG_PARSER", "FAST_REGEX_LOG_PARSE",
		"VARIABLE_COLUMN_LOG_PARSE", "SYS_LOG_PARSE", "FIXED_COLUMN_LOG_PARSE":
		return cp.logParse(name, e)
	}
	semErr(e.P, "No match found for function signature %s", name)
	return nil
}

func (cp *compiler) coerceStr(x *cexpr) *cexpr {
	if isStrType(x.t()) || x.t() == typeNull {
		return x
	}
	return cp.castTo(x, Column{Type: TypeVarchar})
}

func (cp *compiler) binaryOf(e *sql.Call, op string, l, r *cexpr) *cexpr {
	return cp.arith(&sql.Binary{P: e.P, Op: op}, l, r)
}

func initcap(s string) string {
	rs := []rune(strings.ToLower(s))
	start := true
	for i, r := range rs {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if start {
				rs[i] = unicode.ToUpper(r)
			}
			start = false
		} else {
			start = true
		}
	}
	return string(rs)
}

func (cp *compiler) regexReplace(e *sql.Call) *cexpr {
	a := cp.args(e, 3, 5)
	s, re, rep := cp.coerceStr(a[0]), cp.coerceStr(a[1]), cp.coerceStr(a[2])
	var startE, occE *cexpr
	if len(a) > 3 {
		startE = cp.castTo(a[3], Column{Type: TypeInteger})
	}
	if len(a) > 4 {
		occE = cp.castTo(a[4], Column{Type: TypeInteger})
	}
	cache := map[string]*jregex{}
	return mk(TypeVarchar, func(c *evalCtx) value {
		sv, rv, pv := s.fn(c), re.fn(c), rep.fn(c)
		if sv.null || rv.null || pv.null {
			return nullValue
		}
		rx := cache[rv.s]
		if rx == nil {
			var err error
			if rx, err = compileJava(rv.s); err != nil {
				return c.fail(&evalError{"INVALID_PATTERN", err.Error()})
			}
			if len(cache) < 64 {
				cache[rv.s] = rx
			}
		}
		start, occ := 1, 0
		if startE != nil {
			if v := startE.fn(c); !v.null {
				start = int(v.i)
			}
		}
		if occE != nil {
			if v := occE.fn(c); !v.null {
				occ = int(v.i)
			}
		}
		rs := []rune(sv.s)
		if start < 1 {
			start = 1
		}
		if start > len(rs)+1 {
			return sv
		}
		prefix, rest := string(rs[:start-1]), string(rs[start-1:])
		out, err := rx.replace(rest, pv.s, occ)
		if err != nil {
			return c.fail(&evalError{"REGEX_ERROR", err.Error()})
		}
		return value{s: prefix + out}
	})
}
