package lambda

// ListFunctions (GET /2015-03-31/functions/): the account and region's
// functions sorted by name, MaxItems (1–10000, default 50) per page, with
// NextMarker to continue (the last name returned).

import (
	"net/http"
	"sort"
	"strconv"
)

func opListFunctions(s *Service, c *call) (response, error) {
	max := 50
	if v := c.query.Get("MaxItems"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 10000 {
			return response{}, errInvalid("1 validation error detected: Value '%s' at 'maxItems' failed to satisfy constraint: Member must have value between 1 and 10000", v)
		}
		max = n
	}
	marker := c.query.Get("Marker")
	s.mu.Lock()
	var all []FunctionConfiguration
	for k, f := range s.funcs {
		if k.account == c.req.Account && k.region == c.req.Region && k.name > marker {
			all = append(all, f.Config)
		}
	}
	s.mu.Unlock()
	sort.Slice(all, func(i, j int) bool { return all[i].FunctionName < all[j].FunctionName })
	out := map[string]any{}
	if len(all) > max {
		all = all[:max]
		out["NextMarker"] = all[max-1].FunctionName
	}
	if all == nil {
		all = []FunctionConfiguration{}
	}
	out["Functions"] = all
	return response{status: http.StatusOK, body: out}, nil
}
