package consumer

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

func leasesOwned(owners ...string) []Lease {
	var out []Lease
	for i, o := range owners {
		out = append(out, Lease{Key: fmt.Sprintf("shardId-%012d", i), Owner: o, Counter: 1, Checkpoint: TrimHorizon})
	}
	return out
}

func keys(ls []Lease) map[string]bool {
	m := map[string]bool{}
	for _, l := range ls {
		m[l.Key] = true
	}
	return m
}

func TestPlanTakes(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 1))
	t0 := time.Unix(1000, 0)
	const fo = 10 * time.Second

	// alone with 8 unowned leases: take all
	seen := map[string]*seenCounter{}
	p := planTakes(leasesOwned("", "", "", "", "", "", "", ""), seen, t0, "me", fo, 0, rnd)
	if len(p.take) != 8 || len(p.steal) != 0 {
		t.Fatalf("alone: %+v", p)
	}

	// another worker holds 8 fresh leases: target 4, nothing free → steal one
	ls := leasesOwned("b", "b", "b", "b", "b", "b", "b", "b")
	seen = map[string]*seenCounter{}
	p = planTakes(ls, seen, t0, "me", fo, 0, rnd)
	if len(p.take) != 0 || len(p.steal) != 1 || p.steal[0].Owner != "b" {
		t.Fatalf("steal: %+v", p)
	}

	// the same leases with unchanged counters for longer than failover: expired, take target 8 (b is gone)
	p = planTakes(ls, seen, t0.Add(fo+time.Second), "me", fo, 0, rnd)
	if len(p.take) != 8 {
		t.Fatalf("expired: %+v", p)
	}
	// ...but not when b renewed in between
	for i := range ls {
		ls[i].Counter++
	}
	p = planTakes(ls, seen, t0.Add(fo+2*time.Second), "me", fo, 0, rnd)
	if len(p.take) != 0 || len(p.steal) != 1 {
		t.Fatalf("renewed: %+v", p)
	}

	// balanced: 3 workers, 8 leases 3/3/2 and me with 2: target 3, nothing free, b has exactly 3 and I need 1: no steal
	ls = leasesOwned("b", "b", "b", "c", "c", "c", "me", "me")
	seen = map[string]*seenCounter{}
	p = planTakes(ls, seen, t0, "me", fo, 0, rnd)
	if len(p.take)+len(p.steal) != 0 {
		t.Fatalf("balanced: %+v", p)
	}

	// finished leases count for nothing
	ls = leasesOwned("", "", "b", "b")
	ls[0].Checkpoint, ls[1].Checkpoint = ShardEnd, ShardEnd
	seen = map[string]*seenCounter{}
	p = planTakes(ls, seen, t0, "me", fo, 0, rnd)
	// target 1 of 2 live leases; b holds 2 > target → steal one of b's, never a finished one
	if len(p.take) != 0 || len(p.steal) != 1 || p.steal[0].Done() {
		t.Fatalf("finished leases: %+v", p)
	}

	// very old expired leases come first; unowned before merely expired
	ls = leasesOwned("x", "y", "", "z")
	seen = map[string]*seenCounter{}
	planTakes(ls, seen, t0, "me", fo, 0, rnd)
	seen[ls[0].Key].since = t0.Add(-4 * fo) // x's lease: very old
	p = planTakes(ls, seen, t0.Add(fo+time.Second), "me", fo, 1, rnd)
	if len(p.take) != 1 || p.take[0].Key != ls[0].Key {
		t.Fatalf("very old first: %+v", p)
	}

	// MaxLeasesForWorker caps the target
	seen = map[string]*seenCounter{}
	p = planTakes(leasesOwned("", "", "", "", ""), seen, t0, "me", fo, 2, rnd)
	if len(p.take) != 2 {
		t.Fatalf("cap: %+v", p)
	}
}

// TestPlanTakesFinishedLeasesSteal: with 2 live leases held by b and one
// finished, b holds 2 > target 1 → steal one.
func TestPlanTakesFinishedLeasesSteal(t *testing.T) {
	ls := leasesOwned("b", "b", "b")
	ls[2].Checkpoint = ShardEnd
	p := planTakes(ls, map[string]*seenCounter{}, time.Unix(0, 0), "me", time.Second, 0, rand.New(rand.NewPCG(2, 2)))
	if len(p.steal) != 1 || keys(p.steal)[ls[2].Key] {
		t.Fatalf("%+v", p)
	}
}
