package sql

import (
	"strconv"
	"strings"
)

// Parse parses application code: CREATE STREAM and CREATE PUMP statements
// separated by semicolons. It never panics; every error is an *Error with
// the line and column of the offending token.
func Parse(src string) (script *Script, err error) {
	toks, lerr := lex(src)
	if lerr != nil {
		return nil, lerr
	}
	p := &parser{toks: toks}
	defer func() {
		if r := recover(); r != nil {
			if e, ok := r.(*Error); ok {
				script, err = nil, e
				return
			}
			panic(r)
		}
	}()
	return p.script(), nil
}

// ParseExpr parses one expression (used by tests and tools).
func ParseExpr(src string) (e Expr, err error) {
	toks, lerr := lex(src)
	if lerr != nil {
		return nil, lerr
	}
	p := &parser{toks: toks}
	defer func() {
		if r := recover(); r != nil {
			if pe, ok := r.(*Error); ok {
				e, err = nil, pe
				return
			}
			panic(r)
		}
	}()
	e = p.expr()
	p.expectEOF()
	return e, nil
}

const maxDepth = 200

type parser struct {
	toks  []token
	i     int
	depth int
}

// reserved words cannot be bare aliases.
var reserved = map[string]bool{
	"SELECT": true, "FROM": true, "WHERE": true, "GROUP": true, "HAVING": true, "WINDOW": true,
	"ORDER": true, "UNION": true, "JOIN": true, "INNER": true, "LEFT": true, "RIGHT": true,
	"FULL": true, "OUTER": true, "CROSS": true, "ON": true, "AS": true, "WINDOWED": true,
	"BY": true, "AND": true, "OR": true, "NOT": true, "CASE": true, "WHEN": true, "THEN": true,
	"ELSE": true, "END": true, "IS": true, "NULL": true, "LIKE": true, "SIMILAR": true,
	"BETWEEN": true, "IN": true, "OVER": true, "PARTITION": true, "RANGE": true, "ROWS": true,
	"PRECEDING": true, "INTERVAL": true, "DISTINCT": true, "ALL": true, "STREAM": true,
	"CREATE": true, "PUMP": true, "INSERT": true, "INTO": true, "VALUES": true, "TRUE": true,
	"FALSE": true, "CAST": true, "TABLE": true, "CURSOR": true, "ESCAPE": true, "LIMIT": true,
	"NATURAL": true, "USING": true,
}

func (p *parser) peek() token { return p.toks[p.i] }
func (p *parser) peekN(n int) token {
	if p.i+n < len(p.toks) {
		return p.toks[p.i+n]
	}
	return p.toks[len(p.toks)-1]
}
func (p *parser) next() token {
	t := p.toks[p.i]
	if p.i < len(p.toks)-1 {
		p.i++
	}
	return t
}
func (p *parser) pos() Pos { t := p.peek(); return Pos{t.line, t.col} }

func (p *parser) fail(t token, format string, args ...any) {
	panic(errorf(t.line, t.col, format, args...))
}

func (p *parser) unexpected(want string) {
	t := p.peek()
	if t.kind == tEOF {
		p.fail(t, "Encountered end of input; expected %s", want)
	}
	p.fail(t, "Encountered %q; expected %s", t.String(), want)
}

// isKw reports whether the next token is the unquoted keyword kw.
func (p *parser) isKw(kw string) bool {
	t := p.peek()
	return t.kind == tIdent && t.val == kw
}
func (p *parser) isKwN(n int, kw string) bool {
	t := p.peekN(n)
	return t.kind == tIdent && t.val == kw
}
func (p *parser) acceptKw(kw string) bool {
	if p.isKw(kw) {
		p.next()
		return true
	}
	return false
}
func (p *parser) expectKw(kw string) {
	if !p.acceptKw(kw) {
		p.unexpected(kw)
	}
}
func (p *parser) isOp(op string) bool {
	t := p.peek()
	return t.kind == tOp && t.val == op
}
func (p *parser) acceptOp(op string) bool {
	if p.isOp(op) {
		p.next()
		return true
	}
	return false
}
func (p *parser) expectOp(op string) {
	if !p.acceptOp(op) {
		p.unexpected("\"" + op + "\"")
	}
}
func (p *parser) expectEOF() {
	if p.peek().kind != tEOF {
		p.unexpected("end of input")
	}
}

