package kinesis

// MergeShards closes two open, adjacent shards and creates one child over
// their joined range, with ParentShardId = ShardToMerge and
// AdjacentParentShardId = AdjacentShardToMerge. Provisioned streams only; the
// stream is UPDATING for Options.TransitionDelay.

import (
	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/awsproto"
)

type mergeShardsInput struct {
	StreamName           *string `json:"StreamName"`
	StreamARN            *string `json:"StreamARN"`
	ShardToMerge         *string `json:"ShardToMerge"`
	AdjacentShardToMerge *string `json:"AdjacentShardToMerge"`
}

func init() { register("MergeShards", (*Service).mergeShards) }

func (s *Service) mergeShards(r *awsproto.Request) (any, error) {
	var in mergeShardsInput
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	var v awserr.Validation
	validateStreamRef(&v, in.StreamName, in.StreamARN)
	for _, f := range []struct {
		val  *string
		path string
	}{{in.ShardToMerge, "shardToMerge"}, {in.AdjacentShardToMerge, "adjacentShardToMerge"}} {
		if f.val == nil {
			v.Add(nil, f.path, "Member must not be null")
		} else {
			checkName(&v, *f.val, f.path)
		}
	}
	if err := requireStreamRef(&v, in.StreamName, in.StreamARN); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st, err := s.activeLocked(r, in.StreamName, in.StreamARN)
	if err != nil {
		return nil, err
	}
	if st.Mode == "ON_DEMAND" {
		return nil, awserr.InvalidArgument("MergeShards is not supported for stream %s under account %s because it is in ON_DEMAND mode.", st.Name, st.Account)
	}
	var pair [2]*shard
	for i, id := range []string{*in.ShardToMerge, *in.AdjacentShardToMerge} {
		ix, ok := parseShardID(id)
		if ok {
			pair[i] = st.shard(ix)
		}
		if pair[i] == nil {
			return nil, awserr.ResourceNotFound("Could not find shard %s in stream %s under account %s.", id, st.Name, st.Account)
		}
	}
	for _, sh := range pair {
		if !sh.open() {
			return nil, notEligible(sh, st)
		}
	}
	if pair[0] == pair[1] || !adjacent(pair[0], pair[1]) {
		return nil, awserr.InvalidArgument("Shards %s and %s in stream %s under account %s are not an adjacent pair of shards eligible for merging", pair[1].id, pair[0].id, st.Name, st.Account)
	}
	if err := s.mergeLocked(st, pair[0], pair[1], s.nowMs()); err != nil {
		return nil, err
	}
	s.transitionLocked(st, stateUpdating)
	if err := s.commitLocked(); err != nil {
		return nil, err
	}
	s.sealLocked(st, pair[0], pair[1])
	return nil, nil
}
