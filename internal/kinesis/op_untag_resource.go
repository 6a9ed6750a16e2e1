package kinesis

// UntagResource removes tags by key from a stream or consumer named by
// ResourceARN; unknown keys are ignored. Same checks as RemoveTagsFromStream.

import (
	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/awsproto"
)

type untagResourceInput struct {
	ResourceARN *string   `json:"ResourceARN"`
	TagKeys     *[]string `json:"TagKeys"`
}

func init() { register("UntagResource", (*Service).untagResource) }

func (s *Service) untagResource(r *awsproto.Request) (any, error) {
	var in untagResourceInput
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	var v awserr.Validation
	var keys []string
	if in.TagKeys != nil {
		keys = *in.TagKeys
	}
	checkTagKeys(&v, keys, in.TagKeys != nil, "tagKeys")
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
	if err := checkTagText(keys, "remove tags from", "resource "+*in.ResourceARN); err != nil {
		return nil, err
	}
	if err := requireResourceUsable(st, c); err != nil {
		return nil, err
	}
	tags := st.Tags
	if c != nil {
		tags = c.Tags
	}
	for _, k := range keys {
		delete(tags, k)
	}
	return nil, s.commitLocked()
}
