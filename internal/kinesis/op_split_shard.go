package kinesis

// SplitShard closes an open shard and creates two children covering
// [start, NewStartingHashKey-1] and [NewStartingHashKey, end], both with the
// parent as ParentShardId and the next unused shard indexes. The parent stays
// readable until retention; reading past its end yields ChildShards. The
// stream is UPDATING for Options.TransitionDelay. Provisioned streams only.

import (
	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/awsproto"
	"github.com/eddy-streams/eddy/internal/shardmap"
)

type splitShardInput struct {
	StreamName         *string `json:"StreamName"`
	StreamARN          *string `json:"StreamARN"`
	ShardToSplit       *string `json:"ShardToSplit"`
	NewStartingHashKey *string `json:"NewStartingHashKey"`
}

func init() { register("SplitShard", (*Service).splitShard) }

func (s *Service) splitShard(r *awsproto.Request) (any, error) {
	var in splitShardInput
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	var v awserr.Validation
	validateStreamRef(&v, in.StreamName, in.StreamARN)
	if in.ShardToSplit == nil {
		v.Add(nil, "shardToSplit", "Member must not be null")
	} else {
		checkName(&v, *in.ShardToSplit, "shardToSplit")
	}
	if in.NewStartingHashKey == nil {
		v.Add(nil, "newStartingHashKey", "Member must not be null")
	} else if !hashKeyPattern(*in.NewStartingHashKey) {
		v.Add(*in.NewStartingHashKey, "newStartingHashKey", "Member must satisfy regular expression pattern: 0|([1-9]\\d{0,38})")
	}
	if err := requireStreamRef(&v, in.StreamName, in.StreamARN); err != nil {
		return nil, err
	}
	k, err := shardmap.ParseHashKey(*in.NewStartingHashKey)
	if err != nil {
		return nil, awserr.InvalidArgument("NewStartingHashKey %s must be in the range: [0, 2^128-1].", *in.NewStartingHashKey)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st, err := s.activeLocked(r, in.StreamName, in.StreamARN)
	if err != nil {
		return nil, err
	}
	if st.Mode == "ON_DEMAND" {
		return nil, awserr.InvalidArgument("SplitShard is not supported for stream %s under account %s because it is in ON_DEMAND mode.", st.Name, st.Account)
	}
	ix, ok := parseShardID(*in.ShardToSplit)
	var sh *shard
	if ok {
		sh = st.shard(ix)
	}
	if sh == nil {
		return nil, awserr.ResourceNotFound("Could not find shard %s in stream %s under account %s.", *in.ShardToSplit, st.Name, st.Account)
	}
	if !sh.open() {
		return nil, notEligible(sh, st)
	}
	if k.Cmp(sh.start.Add(1)) <= 0 || k.Cmp(sh.end) >= 0 {
		return nil, awserr.InvalidArgument("NewStartingHashKey %s used in SplitShard() on shard %s in stream %s under account %s is not both greater than one plus the shard's StartingHashKey %s and less than the shard's EndingHashKey %s.",
			*in.NewStartingHashKey, sh.id, st.Name, st.Account, sh.Start, sh.End)
	}
	if s.accountShardsLocked(st.Account, st.Region)+1 > s.opt.ShardLimit {
		return nil, awserr.LimitExceeded("This request would exceed the shard limit for the account %s in %s. Limit: %d.", st.Account, st.Region, s.opt.ShardLimit)
	}
	if err := s.splitLocked(st, sh, k, s.nowMs()); err != nil {
		return nil, err
	}
	s.transitionLocked(st, stateUpdating)
	if err := s.commitLocked(); err != nil {
		return nil, err
	}
	s.sealLocked(st, sh)
	return nil, nil
}
