package kinesis

// UpdateStreamMode switches a stream between PROVISIONED and ON_DEMAND
// (StreamARN only); the stream is UPDATING for Options.TransitionDelay. The
// open shards stay as they are. Going ON_DEMAND counts against the on-demand
// stream quota and may set WarmThroughputMiBps (needs the account's billing
// commitment). At most two switches per stream per rolling 24 hours; more
// give LimitExceededException. Unverified: that quota (recalled from AWS's
// developer guide, not confirmed) and the texts of the same-mode, quota and
// warm-throughput errors.

import (
	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/awsproto"
)

type updateStreamModeInput struct {
	StreamARN           *string            `json:"StreamARN"`
	StreamModeDetails   *streamModeDetails `json:"StreamModeDetails"`
	WarmThroughputMiBps *int64             `json:"WarmThroughputMiBps"`
}

const modeSwitchesPerDay = 2

func init() { register("UpdateStreamMode", (*Service).updateStreamMode) }

func (s *Service) updateStreamMode(r *awsproto.Request) (any, error) {
	var in updateStreamModeInput
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	var v awserr.Validation
	checkRange(&v, in.WarmThroughputMiBps, "warmThroughputMiBps", 0, 10240)
	var mode string
	if in.StreamModeDetails == nil {
		v.Add(nil, "streamModeDetails", "Member must not be null")
	} else {
		mode = checkMode(&v, in.StreamModeDetails, "streamModeDetails")
	}
	if in.StreamARN == nil {
		v.Add(nil, "streamARN", "Member must not be null")
	} else {
		checkLen(&v, *in.StreamARN, "streamARN", 1, 2048)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st, err := s.activeLocked(r, nil, in.StreamARN)
	if err != nil {
		return nil, err
	}
	if st.Mode == mode {
		return nil, awserr.InvalidArgument("Stream %s under account %s is already in %s mode.", st.Name, st.Account, mode)
	}
	if in.WarmThroughputMiBps != nil {
		if mode != "ON_DEMAND" {
			return nil, awserr.InvalidArgument("WarmThroughputMiBps can only be specified when switching to ON_DEMAND mode.")
		}
		if !s.commitmentOnLocked(st.Account) {
			return nil, errNoCommitment(st.Account)
		}
	}
	now := s.nowMs()
	recent := st.ModeSwitchesMs[:0]
	for _, t := range st.ModeSwitchesMs {
		if now-t < 24*3600_000 {
			recent = append(recent, t)
		}
	}
	st.ModeSwitchesMs = recent
	if len(recent) >= modeSwitchesPerDay {
		return nil, awserr.LimitExceeded("Stream %s under account %s has already changed capacity mode %d times in the last 24 hours.", st.Name, st.Account, len(recent))
	}
	if mode == "ON_DEMAND" && s.onDemandCountLocked(st.Account, st.Region) >= s.opt.OnDemandStreamLimit {
		return nil, awserr.LimitExceeded("This request would exceed the on-demand stream limit for the account %s in %s. Limit: %d.", st.Account, st.Region, s.opt.OnDemandStreamLimit)
	}
	st.Mode = mode
	if mode == "ON_DEMAND" && in.WarmThroughputMiBps != nil {
		st.WarmMiBps = int(*in.WarmThroughputMiBps)
	}
	if mode == "PROVISIONED" {
		st.WarmMiBps = 0
	}
	st.ModeSwitchesMs = append(st.ModeSwitchesMs, now)
	s.transitionLocked(st, stateUpdating)
	return nil, s.commitLocked()
}
