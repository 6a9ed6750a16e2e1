package exec

import (
	"math"
	"sort"
	"strconv"
	"strings"
)

// hotspotsNode implements HOTSPOTS(cursor, windowSize, scanRadius,
// minimumNumberOfPointsInAHotspot). AWS does not publish its algorithm;
// this is a documented density scan with the same output shape. For each
// row it considers the last windowSize rows' numeric columns, scaled per
// dimension to [0,1] by the window's range, and bins them into a grid of
// cells of side scanRadius/4. A cell is dense when it and its neighbours
// (cells whose indexes differ by at most 1 in every dimension) hold at
// least minimumNumberOfPointsInAHotspot points and at least twice what a
// uniform spread of the window would put there; connected dense cells form
// a hotspot. HOTSPOTS_RESULT is
// {"hotspots":[{"density":d,"minValues":[…],"maxValues":[…]}, …]} with the
// bounds in original units and density = (share of the window's points in
// the hotspot) / (share of the scaled space its bounding box covers, each
// side at least scanRadius), densest first.
type hotspotsNode struct {
	inCols  []Column
	numeric []int
	window  int
	radius  float64
	minPts  int
	ring    [][]float64
	head    int
	bd      *builder
	next    node
	vals    []value
}

func (n *hotspotsNode) push(b *Batch) {
	for i := 0; i < b.Len; i++ {
		n.vals = n.vals[:0]
		pt := make([]float64, len(n.numeric))
		for k, c := range n.inCols {
			n.vals = append(n.vals, getVal(&b.Cols[k], &c, i))
		}
		for k, ci := range n.numeric {
			v := n.vals[ci]
			switch {
			case v.null:
			case isFloatType(n.inCols[ci].Type):
				if !math.IsNaN(v.f) && !math.IsInf(v.f, 0) {
					pt[k] = v.f
				}
			default:
				pt[k] = float64(v.i)
			}
		}
		if len(n.ring) < n.window {
			n.ring = append(n.ring, pt)
		} else {
			n.ring[n.head] = pt
			n.head = (n.head + 1) % n.window
		}
		n.vals = append(n.vals, value{s: n.scan()})
		n.bd.appendRow(b.RowTime[i], n.vals)
	}
	if n.bd.b.Len > 0 {
		n.next.push(&n.bd.b)
		n.bd.reset()
	}
}

func (n *hotspotsNode) advance(int64) {}

// cellKey packs grid indexes (each in [-1, base-2]) into one integer.
func cellKey(idx []int, base int64) int64 {
	var k int64
	for i := len(idx) - 1; i >= 0; i-- {
		k = k*base + int64(idx[i]+1)
	}
	return k
}

func (n *hotspotsNode) scan() string {
	d := len(n.numeric)
	pts := n.ring
	lo := make([]float64, d)
	hi := make([]float64, d)
	for k := 0; k < d; k++ {
		lo[k], hi[k] = math.Inf(1), math.Inf(-1)
	}
	for _, p := range pts {
		for k, x := range p {
			lo[k] = math.Min(lo[k], x)
			hi[k] = math.Max(hi[k], x)
		}
	}
	side := n.radius / 4
	expected := 2 * float64(len(pts)) * math.Pow(math.Min(3*side, 1), float64(d))
	base := int64(math.Floor(1/side)) + 3
	cells := map[int64][]int{} // cell → point indexes
	cellIdx := map[int64][]int{}
	for pi, p := range pts {
		idx := make([]int, d)
		for k, x := range p {
			span := hi[k] - lo[k]
			s := 0.0
			if span > 0 {
				s = (x - lo[k]) / span
			}
			idx[k] = int(math.Min(s/side, math.Floor(1/side)))
		}
		key := cellKey(idx, base)
		cells[key] = append(cells[key], pi)
		cellIdx[key] = idx
	}
	// neighbours enumerates the cells around idx (3^d offsets).
	neighbours := func(idx []int, f func(int64)) {
		off := make([]int, d)
		for k := range off {
			off[k] = -1
		}
		cur := make([]int, d)
		for {
			for k := range cur {
				cur[k] = idx[k] + off[k]
			}
			f(cellKey(cur, base))
			k := 0
			for k < d && off[k] == 1 {
				off[k] = -1
				k++
			}
			if k == d {
				return
			}
			off[k]++
		}
	}
	dense := map[int64]bool{}
	for key, idx := range cellIdx {
		count := 0
		neighbours(idx, func(nk int64) { count += len(cells[nk]) })
		if count >= n.minPts && float64(count) >= expected {
			dense[key] = true
		}
	}
	type spot struct {
		density  float64
		min, max []float64
	}
	var spots []spot
	seen := map[int64]bool{}
	keys := make([]int64, 0, len(dense))
	for k := range dense {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(a, b int) bool { return keys[a] < keys[b] })
	for _, start := range keys {
		if seen[start] {
			continue
		}
		stack := []int64{start}
		seen[start] = true
		count := 0
		mn := make([]float64, d)
		mx := make([]float64, d)
		for k := range mn {
			mn[k], mx[k] = math.Inf(1), math.Inf(-1)
		}
		for len(stack) > 0 {
			c := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			for _, pi := range cells[c] {
				count++
				for k, x := range pts[pi] {
					mn[k] = math.Min(mn[k], x)
					mx[k] = math.Max(mx[k], x)
				}
			}
			neighbours(cellIdx[c], func(nk int64) {
				if dense[nk] && !seen[nk] {
					seen[nk] = true
					stack = append(stack, nk)
				}
			})
		}
		if count < n.minPts {
			continue
		}
		vol := 1.0
		for k := 0; k < d; k++ {
			side := n.radius
			if span := hi[k] - lo[k]; span > 0 {
				side = math.Max(side, (mx[k]-mn[k])/span)
			}
			vol *= math.Min(side, 1)
		}
		spots = append(spots, spot{density: float64(count) / float64(len(pts)) / vol, min: mn, max: mx})
	}
	sort.SliceStable(spots, func(a, b int) bool { return spots[a].density > spots[b].density })
	var sb strings.Builder
	sb.WriteString(`{"hotspots":[`)
	for i, s := range spots {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(`{"density":` + strconv.FormatFloat(s.density, 'g', 6, 64) + `,"minValues":[`)
		for k, x := range s.min {
			if k > 0 {
				sb.WriteByte(',')
			}
			sb.WriteString(strconv.FormatFloat(x, 'g', -1, 64))
		}
		sb.WriteString(`],"maxValues":[`)
		for k, x := range s.max {
			if k > 0 {
				sb.WriteByte(',')
			}
			sb.WriteString(strconv.FormatFloat(x, 'g', -1, 64))
		}
		sb.WriteString(`]}`)
	}
	sb.WriteString(`]}`)
	return sb.String()
}

func (n *hotspotsNode) save(w *enc) {
	w.uv(uint64(n.head))
	w.uv(uint64(len(n.ring)))
	for _, p := range n.ring {
		for _, x := range p {
			w.f64(x)
		}
	}
}

func (n *hotspotsNode) load(r *dec) error {
	n.head = int(r.uv())
	m := r.count()
	if m > n.window || (n.head != 0 && n.head >= m) {
		r.fail()
		return r.err
	}
	n.ring = n.ring[:0]
	for i := 0; i < m && r.err == nil; i++ {
		p := make([]float64, len(n.numeric))
		for k := range p {
			p[k] = r.f64()
		}
		n.ring = append(n.ring, p)
	}
	return r.err
}
