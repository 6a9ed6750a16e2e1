package dynamodb

// A hand-written lexer and recursive-descent parser for DynamoDB's four
// expression languages (condition/filter, key condition, update, projection).
// An expression is parsed once per request into the AST below, with name
// and value placeholders already resolved; evaluation walks the AST per item.
//
// Grammar (keywords case-insensitive):
//
//	condition  := or
//	or         := and { OR and }
//	and        := not { AND not }
//	not        := NOT not | primary
//	primary    := '(' condition ')'
//	            | fn '(' operand { ',' operand } ')'          -- attribute_exists, …
//	            | operand cmp operand
//	            | operand BETWEEN operand AND operand
//	            | operand IN '(' operand { ',' operand } ')'
//	operand    := path | ':value' | size '(' path ')'
//	path       := name { '.' name | '[' digits ']' }   name := ident | '#name'
//	update     := { (SET setact {',' setact} | REMOVE path {',' path}
//	               | ADD path value {',' …} | DELETE path value {',' …}) }
//	setact     := path '=' setval
//	setval     := setterm [ ('+'|'-') setterm ]
//	setterm    := operand | if_not_exists '(' path ',' setval ')'
//	            | list_append '(' setval ',' setval ')'
//	projection := path { ',' path }

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

type tokKind int

const (
	tkEOF tokKind = iota
	tkIdent
	tkName  // #placeholder
	tkValue // :placeholder
	tkNumber
	tkPunct
)

type token struct {
	kind tokKind
	text string
	pos  int
}

func lex(s string) ([]token, error) {
	var out []token
	i := 0
	for i < len(s) {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '#' || c == ':':
			j := i + 1
			for j < len(s) && isIdentChar(s[j]) {
				j++
			}
			if j == i+1 {
				return nil, syntaxErr(s, string(c), i)
			}
			k := tkName
			if c == ':' {
				k = tkValue
			}
			out = append(out, token{k, s[i:j], i})
			i = j
		case isIdentStart(c):
			j := i + 1
			for j < len(s) && isIdentChar(s[j]) {
				j++
			}
			out = append(out, token{tkIdent, s[i:j], i})
			i = j
		case c >= '0' && c <= '9':
			j := i + 1
			for j < len(s) && s[j] >= '0' && s[j] <= '9' {
				j++
			}
			out = append(out, token{tkNumber, s[i:j], i})
			i = j
		case c == '<' && i+1 < len(s) && (s[i+1] == '=' || s[i+1] == '>'):
			out = append(out, token{tkPunct, s[i : i+2], i})
			i += 2
		case c == '>' && i+1 < len(s) && s[i+1] == '=':
			out = append(out, token{tkPunct, s[i : i+2], i})
			i += 2
		case strings.IndexByte("()[],.=<>+-", c) >= 0:
			out = append(out, token{tkPunct, s[i : i+1], i})
			i++
		default:
			r := s[i:]
			if len(r) > 1 {
				r = r[:1]
			}
			return nil, &exprError{msg: fmt.Sprintf("Invalid character encountered; character: %s", r)}
		}
	}
	out = append(out, token{tkEOF, "<EOF>", len(s)})
	return out, nil
}

func isIdentStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_'
}
func isIdentChar(c byte) bool { return isIdentStart(c) || c >= '0' && c <= '9' }

// exprError is an expression error; the caller prefixes "Invalid
// <Kind>Expression: ".
type exprError struct{ msg string }

func (e *exprError) Error() string { return e.msg }

func syntaxErr(src, tok string, pos int) *exprError {
	near := src[max(0, pos-8):min(len(src), pos+len(tok)+8)]
	if tok == "<EOF>" {
		near = src[max(0, pos-12):]
	}
	return &exprError{msg: fmt.Sprintf("Syntax error; token: %q, near: %q", tok, near)}
}

// ---- AST ----

type pathPart struct {
	name  string
	index int // list index when name == "" (and isIndex)
	isIdx bool
}

type docPath []pathPart

func (p docPath) String() string {
	var b strings.Builder
	for i, e := range p {
		if e.isIdx {
			fmt.Fprintf(&b, "[%d]", e.index)
			continue
		}
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(e.name)
	}
	return b.String()
}

