package kinesis

import (
	"context"
	"errors"

	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/shardmap"
	"github.com/eddy-streams/eddy/internal/storage"
)

// Resharding runs entirely under s.mu (write): children are created in
// storage, the metadata change is committed, then the parent log is sealed
// and the routing table rebuilt. Appenders that raced into a parent get
// storage.ErrShardSealed and route again once the lock is released, so no
// record is written to a closed shard after the change is visible. On load,
// closed shards are sealed again (idempotent) in case a crash fell between
// the commit and the seal.

// addShardLocked creates a child shard in storage and in the stream.
func (s *Service) addShardLocked(st *stream, rg shardmap.Range, parent, adjacent string, now int64) (*shard, error) {
	sh := &shard{Index: st.NextShardIx, Start: rg.Start.String(), End: rg.End.String(), Parent: parent, AdjacentParent: adjacent, CreatedMs: now}
	sh.derive()
	err := s.backend.CreateShard(context.Background(), storage.ShardID{Stream: st.ID, Index: sh.Index}, now)
	if err != nil && !errors.Is(err, storage.ErrExists) {
		s.log.Error("create child shard", "stream", st.Name, "shard", sh.id, "err", err)
		return nil, awserr.Internal()
	}
	st.NextShardIx++
	st.Shards = append(st.Shards, sh)
	return sh, nil
}

// sealLocked seals closed shards' logs and reroutes.
func (s *Service) sealLocked(st *stream, closed ...*shard) {
	for _, sh := range closed {
		if err := s.backend.SealShard(context.Background(), storage.ShardID{Stream: st.ID, Index: sh.Index}); err != nil && !errors.Is(err, storage.ErrNotFound) {
			s.log.Error("seal shard", "stream", st.Name, "shard", sh.id, "err", err)
		}
	}
	st.reroute()
}

// splitLocked splits sh at key k: children [start, k-1] and [k, end].
func (s *Service) splitLocked(st *stream, sh *shard, k shardmap.HashKey, now int64) error {
	if _, err := s.addShardLocked(st, shardmap.Range{Start: sh.start, End: k.Sub(1)}, sh.id, "", now); err != nil {
		return err
	}
	if _, err := s.addShardLocked(st, shardmap.Range{Start: k, End: sh.end}, sh.id, "", now); err != nil {
		return err
	}
	sh.ClosedMs = now
	return nil
}

// mergeLocked merges a and b (adjacent, a first in key order unless swapped).
func (s *Service) mergeLocked(st *stream, parent, adjacent *shard, now int64) error {
	lo, hi := parent, adjacent
	if lo.start.Cmp(hi.start) > 0 {
		lo, hi = hi, lo
	}
	if _, err := s.addShardLocked(st, shardmap.Range{Start: lo.start, End: hi.end}, parent.id, adjacent.id, now); err != nil {
		return err
	}
	parent.ClosedMs = now
	adjacent.ClosedMs = now
	return nil
}

func adjacent(a, b *shard) bool {
	return a.end.Add(1) == b.start || b.end.Add(1) == a.start
}

func notEligible(sh *shard, st *stream) error {
	return awserr.InvalidArgument("Shard %s in stream %s under account %s has already been merged or split, and thus is not eligible for merging or splitting.", sh.id, st.Name, st.Account)
}
