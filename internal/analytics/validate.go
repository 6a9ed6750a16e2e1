package analytics

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/eddy-streams/eddy/internal/analytics/format"
	"github.com/eddy-streams/eddy/internal/awserr"
)

// Model constraints (botocore kinesisanalytics 2015-08-14 and
// kinesisanalyticsv2 2018-05-23).
var (
	appNamePattern    = regexp.MustCompile(`^[a-zA-Z0-9_.-]+$`)
	idPattern         = regexp.MustCompile(`^[a-zA-Z0-9_.-]+$`)
	inAppNamePattern  = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9_]*$`)
	columnNamePattern = regexp.MustCompile(`^[^-\s<>&]*$`)
	arnPattern        = regexp.MustCompile(`^arn:.*$`)
)

const (
	maxCodeBytes        = 102400
	maxDescription      = 1024
	maxOutputs          = 3
	maxUserTags         = 50
	maxReferenceSources = 1
)

func checkLen(v *awserr.Validation, s, path string, lo, hi int) {
	n := len([]rune(s))
	if n < lo {
		v.Add(s, path, fmt.Sprintf("Member must have length greater than or equal to %d", lo))
	}
	if n > hi {
		v.Add(s, path, fmt.Sprintf("Member must have length less than or equal to %d", hi))
	}
}

func checkPattern(v *awserr.Validation, s, path string, re *regexp.Regexp) {
	if !re.MatchString(s) {
		v.Add(s, path, "Member must satisfy regular expression pattern: "+strings.TrimSuffix(strings.TrimPrefix(re.String(), "^"), "$"))
	}
}

func requireAppName(v *awserr.Validation, name *string, path string) {
	if name == nil {
		v.Add(nil, path, "Member must not be null")
		return
	}
	checkPattern(v, *name, path, appNamePattern)
	checkLen(v, *name, path, 1, 128)
}

func requireID(v *awserr.Validation, id *string, path string) {
	if id == nil {
		v.Add(nil, path, "Member must not be null")
		return
	}
	checkPattern(v, *id, path, idPattern)
	checkLen(v, *id, path, 1, 50)
}

func requireVersion(v *awserr.Validation, ver *int64, path string) {
	if ver == nil {
		v.Add(nil, path, "Member must not be null")
		return
	}
	if *ver < 1 {
		v.Add(*ver, path, "Member must have value greater than or equal to 1")
	}
	if *ver > 999999999 {
		v.Add(*ver, path, "Member must have value less than or equal to 999999999")
	}
}

func checkARN(v *awserr.Validation, arn *string, path string, required bool) {
	if arn == nil {
		if required {
			v.Add(nil, path, "Member must not be null")
		}
		return
	}
	checkLen(v, *arn, path, 1, 2048)
	checkPattern(v, *arn, path, arnPattern)
}

func checkResourceRole(v *awserr.Validation, r *ResourceRole, path string, roleRequired bool) {
	if r == nil {
		return
	}
	checkARN(v, &r.ResourceARN, path+".resourceARN", true)
	checkARN(v, r.RoleARN, path+".roleARN", roleRequired)
}

// checkSchema validates a SourceSchema (model constraints, then the
// semantic rules the services apply: known types, JSON mappings, CSV
// delimiters).
func checkSchema(v *awserr.Validation, sc *SourceSchema, path string) {
	if sc == nil {
		v.Add(nil, path, "Member must not be null")
		return
	}
	if sc.RecordFormat == nil {
		v.Add(nil, path+".recordFormat", "Member must not be null")
	} else {
		switch sc.RecordFormat.RecordFormatType {
		case "JSON", "CSV":
		default:
			v.Add(sc.RecordFormat.RecordFormatType, path+".recordFormat.recordFormatType", "Member must satisfy enum value set: [JSON, CSV]")
		}
	}
	if sc.RecordColumns == nil {
		v.Add(nil, path+".recordColumns", "Member must not be null")
	} else if len(sc.RecordColumns) < 1 {
		v.Add("[]", path+".recordColumns", "Member must have length greater than or equal to 1")
	} else if len(sc.RecordColumns) > 1000 {
		v.Add(fmt.Sprintf("[%d columns]", len(sc.RecordColumns)), path+".recordColumns", "Member must have length less than or equal to 1000")
	}
	for i, c := range sc.RecordColumns {
		p := fmt.Sprintf("%s.recordColumns.%d.member", path, i+1)
		checkPattern(v, c.Name, p+".name", columnNamePattern)
		checkLen(v, c.SqlType, p+".sqlType", 1, 100)
	}
	if sc.RecordEncoding != nil && *sc.RecordEncoding != "UTF-8" {
		v.Add(*sc.RecordEncoding, path+".recordEncoding", "Member must satisfy regular expression pattern: UTF-8")
	}
}

// schemaSemantics checks what the model cannot: types parse, mappings fit
// the format. It returns an InvalidArgumentException.
func schemaSemantics(sc *SourceSchema, what string) error {
	if sc == nil || sc.RecordFormat == nil {
		return nil
	}
	seen := map[string]bool{}
	for _, c := range sc.RecordColumns {
		if c.Name == "" {
			return errInvalidArg("%s: a record column has an empty name.", what)
		}
		if seen[c.Name] {
			return errInvalidArg("%s: duplicate column name %s.", what, c.Name)
		}
		seen[c.Name] = true
		if _, _, _, err := format.ParseSQLType(c.SqlType); err != nil {
			return errInvalidArg("%s: column %s: %v.", what, c.Name, err)
		}
	}
	mp := sc.RecordFormat.MappingParameters
	switch sc.RecordFormat.RecordFormatType {
	case "JSON":
		if mp != nil && mp.CSVMappingParameters != nil {
			return errInvalidArg("%s: CSVMappingParameters cannot be used with RecordFormatType JSON.", what)
		}
		if mp == nil || mp.JSONMappingParameters == nil || mp.JSONMappingParameters.RecordRowPath == "" {
			return errInvalidArg("%s: JSONMappingParameters with a RecordRowPath are required for RecordFormatType JSON.", what)
		}
		cols := make([]format.ColumnSpec, len(sc.RecordColumns))
		for i, c := range sc.RecordColumns {
			cols[i] = format.ColumnSpec{Name: c.Name, SQLType: c.SqlType}
			if c.Mapping != nil {
				cols[i].Mapping = *c.Mapping
			}
		}
		if _, err := format.NewJSON(mp.JSONMappingParameters.RecordRowPath, cols); err != nil {
			return errInvalidArg("%s: %v.", what, err)
		}
	case "CSV":
		if mp != nil && mp.JSONMappingParameters != nil {
			return errInvalidArg("%s: JSONMappingParameters cannot be used with RecordFormatType CSV.", what)
		}
		if mp == nil || mp.CSVMappingParameters == nil || mp.CSVMappingParameters.RecordRowDelimiter == "" || mp.CSVMappingParameters.RecordColumnDelimiter == "" {
			return errInvalidArg("%s: CSVMappingParameters with RecordRowDelimiter and RecordColumnDelimiter are required for RecordFormatType CSV.", what)
		}
	}
	return nil
}

func checkInput(v *awserr.Validation, in *Input, path string, v2 bool) {
	if in.NamePrefix == nil {
		v.Add(nil, path+".namePrefix", "Member must not be null")
	} else {
		checkLen(v, *in.NamePrefix, path+".namePrefix", 1, 32)
		checkPattern(v, *in.NamePrefix, path+".namePrefix", inAppNamePattern)
	}
	checkResourceRole(v, in.KinesisStreamsInput, path+".kinesisStreamsInput", !v2)
	checkResourceRole(v, in.KinesisFirehoseInput, path+".kinesisFirehoseInput", !v2)
	if in.InputProcessingConfiguration != nil {
		if in.InputProcessingConfiguration.InputLambdaProcessor == nil {
			v.Add(nil, path+".inputProcessingConfiguration.inputLambdaProcessor", "Member must not be null")
		} else {
			checkResourceRole(v, in.InputProcessingConfiguration.InputLambdaProcessor, path+".inputProcessingConfiguration.inputLambdaProcessor", !v2)
		}
	}
	if in.InputParallelism != nil && in.InputParallelism.Count != nil {
		c := *in.InputParallelism.Count
		if c < 1 {
			v.Add(c, path+".inputParallelism.count", "Member must have value greater than or equal to 1")
		}
		if c > 64 {
			v.Add(c, path+".inputParallelism.count", "Member must have value less than or equal to 64")
		}
	}
	checkSchema(v, in.InputSchema, path+".inputSchema")
}

// inputSemantics: exactly one source, a schema that makes sense, and no
// Lambda preprocessing (Eddy has no Lambda yet).
func inputSemantics(in *Input) error {
	n := 0
	if in.KinesisStreamsInput != nil {
		n++
	}
	if in.KinesisFirehoseInput != nil {
		n++
	}
	if n != 1 {
		return errInvalidArg("Exactly one of KinesisStreamsInput or KinesisFirehoseInput must be provided.")
	}
	if in.InputProcessingConfiguration != nil {
		return errLambdaUnsupported()
	}
	return schemaSemantics(in.InputSchema, "Input schema")
}

func errLambdaUnsupported() error {
	return errInvalidArg("Lambda input preprocessing (InputLambdaProcessor) is not supported by Eddy yet: Eddy has no Lambda service. Remove the InputProcessingConfiguration, or preprocess records before they reach the stream.")
}

func checkOutput(v *awserr.Validation, o *Output, path string, v2 bool) {
	if o.Name == nil {
		v.Add(nil, path+".name", "Member must not be null")
	} else {
		checkLen(v, *o.Name, path+".name", 1, 32)
	}
	checkResourceRole(v, o.KinesisStreamsOutput, path+".kinesisStreamsOutput", !v2)
	checkResourceRole(v, o.KinesisFirehoseOutput, path+".kinesisFirehoseOutput", !v2)
	checkResourceRole(v, o.LambdaOutput, path+".lambdaOutput", !v2)
	if o.DestinationSchema == nil {
		v.Add(nil, path+".destinationSchema", "Member must not be null")
	} else {
		switch o.DestinationSchema.RecordFormatType {
		case "JSON", "CSV":
		default:
			v.Add(o.DestinationSchema.RecordFormatType, path+".destinationSchema.recordFormatType", "Member must satisfy enum value set: [JSON, CSV]")
		}
	}
}

func outputSemantics(o *Output) error {
	n := 0
	for _, x := range []*ResourceRole{o.KinesisStreamsOutput, o.KinesisFirehoseOutput, o.LambdaOutput} {
		if x != nil {
			n++
		}
	}
	if n != 1 {
		return errInvalidArg("Exactly one of KinesisStreamsOutput, KinesisFirehoseOutput or LambdaOutput must be provided.")
	}
	return nil
}

func checkReference(v *awserr.Validation, r *ReferenceDataSource, path string, v2 bool) {
	if r.TableName == nil {
		v.Add(nil, path+".tableName", "Member must not be null")
	} else {
		checkLen(v, *r.TableName, path+".tableName", 1, 32)
	}
	if r.S3ReferenceDataSource != nil {
		checkARN(v, &r.S3ReferenceDataSource.BucketARN, path+".s3ReferenceDataSource.bucketARN", true)
		checkLen(v, r.S3ReferenceDataSource.FileKey, path+".s3ReferenceDataSource.fileKey", 1, 1024)
		checkARN(v, r.S3ReferenceDataSource.ReferenceRoleARN, path+".s3ReferenceDataSource.referenceRoleARN", !v2)
	}
	checkSchema(v, r.ReferenceSchema, path+".referenceSchema")
}

func referenceSemantics(r *ReferenceDataSource) error {
	if r.S3ReferenceDataSource == nil {
		return errInvalidArg("S3ReferenceDataSource must be provided.")
	}
	return schemaSemantics(r.ReferenceSchema, "Reference schema")
}

func checkLogging(v *awserr.Validation, o *CloudWatchLoggingOption, path string, v2 bool) {
	checkARN(v, o.LogStreamARN, path+".logStreamARN", true)
	checkARN(v, o.RoleARN, path+".roleARN", !v2)
}

func checkTags(v *awserr.Validation, tags []Tag, path string) {
	if len(tags) > 200 {
		v.Add(fmt.Sprintf("[%d tags]", len(tags)), path, "Member must have length less than or equal to 200")
	}
	for i, t := range tags {
		p := fmt.Sprintf("%s.%d.member", path, i+1)
		if t.Key == nil {
			v.Add(nil, p+".key", "Member must not be null")
		} else {
			checkLen(v, *t.Key, p+".key", 1, 128)
		}
		if t.Value != nil {
			checkLen(v, *t.Value, p+".value", 0, 256)
		}
	}
}

func checkCode(v *awserr.Validation, code *string, path string) {
	if code != nil {
		checkLen(v, *code, path, 0, maxCodeBytes)
	}
}

func checkDescription(v *awserr.Validation, d *string, path string) {
	if d != nil {
		checkLen(v, *d, path, 0, maxDescription)
	}
}

func checkPosition(v *awserr.Validation, p *StartingPosition, path string) {
	if p == nil || p.InputStartingPosition == nil {
		return
	}
	switch *p.InputStartingPosition {
	case "NOW", "TRIM_HORIZON", "LAST_STOPPED_POINT":
	default:
		v.Add(*p.InputStartingPosition, path+".inputStartingPosition", "Member must satisfy enum value set: [NOW, TRIM_HORIZON, LAST_STOPPED_POINT]")
	}
}

// inAppNames lists every in-application stream and table name a change
// would collide with.
func (a *application) nameTaken(name string, exceptID string) bool {
	for _, in := range a.Inputs {
		if in.ID == exceptID {
			continue
		}
		for _, n := range InAppStreamNames(&in.Input) {
			if strings.EqualFold(n, name) {
				return true
			}
		}
	}
	for _, r := range a.References {
		if r.ID != exceptID && r.Ref.TableName != nil && strings.EqualFold(*r.Ref.TableName, name) {
			return true
		}
	}
	return false
}
