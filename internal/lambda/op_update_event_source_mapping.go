package lambda

// UpdateEventSourceMapping (PUT /2015-03-31/event-source-mappings/UUID,
// 202): changes settings (not the source or starting position, as AWS).
// The mapping's workers stop after their current batch and restart with
// the new settings from the saved checkpoints; Enabled false pauses it.

import "net/http"

func opUpdateEventSourceMapping(s *Service, c *call) (response, error) {
	var in mappingInput
	if err := decode(c, &in); err != nil {
		return response{}, err
	}
	if in.StartingPosition != nil || in.EventSourceArn != nil {
		return response{}, badMapping("StartingPosition and EventSourceArn cannot be updated.")
	}
	m, err := s.mappingFor(c)
	if err != nil {
		return response{}, err
	}
	m.mu.Lock()
	set := m.set
	m.mu.Unlock()
	if err := s.applyMapping(&set, &in); err != nil {
		return response{}, err
	}
	filters, _ := compileFilters(set.FilterCriteria)
	m.stop()
	s.mu.Lock()
	defer s.mu.Unlock()
	m.mu.Lock()
	m.set, m.filters = set, filters
	m.mu.Unlock()
	if err := s.saveLocked(); err != nil {
		return response{}, err
	}
	s.startMappingLocked(m)
	out := m.config()
	out["State"] = map[bool]string{true: "Updating", false: "Disabling"}[set.Enabled]
	return response{status: http.StatusAccepted, body: out}, nil
}
