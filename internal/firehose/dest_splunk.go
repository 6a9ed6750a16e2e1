package firehose

import (
	"encoding/json"
	"fmt"
	"net/url"
	"time"

	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/firehose/fhdest"
	"github.com/eddy-streams/eddy/internal/firehose/splunk"
)

// splunkConfig is SplunkDestinationConfiguration's delivery members.
type splunkConfig struct {
	HECEndpoint                       *string `json:"HECEndpoint"`
	HECEndpointType                   *string `json:"HECEndpointType"`
	HECToken                          *string `json:"HECToken"`
	HECAcknowledgmentTimeoutInSeconds *int32  `json:"HECAcknowledgmentTimeoutInSeconds"`
}

func init() {
	registerDest(&destSpec{
		kind: "Splunk", path: "splunkDestinationConfiguration", metric: "Splunk", errType: "splunk-failed",
		sizeMax: 5, intervalMax: 60, defSize: 5, defInterval: 60, defRetry: 300,
		backupModes: [2]string{"FailedEventsOnly", "AllEvents"},
		defaults:    map[string]any{"HECAcknowledgmentTimeoutInSeconds": 180},
		check: func(_ *Service, members map[string]json.RawMessage, _ *S3Config) error {
			_, err := parseSplunk(members)
			return err
		},
		build: func(s *Service, raw json.RawMessage) (fhdest.Destination, error) {
			var members map[string]json.RawMessage
			if err := json.Unmarshal(raw, &members); err != nil {
				return nil, err
			}
			cfg, err := parseSplunk(members)
			if err != nil {
				return nil, err
			}
			cfg.Now = s.now
			if b := s.opts.DestRetryBase; b > 0 && b < time.Second {
				cfg.AckPoll = b
			}
			return splunk.New(cfg), nil
		},
	})
}

func parseSplunk(members map[string]json.RawMessage) (splunk.Config, error) {
	const path = "splunkDestinationConfiguration"
	var c splunkConfig
	b, _ := json.Marshal(members)
	if err := json.Unmarshal(b, &c); err != nil {
		return splunk.Config{}, awserr.InvalidArgument("%s: %v", path, err)
	}
	var v awserr.Validation
	if c.HECEndpoint == nil {
		v.Add(nil, path+".hECEndpoint", "Member must not be null")
	} else if n := len(*c.HECEndpoint); n > 2048 {
		v.Add(*c.HECEndpoint, path+".hECEndpoint", "Member must have length less than or equal to 2048")
	}
	if c.HECEndpointType == nil {
		v.Add(nil, path+".hECEndpointType", "Member must not be null")
	} else if *c.HECEndpointType != "Raw" && *c.HECEndpointType != "Event" {
		v.Add(*c.HECEndpointType, path+".hECEndpointType", "Member must satisfy enum value set: [Raw, Event]")
	}
	if t := c.HECAcknowledgmentTimeoutInSeconds; t != nil && (*t < 180 || *t > 600) {
		v.Add(*t, path+".hECAcknowledgmentTimeoutInSeconds", "Member must have value between 180 and 600")
	}
	if err := v.Err(); err != nil {
		return splunk.Config{}, err
	}
	if c.HECToken == nil || *c.HECToken == "" {
		return splunk.Config{}, awserr.InvalidArgument("HECToken is required (Eddy does not read SecretsManagerConfiguration).")
	}
	if u, err := url.Parse(*c.HECEndpoint); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return splunk.Config{}, awserr.InvalidArgument("%s", fmt.Sprintf("HECEndpoint %s is not an http(s) URL.", *c.HECEndpoint))
	}
	cfg := splunk.Config{Endpoint: *c.HECEndpoint, Event: *c.HECEndpointType == "Event", Token: *c.HECToken, AckTimeout: 180 * time.Second}
	if t := c.HECAcknowledgmentTimeoutInSeconds; t != nil {
		cfg.AckTimeout = time.Duration(*t) * time.Second
	}
	return cfg, nil
}