func (p *parser) enter() {
	p.depth++
	if p.depth > maxDepth {
		p.fail(p.peek(), "expression nested too deeply")
	}
}
func (p *parser) leave() { p.depth-- }

// name parses an identifier (quoted or not, reserved words excluded).
func (p *parser) name() Name {
	t := p.peek()
	switch {
	case t.kind == tQIdent:
		p.next()
		return Name{Pos{t.line, t.col}, t.val, true}
	case t.kind == tIdent && !reserved[t.val]:
		p.next()
		return Name{Pos{t.line, t.col}, t.val, false}
	}
	p.unexpected("an identifier")
	return Name{}
}

func (p *parser) isName() bool {
	t := p.peek()
	return t.kind == tQIdent || t.kind == tIdent && !reserved[t.val]
}

func (p *parser) script() *Script {
	s := &Script{}
	for {
		for p.acceptOp(";") {
		}
		if p.peek().kind == tEOF {
			return s
		}
		s.Stmts = append(s.Stmts, p.statement())
		if p.peek().kind != tEOF && !p.isOp(";") {
			p.unexpected("\";\"")
		}
	}
}

func (p *parser) statement() Stmt {
	start := p.pos()
	p.expectKw("CREATE")
	if p.acceptKw("OR") {
		p.expectKw("REPLACE")
	}
	switch {
	case p.acceptKw("STREAM"):
		return p.createStream(start)
	case p.acceptKw("PUMP"):
		return p.createPump(start)
	}
	p.unexpected("STREAM or PUMP")
	return nil
}

func (p *parser) createStream(start Pos) *CreateStream {
	cs := &CreateStream{Pos: start, Name: p.name()}
	p.expectOp("(")
	for {
		cd := ColumnDef{Name: p.name(), Type: p.typeName()}
		if p.acceptKw("NOT") {
			p.expectKw("NULL")
			cd.NotNull = true
		} else {
			p.acceptKw("NULL")
		}
		cs.Columns = append(cs.Columns, cd)
		if p.acceptOp(")") {
			break
		}
		p.expectOp(",")
	}
	if p.acceptKw("DESCRIPTION") {
		t := p.next()
		if t.kind != tString {
			p.fail(t, "Encountered %q; expected a string literal", t.String())
		}
		cs.Description = t.val
	}
	return cs
}

func (p *parser) createPump(start Pos) *CreatePump {
	cp := &CreatePump{Pos: start, Name: p.name()}
	p.expectKw("AS")
	p.expectKw("INSERT")
	p.acceptKw("EXPEDITED")
	p.expectKw("INTO")
	cp.Target = p.name()
	if p.isOp("(") && !p.isKwN(1, "SELECT") {
		p.next()
		for {
			cp.Columns = append(cp.Columns, p.name())
			if p.acceptOp(")") {
				break
			}
			p.expectOp(",")
		}
	}
	cp.Query = p.queryMaybeParen()
	return cp
}

func (p *parser) queryMaybeParen() *Select {
	if p.isOp("(") {
		p.next()
		p.enter()
		q := p.queryMaybeParen()
		p.leave()
		p.expectOp(")")
		if p.acceptKw("UNION") {
			p.expectKw("ALL")
			q.UnionAll = p.queryMaybeParen()
		}
		return q
	}
	return p.query()
}

