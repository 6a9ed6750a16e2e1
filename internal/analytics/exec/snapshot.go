package exec

import (
	"crypto/sha256"
	"fmt"
)

// Snapshot format (version 1), all integers as varints (see encode.go):
//
//	magic "EDKA" | version uvarint | sha256(code)[:8] | now | start | started
//	per in-application stream (inputs sorted by name, then created): lastRT, hasRT
//	per operator, in plan order: its state (below)
//
// Operator state: group windows (open flag, monotonic values, slots with
// key values and every aggregate's per-slot state), stagger windows (open
// windows in FIFO order with keys, open time and aggregates), sliding
// windows (partitions with their rows), join buffers, ORDER BY buffers,
// tumbling item counts and random cut forests (RNG, trees, samples).
// Restore requires a Program compiled from the same code.

const snapshotVersion = 1

type stateful interface {
	save(w *enc)
	load(r *dec) error
}

func codeHash(code string) []byte {
	h := sha256.Sum256([]byte(code))
	return h[:8]
}

func (p *Program) allStreams() []*stream {
	var out []*stream
	var names []string
	for name, s := range p.streams {
		if s.input {
			names = append(names, name)
		}
	}
	sortStrings(names)
	for _, n := range names {
		out = append(out, p.streams[n])
	}
	return append(out, p.created...)
}

// Snapshot returns the operator state (versioned bytes). The runner stores
// it together with the source positions of the last pushed batch, so a
// restore resumes without losing or repeating a window.
func (p *Program) Snapshot() ([]byte, error) {
	w := &enc{b: []byte("EDKA")}
	w.uv(snapshotVersion)
	w.b = append(w.b, codeHash(p.code)...)
	w.i64(p.now)
	w.i64(p.start)
	w.bool(p.started)
	for _, s := range p.allStreams() {
		w.i64(s.lastRT)
		w.bool(s.hasRT)
	}
	for _, n := range p.nodes {
		if st, ok := n.(stateful); ok {
			st.save(w)
		}
	}
	return w.b, nil
}

