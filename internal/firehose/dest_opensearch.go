package firehose

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"

	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/firehose/fhdest"
	"github.com/eddy-streams/eddy/internal/firehose/opensearch"
	"github.com/eddy-streams/eddy/internal/firehose/s3dest"
)

// openSearchConfig is the delivery members of the OpenSearch,
// Elasticsearch and OpenSearch Serverless configurations.
type openSearchConfig struct {
	DomainARN           *string `json:"DomainARN"`
	ClusterEndpoint     *string `json:"ClusterEndpoint"`
	CollectionEndpoint  *string `json:"CollectionEndpoint"`
	IndexName           *string `json:"IndexName"`
	TypeName            *string `json:"TypeName"`
	IndexRotationPeriod *string `json:"IndexRotationPeriod"`
	DocumentIdOptions   *struct {
		DefaultDocumentIdFormat *string `json:"DefaultDocumentIdFormat"`
	} `json:"DocumentIdOptions"`
}

// OpenSearchEndpointTag is the delivery-stream tag that gives the endpoint
// URL of the domain named by DomainARN (Eddy cannot look domains up): it is
// to DomainARN what eddy:s3-endpoint is to BucketARN. Read when the stream is
// created or updated (it must be there then) and at every delivery.
const OpenSearchEndpointTag = "eddy:opensearch-endpoint"

func init() {
	for _, k := range []struct{ kind, path, errType string }{
		{"Amazonopensearchservice", "amazonopensearchserviceDestinationConfiguration", "AmazonOpenSearchService-failed"},
		{"Elasticsearch", "elasticsearchDestinationConfiguration", "elasticsearch-failed"},
		{"AmazonOpenSearchServerless", "amazonOpenSearchServerlessDestinationConfiguration", "AmazonOpenSearchServerless-failed"},
	} {
		k := k
		serverless := k.kind == "AmazonOpenSearchServerless"
		registerDest(&destSpec{
			kind: k.kind, path: k.path, metric: destMetricNames[k.kind], errType: k.errType,
			sizeMax: 100, intervalMax: 900, defSize: 5, defInterval: 300, defRetry: 300,
			backupModes: [2]string{"FailedDocumentsOnly", "AllDocuments"},
			defaults:    osDefaults(serverless),
			needsRole:   true,
			check: func(_ *Service, members map[string]json.RawMessage, _ *S3Config) error {
				_, _, err := parseOpenSearch(members, k.path, serverless)
				return err
			},
			buildFor: func(s *Service, cfg deliveryConfig) (fhdest.Destination, error) {
				var members map[string]json.RawMessage
				if err := json.Unmarshal(cfg.other.Config, &members); err != nil {
					return nil, err
				}
				oc, domainARN, err := parseOpenSearch(members, k.path, serverless)
				if err != nil {
					return nil, err
				}
				if domainARN != "" {
					if cfg.osEndpoint == "" {
						return nil, fmt.Errorf("the stream has no %s tag, so Eddy cannot reach domain %s", OpenSearchEndpointTag, domainARN)
					}
					oc.Endpoint = cfg.osEndpoint
				}
				service := opensearch.ServiceDomain
				if serverless {
					service = opensearch.ServiceServerless
				}
				oc.Sign = &opensearch.Signing{Service: service, Region: signingRegion(domainARN, oc.Endpoint, cfg.arn),
					Credentials: s3dest.Credentials(s3dest.Endpoint{AccessKey: s.opts.S3AccessKey, SecretKey: s.opts.S3SecretKey, Region: s.opts.S3Region}),
					Now:         s.now}
				return opensearch.New(oc)
			},
		})
	}
}

