package consumer

import (
	"math/rand/v2"
	"sort"
	"time"
)

// seenCounter remembers when a lease's counter was last seen to change:
// a lease whose counter stood still for the failover time is expired
// (the Java KCL 2.x DynamoDBLeaseTaker's rule; clocks of different workers
// are never compared).
type seenCounter struct {
	counter int64
	owner   string
	since   time.Time
}

// takePlan is what one taker round decides.
type takePlan struct {
	take  []Lease // unowned or expired leases to take
	steal []Lease // a lease to steal from the most loaded worker
}

// planTakes is the KCL 2.x lease-taking algorithm, pure: seen is updated
// with the counters in leases; me is this worker's id.
//
//   - Finished leases (checkpoint SHARD_END) are neither counted nor taken.
//   - Workers = owners of unexpired leases, plus me.
//   - target = ceil(leases / workers), capped by maxLeases.
//   - If I hold fewer than target: take unowned leases and leases expired
//     (counter unchanged for failover); leases expired for more than three
//     failover periods first, then at random, up to target.
//   - If nothing could be taken: steal one lease from the most loaded worker
//     when it holds more than target, or exactly target while I need more
//     than one.
func planTakes(leases []Lease, seen map[string]*seenCounter, now time.Time, me string, failover time.Duration, maxLeases int, rnd *rand.Rand) takePlan {
	live := map[string]bool{}
	for _, l := range leases {
		live[l.Key] = true
		s, ok := seen[l.Key]
		if !ok || s.counter != l.Counter || s.owner != l.Owner {
			// first sight counts as a change: a worker that just started
			// waits one failover period before calling a lease expired
			seen[l.Key] = &seenCounter{counter: l.Counter, owner: l.Owner, since: now}
		}
	}
	for k := range seen {
		if !live[k] {
			delete(seen, k)
		}
	}
	var available, veryOld []Lease
	perOwner := map[string][]Lease{me: nil}
	total := 0
	for _, l := range leases {
		if l.Done() {
			continue
		}
		total++
		age := now.Sub(seen[l.Key].since)
		expired := l.Owner == "" || age > failover
		switch {
		case l.Owner == me && !expired:
			perOwner[me] = append(perOwner[me], l)
		case expired:
			if l.Owner != "" && age > 3*failover {
				veryOld = append(veryOld, l)
			} else {
				available = append(available, l)
			}
		default:
			perOwner[l.Owner] = append(perOwner[l.Owner], l)
		}
	}
	var plan takePlan
	if total == 0 {
		return plan
	}
	workers := len(perOwner)
	target := (total + workers - 1) / workers
	if maxLeases > 0 && target > maxLeases {
		target = maxLeases
	}
	mine := len(perOwner[me])
	need := target - mine
	if need <= 0 {
		return plan
	}
	rnd.Shuffle(len(available), func(i, j int) { available[i], available[j] = available[j], available[i] })
	// unowned before expired, as both are free; very old ones first of all
	sort.SliceStable(available, func(i, j int) bool { return available[i].Owner == "" && available[j].Owner != "" })
	cands := append(veryOld, available...)
	if len(cands) > 0 {
		plan.take = cands[:min(need, len(cands))]
		return plan
	}
	// steal from the most loaded worker
	most, mostN := "", 0
	for o, ls := range perOwner {
		if o != me && (len(ls) > mostN || (len(ls) == mostN && o < most)) {
			most, mostN = o, len(ls)
		}
	}
	if most != "" && (mostN > target || (mostN == target && need > 1)) {
		ls := perOwner[most]
		plan.steal = []Lease{ls[rnd.IntN(len(ls))]}
	}
	return plan
}
