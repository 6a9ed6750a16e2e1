package exec

import (
	"github.com/eddy-streams/eddy/internal/analytics/sql"
)

// combineScopes puts the right relation's columns after the left's. Both
// sides' ROWTIME name the combined row's ROWTIME; source metadata columns
// do not cross a join.
func combineScopes(l, r *scope) *scope {
	sc := &scope{}
	nl := len(l.physical())
	for _, c := range l.cols {
		if c.idx >= 0 || c.idx == idxRowtime {
			sc.cols = append(sc.cols, c)
		}
	}
	for _, c := range r.cols {
		if c.idx >= 0 {
			c.idx += nl
			sc.cols = append(sc.cols, c)
		} else if c.idx == idxRowtime {
			sc.cols = append(sc.cols, c)
		}
	}
	return sc
}

func refScope(t *refTable, quals []string) *scope {
	sc := &scope{}
	for i, c := range t.cols {
		sc.cols = append(sc.cols, scopeCol{quals: quals, name: c.Name, col: c, idx: i})
	}
	return sc
}

func conjuncts(e sql.Expr, out []sql.Expr) []sql.Expr {
	if b, ok := e.(*sql.Binary); ok && b.Op == "AND" {
		return conjuncts(b.R, conjuncts(b.L, out))
	}
	return append(out, e)
}

// sideOf reports which side's columns e uses: 1 left only, 2 right only,
// 3 both, 0 none.
func sideOf(cp *compiler, e sql.Expr, nl int) int {
	side := 0
	walk(e, func(x sql.Expr) bool {
		if id, ok := x.(*sql.Ident); ok {
			if c, found := cp.resolve(id); found {
				switch {
				case c.idx == idxRowtime:
					side |= 3
				case c.idx < nl:
					side |= 1
				default:
					side |= 2
				}
			}
		}
		return true
	})
	return side
}

func (pl *planner) planJoin(j *sql.Join) *rel {
	if j.Kind == "CROSS" {
		semErr(j.Pos, "CROSS JOIN of streams is not supported")
	}
	if rt, ok := j.Right.(*sql.TableRef); ok {
		if ref, isRef := pl.p.refs[rt.Name.Text]; isRef {
			return pl.planTableJoin(j, pl.planFrom(j.Left), ref, rt)
		}
	}
	if lt, ok := j.Left.(*sql.TableRef); ok {
		if ref, isRef := pl.p.refs[lt.Name.Text]; isRef {
			if j.Kind != "INNER" {
				semErr(j.Pos, "Put the stream on the left of a %s JOIN with reference table '%s'", j.Kind, ref.name)
			}
			swapped := &sql.Join{Pos: j.Pos, Kind: j.Kind, Left: j.Right, Right: j.Left, On: j.On}
			return pl.planTableJoin(swapped, pl.planFrom(j.Right), ref, lt)
		}
	}
	return pl.planStreamJoin(j)
}

// tableJoinNode joins each stream row with the reference table through a
// hash index on the equality conditions of ON.
type tableJoinNode struct {
	p         *Program
	pump      string
	left      bool // LEFT OUTER
	ref       *refTable
	leftCols  []Column
	rightCols []Column
	leftKeys  []*cexpr
	rightKeys []*cexpr
	keyTypes  []Type
	on        *cexpr
	index     map[string][]int32
	all       []int32
	bd        *builder
	next      node
	keyBuf    []byte
	c, rc     evalCtx
}

func (n *tableJoinNode) rebuild() {
	n.index = map[string][]int32{}
	n.all = n.all[:0]
	rows := n.ref.rows
	if rows == nil {
		return
	}
	rc := &n.rc
	rc.prog, rc.b = n.p, rows
	for i := 0; i < rows.Len; i++ {
		n.all = append(n.all, int32(i))
		if len(n.rightKeys) == 0 {
			continue
		}
		rc.i, rc.err = i, nil
		n.keyBuf = n.keyBuf[:0]
		for k, e := range n.rightKeys {
			n.keyBuf = appendKey(n.keyBuf, e.fn(rc), n.keyTypes[k])
		}
		if rc.err != nil {
			continue
		}
		n.index[string(n.keyBuf)] = append(n.index[string(n.keyBuf)], int32(i))
	}
}