// parseOpenSearch validates an OpenSearch, Elasticsearch or Serverless
// configuration. Endpoint is ClusterEndpoint or CollectionEndpoint; with
// DomainARN it is empty and domainARN is set (the endpoint then comes from
// the stream's OpenSearchEndpointTag).
func parseOpenSearch(members map[string]json.RawMessage, path string, serverless bool) (cfg opensearch.Config, domainARN string, err error) {
	var c openSearchConfig
	b, _ := json.Marshal(members)
	if err := json.Unmarshal(b, &c); err != nil {
		return cfg, "", awserr.InvalidArgument("%s: %v", path, err)
	}
	var v awserr.Validation
	if c.IndexName == nil {
		v.Add(nil, path+".indexName", "Member must not be null")
	} else if n := len(*c.IndexName); n < 1 || n > 80 {
		v.Add(*c.IndexName, path+".indexName", "Member must have length between 1 and 80")
	}
	if r := c.IndexRotationPeriod; r != nil {
		switch *r {
		case opensearch.NoRotation, opensearch.OneHour, opensearch.OneDay, opensearch.OneWeek, opensearch.OneMonth:
		default:
			v.Add(*r, path+".indexRotationPeriod", "Member must satisfy enum value set: [NoRotation, OneHour, OneDay, OneWeek, OneMonth]")
		}
	}
	if o := c.DocumentIdOptions; o != nil && o.DefaultDocumentIdFormat != nil && *o.DefaultDocumentIdFormat != "FIREHOSE_DEFAULT" && *o.DefaultDocumentIdFormat != "NO_DOCUMENT_ID" {
		v.Add(*o.DefaultDocumentIdFormat, path+".documentIdOptions.defaultDocumentIdFormat", "Member must satisfy enum value set: [FIREHOSE_DEFAULT, NO_DOCUMENT_ID]")
	}
	if a := c.DomainARN; a != nil && (len(*a) < 1 || len(*a) > 512 || !strings.HasPrefix(*a, "arn:")) {
		v.Add(*a, path+".domainARN", "Member must satisfy regular expression pattern: arn:.*")
	}
	if err := v.Err(); err != nil {
		return cfg, "", err
	}
	endpoint := deref(c.ClusterEndpoint)
	if serverless {
		endpoint = deref(c.CollectionEndpoint)
		if endpoint == "" {
			return cfg, "", awserr.InvalidArgument("CollectionEndpoint is required.")
		}
	} else if (c.DomainARN == nil) == (c.ClusterEndpoint == nil) {
		return cfg, "", awserr.InvalidArgument("Exactly one of DomainARN or ClusterEndpoint must be specified.")
	}
	cfg = opensearch.Config{Endpoint: endpoint, IndexName: deref(c.IndexName), TypeName: deref(c.TypeName),
		Rotation: opensearch.OneDay}
	if c.IndexRotationPeriod != nil {
		cfg.Rotation = *c.IndexRotationPeriod
	}
	if serverless {
		cfg.Rotation, cfg.TypeName, cfg.NoDocID = opensearch.NoRotation, "", true
	}
	if o := c.DocumentIdOptions; o != nil && deref(o.DefaultDocumentIdFormat) == "NO_DOCUMENT_ID" {
		cfg.NoDocID = true
	}
	probe := cfg
	if endpoint == "" { // DomainARN: checked when the tag is read
		probe.Endpoint = "https://domain.invalid"
	}
	if _, err := opensearch.New(probe); err != nil {
		return cfg, "", awserr.InvalidArgument("%s", fmt.Sprint(err))
	}
	if !serverless && c.DomainARN != nil {
		domainARN = *c.DomainARN
	}
	return cfg, domainARN, nil
}

// checkDomainTag refuses a DomainARN destination whose stream has no
// OpenSearchEndpointTag (CreateDeliveryStream's Tags, or the stream's tags
// at UpdateDestination).
func checkDomainTag(o *otherDest, tags []Tag) error {
	if o == nil || !isOpenSearch(o.Kind) {
		return nil
	}
	var c openSearchConfig
	if json.Unmarshal(o.Config, &c) != nil || c.DomainARN == nil {
		return nil
	}
	for _, t := range tags {
		if deref(t.Key) == OpenSearchEndpointTag {
			if u, err := url.Parse(deref(t.Value)); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return awserr.InvalidArgument("Tag %s must be an http(s) URL of the domain's endpoint, not %q.", OpenSearchEndpointTag, deref(t.Value))
			}
			return nil
		}
	}
	return awserr.InvalidArgument("Eddy cannot look up the endpoint of domain %s: tag the Firehose stream with %s=<https://endpoint> (in CreateDeliveryStream's Tags), or give ClusterEndpoint instead of DomainARN.",
		*c.DomainARN, OpenSearchEndpointTag)
}

// signingRegion is the region of the SigV4 scope: the DomainARN's, else the
// endpoint host's (<name>.<region>.es.amazonaws.com, <id>.<region>.aoss.amazonaws.com),
// else the delivery stream's.
func signingRegion(domainARN, endpoint, streamARN string) string {
	if p := strings.Split(domainARN, ":"); len(p) >= 6 && p[3] != "" {
		return p[3]
	}
	if u, err := url.Parse(endpoint); err == nil {
		labels := strings.Split(u.Hostname(), ".")
		for i := 1; i+2 < len(labels); i++ {
			if (labels[i+1] == "es" || labels[i+1] == "aoss") && labels[i+2] == "amazonaws" {
				return labels[i]
			}
		}
	}
	if p := strings.Split(streamARN, ":"); len(p) >= 6 && p[3] != "" {
		return p[3]
	}
	return "us-east-1"
}

func osDefaults(serverless bool) map[string]any {
	if serverless {
		return nil
	}
	return map[string]any{"IndexRotationPeriod": opensearch.OneDay,
		"DocumentIdOptions": map[string]any{"DefaultDocumentIdFormat": "FIREHOSE_DEFAULT"}}
}
