package glue

// GetDatabase: one database by name (case-insensitive);
// EntityNotFoundException "Database <name> not found." otherwise.

import (
	"strings"

	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/awsproto"
)

type getDatabaseInput struct {
	CatalogId *string `json:"CatalogId"`
	Name      *string `json:"Name"`
}

func (s *Service) getDatabase(req *awsproto.Request) (any, error) {
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
	db, err := s.dbLocked(req, in.CatalogId, *in.Name)
	if err != nil {
		return nil, err
	}
	return map[string]any{"Database": databaseOut(strings.ToLower(*in.Name), req.Account, db)}, nil
}
