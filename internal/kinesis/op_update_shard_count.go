package kinesis

// UpdateShardCount scales a provisioned stream to TargetShardCount
// (UNIFORM_SCALING) by splits and merges, the way AWS's shard totals show it
// does: scaling up splits every open shard in two and then merges adjacent
// pairs down to the target; scaling down merges adjacent pairs, pass after
// pass, until the target is reached. The intermediate shards stay in the
// lineage (closed), as on AWS. Limits: at most double and at least half the
// open shard count, at most 10 scalings per rolling 24 hours, the account
// shard quota. Difference: the resulting ranges after a scale-up that is not
// a doubling are not all equal in size.

import (
	"sort"

	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/awsproto"
)

type updateShardCountInput struct {
	StreamName       *string `json:"StreamName"`
	StreamARN        *string `json:"StreamARN"`
	TargetShardCount *int64  `json:"TargetShardCount"`
	ScalingType      *string `json:"ScalingType"`
}

type updateShardCountOutput struct {
	StreamName        string `json:"StreamName"`
	StreamARN         string `json:"StreamARN"`
	CurrentShardCount int    `json:"CurrentShardCount"`
	TargetShardCount  int    `json:"TargetShardCount"`
}

func init() { register("UpdateShardCount", (*Service).updateShardCount) }

func (s *Service) updateShardCount(r *awsproto.Request) (any, error) {
	var in updateShardCountInput
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	var v awserr.Validation
	validateStreamRef(&v, in.StreamName, in.StreamARN)
	if in.TargetShardCount == nil {
		v.Add(nil, "targetShardCount", "Member must not be null")
	}
	checkRange(&v, in.TargetShardCount, "targetShardCount", 1, 1<<31-1)
	if in.ScalingType == nil {
		v.Add(nil, "scalingType", "Member must not be null")
	} else if *in.ScalingType != "UNIFORM_SCALING" {
		v.Add(*in.ScalingType, "scalingType", "Member must satisfy enum value set: [UNIFORM_SCALING]")
	}
	if err := requireStreamRef(&v, in.StreamName, in.StreamARN); err != nil {
		return nil, err
	}
	target := int(*in.TargetShardCount)
	s.mu.Lock()
	defer s.mu.Unlock()
	st, err := s.activeLocked(r, in.StreamName, in.StreamARN)
	if err != nil {
		return nil, err
	}
	if st.Mode == "ON_DEMAND" {
		return nil, awserr.InvalidArgument("UpdateShardCount is not supported for stream %s under account %s because it is in ON_DEMAND mode.", st.Name, st.Account)
	}
	cur := st.openShardCount()
	if target > 2*cur {
		return nil, awserr.InvalidArgument("UpdateShardCount cannot scale up over double your current open shard count. Current open shard count: %d Target shard count: %d", cur, target)
	}
	if 2*target < cur {
		return nil, awserr.InvalidArgument("UpdateShardCount cannot scale down below half your current open shard count. Current open shard count: %d Target shard count: %d", cur, target)
	}
	if target > 10000 {
		return nil, awserr.InvalidArgument("Target shard count %d exceeds 10000 shards per stream.", target)
	}
	if used := s.accountShardsLocked(st.Account, st.Region); used-cur+target > s.opt.ShardLimit {
		return nil, awserr.LimitExceeded("This request would exceed the shard limit for the account %s in %s. Current shard count for the account: %d. Limit: %d. Number of additional shards that would have resulted from this request: %d. Refer to the AWS Service Limits page (http://docs.aws.amazon.com/general/latest/gr/aws_service_limits.html) for current limits and how to request higher limits.",
			st.Account, st.Region, used, s.opt.ShardLimit, target-cur)
	}
	now := s.nowMs()
	recent := st.ScalingsMs[:0]
	for _, t := range st.ScalingsMs {
		if now-t < 24*3600_000 {
			recent = append(recent, t)
		}
	}
	st.ScalingsMs = recent
	if len(recent) >= 10 {
		return nil, awserr.LimitExceeded("Rate exceeded for UpdateShardCount for stream %s under account %s: at most 10 scaling operations per rolling 24 hours.", st.Name, st.Account)
	}
	out := updateShardCountOutput{StreamName: st.Name, StreamARN: st.arn(), CurrentShardCount: cur, TargetShardCount: target}
	if target == cur {
		return out, nil
	}
	var closed []*shard
	if target > cur {
		for _, sh := range st.routes {
			if err := s.splitLocked(st, sh, sh.rangeMid(), now); err != nil {
				return nil, err
			}
			closed = append(closed, sh)
		}
	}
	for st.openShardCount() > target {
		open := openSorted(st)
		for i := 0; i+1 < len(open) && st.openShardCount() > target; i += 2 {
			if err := s.mergeLocked(st, open[i], open[i+1], now); err != nil {
				return nil, err
			}
			closed = append(closed, open[i], open[i+1])
		}
	}
	st.ScalingsMs = append(st.ScalingsMs, now)
	s.transitionLocked(st, stateUpdating)
	if err := s.commitLocked(); err != nil {
		return nil, err
	}
	s.sealLocked(st, closed...)
	return out, nil
}

func openSorted(st *stream) []*shard {
	var open []*shard
	for _, sh := range st.Shards {
		if sh.id == "" {
			sh.derive()
		}
		if sh.open() {
			open = append(open, sh)
		}
	}
	sort.Slice(open, func(i, j int) bool { return open[i].start.Cmp(open[j].start) < 0 })
	return open
}
