package lambda

// ListEventSourceMappings (GET /2015-03-31/event-source-mappings/): the
// account and region's mappings, filtered by EventSourceArn and
// FunctionName, MaxItems (1–10000, default 100) per page with NextMarker.

import (
	"net/http"
	"sort"
	"strconv"
)

func opListEventSourceMappings(s *Service, c *call) (response, error) {
	max := 100
	if v := c.query.Get("MaxItems"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 10000 {
			return response{}, errInvalid("1 validation error detected: Value '%s' at 'maxItems' failed to satisfy constraint: Member must have value between 1 and 10000", v)
		}
		max = n
	}
	fnArn := ""
	if fn := c.query.Get("FunctionName"); fn != "" {
		k, err := s.resolveName(c.req.Account, c.req.Region, fn, "")
		if err != nil {
			return response{}, err
		}
		fnArn = functionARN(k.region, k.account, k.name)
	}
	src, marker := c.query.Get("EventSourceArn"), c.query.Get("Marker")
	s.mu.Lock()
	var ms []*mapping
	for id, m := range s.mappings {
		st := m.set
		if st.Account == c.req.Account && st.Region == c.req.Region && id > marker &&
			(src == "" || st.EventSourceArn == src) && (fnArn == "" || st.FunctionArn == fnArn) {
			ms = append(ms, m)
		}
	}
	s.mu.Unlock()
	sort.Slice(ms, func(i, j int) bool { return ms[i].set.UUID < ms[j].set.UUID })
	out := map[string]any{}
	if len(ms) > max {
		ms = ms[:max]
		out["NextMarker"] = ms[max-1].set.UUID
	}
	list := []map[string]any{}
	for _, m := range ms {
		list = append(list, m.config())
	}
	out["EventSourceMappings"] = list
	return response{status: http.StatusOK, body: out}, nil
}
