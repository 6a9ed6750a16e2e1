package lambda

// DeleteEventSourceMapping (DELETE /2015-03-31/event-source-mappings/UUID,
// 202): stops the mapping after its current batch, removes it and its
// checkpoints, and answers its configuration with State "Deleting".

import "net/http"

func opDeleteEventSourceMapping(s *Service, c *call) (response, error) {
	m, err := s.mappingFor(c)
	if err != nil {
		return response{}, err
	}
	m.stop()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mappings[m.set.UUID] != m {
		return response{}, err
	}
	delete(s.mappings, m.set.UUID)
	if err := s.saveLocked(); err != nil {
		s.mappings[m.set.UUID] = m
		return response{}, err
	}
	if s.o.Backend != nil {
		s.o.Backend.SaveMeta("lambda-esm-"+m.set.UUID, []byte("{}"))
	}
	out := m.config()
	out["State"] = "Deleting"
	return response{status: http.StatusAccepted, body: out}, nil
}
