package exec

import (
	"strconv"

	"github.com/eddy-streams/eddy/internal/analytics/sql"
)

// node is an operator. push delivers a batch in the node's input schema;
// advance tells it processing time has reached now (it closes windows and
// emits downstream, but does not forward advance: the Program calls every
// node in topological order).
type node interface {
	push(b *Batch)
	advance(now int64)
}

// rel is a planned relation: the scope its batches have and a way to attach
// the downstream operator.
type rel struct {
	sc      *scope
	connect func(n node)
	// items counts the logical output columns (a ROW column flattens to
	// several physical ones with the same item number).
	items int
}

type planner struct {
	p      *Program
	pump   string
	pos    sql.Pos
	reads  []*stream
	nodes  []node
	target *stream
}

func (pl *planner) add(n node) { pl.nodes = append(pl.nodes, n) }

var systemCols = []struct {
	name string
	idx  int
	col  Column
}{
	{"APPROXIMATE_ARRIVAL_TIME", idxArrival, Column{Type: TypeTimestamp}},
	{"PARTITION_KEY", idxPartitionKey, Column{Type: TypeVarchar, Size: 256}},
	{"SHARD_ID", idxShardID, Column{Type: TypeVarchar, Size: 64}},
	{"SEQUENCE_NUMBER", idxSequence, Column{Type: TypeVarchar, Size: 128}},
}

func (pl *planner) planPump(st *sql.CreatePump) {
	target, ok := pl.p.streams[st.Target.Text]
	if !ok {
		semErr(st.Target.Pos, "Object '%s' not found", st.Target.Text)
	}
	if target.input {
		semErr(st.Target.Pos, "Cannot insert into input stream '%s'", st.Target.Text)
	}
	r := pl.planSelect(st.Query)
	// Map the query's output columns to the target's columns.
	var targetIdx []int
	if len(st.Columns) > 0 {
		for _, n := range st.Columns {
			found := -1
			for i, c := range target.cols {
				if c.Name == n.Text {
					found = i
				}
			}
			if found < 0 {
				semErr(n.Pos, "Column '%s' not found in stream '%s'", n.Text, target.name)
			}
			targetIdx = append(targetIdx, found)
		}
	} else {
		for i := range target.cols {
			targetIdx = append(targetIdx, i)
		}
	}
	var src []scopeCol
	for _, c := range r.sc.cols {
		if c.idx >= 0 {
			src = append(src, c)
		}
	}
	if len(src) != len(targetIdx) {
		semErr(st.Query.Pos, "Number of INSERT target columns (%d) does not equal number of source items (%d)", len(targetIdx), len(src))
	}
	n := &insertNode{p: pl.p, pump: pl.pump, target: target, bd: newBuilder(target.cols), srcCols: r.sc.physical()}
	n.mapping = make([]int, len(target.cols))
	for i := range n.mapping {
		n.mapping[i] = -1
	}
	for k, ti := range targetIdx {
		n.mapping[ti] = src[k].idx
	}
	n.vals = make([]value, len(target.cols))
	pl.add(n)
	r.connect(n)
	pl.target = target
}

// orderPumps puts the pumps in dependency order (a pump after every pump
// writing a stream it reads), so Advance closes upstream windows first, and
// rejects cycles, which would feed a pump its own output.
func orderPumps(pumps []*planner) []*planner {
	writers := map[*stream][]*planner{}
	for _, pl := range pumps {
		writers[pl.target] = append(writers[pl.target], pl)
	}
	state := map[*planner]int{} // 1 visiting, 2 done
	var out []*planner
	var visit func(pl *planner)
	visit = func(pl *planner) {
		switch state[pl] {
		case 1:
			semErr(pl.pos, "Pump '%s' reads its own output (directly or through other pumps)", pl.pump)
		case 2:
			return
		}
		state[pl] = 1
		for _, s := range pl.reads {
			for _, w := range writers[s] {
				visit(w)
			}
		}
		state[pl] = 2
		out = append(out, pl)
	}
	for _, pl := range pumps {
		visit(pl)
	}
	return out
}

func (pl *planner) planSelect(q *sql.Select) *rel {
	if q.UnionAll == nil {
		return pl.planSingle(q)
	}
	left := pl.planSingle(q)
	right := pl.planSelect(q.UnionAll)
	lp, rp := left.sc.physical(), right.sc.physical()
	if len(lp) != len(rp) {
		semErr(q.UnionAll.Pos, "Column count mismatch in UNION ALL")
	}
	// The right side is converted to the left's types.
	conv := &convertNode{p: pl.p, pump: pl.pump, from: rp, to: lp, bd: newBuilder(lp)}
	pl.add(conv)
	right.connect(conv)
	return &rel{sc: left.sc, items: left.items, connect: func(n node) {
		left.connect(n)
		conv.next = n
	}}
}

