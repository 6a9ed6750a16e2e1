package kinesis

// ListShards pages through a stream's shards in index order. MaxResults
// defaults to 1000; larger values are capped at 1000 per call. NextToken (300 s) cannot be combined with StreamName,
// ExclusiveStartShardId or StreamCreationTimestamp. ShardFilter:
// AFTER_SHARD_ID, AT_TRIM_HORIZON (shards open at the oldest retained
// moment), FROM_TRIM_HORIZON (default: every shard within retention),
// AT_LATEST (open shards), AT_TIMESTAMP (shards open at the time) and
// FROM_TIMESTAMP (those and their descendants).

import (
	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/awsproto"
)

type shardFilter struct {
	Type      *string             `json:"Type"`
	ShardId   *string             `json:"ShardId"`
	Timestamp *awsproto.Timestamp `json:"Timestamp"`
}

type listShardsInput struct {
	StreamName              *string             `json:"StreamName"`
	StreamARN               *string             `json:"StreamARN"`
	NextToken               *string             `json:"NextToken"`
	ExclusiveStartShardId   *string             `json:"ExclusiveStartShardId"`
	MaxResults              *int64              `json:"MaxResults"`
	StreamCreationTimestamp *awsproto.Timestamp `json:"StreamCreationTimestamp"`
	ShardFilter             *shardFilter        `json:"ShardFilter"`
}

type listShardsOutput struct {
	Shards    []shardShape `json:"Shards"`
	NextToken *string      `json:"NextToken,omitempty"`
}

func init() { register("ListShards", (*Service).listShards) }

func (s *Service) listShards(r *awsproto.Request) (any, error) {
	var in listShardsInput
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	var v awserr.Validation
	validateStreamRef(&v, in.StreamName, in.StreamARN)
	checkRange(&v, in.MaxResults, "maxResults", 1, 10000)
	if in.ExclusiveStartShardId != nil {
		checkLen(&v, *in.ExclusiveStartShardId, "exclusiveStartShardId", 1, 128)
	}
	if in.ShardFilter != nil {
		if in.ShardFilter.Type == nil {
			v.Add(nil, "shardFilter.type", "Member must not be null")
		} else {
			switch *in.ShardFilter.Type {
			case "AFTER_SHARD_ID", "AT_TRIM_HORIZON", "FROM_TRIM_HORIZON", "AT_LATEST", "AT_TIMESTAMP", "FROM_TIMESTAMP":
			default:
				v.Add(*in.ShardFilter.Type, "shardFilter.type", "Member must satisfy enum value set: [AT_TRIM_HORIZON, FROM_TRIM_HORIZON, AFTER_SHARD_ID, AT_TIMESTAMP, AT_LATEST, FROM_TIMESTAMP]")
			}
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	limit := 1000
	if in.MaxResults != nil && *in.MaxResults < 1000 {
		limit = int(*in.MaxResults)
	}
	after := int64(-1)
	name, arn := in.StreamName, in.StreamARN
	var tokenCreated int64
	if in.NextToken != nil {
		if in.StreamName != nil || in.ExclusiveStartShardId != nil || in.StreamCreationTimestamp != nil {
			return nil, awserr.InvalidArgument("NextToken and StreamName cannot be provided together.")
		}
		it, err := s.openToken(r, tokenListShards, *in.NextToken)
		if err != nil {
			return nil, err
		}
		n := it.StreamName
		name, arn = &n, nil
		after = int64(it.Pos)
		tokenCreated = it.StreamCreated
	} else if (name == nil || *name == "") && (arn == nil || *arn == "") {
		return nil, awserr.InvalidArgument("Either NextToken or StreamName or StreamARN should be provided.")
	}
	if in.ExclusiveStartShardId != nil {
		if ix, ok := parseShardID(*in.ExclusiveStartShardId); ok {
			after = int64(ix)
		}
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	st, err := s.lookupLocked(r, name, arn)
	if err != nil {
		return nil, err
	}
	if tokenCreated != 0 && tokenCreated != st.CreatedMs {
		return nil, awserr.InvalidArgument("Invalid NextToken.")
	}
	keep, err := s.shardFilterLocked(st, in.ShardFilter, &after)
	if err != nil {
		return nil, err
	}
	out := listShardsOutput{Shards: []shardShape{}}
	for _, sh := range st.Shards {
		if int64(sh.Index) <= after || !keep(sh) {
			continue
		}
		if len(out.Shards) == limit {
			tok := s.makeToken(r, tokenListShards, st.Name, st.CreatedMs, uint64(out.lastIndex()))
			out.NextToken = &tok
			break
		}
		out.Shards = append(out.Shards, sh.shape())
	}
	return out, nil
}

func (o *listShardsOutput) lastIndex() uint32 {
	ix, _ := parseShardID(o.Shards[len(o.Shards)-1].ShardId)
	return ix
}

// shardFilterLocked returns the predicate of a ShardFilter.
func (s *Service) shardFilterLocked(st *stream, f *shardFilter, after *int64) (func(*shard) bool, error) {
	all := func(*shard) bool { return true }
	if f == nil || f.Type == nil {
		return all, nil
	}
	retentionStart := s.nowMs() - int64(st.RetentionHours)*3600_000
	switch *f.Type {
	case "FROM_TRIM_HORIZON":
		return all, nil
	case "AFTER_SHARD_ID":
		if f.ShardId == nil {
			return nil, awserr.InvalidArgument("ShardId must be specified when ShardFilter type is AFTER_SHARD_ID.")
		}
		if ix, ok := parseShardID(*f.ShardId); ok && int64(ix) > *after {
			*after = int64(ix)
		}
		return all, nil
	case "AT_LATEST":
		return (*shard).open, nil
	case "AT_TRIM_HORIZON":
		return openAt(retentionStart), nil
	case "AT_TIMESTAMP", "FROM_TIMESTAMP":
		if f.Timestamp == nil {
			return nil, awserr.InvalidArgument("Timestamp must be specified when ShardFilter type is %s.", *f.Type)
		}
		t := f.Timestamp.UnixMilli()
		if t < retentionStart {
			t = retentionStart
		}
		if *f.Type == "AT_TIMESTAMP" {
			return openAt(t), nil
		}
		return func(sh *shard) bool { return sh.open() || sh.ClosedMs > t }, nil
	}
	return all, nil
}

// openAt keeps shards open at time t; a shard created after t is kept when it
// has no parent left (the stream began after t).
func openAt(t int64) func(*shard) bool {
	return func(sh *shard) bool {
		created := sh.CreatedMs <= t || sh.Parent == ""
		return created && (sh.open() || sh.ClosedMs > t)
	}
}
