package firehose

// ListDeliveryStreams lists names in lexical order after
// ExclusiveStartDeliveryStreamName, filtered by DeliveryStreamType, Limit
// names at a time (default 10) with HasMoreDeliveryStreams.

import (
	"sort"

	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/awsproto"
)

func (s *Service) listDeliveryStreams(req *awsproto.Request) (any, error) {
	var in listInput
	if err := awsproto.Decode(req.Codec, req.Body, &in); err != nil {
		return nil, err
	}
	var v awserr.Validation
	if in.Limit != nil && (*in.Limit < 1 || *in.Limit > 10000) {
		v.Add(*in.Limit, "limit", "Member must have value between 1 and 10000")
	}
	if in.ExclusiveStartDeliveryStreamName != nil {
		validateName(&v, in.ExclusiveStartDeliveryStreamName, "exclusiveStartDeliveryStreamName")
	}
	if t := in.DeliveryStreamType; t != nil {
		switch *t {
		case typeDirectPut, typeKinesis, "MSKAsSource", "DatabaseAsSource":
		default:
			v.Add(*t, "deliveryStreamType", "Member must satisfy enum value set: [DatabaseAsSource, DirectPut, KinesisStreamAsSource, MSKAsSource]")
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	limit := 10
	if in.Limit != nil {
		limit = int(*in.Limit)
	}
	s.mu.Lock()
	var names []string
	for _, st := range s.streams {
		m := &st.meta
		if m.Account != req.Account || m.Region != req.Region {
			continue
		}
		if in.DeliveryStreamType != nil && *in.DeliveryStreamType != m.Type {
			continue
		}
		if in.ExclusiveStartDeliveryStreamName != nil && m.Name <= *in.ExclusiveStartDeliveryStreamName {
			continue
		}
		names = append(names, m.Name)
	}
	s.mu.Unlock()
	sort.Strings(names)
	out := listOutput{DeliveryStreamNames: names}
	if len(names) > limit {
		out.DeliveryStreamNames = names[:limit]
		out.HasMoreDeliveryStreams = true
	}
	if out.DeliveryStreamNames == nil {
		out.DeliveryStreamNames = []string{}
	}
	return out, nil
}
