package glue

// UpdateTable: replaces a table's definition and archives the previous one
// as a version (unless SkipArchive). VersionId, when given, must be the
// current version (ConcurrentModificationException otherwise). In cluster
// mode a VersionId another node moved first answers the same.

import (
	"errors"
	"strconv"
	"strings"

	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/awsproto"
)

func (s *Service) updateTable(req *awsproto.Request) (any, error) {
	var in tableInputRequest
	if err := awsproto.Decode(req.Codec, req.Body, &in); err != nil {
		return nil, err
	}
	if err := in.validate(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_, t, err := s.tableLocked(req, in.CatalogId, *in.DatabaseName, *nameOf(in.TableInput))
	if err != nil {
		return nil, err
	}
	cur := t.Versions[len(t.Versions)-1]
	if in.VersionId != nil && *in.VersionId != "" && *in.VersionId != cur.ID {
		return nil, awserr.New(awserr.TConcurrentModification, 400, "Table %s version %s is not the current version.", strings.ToLower(*nameOf(in.TableInput)), *in.VersionId)
	}
	nv := version{ID: strconv.Itoa(t.NextVersion), UpdatedMs: s.now().UnixMilli(), Input: in.TableInput}
	old := t.Versions
	if in.SkipArchive != nil && *in.SkipArchive {
		t.Versions = append(t.Versions[:len(t.Versions)-1:len(t.Versions)-1], nv)
	} else {
		t.Versions = append(t.Versions[:len(t.Versions):len(t.Versions)], nv)
	}
	t.NextVersion++
	if err := s.saveLocked(); err != nil {
		t.Versions = old
		t.NextVersion--
		var lr *lostRace
		if errors.As(err, &lr) && in.VersionId != nil && *in.VersionId != "" {
			// another node moved the version first (cluster mode)
			return nil, awserr.New(awserr.TConcurrentModification, 400, "Table %s version %s is not the current version.", strings.ToLower(*nameOf(in.TableInput)), *in.VersionId)
		}
		return nil, err
	}
	return struct{}{}, nil
}
