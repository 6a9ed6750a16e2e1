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
	db, t, err := s.tableLocked(req, in.CatalogId, *in.DatabaseName, *in.Name)
	if err != nil {
		return nil, err
	}
	name := strings.ToLower(*in.Name)
	delete(db.Tables, name)
	if err := s.saveLocked(); err != nil {
		db.Tables[name] = t
		return nil, err
	}
	return struct{}{}, nil
}
