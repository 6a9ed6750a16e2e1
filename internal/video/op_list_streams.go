package video

// ListStreams: the caller's streams in its account and region, by name,
// at most MaxResults (1-10000, default 10000) per page with an opaque
// NextToken; StreamNameCondition{ComparisonOperator: BEGINS_WITH,
// ComparisonValue} filters by prefix.

import (
	"encoding/base64"
	"sort"
	"strings"
)

type listStreamsInput struct {
	MaxResults          *int
	NextToken           string
	StreamNameCondition *struct {
		ComparisonOperator string
		ComparisonValue    string
	}
}

func opListStreams(s *Service, c *call) (any, error) {
	var in listStreamsInput
	if err := decode(c, &in); err != nil {
		return nil, err
	}
	max := 10000
	if in.MaxResults != nil {
		if *in.MaxResults < 1 || *in.MaxResults > 10000 {
			return nil, errInvalidArg("1 validation error detected: Value '%d' at 'maxResults' failed to satisfy constraint: Member must have value between 1 and 10000", *in.MaxResults)
		}
		max = *in.MaxResults
	}
	prefix := ""
	if cond := in.StreamNameCondition; cond != nil {
		if cond.ComparisonOperator != "" && cond.ComparisonOperator != "BEGINS_WITH" {
			return nil, errInvalidArg("1 validation error detected: Value '%s' at 'streamNameCondition.comparisonOperator' failed to satisfy constraint: Member must satisfy enum value set: [BEGINS_WITH]", cond.ComparisonOperator)
		}
		prefix = cond.ComparisonValue
	}
	after := ""
	if in.NextToken != "" {
		b, err := base64.RawURLEncoding.DecodeString(in.NextToken)
		if err != nil {
			return nil, errInvalidArg("The NextToken is not valid.")
		}
		after = string(b)
	}
	s.mu.Lock()
	var infos []streamInfo
	for _, st := range s.streams {
		if st.Account == c.req.Account && st.Region == c.req.Region && strings.HasPrefix(st.Name, prefix) && st.Name > after {
			infos = append(infos, st.info())
		}
	}
	s.mu.Unlock()
	sort.Slice(infos, func(i, j int) bool { return infos[i].StreamName < infos[j].StreamName })
	out := map[string]any{}
	if len(infos) > max {
		infos = infos[:max]
		out["NextToken"] = base64.RawURLEncoding.EncodeToString([]byte(infos[max-1].StreamName))
	}
	if infos == nil {
		infos = []streamInfo{}
	}
	out["StreamInfoList"] = infos
	return out, nil
}
