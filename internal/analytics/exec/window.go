package exec

import (
	"math"
	"strconv"

	"github.com/eddy-streams/eddy/internal/analytics/sql"
)

// windowSet computes the analytic (OVER) calls of a projection. Each
// distinct window keeps, per partition, a queue of the rows inside the
// window: [ROWTIME-range, ROWTIME] for RANGE, the current row and the n
// before it for ROWS n. Rows with equal ROWTIME enter in arrival order, so
// each sees the earlier ones but not the later ones. SUM, COUNT, AVG and
// the variances update incrementally (add on entry, subtract on expiry);
// MIN, MAX, FIRST_VALUE, LAST_VALUE, NTH_VALUE and LAG read the queue.
type windowSet struct {
	wins  []*slidingWindow
	scope *scope // input columns + one column per analytic call
	subst func(sql.Expr) *cexpr
	ext   Batch
	base  int // index of the first analytic column in ext
	ncall int
	cols  []Column
	own   []Vector
}

func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

type analyticCall struct {
	kind        string
	arg         *cexpr // nil for COUNT(*)
	n           int64  // LAG offset, NTH_VALUE position
	ignoreNulls bool
	out         Column
	col         int // ext column
}

type slidingWindow struct {
	keys      []*cexpr
	keyTypes  []Type
	rangeMs   int64 // >0 for RANGE
	rows      int64 // >=0 for ROWS
	unbounded bool
	calls     []*analyticCall
	parts     map[string]*partition
	keyBuf    []byte
	lastSweep int64
	vals      []value
}

type partition struct {
	rts    []int64
	vals   [][]value // per call
	head   int
	sum    []float64
	sumI   []int64
	sumSq  []float64
	cnt    []int64
	lastRT int64
}

func (w *slidingWindow) newPartition() *partition {
	n := len(w.calls)
	return &partition{vals: make([][]value, n), sum: make([]float64, n), sumI: make([]int64, n), sumSq: make([]float64, n), cnt: make([]int64, n)}
}

func (p *partition) size() int { return len(p.rts) - p.head }

func (p *partition) popFront(w *slidingWindow) {
	for k, c := range w.calls {
		v := p.vals[k][p.head]
		p.vals[k][p.head] = value{}
		if c.arg == nil || v.null {
			continue
		}
		p.cnt[k]--
		p.sum[k] -= v.f
		p.sumI[k] -= v.i
		p.sumSq[k] -= v.f * v.f
	}
	p.head++
	if p.head > 64 && p.head*2 > len(p.rts) {
		m := copy(p.rts, p.rts[p.head:])
		p.rts = p.rts[:m]
		for k := range p.vals {
			copy(p.vals[k], p.vals[k][p.head:])
			p.vals[k] = p.vals[k][:m]
		}
		p.head = 0
	}
}

func (ws *windowSet) prepare(b *Batch) *Batch {
	ws.ext.Len = b.Len
	ws.ext.RowTime = b.RowTime
	ws.ext.ApproximateArrivalTime = b.ApproximateArrivalTime
	ws.ext.PartitionKey, ws.ext.ShardID, ws.ext.SequenceNumber = b.PartitionKey, b.ShardID, b.SequenceNumber
	// The analytic columns are reused from batch to batch.
	if len(ws.own) != ws.ncall {
		ws.own = make([]Vector, ws.ncall)
	}
	for k := range ws.own {
		v := &ws.own[k]
		c := ws.cols[k]
		v.Type = c.Type
		switch {
		case usesI(c.Type) || c.Type == TypeDecimal:
			v.I64 = grow(v.I64, b.Len)
		case isFloatType(c.Type):
			v.F64 = grow(v.F64, b.Len)
		case isBinType(c.Type):
			v.Bin = grow(v.Bin, b.Len)
		default:
			clear(v.Str)
			v.Str = grow(v.Str, b.Len)
		}
		v.Null = grow(v.Null, b.Len)
		clear(v.Null)
	}
	ws.ext.Cols = append(append(ws.ext.Cols[:0], b.Cols...), ws.own...)
	return &ws.ext
}

