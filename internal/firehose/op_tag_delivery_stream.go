package firehose

// TagDeliveryStream adds or overwrites 1–50 tags; a stream may hold at
// most 50 in all (LimitExceededException otherwise).

import (
	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/awsproto"
)

// dedupeTags merges add into cur: a key already present gets the new value.
func dedupeTags(cur []Tag, add []Tag) []Tag {
	out := append([]Tag(nil), cur...)
	for _, t := range add {
		found := false
		for i := range out {
			if deref(out[i].Key) == deref(t.Key) {
				out[i].Value = t.Value
				found = true
				break
			}
		}
		if !found {
			out = append(out, Tag{Key: t.Key, Value: t.Value})
		}
	}
	return out
}

func (s *Service) tagDeliveryStream(req *awsproto.Request) (any, error) {
	var in tagInput
	if err := awsproto.Decode(req.Codec, req.Body, &in); err != nil {
		return nil, err
	}
	var v awserr.Validation
	validateName(&v, in.DeliveryStreamName, "deliveryStreamName")
	if in.Tags == nil {
		v.Add(nil, "tags", "Member must not be null")
	} else if len(in.Tags) < 1 || len(in.Tags) > maxTags {
		v.Add(len(in.Tags), "tags", "Member must have length between 1 and 50")
	}
	validateTags(&v, in.Tags, "tags")
	if err := v.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	st, err := s.lookupLocked(req, *in.DeliveryStreamName)
	if err != nil {
		s.mu.Unlock()
		return nil, err
	}
	merged := dedupeTags(st.meta.Tags, in.Tags)
	if len(merged) > maxTags {
		s.mu.Unlock()
		return nil, awserr.LimitExceeded("A delivery stream cannot have more than %d tags.", maxTags)
	}
	st.meta.Tags = merged
	s.mu.Unlock()
	st.wake()
	if err := s.save(); err != nil {
		s.log.Error("save metadata", "err", err)
		return nil, awserr.Internal()
	}
	return struct{}{}, nil
}
