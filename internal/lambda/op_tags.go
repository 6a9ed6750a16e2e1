package lambda

// TagResource (POST /2017-03-31/tags/ARN, 204), UntagResource (DELETE
// …?tagKeys=K, 204) and ListTags (GET, {"Tags":{…}}) on function ARNs.
// Tags eddy:endpoint and eddy:remote-function switch the function to a
// remote endpoint from its next invocation.

import (
	"net/http"
	"net/url"
	"strings"
)

func (s *Service) taggedLocked(c *call) (*function, error) {
	arn, err := url.PathUnescape(c.name)
	if err != nil || !strings.HasPrefix(arn, "arn:") {
		return nil, errInvalid("1 validation error detected: Value '%s' at 'resource' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:(aws[a-zA-Z-]*):lambda:[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1}:\\d{12}:(function:[a-zA-Z0-9-_]+(:(\\$LATEST|[a-zA-Z0-9-_]+))?|layer:([a-zA-Z0-9-_]+)|code-signing-config:csc-[a-z0-9]{17}|event-source-mapping:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})", c.name)
	}
	return s.lookupLocked(c.req.Account, c.req.Region, arn, "")
}

func opTagResource(s *Service, c *call) (response, error) {
	var in struct {
		Tags map[string]string `json:"Tags"`
	}
	if err := decode(c, &in); err != nil {
		return response{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	f, err := s.taggedLocked(c)
	if err != nil {
		return response{}, err
	}
	if f.Tags == nil {
		f.Tags = map[string]string{}
	}
	for k, v := range in.Tags {
		f.Tags[k] = v
	}
	if err := s.afterTagsLocked(f); err != nil {
		return response{}, err
	}
	return response{status: http.StatusNoContent}, nil
}

func opUntagResource(s *Service, c *call) (response, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, err := s.taggedLocked(c)
	if err != nil {
		return response{}, err
	}
	for _, k := range c.query["tagKeys"] {
		delete(f.Tags, k)
	}
	if err := s.afterTagsLocked(f); err != nil {
		return response{}, err
	}
	return response{status: http.StatusNoContent}, nil
}

func (s *Service) afterTagsLocked(f *function) error {
	if p := f.pool; p.fn.remote != f.Tags[tagEndpoint] || (p.fn.remote != "" && p.fn.remoteName != f.Tags[tagRemoteName] && f.Tags[tagRemoteName] != "") {
		f.pool = s.newPool(f)
		p.close()
	}
	return s.saveLocked()
}

func opListTags(s *Service, c *call) (response, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, err := s.taggedLocked(c)
	if err != nil {
		return response{}, err
	}
	tags := map[string]string{}
	for k, v := range f.Tags {
		tags[k] = v
	}
	return response{status: http.StatusOK, body: map[string]any{"Tags": tags}}, nil
}
