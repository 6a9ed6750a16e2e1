package glue

// DeleteTable: removes a table and all its versions.

import (
	"strings"

	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/awsproto"
)

func (s *Service) deleteTable(req *awsproto.Request) (any, error) {
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
	db, _, err := s.tableLocked(req, in.CatalogId, *in.DatabaseName, *in.Name)
	if err != nil {
		return nil, err
	}
	delete(db.Tables, strings.ToLower(*in.Name))
	return struct{}{}, s.saveLocked()
}
