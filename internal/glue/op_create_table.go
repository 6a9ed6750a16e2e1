package glue

// CreateTable: adds a table (TableInput kept as given, name lower-cased) to
// a database; VersionId "0". EntityNotFoundException "Database <name> not
// found." or AlreadyExistsException "Table already exists.".

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/awsproto"
)

type tableInputRequest struct {
	CatalogId    *string                    `json:"CatalogId"`
	DatabaseName *string                    `json:"DatabaseName"`
	TableInput   map[string]json.RawMessage `json:"TableInput"`
	VersionId    *string                    `json:"VersionId"`
	SkipArchive  *bool                      `json:"SkipArchive"`
}

func (in *tableInputRequest) validate() error {
	var v awserr.Validation
	validateName(&v, in.DatabaseName, "databaseName")
	if in.TableInput == nil {
		v.Add(nil, "tableInput", "Member must not be null")
	} else {
		validateName(&v, nameOf(in.TableInput), "tableInput.name")
	}
	if err := v.Err(); err != nil {
		return err
	}
	var sd struct {
		Columns []struct {
			Name *string
			Type *string
		}
	}
	if raw := in.TableInput["StorageDescriptor"]; raw != nil {
		if err := json.Unmarshal(raw, &sd); err != nil {
			return awserr.Serialization("Cannot read StorageDescriptor: %v", err)
		}
		for i, c := range sd.Columns {
			if c.Name == nil {
				v.Add(nil, "tableInput.storageDescriptor.columns."+strconv.Itoa(i+1)+".member.name", "Member must not be null")
			}
		}
	}
	return v.Err()
}

func (s *Service) createTable(req *awsproto.Request) (any, error) {
	var in tableInputRequest
	if err := awsproto.Decode(req.Codec, req.Body, &in); err != nil {
		return nil, err
	}
	if err := in.validate(); err != nil {
		return nil, err
	}
	name := strings.ToLower(*nameOf(in.TableInput))
	s.mu.Lock()
	defer s.mu.Unlock()
	db, err := s.dbLocked(req, in.CatalogId, *in.DatabaseName)
	if err != nil {
		return nil, err
	}
	if db.Tables[name] != nil {
		return nil, alreadyExists("Table already exists.")
	}
	now := s.now().UnixMilli()
	db.Tables[name] = &table{CreatedMs: now, NextVersion: 1, Versions: []version{{ID: "0", UpdatedMs: now, Input: in.TableInput}}}
	if err := s.saveLocked(); err != nil {
		delete(db.Tables, name)
		return nil, err
	}
	return struct{}{}, nil
}
