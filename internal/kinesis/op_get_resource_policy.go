package kinesis

// GetResourcePolicy returns the policy of a stream or consumer named by
// ResourceARN, or "{}" when it has none (as AWS does, per LocalStack's
// AWS-validated snapshot).

import (
	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/awsproto"
)

type resourceARNInput struct {
	ResourceARN *string `json:"ResourceARN"`
}

func init() { register("GetResourcePolicy", (*Service).getResourcePolicy) }

func (s *Service) getResourcePolicy(r *awsproto.Request) (any, error) {
	var in resourceARNInput
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	var v awserr.Validation
	checkResourceARN(&v, in.ResourceARN, "resourceARN")
	if err := v.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	st, c, err := s.resourceLocked(*in.ResourceARN)
	if err != nil {
		return nil, err
	}
	p := st.Policy
	if c != nil {
		p = c.Policy
	}
	if p == "" {
		p = "{}"
	}
	return struct {
		Policy string `json:"Policy"`
	}{p}, nil
}