func streamScope(s *stream, quals []string) *scope {
	sc := &scope{}
	sc.cols = append(sc.cols, scopeCol{quals: quals, name: "ROWTIME", col: Column{Type: TypeTimestamp}, idx: idxRowtime, system: true})
	if s.input {
		for _, sys := range systemCols {
			if sys.idx != idxArrival && !s.kinesis {
				continue
			}
			sc.cols = append(sc.cols, scopeCol{quals: quals, name: sys.name, col: sys.col, idx: sys.idx, system: true})
		}
	}
	for i, c := range s.cols {
		sc.cols = append(sc.cols, scopeCol{quals: quals, name: c.Name, col: c, idx: i})
	}
	return sc
}

func (pl *planner) planFrom(f sql.From) *rel {
	switch f := f.(type) {
	case *sql.TableRef:
		if f.Over != nil {
			semErr(f.Name.Pos, "OVER on a stream is only allowed in a join")
		}
		s, ok := pl.p.streams[f.Name.Text]
		if !ok {
			if _, isRef := pl.p.refs[f.Name.Text]; isRef {
				semErr(f.Name.Pos, "Cannot SELECT STREAM from reference table '%s'; join it to a stream", f.Name.Text)
			}
			semErr(f.Name.Pos, "Object '%s' not found", f.Name.Text)
		}
		quals := []string{s.name}
		if f.Alias != nil {
			quals = []string{f.Alias.Text}
		}
		pl.reads = append(pl.reads, s)
		sc := streamScope(s, quals)
		return &rel{sc: sc, items: len(s.cols), connect: func(n node) { s.subs = append(s.subs, n) }}
	case *sql.SubqueryRef:
		r := pl.planSelect(f.Query)
		if len(f.ColNames) > 0 && len(f.ColNames) != r.items {
			semErr(f.Pos, "List of column aliases must have same degree as table; table has %d columns, alias list has %d", r.items, len(f.ColNames))
		}
		sc := &scope{}
		for _, c := range r.sc.cols {
			nc := c
			nc.quals = nil
			if f.Alias != nil {
				nc.quals = []string{f.Alias.Text}
			}
			if len(f.ColNames) > 0 && c.idx != idxRowtime {
				nc.name = f.ColNames[itemOf(r.sc, c)].Text
			}
			sc.cols = append(sc.cols, nc)
		}
		return &rel{sc: sc, items: r.items, connect: r.connect}
	case *sql.TableFunc:
		return pl.planTableFunc(f)
	case *sql.Join:
		return pl.planJoin(f)
	}
	panic(sql.Errorf(sql.Pos{Line: 1, Col: 1}, "unsupported FROM item"))
}

// itemOf returns the logical item number of a physical column.
func itemOf(sc *scope, c scopeCol) int {
	item := -1
	lastName, lastRow := "", false
	for _, x := range sc.cols {
		if x.idx < 0 {
			continue
		}
		if !(x.field != "" && lastRow && x.name == lastName) {
			item++
		}
		lastName, lastRow = x.name, x.field != ""
		if x.idx == c.idx {
			return item
		}
	}
	return 0
}

// canon prints e with identifiers resolved against sc, so that s.a and a
// are the same key.
func canon(sc *scope, e sql.Expr) string {
	cp := &compiler{sc: sc}
	return sql.Format(e, func(id *sql.Ident) (out string) {
		defer func() {
			if recover() != nil {
				out = identText(id)
			}
		}()
		if c, ok := cp.resolve(id); ok {
			if c.idx == idxRowtime {
				return "#ROWTIME"
			}
			return "#" + strconv.Itoa(c.idx) + "." + c.field
		}
		return identText(id)
	})
}

// walk calls f for e and its subexpressions (not into aggregate arguments
// when f returns false).
func walk(e sql.Expr, f func(sql.Expr) bool) {
	if e == nil || !f(e) {
		return
	}
	switch e := e.(type) {
	case *sql.Unary:
		walk(e.X, f)
	case *sql.Binary:
		walk(e.L, f)
		walk(e.R, f)
	case *sql.Call:
		for _, a := range e.Args {
			walk(a, f)
		}
	case *sql.Case:
		walk(e.Operand, f)
		for _, w := range e.Whens {
			walk(w.Cond, f)
			walk(w.Then, f)
		}
		walk(e.Else, f)
	case *sql.Cast:
		walk(e.X, f)
	case *sql.Like:
		walk(e.X, f)
		walk(e.Pat, f)
		walk(e.Escape, f)
	case *sql.IsNull:
		walk(e.X, f)
	case *sql.IsDistinct:
		walk(e.L, f)
		walk(e.R, f)
	case *sql.Between:
		walk(e.X, f)
		walk(e.Lo, f)
		walk(e.Hi, f)
	case *sql.In:
		walk(e.X, f)
		for _, x := range e.List {
			walk(x, f)
		}
	case *sql.FloorTo:
		walk(e.X, f)
	case *sql.Step:
		walk(e.X, f)
		walk(e.By, f)
	case *sql.Extract:
		walk(e.X, f)
	case *sql.Position:
		walk(e.Sub, f)
		walk(e.S, f)
		walk(e.From, f)
	case *sql.Substring:
		walk(e.S, f)
		walk(e.From, f)
		walk(e.For, f)
		walk(e.Pat, f)
		walk(e.Escape, f)
	case *sql.Trim:
		walk(e.Chars, f)
		walk(e.S, f)
	case *sql.Overlay:
		walk(e.S, f)
		walk(e.R, f)
		walk(e.From, f)
		walk(e.For, f)
	}
}

