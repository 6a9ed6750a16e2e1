package kinesis

// TagResource adds or overwrites tags on a stream or consumer named by
// ResourceARN, with AddTagsToStream's limits and character checks. A stream
// must be ACTIVE; a consumer may be in any state but DELETING.
// Unverified: the texts of the errors naming the resource.

import (
	"fmt"

	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/awsproto"
)

type tagResourceInput struct {
	ResourceARN *string            `json:"ResourceARN"`
	Tags        *map[string]string `json:"Tags"`
}

func init() { register("TagResource", (*Service).tagResource) }

func (s *Service) tagResource(r *awsproto.Request) (any, error) {
	var in tagResourceInput
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	var v awserr.Validation
	var tags map[string]string
	if in.Tags != nil {
		tags = *in.Tags
	}
	checkTagMap(&v, tags, in.Tags != nil, "tags", maxTags)
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
	what := "resource " + *in.ResourceARN
	if err := checkTagText(tagTexts(tags), "add tags to", what); err != nil {
		return nil, err
	}
	if err := requireResourceUsable(st, c); err != nil {
		return nil, err
	}
	if c != nil {
		err = mergeTags(&c.Tags, tags, "add tags to", what, "consumer")
	} else {
		err = mergeTags(&st.Tags, tags, "add tags to", what, "stream")
	}
	if err != nil {
		return nil, err
	}
	return nil, s.commitLocked()
}

// requireResourceUsable: a stream must be ACTIVE, a consumer not DELETING.
func requireResourceUsable(st *stream, c *consumer) error {
	if c == nil {
		return requireActive(st)
	}
	if c.Status == stateDeleting {
		return consumerNotActive(st, c)
	}
	return nil
}

func consumerNotActive(st *stream, c *consumer) error {
	return awserr.ResourceInUse("Consumer %s with creation timestamp %s under stream %s and account %s is not in ACTIVE status.", c.Name, fmt.Sprint(c.CreatedMs/1000), st.Name, st.Account)
}
