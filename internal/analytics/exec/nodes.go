package exec

import (
	"fmt"
	"sort"

	"github.com/eddy-streams/eddy/internal/analytics/sql"
)

// insertNode writes a pump's rows into its target stream, converting to the
// stream's column types. Rows whose ROWTIME is behind the stream's go to
// the error stream (several pumps may write one stream).
type insertNode struct {
	p       *Program
	pump    string
	target  *stream
	srcCols []Column
	mapping []int // target column → source column (-1: NULL)
	bd      *builder
	vals    []value
}

func (n *insertNode) push(b *Batch) {
	s := n.target
	for i := 0; i < b.Len; i++ {
		rt := b.RowTime[i]
		if s.hasRT && rt < s.lastRT {
			n.p.reportRow("OUT_OF_ORDER_ROWTIME", fmt.Sprintf("ROWTIME %s is earlier than the last ROWTIME %s of stream %s", formatTimestamp(rt), formatTimestamp(s.lastRT), s.name), n.pump, b, n.srcCols, i)
			continue
		}
		ok := true
		for k, m := range n.mapping {
			if m < 0 {
				n.vals[k] = nullValue
				continue
			}
			v := getVal(&b.Cols[m], &n.srcCols[m], i)
			tc := &s.cols[k]
			if n.srcCols[m].Type == tc.Type && (tc.Type == TypeVarchar && (tc.Size == 0 || len(v.s) <= tc.Size) || !isStrType(tc.Type) && tc.Type != TypeReal && tc.Type != TypeDecimal) {
				n.vals[k] = v
				continue
			}
			v, err := convert(v, n.srcCols[m].Type, *tc)
			if err != nil {
				n.p.reportRow("CAST_ERROR", err.Error(), n.pump, b, n.srcCols, i)
				ok = false
				break
			}
			n.vals[k] = v
		}
		if !ok {
			continue
		}
		s.lastRT, s.hasRT = rt, true
		n.bd.appendRow(rt, n.vals)
	}
	if n.bd.b.Len > 0 {
		n.p.emit(s, &n.bd.b)
		n.bd.reset()
	}
}

func (n *insertNode) advance(int64) {}

// convertNode converts a UNION ALL branch to the first branch's types.
type convertNode struct {
	p        *Program
	pump     string
	from, to []Column
	bd       *builder
	next     node
	vals     []value
}

func (n *convertNode) push(b *Batch) {
	if n.vals == nil {
		n.vals = make([]value, len(n.to))
	}
	for i := 0; i < b.Len; i++ {
		ok := true
		for k := range n.to {
			v := getVal(&b.Cols[k], &n.from[k], i)
			cv, err := convert(v, n.from[k].Type, n.to[k])
			if err != nil {
				n.p.reportRow("CAST_ERROR", err.Error(), n.pump, b, n.from, i)
				ok = false
				break
			}
			n.vals[k] = cv
		}
		if ok {
			n.bd.appendRow(b.RowTime[i], n.vals)
		}
	}
	if n.bd.b.Len > 0 && n.next != nil {
		n.next.push(&n.bd.b)
	}
	n.bd.reset()
}

func (n *convertNode) advance(int64) {}

// projectNode filters (WHERE), computes sliding-window aggregates (OVER)
// and projects the select list, one output row per passing input row.
type projectNode struct {
	p      *Program
	pump   string
	inCols []Column
	where  *cexpr
	win    *windowSet
	items  []*cexpr
	bd     *builder
	vals   []value
	next   node
	c      evalCtx
}

func (n *projectNode) push(b *Batch) {
	c := &n.c
	c.prog = n.p
	src := b
	if n.win != nil {
		src = n.win.prepare(b)
	}
	c.b = src
	for i := 0; i < b.Len; i++ {
		c.i, c.err = i, nil
		if n.where != nil {
			v := n.where.fn(c)
			if c.err != nil {
				n.p.reportEval(c.err, n.pump, b, n.inCols, i)
				continue
			}
			if v.null || v.i == 0 {
				continue
			}
		}
		if n.win != nil {
			n.win.row(c, i)
			if c.err != nil {
				n.p.reportEval(c.err, n.pump, b, n.inCols, i)
				continue
			}
		}
		n.vals = n.vals[:0]
		for _, it := range n.items {
			v := it.fn(c)
			if it.col.Type == typeRow {
				if v.r == nil {
					for range it.fields {
						n.vals = append(n.vals, nullValue)
					}
				} else {
					n.vals = append(n.vals, v.row()...)
				}
				continue
			}
			n.vals = append(n.vals, v)
		}
		if c.err != nil {
			n.p.reportEval(c.err, n.pump, b, n.inCols, i)
			continue
		}
		n.bd.appendRow(b.RowTime[i], n.vals)
	}
	if n.bd.b.Len > 0 {
		n.next.push(&n.bd.b)
		n.bd.reset()
	}
}

func (n *projectNode) advance(now int64) {
	if n.win != nil {
		n.win.sweep(now)
	}
}

// orderNode implements ORDER BY on a stream: rows are held until the
// leading (monotonic) key changes, or until time passes the end of its
// bucket, then released sorted by the remaining keys.
type orderNode struct {
	p      *Program
	pump   string
	inCols []Column
	where  *cexpr
	lead   *cexpr
	keys   []*cexpr
	desc   []bool
	bd     *builder // buffered rows
	keyBuf [][]value
	cur    int64
	has    bool
	out    *builder
	next   node
	c      evalCtx
}

