package kinesis

// ListTagsForStream lists a stream's tags in key order, after
// ExclusiveStartTagKey, at most Limit (1..50, default all) per call, with
// HasMoreTags. Works in any stream state.

import (
	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/awsproto"
)

type listTagsForStreamInput struct {
	StreamName           *string `json:"StreamName"`
	StreamARN            *string `json:"StreamARN"`
	ExclusiveStartTagKey *string `json:"ExclusiveStartTagKey"`
	Limit                *int64  `json:"Limit"`
}

type listTagsForStreamOutput struct {
	Tags        []tagShape `json:"Tags"`
	HasMoreTags bool       `json:"HasMoreTags"`
}

func init() { register("ListTagsForStream", (*Service).listTagsForStream) }

func (s *Service) listTagsForStream(r *awsproto.Request) (any, error) {
	var in listTagsForStreamInput
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	var v awserr.Validation
	checkRange(&v, in.Limit, "limit", 1, maxTags)
	if in.ExclusiveStartTagKey != nil {
		checkLen(&v, *in.ExclusiveStartTagKey, "exclusiveStartTagKey", 1, 128)
	}
	if err := requireStreamRef(&v, in.StreamName, in.StreamARN); err != nil {
		return nil, err
	}
	limit := maxTags
	if in.Limit != nil {
		limit = int(*in.Limit)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	st, err := s.lookupLocked(r, in.StreamName, in.StreamARN)
	if err != nil {
		return nil, err
	}
	out := listTagsForStreamOutput{Tags: []tagShape{}}
	for _, t := range tagList(st.Tags) {
		if in.ExclusiveStartTagKey != nil && t.Key <= *in.ExclusiveStartTagKey {
			continue
		}
		if len(out.Tags) == limit {
			out.HasMoreTags = true
			break
		}
		out.Tags = append(out.Tags, t)
	}
	return out, nil
}
