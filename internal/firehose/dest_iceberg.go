package firehose

// The Apache Iceberg tables destination (IcebergDestinationConfiguration):
// records are JSON objects written, one commit per buffer and table, to
// tables of Eddy's Glue Data Catalog (internal/firehose/iceberg). The delivery loop of
// dest_other.go buffers, retries within RetryOptions, and writes records
// that do not fit the schema or could not be committed in time to S3 as
// error records (FailedDataOnly, the only backup mode AWS accepts).
//
// Routing (AWS's rules): with one table configured and no query, every
// record is an insert into it; a MetadataExtraction processor (JQ-1.6 query
// returning destinationDatabaseName, destinationTableName and operation)
// routes each record and picks insert/update/delete, falling back to the
// single configured table. Update and delete write equality deletes on the
// table's UniqueKeys (or its identifier fields). Lambda processing (its
// otfMetadata) is refused at creation with a message that says so.

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/firehose/fhdest"
	"github.com/eddy-streams/eddy/internal/firehose/iceberg"
)

// icebergConfig is IcebergDestinationConfiguration's delivery members.
type icebergConfig struct {
	CatalogConfiguration *struct {
		CatalogARN        *string `json:"CatalogARN"`
		WarehouseLocation *string `json:"WarehouseLocation"`
	} `json:"CatalogConfiguration"`
	DestinationTableConfigurationList []icebergTableConfig     `json:"DestinationTableConfigurationList"`
	ProcessingConfiguration           *ProcessingConfiguration `json:"ProcessingConfiguration"`
	SchemaEvolutionConfiguration      *struct {
		Enabled *bool `json:"Enabled"`
	} `json:"SchemaEvolutionConfiguration"`
	TableCreationConfiguration *struct {
		Enabled *bool `json:"Enabled"`
	} `json:"TableCreationConfiguration"`
}

type icebergTableConfig struct {
	DestinationDatabaseName *string         `json:"DestinationDatabaseName"`
	DestinationTableName    *string         `json:"DestinationTableName"`
	UniqueKeys              []string        `json:"UniqueKeys"`
	PartitionSpec           json.RawMessage `json:"PartitionSpec"`
	S3ErrorOutputPrefix     *string         `json:"S3ErrorOutputPrefix"`
}

func init() {
	registerDest(&destSpec{
		kind: "Iceberg", path: "icebergDestinationConfiguration", metric: "Iceberg", ownProcessing: true,
		errType: "iceberg-failed", sizeMax: 128, intervalMax: 900, defSize: defaultSizeMB, defInterval: defaultInterval, defRetry: 300,
		backupModes: [2]string{"FailedDataOnly", "AllData"},
		needsRole:   true,
		defaults:    map[string]any{"AppendOnly": false},
		check:       checkIceberg,
		build:       buildIceberg,
	})
}

var (
	icebergNameRe    = regexp.MustCompile(`^[a-zA-Z0-9._]+$`)
	icebergCatalogRe = regexp.MustCompile(`^arn:[^:]*:glue:([^:]*):([0-9]{12}):catalog$`)
)

func checkIceberg(_ *Service, members map[string]json.RawMessage, _ *S3Config) error {
	const path = "icebergDestinationConfiguration"
	var c icebergConfig
	b, _ := json.Marshal(members)
	if err := json.Unmarshal(b, &c); err != nil {
		return awserr.InvalidArgument("%s: %v", path, err)
	}
	var v awserr.Validation
	if c.CatalogConfiguration == nil {
		v.Add(nil, path+".catalogConfiguration", "Member must not be null")
	} else if a := c.CatalogConfiguration.CatalogARN; a != nil && (len(*a) < 1 || len(*a) > 512) {
		v.Add(*a, path+".catalogConfiguration.catalogARN", "Member must have length between 1 and 512")
	}
	for i, t := range c.DestinationTableConfigurationList {
		p := fmt.Sprintf("%s.destinationTableConfigurationList.%d.member", path, i+1)
		for _, f := range []struct {
			v    *string
			name string
		}{{t.DestinationDatabaseName, "destinationDatabaseName"}, {t.DestinationTableName, "destinationTableName"}} {
			switch {
			case f.v == nil:
				v.Add(nil, p+"."+f.name, "Member must not be null")
			case len(*f.v) < 1 || len(*f.v) > 255:
				v.Add(*f.v, p+"."+f.name, "Member must have length between 1 and 255")
			case !icebergNameRe.MatchString(*f.v):
				v.Add(*f.v, p+"."+f.name, `Member must satisfy regular expression pattern: [a-zA-Z0-9\.\_]+`)
			}
		}
		for _, k := range t.UniqueKeys {
			if len(k) < 1 || len(k) > 1024 || strings.ContainsAny(k, " \t\r\n") {
				v.Add(k, p+".uniqueKeys", `Member must satisfy constraint: [Member must have length between 1 and 1024, Member must satisfy regular expression pattern: ^\S+$]`)
			}
		}
		if e := t.S3ErrorOutputPrefix; e != nil && len(*e) > 1024 {
			v.Add(*e, p+".s3ErrorOutputPrefix", "Member must have length less than or equal to 1024")
		}
	}
	if err := v.Err(); err != nil {
		return err
	}
	if a := c.CatalogConfiguration.CatalogARN; a == nil || !icebergCatalogRe.MatchString(*a) {
		return awserr.InvalidArgument("CatalogARN must be a Glue Data Catalog ARN of the form arn:aws:glue:<region>:<account-id>:catalog.")
	}
	if m, ok := members["S3BackupMode"]; ok && strings.Trim(string(m), `"`) == "AllData" {
		return awserr.InvalidArgument("S3BackupMode AllData is not supported for Apache Iceberg Tables destinations; use FailedDataOnly.")
	}
	query, err := icebergQuery(c.ProcessingConfiguration)
	if err != nil {
		return err
	}
	if n := len(c.DestinationTableConfigurationList); query == "" && n != 1 {
		if n == 0 {
			return awserr.InvalidArgument("An Apache Iceberg Tables destination needs DestinationTableConfigurationList to name the table when no MetadataExtraction query routes the records.")
		}
		return awserr.InvalidArgument("Routing records among %d tables needs a MetadataExtraction processor (JQ-1.6 query giving destinationDatabaseName and destinationTableName) in ProcessingConfiguration.", n)
	}
	if s := c.SchemaEvolutionConfiguration; s != nil && deref(s.Enabled) {
		return awserr.InvalidArgument("Eddy does not support SchemaEvolutionConfiguration on Apache Iceberg Tables destinations: create the columns in the table.")
	}
	if t := c.TableCreationConfiguration; t != nil && deref(t.Enabled) {
		return awserr.InvalidArgument("Eddy does not support TableCreationConfiguration on Apache Iceberg Tables destinations: create the table in the Glue Data Catalog first.")
	}
	return nil
}

