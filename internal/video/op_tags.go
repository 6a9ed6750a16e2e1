package video

// Tag operations, two families with the same store (the stream's tags):
//   - TagStream/UntagStream/ListTagsForStream name the stream by StreamName
//     or StreamARN; Tags is a map; UntagStream takes TagKeyList.
//   - TagResource/UntagResource/ListTagsForResource (paths with a capital
//     letter, as AWS defines them) name a ResourceARN; TagResource's Tags
//     is a list of {Key, Value}.
// At most 50 tags per stream (TagsPerResourceExceededLimitException); keys
// 1-128 characters, values up to 256; an ARN that names no stream is
// ResourceNotFoundException.

import (
	"net/http"

	"github.com/eddy-streams/eddy/internal/awserr"
)

func checkTags(t map[string]string) error {
	for k, v := range t {
		if len(k) < 1 || len(k) > 128 {
			return errInvalidArg("1 validation error detected: Value '%s' at 'tags' failed to satisfy constraint: Map keys must have length between 1 and 128", k)
		}
		if len(v) > 256 {
			return errInvalidArg("1 validation error detected: Value '%s' at 'tags' failed to satisfy constraint: Map values must have length less than or equal to 256", v)
		}
	}
	return nil
}

func (s *Service) addTags(c *call, name, arn string, tags map[string]string) error {
	if err := checkTags(tags); err != nil {
		return err
	}
	if len(tags) == 0 {
		return errInvalidArg("1 validation error detected: Value null at 'tags' failed to satisfy constraint: Member must not be null")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st, _, err := s.lookupLocked(c.req, name, arn)
	if err != nil {
		return err
	}
	n := len(st.Tags)
	for k := range tags {
		if _, ok := st.Tags[k]; !ok {
			n++
		}
	}
	if n > 50 {
		return awserr.New(tTagsLimit, http.StatusBadRequest, "The stream cannot have more than 50 tags.")
	}
	if st.Tags == nil {
		st.Tags = map[string]string{}
	}
	for k, v := range tags {
		st.Tags[k] = v
	}
	return s.saveLocked()
}

func (s *Service) removeTags(c *call, name, arn string, keys []string) error {
	if len(keys) == 0 {
		return errInvalidArg("1 validation error detected: Value null at 'tagKeyList' failed to satisfy constraint: Member must not be null")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st, _, err := s.lookupLocked(c.req, name, arn)
	if err != nil {
		return err
	}
	for _, k := range keys {
		delete(st.Tags, k)
	}
	return s.saveLocked()
}

func (s *Service) listTags(c *call, name, arn string) (map[string]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, _, err := s.lookupLocked(c.req, name, arn)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for k, v := range st.Tags {
		out[k] = v
	}
	return out, nil
}

func opTagStream(s *Service, c *call) (any, error) {
	var in struct {
		StreamName, StreamARN string
		Tags                  map[string]string
	}
	if err := decode(c, &in); err != nil {
		return nil, err
	}
	return map[string]any{}, s.addTags(c, in.StreamName, in.StreamARN, in.Tags)
}

func opUntagStream(s *Service, c *call) (any, error) {
	var in struct {
		StreamName, StreamARN string
		TagKeyList            []string
	}
	if err := decode(c, &in); err != nil {
		return nil, err
	}
	return map[string]any{}, s.removeTags(c, in.StreamName, in.StreamARN, in.TagKeyList)
}

func opListTagsForStream(s *Service, c *call) (any, error) {
	var in struct{ StreamName, StreamARN, NextToken string }
	if err := decode(c, &in); err != nil {
		return nil, err
	}
	t, err := s.listTags(c, in.StreamName, in.StreamARN)
	if err != nil {
		return nil, err
	}
	return map[string]any{"Tags": t}, nil
}

func needARN(arn string) error {
	if arn == "" {
		return errInvalidArg("1 validation error detected: Value null at 'resourceARN' failed to satisfy constraint: Member must not be null")
	}
	return nil
}

func opTagResource(s *Service, c *call) (any, error) {
	var in struct {
		ResourceARN string
		Tags        []struct{ Key, Value string }
	}
	if err := decode(c, &in); err != nil {
		return nil, err
	}
	if err := needARN(in.ResourceARN); err != nil {
		return nil, err
	}
	m := map[string]string{}
	for _, t := range in.Tags {
		m[t.Key] = t.Value
	}
	return map[string]any{}, s.addTags(c, "", in.ResourceARN, m)
}

func opUntagResource(s *Service, c *call) (any, error) {
	var in struct {
		ResourceARN string
		TagKeyList  []string
	}
	if err := decode(c, &in); err != nil {
		return nil, err
	}
	if err := needARN(in.ResourceARN); err != nil {
		return nil, err
	}
	return map[string]any{}, s.removeTags(c, "", in.ResourceARN, in.TagKeyList)
}

func opListTagsForResource(s *Service, c *call) (any, error) {
	var in struct{ ResourceARN, NextToken string }
	if err := decode(c, &in); err != nil {
		return nil, err
	}
	if err := needARN(in.ResourceARN); err != nil {
		return nil, err
	}
	t, err := s.listTags(c, "", in.ResourceARN)
	if err != nil {
		return nil, err
	}
	return map[string]any{"Tags": t}, nil
}
