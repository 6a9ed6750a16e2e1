package kinesis

// IncreaseStreamRetentionPeriod lengthens a stream's retention, 24..8760
// hours; a value below the current one is refused with AWS's message (equal
// is accepted). Records already trimmed do not come back. The stream must be
// ACTIVE; the change is immediate. Messages follow kinesalite's AWS-validated
// tests, with today's maximum of 8760 hours.

import (
	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/awsproto"
)

type retentionInput struct {
	StreamName           *string `json:"StreamName"`
	StreamARN            *string `json:"StreamARN"`
	RetentionPeriodHours *int64  `json:"RetentionPeriodHours"`
}

const (
	minRetentionHours = 24
	maxRetentionHours = 8760
)

func init() { register("IncreaseStreamRetentionPeriod", (*Service).increaseStreamRetentionPeriod) }

// validate checks the model constraints and AWS's retention bounds.
func (in *retentionInput) validate() error {
	var v awserr.Validation
	if in.RetentionPeriodHours == nil {
		v.Add(nil, "retentionPeriodHours", "Member must not be null")
	}
	checkRange(&v, in.RetentionPeriodHours, "retentionPeriodHours", 1, 1<<31-1)
	if err := requireStreamRef(&v, in.StreamName, in.StreamARN); err != nil {
		return err
	}
	h := *in.RetentionPeriodHours
	if h < minRetentionHours {
		return awserr.InvalidArgument("Minimum allowed retention period is %d hours. Requested retention period (%d hours) is too short.", minRetentionHours, h)
	}
	if h > maxRetentionHours {
		return awserr.InvalidArgument("Maximum allowed retention period is %d hours. Requested retention period (%d hours) is too long.", maxRetentionHours, h)
	}
	return nil
}

func (s *Service) increaseStreamRetentionPeriod(r *awsproto.Request) (any, error) {
	var in retentionInput
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	if err := in.validate(); err != nil {
		return nil, err
	}
	h := int(*in.RetentionPeriodHours)
	s.mu.Lock()
	defer s.mu.Unlock()
	st, err := s.activeLocked(r, in.StreamName, in.StreamARN)
	if err != nil {
		return nil, err
	}
	if h < st.RetentionHours {
		return nil, awserr.InvalidArgument("Requested retention period (%d hours) for stream %s can not be shorter than existing retention period (%d hours). Use DecreaseRetentionPeriod API.", h, st.Name, st.RetentionHours)
	}
	st.RetentionHours = h
	return nil, s.commitLocked()
}
