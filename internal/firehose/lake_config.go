package firehose

// Data-lake features of ExtendedS3 destinations: dynamic partitioning,
// the RecordDeAggregation / MetadataExtraction / AppendDelimiterToRecord
// processors and record format conversion (JSON → Parquet). This file
// holds their configuration shapes and the rules AWS enforces on them
// (InvalidArgumentException); lake.go delivers.

import (
	"encoding/base64"
	"encoding/json"
	"fmt"

	"github.com/itchyny/gojq"

	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/firehose/s3dest"
)

// Processor types and parameters.
const (
	procLambda     = "Lambda"
	procMetadata   = "MetadataExtraction"
	procDeAgg      = "RecordDeAggregation"
	paramQuery     = "MetadataExtractionQuery"
	paramEngine    = "JsonParsingEngine"
	paramSubType   = "SubRecordType"
	paramDelimiter = "Delimiter"
	engineJQ16     = "JQ-1.6"
	minLakeSizeMB  = 64
	lakeDefaultMB  = 128
	maxPartitions  = 500
)

// Error output types of the lake features.
const (
	errTypePartitioning = "partitioning-failed"
	errTypeConversion   = "format-conversion-failed"
)

// formatConversion is DataFormatConversionConfiguration.
type formatConversion struct {
	Enabled             *bool `json:"Enabled"`
	SchemaConfiguration *struct {
		RoleARN      *string `json:"RoleARN"`
		CatalogId    *string `json:"CatalogId"`
		DatabaseName *string `json:"DatabaseName"`
		TableName    *string `json:"TableName"`
		Region       *string `json:"Region"`
		VersionId    *string `json:"VersionId"`
	} `json:"SchemaConfiguration"`
	InputFormatConfiguration *struct {
		Deserializer *struct {
			OpenXJsonSerDe *struct {
				ConvertDotsInJsonKeysToUnderscores *bool             `json:"ConvertDotsInJsonKeysToUnderscores"`
				CaseInsensitive                    *bool             `json:"CaseInsensitive"`
				ColumnToJsonKeyMappings            map[string]string `json:"ColumnToJsonKeyMappings"`
			} `json:"OpenXJsonSerDe"`
			HiveJsonSerDe *struct {
				TimestampFormats []string `json:"TimestampFormats"`
			} `json:"HiveJsonSerDe"`
		} `json:"Deserializer"`
	} `json:"InputFormatConfiguration"`
	OutputFormatConfiguration *struct {
		Serializer *struct {
			ParquetSerDe *struct {
				BlockSizeBytes              *int64  `json:"BlockSizeBytes"`
				PageSizeBytes               *int64  `json:"PageSizeBytes"`
				Compression                 *string `json:"Compression"`
				EnableDictionaryCompression *bool   `json:"EnableDictionaryCompression"`
				MaxPaddingBytes             *int64  `json:"MaxPaddingBytes"`
				WriterVersion               *string `json:"WriterVersion"`
			} `json:"ParquetSerDe"`
			OrcSerDe json.RawMessage `json:"OrcSerDe"`
		} `json:"Serializer"`
	} `json:"OutputFormatConfiguration"`
}

// conversionOf parses c's DataFormatConversionConfiguration; nil when absent
// or disabled (Enabled defaults to true).
func conversionOf(c *S3Config) (*formatConversion, error) {
	if len(c.DataFormatConversionConfiguration) == 0 || string(c.DataFormatConversionConfiguration) == "null" {
		return nil, nil
	}
	var f formatConversion
	if err := json.Unmarshal(c.DataFormatConversionConfiguration, &f); err != nil {
		return nil, awserr.InvalidArgument("DataFormatConversionConfiguration is not valid: %v", err)
	}
	if f.Enabled != nil && !*f.Enabled {
		return nil, nil
	}
	return &f, nil
}

func partitioningEnabled(c *S3Config) bool {
	d := c.DynamicPartitioningConfiguration
	return d != nil && deref(d.Enabled)
}

