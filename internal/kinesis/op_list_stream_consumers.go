package kinesis

// ListStreamConsumers pages through a stream's consumers in registration
// order: StreamARN (required), MaxResults 1..10000 (default 100), NextToken
// (opaque, 300 s), StreamCreationTimestamp (must match the stream's, else
// ResourceNotFoundException). A token from another stream is refused.

import (
	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/awsproto"
)

type listStreamConsumersInput struct {
	StreamARN               *string             `json:"StreamARN"`
	NextToken               *string             `json:"NextToken"`
	MaxResults              *int64              `json:"MaxResults"`
	StreamCreationTimestamp *awsproto.Timestamp `json:"StreamCreationTimestamp"`
}

type listStreamConsumersOutput struct {
	Consumers []consumerShape `json:"Consumers"`
	NextToken *string         `json:"NextToken,omitempty"`
}

func init() { register("ListStreamConsumers", (*Service).listStreamConsumers) }

func (s *Service) listStreamConsumers(r *awsproto.Request) (any, error) {
	var in listStreamConsumersInput
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	var v awserr.Validation
	checkRange(&v, in.MaxResults, "maxResults", 1, 10000)
	if in.NextToken != nil {
		checkLen(&v, *in.NextToken, "nextToken", 1, 1048576)
	}
	if in.StreamARN == nil {
		v.Add(nil, "streamARN", "Member must not be null")
	} else {
		checkLen(&v, *in.StreamARN, "streamARN", 1, 2048)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	limit := 100
	if in.MaxResults != nil {
		limit = int(*in.MaxResults)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	st, err := s.lookupLocked(r, nil, in.StreamARN)
	if err != nil {
		return nil, err
	}
	if in.StreamCreationTimestamp != nil && in.StreamCreationTimestamp.UnixMilli()/1000 != st.CreatedMs/1000 {
		return nil, notFound(st.Name, st.Account)
	}
	start := 0
	if in.NextToken != nil {
		it, err := s.openToken(r, tokenListConsumers, *in.NextToken)
		if err != nil {
			return nil, err
		}
		if it.StreamName != st.Name || it.StreamCreated != st.CreatedMs {
			return nil, awserr.InvalidArgument("Invalid NextToken.")
		}
		start = int(it.Pos)
	}
	out := listStreamConsumersOutput{Consumers: []consumerShape{}}
	for i := start; i < len(st.Consumers); i++ {
		if len(out.Consumers) == limit {
			tok := s.makeToken(r, tokenListConsumers, st.Name, st.CreatedMs, uint64(i))
			out.NextToken = &tok
			break
		}
		out.Consumers = append(out.Consumers, st.consumerShape(st.Consumers[i]))
	}
	return out, nil
}
