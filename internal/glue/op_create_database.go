package glue

// CreateDatabase: creates a database in the caller's catalog. The name is
// stored lower-cased; an existing name gives AlreadyExistsException
// "Database already exists.". Tags are accepted and not kept.

import (
	"encoding/json"
	"strings"

	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/awsproto"
)

type createDatabaseInput struct {
	CatalogId     *string                    `json:"CatalogId"`
	DatabaseInput map[string]json.RawMessage `json:"DatabaseInput"`
}

func (s *Service) createDatabase(req *awsproto.Request) (any, error) {
	var in createDatabaseInput
	if err := awsproto.Decode(req.Codec, req.Body, &in); err != nil {
		return nil, err
	}
	var v awserr.Validation
	if in.DatabaseInput == nil {
		v.Add(nil, "databaseInput", "Member must not be null")
	} else {
		validateName(&v, nameOf(in.DatabaseInput), "databaseInput.name")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	name := strings.ToLower(*nameOf(in.DatabaseInput))
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.catalogLocked(req.Account, req.Region, in.CatalogId, true)
	if err != nil {
		return nil, err
	}
	if c[name] != nil {
		return nil, alreadyExists("Database already exists.")
	}
	c[name] = &database{Input: in.DatabaseInput, CreatedMs: s.now().UnixMilli(), Tables: map[string]*table{}}
	if err := s.saveLocked(); err != nil {
		delete(c, name)
		return nil, err
	}
	return struct{}{}, nil
}
