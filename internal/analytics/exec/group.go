package exec

import (
	"sort"
	"strconv"

	"github.com/eddy-streams/eddy/internal/analytics/sql"
)

// groupOut turns closed groups (key values + aggregate results, one row
// per group in the "post" batch) into output rows: HAVING, ORDER BY within
// the emission, and the select list.
type groupOut struct {
	p        *Program
	pump     string
	postCols []Column
	post     *builder
	having   *cexpr
	items    []*cexpr
	order    []*cexpr
	desc     []bool
	out      *builder
	vals     []value
	next     node
	c        evalCtx
}

func (g *groupOut) emit() {
	pb := &g.post.b
	if pb.Len == 0 {
		return
	}
	c := &g.c
	c.prog, c.b = g.p, pb
	idx := make([]int, 0, pb.Len)
	for i := 0; i < pb.Len; i++ {
		idx = append(idx, i)
	}
	if len(g.order) > 0 {
		keys := make([][]value, pb.Len)
		for i := range keys {
			c.i = i
			keys[i] = make([]value, len(g.order))
			for k, e := range g.order {
				keys[i][k] = e.fn(c)
			}
		}
		sort.SliceStable(idx, func(a, b int) bool {
			for k := range g.order {
				r := compareNullable(keys[idx[a]][k], keys[idx[b]][k], g.order[k].t())
				if r != 0 {
					if g.desc[k] {
						return r > 0
					}
					return r < 0
				}
			}
			return false
		})
	}
	for _, i := range idx {
		c.i, c.err = i, nil
		if g.having != nil {
			v := g.having.fn(c)
			if c.err != nil {
				g.p.reportEval(c.err, g.pump, pb, g.postCols, i)
				continue
			}
			if v.null || v.i == 0 {
				continue
			}
		}
		g.vals = g.vals[:0]
		for _, it := range g.items {
			v := it.fn(c)
			if it.col.Type == typeRow {
				if v.r == nil {
					v = rowValue(nullRow(len(it.fields)))
				}
				g.vals = append(g.vals, v.row()...)
				continue
			}
			g.vals = append(g.vals, v)
		}
		if c.err != nil {
			g.p.reportEval(c.err, g.pump, pb, g.postCols, i)
			continue
		}
		g.out.appendRow(pb.RowTime[i], g.vals)
	}
	g.post.reset()
	if g.out.b.Len > 0 {
		g.next.push(&g.out.b)
		g.out.reset()
	}
}

// groupNode is a streaming GROUP BY (tumbling window): one open window at a
// time, identified by the values of the monotonic keys. Groups inside it
// live in dense slots found through a map from the encoded non-monotonic
// keys; aggregates keep per-slot state in slices. The window closes when a
// row arrives with different monotonic values, or — for STEP/FLOOR over
// ROWTIME — when processing time reaches its end; output ROWTIME is the
// window end (the last input ROWTIME for other monotonic keys).
type groupNode struct {
	out     *groupOut
	inCols  []Column
	where   *cexpr
	keys    []*cexpr
	keyCols []Column
	mono    []int // indexes of monotonic keys
	other   []int // the rest
	stepKey int   // monotonic key with a known window length, or -1
	aggs    []aggregator
	args    []*cexpr

	slots    map[string]int32
	keyVecs  []Vector
	nslots   int
	open     bool
	cur      []value // monotonic key values of the open window
	lastRT   int64
	keyBuf   []byte
	rowSlots []int32
	monoVals []value
	strKey   bool  // exactly one non-monotonic key, of a character type
	strCol   int   // its column when it is a plain column reference, else -1
	nullSlot int32 // slot of the NULL key in strKey mode, or -1
	c        evalCtx
}

func (n *groupNode) windowEnd() int64 {
	return n.cur[n.stepKey].i + n.keys[n.mono[n.stepKey]].stepMs
}

