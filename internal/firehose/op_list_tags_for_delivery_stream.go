package firehose

// ListTagsForDeliveryStream pages tags in key order after
// ExclusiveStartTagKey, Limit (1–50, default 50) at a time, with
// HasMoreTags.

import (
	"sort"

	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/awsproto"
)

func (s *Service) listTags(req *awsproto.Request) (any, error) {
	var in listTagsInput
	if err := awsproto.Decode(req.Codec, req.Body, &in); err != nil {
		return nil, err
	}
	var v awserr.Validation
	validateName(&v, in.DeliveryStreamName, "deliveryStreamName")
	if in.Limit != nil && (*in.Limit < 1 || *in.Limit > 50) {
		v.Add(*in.Limit, "limit", "Member must have value between 1 and 50")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	limit := 50
	if in.Limit != nil {
		limit = int(*in.Limit)
	}
	s.mu.Lock()
	st, err := s.lookupLocked(req, *in.DeliveryStreamName)
	if err != nil {
		s.mu.Unlock()
		return nil, err
	}
	tags := append([]Tag(nil), st.meta.Tags...)
	s.mu.Unlock()
	sort.Slice(tags, func(i, j int) bool { return deref(tags[i].Key) < deref(tags[j].Key) })
	out := listTagsOutput{Tags: []Tag{}}
	for _, t := range tags {
		if in.ExclusiveStartTagKey != nil && deref(t.Key) <= *in.ExclusiveStartTagKey {
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
