package exec

import (
	"fmt"
	"math/rand"
	"sort"
	"testing"
)

// Differential tests: random inputs through the engine against a naive
// recomputation of each window from all rows.

type drow struct {
	rt int64
	k  string
	v  int64
}

func randomRows(seed int64, n int) []drow {
	r := rand.New(rand.NewSource(seed))
	var rows []drow
	rt := int64(1_000_000)
	for i := 0; i < n; i++ {
		rt += r.Int63n(1500)
		rows = append(rows, drow{rt, fmt.Sprintf("k%d", r.Intn(5)), r.Int63n(100) - 20})
	}
	return rows
}

func TestDifferentialTumbling(t *testing.T) {
	cols := []Column{{Name: "K", Type: TypeVarchar, Size: 4}, {Name: "V", Type: TypeBigint}}
	code := `CREATE STREAM d (k VARCHAR(4), n BIGINT, s BIGINT, lo BIGINT, hi BIGINT);
CREATE PUMP p AS INSERT INTO d SELECT STREAM k, COUNT(*), SUM(v), MIN(v), MAX(v) FROM "S"
  WHERE v <> 0 GROUP BY k, STEP("S".ROWTIME BY INTERVAL '10' SECOND);`
	for seed := int64(1); seed <= 5; seed++ {
		rows := randomRows(seed, 2000)
		p := mustCompile(t, code, Input{Name: "S", Columns: cols})
		c := newCapture(p)
		// Push in random-sized batches.
		r := rand.New(rand.NewSource(seed))
		for i := 0; i < len(rows); {
			n := 1 + r.Intn(50)
			bd := newBuilder(cols)
			for j := i; j < i+n && j < len(rows); j++ {
				bd.appendRow(rows[j].rt, []value{{s: rows[j].k}, {i: rows[j].v}})
			}
			_ = p.Push("S", &bd.b)
			i += n
		}
		p.Advance(rows[len(rows)-1].rt + 10_000)
		type agg struct{ n, s, lo, hi int64 }
		want := map[string]*agg{}
		for _, x := range rows {
			if x.v == 0 {
				continue
			}
			end := (x.rt/10_000 + 1) * 10_000
			key := fmt.Sprintf("%d %s", end, x.k)
			a := want[key]
			if a == nil {
				a = &agg{lo: x.v, hi: x.v}
				want[key] = a
			}
			a.n++
			a.s += x.v
			a.lo = min(a.lo, x.v)
			a.hi = max(a.hi, x.v)
		}
		got := c.rows["D"]
		if len(got) != len(want) {
			t.Fatalf("seed %d: %d rows, want %d", seed, len(got), len(want))
		}
		for i, row := range got {
			key := fmt.Sprintf("%d %s", c.rts["D"][i], row[0].s)
			a := want[key]
			if a == nil || a.n != row[1].i || a.s != row[2].i || a.lo != row[3].i || a.hi != row[4].i {
				t.Fatalf("seed %d: row %s = %v, want %+v", seed, key, row, a)
			}
		}
		if !sort.SliceIsSorted(c.rts["D"], func(a, b int) bool { return c.rts["D"][a] < c.rts["D"][b] }) {
			t.Fatalf("seed %d: output ROWTIME decreases", seed)
		}
	}
}

func TestDifferentialSliding(t *testing.T) {
	cols := []Column{{Name: "K", Type: TypeVarchar, Size: 4}, {Name: "V", Type: TypeBigint}}
	code := `CREATE STREAM d (k VARCHAR(4), n BIGINT, s BIGINT, lo BIGINT, r3 BIGINT);
CREATE PUMP p AS INSERT INTO d SELECT STREAM k, COUNT(*) OVER w, SUM(v) OVER w, MIN(v) OVER w, SUM(v) OVER (PARTITION BY k ROWS 3 PRECEDING) FROM "S"
  WINDOW w AS (PARTITION BY k RANGE INTERVAL '5' SECOND PRECEDING);`
	for seed := int64(1); seed <= 5; seed++ {
		rows := randomRows(seed, 1500)
		p := mustCompile(t, code, Input{Name: "S", Columns: cols})
		c := newCapture(p)
		for _, x := range rows {
			_ = p.Push("S", oneRow(cols, x.rt, value{s: x.k}, value{i: x.v}))
		}
		got := c.rows["D"]
		if len(got) != len(rows) {
			t.Fatalf("seed %d: %d rows, want %d", seed, len(got), len(rows))
		}
		for i, x := range rows {
			var n, s, r3 int64
			lo := int64(1 << 62)
			seen := 0
			for j := i; j >= 0; j-- {
				y := rows[j]
				if y.k != x.k {
					continue
				}
				if seen < 4 {
					r3 += y.v
					seen++
				}
				if y.rt >= x.rt-5000 {
					n++
					s += y.v
					lo = min(lo, y.v)
				}
			}
			row := got[i]
			if row[1].i != n || row[2].i != s || row[3].i != lo || row[4].i != r3 {
				t.Fatalf("seed %d row %d (%v): got %v, want n=%d s=%d lo=%d r3=%d", seed, i, x, row, n, s, lo, r3)
			}
		}
	}
}