func (n *groupNode) push(b *Batch) {
	c := &n.c
	c.prog, c.b = n.out.p, b
	if cap(n.rowSlots) < b.Len {
		n.rowSlots = make([]int32, b.Len)
	}
	slots := n.rowSlots[:b.Len]
	// Pass 1: rows → slots (closing windows as the monotonic keys move).
	start := 0
	for i := 0; i < b.Len; i++ {
		c.i, c.err = i, nil
		slots[i] = -1
		if n.where != nil {
			v := n.where.fn(c)
			if c.err != nil {
				n.out.p.reportEval(c.err, n.out.pump, b, n.inCols, i)
				continue
			}
			if v.null || v.i == 0 {
				continue
			}
		}
		changed := false
		for k, ki := range n.mono {
			var v value
			if st := n.keys[ki].rtStep; st > 0 {
				v = value{i: floorDiv(b.RowTime[i], st) * st}
			} else {
				v = n.keys[ki].fn(c)
			}
			n.monoVals[k] = v
			if n.open && compareNullable(v, n.cur[k], n.keys[ki].t()) != 0 {
				changed = true
			}
		}
		if c.err != nil {
			n.out.p.reportEval(c.err, n.out.pump, b, n.inCols, i)
			continue
		}
		if changed {
			// Aggregate the rows so far, then close the window.
			n.fold(b, start, i)
			start = i
			n.close(b.RowTime[i])
			c.b, c.i = b, i
		}
		if !n.open {
			n.open = true
			copy(n.cur, n.monoVals)
		}
		var s int32
		var ok bool
		if n.strKey {
			// One character key: the string itself is the map key (NULL
			// has its own slot), read straight from the column when the
			// key is a plain column reference.
			var v value
			if kv := n.strCol; kv >= 0 && b.Cols[kv].Null == nil {
				v = value{s: b.Cols[kv].Str[i]}
			} else {
				v = n.keys[n.other[0]].fn(c)
			}
			if v.null {
				s, ok = n.nullSlot, n.nullSlot >= 0
			} else {
				s, ok = n.slots[v.s]
			}
			if !ok {
				s = n.newSlot(c)
				if v.null {
					n.nullSlot = s
				} else {
					n.slots[v.s] = s
				}
			}
		} else {
			n.keyBuf = n.keyBuf[:0]
			for _, ki := range n.other {
				n.keyBuf = appendKey(n.keyBuf, n.keys[ki].fn(c), n.keyCols[ki].Type)
			}
			if c.err != nil {
				n.out.p.reportEval(c.err, n.out.pump, b, n.inCols, i)
				continue
			}
			s, ok = n.slots[string(n.keyBuf)]
			if !ok {
				s = n.newSlot(c)
				n.slots[string(n.keyBuf)] = s
			}
		}
		slots[i] = s
		n.lastRT = b.RowTime[i]
	}
	n.fold(b, start, b.Len)
}

// newSlot makes a slot for the group of the current row.
func (n *groupNode) newSlot(c *evalCtx) int32 {
	s := int32(n.nslots)
	n.nslots++
	for k := range n.keys {
		appendVal(&n.keyVecs[k], &n.keyCols[k], n.keys[k].fn(c))
	}
	for _, a := range n.aggs {
		a.grow(n.nslots)
	}
	return s
}

// fold adds rows [from,to) of b to their slots, one aggregate at a time.
func (n *groupNode) fold(b *Batch, from, to int) {
	c := &n.c
	slots := n.rowSlots
	for k, a := range n.aggs {
		arg := n.args[k]
		if arg == nil {
			for i := from; i < to; i++ {
				if s := slots[i]; s >= 0 {
					a.add(s, value{})
				}
			}
			continue
		}
		if ca, ok := a.(*countAgg); ok && arg.colIdx >= 0 && b.Cols[arg.colIdx].Null == nil {
			for i := from; i < to; i++ {
				if s := slots[i]; s >= 0 {
					ca.n[s]++
				}
			}
			continue
		}
		if sa, ok := a.(*sumFloatAgg); ok && arg.colIdx >= 0 && b.Cols[arg.colIdx].Null == nil && isFloatType(arg.t()) && arg.t() != TypeDecimal {
			col := b.Cols[arg.colIdx].F64
			for i := from; i < to; i++ {
				if s := slots[i]; s >= 0 {
					sa.sum[s] += col[i]
					sa.n[s]++
				}
			}
			continue
		}
		if sa, ok := a.(*sumIntAgg); ok && arg.colIdx >= 0 && b.Cols[arg.colIdx].Null == nil {
			col := b.Cols[arg.colIdx].I64
			for i := from; i < to; i++ {
				if s := slots[i]; s >= 0 {
					sa.sum[s] += col[i]
					sa.n[s]++
				}
			}
			continue
		}
		for i := from; i < to; i++ {
			if s := slots[i]; s >= 0 {
				c.i, c.err = i, nil
				v := arg.fn(c)
				if c.err != nil {
					n.out.p.reportEval(c.err, n.out.pump, b, n.inCols, i)
					continue
				}
				a.add(s, v)
			}
		}
	}
	c.b = b
}

