package kinesis

// DescribeStreamSummary describes a stream without its shards. It never
// returns StreamId: the SDKs' endpoint rules would route a request carrying
// one to real AWS, ignoring the custom endpoint.

import (
	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/awsproto"
)

type streamRefInput struct {
	StreamName *string `json:"StreamName"`
	StreamARN  *string `json:"StreamARN"`
}

type warmThroughput struct {
	TargetMiBps  int `json:"TargetMiBps"`
	CurrentMiBps int `json:"CurrentMiBps"`
}

type streamSummary struct {
	StreamName              string              `json:"StreamName"`
	StreamARN               string              `json:"StreamARN"`
	StreamStatus            string              `json:"StreamStatus"`
	StreamModeDetails       modeShape           `json:"StreamModeDetails"`
	RetentionPeriodHours    int                 `json:"RetentionPeriodHours"`
	StreamCreationTimestamp *awsproto.Timestamp `json:"StreamCreationTimestamp"`
	EnhancedMonitoring      []enhancedMetrics   `json:"EnhancedMonitoring"`
	EncryptionType          string              `json:"EncryptionType"`
	KeyId                   *string             `json:"KeyId,omitempty"`
	OpenShardCount          int                 `json:"OpenShardCount"`
	ConsumerCount           int                 `json:"ConsumerCount"`
	MaxRecordSizeInKiB      int                 `json:"MaxRecordSizeInKiB"`
	WarmThroughput          *warmThroughput     `json:"WarmThroughput,omitempty"`
}

func init() { register("DescribeStreamSummary", (*Service).describeStreamSummary) }

func (s *Service) describeStreamSummary(r *awsproto.Request) (any, error) {
	var in streamRefInput
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	var v awserr.Validation
	if err := requireStreamRef(&v, in.StreamName, in.StreamARN); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	st, err := s.lookupLocked(r, in.StreamName, in.StreamARN)
	if err != nil {
		return nil, err
	}
	d := streamSummary{
		StreamName: st.Name, StreamARN: st.arn(), StreamStatus: st.Status,
		StreamModeDetails: modeShape{st.Mode}, RetentionPeriodHours: st.RetentionHours,
		StreamCreationTimestamp: st.created(), EnhancedMonitoring: st.metrics(),
		EncryptionType: st.Encryption, KeyId: strp(st.KeyID),
		OpenShardCount: st.openShardCount(), ConsumerCount: len(st.Consumers),
		MaxRecordSizeInKiB: st.MaxRecordKiB,
	}
	if st.Mode == "ON_DEMAND" && st.WarmMiBps > 0 {
		d.WarmThroughput = &warmThroughput{TargetMiBps: st.WarmMiBps, CurrentMiBps: st.WarmMiBps}
	}
	return struct {
		StreamDescriptionSummary streamSummary `json:"StreamDescriptionSummary"`
	}{d}, nil
}
