package firehose

import (
	"encoding/json"
	"fmt"

	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/firehose/fhdest"
	"github.com/eddy-streams/eddy/internal/firehose/opensearch"
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
				_, err := openSearchDest(members, k.path, serverless)
				return err
			},
			build: func(_ *Service, raw json.RawMessage) (fhdest.Destination, error) {
				var members map[string]json.RawMessage
				if err := json.Unmarshal(raw, &members); err != nil {
					return nil, err
				}
				return openSearchDest(members, k.path, serverless)
			},
		})
	}
}

func openSearchDest(members map[string]json.RawMessage, path string, serverless bool) (*opensearch.Dest, error) {
	var c openSearchConfig
	b, _ := json.Marshal(members)
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, awserr.InvalidArgument("%s: %v", path, err)
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
	if err := v.Err(); err != nil {
		return nil, err
	}
	endpoint := deref(c.ClusterEndpoint)
	if serverless {
		endpoint = deref(c.CollectionEndpoint)
	}
	if endpoint == "" {
		if c.DomainARN != nil {
			return nil, awserr.InvalidArgument("Eddy cannot resolve DomainARN %s to a cluster; give ClusterEndpoint instead.", *c.DomainARN)
		}
		if serverless {
			return nil, awserr.InvalidArgument("CollectionEndpoint is required.")
		}
		return nil, awserr.InvalidArgument("Exactly one of DomainARN or ClusterEndpoint must be specified.")
	}
	if c.DomainARN != nil && c.ClusterEndpoint != nil {
		return nil, awserr.InvalidArgument("Exactly one of DomainARN or ClusterEndpoint must be specified.")
	}
	cfg := opensearch.Config{Endpoint: endpoint, IndexName: deref(c.IndexName), TypeName: deref(c.TypeName),
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
	d, err := opensearch.New(cfg)
	if err != nil {
		return nil, awserr.InvalidArgument("%s", fmt.Sprint(err))
	}
	return d, nil
}

func osDefaults(serverless bool) map[string]any {
	if serverless {
		return nil
	}
	return map[string]any{"IndexRotationPeriod": opensearch.OneDay,
		"DocumentIdOptions": map[string]any{"DefaultDocumentIdFormat": "FIREHOSE_DEFAULT"}}
}
