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

// opt is an optional clause: its keyword and expression are written only
// when the expression is present.
type opt struct {
	kw string
	x  Expr
}

// seq writes its parts in order: strings as they are, expressions
// formatted, optional clauses when present.
func (f formatter) seq(parts ...any) {
	for _, p := range parts {
		switch p := p.(type) {
		case string:
			f.w(p)
		case Expr:
			f.expr(p)
		case opt:
			if p.x != nil {
				f.w(p.kw)
				f.expr(p.x)
			}
		}
	}
}

// notKw is " NOT" for a negated predicate.
func notKw(not bool) string {
	if not {
		return " NOT"
	}
	return ""
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
		f.seq(opt{" ", e.Operand})
		for _, wh := range e.Whens {
			f.seq(" WHEN ", wh.Cond, " THEN ", wh.Then)
		}
		f.seq(opt{" ELSE ", e.Else}, " END")
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
		op := " LIKE "
		if e.Similar {
			op = " SIMILAR TO "
		}
		f.seq("(", e.X, notKw(e.Not), op, e.Pat, opt{" ESCAPE ", e.Escape}, ")")
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
		op := " IS DISTINCT FROM "
		if e.Not {
			op = " IS NOT DISTINCT FROM "
		}
		f.seq("(", e.L, op, e.R, ")")
	case *Between:
		f.seq("(", e.X, notKw(e.Not), " BETWEEN ", e.Lo, " AND ", e.Hi, ")")
	case *In:
		f.seq("(", e.X, notKw(e.Not), " IN (")
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
		f.seq("STEP(", e.X, " BY ", e.By, ")")
	case *Extract:
		f.seq("EXTRACT(", e.Field, " FROM ", e.X, ")")
	case *Position:
		f.seq("POSITION(", e.Sub, " IN ", e.S, opt{" FROM ", e.From}, ")")
	case *Substring:
		if e.Regex {
			f.seq("SUBSTRING(", e.S, " SIMILAR ", e.Pat, opt{" ESCAPE ", e.Escape}, ")")
		} else {
			f.seq("SUBSTRING(", e.S, " FROM ", e.From, opt{" FOR ", e.For}, ")")
		}
	case *Trim:
		f.w("TRIM(", e.Where, " ")
		if e.Chars != nil {
			f.seq(e.Chars, " ")
		}
		f.seq("FROM ", e.S, ")")
	case *Overlay:
		f.seq("OVERLAY(", e.S, " PLACING ", e.R, " FROM ", e.From, opt{" FOR ", e.For}, ")")
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
