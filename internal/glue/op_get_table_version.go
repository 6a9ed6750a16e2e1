package glue

// GetTableVersion: one version of a table (the current one without
// VersionId); EntityNotFoundException for an unknown version.

import (
	"strings"

	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/awsproto"
)

func (s *Service) getTableVersion(req *awsproto.Request) (any, error) {
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
	ver := t.Versions[len(t.Versions)-1]
	if in.VersionId != nil && *in.VersionId != "" {
		i := findVersion(t, *in.VersionId)
		if i < 0 {
			return nil, entityNotFound("Version %s of table %s not found.", *in.VersionId, *in.TableName)
		}
		ver = t.Versions[i]
	}
	return map[string]any{"TableVersion": map[string]any{"VersionId": ver.ID, "Table": tableOut(strings.ToLower(*in.DatabaseName), req.Account, t, ver)}}, nil
}

func findVersion(t *table, id string) int {
	for i, v := range t.Versions {
		if v.ID == id {
			return i
		}
	}
	return -1
}