var typeAliases = map[string]string{
	"VARCHAR": "VARCHAR", "CHAR": "CHAR", "CHARACTER": "CHAR", "BOOLEAN": "BOOLEAN",
	"TINYINT": "TINYINT", "SMALLINT": "SMALLINT", "INTEGER": "INTEGER", "INT": "INTEGER",
	"BIGINT": "BIGINT", "REAL": "REAL", "FLOAT": "DOUBLE", "DOUBLE": "DOUBLE", "DECIMAL": "DECIMAL",
	"DEC": "DECIMAL", "NUMERIC": "DECIMAL", "DATE": "DATE", "TIME": "TIME", "TIMESTAMP": "TIMESTAMP",
	"BINARY": "BINARY", "VARBINARY": "VARBINARY",
}

func (p *parser) typeName() TypeName {
	t := p.peek()
	canon, ok := "", false
	if t.kind == tIdent {
		canon, ok = typeAliases[t.val]
	}
	if !ok {
		p.unexpected("a data type")
	}
	p.next()
	tn := TypeName{Pos: Pos{t.line, t.col}, Name: canon, Size: -1}
	switch {
	case canon == "DOUBLE":
		p.acceptKw("PRECISION")
	case canon == "CHAR" && p.isKw("VARYING"):
		p.next()
		tn.Name = "VARCHAR"
	}
	if p.acceptOp("(") {
		tn.Size = p.intLit()
		if p.acceptOp(",") {
			tn.Scale = p.intLit()
		}
		p.expectOp(")")
	}
	if tn.Name == "TIMESTAMP" || tn.Name == "TIME" {
		if p.acceptKw("WITH") || p.acceptKw("WITHOUT") {
			p.expectKw("TIME")
			p.expectKw("ZONE")
		}
	}
	return tn
}

func (p *parser) intLit() int {
	t := p.next()
	if t.kind != tNumber {
		p.fail(t, "Encountered %q; expected an integer", t.String())
	}
	n, err := strconv.Atoi(t.val)
	if err != nil || n < 0 {
		p.fail(t, "invalid integer %q", t.val)
	}
	return n
}

// query parses SELECT … [UNION ALL SELECT …].
func (p *parser) query() *Select {
	p.enter()
	defer p.leave()
	s := &Select{Pos: p.pos()}
	p.expectKw("SELECT")
	s.Stream = p.acceptKw("STREAM")
	if p.acceptKw("DISTINCT") {
		s.Distinct = true
	} else {
		p.acceptKw("ALL")
	}
	for {
		s.Items = append(s.Items, p.selectItem())
		if !p.acceptOp(",") {
			break
		}
	}
	p.expectKw("FROM")
	s.From = p.fromClause()
	for {
		switch {
		case s.Where == nil && p.acceptKw("WHERE"):
			s.Where = p.expr()
		case s.GroupBy == nil && p.isKw("GROUP"):
			p.next()
			p.expectKw("BY")
			for {
				s.GroupBy = append(s.GroupBy, p.expr())
				if !p.acceptOp(",") {
					break
				}
			}
		case s.Stagger == nil && p.isKw("WINDOWED"):
			p.next()
			p.expectKw("BY")
			if !p.isKw("STAGGER") {
				p.unexpected("STAGGER")
			}
			p.next()
			s.Stagger = p.windowSpecParen()
			if s.Stagger.Range == nil || len(s.Stagger.Partition) == 0 {
				p.fail(p.toks[p.i-1], "WINDOWED BY STAGGER needs PARTITION BY and RANGE INTERVAL")
			}
		case s.Having == nil && p.acceptKw("HAVING"):
			s.Having = p.expr()
		case s.Windows == nil && p.acceptKw("WINDOW"):
			for {
				nw := NamedWindow{Name: p.name()}
				p.expectKw("AS")
				nw.Spec = p.windowSpecParen()
				s.Windows = append(s.Windows, nw)
				if !p.acceptOp(",") {
					break
				}
			}
		case s.OrderBy == nil && p.isKw("ORDER"):
			p.next()
			p.expectKw("BY")
			s.OrderBy = p.orderItems()
		default:
			if p.acceptKw("UNION") {
				p.expectKw("ALL")
				s.UnionAll = p.queryMaybeParen()
			}
			return s
		}
	}
}

