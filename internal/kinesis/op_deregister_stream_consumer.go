package kinesis

// DeregisterStreamConsumer deregisters a consumer named by ConsumerARN, or by
// StreamARN + ConsumerName (all given must agree). The consumer is DELETING
// for Options.TransitionDelay, then gone (at once by default); enhanced
// fan-out subscriptions are told through the consumer-gone hook. A consumer
// already DELETING is left as it is (no error).

import (
	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/awsproto"
)

type consumerRefInput struct {
	StreamARN    *string `json:"StreamARN"`
	ConsumerName *string `json:"ConsumerName"`
	ConsumerARN  *string `json:"ConsumerARN"`
}

func init() { register("DeregisterStreamConsumer", (*Service).deregisterStreamConsumer) }

// validate checks the model constraints of a consumer reference.
func (in *consumerRefInput) validate() error {
	var v awserr.Validation
	if in.StreamARN != nil {
		checkLen(&v, *in.StreamARN, "streamARN", 1, 2048)
	}
	if in.ConsumerName != nil {
		checkName(&v, *in.ConsumerName, "consumerName")
	}
	if in.ConsumerARN != nil {
		checkLen(&v, *in.ConsumerARN, "consumerARN", 1, 2048)
	}
	return v.Err()
}

func (s *Service) deregisterStreamConsumer(r *awsproto.Request) (any, error) {
	var in consumerRefInput
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	if err := in.validate(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st, c, err := s.consumerLocked(r, in.ConsumerARN, in.StreamARN, in.ConsumerName)
	if err != nil {
		return nil, err
	}
	if c.Status == stateDeleting {
		return nil, nil
	}
	prev := c.Status
	c.Status = stateDeleting
	if err := s.commitLocked(); err != nil {
		c.Status = prev
		return nil, err
	}
	if s.opt.TransitionDelay <= 0 {
		s.removeConsumerLocked(st, c)
		return nil, s.commitLocked()
	}
	s.removeConsumerLater(st, c)
	return nil, nil
}
