package firehose

// The Apache Iceberg tables destination (IcebergDestinationConfiguration):
// records are JSON objects appended, one snapshot per buffer, to a table of
// Eddy's Glue Data Catalog (internal/firehose/iceberg). The delivery loop of
// dest_other.go buffers, retries within RetryOptions, and writes records
// that do not fit the schema or could not be committed in time to S3 as
// error records (FailedDataOnly, the only backup mode AWS accepts).
//
// Routing: AWS sends every record to the table when the configuration
// lists one, and otherwise takes the table (and the insert/update/delete
// operation) from a JQ MetadataExtraction query or from Lambda's
// otfMetadata. Eddy does the single-table case and refuses the others at
// creation with a message that says so; UniqueKeys are accepted and
// described but, with no per-record operation, every record is an insert
// (what AWS does when no operation is supplied).

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
		kind: "Iceberg", path: "icebergDestinationConfiguration", metric: "Iceberg",
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
	switch n := len(c.DestinationTableConfigurationList); {
	case n == 0:
		return awserr.InvalidArgument("Eddy needs exactly one DestinationTableConfiguration for an Apache Iceberg Tables destination: routing records by JQ MetadataExtraction or Lambda otfMetadata is not supported by Eddy.")
	case n > 1:
		return awserr.InvalidArgument("Eddy delivers to one Iceberg table per Firehose stream: routing records among %d tables needs JQ MetadataExtraction or Lambda otfMetadata, which Eddy does not support.", n)
	}
	if p := c.ProcessingConfiguration; p != nil && deref(p.Enabled) && len(p.Processors) > 0 {
		return awserr.InvalidArgument("Eddy does not support ProcessingConfiguration on Apache Iceberg Tables destinations (record routing and operations from JQ or Lambda metadata).")
	}
	if s := c.SchemaEvolutionConfiguration; s != nil && deref(s.Enabled) {
		return awserr.InvalidArgument("Eddy does not support SchemaEvolutionConfiguration on Apache Iceberg Tables destinations: create the columns in the table.")
	}
	if t := c.TableCreationConfiguration; t != nil && deref(t.Enabled) {
		return awserr.InvalidArgument("Eddy does not support TableCreationConfiguration on Apache Iceberg Tables destinations: create the table in the Glue Data Catalog first.")
	}
	return nil
}

// icebergTarget reads the catalog and the table of a stored configuration.
func icebergTarget(raw json.RawMessage) (region, account string, t icebergTableConfig, err error) {
	var c icebergConfig
	if err := json.Unmarshal(raw, &c); err != nil {
		return "", "", t, fmt.Errorf("iceberg configuration: %w", err)
	}
	if c.CatalogConfiguration == nil || len(c.DestinationTableConfigurationList) != 1 {
		return "", "", t, fmt.Errorf("iceberg configuration: one table and a catalog are required")
	}
	m := icebergCatalogRe.FindStringSubmatch(deref(c.CatalogConfiguration.CatalogARN))
	if m == nil {
		return "", "", t, fmt.Errorf("iceberg configuration: bad CatalogARN")
	}
	return m[1], m[2], c.DestinationTableConfigurationList[0], nil
}

func buildIceberg(s *Service, raw json.RawMessage) (fhdest.Destination, error) {
	g, ok := s.opts.Catalog.(iceberg.Glue)
	if !ok || g == nil {
		return nil, fmt.Errorf("no Glue Data Catalog is configured for Iceberg delivery")
	}
	region, account, t, err := icebergTarget(raw)
	if err != nil {
		return nil, err
	}
	up := s.uploader("")
	cat := &iceberg.Catalog{Glue: g, Account: account, Region: region,
		FS: func(ctx context.Context) *iceberg.FS { return iceberg.NewFS(ctx, up) }}
	return &iceberg.Destination{Catalog: cat, Database: deref(t.DestinationDatabaseName), Table: deref(t.DestinationTableName)}, nil
}

// icebergErrorPrefix is the table's S3ErrorOutputPrefix ("" when unset).
func icebergErrorPrefix(o *otherDest) string {
	_, _, t, err := icebergTarget(o.Config)
	if err != nil {
		return ""
	}
	return deref(t.S3ErrorOutputPrefix)
}
