package exec

import (
	"math"
	"math/bits"
	"sort"
	"strings"

	"github.com/eddy-streams/eddy/internal/analytics/sql"
)

func (pl *planner) constArg(e sql.Expr) (value, Type) {
	cp := &compiler{pl: pl, sc: &scope{}}
	x := cp.compile(e)
	if !x.konst {
		semErr(sql.PosOf(e), "argument must be a constant")
	}
	var c evalCtx
	return x.fn(&c), x.t()
}

func (pl *planner) constNum(e sql.Expr, name string, lo, hi float64) float64 {
	v, t := pl.constArg(e)
	var f float64
	switch {
	case isFloatType(t):
		f = v.f
	case isIntType(t):
		f = float64(v.i)
	default:
		semErr(sql.PosOf(e), "%s must be a number", name)
	}
	if f < lo || f > hi || v.null {
		semErr(sql.PosOf(e), "%s must be between %g and %g", name, lo, hi)
	}
	return f
}

func (pl *planner) planTableFunc(f *sql.TableFunc) *rel {
	call := f.Call
	name := strings.ToUpper(call.Name.Text)
	if len(call.Args) == 0 {
		semErr(call.P, "Table function '%s' needs a CURSOR argument", name)
	}
	cur, ok := call.Args[0].(*sql.Cursor)
	if !ok {
		semErr(sql.PosOf(call.Args[0]), "The first argument of '%s' must be CURSOR(SELECT STREAM …)", name)
	}
	in := pl.planSelect(cur.Query)
	inCols := in.sc.physical()
	var quals []string
	if f.Alias != nil {
		quals = []string{f.Alias.Text}
	}
	outSc := &scope{}
	outSc.cols = append(outSc.cols, scopeCol{quals: quals, name: "ROWTIME", col: Column{Type: TypeTimestamp}, idx: idxRowtime, system: true})
	addCol := func(name string, c Column, idx int) {
		c.Name = name
		outSc.cols = append(outSc.cols, scopeCol{quals: quals, name: name, col: c, idx: idx})
	}
	args := call.Args[1:]
	switch name {
	case "RANDOM_CUT_FOREST", "RANDOM_CUT_FOREST_WITH_EXPLANATION":
		explain := name == "RANDOM_CUT_FOREST_WITH_EXPLANATION"
		maxArgs := 4
		if explain {
			maxArgs = 5
		}
		if len(args) > maxArgs {
			semErr(call.P, "Too many arguments to '%s'", name)
		}
		trees, sample, decay, shingle := 100.0, 256.0, 100000.0, 1.0
		if len(args) > 0 {
			trees = pl.constNum(args[0], "numberOfTrees", 1, 1000)
		}
		if len(args) > 1 {
			sample = pl.constNum(args[1], "subSampleSize", 10, 1000)
		}
		if len(args) > 2 {
			decay = pl.constNum(args[2], "timeDecay", 1, math.MaxInt32)
		}
		if len(args) > 3 {
			shingle = pl.constNum(args[3], "shingleSize", 1, 30)
		}
		var numeric []int
		for i, c := range inCols {
			if isIntType(c.Type) || c.Type == TypeReal || c.Type == TypeDouble {
				numeric = append(numeric, i)
			}
		}
		if len(numeric) == 0 {
			semErr(call.P, "RANDOM_CUT_FOREST needs at least one numeric column (DECIMAL is not accepted)")
		}
		for i, c := range in.sc.cols {
			if c.idx >= 0 {
				addCol(c.name, c.col, in.sc.cols[i].idx)
			}
		}
		out := append([]Column(nil), inCols...)
		out = append(out, Column{Name: "ANOMALY_SCORE", Type: TypeDouble})
		addCol("ANOMALY_SCORE", Column{Type: TypeDouble}, len(inCols))
		if explain {
			out = append(out, Column{Name: "ANOMALY_EXPLANATION", Type: TypeVarchar, Size: 20480})
			addCol("ANOMALY_EXPLANATION", Column{Type: TypeVarchar, Size: 20480}, len(inCols)+1)
		}
		names := make([]string, len(numeric))
		for k, i := range numeric {
			names[k] = inCols[i].Name
		}
		n := &rcfNode{inCols: inCols, numeric: numeric, names: names, explain: explain,
			forest: newForest(int(trees), int(sample), decay, int(shingle), len(numeric), 0x5eed), bd: newBuilder(out)}
		pl.add(n)
		in.connect(n)
		return &rel{sc: outSc, items: len(out), connect: func(x node) { n.next = x }}
	case "TOP_K_ITEMS_TUMBLING", "COUNT_DISTINCT_ITEMS_TUMBLING":
		want := 3
		if name == "COUNT_DISTINCT_ITEMS_TUMBLING" {
			want = 2
		}
		if len(args) != want {
			semErr(call.P, "Invalid number of arguments to function '%s'. Was expecting %d arguments", name, want+1)
		}
		cv, ct := pl.constArg(args[0])
		if !isStrType(ct) || cv.null {
			semErr(sql.PosOf(args[0]), "columnName must be a string literal")
		}
		col := -1
		for _, c := range in.sc.cols {
			if c.idx >= 0 && (c.name == cv.s || strings.EqualFold(c.name, cv.s) && col < 0) {
				col = c.idx
			}
		}
		if col < 0 {
			semErr(sql.PosOf(args[0]), "Column '%s' not found in the cursor", cv.s)
		}
		n := &tumblingItemsNode{inCols: inCols, col: col, k: 0}
		if name == "TOP_K_ITEMS_TUMBLING" {
			n.k = int(pl.constNum(args[1], "K", 1, 100000))
			n.windowMs = int64(pl.constNum(args[2], "windowSize", 1, 3600)) * 1000
			c := inCols[col]
			addCol(c.Name, c, 0)
			addCol("MOST_FREQUENT_VALUES", Column{Type: TypeBigint}, 1)
			n.bd = newBuilder([]Column{c, {Name: "MOST_FREQUENT_VALUES", Type: TypeBigint}})
		} else {
			n.distinct = true
			n.windowMs = int64(pl.constNum(args[1], "windowSize", 1, 3600)) * 1000
			addCol("NUMBER_OF_DISTINCT_ITEMS", Column{Type: TypeBigint}, 0)
			n.bd = newBuilder([]Column{{Name: "NUMBER_OF_DISTINCT_ITEMS", Type: TypeBigint}})
		}
		n.counts = map[string]int32{}
		pl.add(n)
		in.connect(n)
		return &rel{sc: outSc, items: len(n.bd.cols), connect: func(x node) { n.next = x }}
	case "HOTSPOTS":
		if len(args) != 3 {
			semErr(call.P, "Invalid number of arguments to function 'HOTSPOTS'. Was expecting 4 arguments")
		}
		var numeric []int
		for i, c := range inCols {
			if isIntType(c.Type) || c.Type == TypeReal || c.Type == TypeDouble {
				numeric = append(numeric, i)
			}
		}
		if len(numeric) == 0 || len(numeric) > 6 {
			semErr(call.P, "HOTSPOTS needs 1 to 6 numeric columns in the cursor, got %d", len(numeric))
		}
		n := &hotspotsNode{inCols: inCols, numeric: numeric,
			window: int(pl.constNum(args[0], "windowSize", 1, 100000)),
			radius: pl.constNum(args[1], "scanRadius", 0.01, 1),
			minPts: int(pl.constNum(args[2], "minimumNumberOfPointsInAHotspot", 1, 100000))}
		for _, c := range in.sc.cols {
			if c.idx >= 0 {
				addCol(c.name, c.col, c.idx)
			}
		}
		out := append(append([]Column(nil), inCols...), Column{Name: "HOTSPOTS_RESULT", Type: TypeVarchar, Size: 10000})
		addCol("HOTSPOTS_RESULT", Column{Type: TypeVarchar, Size: 10000}, len(inCols))
		n.bd = newBuilder(out)
		pl.add(n)
		in.connect(n)
		return &rel{sc: outSc, items: len(out), connect: func(x node) { n.next = x }}
	}
	semErr(call.P, "No match found for table function %s", name)
	return nil
}

