package dynamodb

import (
	"time"

	"github.com/cockroachdb/apd/v3"
)

// ttlSweepEvery is how often expired items are deleted (AWS: "within a few
// days"; Eddy sweeps every minute).
const ttlSweepEvery = time.Minute

// sweepLoop deletes expired items every ttlSweepEvery until Close.
func (s *Service) sweepLoop() {
	defer close(s.sweepDone)
	t := time.NewTicker(ttlSweepEvery)
	defer t.Stop()
	for {
		select {
		case <-s.sweepStop:
			return
		case <-t.C:
			if _, err := s.SweepTTL(s.now()); err != nil {
				s.log.Error("dynamodb ttl sweep failed", "err", err)
			}
		}
	}
}

// SweepTTL deletes, in every table with TTL enabled, the items whose TTL
// attribute is a number of epoch seconds before now (items without it, or
// with another type, stay), as DynamoDB's TTL process does. It returns how
// many items it deleted.
func (s *Service) SweepTTL(now time.Time) (int, error) {
	cut := apd.New(now.Unix(), 0)
	s.mu.Lock()
	var recs []logRec
	for k, t := range s.tables {
		if !t.meta.TTLEnabled || t.meta.TTLAttr == "" {
			continue
		}
		for _, it := range t.items {
			v := it[t.meta.TTLAttr]
			if v == nil || v.N == nil {
				continue
			}
			d, err := parseDec(*v.N)
			if err != nil || d.Cmp(cut) >= 0 {
				continue
			}
			recs = append(recs, logRec{Op: "del", Key: k, Item: t.keyItem(it)})
		}
	}
	c := &call{}
	var err error
	if len(recs) > 0 {
		err = s.commitLocked(c, recs...)
	}
	s.mu.Unlock()
	if err == nil && c.syncSeq > 0 {
		err = s.syncTo(c.syncSeq)
	}
	if err != nil {
		return 0, err
	}
	return len(recs), nil
}
