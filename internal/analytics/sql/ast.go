package sql

// Pos is a 1-based source position.
type Pos struct{ Line, Col int }

// Name is an identifier: quoted names keep their case, unquoted ones are
// upper-cased by the lexer.
type Name struct {
	Pos    Pos
	Text   string
	Quoted bool
}

// Script is a parsed application: its statements in order.
type Script struct {
	Stmts []Stmt
}

// Stmt is CreateStream or CreatePump.
type Stmt interface{ stmt() }

// TypeName is a declared SQL type, e.g. VARCHAR(16) or DECIMAL(10,2).
type TypeName struct {
	Pos   Pos
	Name  string // canonical: VARCHAR, CHAR, BOOLEAN, TINYINT, SMALLINT, INTEGER, BIGINT, REAL, DOUBLE, DECIMAL, DATE, TIME, TIMESTAMP, BINARY, VARBINARY
	Size  int    // -1 when absent
	Scale int
}

// ColumnDef is one column of CREATE STREAM.
type ColumnDef struct {
	Name    Name
	Type    TypeName
	NotNull bool
}

// CreateStream is CREATE [OR REPLACE] STREAM.
type CreateStream struct {
	Pos         Pos
	Name        Name
	Columns     []ColumnDef
	Description string
}

// CreatePump is CREATE [OR REPLACE] PUMP p AS INSERT INTO s [(cols)] query.
type CreatePump struct {
	Pos     Pos
	Name    Name
	Target  Name
	Columns []Name
	Query   *Select
}

func (*CreateStream) stmt() {}
func (*CreatePump) stmt()   {}

// WindowSpec is a window: PARTITION BY keys plus RANGE INTERVAL … PRECEDING
// or ROWS n PRECEDING, or a reference to a named window (Ref).
type WindowSpec struct {
	Pos       Pos
	Ref       *Name
	Partition []Expr
	OrderBy   []OrderItem
	Range     *Interval // RANGE
	Rows      int64     // ROWS n PRECEDING; -1 unless Rows
	Unbounded bool      // RANGE UNBOUNDED PRECEDING
}

// SelectItem is an output column: Expr [AS alias], * or qualifier.*.
type SelectItem struct {
	Pos   Pos
	Expr  Expr
	Alias *Name
	Star  bool
	Qual  *Name // qualifier of qual.*
}

// OrderItem is one ORDER BY key.
type OrderItem struct {
	Expr Expr
	Desc bool
}

// NamedWindow is WINDOW name AS (spec).
type NamedWindow struct {
	Name Name
	Spec *WindowSpec
}

// Select is a SELECT [STREAM] query, possibly followed by UNION ALL.
type Select struct {
	Pos      Pos
	Stream   bool
	Distinct bool
	Items    []SelectItem
	From     From
	Where    Expr
	GroupBy  []Expr
	Stagger  *WindowSpec // WINDOWED BY STAGGER (…)
	Having   Expr
	Windows  []NamedWindow
	OrderBy  []OrderItem
	UnionAll *Select
}

// From is a source: *TableRef, *SubqueryRef, *TableFunc or *Join.
type From interface{ from() }

// TableRef names a stream or table, optionally windowed (OVER) and aliased.
type TableRef struct {
	Name  Name
	Over  *WindowSpec
	Alias *Name
}

// SubqueryRef is (query) [AS] alias [(col, …)].
type SubqueryRef struct {
	Pos      Pos
	Query    *Select
	Alias    *Name
	ColNames []Name
}

// TableFunc is TABLE(f(CURSOR(query), args…)) [AS alias].
type TableFunc struct {
	Call  *Call
	Alias *Name
}

// Join is Left [kind] JOIN Right [ON cond].
type Join struct {
	Pos   Pos
	Kind  string // INNER, LEFT, RIGHT, FULL, CROSS
	Left  From
	Right From
	On    Expr
}

func (*TableRef) from()    {}
func (*SubqueryRef) from() {}
func (*TableFunc) from()   {}
func (*Join) from()        {}

// Expr is an expression node.
type Expr interface{ pos() Pos }

// Ident is a possibly qualified name: a, s.a, l.r.COLUMN1.
type Ident struct {
	Parts []Name
}

// Literal kinds.
const (
	LitNumber = iota
	LitString
	LitBool
	LitNull
	LitDate
	LitTime
	LitTimestamp
)

// Literal is a constant. Val is the text (numbers, strings, datetimes) or
// TRUE/FALSE.
type Literal struct {
	P    Pos
	Kind int
	Val  string
}

