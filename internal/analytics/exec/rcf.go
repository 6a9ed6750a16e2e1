package exec

import (
	"container/heap"
	"math"
	"strconv"
	"strings"
)

// A random cut forest (Guha et al., "Robust Random Cut Forest Based
// Anomaly Detection on Streams", ICML 2016). Each tree holds a time-decayed
// reservoir sample of the (shingled) points: a point gets the priority
// seq/timeDecay − ln(−ln u) and each tree keeps its subSampleSize highest
// priorities, so newer points are favoured as timeDecay shrinks. Trees are
// maintained incrementally with the paper's insert and delete.
//
// A point's score in one tree is the expected 1/(depth+1) at which a random
// cut would isolate it, walking from the root toward where it would be
// inserted: at each node the probability that a cut over the node's box
// extended by the point separates the point is (extension)/(extended
// range). Averaged over trees and multiplied by log2(subSampleSize), usual
// points score near 1 and isolated ones several times higher. Scores are
// reported before the point is inserted; the forest scores 0 until every
// tree's sample is full.

type rng struct{ s uint64 }

func (r *rng) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	z := r.s
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

func (r *rng) float() float64 { return float64(r.next()>>11) / (1 << 53) }

type rnode struct {
	parent, left, right *rnode
	dim                 int
	cut                 float64
	min, max            []float64 // bounding box (a leaf: its point)
	count               int       // leaf multiplicity
}

func (n *rnode) leaf() bool { return n.left == nil }

type sampleEntry struct {
	prio float64
	leaf *rnode
}

type sampleHeap []sampleEntry

