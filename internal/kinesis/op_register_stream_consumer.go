package kinesis

// RegisterStreamConsumer registers an enhanced fan-out consumer on a stream
// (StreamARN only). The consumer is CREATING for Options.TransitionDelay
// (ACTIVE at once by default). Limits as on AWS: 20 consumers per stream (50
// when the account's MinimumThroughputBillingCommitment is in force), at most
// 5 CREATING at once; a name in use gives ResourceInUseException. Tags (<= 50)
// are stored on the consumer. The stream must be ACTIVE.
// Unverified: the texts of the limit and name-in-use errors.

import (
	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/awsproto"
)

type registerStreamConsumerInput struct {
	StreamARN    *string            `json:"StreamARN"`
	ConsumerName *string            `json:"ConsumerName"`
	Tags         *map[string]string `json:"Tags"`
}

func init() { register("RegisterStreamConsumer", (*Service).registerStreamConsumer) }

func (s *Service) registerStreamConsumer(r *awsproto.Request) (any, error) {
	var in registerStreamConsumerInput
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	var v awserr.Validation
	var tags map[string]string
	if in.Tags != nil {
		tags = *in.Tags
		checkTagMap(&v, tags, true, "tags", maxTags)
	}
	if in.StreamARN == nil {
		v.Add(nil, "streamARN", "Member must not be null")
	} else {
		checkLen(&v, *in.StreamARN, "streamARN", 1, 2048)
	}
	if in.ConsumerName == nil {
		v.Add(nil, "consumerName", "Member must not be null")
	} else {
		checkName(&v, *in.ConsumerName, "consumerName")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if err := checkTagText(tagTexts(tags), "add tags to", "consumer "+*in.ConsumerName); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st, err := s.activeLocked(r, nil, in.StreamARN)
	if err != nil {
		return nil, err
	}
	if st.consumer(*in.ConsumerName) != nil {
		return nil, awserr.ResourceInUse("Consumer %s under stream %s already exists for account %s.", *in.ConsumerName, st.Name, st.Account)
	}
	if limit := s.consumerLimitLocked(st.Account); len(st.Consumers) >= limit {
		return nil, awserr.LimitExceeded("Consumer limit of %d has been reached for stream %s under account %s.", limit, st.Name, st.Account)
	}
	creating := 0
	for _, c := range st.Consumers {
		if c.Status == stateCreating {
			creating++
		}
	}
	if creating >= 5 {
		return nil, awserr.LimitExceeded("Only 5 consumers can be in CREATING status at the same time; stream %s under account %s already has %d.", st.Name, st.Account, creating)
	}
	c := &consumer{Name: *in.ConsumerName, CreatedMs: s.nowMs(), Status: stateCreating, Tags: copyTags(tags)}
	if s.opt.TransitionDelay <= 0 {
		c.Status = stateActive
	}
	st.Consumers = append(st.Consumers, c)
	if err := s.commitLocked(); err != nil {
		st.Consumers = st.Consumers[:len(st.Consumers)-1]
		return nil, err
	}
	if c.Status == stateCreating {
		s.activateConsumerLater(st, c)
	}
	out := st.consumerShape(c)
	return struct {
		Consumer consumerShape `json:"Consumer"`
	}{out}, nil
}
