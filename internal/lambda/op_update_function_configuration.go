package lambda

// UpdateFunctionConfiguration (PUT /2015-03-31/functions/NAME/configuration):
// changes Runtime, Handler, Role, Description, Timeout, MemorySize and
// Environment (replaced whole, as in AWS). New processes get the new
// settings; warm ones are retired.

import (
	"net/http"

	"github.com/eddy-streams/eddy/internal/awserr"
)

type updateConfigInput struct {
	Runtime     *string      `json:"Runtime"`
	Handler     *string      `json:"Handler"`
	Role        *string      `json:"Role"`
	Description *string      `json:"Description"`
	Timeout     *int         `json:"Timeout"`
	MemorySize  *int         `json:"MemorySize"`
	Environment *Environment `json:"Environment"`
	RevisionId  string       `json:"RevisionId"`
}

func opUpdateFunctionConfiguration(s *Service, c *call) (response, error) {
	var in updateConfigInput
	if err := decode(c, &in); err != nil {
		return response{}, err
	}
	if err := checkSettings(in.Runtime, in.Timeout, in.MemorySize, in.Environment); err != nil {
		return response{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	f, err := s.lookupLocked(c.req.Account, c.req.Region, c.name, "")
	if err != nil {
		return response{}, err
	}
	if in.RevisionId != "" && in.RevisionId != f.Config.RevisionId {
		return response{}, awserr.New(tPreconditionFailed, http.StatusPreconditionFailed, "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id")
	}
	cfg := &f.Config
	if in.Runtime != nil {
		cfg.Runtime = *in.Runtime
	}
	if in.Handler != nil {
		cfg.Handler = *in.Handler
	}
	if in.Role != nil {
		cfg.Role = *in.Role
	}
	if in.Description != nil {
		cfg.Description = *in.Description
	}
	if in.Timeout != nil {
		cfg.Timeout = *in.Timeout
	}
	if in.MemorySize != nil {
		cfg.MemorySize = *in.MemorySize
	}
	if in.Environment != nil {
		cfg.Environment = in.Environment
	}
	s.touchLocked(f)
	if err := s.saveLocked(); err != nil {
		return response{}, err
	}
	return response{status: http.StatusOK, body: *cfg}, nil
}
