package analytics

// UntagResource removes tags by key (1–200 keys); unknown keys are
// ignored.

import (
	"fmt"

	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/awsproto"
)

func init() {
	registerV1("UntagResource", func(s *Service, r *awsproto.Request) (any, error) { return s.untagResource(r, 1) })
	registerV2("UntagResource", func(s *Service, r *awsproto.Request) (any, error) { return s.untagResource(r, 2) })
}

func (s *Service) untagResource(r *awsproto.Request, apiVersion int) (any, error) {
	var in tagResourceInput
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	var v awserr.Validation
	checkARN(&v, in.ResourceARN, "resourceARN", true)
	if in.TagKeys == nil {
		v.Add(nil, "tagKeys", "Member must not be null")
	} else if len(in.TagKeys) < 1 {
		v.Add("[]", "tagKeys", "Member must have length greater than or equal to 1")
	} else if len(in.TagKeys) > 200 {
		v.Add(fmt.Sprintf("[%d keys]", len(in.TagKeys)), "tagKeys", "Member must have length less than or equal to 200")
	}
	for i, k := range in.TagKeys {
		checkLen(&v, k, fmt.Sprintf("tagKeys.%d.member", i+1), 1, 128)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a, err := s.byARNLocked(r, *in.ResourceARN, apiVersion)
	if err != nil {
		return nil, err
	}
	drop := map[string]bool{}
	for _, k := range in.TagKeys {
		drop[k] = true
	}
	old := a.Tags
	var kept []tagPair
	for _, t := range a.Tags {
		if !drop[t.Key] {
			kept = append(kept, t)
		}
	}
	a.Tags = kept
	if err := s.commitLocked(); err != nil {
		a.Tags = old
		return nil, err
	}
	return struct{}{}, nil
}