func (n *tableJoinNode) push(b *Batch) {
	c := &n.c
	c.prog = n.p
	rows := n.ref.rows
	nl := len(n.leftCols)
	for i := 0; i < b.Len; i++ {
		c.b, c.i, c.err = b, i, nil
		cands := n.all
		if len(n.leftKeys) > 0 {
			n.keyBuf = n.keyBuf[:0]
			hasNull := false
			for k, e := range n.leftKeys {
				v := e.fn(c)
				hasNull = hasNull || v.null
				n.keyBuf = appendKey(n.keyBuf, v, n.keyTypes[k])
			}
			if c.err != nil {
				n.p.reportEval(c.err, n.pump, b, n.leftCols, i)
				continue
			}
			cands = n.index[string(n.keyBuf)]
			if hasNull {
				cands = nil
			}
		}
		matched := false
		for _, r := range cands {
			at := n.bd.b.Len
			n.bd.b.RowTime = append(n.bd.b.RowTime, b.RowTime[i])
			n.bd.copyFrom(0, b, n.leftCols, i)
			n.bd.copyFrom(nl, rows, n.rightCols, int(r))
			n.bd.b.Len++
			if n.on != nil {
				c.b, c.i, c.err = &n.bd.b, at, nil
				v := n.on.fn(c)
				if c.err != nil || v.null || v.i == 0 {
					if c.err != nil {
						n.p.reportEval(c.err, n.pump, b, n.leftCols, i)
					}
					n.bd.truncate(at)
					continue
				}
			}
			matched = true
		}
		if !matched && n.left {
			n.bd.b.RowTime = append(n.bd.b.RowTime, b.RowTime[i])
			n.bd.copyFrom(0, b, n.leftCols, i)
			n.bd.appendNulls(nl, len(n.rightCols))
			n.bd.b.Len++
		}
	}
	if n.bd.b.Len > 0 {
		n.next.push(&n.bd.b)
		n.bd.reset()
	}
}

func (n *tableJoinNode) advance(int64) {}

func (pl *planner) planTableJoin(j *sql.Join, left *rel, ref *refTable, rt *sql.TableRef) *rel {
	if j.Kind != "INNER" && j.Kind != "LEFT" {
		semErr(j.Pos, "%s JOIN with a reference table is not supported; use INNER or LEFT", j.Kind)
	}
	quals := []string{ref.name}
	if rt.Alias != nil {
		quals = []string{rt.Alias.Text}
	}
	rsc := refScope(ref, quals)
	sc := combineScopes(left.sc, rsc)
	cp := &compiler{pl: pl, sc: sc}
	lcp := &compiler{pl: pl, sc: left.sc}
	rcp := &compiler{pl: pl, sc: rsc}
	leftCols := left.sc.physical()
	nl := len(leftCols)
	n := &tableJoinNode{p: pl.p, pump: pl.pump, left: j.Kind == "LEFT", ref: ref, leftCols: leftCols, rightCols: ref.cols}
	if j.On != nil {
		var residual sql.Expr
		keep := func(e sql.Expr) {
			if residual == nil {
				residual = e
			} else {
				residual = &sql.Binary{P: sql.PosOf(e), Op: "AND", L: residual, R: e}
			}
		}
		cp.compile(j.On) // type-check the whole condition
		for _, cj := range conjuncts(j.On, nil) {
			b, ok := cj.(*sql.Binary)
			if !ok || b.Op != "=" {
				keep(cj)
				continue
			}
			ls, rs := sideOf(cp, b.L, nl), sideOf(cp, b.R, nl)
			var le, re sql.Expr
			switch {
			case ls == 1 && rs == 2:
				le, re = b.L, b.R
			case ls == 2 && rs == 1:
				le, re = b.R, b.L
			default:
				keep(cj)
				continue
			}
			lk, rk := lcp.compile(le), rcp.compile(re)
			kt := normalizeOut(lk.col).Type
			rtp := normalizeOut(rk.col).Type
			switch {
			case usesI(kt) == usesI(rtp) && isFloatType(kt) == isFloatType(rtp) && isStrType(kt) == isStrType(rtp):
			case isNumeric(kt) && isNumeric(rtp):
				lk, rk = lcp.toDouble(lk), rcp.toDouble(rk)
				kt = TypeDouble
			default:
				rk = rcp.castTo(rk, Column{Type: kt})
			}
			if kt == TypeChar {
				kt = TypeVarchar
			}
			n.leftKeys = append(n.leftKeys, lk)
			n.rightKeys = append(n.rightKeys, rk)
			n.keyTypes = append(n.keyTypes, kt)
		}
		// Equalities answered by the hash index need no re-check; NULL
		// keys never match (the index lookup of a NULL key is skipped).
		if residual != nil {
			n.on = cp.compile(residual)
		}
	}
	n.bd = newBuilder(sc.physical())
	n.rebuild()
	ref.joins = append(ref.joins, n)
	pl.add(n)
	left.connect(n)
	return &rel{sc: sc, items: left.items + len(ref.cols), connect: func(x node) { n.next = x }}
}

// joinSide holds the rows of one stream that are still inside its window.
type joinSide struct {
	cols    []Column
	buf     *builder
	head    int
	rangeMs int64
	rows    int64 // ROWS n; -1 unless set
	outer   bool  // emit unmatched rows of this side NULL-padded
}

