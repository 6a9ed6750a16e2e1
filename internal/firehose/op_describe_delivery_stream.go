package firehose

// DescribeDeliveryStream reports the stream with AWS's member names: the
// source (DirectPut with its throughput hints, or the Kinesis stream with
// DeliveryStartTimestamp), encryption status for DirectPut streams, and its
// single destination (ID destinationId-000000000001) in the shape of its
// kind. A delivery that keeps failing shows as FailureDescription.

import (
	"strconv"
	"strings"

	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/awsproto"
)

func (s *Service) describeDeliveryStream(req *awsproto.Request) (any, error) {
	var in describeInput
	if err := awsproto.Decode(req.Codec, req.Body, &in); err != nil {
		return nil, err
	}
	var v awserr.Validation
	validateName(&v, in.DeliveryStreamName, "deliveryStreamName")
	if in.Limit != nil && (*in.Limit < 1 || *in.Limit > 10000) {
		v.Add(*in.Limit, "limit", "Member must have value between 1 and 10000")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st, err := s.lookupLocked(req, *in.DeliveryStreamName)
	if err != nil {
		return nil, err
	}
	m := &st.meta
	d := streamDescription{
		DeliveryStreamName: m.Name, DeliveryStreamARN: m.arn(), DeliveryStreamStatus: m.Status,
		DeliveryStreamType: m.Type, VersionId: strconv.Itoa(m.Version),
		CreateTimestamp: awsproto.TSMillis(m.CreatedMs), LastUpdateTimestamp: awsproto.TSMillis(m.UpdatedMs),
		Destinations: []destinationDescription{},
	}
	if f := st.failure.Load(); f != nil {
		d.FailureDescription = deliveryFailure(*f)
	}
	if m.Type == typeDirectPut {
		d.DeliveryStreamEncryptionConfiguration = &encryptionDescription{Status: encDisabled}
		if m.EncStatus != "" {
			d.DeliveryStreamEncryptionConfiguration = &encryptionDescription{Status: m.EncStatus}
			if m.EncKeyType != "" {
				d.DeliveryStreamEncryptionConfiguration.KeyType = ptr(m.EncKeyType)
			}
			if m.EncKeyARN != "" {
				d.DeliveryStreamEncryptionConfiguration.KeyARN = ptr(m.EncKeyARN)
			}
		}
		dp := m.DirectPut
		if dp == nil {
			dp = &DirectPutSourceConfiguration{}
		}
		d.Source = &sourceDescription{DirectPutSourceDescription: dp}
	} else if m.KinesisSource != nil {
		d.Source = &sourceDescription{KinesisStreamSourceDescription: &kinesisSourceDescription{
			KinesisStreamARN: m.KinesisSource.KinesisStreamARN, RoleARN: m.KinesisSource.RoleARN,
			DeliveryStartTimestamp: awsproto.TSMillis(m.StartMs),
		}}
	}
	if in.ExclusiveStartDestinationId == nil || *in.ExclusiveStartDestinationId < destinationID {
		dd := destinationDescription{DestinationId: destinationID, S3DestinationDescription: plainS3Description(m.Dest)}
		if m.Other != nil {
			dd.S3DestinationDescription = nil
			describeOther(m, &dd)
		} else if m.Extended {
			dd.ExtendedS3DestinationDescription = extendedDescription(m.Dest)
		}
		d.Destinations = append(d.Destinations, dd)
	}
	return describeOutput{DeliveryStreamDescription: d}, nil
}

// deliveryFailure reports a failed delivery the only place AWS's
// DescribeDeliveryStream shape has for failures: FailureDescription, whose
// Type enum has no delivery member (UNKNOWN_ERROR is the general one) and
// whose Details are 1–1024 characters.
func deliveryFailure(msg string) *failureDescription {
	const maxDetails = 1024
	if !strings.Contains(msg, " delivery failing, will retry: ") { // destinations beyond S3 name themselves (dest_other.go)
		msg = "S3 delivery failing, will retry: " + msg
	}
	if len(msg) > maxDetails {
		msg = strings.ToValidUTF8(msg[:maxDetails-3], "") + "..."
	}
	return &failureDescription{Type: "UNKNOWN_ERROR", Details: msg}
}

// plainS3Description keeps only the members of S3DestinationDescription.
func plainS3Description(c *S3Config) *S3Config {
	return &S3Config{
		RoleARN: c.RoleARN, BucketARN: c.BucketARN, Prefix: c.Prefix, ErrorOutputPrefix: c.ErrorOutputPrefix,
		BufferingHints: c.BufferingHints, CompressionFormat: c.CompressionFormat,
		EncryptionConfiguration: c.EncryptionConfiguration, CloudWatchLoggingOptions: c.CloudWatchLoggingOptions,
	}
}

func extendedDescription(c *S3Config) *S3Config {
	out := c.clone()
	if out.S3BackupMode == nil {
		out.S3BackupMode = ptr(backupDisabled)
	}
	if out.S3BackupConfiguration != nil {
		out.S3BackupDescription = plainS3Description(out.S3BackupConfiguration)
		out.S3BackupConfiguration = nil
	}
	return out
}
