package analytics

// DiscoverInputSchema infers an input schema from sample records: from a
// data stream or delivery stream (ResourceARN, read in process from the
// InputStartingPositionConfiguration, default NOW — which on AWS waits for
// new records; Eddy reads what arrives within a short wait, so callers
// usually pass TRIM_HORIZON) or from an S3 object (S3Configuration, read
// through the server's S3 endpoint). Inference follows format.Infer (AWS's
// narrowest-type and COL_ naming rules). No records, or records no schema
// fits, give UnableToDetectSchemaException with the raw records. Lambda
// preprocessing is refused (no Lambda yet).

import (
	"context"
	"errors"
	"time"

	"github.com/eddy-streams/eddy/internal/analytics/format"
	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/awsproto"
)

type discoverInput struct {
	ResourceARN                        *string                       `json:"ResourceARN"`
	RoleARN                            *string                       `json:"RoleARN"`
	ServiceExecutionRole               *string                       `json:"ServiceExecutionRole"`
	InputStartingPositionConfiguration *StartingPosition             `json:"InputStartingPositionConfiguration"`
	S3Configuration                    *S3Configuration              `json:"S3Configuration"`
	InputProcessingConfiguration       *InputProcessingConfiguration `json:"InputProcessingConfiguration"`
}

const discoverSample = 100

func init() {
	registerV1("DiscoverInputSchema", func(s *Service, r *awsproto.Request) (any, error) { return s.discoverInputSchema(r, 1) })
	registerV2("DiscoverInputSchema", func(s *Service, r *awsproto.Request) (any, error) { return s.discoverInputSchema(r, 2) })
}

func (s *Service) discoverInputSchema(r *awsproto.Request, apiVersion int) (any, error) {
	var in discoverInput
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	var v awserr.Validation
	checkARN(&v, in.ResourceARN, "resourceARN", false)
	checkARN(&v, in.RoleARN, "roleARN", false)
	checkARN(&v, in.ServiceExecutionRole, "serviceExecutionRole", apiVersion == 2)
	checkPosition(&v, in.InputStartingPositionConfiguration, "inputStartingPositionConfiguration")
	if in.S3Configuration != nil {
		checkARN(&v, in.S3Configuration.BucketARN, "s3Configuration.bucketARN", true)
		if in.S3Configuration.FileKey == nil {
			v.Add(nil, "s3Configuration.fileKey", "Member must not be null")
		} else {
			checkLen(&v, *in.S3Configuration.FileKey, "s3Configuration.fileKey", 1, 1024)
		}
		checkARN(&v, in.S3Configuration.RoleARN, "s3Configuration.roleARN", apiVersion == 1)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if in.InputProcessingConfiguration != nil {
		return nil, errLambdaUnsupported()
	}
	if (in.ResourceARN == nil) == (in.S3Configuration == nil) {
		return nil, errInvalidArg("Either ResourceARN or S3Configuration must be provided, but not both.")
	}
	if s.opt.Sampler == nil {
		return nil, awserr.New(TUnsupportedOperation, 400, "This server cannot read sample records.")
	}
	ctx := r.Ctx
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var recs [][]byte
	if in.ResourceARN != nil {
		if apiVersion == 1 && in.RoleARN == nil {
			return nil, errInvalidArg("RoleARN must be provided with ResourceARN.")
		}
		pos := "NOW"
		if in.InputStartingPositionConfiguration != nil && in.InputStartingPositionConfiguration.InputStartingPosition != nil {
			pos = *in.InputStartingPositionConfiguration.InputStartingPosition
		}
		var err error
		recs, err = s.opt.Sampler.SampleStream(ctx, *in.ResourceARN, pos, discoverSample)
		if err != nil {
			return nil, sourceErr(err)
		}
	} else {
		obj, err := s.opt.Sampler.GetObject(ctx, *in.S3Configuration.BucketARN, *in.S3Configuration.FileKey)
		if err != nil {
			return nil, sourceErr(err)
		}
		recs = splitObject(obj)
	}
	raw := make([]string, len(recs))
	for i, rec := range recs {
		raw[i] = string(rec)
	}
	d, err := format.Infer(recs)
	if err != nil {
		return nil, &detectError{msg: "Unable to detect a schema from the sampled records: " + err.Error(), raw: raw}
	}
	schema := SourceSchema{RecordFormat: &RecordFormat{RecordFormatType: d.Format}}
	enc := "UTF-8"
	schema.RecordEncoding = &enc
	if d.Format == "JSON" {
		schema.RecordFormat.MappingParameters = &MappingParameters{JSONMappingParameters: &JSONMappingParameters{RecordRowPath: "$"}}
	} else {
		schema.RecordFormat.MappingParameters = &MappingParameters{CSVMappingParameters: &CSVMappingParameters{RecordRowDelimiter: d.RowDelim, RecordColumnDelimiter: d.ColDelim}}
	}
	for _, c := range d.Columns {
		rc := RecordColumn{Name: c.Name, SqlType: c.SQLType}
		if d.Format == "JSON" {
			m := c.Mapping
			rc.Mapping = &m
		}
		schema.RecordColumns = append(schema.RecordColumns, rc)
	}
	return map[string]any{"InputSchema": schema, "ParsedInputRecords": d.Parsed, "ProcessedInputRecords": raw, "RawInputRecords": raw}, nil
}

// splitObject cuts an S3 object into records: one per line.
func splitObject(b []byte) [][]byte {
	var out [][]byte
	start := 0
	for i := 0; i <= len(b); i++ {
		if i == len(b) || b[i] == '\n' {
			if line := b[start:i]; len(line) > 0 && !(len(line) == 1 && line[0] == '\r') {
				out = append(out, line)
			}
			start = i + 1
			if len(out) >= discoverSample {
				break
			}
		}
	}
	return out
}

// ErrSourceNotFound is what a Sampler returns for a missing stream,
// bucket or object.
var ErrSourceNotFound = errors.New("source not found")

func sourceErr(err error) error {
	if ae, ok := awserr.As(err); ok {
		return ae
	}
	if errors.Is(err, ErrSourceNotFound) {
		return awserr.New(TResourceNotFound, 400, "%v", err)
	}
	return awserr.New(TUnableToDetectSchema, 400, "Unable to read sample records: %v", err)
}

// detectError is UnableToDetectSchemaException, which carries the raw
// records on the wire.
type detectError struct {
	msg string
	raw []string
}

func (e *detectError) Error() string { return TUnableToDetectSchema + ": " + e.msg }

// AWSError lets the gateway encode it (type, status, message).
func (e *detectError) Unwrap() error { return awserr.New(TUnableToDetectSchema, 400, "%s", e.msg) }