// rcfNode appends ANOMALY_SCORE (and ANOMALY_EXPLANATION) to each row.
type rcfNode struct {
	inCols  []Column
	numeric []int
	names   []string
	explain bool
	forest  *forest
	bd      *builder
	next    node
	vals    []value
	point   []float64
}

func (n *rcfNode) push(b *Batch) {
	if n.point == nil {
		n.point = make([]float64, len(n.numeric))
	}
	for i := 0; i < b.Len; i++ {
		n.vals = n.vals[:0]
		for k, c := range n.inCols {
			n.vals = append(n.vals, getVal(&b.Cols[k], &c, i))
		}
		for k, ci := range n.numeric {
			v := n.vals[ci]
			switch {
			case v.null:
				n.point[k] = 0
			case isFloatType(n.inCols[ci].Type):
				n.point[k] = v.f
				if math.IsNaN(v.f) || math.IsInf(v.f, 0) {
					n.point[k] = 0 // no box can hold them
				}
			default:
				n.point[k] = float64(v.i)
			}
		}
		score, attr := n.forest.process(n.point, n.explain)
		n.vals = append(n.vals, value{f: score})
		if n.explain {
			n.vals = append(n.vals, value{s: explanationJSON(n.names, attr, len(n.numeric))})
		}
		n.bd.appendRow(b.RowTime[i], n.vals)
	}
	if n.bd.b.Len > 0 {
		n.next.push(&n.bd.b)
		n.bd.reset()
	}
}

