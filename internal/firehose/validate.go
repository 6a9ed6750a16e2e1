package firehose

import (
	"fmt"
	"regexp"
	"strings"
	"time"
	_ "time/tzdata" // CustomTimeZone must resolve on machines without zoneinfo

	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/firehose/s3dest"
)

var (
	nameRE      = regexp.MustCompile(`^[a-zA-Z0-9_.-]+$`)
	arnRE       = regexp.MustCompile(`^arn:.*$`)
	bucketARNRE = regexp.MustCompile(`^arn:.*:s3:::[\w\.\-]{1,255}$`)
	fileExtRE   = regexp.MustCompile(`^$|^\.[0-9a-z!\-_.*'()]+$`)
	tagKeyRE    = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@%]*$`)
	tagValueRE  = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@%]*$`)
)

// Limits.
const (
	maxRecordBytes   = 1024000
	maxBatchRecords  = 500
	maxBatchBytes    = 4 << 20
	maxStreams       = 50
	maxTags          = 50
	defaultSizeMB    = 5
	defaultInterval  = 300
	retention        = 24 * time.Hour
	destinationID    = "destinationId-000000000001"
	appendDelimiter  = "AppendDelimiterToRecord"
	backupEnabled    = "Enabled"
	backupDisabled   = "Disabled"
	typeDirectPut    = "DirectPut"
	typeKinesis      = "KinesisStreamAsSource"
	statusActive     = "ACTIVE"
	encEnabled       = "ENABLED"
	encDisabled      = "DISABLED"
	keyAWSOwned      = "AWS_OWNED_CMK"
	keyCustomerOwned = "CUSTOMER_MANAGED_CMK"
)

func validateName(v *awserr.Validation, name *string, path string) {
	if name == nil {
		v.Add(nil, path, "Member must not be null")
		return
	}
	if len(*name) < 1 {
		v.Add(*name, path, "Member must have length greater than or equal to 1")
	}
	if len(*name) > 64 {
		v.Add(*name, path, "Member must have length less than or equal to 64")
	}
	if len(*name) > 0 && !nameRE.MatchString(*name) {
		v.Add(*name, path, "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+")
	}
}

func validateTags(v *awserr.Validation, tags []Tag, path string) {
	for i, t := range tags {
		p := fmt.Sprintf("%s.%d.member", path, i+1)
		switch {
		case t.Key == nil:
			v.Add(nil, p+".key", "Member must not be null")
		case len(*t.Key) < 1:
			v.Add(*t.Key, p+".key", "Member must have length greater than or equal to 1")
		case len(*t.Key) > 128:
			v.Add(*t.Key, p+".key", "Member must have length less than or equal to 128")
		case strings.HasPrefix(*t.Key, "aws:") || !tagKeyRE.MatchString(*t.Key):
			v.Add(*t.Key, p+".key", `Member must satisfy regular expression pattern: ^(?!aws:)[\p{L}\p{Z}\p{N}_.:\/=+\-@%]*$`)
		}
		if t.Value != nil {
			if len(*t.Value) > 256 {
				v.Add(*t.Value, p+".value", "Member must have length less than or equal to 256")
			} else if !tagValueRE.MatchString(*t.Value) {
				v.Add(*t.Value, p+".value", `Member must satisfy regular expression pattern: ^[\p{L}\p{Z}\p{N}_.:\/=+\-@%]*$`)
			}
		}
	}
}

