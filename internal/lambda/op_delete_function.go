package lambda

// DeleteFunction (DELETE /2015-03-31/functions/NAME, 204): removes the
// function and kills its idle processes. Event source mappings that name
// it stay (as in AWS) and fail their invocations until deleted. Extracted
// code is removed; a local directory is left alone.

import (
	"net/http"
	"os"
)

func opDeleteFunction(s *Service, c *call) (response, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, err := s.lookupLocked(c.req.Account, c.req.Region, c.name, c.query.Get("Qualifier"))
	if err != nil {
		return response{}, err
	}
	k := fkey{f.Account, f.Region, f.Config.FunctionName}
	delete(s.funcs, k)
	if err := s.saveLocked(); err != nil {
		s.funcs[k] = f
		return response{}, err
	}
	f.pool.close()
	if !f.LocalDir {
		os.RemoveAll(f.CodeDir)
	}
	s.dropCode(f.CodeObject)
	return response{status: http.StatusNoContent}, nil
}
