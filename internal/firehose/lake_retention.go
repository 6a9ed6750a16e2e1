package firehose

// The 24-hour rule in the partitioned loop (lake.go). AWS keeps records it
// cannot deliver to S3 for 24 hours and then loses them (RetryOptions,
// under dynamic partitioning, sends a partition that keeps failing to the
// error output sooner). As the plain loop does (deliver.go, dropExpired),
// every pass drops the buffered records whose arrival is more than
// `retention` before now: from the partitions that could not be delivered
// and from the records waiting for the error output. They are counted in
// eddy_firehose_expired_records_total and logged; the checkpoint then moves
// past them, so a restart does not bring them back.

import (
	"time"
)

// lakeExpire drops the records older than the retention and reports how many.
func (s *Service) lakeExpire(ls *lakeState, st *stream, now time.Time) int {
	cutoff := now.Add(-retention).UnixMilli()
	n := 0
	for prefix, pt := range ls.parts {
		if pt.oldest >= cutoff {
			continue
		}
		// Rebuild the partition from the records kept, with the accounting
		// lakePlace does (the keys map is shared afresh).
		old := pt.recs
		ls.bytes -= pt.bytes
		pt.recs, pt.keys = recList{}, nil
		pt.bytes, pt.oldest, pt.minPos = 0, 0, 0
		for _, r := range old.all() {
			if r.arrival < cutoff {
				n++
				continue
			}
			if pt.recs.len() == 0 || r.pos < pt.minPos {
				pt.minPos = r.pos
			}
			if pt.recs.len() == 0 || r.arrival < pt.oldest {
				pt.oldest = r.arrival
			}
			rec := *r
			pt.bytes += len(rec.data) + pt.share(&rec)
			pt.recs.add(rec)
		}
		ls.bytes += pt.bytes
		if pt.recs.len() == 0 {
			delete(ls.parts, prefix)
		}
	}
	keptFailed := ls.failed[:0]
	for _, f := range ls.failed {
		if f.rec.arrival < cutoff {
			n++
			continue
		}
		keptFailed = append(keptFailed, f)
	}
	clear(ls.failed[len(keptFailed):])
	ls.failed = keptFailed
	if len(ls.failed) == 0 {
		ls.failed = nil
	}
	if n > 0 {
		st.m.expiredRecords.Add(int64(n))
		s.log.Warn("dropped records undelivered for 24 hours", "stream", st.meta.Name, "records", n)
		ls.dirty = true
	}
	return n
}