// validateS3Shape checks model constraints (ValidationException) of an S3
// configuration at path; full says BucketARN and RoleARN are required.
func validateS3Shape(v *awserr.Validation, c *S3Config, path string, full bool) {
	if c == nil {
		return
	}
	if c.RoleARN == nil && full {
		v.Add(nil, path+".roleARN", "Member must not be null")
	} else if c.RoleARN != nil && (len(*c.RoleARN) > 512 || !arnRE.MatchString(*c.RoleARN)) {
		v.Add(*c.RoleARN, path+".roleARN", "Member must satisfy regular expression pattern: arn:.*")
	}
	if c.BucketARN == nil && full {
		v.Add(nil, path+".bucketARN", "Member must not be null")
	} else if c.BucketARN != nil && (len(*c.BucketARN) > 2048 || !bucketARNRE.MatchString(*c.BucketARN)) {
		v.Add(*c.BucketARN, path+".bucketARN", `Member must satisfy regular expression pattern: arn:.*:s3:::[\w\.\-]{1,255}`)
	}
	if c.Prefix != nil && len(*c.Prefix) > 1024 {
		v.Add(*c.Prefix, path+".prefix", "Member must have length less than or equal to 1024")
	}
	if c.ErrorOutputPrefix != nil && len(*c.ErrorOutputPrefix) > 1024 {
		v.Add(*c.ErrorOutputPrefix, path+".errorOutputPrefix", "Member must have length less than or equal to 1024")
	}
	if h := c.BufferingHints; h != nil {
		if h.SizeInMBs != nil && *h.SizeInMBs < 1 {
			v.Add(*h.SizeInMBs, path+".bufferingHints.sizeInMBs", "Member must have value greater than or equal to 1")
		}
		if h.SizeInMBs != nil && *h.SizeInMBs > 128 {
			v.Add(*h.SizeInMBs, path+".bufferingHints.sizeInMBs", "Member must have value less than or equal to 128")
		}
		if h.IntervalInSeconds != nil && *h.IntervalInSeconds < 0 {
			v.Add(*h.IntervalInSeconds, path+".bufferingHints.intervalInSeconds", "Member must have value greater than or equal to 0")
		}
		if h.IntervalInSeconds != nil && *h.IntervalInSeconds > 900 {
			v.Add(*h.IntervalInSeconds, path+".bufferingHints.intervalInSeconds", "Member must have value less than or equal to 900")
		}
	}
	if c.CompressionFormat != nil && !s3dest.ValidCompression(*c.CompressionFormat) {
		v.Add(*c.CompressionFormat, path+".compressionFormat", "Member must satisfy enum value set: [UNCOMPRESSED, GZIP, ZIP, Snappy, HADOOP_SNAPPY]")
	}
	if c.FileExtension != nil && (len(*c.FileExtension) > 128 || !fileExtRE.MatchString(*c.FileExtension)) {
		v.Add(*c.FileExtension, path+".fileExtension", `Member must satisfy regular expression pattern: ^$|\.[0-9a-z!\-_.*'()]+`)
	}
	if c.CustomTimeZone != nil && len(*c.CustomTimeZone) > 50 {
		v.Add(*c.CustomTimeZone, path+".customTimeZone", "Member must have length less than or equal to 50")
	}
	if dp := c.DynamicPartitioningConfiguration; dp != nil && dp.RetryOptions != nil && dp.RetryOptions.DurationInSeconds != nil {
		if d := *dp.RetryOptions.DurationInSeconds; d < 0 || d > 7200 {
			v.Add(d, path+".dynamicPartitioningConfiguration.retryOptions.durationInSeconds", "Member must have value between 0 and 7200")
		}
	}
	if c.S3BackupMode != nil && *c.S3BackupMode != backupEnabled && *c.S3BackupMode != backupDisabled {
		v.Add(*c.S3BackupMode, path+".s3BackupMode", "Member must satisfy enum value set: [Disabled, Enabled]")
	}
	validateS3Shape(v, c.S3BackupConfiguration, path+".s3BackupConfiguration", true)
	validateS3Shape(v, c.S3BackupUpdate, path+".s3BackupUpdate", false)
}

