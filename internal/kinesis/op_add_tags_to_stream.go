package kinesis

// AddTagsToStream adds or overwrites tags on a stream. A stream holds at most
// 50 tags; keys are 1..128 and values 0..256 characters of Unicode letters,
// digits, space and _ . / = + - @ : ('%' is refused with AWS's second
// message). The stream must be ACTIVE. Messages follow AWS's (kinesalite's
// AWS-validated tests), with today's limit of 50 in place of 10.

import (
	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/awsproto"
)

type addTagsToStreamInput struct {
	StreamName *string            `json:"StreamName"`
	StreamARN  *string            `json:"StreamARN"`
	Tags       *map[string]string `json:"Tags"`
}

func init() { register("AddTagsToStream", (*Service).addTagsToStream) }

func (s *Service) addTagsToStream(r *awsproto.Request) (any, error) {
	var in addTagsToStreamInput
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	var v awserr.Validation
	var tags map[string]string
	if in.Tags != nil {
		tags = *in.Tags
	}
	checkTagMap(&v, tags, in.Tags != nil, "tags", maxTags)
	if err := requireStreamRef(&v, in.StreamName, in.StreamARN); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st, err := s.lookupLocked(r, in.StreamName, in.StreamARN)
	if err != nil {
		return nil, err
	}
	if err := checkTagText(tagTexts(tags), "add tags to", st.what()); err != nil {
		return nil, err
	}
	if err := requireActive(st); err != nil {
		return nil, err
	}
	if err := mergeTags(&st.Tags, tags, "add tags to", st.what(), "stream"); err != nil {
		return nil, err
	}
	return nil, s.commitLocked()
}
