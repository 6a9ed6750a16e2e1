package analytics

// TagResource adds or replaces tags on an application by ARN (1–200 tags
// per call, at most 50 per application: TooManyTagsException). Tagging does
// not change the application version.

import (
	"regexp"

	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/awsproto"
)

type tagResourceInput struct {
	ResourceARN *string  `json:"ResourceARN"`
	Tags        []Tag    `json:"Tags"`
	TagKeys     []string `json:"TagKeys"`
}

var appARNPattern = regexp.MustCompile(`^arn:aws[a-z-]*:kinesisanalytics:([a-z0-9-]+):([0-9]{12}):application/([a-zA-Z0-9_.-]{1,128})$`)

func init() {
	registerV1("TagResource", func(s *Service, r *awsproto.Request) (any, error) { return s.tagResource(r, 1) })
	registerV2("TagResource", func(s *Service, r *awsproto.Request) (any, error) { return s.tagResource(r, 2) })
}

// byARNLocked resolves an application ARN. Caller holds s.mu.
func (s *Service) byARNLocked(r *awsproto.Request, arn string, apiVersion int) (*application, error) {
	m := appARNPattern.FindStringSubmatch(arn)
	if m == nil {
		return nil, errInvalidArg("ResourceARN %s is not an application ARN.", arn)
	}
	rr := *r
	rr.Region, rr.Account = m[1], m[2]
	return s.lookupLocked(&rr, apiVersion, m[3])
}

func (s *Service) tagResource(r *awsproto.Request, apiVersion int) (any, error) {
	var in tagResourceInput
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	var v awserr.Validation
	checkARN(&v, in.ResourceARN, "resourceARN", true)
	if in.Tags == nil {
		v.Add(nil, "tags", "Member must not be null")
	} else if len(in.Tags) < 1 {
		v.Add("[]", "tags", "Member must have length greater than or equal to 1")
	}
	checkTags(&v, in.Tags, "tags")
	if err := v.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a, err := s.byARNLocked(r, *in.ResourceARN, apiVersion)
	if err != nil {
		return nil, err
	}
	tags, err := mergeTags(a.Tags, in.Tags)
	if err != nil {
		return nil, err
	}
	old := a.Tags
	a.Tags = tags
	if err := s.commitLocked(); err != nil {
		a.Tags = old
		return nil, err
	}
	return struct{}{}, nil
}
