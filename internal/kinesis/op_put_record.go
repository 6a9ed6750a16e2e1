package kinesis

// PutRecord writes one record, routed like PutRecords. A quota refusal
// (--enforce-limits) is a ProvisionedThroughputExceededException. Sequence
// numbers already grow strictly per shard, so SequenceNumberForOrdering is
// validated and otherwise satisfied as is.

import (
	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/awsproto"
	"github.com/eddy-streams/eddy/internal/shardmap"
)

type putRecordInput struct {
	StreamName                *string `json:"StreamName"`
	StreamARN                 *string `json:"StreamARN"`
	Data                      []byte  `json:"Data"`
	PartitionKey              *string `json:"PartitionKey"`
	ExplicitHashKey           *string `json:"ExplicitHashKey"`
	SequenceNumberForOrdering *string `json:"SequenceNumberForOrdering"`
}

type putRecordOutput struct {
	ShardId        string `json:"ShardId"`
	SequenceNumber string `json:"SequenceNumber"`
	EncryptionType string `json:"EncryptionType"`
}

func init() { register("PutRecord", (*Service).putRecord) }

func (s *Service) putRecord(r *awsproto.Request) (any, error) {
	var in putRecordInput
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	var v awserr.Validation
	validateStreamRef(&v, in.StreamName, in.StreamARN)
	// member paths of PutRecord are top level
	checkEntry(&v, "", in.PartitionKey, in.Data, in.ExplicitHashKey)
	if in.SequenceNumberForOrdering != nil && !seqPattern(*in.SequenceNumberForOrdering) {
		v.Add(*in.SequenceNumberForOrdering, "sequenceNumberForOrdering", "Member must satisfy regular expression pattern: 0|([1-9]\\d{0,128})")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if (in.StreamName == nil || *in.StreamName == "") && (in.StreamARN == nil || *in.StreamARN == "") {
		return nil, awserr.InvalidArgument("Either StreamName or StreamARN should be provided.")
	}
	st, routes, err := s.dataStream(r, in.StreamName, in.StreamARN)
	if err != nil {
		return nil, err
	}
	if len(in.Data)+len(*in.PartitionKey) > st.MaxRecordKiB<<10 {
		return nil, awserr.InvalidArgument("Record size exceeds the stream's maximum record size of %d KiB.", st.MaxRecordKiB)
	}
	k, err := entryHashKey(*in.PartitionKey, in.ExplicitHashKey)
	if err != nil {
		return nil, err
	}
	res := make([]putRecordsResultEntry, 1)
	s.appendRouted(r.Ctx, st, routes, []putRecordsEntry{{Data: in.Data, PartitionKey: in.PartitionKey}}, []shardmap.HashKey{k}, res)
	if res[0].ErrorCode != nil {
		if *res[0].ErrorCode == awserr.TProvisionedThroughputExceeded {
			return nil, awserr.ThroughputExceeded("%s", *res[0].ErrorMessage)
		}
		return nil, awserr.Internal()
	}
	return putRecordOutput{ShardId: *res[0].ShardId, SequenceNumber: *res[0].SequenceNumber, EncryptionType: st.Encryption}, nil
}

func seqPattern(s string) bool {
	if s == "0" {
		return true
	}
	if len(s) == 0 || len(s) > 129 || s[0] < '1' || s[0] > '9' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
