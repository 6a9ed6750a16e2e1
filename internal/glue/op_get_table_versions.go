package glue

// GetTableVersions: every kept version of a table, newest first.

import (
	"strings"

	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/awsproto"
)

func (s *Service) getTableVersions(req *awsproto.Request) (any, error) {
	var in tableRef
	if err := awsproto.Decode(req.Codec, req.Body, &in); err != nil {
		return nil, err
	}
	var v awserr.Validation
	validateName(&v, in.DatabaseName, "databaseName")
	validateName(&v, in.TableName, "tableName")
	if err := v.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_, t, err := s.tableLocked(req, in.CatalogId, *in.DatabaseName, *in.TableName)
	if err != nil {
		return nil, err
	}
	start, end, token, err := paginate(len(t.Versions), in.NextToken, in.MaxResults)
	if err != nil {
		return nil, err
	}
	list := []any{}
	for i := start; i < end; i++ {
		ver := t.Versions[len(t.Versions)-1-i]
		list = append(list, map[string]any{"VersionId": ver.ID, "Table": tableOut(strings.ToLower(*in.DatabaseName), req.Account, t, ver)})
	}
	out := map[string]any{"TableVersions": list}
	if token != "" {
		out["NextToken"] = token
	}
	return out, nil
}