func (p *parser) orderItems() []OrderItem {
	var items []OrderItem
	for {
		it := OrderItem{Expr: p.expr()}
		if p.acceptKw("DESC") {
			it.Desc = true
		} else {
			p.acceptKw("ASC")
		}
		items = append(items, it)
		if !p.acceptOp(",") {
			return items
		}
	}
}

func (p *parser) selectItem() SelectItem {
	it := SelectItem{Pos: p.pos()}
	if p.acceptOp("*") {
		it.Star = true
		return it
	}
	if p.isName() && p.peekN(1).kind == tOp && p.peekN(1).val == "." && p.peekN(2).kind == tOp && p.peekN(2).val == "*" {
		q := p.name()
		p.next()
		p.next()
		it.Star, it.Qual = true, &q
		return it
	}
	it.Expr = p.expr()
	if p.acceptKw("AS") || p.isName() {
		n := p.name()
		it.Alias = &n
	}
	return it
}

func (p *parser) fromClause() From {
	left := p.fromPrimary()
	for {
		start := p.pos()
		kind := ""
		switch {
		case p.acceptOp(","):
			right := p.fromPrimary()
			left = &Join{Pos: start, Kind: "CROSS", Left: left, Right: right}
			continue
		case p.isKw("JOIN"):
			kind = "INNER"
		case p.isKw("INNER"):
			p.next()
			kind = "INNER"
		case p.isKw("LEFT"), p.isKw("RIGHT"), p.isKw("FULL"):
			kind = p.next().val
			p.acceptKw("OUTER")
		case p.isKw("CROSS"):
			p.next()
			kind = "CROSS"
		default:
			return left
		}
		p.expectKw("JOIN")
		j := &Join{Pos: start, Kind: kind, Left: left, Right: p.fromPrimary()}
		if kind != "CROSS" {
			p.expectKw("ON")
			j.On = p.expr()
		}
		left = j
	}
}

func (p *parser) alias() *Name {
	if p.acceptKw("AS") || p.isName() {
		n := p.name()
		return &n
	}
	return nil
}

func (p *parser) fromPrimary() From {
	p.enter()
	defer p.leave()
	start := p.pos()
	switch {
	case p.isOp("("):
		p.next()
		if !p.isKw("SELECT") && !p.isOp("(") {
			f := p.fromClause()
			p.expectOp(")")
			return f
		}
		q := p.queryMaybeParen()
		p.expectOp(")")
		sr := &SubqueryRef{Pos: start, Query: q, Alias: p.alias()}
		if sr.Alias != nil && p.acceptOp("(") {
			for {
				sr.ColNames = append(sr.ColNames, p.name())
				if p.acceptOp(")") {
					break
				}
				p.expectOp(",")
			}
		}
		return sr
	case p.isKw("TABLE"):
		p.next()
		p.expectOp("(")
		e := p.expr()
		c, ok := e.(*Call)
		if !ok {
			p.fail(p.toks[p.i-1], "TABLE( ) needs a table function call")
		}
		p.expectOp(")")
		return &TableFunc{Call: c, Alias: p.alias()}
	}
	tr := &TableRef{Name: p.name()}
	if p.isKw("OVER") {
		p.next()
		tr.Over = p.windowSpecParen()
	}
	tr.Alias = p.alias()
	if tr.Over == nil && p.isKw("OVER") {
		p.next()
		tr.Over = p.windowSpecParen()
	}
	return tr
}

func (p *parser) windowSpecParen() *WindowSpec {
	ws := &WindowSpec{Pos: p.pos(), Rows: -1}
	p.expectOp("(")
	if p.acceptKw("PARTITION") {
		p.expectKw("BY")
		for {
			ws.Partition = append(ws.Partition, p.expr())
			if !p.acceptOp(",") {
				break
			}
		}
	}
	if p.isKw("ORDER") {
		p.next()
		p.expectKw("BY")
		ws.OrderBy = p.orderItems()
	}
	switch {
	case p.acceptKw("RANGE"):
		if p.acceptKw("UNBOUNDED") {
			ws.Unbounded = true
		} else if p.isKw("INTERVAL") {
			iv := p.interval()
			ws.Range = iv
			if iv.Neg || iv.Ms <= 0 {
				p.fail(p.toks[p.i-1], "window range must be a positive interval")
			}
		} else {
			p.unexpected("INTERVAL or UNBOUNDED")
		}
		p.acceptKw("PRECEDING")
	case p.acceptKw("ROWS"):
		if p.acceptKw("UNBOUNDED") {
			p.unexpected("a number of rows")
		}
		n := p.intLit()
		ws.Rows = int64(n)
		p.expectKw("PRECEDING")
	}
	p.expectOp(")")
	return ws
}

