package glue

// Iceberg tables in the catalog, for in-process writers (Firehose's Iceberg
// destination). An Iceberg table is a Glue table whose Parameters carry
// table_type=ICEBERG and metadata_location; a commit replaces the
// parameters of the current version if it is still the version the writer
// read (UpdateTable's VersionId rule) without archiving the old definition
// (UpdateTable's SkipArchive, as iceberg-go's and pyiceberg's Glue catalogs
// commit by default): a stream commits every few seconds.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/awsproto"
)

// IcebergTable is what an Iceberg writer reads of a table.
type IcebergTable struct {
	VersionID  string
	Parameters map[string]string
}

// ErrVersionConflict is wrapped by CommitIcebergTable when the table's
// version moved since the writer read it.
var ErrVersionConflict = errors.New("the table was changed by another writer")

// IcebergTable returns a table's current version and parameters.
func (s *Service) IcebergTable(_ context.Context, account, region, catalogID, dbName, name string) (IcebergTable, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var cid *string
	if catalogID != "" {
		cid = &catalogID
	}
	_, t, err := s.tableLocked(&awsproto.Request{Account: account, Region: region}, cid, dbName, name)
	if err != nil {
		return IcebergTable{}, err
	}
	v := t.Versions[len(t.Versions)-1]
	out := IcebergTable{VersionID: v.ID, Parameters: map[string]string{}}
	if raw := v.Input["Parameters"]; raw != nil {
		if err := json.Unmarshal(raw, &out.Parameters); err != nil {
			return IcebergTable{}, invalidInput("Table %s has unreadable Parameters: %v", name, err)
		}
	}
	return out, nil
}

// CommitIcebergTable replaces the table's parameters if its current version
// is still versionID (ConcurrentModificationException wrapping
// ErrVersionConflict otherwise).
func (s *Service) CommitIcebergTable(_ context.Context, account, region, catalogID, dbName, name, versionID string, params map[string]string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var cid *string
	if catalogID != "" {
		cid = &catalogID
	}
	_, t, err := s.tableLocked(&awsproto.Request{Account: account, Region: region}, cid, dbName, name)
	if err != nil {
		return err
	}
	cur := t.Versions[len(t.Versions)-1]
	if cur.ID != versionID {
		return fmt.Errorf("%w: %w", ErrVersionConflict,
			awserr.New(awserr.TConcurrentModification, 400, "Table %s version %s is not the current version.", name, versionID))
	}
	p, err := json.Marshal(params)
	if err != nil {
		return fmt.Errorf("glue: encode parameters: %w", err)
	}
	input := make(map[string]json.RawMessage, len(cur.Input)+1)
	for k, v := range cur.Input {
		input[k] = v
	}
	input["Parameters"] = p
	nv := version{ID: strconv.Itoa(t.NextVersion), UpdatedMs: s.now().UnixMilli(), Input: input}
	old := t.Versions
	t.Versions = append(t.Versions[:len(t.Versions)-1:len(t.Versions)-1], nv)
	t.NextVersion++
	if err := s.saveLocked(); err != nil {
		t.Versions = old
		t.NextVersion--
		// cluster mode: reload before answering, so that the writer's
		// retry reads the winner's metadata
		s.mu.Unlock()
		s.refresh()
		s.mu.Lock()
		var lr *lostRace
		if errors.As(err, &lr) { // another node committed first
			return fmt.Errorf("%w: %w", ErrVersionConflict,
				awserr.New(awserr.TConcurrentModification, 400, "Table %s version %s is not the current version.", name, versionID))
		}
		return err
	}
	return nil
}