// row adds row i to every window and stores the analytic results.
func (ws *windowSet) row(c *evalCtx, i int) {
	rt := c.b.RowTime[i]
	for _, w := range ws.wins {
		w.keyBuf = w.keyBuf[:0]
		for k, e := range w.keys {
			w.keyBuf = appendKey(w.keyBuf, e.fn(c), w.keyTypes[k])
		}
		if cap(w.vals) < len(w.calls) {
			w.vals = make([]value, len(w.calls))
		}
		vals := w.vals[:len(w.calls)]
		for k, call := range w.calls {
			if call.arg != nil {
				vals[k] = call.arg.fn(c)
			}
		}
		if c.err != nil {
			return
		}
		p := w.parts[string(w.keyBuf)]
		if p == nil {
			p = w.newPartition()
			w.parts[string(w.keyBuf)] = p
		}
		p.lastRT = rt
		if w.rangeMs > 0 {
			for p.size() > 0 && p.rts[p.head] < rt-w.rangeMs {
				p.popFront(w)
			}
		}
		p.rts = append(p.rts, rt)
		for k, call := range w.calls {
			v := vals[k]
			p.vals[k] = append(p.vals[k], v)
			if call.arg != nil && !v.null {
				p.cnt[k]++
				p.sum[k] += v.f
				p.sumI[k] += v.i
				p.sumSq[k] += v.f * v.f
			}
		}
		if w.rows >= 0 {
			for int64(p.size()) > w.rows+1 {
				p.popFront(w)
			}
		}
		for k, call := range w.calls {
			v := w.result(p, k, call)
			col := &ws.ext.Cols[call.col]
			if v.null {
				col.Null[i] = true
				continue
			}
			switch {
			case call.out.Type == TypeDecimal:
				col.I64[i] = int64(math.Round(v.f * scaleOf(call.out)))
			case usesI(call.out.Type):
				col.I64[i] = v.i
			case isFloatType(call.out.Type):
				col.F64[i] = v.f
			case isBinType(call.out.Type):
				col.Bin[i] = []byte(v.s)
			default:
				col.Str[i] = v.s
			}
		}
	}
}

func (w *slidingWindow) result(p *partition, k int, c *analyticCall) value {
	live := p.vals[k][p.head:]
	switch c.kind {
	case "COUNT":
		if c.arg == nil {
			return value{i: int64(len(live))}
		}
		return value{i: p.cnt[k]}
	case "SUM":
		if p.cnt[k] == 0 {
			return nullValue
		}
		if usesI(c.out.Type) {
			return value{i: p.sumI[k]}
		}
		return value{f: p.sum[k]}
	case "AVG", "VAR_POP", "VAR_SAMP", "STDDEV_POP", "STDDEV_SAMP":
		n := p.cnt[k]
		if n == 0 {
			return nullValue
		}
		mean := p.sum[k] / float64(n)
		m2 := p.sumSq[k] - float64(n)*mean*mean
		if m2 < 0 {
			m2 = 0
		}
		return momentResult(c.kind, isIntType(c.out.Type), n, mean, m2)
	case "MIN", "MAX":
		var best value
		found := false
		for _, v := range live {
			if v.null {
				continue
			}
			if !found {
				best, found = v, true
				continue
			}
			r := compareValues(v, best, c.arg.t())
			if (c.kind == "MAX" && r > 0) || (c.kind == "MIN" && r < 0) {
				best = v
			}
		}
		if !found {
			return nullValue
		}
		return best
	case "FIRST_VALUE":
		for _, v := range live {
			if !v.null || !c.ignoreNulls {
				return v
			}
		}
		return nullValue
	case "LAST_VALUE":
		for j := len(live) - 1; j >= 0; j-- {
			if !live[j].null || !c.ignoreNulls {
				return live[j]
			}
		}
		return nullValue
	case "NTH_VALUE":
		if c.n >= 1 && int(c.n) <= len(live) {
			return live[c.n-1]
		}
		return nullValue
	case "EXP_AVG":
		// Weights halve every half-life back from the current row.
		now := p.rts[len(p.rts)-1]
		var num, den float64
		for j, v := range live {
			if v.null {
				continue
			}
			w := math.Exp2(-float64(now-p.rts[p.head+j]) / float64(c.n))
			num += w * v.f
			den += w
		}
		if den == 0 {
			return nullValue
		}
		return value{f: num / den}
	case "LAG":
		j := len(live) - 1 - int(c.n)
		if j >= 0 && j < len(live) {
			return live[j]
		}
		return nullValue
	}
	return nullValue
}