// icebergQuery validates ProcessingConfiguration and returns its
// MetadataExtractionQuery ("" when there is none).
func icebergQuery(p *ProcessingConfiguration) (string, error) {
	if p == nil || !deref(p.Enabled) {
		return "", nil
	}
	query := ""
	for _, pr := range p.Processors {
		switch deref(pr.Type) {
		case procMetadata:
			q, ok := param(pr, paramQuery)
			if !ok || q == "" {
				return "", awserr.InvalidArgument("MetadataExtraction needs a MetadataExtractionQuery parameter.")
			}
			if e, ok := param(pr, paramEngine); !ok || e != engineJQ16 {
				return "", awserr.InvalidArgument("JsonParsingEngine must be JQ-1.6.")
			}
			if _, err := iceberg.ParseQuery(q); err != nil {
				return "", awserr.InvalidArgument("%s", err.Error())
			}
			query = q
		default:
			return "", awserr.InvalidArgument("Eddy supports only the MetadataExtraction processor (JQ routing) on Apache Iceberg Tables destinations, not %s: Lambda routing metadata (otfMetadata) is not read.", deref(pr.Type))
		}
	}
	return query, nil
}

// icebergDest builds the destination of a stored configuration.
func icebergDest(raw json.RawMessage) (region, account string, d *iceberg.Destination, tables []icebergTableConfig, err error) {
	var c icebergConfig
	if err := json.Unmarshal(raw, &c); err != nil {
		return "", "", nil, nil, fmt.Errorf("iceberg configuration: %w", err)
	}
	if c.CatalogConfiguration == nil {
		return "", "", nil, nil, fmt.Errorf("iceberg configuration: a catalog is required")
	}
	m := icebergCatalogRe.FindStringSubmatch(deref(c.CatalogConfiguration.CatalogARN))
	if m == nil {
		return "", "", nil, nil, fmt.Errorf("iceberg configuration: bad CatalogARN")
	}
	d = &iceberg.Destination{}
	for _, t := range c.DestinationTableConfigurationList {
		d.Tables = append(d.Tables, iceberg.TableConfig{Database: deref(t.DestinationDatabaseName), Table: deref(t.DestinationTableName),
			UniqueKeys: t.UniqueKeys, ErrorOutputPrefix: deref(t.S3ErrorOutputPrefix)})
	}
	q, err := icebergQuery(c.ProcessingConfiguration)
	if err != nil {
		return "", "", nil, nil, err
	}
	if q != "" {
		if d.Query, err = iceberg.ParseQuery(q); err != nil {
			return "", "", nil, nil, err
		}
	}
	return m[1], m[2], d, c.DestinationTableConfigurationList, nil
}

func buildIceberg(s *Service, raw json.RawMessage) (fhdest.Destination, error) {
	g, ok := s.opts.Catalog.(iceberg.Glue)
	if !ok || g == nil {
		return nil, fmt.Errorf("no Glue Data Catalog is configured for Iceberg delivery")
	}
	region, account, d, _, err := icebergDest(raw)
	if err != nil {
		return nil, err
	}
	up := s.uploader("")
	d.Catalog = &iceberg.Catalog{Glue: g, Account: account, Region: region,
		FS: func(ctx context.Context) *iceberg.FS { return iceberg.NewFS(ctx, up) }}
	return d, nil
}