// processorsOf returns the enabled processors of c.
func processorsOf(c *S3Config) []Processor {
	p := c.ProcessingConfiguration
	if p == nil || !deref(p.Enabled) {
		return nil
	}
	return p.Processors
}

func param(p Processor, name string) (string, bool) {
	for _, x := range p.Parameters {
		if deref(x.ParameterName) == name {
			return deref(x.ParameterValue), true
		}
	}
	return "", false
}

// lakeEnabled says the stream needs the partitioned delivery loop.
func lakeEnabled(c *S3Config) bool {
	if partitioningEnabled(c) {
		return true
	}
	if f, _ := conversionOf(c); f != nil {
		return true
	}
	for _, p := range processorsOf(c) {
		if t := deref(p.Type); t == procDeAgg || t == procMetadata {
			return true
		}
	}
	return false
}

// lakeDefaults raises the default buffer size to 128 MiB when dynamic
// partitioning or format conversion is on (called before withDefaults).
func lakeDefaults(c *S3Config) {
	if c.BufferingHints != nil && c.BufferingHints.SizeInMBs != nil {
		return
	}
	f, _ := conversionOf(c)
	if f == nil && !partitioningEnabled(c) {
		return
	}
	if c.BufferingHints == nil {
		c.BufferingHints = &BufferingHints{}
	}
	c.BufferingHints.SizeInMBs = ptr(int32(lakeDefaultMB))
}

// checkPartitioningUpdate enforces that dynamic partitioning is set only at
// creation and never turned off.
func checkPartitioningUpdate(cur, u *S3Config) error {
	if u == nil || u.DynamicPartitioningConfiguration == nil || u.DynamicPartitioningConfiguration.Enabled == nil {
		return nil
	}
	was, now := partitioningEnabled(cur), *u.DynamicPartitioningConfiguration.Enabled
	switch {
	case now && !was:
		return awserr.InvalidArgument("Dynamic partitioning can only be enabled when the Firehose stream is created.")
	case was && !now:
		return awserr.InvalidArgument("Dynamic partitioning cannot be disabled once it is enabled.")
	}
	return nil
}

