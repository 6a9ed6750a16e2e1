package glue

// GetTable: the current definition of a table, with DatabaseName,
// CatalogId, CreateTime, UpdateTime and VersionId filled in.

import (
	"strings"

	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/awsproto"
)

type tableRef struct {
	CatalogId    *string `json:"CatalogId"`
	DatabaseName *string `json:"DatabaseName"`
	Name         *string `json:"Name"`
	TableName    *string `json:"TableName"`
	VersionId    *string `json:"VersionId"`
	NextToken    *string `json:"NextToken"`
	MaxResults   *int32  `json:"MaxResults"`
	Expression   *string `json:"Expression"`
}

func (s *Service) getTable(req *awsproto.Request) (any, error) {
	var in tableRef
	if err := awsproto.Decode(req.Codec, req.Body, &in); err != nil {
		return nil, err
	}
	var v awserr.Validation
	validateName(&v, in.DatabaseName, "databaseName")
	validateName(&v, in.Name, "name")
	if err := v.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_, t, err := s.tableLocked(req, in.CatalogId, *in.DatabaseName, *in.Name)
	if err != nil {
		return nil, err
	}
	return map[string]any{"Table": tableOut(strings.ToLower(*in.DatabaseName), req.Account, t, t.Versions[len(t.Versions)-1])}, nil
}
