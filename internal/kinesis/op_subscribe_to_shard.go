package kinesis

// SubscribeToShard (enhanced fan-out) pushes a shard's records to a
// registered consumer over one long HTTP response in the AWS event-stream
// framing (h1 chunked, h2c or h2; the gateway hands this operation to
// Service.Stream).
//
// Before anything is written the request is checked, and failures are plain
// HTTP 400 errors as AWS answers them: the ConsumerARN must name a
// registered consumer (ResourceNotFoundException) in ACTIVE state
// (ResourceInUseException), the shard must exist, the starting position must
// be valid (the GetShardIterator rules: AT_/AFTER_SEQUENCE_NUMBER with a
// number of this shard, TRIM_HORIZON, LATEST, AT_TIMESTAMP not in the
// future), and no other subscription of the same consumer to the same shard
// may be younger than 5 seconds (ResourceInUseException); an older one is
// taken over and ends with a ResourceInUseException exception event.
//
// Then: 200 with Content-Type application/vnd.amazon.eventstream, an
// `initial-response` event (the Go SDK waits for it), and
// SubscribeToShardEvent events in the request's codec (JSON or CBOR) as
// records become durable (see fanout.go). The response ends cleanly after
// the subscription lifetime (5 minutes), after the final event of a closed
// shard (no ContinuationSequenceNumber, ChildShards with their parents), when
// the client goes away, on server shutdown, and with an exception event when
// the consumer is deregistered or the stream deleted.
//
// Differences from AWS: a heartbeat ContinuationSequenceNumber before any
// record of an empty shard is a number of position 0 with arrival time 0
// (AFTER_SEQUENCE_NUMBER of it starts at the shard's first record); the one
// call per second per consumer-shard quota is not enforced.

import (
	"net/http"
	"time"

	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/awsproto"
	"github.com/eddy-streams/eddy/internal/shardmap"
	"github.com/eddy-streams/eddy/internal/storage"
)

type startingPosition struct {
	Type           *string             `json:"Type"`
	SequenceNumber *string             `json:"SequenceNumber"`
	Timestamp      *awsproto.Timestamp `json:"Timestamp"`
}

type subscribeToShardInput struct {
	ConsumerARN      *string           `json:"ConsumerARN"`
	ShardId          *string           `json:"ShardId"`
	StartingPosition *startingPosition `json:"StartingPosition"`
}

// Streams implements the gateway's Streamer: SubscribeToShard takes over the
// response.
func (s *Service) Streams(op string) bool { return op == "SubscribeToShard" }

// Stream runs a streaming operation. An error returned means nothing was
// written; the gateway then answers it as a normal error.
func (s *Service) Stream(r *awsproto.Request, w http.ResponseWriter) error {
	if r.Operation != "SubscribeToShard" {
		return awserr.UnknownOperation()
	}
	sub, err := s.prepareSubscription(r)
	if err != nil {
		return err
	}
	s.fanout().serve(r, w, sub)
	return nil
}

