package kinesis

// ListTagsForResource lists all tags (at most 50, so no paging) of a stream
// or consumer named by ResourceARN, in key order.

import (
	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/awsproto"
)

type listTagsForResourceInput struct {
	ResourceARN *string `json:"ResourceARN"`
}

func init() { register("ListTagsForResource", (*Service).listTagsForResource) }

func (s *Service) listTagsForResource(r *awsproto.Request) (any, error) {
	var in listTagsForResourceInput
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
	tags := st.Tags
	if c != nil {
		tags = c.Tags
	}
	return struct {
		Tags []tagShape `json:"Tags"`
	}{tagList(tags)}, nil
}
