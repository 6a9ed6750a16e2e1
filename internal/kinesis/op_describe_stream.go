package kinesis

// DescribeStream is the legacy description with a page of shards: Limit
// (default 100; larger values are capped at 100, as AWS does) and
// ExclusiveStartShardId page through them, HasMoreShards says more remain.
// Closed shards within retention are listed.

import (
	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/awsproto"
)

type describeStreamInput struct {
	StreamName            *string `json:"StreamName"`
	StreamARN             *string `json:"StreamARN"`
	Limit                 *int64  `json:"Limit"`
	ExclusiveStartShardId *string `json:"ExclusiveStartShardId"`
}

type streamDescription struct {
	StreamName              string              `json:"StreamName"`
	StreamARN               string              `json:"StreamARN"`
	StreamStatus            string              `json:"StreamStatus"`
	StreamModeDetails       modeShape           `json:"StreamModeDetails"`
	Shards                  []shardShape        `json:"Shards"`
	HasMoreShards           bool                `json:"HasMoreShards"`
	RetentionPeriodHours    int                 `json:"RetentionPeriodHours"`
	StreamCreationTimestamp *awsproto.Timestamp `json:"StreamCreationTimestamp"`
	EnhancedMonitoring      []enhancedMetrics   `json:"EnhancedMonitoring"`
	EncryptionType          string              `json:"EncryptionType"`
	KeyId                   *string             `json:"KeyId,omitempty"`
}

func init() { register("DescribeStream", (*Service).describeStream) }

func (s *Service) describeStream(r *awsproto.Request) (any, error) {
	var in describeStreamInput
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	var v awserr.Validation
	checkRange(&v, in.Limit, "limit", 1, 10000)
	if in.ExclusiveStartShardId != nil {
		checkLen(&v, *in.ExclusiveStartShardId, "exclusiveStartShardId", 1, 128)
	}
	if err := requireStreamRef(&v, in.StreamName, in.StreamARN); err != nil {
		return nil, err
	}
	limit := 100
	if in.Limit != nil && *in.Limit < 100 {
		limit = int(*in.Limit)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	st, err := s.lookupLocked(r, in.StreamName, in.StreamARN)
	if err != nil {
		return nil, err
	}
	d := streamDescription{
		StreamName: st.Name, StreamARN: st.arn(), StreamStatus: st.Status,
		StreamModeDetails: modeShape{st.Mode}, Shards: []shardShape{},
		RetentionPeriodHours: st.RetentionHours, StreamCreationTimestamp: st.created(),
		EnhancedMonitoring: st.metrics(), EncryptionType: st.Encryption, KeyId: strp(st.KeyID),
	}
	after := int64(-1)
	if in.ExclusiveStartShardId != nil {
		if ix, ok := parseShardID(*in.ExclusiveStartShardId); ok {
			after = int64(ix)
		}
	}
	for _, sh := range st.Shards {
		if int64(sh.Index) <= after {
			continue
		}
		if len(d.Shards) == limit {
			d.HasMoreShards = true
			break
		}
		d.Shards = append(d.Shards, sh.shape())
	}
	return struct {
		StreamDescription streamDescription `json:"StreamDescription"`
	}{d}, nil
}
