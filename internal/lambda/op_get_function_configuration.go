package lambda

// GetFunctionConfiguration (GET /2015-03-31/functions/NAME/configuration):
// the FunctionConfiguration of $LATEST (the only version Eddy keeps).

import "net/http"

func opGetFunctionConfiguration(s *Service, c *call) (response, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, err := s.lookupLocked(c.req.Account, c.req.Region, c.name, c.query.Get("Qualifier"))
	if err != nil {
		return response{}, err
	}
	return response{status: http.StatusOK, body: f.Config}, nil
}