// Binding powers of infix operators.
func infixPower(t token) int {
	if t.kind == tOp {
		switch t.val {
		case "=", "<>", "!=", "<", "<=", ">", ">=":
			return 40
		case "||":
			return 50
		case "+", "-":
			return 60
		case "*", "/", "%":
			return 70
		}
		return 0
	}
	if t.kind == tIdent {
		switch t.val {
		case "OR":
			return 10
		case "AND":
			return 20
		case "IS", "LIKE", "SIMILAR", "BETWEEN", "IN", "NOT":
			return 40
		}
	}
	return 0
}

func (p *parser) expr() Expr { return p.exprBP(0) }

func (p *parser) exprBP(minBP int) Expr {
	p.enter()
	defer p.leave()
	left := p.prefix()
	for {
		t := p.peek()
		bp := infixPower(t)
		if bp == 0 || bp <= minBP {
			return left
		}
		pos := Pos{t.line, t.col}
		if t.kind == tIdent {
			switch t.val {
			case "OR", "AND":
				p.next()
				left = &Binary{P: pos, Op: t.val, L: left, R: p.exprBP(bp)}
				continue
			case "IS":
				p.next()
				not := p.acceptKw("NOT")
				switch {
				case p.acceptKw("NULL"):
					left = &IsNull{P: pos, Not: not, X: left}
				case p.isKw("TRUE") || p.isKw("FALSE") || p.isKw("UNKNOWN"):
					left = &IsNull{P: pos, Not: not, X: left, Truth: p.next().val}
				case p.acceptKw("DISTINCT"):
					p.expectKw("FROM")
					left = &IsDistinct{P: pos, Not: not, L: left, R: p.exprBP(bp)}
				default:
					p.unexpected("NULL, TRUE, FALSE or DISTINCT FROM")
				}
				continue
			}
			// [NOT] LIKE | SIMILAR TO | BETWEEN | IN
			not := false
			if t.val == "NOT" {
				nx := p.peekN(1)
				if nx.kind != tIdent || (nx.val != "LIKE" && nx.val != "SIMILAR" && nx.val != "BETWEEN" && nx.val != "IN") {
					return left
				}
				p.next()
				not = true
			}
			kw := p.next().val
			switch kw {
			case "LIKE", "SIMILAR":
				if kw == "SIMILAR" {
					p.expectKw("TO")
				}
				l := &Like{P: pos, Not: not, Similar: kw == "SIMILAR", X: left, Pat: p.exprBP(bp)}
				if p.acceptKw("ESCAPE") {
					l.Escape = p.exprBP(bp)
				}
				left = l
			case "BETWEEN":
				lo := p.exprBP(bp)
				p.expectKw("AND")
				hi := p.exprBP(bp)
				left = &Between{P: pos, Not: not, X: left, Lo: lo, Hi: hi}
			case "IN":
				p.expectOp("(")
				in := &In{P: pos, Not: not, X: left}
				for {
					in.List = append(in.List, p.expr())
					if p.acceptOp(")") {
						break
					}
					p.expectOp(",")
				}
				left = in
			}
			continue
		}
		p.next()
		op := t.val
		if op == "!=" {
			op = "<>"
		}
		left = &Binary{P: pos, Op: op, L: left, R: p.exprBP(bp)}
	}
}

