package lambda

// PutFunctionConcurrency (PUT /2017-10-31/functions/NAME/concurrency):
// reserved concurrency caps the function's simultaneous processes; 0
// throttles every invocation (TooManyRequestsException, 429). AWS's range
// is 0–1000 (the account limit less 100 unreserved; Eddy checks 0–1000).

import (
	"net/http"

	"github.com/eddy-streams/eddy/internal/awserr"
)

func opPutFunctionConcurrency(s *Service, c *call) (response, error) {
	var in struct {
		ReservedConcurrentExecutions *int `json:"ReservedConcurrentExecutions"`
	}
	if err := decode(c, &in); err != nil {
		return response{}, err
	}
	if in.ReservedConcurrentExecutions == nil {
		return response{}, awserr.New(tValidation, http.StatusBadRequest, "1 validation error detected: Value null at 'reservedConcurrentExecutions' failed to satisfy constraint: Member must not be null")
	}
	n := *in.ReservedConcurrentExecutions
	if n < 0 || n > 1000 {
		return response{}, awserr.New(tValidation, http.StatusBadRequest, "1 validation error detected: Value '%d' at 'reservedConcurrentExecutions' failed to satisfy constraint: Member must have value greater than or equal to 0", n)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	f, err := s.lookupLocked(c.req.Account, c.req.Region, c.name, "")
	if err != nil {
		return response{}, err
	}
	f.Reserved = &n
	f.pool.setLimit(n)
	if err := s.saveLocked(); err != nil {
		return response{}, err
	}
	return response{status: http.StatusOK, body: map[string]int{"ReservedConcurrentExecutions": n}}, nil
}

// GetFunctionConcurrency (GET /2019-09-30/functions/NAME/concurrency).
func opGetFunctionConcurrency(s *Service, c *call) (response, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, err := s.lookupLocked(c.req.Account, c.req.Region, c.name, "")
	if err != nil {
		return response{}, err
	}
	out := map[string]int{}
	if f.Reserved != nil {
		out["ReservedConcurrentExecutions"] = *f.Reserved
	}
	return response{status: http.StatusOK, body: out}, nil
}

// DeleteFunctionConcurrency (DELETE /2017-10-31/functions/NAME/concurrency, 204).
func opDeleteFunctionConcurrency(s *Service, c *call) (response, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, err := s.lookupLocked(c.req.Account, c.req.Region, c.name, "")
	if err != nil {
		return response{}, err
	}
	f.Reserved = nil
	f.pool.setLimit(s.o.MaxConcurrency)
	if err := s.saveLocked(); err != nil {
		return response{}, err
	}
	return response{status: http.StatusNoContent}, nil
}