// outItem is one select-list output.
type outItem struct {
	name  string
	expr  *cexpr
	pos   sql.Pos
	alias bool
}

// expandItems expands * and q.* and names each item.
func expandItems(q *sql.Select, sc *scope) []sql.SelectItem {
	var items []sql.SelectItem
	for _, it := range q.Items {
		if !it.Star {
			items = append(items, it)
			continue
		}
		found := false
		for _, c := range sc.cols {
			if c.system || c.idx < 0 {
				continue
			}
			if it.Qual != nil {
				ok := false
				for _, qn := range c.quals {
					ok = ok || qn == it.Qual.Text
				}
				if !ok {
					continue
				}
			}
			found = true
			parts := []sql.Name{{Pos: it.Pos, Text: c.name, Quoted: true}}
			if len(c.quals) > 0 {
				parts = append([]sql.Name{{Pos: it.Pos, Text: c.quals[0], Quoted: true}}, parts...)
			}
			if c.field != "" {
				parts = append(parts, sql.Name{Pos: it.Pos, Text: c.field, Quoted: true})
				if len(items) > 0 && items[len(items)-1].Alias != nil && items[len(items)-1].Alias.Text == c.name {
					// one ROW item per flattened column group
					continue
				}
				parts = parts[:len(parts)-1]
			}
			alias := sql.Name{Pos: it.Pos, Text: c.name, Quoted: true}
			items = append(items, sql.SelectItem{Pos: it.Pos, Expr: &sql.Ident{Parts: parts}, Alias: &alias})
		}
		if !found && it.Qual != nil {
			semErr(it.Pos, "Unknown table '%s'", it.Qual.Text)
		}
	}
	return items
}

func itemName(it sql.SelectItem, i int) string {
	if it.Alias != nil {
		return it.Alias.Text
	}
	if id, ok := it.Expr.(*sql.Ident); ok {
		return id.Parts[len(id.Parts)-1].Text
	}
	return "EXPR$" + strconv.Itoa(i)
}

// outScope builds the scope of a projection's output batches.
func outScope(items []outItem) *scope {
	sc := &scope{}
	sc.cols = append(sc.cols, scopeCol{name: "ROWTIME", col: Column{Type: TypeTimestamp}, idx: idxRowtime, system: true})
	idx := 0
	for _, it := range items {
		if it.expr.t() == typeRow {
			for _, f := range it.expr.fields {
				c := f
				c.Name = it.name
				sc.cols = append(sc.cols, scopeCol{name: it.name, field: f.Name, col: normalizeOut(c), idx: idx})
				idx++
			}
			continue
		}
		c := it.expr.col
		c.Name = it.name
		sc.cols = append(sc.cols, scopeCol{name: it.name, col: normalizeOut(c), idx: idx, mono: it.expr.mono, rtTime: it.expr.rtTime})
		idx++
	}
	return sc
}

// normalizeOut picks a storable column type for an expression's type.
func normalizeOut(c Column) Column {
	switch c.Type {
	case typeNull:
		c.Type = TypeVarchar
	case typeInterval:
		c.Type = TypeBigint
	case TypeChar:
		c.Type = TypeVarchar
	case TypeDecimal:
		if c.Size == 0 {
			c.Size = 19
		}
	}
	return c
}

func (pl *planner) planSingle(q *sql.Select) *rel {
	if !q.Stream {
		semErr(q.Pos, "Cannot convert stream to relation: queries on streams must use SELECT STREAM")
	}
	src := pl.planFrom(q.From)
	windows := map[string]*sql.WindowSpec{}
	for _, w := range q.Windows {
		windows[w.Name.Text] = w.Spec
	}
	items := expandItems(q, src.sc)
	hasAgg := false
	for _, it := range items {
		walk(it.Expr, func(e sql.Expr) bool {
			if c, ok := isAggCall(e); ok && c.Over == nil {
				hasAgg = true
				return false
			}
			return true
		})
	}
	switch {
	case q.Stagger != nil:
		return pl.planGroup(q, src, items, windows)
	case len(q.GroupBy) > 0 || hasAgg || q.Distinct || q.Having != nil:
		return pl.planGroup(q, src, items, windows)
	}
	return pl.planProject(q, src, items, windows)
}