func (s *joinSide) evict(now int64) {
	b := &s.buf.b
	switch {
	case s.rangeMs > 0:
		for s.head < b.Len && b.RowTime[s.head] < now-s.rangeMs {
			s.head++
		}
	case s.rows >= 0:
		if b.Len-s.head > int(s.rows)+1 {
			s.head = b.Len - int(s.rows) - 1
		}
	default:
		// No window: only rows of the current instant join.
		for s.head < b.Len && b.RowTime[s.head] < now {
			s.head++
		}
	}
	if s.head > 256 && s.head*2 > b.Len {
		nb := newBuilder(s.cols)
		for i := s.head; i < b.Len; i++ {
			nb.b.RowTime = append(nb.b.RowTime, b.RowTime[i])
			nb.copyFrom(0, b, s.cols, i)
			nb.b.Len++
		}
		s.buf, s.head = nb, 0
	}
}

// streamJoinNode joins two streams: a row arriving on either side is
// matched against the other side's window, and then kept in its own.
type streamJoinNode struct {
	p     *Program
	pump  string
	sides [2]*joinSide
	on    *cexpr
	bd    *builder
	next  node
	c     evalCtx
}

type joinInput struct {
	j    *streamJoinNode
	side int
}

func (in *joinInput) push(b *Batch) { in.j.pushSide(in.side, b) }
func (in *joinInput) advance(int64) {}

func (n *streamJoinNode) advance(int64) {}
func (n *streamJoinNode) push(*Batch)   {}

func (n *streamJoinNode) pushSide(side int, b *Batch) {
	self, other := n.sides[side], n.sides[1-side]
	nl := len(n.sides[0].cols)
	c := &n.c
	c.prog = n.p
	for i := 0; i < b.Len; i++ {
		rt := b.RowTime[i]
		other.evict(rt)
		ob := &other.buf.b
		matched := false
		for r := other.head; r < ob.Len; r++ {
			at := n.bd.b.Len
			n.bd.b.RowTime = append(n.bd.b.RowTime, rt)
			if side == 0 {
				n.bd.copyFrom(0, b, self.cols, i)
				n.bd.copyFrom(nl, ob, other.cols, r)
			} else {
				n.bd.copyFrom(0, ob, other.cols, r)
				n.bd.copyFrom(nl, b, self.cols, i)
			}
			n.bd.b.Len++
			if n.on != nil {
				c.b, c.i, c.err = &n.bd.b, at, nil
				v := n.on.fn(c)
				if c.err != nil || v.null || v.i == 0 {
					if c.err != nil {
						n.p.reportEval(c.err, n.pump, b, self.cols, i)
					}
					n.bd.truncate(at)
					continue
				}
			}
			matched = true
		}
		if !matched && self.outer {
			n.bd.b.RowTime = append(n.bd.b.RowTime, rt)
			if side == 0 {
				n.bd.copyFrom(0, b, self.cols, i)
				n.bd.appendNulls(nl, len(other.cols))
			} else {
				n.bd.appendNulls(0, nl)
				n.bd.copyFrom(nl, b, self.cols, i)
			}
			n.bd.b.Len++
		}
		self.buf.b.RowTime = append(self.buf.b.RowTime, rt)
		self.buf.copyFrom(0, b, self.cols, i)
		self.buf.b.Len++
		self.evict(rt)
	}
	if n.bd.b.Len > 0 {
		n.next.push(&n.bd.b)
		n.bd.reset()
	}
}

func stripOver(f sql.From) (sql.From, *sql.WindowSpec) {
	if t, ok := f.(*sql.TableRef); ok && t.Over != nil {
		cp := *t
		cp.Over = nil
		return &cp, t.Over
	}
	return f, nil
}

func (pl *planner) planStreamJoin(j *sql.Join) *rel {
	lf, lw := stripOver(j.Left)
	rf, rw := stripOver(j.Right)
	left, right := pl.planFrom(lf), pl.planFrom(rf)
	sc := combineScopes(left.sc, right.sc)
	n := &streamJoinNode{p: pl.p, pump: pl.pump}
	mkSide := func(r *rel, w *sql.WindowSpec, outer bool) *joinSide {
		s := &joinSide{cols: r.sc.physical(), rows: -1, outer: outer}
		s.buf = newBuilder(s.cols)
		if w != nil {
			switch {
			case w.Range != nil:
				s.rangeMs = w.Range.Ms
			case w.Rows >= 0:
				s.rows = w.Rows
			default:
				semErr(w.Pos, "A join window needs RANGE INTERVAL … PRECEDING or ROWS n PRECEDING")
			}
			if len(w.Partition) > 0 {
				semErr(w.Pos, "PARTITION BY is not supported in a join window")
			}
		}
		return s
	}
	n.sides[0] = mkSide(left, lw, j.Kind == "LEFT" || j.Kind == "FULL")
	n.sides[1] = mkSide(right, rw, j.Kind == "RIGHT" || j.Kind == "FULL")
	if j.On != nil {
		cp := &compiler{pl: pl, sc: sc}
		n.on = cp.compile(j.On)
	}
	n.bd = newBuilder(sc.physical())
	pl.add(n)
	left.connect(&joinInput{j: n, side: 0})
	right.connect(&joinInput{j: n, side: 1})
	return &rel{sc: sc, items: left.items + right.items, connect: func(x node) { n.next = x }}
}