func (n *groupNode) close(trigger int64) {
	if !n.open {
		return
	}
	rt := n.lastRT
	if n.stepKey >= 0 {
		rt = n.windowEnd()
	} else if trigger > rt {
		rt = trigger
	}
	g := n.out
	vals := make([]value, 0, len(n.keys)+len(n.aggs))
	for s := 0; s < n.nslots; s++ {
		vals = vals[:0]
		for k := range n.keys {
			vals = append(vals, getVal(&n.keyVecs[k], &n.keyCols[k], s))
		}
		for _, a := range n.aggs {
			vals = append(vals, a.result(int32(s)))
		}
		g.post.appendRow(rt, vals)
	}
	n.resetWindow()
	g.emit()
}

func (n *groupNode) resetWindow() {
	clear(n.slots)
	n.nslots = 0
	n.nullSlot = -1
	for k := range n.keyVecs {
		resetVec(&n.keyVecs[k])
	}
	for _, a := range n.aggs {
		a.reset()
	}
	n.open = false
}

func (n *groupNode) advance(now int64) {
	if n.open && n.stepKey >= 0 && now >= n.windowEnd() {
		n.close(now)
	}
}

// staggerNode is WINDOWED BY STAGGER: each partition key opens its own
// window at its first row and closes it RANGE later (output ROWTIME = the
// close time). Windows open in ROWTIME order and all have the same length,
// so they close in FIFO order.
type staggerNode struct {
	out     *groupOut
	inCols  []Column
	where   *cexpr
	keys    []*cexpr
	keyCols []Column
	rangeMs int64
	aggs    []aggregator
	args    []*cexpr

	slots   map[string]int32
	slotKey []string
	keyVals [][]value
	openAt  []int64
	free    []int32
	queue   []int32
	keyBuf  []byte
	c       evalCtx
}

func (n *staggerNode) push(b *Batch) {
	c := &n.c
	c.prog = n.out.p
	for i := 0; i < b.Len; i++ {
		c.b, c.i, c.err = b, i, nil
		rt := b.RowTime[i]
		n.closeUpTo(rt)
		c.b = b
		if n.where != nil {
			v := n.where.fn(c)
			if c.err != nil {
				n.out.p.reportEval(c.err, n.out.pump, b, n.inCols, i)
				continue
			}
			if v.null || v.i == 0 {
				continue
			}
		}
		n.keyBuf = n.keyBuf[:0]
		for k, e := range n.keys {
			n.keyBuf = appendKey(n.keyBuf, e.fn(c), n.keyCols[k].Type)
		}
		if c.err != nil {
			n.out.p.reportEval(c.err, n.out.pump, b, n.inCols, i)
			continue
		}
		s, ok := n.slots[string(n.keyBuf)]
		if !ok {
			if len(n.free) > 0 {
				s = n.free[len(n.free)-1]
				n.free = n.free[:len(n.free)-1]
			} else {
				s = int32(len(n.openAt))
				n.openAt = append(n.openAt, 0)
				n.slotKey = append(n.slotKey, "")
				n.keyVals = append(n.keyVals, nil)
				for _, a := range n.aggs {
					a.grow(len(n.openAt))
				}
			}
			key := string(n.keyBuf)
			n.slots[key] = s
			n.slotKey[s] = key
			kv := make([]value, len(n.keys))
			for k, e := range n.keys {
				kv[k] = e.fn(c)
			}
			n.keyVals[s] = kv
			n.openAt[s] = rt
			n.queue = append(n.queue, s)
		}
		for k, a := range n.aggs {
			if n.args[k] == nil {
				a.add(s, value{})
				continue
			}
			v := n.args[k].fn(c)
			if c.err != nil {
				n.out.p.reportEval(c.err, n.out.pump, b, n.inCols, i)
				break
			}
			a.add(s, v)
		}
	}
}

func (n *staggerNode) closeUpTo(t int64) {
	closed := 0
	vals := make([]value, 0, len(n.keys)+len(n.aggs))
	for closed < len(n.queue) {
		s := n.queue[closed]
		end := n.openAt[s] + n.rangeMs
		if end > t {
			break
		}
		vals = vals[:0]
		vals = append(vals, n.keyVals[s]...)
		for _, a := range n.aggs {
			vals = append(vals, a.result(s))
		}
		n.out.post.appendRow(end, vals)
		delete(n.slots, n.slotKey[s])
		for _, a := range n.aggs {
			a.clear(s)
		}
		n.keyVals[s] = nil
		n.free = append(n.free, s)
		closed++
	}
	if closed > 0 {
		n.queue = append(n.queue[:0], n.queue[closed:]...)
		n.out.emit()
	}
}

func (n *staggerNode) advance(now int64) { n.closeUpTo(now) }