var niladic = map[string]bool{
	"CURRENT_DATE": true, "CURRENT_TIME": true, "CURRENT_TIMESTAMP": true, "LOCALTIME": true,
	"LOCALTIMESTAMP": true, "CURRENT_ROW_TIMESTAMP": true,
}

func (p *parser) prefix() Expr {
	t := p.peek()
	pos := Pos{t.line, t.col}
	switch t.kind {
	case tNumber:
		p.next()
		return &Literal{P: pos, Kind: LitNumber, Val: t.val}
	case tString:
		p.next()
		return &Literal{P: pos, Kind: LitString, Val: t.val}
	case tOp:
		switch t.val {
		case "-", "+":
			p.next()
			return &Unary{P: pos, Op: t.val, X: p.exprBP(80)}
		case "(":
			p.next()
			if p.isKw("SELECT") {
				p.fail(t, "scalar subqueries are not supported")
			}
			e := p.expr()
			p.expectOp(")")
			return e
		}
		p.unexpected("an expression")
	case tQIdent:
		return p.identOrCall()
	case tIdent:
		switch t.val {
		case "NOT":
			p.next()
			return &Unary{P: pos, Op: "NOT", X: p.exprBP(30)}
		case "NULL":
			p.next()
			return &Literal{P: pos, Kind: LitNull}
		case "TRUE", "FALSE":
			p.next()
			return &Literal{P: pos, Kind: LitBool, Val: t.val}
		case "UNKNOWN":
			p.next()
			return &Literal{P: pos, Kind: LitNull}
		case "INTERVAL":
			return p.interval()
		case "DATE", "TIME", "TIMESTAMP":
			if nx := p.peekN(1); nx.kind == tString {
				p.next()
				p.next()
				k := map[string]int{"DATE": LitDate, "TIME": LitTime, "TIMESTAMP": LitTimestamp}[t.val]
				return &Literal{P: pos, Kind: k, Val: nx.val}
			}
		case "CASE":
			return p.caseExpr()
		case "CAST":
			p.next()
			p.expectOp("(")
			x := p.expr()
			p.expectKw("AS")
			tn := p.typeName()
			p.expectOp(")")
			return &Cast{P: pos, X: x, Type: tn}
		case "CURSOR":
			p.next()
			p.expectOp("(")
			q := p.queryMaybeParen()
			p.expectOp(")")
			return &Cursor{P: pos, Query: q}
		}
		if niladic[t.val] && !(p.peekN(1).kind == tOp && p.peekN(1).val == "(") {
			p.next()
			return &Call{P: pos, Name: Name{pos, t.val, false}}
		}
		if p.peekN(1).kind == tOp && p.peekN(1).val == "(" {
			if e := p.specialCall(t.val, pos); e != nil {
				return e
			}
		}
		if reserved[t.val] {
			p.unexpected("an expression")
		}
		return p.identOrCall()
	}
	p.unexpected("an expression")
	return nil
}

func (p *parser) caseExpr() Expr {
	c := &Case{P: p.pos()}
	p.expectKw("CASE")
	if !p.isKw("WHEN") {
		c.Operand = p.expr()
	}
	for p.acceptKw("WHEN") {
		w := When{Cond: p.expr()}
		p.expectKw("THEN")
		w.Then = p.expr()
		c.Whens = append(c.Whens, w)
	}
	if len(c.Whens) == 0 {
		p.unexpected("WHEN")
	}
	if p.acceptKw("ELSE") {
		c.Else = p.expr()
	}
	p.expectKw("END")
	return c
}

var timeUnits = map[string]bool{
	"YEAR": true, "MONTH": true, "DAY": true, "HOUR": true, "MINUTE": true, "SECOND": true,
	"MILLISECOND": true, "WEEK": true, "QUARTER": true,
}

func (p *parser) unit() string {
	t := p.peek()
	if t.kind == tIdent && timeUnits[t.val] {
		p.next()
		return t.val
	}
	p.unexpected("a time unit")
	return ""
}

