package firehose

import (
	"encoding/json"
	"fmt"
	"net/url"

	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/firehose/fhdest"
	"github.com/eddy-streams/eddy/internal/firehose/httpdest"
)

// httpConfig is HttpEndpointDestinationConfiguration's delivery members.
type httpConfig struct {
	EndpointConfiguration *struct {
		Url       *string `json:"Url"`
		Name      *string `json:"Name"`
		AccessKey *string `json:"AccessKey"`
	} `json:"EndpointConfiguration"`
	RequestConfiguration *struct {
		ContentEncoding  *string              `json:"ContentEncoding"`
		CommonAttributes []httpdest.Attribute `json:"CommonAttributes"`
	} `json:"RequestConfiguration"`
}

func init() {
	registerDest(&destSpec{
		kind: "HttpEndpoint", path: "httpEndpointDestinationConfiguration", metric: "HttpEndpoint",
		errType: "http-endpoint-failed", sizeMax: 64, intervalMax: 900, defSize: 5, defInterval: 300, defRetry: 300,
		backupModes: [2]string{"FailedDataOnly", "AllData"},
		hidden:      []string{"EndpointConfiguration.AccessKey"},
		check:       checkHTTP,
		build: func(s *Service, raw json.RawMessage) (fhdest.Destination, error) {
			var c httpConfig
			if err := json.Unmarshal(raw, &c); err != nil {
				return nil, fmt.Errorf("http endpoint configuration: %w", err)
			}
			cfg := httpdest.Config{URL: deref(c.EndpointConfiguration.Url), AccessKey: deref(c.EndpointConfiguration.AccessKey)}
			if rc := c.RequestConfiguration; rc != nil {
				cfg.GZIP = deref(rc.ContentEncoding) == "GZIP"
				cfg.CommonAttributes = rc.CommonAttributes
			}
			return httpdest.New(cfg, nil), nil
		},
	})
}

func checkHTTP(_ *Service, members map[string]json.RawMessage, _ *S3Config) error {
	const path = "httpEndpointDestinationConfiguration"
	var c httpConfig
	b, _ := json.Marshal(members)
	if err := json.Unmarshal(b, &c); err != nil {
		return awserr.InvalidArgument("%s: %v", path, err)
	}
	var v awserr.Validation
	if c.EndpointConfiguration == nil {
		v.Add(nil, path+".endpointConfiguration", "Member must not be null")
	} else if c.EndpointConfiguration.Url == nil {
		v.Add(nil, path+".endpointConfiguration.url", "Member must not be null")
	} else if u := *c.EndpointConfiguration.Url; len(u) < 1 || len(u) > 1000 {
		v.Add(u, path+".endpointConfiguration.url", "Member must have length between 1 and 1000")
	}
	if c.EndpointConfiguration != nil && c.EndpointConfiguration.AccessKey != nil && len(*c.EndpointConfiguration.AccessKey) > 4096 {
		v.Add("*** Sensitive Data Redacted ***", path+".endpointConfiguration.accessKey", "Member must have length less than or equal to 4096")
	}
	if rc := c.RequestConfiguration; rc != nil {
		if e := rc.ContentEncoding; e != nil && *e != "NONE" && *e != "GZIP" {
			v.Add(*e, path+".requestConfiguration.contentEncoding", "Member must satisfy enum value set: [NONE, GZIP]")
		}
		if len(rc.CommonAttributes) > 50 {
			v.Add(len(rc.CommonAttributes), path+".requestConfiguration.commonAttributes", "Member must have length less than or equal to 50")
		}
	}
	if err := v.Err(); err != nil {
		return err
	}
	// AWS accepts https URLs on port 443 only; Eddy also delivers to
	// http:// and any port (docs/compat/firehose.md).
	u, err := url.Parse(*c.EndpointConfiguration.Url)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return awserr.InvalidArgument("Invalid endpoint URL %s: it must be an http(s) URL.", *c.EndpointConfiguration.Url)
	}
	return nil
}