func (h sampleHeap) Len() int           { return len(h) }
func (h sampleHeap) Less(i, j int) bool { return h[i].prio < h[j].prio }
func (h sampleHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *sampleHeap) Push(x any)        { *h = append(*h, x.(sampleEntry)) }
func (h *sampleHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

type rtree struct {
	root   *rnode
	sample sampleHeap
}

type forest struct {
	trees   []*rtree
	size    int
	lambda  float64
	shingle int
	base    int
	dims    int
	r       rng
	ring    [][]float64
	seq     int64
	pt      []float64
}

func newForest(trees, size int, decay float64, shingle, base int, seed uint64) *forest {
	f := &forest{size: size, lambda: 1 / decay, shingle: shingle, base: base, dims: base * shingle, r: rng{seed}}
	for i := 0; i < trees; i++ {
		f.trees = append(f.trees, &rtree{})
	}
	f.pt = make([]float64, f.dims)
	return f
}

// process scores p (one row's numeric values) and inserts it; attr holds
// per-dimension high/low attributions (2*base values) when explain is set.
func (f *forest) process(p []float64, explain bool) (float64, []float64) {
	row := append([]float64(nil), p...)
	f.ring = append(f.ring, row)
	if len(f.ring) > f.shingle {
		f.ring = f.ring[1:]
	}
	if len(f.ring) < f.shingle {
		return 0, nil
	}
	pt := make([]float64, 0, f.dims)
	for _, r := range f.ring {
		pt = append(pt, r...)
	}
	var attr []float64
	if explain {
		attr = make([]float64, 2*f.dims)
	}
	score := 0.0
	ready := true
	for _, t := range f.trees {
		if len(t.sample) < f.size {
			ready = false
			break
		}
	}
	if ready {
		for _, t := range f.trees {
			score += t.score(pt, attr)
		}
		norm := math.Log2(float64(f.size)) / float64(len(f.trees))
		score *= norm
		for i := range attr {
			attr[i] *= norm
		}
	} else {
		attr = nil
	}
	f.seq++
	for _, t := range f.trees {
		u := f.r.float()
		if u <= 0 {
			u = 1e-300
		}
		prio := float64(f.seq)*f.lambda - math.Log(-math.Log(u))
		if len(t.sample) >= f.size {
			if prio <= t.sample[0].prio {
				continue
			}
			old := heap.Pop(&t.sample).(sampleEntry)
			t.remove(old.leaf)
		}
		leaf := t.insert(pt, &f.r)
		heap.Push(&t.sample, sampleEntry{prio, leaf})
	}
	// Fold shingle positions back onto the base columns.
	if attr != nil && f.shingle > 1 {
		folded := make([]float64, 2*f.base)
		for d := 0; d < f.dims; d++ {
			folded[2*(d%f.base)] += attr[2*d]
			folded[2*(d%f.base)+1] += attr[2*d+1]
		}
		attr = folded
	}
	return score, attr
}

func (t *rtree) score(p []float64, attr []float64) float64 {
	n := t.root
	reach := 1.0
	total := 0.0
	depth := 0
	for n != nil {
		ext, rng := 0.0, 0.0
		for d := range p {
			lo, hi := n.min[d], n.max[d]
			e := 0.0
			if p[d] < lo {
				e = lo - p[d]
				lo = p[d]
			} else if p[d] > hi {
				e = p[d] - hi
				hi = p[d]
			}
			ext += e
			rng += hi - lo
		}
		w := 1 / float64(depth+1)
		if ext > 0 && rng > 0 {
			sep := ext / rng
			contrib := reach * sep * w
			total += contrib
			if attr != nil {
				for d := range p {
					if p[d] < n.min[d] {
						attr[2*d+1] += contrib * (n.min[d] - p[d]) / ext
					} else if p[d] > n.max[d] {
						attr[2*d] += contrib * (p[d] - n.max[d]) / ext
					}
				}
			}
			reach *= 1 - sep
		}
		if n.leaf() {
			// Not isolated above: a duplicate of this leaf (or the rest of
			// the probability mass) sits at this depth.
			total += reach * w / float64(n.count)
			break
		}
		if p[n.dim] <= n.cut {
			n = n.left
		} else {
			n = n.right
		}
		depth++
	}
	return total
}

func newLeaf(p []float64) *rnode {
	pt := append([]float64(nil), p...)
	return &rnode{min: pt, max: pt, count: 1}
}

func (t *rtree) insert(p []float64, r *rng) *rnode {
	if t.root == nil {
		t.root = newLeaf(p)
		return t.root
	}
	n := t.root
	for {
		// Box of n extended by p.
		total := 0.0
		for d := range p {
			total += math.Max(n.max[d], p[d]) - math.Min(n.min[d], p[d])
		}
		if total == 0 {
			// p equals this leaf's point.
			n.count++
			return n
		}
		x := r.float() * total
		dim, cut := 0, 0.0
		for d := range p {
			lo, hi := math.Min(n.min[d], p[d]), math.Max(n.max[d], p[d])
			if x < hi-lo || d == len(p)-1 {
				dim, cut = d, lo+x
				if cut >= hi {
					cut = math.Nextafter(hi, math.Inf(-1))
				}
				break
			}
			x -= hi - lo
		}
		if cut < n.min[dim] || cut >= n.max[dim] {
			leaf := newLeaf(p)
			parent := &rnode{dim: dim, cut: cut, parent: n.parent}
			if p[dim] <= cut {
				parent.left, parent.right = leaf, n
			} else {
				parent.left, parent.right = n, leaf
			}
			parent.min = make([]float64, len(p))
			parent.max = make([]float64, len(p))
			for d := range p {
				parent.min[d] = math.Min(n.min[d], p[d])
				parent.max[d] = math.Max(n.max[d], p[d])
			}
			if n.parent == nil {
				t.root = parent
			} else if n.parent.left == n {
				n.parent.left = parent
			} else {
				n.parent.right = parent
			}
			n.parent, leaf.parent = parent, parent
			return leaf
		}
		// The cut does not separate p: grow n's box and descend.
		for d := range p {
			if p[d] < n.min[d] {
				n.min[d] = p[d]
			}
			if p[d] > n.max[d] {
				n.max[d] = p[d]
			}
		}
		if n.leaf() {
			// Unreachable for finite points (a leaf always separates).
			n.count++
			return n
		}
		if p[n.dim] <= n.cut {
			n = n.left
		} else {
			n = n.right
		}
	}
}

func (t *rtree) remove(leaf *rnode) {
	if leaf.count > 1 {
		leaf.count--
		return
	}
	p := leaf.parent
	if p == nil {
		t.root = nil
		return
	}
	sib := p.left
	if sib == leaf {
		sib = p.right
	}
	g := p.parent
	sib.parent = g
	if g == nil {
		t.root = sib
		return
	}
	if g.left == p {
		g.left = sib
	} else {
		g.right = sib
	}
	for n := g; n != nil; n = n.parent {
		for d := range n.min {
			n.min[d] = math.Min(n.left.min[d], n.right.min[d])
			n.max[d] = math.Max(n.left.max[d], n.right.max[d])
		}
	}
}

// explanationJSON renders attributions like AWS's ANOMALY_EXPLANATION:
// {"col":{"DIRECTION":"HIGH","STRENGTH":"0.8567","ATTRIBUTION_SCORE":"1.7447"},…}.
func explanationJSON(names []string, attr []float64, base int) string {
	var sb strings.Builder
	sb.WriteByte('{')
	for k, name := range names {
		if k > 0 {
			sb.WriteByte(',')
		}
		hi, lo := 0.0, 0.0
		if attr != nil {
			hi, lo = attr[2*k], attr[2*k+1]
		}
		dir := "HIGH"
		if lo > hi {
			dir = "LOW"
		}
		total := hi + lo
		strength := 0.0
		if total > 0 {
			strength = math.Abs(hi-lo) / total
		}
		sb.WriteString(strconv.Quote(name))
		sb.WriteString(`:{"DIRECTION":"` + dir + `","STRENGTH":"` + strconv.FormatFloat(strength, 'f', 4, 64) +
			`","ATTRIBUTION_SCORE":"` + strconv.FormatFloat(total, 'f', 4, 64) + `"}`)
	}
	sb.WriteByte('}')
	return sb.String()
}

// save writes the forest: RNG, shingle ring, sequence, and each tree in
// pre-order with its sample's priorities by leaf number.
func (f *forest) save(w *enc) {
	w.uv(f.r.s)
	w.i64(f.seq)
	w.uv(uint64(len(f.ring)))
	for _, r := range f.ring {
		for _, x := range r {
			w.f64(x)
		}
	}
	for _, t := range f.trees {
		ids := map[*rnode]int{}
		var walkN func(n *rnode)
		walkN = func(n *rnode) {
			if n == nil {
				w.b = append(w.b, 0)
				return
			}
			if n.leaf() {
				ids[n] = len(ids)
				w.b = append(w.b, 1)
				w.uv(uint64(n.count))
				for _, x := range n.min {
					w.f64(x)
				}
				return
			}
			w.b = append(w.b, 2)
			w.uv(uint64(n.dim))
			w.f64(n.cut)
			walkN(n.left)
			walkN(n.right)
		}
		walkN(t.root)
		w.uv(uint64(len(t.sample)))
		for _, s := range t.sample {
			w.f64(s.prio)
			w.uv(uint64(ids[s.leaf]))
		}
	}
}

func (f *forest) load(r *dec) error {
	f.r.s = r.uv()
	f.seq = r.i64()
	nr := r.count()
	if nr > f.shingle {
		r.fail()
		return r.err
	}
	f.ring = nil
	for i := 0; i < nr; i++ {
		row := make([]float64, f.base)
		for k := range row {
			row[k] = r.f64()
		}
		f.ring = append(f.ring, row)
	}
	for _, t := range f.trees {
		var leaves []*rnode
		var read func(parent *rnode, depth int) *rnode
		read = func(parent *rnode, depth int) *rnode {
			if r.err != nil || len(r.b) == 0 || depth > 10000 {
				r.fail()
				return nil
			}
			tag := r.b[0]
			r.b = r.b[1:]
			switch tag {
			case 0:
				return nil
			case 1:
				n := &rnode{parent: parent, count: int(r.uv())}
				pt := make([]float64, f.dims)
				for d := range pt {
					pt[d] = r.f64()
				}
				n.min, n.max = pt, pt
				leaves = append(leaves, n)
				return n
			case 2:
				n := &rnode{parent: parent, dim: int(r.uv()), cut: r.f64()}
				if n.dim >= f.dims {
					r.fail()
					return nil
				}
				n.left = read(n, depth+1)
				n.right = read(n, depth+1)
				if n.left == nil || n.right == nil {
					r.fail()
					return nil
				}
				n.min = make([]float64, f.dims)
				n.max = make([]float64, f.dims)
				for d := range n.min {
					n.min[d] = math.Min(n.left.min[d], n.right.min[d])
					n.max[d] = math.Max(n.left.max[d], n.right.max[d])
				}
				return n
			}
			r.fail()
			return nil
		}
		t.root = read(nil, 0)
		ns := r.count()
		t.sample = t.sample[:0]
		for i := 0; i < ns && r.err == nil; i++ {
			prio := r.f64()
			id := int(r.uv())
			if id >= len(leaves) {
				r.fail()
				break
			}
			t.sample = append(t.sample, sampleEntry{prio, leaves[id]})
		}
		heap.Init(&t.sample)
	}
	return r.err
}
