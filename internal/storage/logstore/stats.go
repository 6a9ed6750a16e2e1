package logstore

// Stats is a snapshot of the store for metrics (eddy_storage_* in
// /metrics) and operators.
type Stats struct {
	Shards         int
	Segments       int
	Bytes          int64  // segment bytes on disk (valid frames + headers)
	Records        uint64 // readable records (trim horizon to tip), summed over shards
	Syncs          int64  // fdatasync calls on segments since Open
	Poisoned       int    // shards refusing writes after an I/O error
	Corrupt        int    // shards with a bad frame or gap found by recovery
	TailCacheBytes int64  // memory held by tail caches
}

// Stats returns current counters. It takes each shard's lock briefly.
func (st *Store) Stats() Stats {
	st.mu.RLock()
	shards := make([]*shard, 0, len(st.shards))
	for _, sh := range st.shards {
		shards = append(shards, sh)
	}
	st.mu.RUnlock()
	s := Stats{Shards: len(shards), Syncs: st.syncs.Load(), TailCacheBytes: st.cacheUsed.Load()}
	for _, sh := range shards {
		sh.mu.Lock()
		s.Segments += len(sh.segs)
		for _, seg := range sh.segs {
			s.Bytes += seg.size
		}
		vis, _ := sh.visibleLocked()
		s.Records += vis - sh.trim
		if sh.werr != nil {
			s.Poisoned++
		}
		if sh.corrupt != nil {
			s.Corrupt++
		}
		sh.mu.Unlock()
	}
	return s
}
