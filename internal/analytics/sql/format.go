package sql

import (
	"strconv"
	"strings"
)

// Format prints an expression in a canonical form: quoted identifiers,
// upper-case keywords, full parentheses. Two expressions that print alike
// are the same expression; the planner uses this to match select items
// with GROUP BY keys. ident, when non-nil, prints identifiers (the planner
// passes one that prints the resolved column).
func Format(e Expr, ident func(*Ident) string) string {
	var sb strings.Builder
	f := formatter{&sb, ident}
	f.expr(e)
	return sb.String()
}

type formatter struct {
	sb    *strings.Builder
	ident func(*Ident) string
}

func (f formatter) w(s ...string) {
	for _, x := range s {
		f.sb.WriteString(x)
	}
}

func quote(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

func (f formatter) list(es []Expr) {
	for i, e := range es {
		if i > 0 {
			f.w(", ")
		}
		f.expr(e)
	}
}

func (f formatter) expr(e Expr) {
	switch e := e.(type) {
	case nil:
		f.w("NULL")
	case *Ident:
		if f.ident != nil {
			f.w(f.ident(e))
			return
		}
		for i, p := range e.Parts {
			if i > 0 {
				f.w(".")
			}
			f.w(quote(p.Text))
		}
	case *Literal:
		switch e.Kind {
		case LitNumber:
			f.w(e.Val)
		case LitString:
			f.w("'", strings.ReplaceAll(e.Val, "'", "''"), "'")
		case LitBool:
			f.w(e.Val)
		case LitNull:
			f.w("NULL")
		case LitDate:
			f.w("DATE '", e.Val, "'")
		case LitTime:
			f.w("TIME '", e.Val, "'")
		case LitTimestamp:
			f.w("TIMESTAMP '", e.Val, "'")
		}
	case *Interval:
		f.w("INTERVAL '", strconv.FormatInt(e.Ms, 10), "' MILLISECOND")
	case *Unary:
		f.w("(", e.Op, " ")
		f.expr(e.X)
		f.w(")")
	case *Binary:
		f.w("(")
		f.expr(e.L)
		f.w(" ", e.Op, " ")
		f.expr(e.R)
		f.w(")")
	case *Call:
		f.w(e.Name.Text, "(")
		if e.Distinct {
			f.w("DISTINCT ")
		}
		if e.Star {
			f.w("*")
		}
		f.list(e.Args)
		f.w(")")
		if e.IgnoreNulls {
			f.w(" IGNORE NULLS")
		}
		if e.Over != nil {
			f.w(" OVER ")
			f.window(e.Over)
		}
	case *Case:
		f.w("CASE")
		if e.Operand != nil {
			f.w(" ")
			f.expr(e.Operand)
		}
		for _, wh := range e.Whens {
			f.w(" WHEN ")
			f.expr(wh.Cond)
			f.w(" THEN ")
			f.expr(wh.Then)
		}
		if e.Else != nil {
			f.w(" ELSE ")
			f.expr(e.Else)
		}
		f.w(" END")
	case *Cast:
		f.w("CAST(")
		f.expr(e.X)
		f.w(" AS ", e.Type.Name)
		if e.Type.Size >= 0 {
			f.w("(", strconv.Itoa(e.Type.Size))
			if e.Type.Scale > 0 {
				f.w(",", strconv.Itoa(e.Type.Scale))
			}
			f.w(")")
		}
		f.w(")")
	case *Like:
		f.w("(")
		f.expr(e.X)
		if e.Not {
			f.w(" NOT")
		}
		if e.Similar {
			f.w(" SIMILAR TO ")
		} else {
			f.w(" LIKE ")
		}
		f.expr(e.Pat)
		if e.Escape != nil {
			f.w(" ESCAPE ")
			f.expr(e.Escape)
		}
		f.w(")")
	case *IsNull:
		f.w("(")
		f.expr(e.X)
		f.w(" IS ")
		if e.Not {
			f.w("NOT ")
		}
		if e.Truth == "" {
			f.w("NULL)")
		} else {
			f.w(e.Truth, ")")
		}
	case *IsDistinct:
		f.w("(")
		f.expr(e.L)
		if e.Not {
			f.w(" IS NOT DISTINCT FROM ")
		} else {
			f.w(" IS DISTINCT FROM ")
		}
		f.expr(e.R)
		f.w(")")
	case *Between:
		f.w("(")
		f.expr(e.X)
		if e.Not {
			f.w(" NOT")
		}
		f.w(" BETWEEN ")
		f.expr(e.Lo)
		f.w(" AND ")
		f.expr(e.Hi)
		f.w(")")
	case *In:
		f.w("(")
		f.expr(e.X)
		if e.Not {
			f.w(" NOT")
		}
		f.w(" IN (")
		f.list(e.List)
		f.w("))")
	case *FloorTo:
		if e.Ceil {
			f.w("CEIL(")
		} else {
			f.w("FLOOR(")
		}
		f.expr(e.X)
		f.w(" TO ", e.Unit, ")")
	case *Step:
		f.w("STEP(")
		f.expr(e.X)
		f.w(" BY ")
		f.expr(e.By)
		f.w(")")
	case *Extract:
		f.w("EXTRACT(", e.Field, " FROM ")
		f.expr(e.X)
		f.w(")")
	case *Position:
		f.w("POSITION(")
		f.expr(e.Sub)
		f.w(" IN ")
		f.expr(e.S)
		if e.From != nil {
			f.w(" FROM ")
			f.expr(e.From)
		}
		f.w(")")
	case *Substring:
		f.w("SUBSTRING(")
		f.expr(e.S)
		if e.Regex {
			f.w(" SIMILAR ")
			f.expr(e.Pat)
			if e.Escape != nil {
				f.w(" ESCAPE ")
				f.expr(e.Escape)
			}
		} else {
			f.w(" FROM ")
			f.expr(e.From)
			if e.For != nil {
				f.w(" FOR ")
				f.expr(e.For)
			}
		}
		f.w(")")
	case *Trim:
		f.w("TRIM(", e.Where, " ")
		if e.Chars != nil {
			f.expr(e.Chars)
			f.w(" ")
		}
		f.w("FROM ")
		f.expr(e.S)
		f.w(")")
	case *Overlay:
		f.w("OVERLAY(")
		f.expr(e.S)
		f.w(" PLACING ")
		f.expr(e.R)
		f.w(" FROM ")
		f.expr(e.From)
		if e.For != nil {
			f.w(" FOR ")
			f.expr(e.For)
		}
		f.w(")")
	case *Cursor:
		f.w("CURSOR(…)")
	}
}

func (f formatter) window(ws *WindowSpec) {
	if ws.Ref != nil {
		f.w(quote(ws.Ref.Text))
		return
	}
	f.w("(")
	if len(ws.Partition) > 0 {
		f.w("PARTITION BY ")
		f.list(ws.Partition)
	}
	switch {
	case ws.Range != nil:
		f.w(" RANGE ")
		f.expr(ws.Range)
		f.w(" PRECEDING")
	case ws.Unbounded:
		f.w(" RANGE UNBOUNDED PRECEDING")
	case ws.Rows >= 0:
		f.w(" ROWS ", strconv.FormatInt(ws.Rows, 10), " PRECEDING")
	}
	f.w(")")
}