// Restore loads a Snapshot into a freshly compiled Program of the same code.
func (p *Program) Restore(state []byte) error {
	if len(state) < 4 || string(state[:4]) != "EDKA" {
		return fmt.Errorf("analytics: restore: not an engine snapshot")
	}
	r := &dec{b: state[4:]}
	if v := r.uv(); v != snapshotVersion {
		return fmt.Errorf("analytics: restore: snapshot version %d, want %d", v, snapshotVersion)
	}
	if len(r.b) < 8 || string(r.b[:8]) != string(codeHash(p.code)) {
		return fmt.Errorf("analytics: restore: snapshot was taken from different application code")
	}
	r.b = r.b[8:]
	p.now = r.i64()
	p.start = r.i64()
	p.started = r.bool()
	for _, s := range p.allStreams() {
		s.lastRT = r.i64()
		s.hasRT = r.bool()
	}
	for _, n := range p.nodes {
		if st, ok := n.(stateful); ok {
			if err := st.load(r); err != nil {
				return fmt.Errorf("analytics: restore: %w", err)
			}
		}
	}
	if r.err != nil {
		return fmt.Errorf("analytics: restore: %w", r.err)
	}
	if len(r.b) != 0 {
		return fmt.Errorf("analytics: restore: %d trailing bytes", len(r.b))
	}
	return nil
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// --- batches in snapshots ---------------------------------------------

func saveRows(w *enc, b *Batch, cols []Column, from int) {
	w.uv(uint64(b.Len - from))
	for i := from; i < b.Len; i++ {
		w.i64(b.RowTime[i])
		for k := range cols {
			w.val(getVal(&b.Cols[k], &cols[k], i))
		}
	}
}

func loadRows(r *dec, bd *builder) {
	n := r.count()
	vals := make([]value, len(bd.cols))
	for i := 0; i < n && r.err == nil; i++ {
		rt := r.i64()
		for k := range vals {
			vals[k] = r.val()
		}
		bd.appendRow(rt, vals)
	}
}

// --- operators ---------------------------------------------------------

func (n *groupNode) save(w *enc) {
	w.bool(n.open)
	for _, v := range n.cur {
		w.val(v)
	}
	w.i64(n.lastRT)
	w.uv(uint64(n.nslots))
	for s := 0; s < n.nslots; s++ {
		for k := range n.keys {
			w.val(getVal(&n.keyVecs[k], &n.keyCols[k], s))
		}
	}
	for _, a := range n.aggs {
		a.save(w, n.nslots)
	}
}

func (n *groupNode) load(r *dec) error {
	n.resetWindow()
	n.open = r.bool()
	for i := range n.cur {
		n.cur[i] = r.val()
	}
	n.lastRT = r.i64()
	ns := r.count()
	for s := 0; s < ns && r.err == nil; s++ {
		var key []byte
		for k := range n.keys {
			v := r.val()
			appendVal(&n.keyVecs[k], &n.keyCols[k], v)
			for _, o := range n.other {
				if o != k {
					continue
				}
				switch {
				case n.strKey && v.null:
					n.nullSlot = int32(s)
				case n.strKey:
					n.slots[v.s] = int32(s)
				default:
					key = appendKey(key, v, n.keyCols[k].Type)
				}
			}
		}
		if !n.strKey {
			n.slots[string(key)] = int32(s)
		}
	}
	n.nslots = ns
	for _, a := range n.aggs {
		if err := a.load(r, ns); err != nil {
			return err
		}
	}
	return r.err
}

func (n *staggerNode) save(w *enc) {
	w.uv(uint64(len(n.queue)))
	for _, s := range n.queue {
		w.i64(n.openAt[s])
		for _, v := range n.keyVals[s] {
			w.val(v)
		}
	}
	// Aggregates: compact the open slots into queue order.
	for _, a := range n.aggs {
		for _, s := range n.queue {
			saveSlot(w, a, s)
		}
	}
}

// saveSlot writes one slot of an aggregator by saving a one-slot copy.
func saveSlot(w *enc, a aggregator, s int32) {
	// Every aggregator encodes slot i's fields in order with save(w, n);
	// writing slot s alone goes through a view that shifts the slices.
	switch x := a.(type) {
	case *countAgg:
		w.i64(x.n[s])
	case *distinctCountAgg:
		(&distinctCountAgg{sets: x.sets[s : s+1]}).save(w, 1)
	case *sumIntAgg:
		w.i64(x.sum[s])
		w.i64(x.n[s])
	case *sumFloatAgg:
		w.f64(x.sum[s])
		w.i64(x.n[s])
	case *momentAgg:
		w.i64(x.n[s])
		w.f64(x.mean[s])
		w.f64(x.m2[s])
	case *minMaxAgg:
		w.bool(x.set[s])
		w.val(x.vals[s])
	case *firstLastAgg:
		w.bool(x.set[s])
		w.val(x.vals[s])
	case *boolAgg:
		w.i64(int64(x.st[s]))
	}
}

func (n *staggerNode) load(r *dec) error {
	clear(n.slots)
	n.slotKey, n.keyVals, n.openAt, n.free, n.queue = nil, nil, nil, nil, nil
	for _, a := range n.aggs {
		a.reset()
	}
	q := r.count()
	for s := 0; s < q && r.err == nil; s++ {
		n.openAt = append(n.openAt, r.i64())
		kv := make([]value, len(n.keys))
		var key []byte
		for k := range kv {
			kv[k] = r.val()
			key = appendKey(key, kv[k], n.keyCols[k].Type)
		}
		n.keyVals = append(n.keyVals, kv)
		n.slotKey = append(n.slotKey, string(key))
		n.slots[string(key)] = int32(s)
		n.queue = append(n.queue, int32(s))
	}
	for _, a := range n.aggs {
		if err := a.load(r, q); err != nil {
			return err
		}
	}
	return r.err
}

func (ws *windowSet) saveState(w *enc) {
	for _, win := range ws.wins {
		keys := make([]string, 0, len(win.parts))
		for k := range win.parts {
			keys = append(keys, k)
		}
		sortStrings(keys)
		w.i64(win.lastSweep)
		w.uv(uint64(len(keys)))
		for _, k := range keys {
			p := win.parts[k]
			w.str(k)
			w.i64(p.lastRT)
			for c := range win.calls {
				w.f64(p.sum[c])
				w.i64(p.sumI[c])
				w.f64(p.sumSq[c])
				w.i64(p.cnt[c])
			}
			w.uv(uint64(p.size()))
			for i := p.head; i < len(p.rts); i++ {
				w.i64(p.rts[i])
				for c := range win.calls {
					w.val(p.vals[c][i])
				}
			}
		}
	}
}

func (ws *windowSet) loadState(r *dec) error {
	for _, win := range ws.wins {
		win.parts = map[string]*partition{}
		win.lastSweep = r.i64()
		np := r.count()
		for j := 0; j < np && r.err == nil; j++ {
			k := r.str()
			p := win.newPartition()
			p.lastRT = r.i64()
			for c := range win.calls {
				p.sum[c] = r.f64()
				p.sumI[c] = r.i64()
				p.sumSq[c] = r.f64()
				p.cnt[c] = r.i64()
			}
			nr := r.count()
			for i := 0; i < nr && r.err == nil; i++ {
				p.rts = append(p.rts, r.i64())
				for c := range win.calls {
					p.vals[c] = append(p.vals[c], r.val())
				}
			}
			win.parts[k] = p
		}
	}
	return r.err
}

func (n *projectNode) save(w *enc) {
	if n.win != nil {
		n.win.saveState(w)
	}
}

func (n *projectNode) load(r *dec) error {
	if n.win != nil {
		return n.win.loadState(r)
	}
	return r.err
}

func (n *orderNode) save(w *enc) {
	w.bool(n.has)
	w.i64(n.cur)
	saveRows(w, &n.bd.b, n.inCols, 0)
	for _, ks := range n.keyBuf {
		for _, v := range ks {
			w.val(v)
		}
	}
}

func (n *orderNode) load(r *dec) error {
	n.bd.reset()
	n.keyBuf = n.keyBuf[:0]
	n.has = r.bool()
	n.cur = r.i64()
	loadRows(r, n.bd)
	for i := 0; i < n.bd.b.Len && r.err == nil; i++ {
		ks := make([]value, len(n.keys))
		for k := range ks {
			ks[k] = r.val()
		}
		n.keyBuf = append(n.keyBuf, ks)
	}
	return r.err
}

func (n *streamJoinNode) save(w *enc) {
	for _, s := range n.sides {
		saveRows(w, &s.buf.b, s.cols, s.head)
	}
}

func (n *streamJoinNode) load(r *dec) error {
	for _, s := range n.sides {
		s.buf.reset()
		s.head = 0
		loadRows(r, s.buf)
	}
	return r.err
}

func (n *tumblingItemsNode) save(w *enc) {
	w.bool(n.open)
	w.i64(n.start)
	w.uv(uint64(len(n.items)))
	for i, v := range n.items {
		w.val(v)
		w.i64(n.freq[i])
	}
	w.bool(n.hll != nil)
	if n.hll != nil {
		w.str(string(n.hll.reg))
	}
}

func (n *tumblingItemsNode) load(r *dec) error {
	clear(n.counts)
	n.items, n.freq, n.hll = n.items[:0], n.freq[:0], nil
	n.open = r.bool()
	n.start = r.i64()
	ni := r.count()
	c := n.inCols[n.col]
	for i := 0; i < ni && r.err == nil; i++ {
		v := r.val()
		n.counts[string(appendKey(nil, v, c.Type))] = int32(len(n.items))
		n.items = append(n.items, v)
		n.freq = append(n.freq, r.i64())
	}
	if r.bool() {
		reg := r.str()
		if len(reg) != 1<<hllP {
			r.fail()
			return r.err
		}
		n.hll = &hll{reg: []byte(reg)}
	}
	return r.err
}

func (n *rcfNode) save(w *enc)       { n.forest.save(w) }
func (n *rcfNode) load(r *dec) error { return n.forest.load(r) }
