package kinesis

// ListStreams lists the caller's streams (account and region) in name order,
// with the legacy ExclusiveStartStreamName and the opaque NextToken (300 s).
// Limit defaults to 100; larger values are capped at 100 per call.

import (
	"sort"

	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/awsproto"
)

type listStreamsInput struct {
	Limit                    *int64  `json:"Limit"`
	ExclusiveStartStreamName *string `json:"ExclusiveStartStreamName"`
	NextToken                *string `json:"NextToken"`
}

type streamSummaryShape struct {
	StreamName              string              `json:"StreamName"`
	StreamARN               string              `json:"StreamARN"`
	StreamStatus            string              `json:"StreamStatus"`
	StreamModeDetails       modeShape           `json:"StreamModeDetails"`
	StreamCreationTimestamp *awsproto.Timestamp `json:"StreamCreationTimestamp"`
}

type listStreamsOutput struct {
	StreamNames     []string             `json:"StreamNames"`
	HasMoreStreams  bool                 `json:"HasMoreStreams"`
	NextToken       *string              `json:"NextToken,omitempty"`
	StreamSummaries []streamSummaryShape `json:"StreamSummaries"`
}

func init() { register("ListStreams", (*Service).listStreams) }

func (s *Service) listStreams(r *awsproto.Request) (any, error) {
	var in listStreamsInput
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	var v awserr.Validation
	checkRange(&v, in.Limit, "limit", 1, 10000)
	if in.ExclusiveStartStreamName != nil {
		checkName(&v, *in.ExclusiveStartStreamName, "exclusiveStartStreamName")
	}
	if in.NextToken != nil {
		checkLen(&v, *in.NextToken, "nextToken", 1, 1048576)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	after := ""
	if in.ExclusiveStartStreamName != nil {
		after = *in.ExclusiveStartStreamName
	}
	if in.NextToken != nil {
		it, err := s.openToken(r, tokenListStreams, *in.NextToken)
		if err != nil {
			return nil, err
		}
		after = it.StreamName
	}
	limit := 100
	if in.Limit != nil && *in.Limit < 100 {
		limit = int(*in.Limit)
	}
	s.mu.RLock()
	var all []*stream
	for k, st := range s.streams {
		if k.account == r.Account && k.region == r.Region && st.Name > after {
			all = append(all, st)
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i].Name < all[j].Name })
	out := listStreamsOutput{StreamNames: []string{}, StreamSummaries: []streamSummaryShape{}}
	for i, st := range all {
		if i == limit {
			out.HasMoreStreams = true
			break
		}
		out.StreamNames = append(out.StreamNames, st.Name)
		out.StreamSummaries = append(out.StreamSummaries, streamSummaryShape{
			StreamName: st.Name, StreamARN: st.arn(), StreamStatus: st.Status,
			StreamModeDetails: modeShape{st.Mode}, StreamCreationTimestamp: st.created(),
		})
	}
	s.mu.RUnlock()
	if out.HasMoreStreams {
		tok := s.makeToken(r, tokenListStreams, out.StreamNames[len(out.StreamNames)-1], 0, 0)
		out.NextToken = &tok
	}
	return out, nil
}
