package kinesis

// UpdateStreamWarmThroughput sets an on-demand stream's warm throughput
// (0..10240 MiB/s) when the account's MinimumThroughputBillingCommitment is
// in force. The stream is UPDATING for Options.TransitionDelay. Answers
// WarmThroughput{TargetMiBps: new, CurrentMiBps: before the call}.
// Difference: no capacity changes; the value is reported by
// DescribeStreamSummary. Unverified: the texts of the mode and commitment
// errors.

import (
	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/awsproto"
)

type updateStreamWarmThroughputInput struct {
	StreamName          *string `json:"StreamName"`
	StreamARN           *string `json:"StreamARN"`
	WarmThroughputMiBps *int64  `json:"WarmThroughputMiBps"`
}

type updateStreamWarmThroughputOutput struct {
	StreamName     string         `json:"StreamName"`
	StreamARN      string         `json:"StreamARN"`
	WarmThroughput warmThroughput `json:"WarmThroughput"`
}

func init() { register("UpdateStreamWarmThroughput", (*Service).updateStreamWarmThroughput) }

func (s *Service) updateStreamWarmThroughput(r *awsproto.Request) (any, error) {
	var in updateStreamWarmThroughputInput
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	var v awserr.Validation
	if in.WarmThroughputMiBps == nil {
		v.Add(nil, "warmThroughputMiBps", "Member must not be null")
	}
	checkRange(&v, in.WarmThroughputMiBps, "warmThroughputMiBps", 0, 10240)
	if err := requireStreamRef(&v, in.StreamName, in.StreamARN); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st, err := s.activeLocked(r, in.StreamName, in.StreamARN)
	if err != nil {
		return nil, err
	}
	if st.Mode != "ON_DEMAND" {
		return nil, awserr.InvalidArgument("Warm throughput is only supported for streams in ON_DEMAND mode; stream %s under account %s is in %s mode.", st.Name, st.Account, st.Mode)
	}
	if !s.commitmentOnLocked(st.Account) {
		return nil, errNoCommitment(st.Account)
	}
	out := updateStreamWarmThroughputOutput{StreamName: st.Name, StreamARN: st.arn(),
		WarmThroughput: warmThroughput{TargetMiBps: int(*in.WarmThroughputMiBps), CurrentMiBps: st.WarmMiBps}}
	st.WarmMiBps = int(*in.WarmThroughputMiBps)
	s.transitionLocked(st, stateUpdating)
	if err := s.commitLocked(); err != nil {
		return nil, err
	}
	return out, nil
}

func errNoCommitment(account string) error {
	return awserr.InvalidArgument("Warm throughput requires MinimumThroughputBillingCommitment to be enabled for account %s.", account)
}
