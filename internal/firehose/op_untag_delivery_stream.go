package firehose

// UntagDeliveryStream removes 1–50 tag keys; keys the stream does not have
// are ignored, as AWS ignores them.

import (
	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/awsproto"
)

func (s *Service) untagDeliveryStream(req *awsproto.Request) (any, error) {
	var in tagInput
	if err := awsproto.Decode(req.Codec, req.Body, &in); err != nil {
		return nil, err
	}
	var v awserr.Validation
	validateName(&v, in.DeliveryStreamName, "deliveryStreamName")
	if in.TagKeys == nil {
		v.Add(nil, "tagKeys", "Member must not be null")
	} else if len(in.TagKeys) < 1 || len(in.TagKeys) > maxTags {
		v.Add(len(in.TagKeys), "tagKeys", "Member must have length between 1 and 50")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	st, err := s.lookupLocked(req, *in.DeliveryStreamName)
	if err != nil {
		s.mu.Unlock()
		return nil, err
	}
	drop := map[string]bool{}
	for _, k := range in.TagKeys {
		drop[k] = true
	}
	var kept []Tag
	for _, t := range st.meta.Tags {
		if !drop[deref(t.Key)] {
			kept = append(kept, t)
		}
	}
	st.meta.Tags = kept
	s.mu.Unlock()
	if err := s.save(); err != nil {
		s.log.Error("save metadata", "err", err)
		return nil, awserr.Internal()
	}
	return struct{}{}, nil
}
