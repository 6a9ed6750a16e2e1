package kinesis

// DescribeStreamConsumer describes a consumer named by ConsumerARN, or by
// StreamARN + ConsumerName (all given must agree): name, ARN, status,
// creation time and the stream's ARN.

import (
	"github.com/eddy-streams/eddy/internal/awsproto"
)

func init() { register("DescribeStreamConsumer", (*Service).describeStreamConsumer) }

func (s *Service) describeStreamConsumer(r *awsproto.Request) (any, error) {
	var in consumerRefInput
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	if err := in.validate(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	st, c, err := s.consumerLocked(r, in.ConsumerARN, in.StreamARN, in.ConsumerName)
	if err != nil {
		return nil, err
	}
	d := st.consumerShape(c)
	d.StreamARN = st.arn()
	return struct {
		ConsumerDescription consumerShape `json:"ConsumerDescription"`
	}{d}, nil
}