// Interval is INTERVAL 'n' unit [TO unit]; Ms is its length.
type Interval struct {
	P    Pos
	Text string
	Unit string
	To   string
	Ms   int64
	Neg  bool
}

// Unary is -x, +x or NOT x.
type Unary struct {
	P  Pos
	Op string
	X  Expr
}

// Binary is an infix operator: + - * / % || = <> < <= > >= AND OR.
type Binary struct {
	P    Pos
	Op   string
	L, R Expr
}

// Call is a function call, optionally an aggregate with DISTINCT or *, and
// analytic with OVER.
type Call struct {
	P           Pos
	Name        Name
	Args        []Expr
	Distinct    bool
	Star        bool
	Over        *WindowSpec
	IgnoreNulls bool
}

// When is one WHEN … THEN … of CASE.
type When struct{ Cond, Then Expr }

// Case is CASE [operand] WHEN … THEN … [ELSE …] END.
type Case struct {
	P       Pos
	Operand Expr
	Whens   []When
	Else    Expr
}

// Cast is CAST(x AS type).
type Cast struct {
	P    Pos
	X    Expr
	Type TypeName
}

// Like is x [NOT] LIKE|SIMILAR TO pattern [ESCAPE e].
type Like struct {
	P       Pos
	Not     bool
	Similar bool
	X, Pat  Expr
	Escape  Expr
}

// IsNull is x IS [NOT] NULL (also IS [NOT] TRUE/FALSE/UNKNOWN via Truth).
type IsNull struct {
	P     Pos
	Not   bool
	X     Expr
	Truth string // "" for NULL, else TRUE, FALSE or UNKNOWN
}

// IsDistinct is x IS [NOT] DISTINCT FROM y.
type IsDistinct struct {
	P    Pos
	Not  bool
	L, R Expr
}

// Between is x [NOT] BETWEEN lo AND hi.
type Between struct {
	P         Pos
	Not       bool
	X, Lo, Hi Expr
}

// In is x [NOT] IN (list).
type In struct {
	P    Pos
	Not  bool
	X    Expr
	List []Expr
}

// FloorTo is FLOOR(x TO unit) or CEIL(x TO unit).
type FloorTo struct {
	P    Pos
	Ceil bool
	X    Expr
	Unit string
}

// Step is STEP(x BY interval-or-number).
type Step struct {
	P  Pos
	X  Expr
	By Expr
}

// Extract is EXTRACT(field FROM x).
type Extract struct {
	P     Pos
	Field string
	X     Expr
}

// Position is POSITION(sub IN s [FROM start]).
type Position struct {
	P      Pos
	Sub, S Expr
	From   Expr
}

// Substring is SUBSTRING(s FROM start [FOR len]) or SUBSTRING(s SIMILAR pat
// ESCAPE e) (Regex, Pat set).
type Substring struct {
	P           Pos
	S           Expr
	From, For   Expr
	Regex       bool
	Pat, Escape Expr
}

// Trim is TRIM([BOTH|LEADING|TRAILING] [chars] FROM s).
type Trim struct {
	P     Pos
	Where string
	Chars Expr
	S     Expr
}

// Overlay is OVERLAY(s PLACING r FROM start [FOR len]).
type Overlay struct {
	P               Pos
	S, R, From, For Expr
}

// Cursor is CURSOR(query), an argument of a table function.
type Cursor struct {
	P     Pos
	Query *Select
}

func (e *Ident) pos() Pos      { return e.Parts[0].Pos }
func (e *Literal) pos() Pos    { return e.P }
func (e *Interval) pos() Pos   { return e.P }
func (e *Unary) pos() Pos      { return e.P }
func (e *Binary) pos() Pos     { return e.P }
func (e *Call) pos() Pos       { return e.P }
func (e *Case) pos() Pos       { return e.P }
func (e *Cast) pos() Pos       { return e.P }
func (e *Like) pos() Pos       { return e.P }
func (e *IsNull) pos() Pos     { return e.P }
func (e *IsDistinct) pos() Pos { return e.P }
func (e *Between) pos() Pos    { return e.P }
func (e *In) pos() Pos         { return e.P }
func (e *FloorTo) pos() Pos    { return e.P }
func (e *Step) pos() Pos       { return e.P }
func (e *Extract) pos() Pos    { return e.P }
func (e *Position) pos() Pos   { return e.P }
func (e *Substring) pos() Pos  { return e.P }
func (e *Trim) pos() Pos       { return e.P }
func (e *Overlay) pos() Pos    { return e.P }
func (e *Cursor) pos() Pos     { return e.P }

// PosOf returns where e starts.
func PosOf(e Expr) Pos { return e.pos() }