// specialCall parses the functions with keyword syntax inside their
// parentheses; it returns nil for an ordinary call.
func (p *parser) specialCall(name string, pos Pos) Expr {
	switch name {
	case "FLOOR", "CEIL", "CEILING":
		// FLOOR(x TO unit) or FLOOR(x)
		save := p.i
		p.next()
		p.next()
		x := p.expr()
		if p.acceptKw("TO") {
			u := p.unit()
			p.expectOp(")")
			return &FloorTo{P: pos, Ceil: name != "FLOOR", X: x, Unit: u}
		}
		p.i = save
		return nil
	case "STEP":
		p.next()
		p.next()
		x := p.expr()
		p.expectKw("BY")
		by := p.expr()
		p.expectOp(")")
		return &Step{P: pos, X: x, By: by}
	case "EXTRACT":
		p.next()
		p.next()
		f := p.unit()
		p.expectKw("FROM")
		x := p.expr()
		p.expectOp(")")
		return &Extract{P: pos, Field: f, X: x}
	case "POSITION":
		p.next()
		p.next()
		sub := p.exprBP(40)
		p.expectKw("IN")
		s := p.expr()
		ps := &Position{P: pos, Sub: sub, S: s}
		if p.acceptKw("FROM") {
			ps.From = p.expr()
		}
		p.expectOp(")")
		return ps
	case "SUBSTRING":
		p.next()
		p.next()
		s := p.exprBP(40) // stop before SIMILAR
		ss := &Substring{P: pos, S: s}
		switch {
		case p.acceptKw("FROM"):
			ss.From = p.expr()
			if p.acceptKw("FOR") {
				ss.For = p.expr()
			}
		case p.acceptKw("SIMILAR"):
			ss.Regex = true
			ss.Pat = p.expr()
			if p.acceptKw("ESCAPE") {
				ss.Escape = p.expr()
			}
		case p.acceptOp(","):
			ss.From = p.expr()
			if p.acceptOp(",") {
				ss.For = p.expr()
			}
		default:
			p.unexpected("FROM")
		}
		p.expectOp(")")
		return ss
	case "TRIM":
		p.next()
		p.next()
		tr := &Trim{P: pos, Where: "BOTH"}
		if p.isKw("BOTH") || p.isKw("LEADING") || p.isKw("TRAILING") {
			tr.Where = p.next().val
			if !p.isKw("FROM") {
				tr.Chars = p.expr()
			}
			p.expectKw("FROM")
			tr.S = p.expr()
		} else {
			first := p.expr()
			if p.acceptKw("FROM") {
				tr.Chars = first
				tr.S = p.expr()
			} else {
				tr.S = first
			}
		}
		p.expectOp(")")
		return tr
	case "OVERLAY":
		p.next()
		p.next()
		ov := &Overlay{P: pos, S: p.expr()}
		p.expectKw("PLACING")
		ov.R = p.expr()
		p.expectKw("FROM")
		ov.From = p.expr()
		if p.acceptKw("FOR") {
			ov.For = p.expr()
		}
		p.expectOp(")")
		return ov
	}
	return nil
}

func (p *parser) identOrCall() Expr {
	first := p.name()
	if p.isOp("(") {
		return p.call(first)
	}
	id := &Ident{Parts: []Name{first}}
	for p.isOp(".") {
		p.next()
		t := p.peek()
		if t.kind == tIdent {
			// keywords are fine after a dot (e.g. s.ROWTIME, t.TIMESTAMP)
			p.next()
			id.Parts = append(id.Parts, Name{Pos{t.line, t.col}, t.val, false})
			continue
		}
		id.Parts = append(id.Parts, p.name())
	}
	if len(id.Parts) > 4 {
		p.fail(p.peek(), "identifier has too many parts")
	}
	return id
}

