package glue

// DeleteDatabase: removes a database and every table in it.

import (
	"strings"

	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/awsproto"
)

func (s *Service) deleteDatabase(req *awsproto.Request) (any, error) {
	var in getDatabaseInput
	if err := awsproto.Decode(req.Codec, req.Body, &in); err != nil {
		return nil, err
	}
	var v awserr.Validation
	validateName(&v, in.Name, "name")
	if err := v.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.dbLocked(req, in.CatalogId, *in.Name); err != nil {
		return nil, err
	}
	c, _ := s.catalogLocked(req.Account, req.Region, in.CatalogId, false)
	name := strings.ToLower(*in.Name)
	db := c[name]
	delete(c, name)
	if err := s.saveLocked(); err != nil {
		c[name] = db
		return nil, err
	}
	return struct{}{}, nil
}