// sweep drops partitions that have had no row for a whole range, so idle
// keys do not hold memory.
func (ws *windowSet) sweep(now int64) {
	for _, w := range ws.wins {
		if w.rangeMs <= 0 || now-w.lastSweep < w.rangeMs {
			continue
		}
		w.lastSweep = now
		for k, p := range w.parts {
			if p.lastRT < now-w.rangeMs {
				delete(w.parts, k)
			}
		}
	}
}

// planWindows finds the analytic calls of the select list and builds their
// windows; nil when there are none.
func (pl *planner) planWindows(sc *scope, items []sql.SelectItem, named map[string]*sql.WindowSpec) *windowSet {
	cp := &compiler{pl: pl, sc: sc}
	ws := &windowSet{}
	byCanon := map[string]*analyticCall{}
	winByCanon := map[string]*slidingWindow{}
	ext := &scope{cols: append([]scopeCol(nil), sc.cols...)}
	base := len(sc.physical())
	var order []string
	for _, it := range items {
		walk(it.Expr, func(e sql.Expr) bool {
			c, ok := e.(*sql.Call)
			if !ok || c.Over == nil {
				return true
			}
			if !aggregateNames[c.Name.Text] {
				semErr(c.P, "Function '%s' cannot be used with OVER", c.Name.Text)
			}
			spec := c.Over
			if spec.Ref != nil {
				s, ok := named[spec.Ref.Text]
				if !ok {
					semErr(spec.Ref.Pos, "Window '%s' not found", spec.Ref.Text)
				}
				spec = s
			}
			if spec.Range == nil && spec.Rows < 0 && !spec.Unbounded {
				semErr(spec.Pos, "A streaming window needs RANGE INTERVAL … PRECEDING or ROWS n PRECEDING")
			}
			k := canon(sc, c)
			if _, seen := byCanon[k]; seen {
				return false
			}
			// The window itself.
			var wk string
			for _, pe := range spec.Partition {
				wk += canon(sc, pe) + ","
			}
			switch {
			case spec.Range != nil:
				wk += "R" + strconv.FormatInt(spec.Range.Ms, 10)
			case spec.Unbounded:
				wk += "U"
			default:
				wk += "N" + strconv.FormatInt(spec.Rows, 10)
			}
			w := winByCanon[wk]
			if w == nil {
				w = &slidingWindow{rows: -1, parts: map[string]*partition{}}
				if spec.Range != nil {
					w.rangeMs = spec.Range.Ms
				} else if spec.Unbounded {
					w.unbounded = true
				} else {
					w.rows = spec.Rows
				}
				for _, pe := range spec.Partition {
					ke := cp.compile(pe)
					w.keys = append(w.keys, ke)
					w.keyTypes = append(w.keyTypes, normalizeOut(ke.col).Type)
				}
				winByCanon[wk] = w
				ws.wins = append(ws.wins, w)
			}
			call := &analyticCall{kind: c.Name.Text, ignoreNulls: c.IgnoreNulls, n: 1}
			switch {
			case c.Star:
				if call.kind != "COUNT" {
					semErr(c.P, "Only COUNT accepts *")
				}
				call.out = Column{Type: TypeBigint}
			case len(c.Args) == 0:
				semErr(c.P, "Function '%s' needs an argument", call.kind)
			default:
				call.arg = cp.compile(c.Args[0])
				if len(c.Args) > 1 {
					if call.kind != "LAG" && call.kind != "NTH_VALUE" && call.kind != "EXP_AVG" {
						semErr(c.P, "Invalid number of arguments to function '%s'", call.kind)
					}
					ne := cp.compile(c.Args[1])
					var ec evalCtx
					switch {
					case call.kind == "EXP_AVG" && ne.konst && ne.t() == typeInterval:
						call.n = ne.fn(&ec).i
						if call.n <= 0 {
							semErr(sql.PosOf(c.Args[1]), "EXP_AVG half-life must be positive")
						}
					case call.kind != "EXP_AVG" && ne.konst && isIntType(ne.t()):
						call.n = ne.fn(&ec).i
					default:
						semErr(sql.PosOf(c.Args[1]), "%s needs a constant %s", call.kind, map[bool]string{true: "INTERVAL half-life", false: "integer offset"}[call.kind == "EXP_AVG"])
					}
				}
				switch call.kind {
				case "LAG", "NTH_VALUE", "FIRST_VALUE", "LAST_VALUE", "MIN", "MAX":
					call.out = call.arg.col
				case "EXP_AVG":
					if len(c.Args) != 2 {
						semErr(c.P, "EXP_AVG needs an expression and a half-life INTERVAL")
					}
					if !isNumeric(call.arg.t()) {
						semErr(c.P, "Cannot apply 'EXP_AVG' to arguments of type '%s'", call.arg.t())
					}
					call.out = Column{Type: TypeDouble}
					arg := call.arg
					if isIntType(arg.t()) {
						call.arg = mk(arg.t(), func(c *evalCtx) value {
							v := arg.fn(c)
							v.f = float64(v.i)
							return v
						})
					}
				default:
					if !isNumeric(call.arg.t()) && call.kind != "COUNT" {
						semErr(c.P, "Cannot apply '%s' to arguments of type '%s'", call.kind, call.arg.t())
					}
					call.out = aggOutType(call.kind, call.arg)
					if call.kind != "COUNT" && !(call.kind == "SUM" && isIntType(call.arg.t())) {
						// Float accumulation for SUM/AVG/VAR: keep the integer
						// sum too (sumI) for exact integer SUM.
						arg := call.arg
						if isIntType(arg.t()) {
							call.arg = mk(arg.t(), func(c *evalCtx) value {
								v := arg.fn(c)
								v.f = float64(v.i)
								return v
							})
						}
					} else if call.kind == "SUM" {
						arg := call.arg
						call.arg = mk(arg.t(), func(c *evalCtx) value {
							v := arg.fn(c)
							v.f = float64(v.i)
							return v
						})
					}
				}
			}
			call.out = normalizeOut(call.out)
			call.col = base + len(order)
			byCanon[k] = call
			order = append(order, k)
			w.calls = append(w.calls, call)
			ws.cols = append(ws.cols, call.out)
			ext.cols = append(ext.cols, scopeCol{name: "#w" + strconv.Itoa(len(order)-1), col: call.out, idx: call.col})
			return false
		})
	}
	if len(order) == 0 {
		return nil
	}
	ws.ncall = len(order)
	ws.base = base
	ws.scope = ext
	ws.subst = func(e sql.Expr) *cexpr {
		c, ok := e.(*sql.Call)
		if !ok || c.Over == nil {
			return nil
		}
		call := byCanon[canon(sc, c)]
		if call == nil {
			return nil
		}
		return colRef(scopeCol{col: call.out, idx: call.col})
	}
	return ws
}