// prepareSubscription validates the request, resolves its start position
// and registers the subscription.
func (s *Service) prepareSubscription(r *awsproto.Request) (*subscription, error) {
	var in subscribeToShardInput
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	var v awserr.Validation
	if in.ConsumerARN == nil {
		v.Add(nil, "consumerARN", "Member must not be null")
	} else {
		checkLen(&v, *in.ConsumerARN, "consumerARN", 1, 2048)
	}
	if in.ShardId == nil {
		v.Add(nil, "shardId", "Member must not be null")
	} else {
		checkName(&v, *in.ShardId, "shardId")
	}
	var typ string
	if in.StartingPosition == nil {
		v.Add(nil, "startingPosition", "Member must not be null")
	} else if in.StartingPosition.Type == nil {
		v.Add(nil, "startingPosition.type", "Member must not be null")
	} else {
		typ = *in.StartingPosition.Type
		switch typ {
		case "AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER", "TRIM_HORIZON", "LATEST", "AT_TIMESTAMP":
		default:
			v.Add(typ, "startingPosition.type", "Member must satisfy enum value set: [AFTER_SEQUENCE_NUMBER, AT_SEQUENCE_NUMBER, AT_TIMESTAMP, TRIM_HORIZON, LATEST]")
		}
		if sn := in.StartingPosition.SequenceNumber; sn != nil && !seqPattern(*sn) {
			v.Add(*sn, "startingPosition.sequenceNumber", "Member must satisfy regular expression pattern: 0|([1-9]\\d{0,128})")
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	p, ok := parseARN(*in.ConsumerARN)
	if !ok || p.consumer == "" {
		return nil, awserr.InvalidArgument("ConsumerARN %s is invalid.", *in.ConsumerARN)
	}

	// Resolve consumer and shard under the read lock.
	s.mu.RLock()
	st, c, err := s.resourceLocked(*in.ConsumerARN)
	if err != nil {
		s.mu.RUnlock()
		return nil, err
	}
	if c.Status != stateActive {
		err := consumerNotActive(st, c)
		s.mu.RUnlock()
		return nil, err
	}
	ix, ok := parseShardID(*in.ShardId)
	var sh *shard
	if ok {
		sh = st.shard(ix)
	}
	kms := st.Encryption == "KMS"
	arn := st.consumerARN(c)
	s.mu.RUnlock()
	if sh == nil {
		return nil, awserr.ResourceNotFound("Shard %s in stream %s under account %s does not exist", *in.ShardId, st.Name, st.Account)
	}

	id := storage.ShardID{Stream: st.ID, Index: sh.Index}
	pos, err := s.subscribePos(r, st, sh, id, in.StartingPosition)
	if err != nil {
		return nil, err
	}
	sub := &subscription{
		key:     subKey{consumer: arn, stream: st.ID, shard: sh.Index},
		st:      st,
		sh:      sh,
		id:      id,
		pos:     pos,
		kms:     kms,
		startMs: s.nowMs(),
		done:    make(chan struct{}),
	}
	if err := s.fanout().register(sub); err != nil {
		return nil, err
	}
	return sub, nil
}

// subscribePos turns a StartingPosition into a log position (the
// GetShardIterator rules).
func (s *Service) subscribePos(r *awsproto.Request, st *stream, sh *shard, id storage.ShardID, sp *startingPosition) (uint64, error) {
	typ := *sp.Type
	seqType := typ == "AT_SEQUENCE_NUMBER" || typ == "AFTER_SEQUENCE_NUMBER"
	if seqType && sp.SequenceNumber == nil {
		return 0, awserr.InvalidArgument("StartingPosition type %s requires a SequenceNumber.", typ)
	}
	if !seqType && sp.SequenceNumber != nil {
		return 0, awserr.InvalidArgument("StartingPosition type %s must not have a SequenceNumber.", typ)
	}
	switch typ {
	case "TRIM_HORIZON":
		return 0, nil // reads clamp up to the trim horizon
	case "LATEST":
		b, err := s.backend.Bounds(r.Ctx, id)
		if err != nil {
			return 0, s.storageErr("SubscribeToShard", err)
		}
		return b.Next, nil
	case "AT_TIMESTAMP":
		if sp.Timestamp == nil {
			return 0, awserr.InvalidArgument("Must specify timestampInMillis parameter for iterator of type AT_TIMESTAMP. Current request has no timestamp parameter.")
		}
		nowMs := s.nowMs()
		if t := sp.Timestamp.UnixMilli(); t > nowMs {
			return 0, awserr.InvalidArgument("The timestampInMillis parameter cannot be greater than the currentTimestampInMillis. timestampInMillis: %d, currentTimestampInMillis: %d", t, nowMs)
		}
		pos, err := s.backend.PosAtTime(r.Ctx, id, sp.Timestamp.UnixMilli())
		if err != nil {
			return 0, s.storageErr("SubscribeToShard", err)
		}
		return pos, nil
	}
	seq := *sp.SequenceNumber
	f, err := shardmap.DecodeSeq(seq)
	if err != nil {
		return 0, awserr.InvalidArgument("StartingSequenceNumber %s used in SubscribeToShard on shard %s in stream %s under account %s is invalid.", seq, sh.id, st.Name, st.Account)
	}
	if f.ShardIndex != sh.Index {
		return 0, awserr.InvalidArgument("Invalid StartingSequenceNumber. It encodes %s, while it was used in a call to a shard with %s", shardID(f.ShardIndex), sh.id)
	}
	if f.ShardCreateSecs != uint64(sh.CreatedMs/1000) {
		return 0, awserr.InvalidArgument("StartingSequenceNumber %s used in SubscribeToShard on shard %s in stream %s under account %s is invalid because it did not come from this stream.", seq, sh.id, st.Name, st.Account)
	}
	return seqPosition(f, typ == "AFTER_SEQUENCE_NUMBER"), nil
}

// subscriptionTakeover is how old a subscription must be before another of
// the same consumer and shard may replace it.
const subscriptionTakeover = 5 * time.Second
