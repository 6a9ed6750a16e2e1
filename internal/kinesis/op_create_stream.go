package kinesis

// CreateStream creates a stream of ShardCount shards (PROVISIONED), or of 4
// shards when no ShardCount is given or the mode is ON_DEMAND, with hash
// ranges split evenly as AWS splits them. The stream is CREATING for
// Options.TransitionDelay (default 0: ACTIVE at once). Tags, MaxRecordSizeInKiB
// and WarmThroughputMiBps are stored.
// Differences: on-demand streams do not scale their shard count.

import (
	"context"

	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/awsproto"
	"github.com/eddy-streams/eddy/internal/shardmap"
	"github.com/eddy-streams/eddy/internal/storage"
)

type streamModeDetails struct {
	StreamMode *string `json:"StreamMode"`
}

type createStreamInput struct {
	StreamName          *string            `json:"StreamName"`
	ShardCount          *int64             `json:"ShardCount"`
	StreamModeDetails   *streamModeDetails `json:"StreamModeDetails"`
	Tags                map[string]string  `json:"Tags"`
	WarmThroughputMiBps *int64             `json:"WarmThroughputMiBps"`
	MaxRecordSizeInKiB  *int64             `json:"MaxRecordSizeInKiB"`
}

func init() { register("CreateStream", (*Service).createStream) }

func checkMode(v *awserr.Validation, m *streamModeDetails, path string) string {
	if m == nil {
		return ""
	}
	if m.StreamMode == nil {
		v.Add(nil, path+".streamMode", "Member must not be null")
		return ""
	}
	if *m.StreamMode != "PROVISIONED" && *m.StreamMode != "ON_DEMAND" {
		v.Add(*m.StreamMode, path+".streamMode", "Member must satisfy enum value set: [PROVISIONED, ON_DEMAND]")
	}
	return *m.StreamMode
}

func (s *Service) createStream(r *awsproto.Request) (any, error) {
	var in createStreamInput
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	var v awserr.Validation
	if in.StreamName == nil {
		v.Add(nil, "streamName", "Member must not be null")
	} else {
		checkName(&v, *in.StreamName, "streamName")
	}
	checkRange(&v, in.ShardCount, "shardCount", 1, 1<<31-1)
	mode := checkMode(&v, in.StreamModeDetails, "streamModeDetails")
	checkRange(&v, in.MaxRecordSizeInKiB, "maxRecordSizeInKiB", 1024, 10240)
	checkRange(&v, in.WarmThroughputMiBps, "warmThroughputMiBps", 0, 10240)
	if in.Tags != nil {
		checkTagMap(&v, in.Tags, true, "tags", maxTags)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if err := checkTagText(tagTexts(in.Tags), "create stream", *in.StreamName); err != nil {
		return nil, err
	}
	if mode == "" {
		mode = "PROVISIONED"
	}
	n := int64(4)
	if in.ShardCount != nil {
		if mode == "ON_DEMAND" {
			return nil, awserr.InvalidArgument("ShardCount cannot be specified for a stream in ON_DEMAND mode.")
		}
		n = *in.ShardCount
	}
	maxKiB := 1024
	if in.MaxRecordSizeInKiB != nil {
		maxKiB = int(*in.MaxRecordSizeInKiB)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	key := nsKey{r.Account, r.Region, *in.StreamName}
	if s.streams[key] != nil {
		return nil, awserr.ResourceInUse("Stream %s under account %s already exists.", *in.StreamName, r.Account)
	}
	if used := s.accountShardsLocked(r.Account, r.Region); int64(used)+n > int64(s.opt.ShardLimit) {
		return nil, awserr.LimitExceeded("This request would exceed the shard limit for the account %s in %s. Current shard count for the account: %d. Limit: %d. Number of additional shards that would have resulted from this request: %d. Refer to the AWS Service Limits page (http://docs.aws.amazon.com/general/latest/gr/aws_service_limits.html) for current limits and how to request higher limits.",
			r.Account, r.Region, used, s.opt.ShardLimit, n)
	}
	if mode == "ON_DEMAND" && s.onDemandCountLocked(r.Account, r.Region) >= s.opt.OnDemandStreamLimit {
		return nil, awserr.LimitExceeded("This request would exceed the on-demand stream limit for the account %s in %s. Limit: %d.", r.Account, r.Region, s.opt.OnDemandStreamLimit)
	}
	now := s.nowMs()
	st := &stream{
		ID: s.newID(), Name: *in.StreamName, Account: r.Account, Region: r.Region,
		CreatedMs: now, Mode: mode, RetentionHours: 24, Encryption: "NONE",
		MaxRecordKiB: maxKiB, Tags: copyTags(in.Tags),
	}
	if in.WarmThroughputMiBps != nil {
		st.WarmMiBps = int(*in.WarmThroughputMiBps)
	}
	ctx := context.Background()
	for i, rg := range shardmap.EvenRanges(int(n)) {
		sh := &shard{Index: uint32(i), Start: rg.Start.String(), End: rg.End.String(), CreatedMs: now}
		sh.derive()
		if err := s.backend.CreateShard(ctx, storage.ShardID{Stream: st.ID, Index: sh.Index}, now); err != nil {
			s.log.Error("create shard", "stream", st.Name, "shard", sh.id, "err", err)
			for _, made := range st.Shards {
				_ = s.backend.DeleteShard(ctx, storage.ShardID{Stream: st.ID, Index: made.Index})
			}
			return nil, awserr.Internal()
		}
		st.Shards = append(st.Shards, sh)
	}
	st.NextShardIx = uint32(n)
	st.reroute()
	s.streams[key] = st
	s.transitionLocked(st, stateCreating)
	if err := s.commitLocked(); err != nil {
		if err == errRetry {
			// Cluster mode, another node's change won the save: nothing
			// of this attempt was saved, and the run again picks a new
			// stream id, so this attempt's shard logs would be orphans.
			for _, sh := range st.Shards {
				_ = s.backend.DeleteShard(ctx, storage.ShardID{Stream: st.ID, Index: sh.Index})
			}
		}
		return nil, err
	}
	return nil, nil
}

func (s *Service) accountShardsLocked(account, region string) int {
	n := 0
	for k, st := range s.streams {
		if k.account == account && k.region == region {
			n += st.openShardCount()
		}
	}
	return n
}

func (s *Service) onDemandCountLocked(account, region string) int {
	n := 0
	for k, st := range s.streams {
		if k.account == account && k.region == region && st.Mode == "ON_DEMAND" {
			n++
		}
	}
	return n
}

func copyTags(t map[string]string) map[string]string {
	if len(t) == 0 {
		return nil
	}
	out := make(map[string]string, len(t))
	for k, v := range t {
		out[k] = v
	}
	return out
}