// checkLake checks the lake rules on a complete configuration (after
// defaults). It replaces the former blanket refusals.
func checkLake(c *S3Config) error {
	dp := partitioningEnabled(c)
	prefix, err := s3dest.ParsePrefixWith(deref(c.Prefix), s3dest.ParseOptions{Partitioning: dp})
	if err != nil {
		return awserr.InvalidArgument("%s", err.Error())
	}
	if ep := deref(c.ErrorOutputPrefix); ep != "" {
		e, err := s3dest.ParsePrefixWith(ep, s3dest.ParseOptions{Partitioning: dp})
		if err != nil {
			return awserr.InvalidArgument("%s", err.Error())
		}
		// AWS (s3-prefixes): "You cannot use partitionKeyFromLambda and
		// partitionKeyFromQuery namespaces when creating ErrorOutputPrefix
		// expressions."
		if len(e.QueryKeys()) > 0 || len(e.LambdaKeys()) > 0 {
			return awserr.InvalidArgument("ErrorOutputPrefix cannot use the partitionKeyFromQuery or partitionKeyFromLambda namespaces.")
		}
	}
	var query *gojq.Query
	var lambda bool
	seen := map[string]bool{}
	for _, p := range processorsOf(c) {
		typ := deref(p.Type)
		if seen[typ] {
			return awserr.InvalidArgument("Processor type %s can be specified only once.", typ)
		}
		seen[typ] = true
		allowed := map[string]bool{}
		switch typ {
		case appendDelimiter:
		case procLambda:
			lambda = true
			if err := checkLambdaProcessor(p); err != nil { // transform.go
				return err
			}
			continue
		case procMetadata:
			allowed = map[string]bool{paramQuery: true, paramEngine: true}
			if !dp {
				return awserr.InvalidArgument("MetadataExtraction processor can only be used when dynamic partitioning is enabled.")
			}
			q, ok := param(p, paramQuery)
			if !ok || q == "" {
				return awserr.InvalidArgument("MetadataExtraction processor requires the parameter MetadataExtractionQuery.")
			}
			if e, ok := param(p, paramEngine); !ok || e != engineJQ16 {
				return awserr.InvalidArgument("MetadataExtraction processor requires the parameter JsonParsingEngine with the value JQ-1.6.")
			}
			if query, err = gojq.Parse(q); err != nil {
				return awserr.InvalidArgument("MetadataExtractionQuery %s is not a valid JQ expression: %v", q, err)
			}
		case procDeAgg:
			allowed = map[string]bool{paramSubType: true, paramDelimiter: true}
			if !dp {
				return awserr.InvalidArgument("RecordDeAggregation processor can only be used when dynamic partitioning is enabled.")
			}
			st, _ := param(p, paramSubType)
			switch st {
			case "JSON":
				if _, ok := param(p, paramDelimiter); ok {
					return awserr.InvalidArgument("Delimiter can only be specified when SubRecordType is DELIMITED.")
				}
			case "DELIMITED":
				d, ok := param(p, paramDelimiter)
				if !ok {
					return awserr.InvalidArgument("Delimiter is required when SubRecordType is DELIMITED.")
				}
				if b, err := base64.StdEncoding.DecodeString(d); err != nil || len(b) == 0 {
					return awserr.InvalidArgument("Delimiter %s must be a base64-encoded non-empty string.", d)
				}
			default:
				return awserr.InvalidArgument("RecordDeAggregation processor requires the parameter SubRecordType with a value of JSON or DELIMITED.")
			}
		case "Decompression", "CloudWatchLogProcessing":
			return awserr.InvalidArgument("Processor type %s is not supported by Eddy yet.", typ)
		default:
			return awserr.InvalidArgument("Processor type %s is not supported by Eddy.", typ)
		}
		for _, x := range p.Parameters {
			if !allowed[deref(x.ParameterName)] {
				return awserr.InvalidArgument("Parameter %s is not supported for processor type %s.", deref(x.ParameterName), typ)
			}
		}
	}
	if dp {
		if len(prefix.QueryKeys()) == 0 && len(prefix.LambdaKeys()) == 0 {
			return awserr.InvalidArgument("When dynamic partitioning is enabled, Prefix must contain at least one !{partitionKeyFromQuery:…} or !{partitionKeyFromLambda:…} expression.")
		}
		if deref(c.ErrorOutputPrefix) == "" {
			return awserr.InvalidArgument("ErrorOutputPrefix cannot be null or empty when dynamic partitioning is enabled.")
		}
		if len(prefix.QueryKeys()) > 0 && query == nil {
			return awserr.InvalidArgument("Prefix uses !{partitionKeyFromQuery:%s} but no MetadataExtraction processor is configured.", prefix.QueryKeys()[0])
		}
		if len(prefix.LambdaKeys()) > 0 && !lambda {
			return awserr.InvalidArgument("Prefix uses !{partitionKeyFromLambda:%s} but no Lambda processor is configured.", prefix.LambdaKeys()[0])
		}
		if keys, ok := queryObjectKeys(query); ok {
			for _, k := range prefix.QueryKeys() {
				if !keys[k] {
					return awserr.InvalidArgument("Partition key %s used in Prefix is not defined in MetadataExtractionQuery.", k)
				}
			}
		}
		if sz := deref(c.BufferingHints.SizeInMBs); sz < minLakeSizeMB {
			return awserr.InvalidArgument("BufferingHints.SizeInMBs must be at least %d when dynamic partitioning is enabled.", minLakeSizeMB)
		}
	}
	f, err := conversionOf(c)
	if err != nil || f == nil {
		return err
	}
	if deref(c.CompressionFormat) != s3dest.Uncompressed {
		return awserr.InvalidArgument("CompressionFormat must be UNCOMPRESSED when data format conversion is enabled.")
	}
	if sz := deref(c.BufferingHints.SizeInMBs); sz < minLakeSizeMB {
		return awserr.InvalidArgument("BufferingHints.SizeInMBs must be at least %d when data format conversion is enabled.", minLakeSizeMB)
	}
	sc := f.SchemaConfiguration
	if sc == nil || deref(sc.DatabaseName) == "" || deref(sc.TableName) == "" || deref(sc.RoleARN) == "" {
		return awserr.InvalidArgument("SchemaConfiguration with RoleARN, DatabaseName and TableName is required when data format conversion is enabled.")
	}
	in := f.InputFormatConfiguration
	if in == nil || in.Deserializer == nil || (in.Deserializer.OpenXJsonSerDe == nil) == (in.Deserializer.HiveJsonSerDe == nil) {
		return awserr.InvalidArgument("InputFormatConfiguration must specify exactly one deserializer: OpenXJsonSerDe or HiveJsonSerDe.")
	}
	out := f.OutputFormatConfiguration
	if out == nil || out.Serializer == nil || (out.Serializer.ParquetSerDe == nil) == (len(out.Serializer.OrcSerDe) == 0) {
		return awserr.InvalidArgument("OutputFormatConfiguration must specify exactly one serializer: ParquetSerDe or OrcSerDe.")
	}
	if len(out.Serializer.OrcSerDe) > 0 {
		return awserr.InvalidArgument("OrcSerDe is not supported by Eddy: no independent ORC reader is available to verify the files it would write. Use ParquetSerDe.")
	}
	p := out.Serializer.ParquetSerDe
	if p.BlockSizeBytes != nil && *p.BlockSizeBytes < 64<<20 {
		return awserr.InvalidArgument("ParquetSerDe BlockSizeBytes must be at least 67108864 (64 MiB).")
	}
	if p.PageSizeBytes != nil && *p.PageSizeBytes < 64<<10 {
		return awserr.InvalidArgument("ParquetSerDe PageSizeBytes must be at least 65536 (64 KiB).")
	}
	switch deref(p.Compression) {
	case "", "UNCOMPRESSED", "GZIP", "SNAPPY":
	default:
		return awserr.InvalidArgument("ParquetSerDe Compression %s is not one of UNCOMPRESSED, GZIP, SNAPPY.", *p.Compression)
	}
	switch deref(p.WriterVersion) {
	case "", "V1", "V2":
	default:
		return awserr.InvalidArgument("ParquetSerDe WriterVersion %s is not one of V1, V2.", *p.WriterVersion)
	}
	if h := in.Deserializer.HiveJsonSerDe; h != nil {
		for _, tf := range h.TimestampFormats {
			if _, err := hiveFormatCheck(tf); err != nil {
				return awserr.InvalidArgument("HiveJsonSerDe TimestampFormats %s is not valid: %v", tf, err)
			}
		}
	}
	return nil
}

// queryObjectKeys returns the constant keys of a JQ object construction
// (`{a: .x, b: .y}`); ok is false for any other query shape.
func queryObjectKeys(q *gojq.Query) (map[string]bool, bool) {
	if q == nil || q.Term == nil || q.Term.Object == nil || q.Op != 0 {
		return nil, false
	}
	keys := map[string]bool{}
	for _, kv := range q.Term.Object.KeyVals {
		switch {
		case kv.Key != "":
			keys[kv.Key] = true
		case kv.KeyString != nil && kv.KeyString.Queries == nil:
			keys[kv.KeyString.Str] = true
		default:
			return nil, false
		}
	}
	return keys, true
}

func hiveFormatCheck(f string) (bool, error) {
	if f == "" {
		return false, fmt.Errorf("empty format")
	}
	return true, nil
}
