package lambda

// GetEventSourceMapping (GET /2015-03-31/event-source-mappings/UUID): the
// mapping's configuration, State (Enabled, Disabled, Deleting) and
// LastProcessingResult ("No records processed", "OK", "PROBLEM: …").
// Unknown UUID: ResourceNotFoundException (404) "The resource you
// requested does not exist.".

import (
	"net/http"

	"github.com/eddy-streams/eddy/internal/awserr"
)

func (s *Service) mappingFor(c *call) (*mapping, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.mappings[c.name]
	if m == nil || m.set.Account != c.req.Account || m.set.Region != c.req.Region {
		return nil, awserr.New(tResourceNotFound, http.StatusNotFound, "The resource you requested does not exist.")
	}
	return m, nil
}

func opGetEventSourceMapping(s *Service, c *call) (response, error) {
	m, err := s.mappingFor(c)
	if err != nil {
		return response{}, err
	}
	return response{status: http.StatusOK, body: m.config()}, nil
}