func (p docPath) elems() string {
	parts := make([]string, len(p))
	for i, e := range p {
		if e.isIdx {
			parts[i] = "[" + strconv.Itoa(e.index) + "]"
		} else {
			parts[i] = e.name
		}
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

type opKind int

const (
	oPath opKind = iota
	oValue
	oSize
	oIfNotExists
	oListAppend
	oPlus
	oMinus
)

type operand struct {
	kind opKind
	path docPath
	val  *AV
	a, b *operand
}

type condKind int

const (
	cAnd condKind = iota
	cOr
	cNot
	cCmp
	cBetween
	cIn
	cFunc
	cTrue // an always-true condition (legacy translation of nothing)
)

type cond struct {
	kind condKind
	op   string // comparator or function name
	a, b *cond
	args []*operand
}

type actKind int

const (
	aSet actKind = iota
	aRemove
	aAdd
	aDelete
)

type action struct {
	kind actKind
	path docPath
	val  *operand
}

// parser state shared by the expressions of one request: placeholders and
// which of them were used.
type exprEnv struct {
	names      map[string]string
	values     map[string]*AV
	usedNames  map[string]bool
	usedValues map[string]bool
}

func newEnv(names map[string]string, values map[string]*AV) *exprEnv {
	return &exprEnv{names: names, values: values, usedNames: map[string]bool{}, usedValues: map[string]bool{}}
}

// unused reports placeholders no expression used, as DynamoDB does.
func (e *exprEnv) unused() error {
	var vs, ns []string
	for k := range e.values {
		if !e.usedValues[k] {
			vs = append(vs, k)
		}
	}
	for k := range e.names {
		if !e.usedNames[k] {
			ns = append(ns, k)
		}
	}
	sort.Strings(vs)
	sort.Strings(ns)
	if len(vs) > 0 {
		return invalid("Value provided in ExpressionAttributeValues unused in expressions: keys: {%s}", strings.Join(vs, ", "))
	}
	if len(ns) > 0 {
		return invalid("Value provided in ExpressionAttributeNames unused in expressions: keys: {%s}", strings.Join(ns, ", "))
	}
	return nil
}

type parser struct {
	src  string
	toks []token
	i    int
	env  *exprEnv
	// depth bounds recursion on hostile input
	depth int
}

func newParser(src string, env *exprEnv) (*parser, error) {
	if len(src) > 4096 {
		return nil, &exprError{msg: "Expression size has exceeded the maximum allowed size"}
	}
	toks, err := lex(src)
	if err != nil {
		return nil, err
	}
	return &parser{src: src, toks: toks, env: env}, nil
}

func (p *parser) peek() token { return p.toks[p.i] }
func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tkEOF {
		p.i++
	}
	return t
}
func (p *parser) fail() error {
	t := p.peek()
	return syntaxErr(p.src, t.text, t.pos)
}
func (p *parser) isKw(kw string) bool {
	t := p.peek()
	return t.kind == tkIdent && strings.EqualFold(t.text, kw)
}
func (p *parser) isPunct(s string) bool {
	t := p.peek()
	return t.kind == tkPunct && t.text == s
}
func (p *parser) expect(s string) error {
	if !p.isPunct(s) {
		return p.fail()
	}
	p.next()
	return nil
}

const maxExprDepth = 100

func (p *parser) enter() error {
	p.depth++
	if p.depth > maxExprDepth {
		return &exprError{msg: "The expression has too many nested levels"}
	}
	return nil
}

// parseCondition parses a condition or filter expression.
func parseCondition(src string, env *exprEnv) (*cond, error) {
	p, err := newParser(src, env)
	if err != nil {
		return nil, err
	}
	if p.peek().kind == tkEOF {
		return nil, &exprError{msg: "The expression can not be empty;"}
	}
	c, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.peek().kind != tkEOF {
		return nil, p.fail()
	}
	return c, nil
}

func (p *parser) or() (*cond, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	l, err := p.and()
	if err != nil {
		return nil, err
	}
	for p.isKw("OR") {
		p.next()
		r, err := p.and()
		if err != nil {
			return nil, err
		}
		l = &cond{kind: cOr, a: l, b: r}
	}
	return l, nil
}

func (p *parser) and() (*cond, error) {
	l, err := p.not()
	if err != nil {
		return nil, err
	}
	for p.isKw("AND") {
		p.next()
		r, err := p.not()
		if err != nil {
			return nil, err
		}
		l = &cond{kind: cAnd, a: l, b: r}
	}
	return l, nil
}

func (p *parser) not() (*cond, error) {
	if p.isKw("NOT") {
		p.next()
		if err := p.enter(); err != nil {
			return nil, err
		}
		c, err := p.not()
		p.depth--
		if err != nil {
			return nil, err
		}
		return &cond{kind: cNot, a: c}, nil
	}
	return p.primary()
}

var condFuncs = map[string]int{ // name → argument count
	"attribute_exists":     1,
	"attribute_not_exists": 1,
	"attribute_type":       2,
	"begins_with":          2,
	"contains":             2,
}

var comparators = map[string]bool{"=": true, "<>": true, "<": true, "<=": true, ">": true, ">=": true}

func (p *parser) primary() (*cond, error) {
	if p.isPunct("(") {
		p.next()
		c, err := p.or()
		if err != nil {
			return nil, err
		}
		if err := p.expect(")"); err != nil {
			return nil, err
		}
		return c, nil
	}
	t := p.peek()
	if t.kind == tkIdent && p.toks[p.i+1].kind == tkPunct && p.toks[p.i+1].text == "(" {
		name := t.text
		if n, ok := condFuncs[name]; ok {
			p.next()
			p.next()
			args, err := p.args()
			if err != nil {
				return nil, err
			}
			if len(args) != n {
				return nil, &exprError{msg: fmt.Sprintf("Incorrect number of operands for operator or function; operator or function: %s, number of operands: %d", name, len(args))}
			}
			if args[0].kind != oPath {
				return nil, &exprError{msg: fmt.Sprintf("Operator or function requires a document path; operator or function: %s", name)}
			}
			if name == "attribute_type" || name == "begins_with" {
				if args[1].kind != oValue && name == "attribute_type" {
					return nil, &exprError{msg: fmt.Sprintf("Incorrect operand type for operator or function; operator or function: %s, operand type: %s", name, "PATH")}
				}
			}
			if name == "attribute_type" {
				if args[1].val.S == nil || !validTypeName(*args[1].val.S) {
					return nil, &exprError{msg: fmt.Sprintf("Invalid attribute type name found; type: %s, valid types: { B,NULL,SS,BOOL,L,BS,N,NS,S,M }", args[1].val.String())}
				}
			}
			return &cond{kind: cFunc, op: name, args: args}, nil
		}
		if name != "size" {
			if _, ok := updateFuncs[name]; ok {
				return nil, &exprError{msg: fmt.Sprintf("The function is not allowed to be used this way in an expression; function: %s", name)}
			}
			return nil, &exprError{msg: fmt.Sprintf("Invalid function name; function: %s", name)}
		}
	}
	l, err := p.operand()
	if err != nil {
		return nil, err
	}
	switch {
	case p.peek().kind == tkPunct && comparators[p.peek().text]:
		op := p.next().text
		r, err := p.operand()
		if err != nil {
			return nil, err
		}
		return &cond{kind: cCmp, op: op, args: []*operand{l, r}}, nil
	case p.isKw("BETWEEN"):
		p.next()
		lo, err := p.operand()
		if err != nil {
			return nil, err
		}
		if !p.isKw("AND") {
			return nil, p.fail()
		}
		p.next()
		hi, err := p.operand()
		if err != nil {
			return nil, err
		}
		return &cond{kind: cBetween, args: []*operand{l, lo, hi}}, nil
	case p.isKw("IN"):
		p.next()
		if err := p.expect("("); err != nil {
			return nil, err
		}
		args, err := p.args()
		if err != nil {
			return nil, err
		}
		if len(args) > 100 {
			return nil, &exprError{msg: "The IN operator is provided with too many operands; number of operands: " + strconv.Itoa(len(args))}
		}
		return &cond{kind: cIn, args: append([]*operand{l}, args...)}, nil
	}
	return nil, p.fail()
}

func validTypeName(s string) bool {
	switch s {
	case "S", "N", "B", "SS", "NS", "BS", "M", "L", "NULL", "BOOL":
		return true
	}
	return false
}

// args parses "operand {, operand} )" after an opening parenthesis.
func (p *parser) args() ([]*operand, error) {
	var out []*operand
	for {
		o, err := p.operand()
		if err != nil {
			return nil, err
		}
		out = append(out, o)
		if p.isPunct(",") {
			p.next()
			continue
		}
		if err := p.expect(")"); err != nil {
			return nil, err
		}
		return out, nil
	}
}

func (p *parser) operand() (*operand, error) {
	t := p.peek()
	switch t.kind {
	case tkValue:
		p.next()
		v, ok := p.env.values[t.text]
		if !ok {
			return nil, &exprError{msg: "An expression attribute value used in expression is not defined; attribute value: " + t.text}
		}
		p.env.usedValues[t.text] = true
		return &operand{kind: oValue, val: v}, nil
	case tkIdent:
		if p.toks[p.i+1].kind == tkPunct && p.toks[p.i+1].text == "(" {
			if t.text == "size" {
				p.next()
				p.next()
				args, err := p.args()
				if err != nil {
					return nil, err
				}
				if len(args) != 1 {
					return nil, &exprError{msg: fmt.Sprintf("Incorrect number of operands for operator or function; operator or function: size, number of operands: %d", len(args))}
				}
				if args[0].kind != oPath {
					return nil, &exprError{msg: "Incorrect operand type for operator or function; operator or function: size, operand type: " + operandType(args[0])}
				}
				return &operand{kind: oSize, a: args[0]}, nil
			}
			if _, ok := condFuncs[t.text]; ok {
				return nil, &exprError{msg: "The function is not allowed to be used this way in an expression; function: " + t.text}
			}
			if _, ok := updateFuncs[t.text]; ok {
				return nil, &exprError{msg: "The function is not allowed to be used this way in an expression; function: " + t.text}
			}
			return nil, &exprError{msg: "Invalid function name; function: " + t.text}
		}
		fallthrough
	case tkName:
		path, err := p.path()
		if err != nil {
			return nil, err
		}
		return &operand{kind: oPath, path: path}, nil
	}
	return nil, p.fail()
}

func operandType(o *operand) string {
	switch o.kind {
	case oPath:
		return "PATH"
	case oValue:
		return o.val.Type()
	}
	return "FUNCTION"
}

func (p *parser) name() (string, error) {
	t := p.next()
	switch t.kind {
	case tkIdent:
		if reservedWord(t.text) {
			return "", &exprError{msg: "Attribute name is a reserved keyword; reserved keyword: " + t.text}
		}
		return t.text, nil
	case tkName:
		n, ok := p.env.names[t.text]
		if !ok {
			return "", &exprError{msg: "An expression attribute name used in the document path is not defined; attribute name: " + t.text}
		}
		p.env.usedNames[t.text] = true
		return n, nil
	}
	p.i--
	if t.kind == tkEOF {
		p.i++
	}
	return "", syntaxErr(p.src, t.text, t.pos)
}

func (p *parser) path() (docPath, error) {
	n, err := p.name()
	if err != nil {
		return nil, err
	}
	path := docPath{{name: n}}
	for {
		switch {
		case p.isPunct("."):
			p.next()
			n, err := p.name()
			if err != nil {
				return nil, err
			}
			path = append(path, pathPart{name: n})
		case p.isPunct("["):
			p.next()
			t := p.next()
			if t.kind != tkNumber {
				p.i--
				return nil, p.fail()
			}
			idx, err := strconv.Atoi(t.text)
			if err != nil || idx > 1<<20 {
				return nil, &exprError{msg: "List index is out of range; index: " + t.text}
			}
			if err := p.expect("]"); err != nil {
				return nil, err
			}
			path = append(path, pathPart{index: idx, isIdx: true})
		default:
			if len(path) > 32 {
				return nil, &exprError{msg: "The document path has too many nesting levels; nesting levels: " + strconv.Itoa(len(path))}
			}
			return path, nil
		}
	}
}

var updateFuncs = map[string]bool{"if_not_exists": true, "list_append": true}

// parseUpdate parses an update expression.
func parseUpdate(src string, env *exprEnv) ([]action, error) {
	p, err := newParser(src, env)
	if err != nil {
		return nil, err
	}
	if p.peek().kind == tkEOF {
		return nil, &exprError{msg: "The expression can not be empty;"}
	}
	var acts []action
	seen := map[string]bool{}
	for p.peek().kind != tkEOF {
		kw := strings.ToUpper(p.peek().text)
		if p.peek().kind != tkIdent {
			return nil, p.fail()
		}
		var kind actKind
		switch kw {
		case "SET":
			kind = aSet
		case "REMOVE":
			kind = aRemove
		case "ADD":
			kind = aAdd
		case "DELETE":
			kind = aDelete
		default:
			return nil, p.fail()
		}
		if seen[kw] {
			return nil, &exprError{msg: "The \"" + kw + "\" section can only be used once in an update expression;"}
		}
		seen[kw] = true
		p.next()
		for {
			path, err := p.path()
			if err != nil {
				return nil, err
			}
			a := action{kind: kind, path: path}
			switch kind {
			case aSet:
				if err := p.expect("="); err != nil {
					return nil, err
				}
				v, err := p.setValue()
				if err != nil {
					return nil, err
				}
				a.val = v
			case aAdd, aDelete:
				v, err := p.operand()
				if err != nil {
					return nil, err
				}
				if v.kind != oValue {
					return nil, p.fail()
				}
				a.val = v
			}
			acts = append(acts, a)
			if !p.isPunct(",") {
				break
			}
			p.next()
		}
	}
	// overlapping paths are rejected
	for i := range acts {
		for j := i + 1; j < len(acts); j++ {
			if overlaps(acts[i].path, acts[j].path) {
				return nil, &exprError{msg: fmt.Sprintf("Two document paths overlap with each other; must remove or rewrite one of these paths; path one: %s, path two: %s", acts[i].path.elems(), acts[j].path.elems())}
			}
		}
	}
	return acts, nil
}

func overlaps(a, b docPath) bool {
	n := min(len(a), len(b))
	for i := 0; i < n; i++ {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func (p *parser) setValue() (*operand, error) {
	l, err := p.setTerm()
	if err != nil {
		return nil, err
	}
	if p.isPunct("+") || p.isPunct("-") {
		op := oPlus
		if p.next().text == "-" {
			op = oMinus
		}
		r, err := p.setTerm()
		if err != nil {
			return nil, err
		}
		return &operand{kind: op, a: l, b: r}, nil
	}
	return l, nil
}

func (p *parser) setTerm() (*operand, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	t := p.peek()
	if t.kind == tkIdent && p.toks[p.i+1].kind == tkPunct && p.toks[p.i+1].text == "(" && updateFuncs[t.text] {
		p.next()
		p.next()
		a, err := p.setValue()
		if err != nil {
			return nil, err
		}
		if err := p.expect(","); err != nil {
			return nil, err
		}
		b, err := p.setValue()
		if err != nil {
			return nil, err
		}
		if err := p.expect(")"); err != nil {
			return nil, err
		}
		if t.text == "if_not_exists" {
			if a.kind != oPath {
				return nil, &exprError{msg: "Operator or function requires a document path; operator or function: if_not_exists"}
			}
			return &operand{kind: oIfNotExists, a: a, b: b}, nil
		}
		return &operand{kind: oListAppend, a: a, b: b}, nil
	}
	o, err := p.operand()
	if err != nil {
		return nil, err
	}
	if o.kind == oSize {
		return nil, &exprError{msg: "The function is not allowed in an update expression; function: size"}
	}
	return o, nil
}

// parseProjection parses a projection expression.
func parseProjection(src string, env *exprEnv) ([]docPath, error) {
	p, err := newParser(src, env)
	if err != nil {
		return nil, err
	}
	if p.peek().kind == tkEOF {
		return nil, &exprError{msg: "The expression can not be empty;"}
	}
	var out []docPath
	for {
		path, err := p.path()
		if err != nil {
			return nil, err
		}
		out = append(out, path)
		if p.isPunct(",") {
			p.next()
			continue
		}
		if p.peek().kind != tkEOF {
			return nil, p.fail()
		}
		break
	}
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if overlaps(out[i], out[j]) {
				return nil, &exprError{msg: fmt.Sprintf("Two document paths overlap with each other; must remove or rewrite one of these paths; path one: %s, path two: %s", out[i].elems(), out[j].elems())}
			}
		}
	}
	return out, nil
}