// planGroup plans GROUP BY, SELECT DISTINCT and WINDOWED BY STAGGER.
func (pl *planner) planGroup(q *sql.Select, src *rel, items []sql.SelectItem, windows map[string]*sql.WindowSpec) *rel {
	cp := &compiler{pl: pl, sc: src.sc}
	var where *cexpr
	if q.Where != nil {
		where = cp.compile(q.Where)
	}
	var keyExprs []sql.Expr
	switch {
	case q.Stagger != nil:
		if len(q.GroupBy) > 0 {
			semErr(q.Stagger.Pos, "WINDOWED BY STAGGER cannot be combined with GROUP BY")
		}
		keyExprs = q.Stagger.Partition
	default:
		keyExprs = append(keyExprs, q.GroupBy...)
		if q.Distinct {
			for _, it := range items {
				keyExprs = append(keyExprs, it.Expr)
			}
		}
	}
	keys := make([]*cexpr, len(keyExprs))
	keyCols := make([]Column, len(keyExprs))
	keyCanon := map[string]int{}
	for i, e := range keyExprs {
		walk(e, func(x sql.Expr) bool {
			if c, ok := isAggCall(x); ok {
				semErr(c.P, "Aggregate expressions cannot be used in GROUP BY")
			}
			return true
		})
		keys[i] = cp.compile(e)
		if keys[i].t() == typeRow {
			semErr(sql.PosOf(e), "Cannot group by a ROW value")
		}
		keyCols[i] = normalizeOut(keys[i].col)
		if _, dup := keyCanon[canon(src.sc, e)]; !dup {
			keyCanon[canon(src.sc, e)] = i
		}
	}
	// Aggregates in the select list, HAVING and ORDER BY.
	var defs []*aggDef
	aggCanon := map[string]int{}
	collect := func(e sql.Expr) {
		walk(e, func(x sql.Expr) bool {
			c, ok := isAggCall(x)
			if !ok {
				return true
			}
			if c.Over != nil {
				semErr(c.P, "Cannot combine windowed aggregates (OVER) with GROUP BY")
			}
			k := canon(src.sc, c)
			if _, seen := aggCanon[k]; seen {
				return false
			}
			d := &aggDef{call: c, kind: c.Name.Text, canon: k}
			switch d.kind {
			case "LAG", "NTH_VALUE", "EXP_AVG":
				semErr(c.P, "Function '%s' needs an OVER window", d.kind)
			}
			if c.Star {
				if d.kind != "COUNT" {
					semErr(c.P, "Only COUNT accepts *")
				}
			} else {
				if len(c.Args) != 1 {
					semErr(c.P, "Invalid number of arguments to function '%s'. Was expecting 1 arguments", d.kind)
				}
				walk(c.Args[0], func(y sql.Expr) bool {
					if _, nested := isAggCall(y); nested && y != sql.Expr(c) {
						semErr(sql.PosOf(y), "Aggregate calls cannot be nested")
					}
					return true
				})
				d.arg = cp.compile(c.Args[0])
				switch d.kind {
				case "SUM", "AVG", "VAR_POP", "VAR_SAMP", "STDDEV_POP", "STDDEV_SAMP":
					if !isNumeric(d.arg.t()) {
						semErr(c.P, "Cannot apply '%s' to arguments of type '%s'", d.kind, d.arg.t())
					}
				case "ANY", "SOME", "EVERY":
					if d.arg.t() != TypeBoolean {
						semErr(c.P, "Cannot apply '%s' to arguments of type '%s'", d.kind, d.arg.t())
					}
				}
			}
			if d.arg != nil {
				d.out = aggOutType(d.kind, d.arg)
				switch d.kind {
				case "AVG", "VAR_POP", "VAR_SAMP", "STDDEV_POP", "STDDEV_SAMP":
					d.arg = cp.toDouble(d.arg)
				}
			} else {
				d.out = Column{Type: TypeBigint}
			}
			d.out = normalizeOut(d.out)
			aggCanon[k] = len(defs)
			defs = append(defs, d)
			return false
		})
	}
	for _, it := range items {
		collect(it.Expr)
	}
	collect(q.Having)
	for _, o := range q.OrderBy {
		collect(o.Expr)
	}
	// The post-aggregation scope: keys, then aggregates.
	post := &scope{}
	post.cols = append(post.cols, scopeCol{name: "ROWTIME", col: Column{Type: TypeTimestamp}, idx: idxRowtime, system: true})
	var postCols []Column
	for i, kc := range keyCols {
		post.cols = append(post.cols, scopeCol{name: "#k" + strconv.Itoa(i), col: kc, idx: i})
		postCols = append(postCols, kc)
	}
	for j, d := range defs {
		post.cols = append(post.cols, scopeCol{name: "#a" + strconv.Itoa(j), col: d.out, idx: len(keys) + j})
		postCols = append(postCols, d.out)
	}
	pcp := &compiler{pl: pl, sc: post}
	pcp.subst = func(e sql.Expr) *cexpr {
		k := canon(src.sc, e)
		if i, ok := keyCanon[k]; ok {
			r := colRef(post.cols[1+i])
			r.mono = keys[i].mono
			r.rtTime = keys[i].rtTime
			r.stepMs = keys[i].stepMs
			return r
		}
		// ROWTIME that is not itself a key is the output row's ROWTIME
		// (the window end).
		if id, ok := e.(*sql.Ident); ok {
			if c, found := cp.resolve(id); found && c.idx == idxRowtime {
				return colRef(post.cols[0])
			}
		}
		if _, ok := isAggCall(e); ok {
			if j, ok := aggCanon[k]; ok {
				return colRef(post.cols[1+len(keys)+j])
			}
		}
		return nil
	}
	g := &groupOut{p: pl.p, pump: pl.pump, postCols: postCols, post: newBuilder(postCols)}
	var outs []outItem
	for i, it := range items {
		e := pcp.compile(it.Expr)
		outs = append(outs, outItem{name: itemName(it, i), expr: e, pos: it.Pos})
		g.items = append(g.items, e)
	}
	if q.Having != nil {
		g.having = pcp.compile(q.Having)
	}
	for _, o := range q.OrderBy {
		ocp := *pcp
		base := pcp.subst
		ocp.subst = func(e sql.Expr) *cexpr {
			if id, ok := e.(*sql.Ident); ok && len(id.Parts) == 1 {
				for i, it := range items {
					if it.Alias != nil && it.Alias.Text == id.Parts[0].Text {
						return g.items[i]
					}
				}
			}
			return base(e)
		}
		g.order = append(g.order, ocp.compile(o.Expr))
		g.desc = append(g.desc, o.Desc)
	}
	if len(g.order) > 0 && !g.order[0].mono {
		semErr(sql.PosOf(q.OrderBy[0].Expr), "Streaming ORDER BY must start with a monotonic expression")
	}
	osc := outScope(outs)
	g.out = newBuilder(osc.physical())
	aggs := make([]aggregator, len(defs))
	args := make([]*cexpr, len(defs))
	for j, d := range defs {
		aggs[j] = newAggregator(d)
		args[j] = d.arg
	}
	inCols := src.sc.physical()
	var n node
	if q.Stagger != nil {
		if q.Stagger.Range == nil {
			semErr(q.Stagger.Pos, "WINDOWED BY STAGGER needs RANGE INTERVAL")
		}
		sn := &staggerNode{out: g, inCols: inCols, where: where, keys: keys, keyCols: keyCols,
			rangeMs: q.Stagger.Range.Ms, aggs: aggs, args: args, slots: map[string]int32{}}
		n = sn
	} else {
		gn := &groupNode{out: g, inCols: inCols, where: where, keys: keys, keyCols: keyCols,
			aggs: aggs, args: args, slots: map[string]int32{}, stepKey: -1}
		for i, k := range keys {
			if k.mono {
				if k.stepMs > 0 && gn.stepKey < 0 {
					gn.stepKey = len(gn.mono)
				}
				gn.mono = append(gn.mono, i)
			} else {
				gn.other = append(gn.other, i)
			}
		}
		if len(gn.mono) == 0 {
			pos := q.Pos
			if len(q.GroupBy) > 0 {
				pos = sql.PosOf(q.GroupBy[0])
			}
			semErr(pos, "Cannot aggregate a stream without a monotonic GROUP BY expression: GROUP BY must include ROWTIME, STEP(ROWTIME BY …), FLOOR(ROWTIME TO …) or MONOTONIC(…)")
		}
		gn.nullSlot, gn.strCol = -1, -1
		if len(gn.other) == 1 && isStrType(keyCols[gn.other[0]].Type) {
			gn.strKey = true
			if ci := keys[gn.other[0]].colIdx; ci >= 0 && isStrType(inCols[ci].Type) {
				gn.strCol = ci
			}
		}
		gn.cur = make([]value, len(gn.mono))
		gn.monoVals = make([]value, len(gn.mono))
		gn.keyVecs = make([]Vector, len(keys))
		for i, kc := range keyCols {
			gn.keyVecs[i].Type = kc.Type
		}
		n = gn
	}
	pl.add(n)
	src.connect(n)
	return &rel{sc: osc, items: len(outs), connect: func(nx node) { g.next = nx }}
}
