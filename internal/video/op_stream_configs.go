package video

// Describe/UpdateImageGenerationConfiguration and
// Describe/UpdateNotificationConfiguration: the configuration is stored on
// the stream as given and returned by Describe, as AWS stores it. Eddy acts
// on neither (no images are generated to S3, no notifications are sent);
// docs/compat/video.md says so.

import "encoding/json"

type configInput struct {
	StreamName                   string
	StreamARN                    string
	ImageGenerationConfiguration json.RawMessage
	NotificationConfiguration    json.RawMessage
}

func opUpdateImageGenerationConfiguration(s *Service, c *call) (any, error) {
	return s.setConfig(c, func(st *stream, in *configInput) { st.ImageGenCfg = in.ImageGenerationConfiguration })
}

func opUpdateNotificationConfiguration(s *Service, c *call) (any, error) {
	return s.setConfig(c, func(st *stream, in *configInput) { st.NotifyCfg = in.NotificationConfiguration })
}

func (s *Service) setConfig(c *call, set func(*stream, *configInput)) (any, error) {
	var in configInput
	if err := decode(c, &in); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st, _, err := s.lookupLocked(c.req, in.StreamName, in.StreamARN)
	if err != nil {
		return nil, err
	}
	set(st, &in)
	return map[string]any{}, s.saveLocked()
}

func opDescribeImageGenerationConfiguration(s *Service, c *call) (any, error) {
	return s.getConfig(c, "ImageGenerationConfiguration", func(st *stream) json.RawMessage { return st.ImageGenCfg })
}

func opDescribeNotificationConfiguration(s *Service, c *call) (any, error) {
	return s.getConfig(c, "NotificationConfiguration", func(st *stream) json.RawMessage { return st.NotifyCfg })
}

func (s *Service) getConfig(c *call, field string, get func(*stream) json.RawMessage) (any, error) {
	var in configInput
	if err := decode(c, &in); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st, _, err := s.lookupLocked(c.req, in.StreamName, in.StreamARN)
	if err != nil {
		return nil, err
	}
	out := map[string]any{}
	if v := get(st); len(v) > 0 && string(v) != "null" {
		out[field] = v
	}
	return out, nil
}
