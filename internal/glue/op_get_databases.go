package glue

// GetDatabases: the caller's databases in name order, MaxResults (1–100,
// default 100) per page with an opaque NextToken.

import (
	"sort"

	"github.com/eddy-streams/eddy/internal/awsproto"
)

type getDatabasesInput struct {
	CatalogId  *string `json:"CatalogId"`
	NextToken  *string `json:"NextToken"`
	MaxResults *int32  `json:"MaxResults"`
}

func (s *Service) getDatabases(req *awsproto.Request) (any, error) {
	var in getDatabasesInput
	if err := awsproto.Decode(req.Codec, req.Body, &in); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.catalogLocked(req.Account, req.Region, in.CatalogId, false)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(c))
	for n := range c {
		names = append(names, n)
	}
	sort.Strings(names)
	start, end, token, err := paginate(len(names), in.NextToken, in.MaxResults)
	if err != nil {
		return nil, err
	}
	list := []any{}
	for _, n := range names[start:end] {
		list = append(list, databaseOut(n, req.Account, c[n]))
	}
	out := map[string]any{"DatabaseList": list}
	if token != "" {
		out["NextToken"] = token
	}
	return out, nil
}