func (n *orderNode) push(b *Batch) {
	c := &n.c
	c.prog, c.b = n.p, b
	for i := 0; i < b.Len; i++ {
		c.i, c.err = i, nil
		if n.where != nil {
			v := n.where.fn(c)
			if c.err != nil {
				n.p.reportEval(c.err, n.pump, b, n.inCols, i)
				continue
			}
			if v.null || v.i == 0 {
				continue
			}
		}
		lv := n.lead.fn(c)
		ks := make([]value, len(n.keys))
		for k, e := range n.keys {
			ks[k] = e.fn(c)
		}
		if c.err != nil {
			n.p.reportEval(c.err, n.pump, b, n.inCols, i)
			continue
		}
		if n.has && lv.i != n.cur {
			n.flush()
		}
		n.cur, n.has = lv.i, true
		n.bd.b.RowTime = append(n.bd.b.RowTime, b.RowTime[i])
		n.bd.copyFrom(0, b, n.inCols, i)
		n.bd.b.Len++
		n.keyBuf = append(n.keyBuf, ks)
	}
}

func (n *orderNode) advance(now int64) {
	if n.has && n.lead.stepMs > 0 && now >= n.cur+n.lead.stepMs {
		n.flush()
	}
}

func (n *orderNode) flush() {
	m := n.bd.b.Len
	if m == 0 {
		n.has = false
		return
	}
	idx := make([]int, m)
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool {
		ka, kb := n.keyBuf[idx[a]], n.keyBuf[idx[b]]
		for k := range n.keys {
			c := compareNullable(ka[k], kb[k], n.keys[k].t())
			if c != 0 {
				if n.desc[k] {
					return c > 0
				}
				return c < 0
			}
		}
		return false
	})
	n.out.reset()
	// Sorted rows leave together with the ROWTIME of the latest of them,
	// so the output stream's ROWTIME stays non-decreasing.
	rt := n.bd.b.RowTime[m-1]
	for _, i := range idx {
		n.out.b.RowTime = append(n.out.b.RowTime, rt)
		n.out.copyFrom(0, &n.bd.b, n.inCols, i)
		n.out.b.Len++
	}
	n.bd.reset()
	n.keyBuf = n.keyBuf[:0]
	n.has = false
	n.next.push(&n.out.b)
	n.out.reset()
}

// compareNullable orders NULL first.
func compareNullable(a, b value, t Type) int {
	switch {
	case a.null && b.null:
		return 0
	case a.null:
		return -1
	case b.null:
		return 1
	}
	return compareValues(a, b, t)
}

// planProject plans a non-aggregating SELECT: WHERE, OVER windows, ORDER
// BY and the select list.
func (pl *planner) planProject(q *sql.Select, src *rel, items []sql.SelectItem, windows map[string]*sql.WindowSpec) *rel {
	cp := &compiler{pl: pl, sc: src.sc}
	var where *cexpr
	if q.Where != nil {
		where = cp.compile(q.Where)
		if where.t() != TypeBoolean && where.t() != typeNull {
			semErr(sql.PosOf(q.Where), "WHERE clause must be a condition")
		}
	}
	// Sliding windows: every analytic call becomes an extra column.
	win := pl.planWindows(src.sc, items, windows)
	itemScope := src.sc
	if win != nil {
		itemScope = win.scope
	}
	icp := &compiler{pl: pl, sc: itemScope}
	if win != nil {
		icp.subst = win.subst
	}
	var outs []outItem
	for i, it := range items {
		e := icp.compile(it.Expr)
		if e.t() == typeCursor {
			semErr(it.Pos, "CURSOR not allowed here")
		}
		outs = append(outs, outItem{name: itemName(it, i), expr: e, pos: it.Pos})
	}
	osc := outScope(outs)
	inCols := src.sc.physical()
	pn := &projectNode{p: pl.p, pump: pl.pump, inCols: inCols, win: win, bd: newBuilder(osc.physical())}
	for _, o := range outs {
		pn.items = append(pn.items, o.expr)
	}
	upstream := src.connect
	if len(q.OrderBy) > 0 {
		on := pl.planOrder(q, src.sc, items, inCols)
		on.where = where
		pl.add(on)
		src.connect(on)
		upstream = func(n node) { on.next = n }
	} else {
		pn.where = where
	}
	pl.add(pn)
	upstream(pn)
	return &rel{sc: osc, items: len(outs), connect: func(n node) { pn.next = n }}
}

func (pl *planner) planOrder(q *sql.Select, sc *scope, items []sql.SelectItem, inCols []Column) *orderNode {
	cp := &compiler{pl: pl, sc: sc}
	// ORDER BY may name a select-list alias.
	cp.subst = func(e sql.Expr) *cexpr {
		id, ok := e.(*sql.Ident)
		if !ok || len(id.Parts) != 1 {
			return nil
		}
		if _, found := cp.resolve(id); found {
			return nil
		}
		for _, it := range items {
			if it.Alias != nil && it.Alias.Text == id.Parts[0].Text {
				inner := &compiler{pl: pl, sc: sc}
				return inner.compile(it.Expr)
			}
		}
		return nil
	}
	lead := cp.compile(q.OrderBy[0].Expr)
	if !lead.mono || !usesI(lead.t()) {
		semErr(sql.PosOf(q.OrderBy[0].Expr), "Streaming ORDER BY must start with a monotonic time expression such as FLOOR(ROWTIME TO SECOND)")
	}
	on := &orderNode{p: pl.p, pump: pl.pump, inCols: inCols, lead: lead, bd: newBuilder(inCols), out: newBuilder(inCols)}
	for _, o := range q.OrderBy[1:] {
		on.keys = append(on.keys, cp.compile(o.Expr))
		on.desc = append(on.desc, o.Desc)
	}
	return on
}
