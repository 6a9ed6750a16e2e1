package analytics

// ListTagsForResource returns an application's tags in the order added.

import (
	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/awsproto"
)

func init() {
	registerV1("ListTagsForResource", func(s *Service, r *awsproto.Request) (any, error) { return s.listTags(r, 1) })
	registerV2("ListTagsForResource", func(s *Service, r *awsproto.Request) (any, error) { return s.listTags(r, 2) })
}

func (s *Service) listTags(r *awsproto.Request, apiVersion int) (any, error) {
	var in tagResourceInput
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	var v awserr.Validation
	checkARN(&v, in.ResourceARN, "resourceARN", true)
	if err := v.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a, err := s.byARNLocked(r, *in.ResourceARN, apiVersion)
	if err != nil {
		return nil, err
	}
	return map[string]any{"Tags": tagsWire(a.Tags)}, nil
}