func (p *parser) call(name Name) Expr {
	c := &Call{P: name.Pos, Name: name}
	p.expectOp("(")
	if p.acceptKw("DISTINCT") {
		c.Distinct = true
	} else {
		p.acceptKw("ALL")
	}
	if p.acceptOp("*") {
		c.Star = true
		p.expectOp(")")
	} else if !p.acceptOp(")") {
		for {
			c.Args = append(c.Args, p.expr())
			if p.isKw("IGNORE") || p.isKw("RESPECT") {
				c.IgnoreNulls = p.next().val == "IGNORE"
				p.expectKw("NULLS")
			}
			if p.acceptOp(")") {
				break
			}
			p.expectOp(",")
		}
	}
	if p.isKw("IGNORE") || p.isKw("RESPECT") {
		c.IgnoreNulls = p.next().val == "IGNORE"
		p.expectKw("NULLS")
	}
	if p.acceptKw("OVER") {
		if p.isOp("(") {
			c.Over = p.windowSpecParen()
		} else {
			n := p.name()
			c.Over = &WindowSpec{Pos: n.Pos, Ref: &n, Rows: -1}
		}
	}
	return c
}

var unitMs = map[string]int64{
	"MILLISECOND": 1, "SECOND": 1000, "MINUTE": 60_000, "HOUR": 3_600_000, "DAY": 86_400_000,
}

// interval parses INTERVAL [-]'text' unit [(p)] [TO unit [(p)]].
func (p *parser) interval() *Interval {
	start := p.peek()
	p.expectKw("INTERVAL")
	iv := &Interval{P: Pos{start.line, start.col}}
	if p.acceptOp("-") {
		iv.Neg = true
	} else {
		p.acceptOp("+")
	}
	t := p.next()
	if t.kind != tString && t.kind != tNumber {
		p.fail(t, "Encountered %q; expected an interval string", t.String())
	}
	iv.Text = t.val
	ut := p.peek()
	iv.Unit = p.unit()
	if p.acceptOp("(") {
		p.intLit()
		if p.acceptOp(",") {
			p.intLit()
		}
		p.expectOp(")")
	}
	if p.acceptKw("TO") {
		iv.To = p.unit()
		if p.acceptOp("(") {
			p.intLit()
			p.expectOp(")")
		}
	}
	if iv.Unit == "YEAR" || iv.Unit == "MONTH" || iv.Unit == "WEEK" || iv.Unit == "QUARTER" {
		p.fail(ut, "only day-time intervals are supported, not %s", iv.Unit)
	}
	ms, ok := intervalMs(iv.Text, iv.Unit, iv.To)
	if !ok {
		p.fail(t, "invalid interval literal '%s' %s", iv.Text, iv.Unit)
	}
	if strings.HasPrefix(strings.TrimSpace(iv.Text), "-") {
		iv.Neg = !iv.Neg
	}
	iv.Ms = ms
	if iv.Neg {
		iv.Ms = -ms
	}
	return iv
}

// intervalMs converts an interval literal's text to milliseconds: 'n' for a
// single unit (fractional seconds allowed), or fields separated by spaces
// and colons from unit down to to ('1 02:30:00' DAY TO SECOND).
func intervalMs(text, unit, to string) (int64, bool) {
	text = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(text), "-"))
	if text == "" {
		return 0, false
	}
	order := []string{"DAY", "HOUR", "MINUTE", "SECOND"}
	idx := func(u string) int {
		for i, o := range order {
			if o == u {
				return i
			}
		}
		return -1
	}
	if to == "" {
		f, err := strconv.ParseFloat(text, 64)
		if err != nil || f < 0 || f > 1e12 {
			return 0, false
		}
		return int64(f*float64(unitMs[unit]) + 0.5), true
	}
	a, b := idx(unit), idx(to)
	if a < 0 || b < 0 || b < a {
		return 0, false
	}
	fields := strings.FieldsFunc(text, func(r rune) bool { return r == ' ' || r == ':' })
	if len(fields) != b-a+1 {
		return 0, false
	}
	var total int64
	for k, f := range fields {
		v, err := strconv.ParseFloat(f, 64)
		if err != nil || v < 0 || v > 1e12 {
			return 0, false
		}
		total += int64(v*float64(unitMs[order[a+k]]) + 0.5)
	}
	return total, true
}
