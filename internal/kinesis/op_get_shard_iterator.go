package kinesis

// GetShardIterator returns a sealed iterator for a shard: TRIM_HORIZON,
// LATEST (pinned at the tip when issued, not re-evaluated), AT_ and
// AFTER_SEQUENCE_NUMBER (the number must name this shard of this stream
// incarnation), AT_TIMESTAMP (first record that arrived at or after the time;
// a time before the trim horizon reads from the trim horizon; a future time is
// refused). Closed shards give iterators too; reading one ends with ChildShards.
// Iterators bind account, region and stream creation time and expire after 5
// minutes.

import (
	"time"

	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/awsproto"
	"github.com/eddy-streams/eddy/internal/shardmap"
	"github.com/eddy-streams/eddy/internal/storage"
)

type getShardIteratorInput struct {
	StreamName             *string             `json:"StreamName"`
	StreamARN              *string             `json:"StreamARN"`
	ShardId                *string             `json:"ShardId"`
	ShardIteratorType      *string             `json:"ShardIteratorType"`
	StartingSequenceNumber *string             `json:"StartingSequenceNumber"`
	Timestamp              *awsproto.Timestamp `json:"Timestamp"`
}

type getShardIteratorOutput struct {
	ShardIterator string `json:"ShardIterator"`
}

func init() { register("GetShardIterator", (*Service).getShardIterator) }

func (s *Service) getShardIterator(r *awsproto.Request) (any, error) {
	var in getShardIteratorInput
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	var v awserr.Validation
	validateStreamRef(&v, in.StreamName, in.StreamARN)
	if in.ShardId == nil {
		v.Add(nil, "shardId", "Member must not be null")
	} else {
		checkName(&v, *in.ShardId, "shardId")
	}
	if in.ShardIteratorType == nil {
		v.Add(nil, "shardIteratorType", "Member must not be null")
	} else {
		switch *in.ShardIteratorType {
		case "AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER", "TRIM_HORIZON", "LATEST", "AT_TIMESTAMP":
		default:
			v.Add(*in.ShardIteratorType, "shardIteratorType", "Member must satisfy enum value set: [AFTER_SEQUENCE_NUMBER, AT_SEQUENCE_NUMBER, AT_TIMESTAMP, TRIM_HORIZON, LATEST]")
		}
	}
	if in.StartingSequenceNumber != nil && !seqPattern(*in.StartingSequenceNumber) {
		v.Add(*in.StartingSequenceNumber, "startingSequenceNumber", "Member must satisfy regular expression pattern: 0|([1-9]\\d{0,128})")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if (in.StreamName == nil || *in.StreamName == "") && (in.StreamARN == nil || *in.StreamARN == "") {
		return nil, awserr.InvalidArgument("Either StreamName or StreamARN should be provided.")
	}
	// the shard id is read before the stream is looked up (AWS-recorded:
	// an unreadable id names the shard even when the stream is unknown)
	ix, ok := parseShardID(*in.ShardId)
	if !ok {
		name, account := refNames(r, in.StreamName, in.StreamARN)
		return nil, awserr.ResourceNotFound("Could not find shard %s in stream %s under account %s.", *in.ShardId, name, account)
	}

	st, _, err := s.dataStream(r, in.StreamName, in.StreamARN)
	if err != nil {
		return nil, err
	}
	s.mu.RLock()
	sh := st.shard(ix)
	s.mu.RUnlock()
	if sh == nil {
		return nil, awserr.ResourceNotFound("Shard %s in stream %s under account %s does not exist", shardID(ix), st.Name, st.Account)
	}
	// the iterator type's own arguments are checked once the shard is
	// known (kinesalite's AWS-validated order)
	typ := *in.ShardIteratorType
	seqType := typ == "AT_SEQUENCE_NUMBER" || typ == "AFTER_SEQUENCE_NUMBER"
	if seqType != (in.StartingSequenceNumber != nil) {
		also := "no"
		if in.StartingSequenceNumber != nil {
			also = "also"
		}
		return nil, awserr.InvalidArgument("Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and StartingSequenceNumber or (2) TRIM_HORIZON or LATEST and no StartingSequenceNumber. Request specified %s and %s StartingSequenceNumber.", typ, also)
	}
	nowMs := s.nowMs()
	if typ == "AT_TIMESTAMP" {
		if in.Timestamp == nil {
			return nil, awserr.InvalidArgument("Must specify timestampInMillis parameter for iterator of type AT_TIMESTAMP. Current request has no timestamp parameter.")
		}
		if t := in.Timestamp.UnixMilli(); t > nowMs {
			return nil, awserr.InvalidArgument("The timestampInMillis parameter cannot be greater than the currentTimestampInMillis. timestampInMillis: %d, currentTimestampInMillis: %d", t, nowMs)
		}
	}
	id := storage.ShardID{Stream: st.ID, Index: sh.Index}
	var pos uint64
	switch typ {
	case "TRIM_HORIZON":
		pos = 0 // reads clamp up to the trim horizon
	case "LATEST":
		b, err := s.backend.Bounds(r.Ctx, id)
		if err != nil {
			return nil, s.storageErr("GetShardIterator", err)
		}
		pos = b.Next
	case "AT_TIMESTAMP":
		pos, err = s.backend.PosAtTime(r.Ctx, id, in.Timestamp.UnixMilli())
		if err != nil {
			return nil, s.storageErr("GetShardIterator", err)
		}
	default:
		f, err := shardmap.DecodeSeq(*in.StartingSequenceNumber)
		if err != nil {
			return nil, awserr.InvalidArgument("StartingSequenceNumber %s used in GetShardIterator on shard %s in stream %s under account %s is invalid.", *in.StartingSequenceNumber, sh.id, st.Name, st.Account)
		}
		if f.ShardIndex != sh.Index {
			return nil, awserr.InvalidArgument("Invalid StartingSequenceNumber. It encodes %s, while it was used in a call to a shard with %s", shardID(f.ShardIndex), sh.id)
		}
		if f.ShardCreateSecs != uint64(sh.CreatedMs/1000) {
			return nil, awserr.InvalidArgument("StartingSequenceNumber %s used in GetShardIterator on shard %s in stream %s under account %s is invalid because it did not come from this stream.", *in.StartingSequenceNumber, sh.id, st.Name, st.Account)
		}
		pos = seqPosition(f, typ == "AFTER_SEQUENCE_NUMBER")
	}
	it := s.iters.Encode(shardmap.Iterator{Account: st.Account, Region: st.Region, StreamName: st.Name, StreamCreated: st.CreatedMs, ShardIndex: sh.Index, Pos: pos, IssuedMs: nowMs})
	return getShardIteratorOutput{ShardIterator: it}, nil
}

// refNames is the stream name and account a StreamName/StreamARN pair
// refers to, for messages written before the stream is looked up.
func refNames(r *awsproto.Request, name, arn *string) (string, string) {
	if arn != nil && *arn != "" {
		if p, ok := parseARN(*arn); ok {
			return p.stream, p.account
		}
	}
	if name != nil {
		return *name, r.Account
	}
	return "", r.Account
}

// amzTime formats a time the way Kinesis messages print it.
func amzTime(ms int64) string {
	return time.UnixMilli(ms).UTC().Format("Mon Jan 02 15:04:05 UTC 2006")
}
