package lambda

// GetFunction (GET /2015-03-31/functions/NAME): the configuration, a Code
// location and tags. Code.Location is a file:// URL of the extracted code
// directory (AWS gives a presigned S3 URL; there is no zip to download).

import "net/http"

func opGetFunction(s *Service, c *call) (response, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, err := s.lookupLocked(c.req.Account, c.req.Region, c.name, c.query.Get("Qualifier"))
	if err != nil {
		return response{}, err
	}
	out := map[string]any{
		"Configuration": f.Config,
		"Code":          map[string]string{"RepositoryType": "S3", "Location": "file://" + f.CodeDir},
	}
	if len(f.Tags) > 0 {
		out["Tags"] = f.Tags
	}
	if f.Reserved != nil {
		out["Concurrency"] = map[string]int{"ReservedConcurrentExecutions": *f.Reserved}
	}
	return response{status: http.StatusOK, body: out}, nil
}
