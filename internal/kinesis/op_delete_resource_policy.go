package kinesis

// DeleteResourcePolicy removes the policy of a stream or consumer named by
// ResourceARN. With no policy attached it answers ResourceNotFoundException
// (as LocalStack's AWS-validated tests show). Unverified: that message's text.

import (
	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/awsproto"
)

func init() { register("DeleteResourcePolicy", (*Service).deleteResourcePolicy) }

func (s *Service) deleteResourcePolicy(r *awsproto.Request) (any, error) {
	var in resourceARNInput
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	var v awserr.Validation
	checkResourceARN(&v, in.ResourceARN, "resourceARN")
	if err := v.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st, c, err := s.resourceLocked(*in.ResourceARN)
	if err != nil {
		return nil, err
	}
	p := &st.Policy
	if c != nil {
		p = &c.Policy
	}
	if *p == "" {
		return nil, awserr.ResourceNotFound("No resource policy found for resource ARN %s.", *in.ResourceARN)
	}
	*p = ""
	return nil, s.commitLocked()
}