// checkS3Semantics checks the rules AWS enforces as InvalidArgumentException
// on a complete (merged) configuration. backup says c is an S3 backup
// configuration (whose ErrorOutputPrefix is ignored).
func checkS3Semantics(c *S3Config, backup bool) error {
	var prefix *s3dest.Prefix
	var err error
	dp := s3dest.ParseOptions{Partitioning: partitioningEnabled(c)}
	if prefix, err = s3dest.ParsePrefixWith(deref(c.Prefix), dp); err != nil {
		return awserr.InvalidArgument("%s", err.Error())
	}
	if prefix.HasErrorOutputType() {
		return awserr.InvalidArgument("The '!{firehose:error-output-type}' expression is only allowed in ErrorOutputPrefix.")
	}
	if !backup {
		if c.ErrorOutputPrefix == nil || *c.ErrorOutputPrefix == "" {
			if prefix.HasExpressions() {
				return awserr.InvalidArgument("ErrorOutputPrefix cannot be null or empty when Prefix contains expressions.")
			}
		} else {
			ep, err := s3dest.ParsePrefixWith(*c.ErrorOutputPrefix, dp)
			if err != nil {
				return awserr.InvalidArgument("%s", err.Error())
			}
			if !ep.HasErrorOutputType() && prefix.HasExpressions() {
				return awserr.InvalidArgument("ErrorOutputPrefix must contain the '!{firehose:error-output-type}' expression when Prefix contains expressions.")
			}
		}
	}
	if c.CustomTimeZone != nil && *c.CustomTimeZone != "" {
		if _, err := time.LoadLocation(*c.CustomTimeZone); err != nil {
			return awserr.InvalidArgument("CustomTimeZone %s is not a supported time zone.", *c.CustomTimeZone)
		}
	}
	if !backup {
		if err := checkLake(c); err != nil { // lake_config.go
			return err
		}
	} else if partitioningEnabled(c) || len(processorsOf(c)) > 0 {
		return awserr.InvalidArgument("S3BackupConfiguration does not support processing or dynamic partitioning.")
	}
	if deref(c.S3BackupMode) == backupEnabled {
		if c.S3BackupConfiguration == nil {
			return awserr.InvalidArgument("S3BackupConfiguration is required when S3BackupMode is Enabled.")
		}
		if err := checkS3Semantics(c.S3BackupConfiguration, true); err != nil {
			return err
		}
	}
	return nil
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func ptr[T any](v T) *T { return &v }

// withDefaults fills in the defaults AWS reports in descriptions.
func withDefaults(c *S3Config) {
	lakeDefaults(c) // lake_config.go
	if c.BufferingHints == nil {
		c.BufferingHints = &BufferingHints{}
	}
	if c.BufferingHints.SizeInMBs == nil {
		c.BufferingHints.SizeInMBs = ptr(int32(defaultSizeMB))
	}
	if c.BufferingHints.IntervalInSeconds == nil {
		c.BufferingHints.IntervalInSeconds = ptr(int32(defaultInterval))
	}
	if c.CompressionFormat == nil || *c.CompressionFormat == "" {
		c.CompressionFormat = ptr(s3dest.Uncompressed)
	}
	if c.EncryptionConfiguration == nil {
		c.EncryptionConfiguration = &EncryptionConfiguration{NoEncryptionConfig: ptr("NoEncryption")}
	}
	if c.CloudWatchLoggingOptions == nil {
		c.CloudWatchLoggingOptions = &CloudWatchLoggingOptions{Enabled: ptr(false)}
	}
	if c.S3BackupConfiguration != nil {
		withDefaults(c.S3BackupConfiguration)
	}
}

// mergeS3 applies an update onto cur field by field (missing fields keep
// their value), as UpdateDestination does for the same destination type.
func mergeS3(cur *S3Config, u *S3Config) {
	set := func(dst **string, src *string) {
		if src != nil {
			*dst = src
		}
	}
	set(&cur.RoleARN, u.RoleARN)
	set(&cur.BucketARN, u.BucketARN)
	set(&cur.Prefix, u.Prefix)
	set(&cur.ErrorOutputPrefix, u.ErrorOutputPrefix)
	set(&cur.CompressionFormat, u.CompressionFormat)
	set(&cur.FileExtension, u.FileExtension)
	set(&cur.CustomTimeZone, u.CustomTimeZone)
	set(&cur.S3BackupMode, u.S3BackupMode)
	if u.BufferingHints != nil {
		if cur.BufferingHints == nil {
			cur.BufferingHints = &BufferingHints{}
		}
		if u.BufferingHints.SizeInMBs != nil {
			cur.BufferingHints.SizeInMBs = u.BufferingHints.SizeInMBs
		}
		if u.BufferingHints.IntervalInSeconds != nil {
			cur.BufferingHints.IntervalInSeconds = u.BufferingHints.IntervalInSeconds
		}
	}
	if u.EncryptionConfiguration != nil {
		cur.EncryptionConfiguration = u.EncryptionConfiguration
	}
	if u.CloudWatchLoggingOptions != nil {
		cur.CloudWatchLoggingOptions = u.CloudWatchLoggingOptions
	}
	if u.ProcessingConfiguration != nil {
		cur.ProcessingConfiguration = u.ProcessingConfiguration
	}
	if len(u.DataFormatConversionConfiguration) > 0 {
		cur.DataFormatConversionConfiguration = u.DataFormatConversionConfiguration
	}
	if u.DynamicPartitioningConfiguration != nil {
		cur.DynamicPartitioningConfiguration = u.DynamicPartitioningConfiguration
	}
	if u.S3BackupUpdate != nil {
		if cur.S3BackupConfiguration == nil {
			cur.S3BackupConfiguration = &S3Config{}
		}
		mergeS3(cur.S3BackupConfiguration, u.S3BackupUpdate)
	}
}

// clone copies c deeply enough that mergeS3 on the copy leaves c intact.
func (c *S3Config) clone() *S3Config {
	if c == nil {
		return nil
	}
	out := *c
	if c.BufferingHints != nil {
		h := *c.BufferingHints
		out.BufferingHints = &h
	}
	if c.S3BackupConfiguration != nil {
		out.S3BackupConfiguration = c.S3BackupConfiguration.clone()
	}
	return &out
}