func (n *rcfNode) advance(int64) {}

// tumblingItemsNode implements TOP_K_ITEMS_TUMBLING (exact counts; the
// top K per window, most frequent first, ties in first-seen order) and
// COUNT_DISTINCT_ITEMS_TUMBLING (exact up to 10,000 items, HyperLogLog
// above), over tumbling ROWTIME windows of windowSize seconds.
type tumblingItemsNode struct {
	inCols   []Column
	col      int
	k        int
	distinct bool
	windowMs int64

	open   bool
	start  int64
	counts map[string]int32 // encoded item → slot
	items  []value
	freq   []int64
	hll    *hll
	bd     *builder
	next   node
	keyBuf []byte
}

func (n *tumblingItemsNode) push(b *Batch) {
	c := n.inCols[n.col]
	for i := 0; i < b.Len; i++ {
		rt := b.RowTime[i]
		if n.open && rt >= n.start+n.windowMs {
			n.close()
		}
		if !n.open {
			n.open, n.start = true, floorDiv(rt, n.windowMs)*n.windowMs
		}
		v := getVal(&b.Cols[n.col], &c, i)
		if v.null {
			continue
		}
		n.keyBuf = appendKey(n.keyBuf[:0], v, c.Type)
		if n.hll != nil {
			n.hll.add(n.keyBuf)
			continue
		}
		s, ok := n.counts[string(n.keyBuf)]
		if !ok {
			s = int32(len(n.items))
			n.counts[string(n.keyBuf)] = s
			n.items = append(n.items, v)
			n.freq = append(n.freq, 0)
			if n.distinct && len(n.items) > 10000 {
				n.hll = newHLL()
				for k := range n.counts {
					n.hll.add([]byte(k))
				}
			}
		}
		n.freq[s]++
	}
}

func (n *tumblingItemsNode) close() {
	end := n.start + n.windowMs
	if n.distinct {
		cnt := int64(len(n.items))
		if n.hll != nil {
			cnt = n.hll.estimate()
		}
		n.bd.appendRow(end, []value{{i: cnt}})
	} else {
		idx := make([]int, len(n.items))
		for i := range idx {
			idx[i] = i
		}
		sort.SliceStable(idx, func(a, b int) bool { return n.freq[idx[a]] > n.freq[idx[b]] })
		if len(idx) > n.k {
			idx = idx[:n.k]
		}
		for _, i := range idx {
			n.bd.appendRow(end, []value{n.items[i], {i: n.freq[i]}})
		}
	}
	clear(n.counts)
	n.items, n.freq, n.hll = n.items[:0], n.freq[:0], nil
	n.open = false
	if n.bd.b.Len > 0 {
		n.next.push(&n.bd.b)
		n.bd.reset()
	}
}

func (n *tumblingItemsNode) advance(now int64) {
	if n.open && now >= n.start+n.windowMs {
		n.close()
	}
}

// hll is a HyperLogLog sketch with 2^14 registers over FNV-1a-64 hashes
// finished with a 64-bit mixer.
type hll struct{ reg []uint8 }

const hllP = 14

func newHLL() *hll { return &hll{reg: make([]uint8, 1<<hllP)} }

func hash64(b []byte) uint64 {
	h := uint64(14695981039346656037)
	for _, c := range b {
		h ^= uint64(c)
		h *= 1099511628211
	}
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return h
}

func (h *hll) add(b []byte) {
	x := hash64(b)
	idx := x >> (64 - hllP)
	rest := x<<hllP | 1<<(hllP-1)
	rank := uint8(bits.LeadingZeros64(rest)) + 1
	if rank > h.reg[idx] {
		h.reg[idx] = rank
	}
}

func (h *hll) estimate() int64 {
	m := float64(len(h.reg))
	sum, zeros := 0.0, 0
	for _, r := range h.reg {
		sum += math.Pow(2, -float64(r))
		if r == 0 {
			zeros++
		}
	}
	est := 0.7213 / (1 + 1.079/m) * m * m / sum
	if est <= 2.5*m && zeros > 0 {
		est = m * math.Log(m/float64(zeros))
	}
	return int64(est + 0.5)
}
