package kinesis

// GetResourcePolicy returns the policy of a stream or consumer named by
// ResourceARN, or "{}" when it has none (as AWS does, per LocalStack's
// AWS-validated snapshot).

import (
	"github.com/eddy-streams/eddy/internal/awsproto"
)

type resourceARNInput struct {
	ResourceARN *string `json:"ResourceARN"`
}

func init() { register("GetResourcePolicy", (*Service).getResourcePolicy) }

func (s *Service) getResourcePolicy(r *awsproto.Request) (any, error) {
	return s.readResource(r, func(st *stream, c *consumer) (any, error) {
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
	})
}
