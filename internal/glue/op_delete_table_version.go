package glue

// DeleteTableVersion: removes one archived version. The current version
// cannot be deleted (InvalidInputException; delete the table instead).

import (
	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/awsproto"
)

func (s *Service) deleteTableVersion(req *awsproto.Request) (any, error) {
	var in tableRef
	if err := awsproto.Decode(req.Codec, req.Body, &in); err != nil {
		return nil, err
	}
	var v awserr.Validation
	validateName(&v, in.DatabaseName, "databaseName")
	validateName(&v, in.TableName, "tableName")
	if in.VersionId == nil {
		v.Add(nil, "versionId", "Member must not be null")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_, t, err := s.tableLocked(req, in.CatalogId, *in.DatabaseName, *in.TableName)
	if err != nil {
		return nil, err
	}
	i := findVersion(t, *in.VersionId)
	if i < 0 {
		return nil, entityNotFound("Version %s of table %s not found.", *in.VersionId, *in.TableName)
	}
	if i == len(t.Versions)-1 {
		return nil, invalidInput("Cannot delete the current version of table %s.", *in.TableName)
	}
	old := t.Versions
	t.Versions = append(append([]version(nil), t.Versions[:i]...), t.Versions[i+1:]...)
	if err := s.saveLocked(); err != nil {
		t.Versions = old
		return nil, err
	}
	return struct{}{}, nil
}
