package kinesis

// RemoveTagsFromStream removes tags by key; unknown keys are ignored. 1..50
// keys per call, with the same character checks as AddTagsToStream. The
// stream must be ACTIVE.

import (
	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/awsproto"
)

type removeTagsFromStreamInput struct {
	StreamName *string   `json:"StreamName"`
	StreamARN  *string   `json:"StreamARN"`
	TagKeys    *[]string `json:"TagKeys"`
}

func init() { register("RemoveTagsFromStream", (*Service).removeTagsFromStream) }

func (s *Service) removeTagsFromStream(r *awsproto.Request) (any, error) {
	var in removeTagsFromStreamInput
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	var v awserr.Validation
	var keys []string
	if in.TagKeys != nil {
		keys = *in.TagKeys
	}
	checkTagKeys(&v, keys, in.TagKeys != nil, "tagKeys")
	if err := requireStreamRef(&v, in.StreamName, in.StreamARN); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st, err := s.lookupLocked(r, in.StreamName, in.StreamARN)
	if err != nil {
		return nil, err
	}
	if err := checkTagText(keys, "remove tags from", st.what()); err != nil {
		return nil, err
	}
	if err := requireActive(st); err != nil {
		return nil, err
	}
	for _, k := range keys {
		delete(st.Tags, k)
	}
	return nil, s.commitLocked()
}
