package firehose_test

//lint:file-ignore SA1019 these tests drive the deprecated S3DestinationConfiguration on purpose: AWS still accepts it

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	fh "github.com/aws/aws-sdk-go-v2/service/firehose"
	fhtypes "github.com/aws/aws-sdk-go-v2/service/firehose/types"
	"github.com/aws/smithy-go"
)

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	if err != nil {
		return "non-API: " + err.Error()
	}
	return ""
}

func apiMessage(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorMessage()
	}
	return ""
}

func s3Dest(bucket string) *fhtypes.ExtendedS3DestinationConfiguration {
	return &fhtypes.ExtendedS3DestinationConfiguration{
		BucketARN: aws.String("arn:aws:s3:::" + bucket), RoleARN: aws.String("arn:aws:iam::000000000000:role/r"),
	}
}

func TestCreateValidation(t *testing.T) {
	srv := startServer(t, nil, "http://127.0.0.1:1")
	c := srv.Firehose()
	ctx := context.Background()
	cases := []struct {
		name     string
		in       fh.CreateDeliveryStreamInput
		code     string
		contains string
	}{
		{"bad name", fh.CreateDeliveryStreamInput{DeliveryStreamName: aws.String("bad name"), ExtendedS3DestinationConfiguration: s3Dest("b")},
			"ValidationException", "Value 'bad name' at 'deliveryStreamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"},
		{"long name", fh.CreateDeliveryStreamInput{DeliveryStreamName: aws.String(strings.Repeat("a", 65)), ExtendedS3DestinationConfiguration: s3Dest("b")},
			"ValidationException", "Member must have length less than or equal to 64"},
		{"no destination", fh.CreateDeliveryStreamInput{DeliveryStreamName: aws.String("x")},
			"InvalidArgumentException", "Exactly one destination configuration is supported for a Firehose"},
		{"two destinations", fh.CreateDeliveryStreamInput{DeliveryStreamName: aws.String("x"), ExtendedS3DestinationConfiguration: s3Dest("b"),
			S3DestinationConfiguration: &fhtypes.S3DestinationConfiguration{BucketARN: aws.String("arn:aws:s3:::b"), RoleARN: aws.String("arn:aws:iam::0:role/r")}},
			"InvalidArgumentException", "Exactly one destination"},
		{"size too big", fh.CreateDeliveryStreamInput{DeliveryStreamName: aws.String("x"), ExtendedS3DestinationConfiguration: func() *fhtypes.ExtendedS3DestinationConfiguration {
			d := s3Dest("b")
			d.BufferingHints = &fhtypes.BufferingHints{SizeInMBs: aws.Int32(129), IntervalInSeconds: aws.Int32(901)}
			return d
		}()}, "ValidationException", "2 validation errors detected: Value '129' at 'extendedS3DestinationConfiguration.bufferingHints.sizeInMBs'"},
		{"expr without error prefix", fh.CreateDeliveryStreamInput{DeliveryStreamName: aws.String("x"), ExtendedS3DestinationConfiguration: func() *fhtypes.ExtendedS3DestinationConfiguration {
			d := s3Dest("b")
			d.Prefix = aws.String("!{timestamp:yyyy}/")
			return d
		}()}, "InvalidArgumentException", "ErrorOutputPrefix cannot be null or empty when Prefix contains expressions"},
		{"error type in prefix", fh.CreateDeliveryStreamInput{DeliveryStreamName: aws.String("x"), ExtendedS3DestinationConfiguration: func() *fhtypes.ExtendedS3DestinationConfiguration {
			d := s3Dest("b")
			d.Prefix = aws.String("!{firehose:error-output-type}/")
			d.ErrorOutputPrefix = aws.String("!{firehose:error-output-type}/")
			return d
		}()}, "InvalidArgumentException", "only allowed in ErrorOutputPrefix"},
		{"unclosed expression", fh.CreateDeliveryStreamInput{DeliveryStreamName: aws.String("x"), ExtendedS3DestinationConfiguration: func() *fhtypes.ExtendedS3DestinationConfiguration {
			d := s3Dest("b")
			d.Prefix = aws.String("a!{timestamp:yyyy")
			return d
		}()}, "InvalidArgumentException", "not closed"},
		{"bad time zone", fh.CreateDeliveryStreamInput{DeliveryStreamName: aws.String("x"), ExtendedS3DestinationConfiguration: func() *fhtypes.ExtendedS3DestinationConfiguration {
			d := s3Dest("b")
			d.CustomTimeZone = aws.String("Mars/Olympus")
			return d
		}()}, "InvalidArgumentException", "CustomTimeZone"},
		{"retry duration too long", fh.CreateDeliveryStreamInput{DeliveryStreamName: aws.String("x"), ExtendedS3DestinationConfiguration: func() *fhtypes.ExtendedS3DestinationConfiguration {
			d := s3Dest("b")
			d.DynamicPartitioningConfiguration = &fhtypes.DynamicPartitioningConfiguration{RetryOptions: &fhtypes.RetryOptions{DurationInSeconds: aws.Int32(7201)}}
			return d
		}()}, "ValidationException", "retryOptions.durationInSeconds' failed to satisfy constraint: Member must have value between 0 and 7200"},
		{"dynamic partitioning", fh.CreateDeliveryStreamInput{DeliveryStreamName: aws.String("x"), ExtendedS3DestinationConfiguration: func() *fhtypes.ExtendedS3DestinationConfiguration {
			d := s3Dest("b")
			d.DynamicPartitioningConfiguration = &fhtypes.DynamicPartitioningConfiguration{Enabled: aws.Bool(true)}
			return d
		}()}, "InvalidArgumentException", "When dynamic partitioning is enabled, Prefix must contain at least one"},
		{"kinesis without config", fh.CreateDeliveryStreamInput{DeliveryStreamName: aws.String("x"), DeliveryStreamType: fhtypes.DeliveryStreamTypeKinesisStreamAsSource,
			ExtendedS3DestinationConfiguration: s3Dest("b")}, "InvalidArgumentException", "KinesisSourceStreamConfig"},
		{"customer key without arn", fh.CreateDeliveryStreamInput{DeliveryStreamName: aws.String("x"), ExtendedS3DestinationConfiguration: s3Dest("b"),
			DeliveryStreamEncryptionConfigurationInput: &fhtypes.DeliveryStreamEncryptionConfigurationInput{KeyType: fhtypes.KeyTypeCustomerManagedCmk}},
			"InvalidArgumentException", "KeyARN is required"},
		{"aws tag key", fh.CreateDeliveryStreamInput{DeliveryStreamName: aws.String("x"), ExtendedS3DestinationConfiguration: s3Dest("b"),
			Tags: []fhtypes.Tag{{Key: aws.String("aws:reserved"), Value: aws.String("v")}}}, "ValidationException", "tags.1.member.key"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.CreateDeliveryStream(ctx, &tc.in)
			if apiCode(err) != tc.code || !strings.Contains(apiMessage(err), tc.contains) {
				t.Fatalf("got %s %q; want %s containing %q", apiCode(err), apiMessage(err), tc.code, tc.contains)
			}
		})
	}
}

func TestControlPlane(t *testing.T) {
	srv := startServer(t, nil, "http://127.0.0.1:1")
	c := srv.Firehose()
	ctx := context.Background()

	out, err := c.CreateDeliveryStream(ctx, &fh.CreateDeliveryStreamInput{DeliveryStreamName: aws.String("cp"), ExtendedS3DestinationConfiguration: s3Dest("b"),
		Tags: []fhtypes.Tag{{Key: aws.String("team"), Value: aws.String("data")}}})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(out.DeliveryStreamARN); got != "arn:aws:firehose:us-east-1:000000000000:deliverystream/cp" {
		t.Fatalf("ARN %s", got)
	}
	_, err = c.CreateDeliveryStream(ctx, &fh.CreateDeliveryStreamInput{DeliveryStreamName: aws.String("cp"), ExtendedS3DestinationConfiguration: s3Dest("b")})
	if apiCode(err) != "ResourceInUseException" || apiMessage(err) != "Firehose cp under accountId 000000000000 already exists" {
		t.Fatalf("duplicate: %v", err)
	}

	d, err := c.DescribeDeliveryStream(ctx, &fh.DescribeDeliveryStreamInput{DeliveryStreamName: aws.String("cp")})
	if err != nil {
		t.Fatal(err)
	}
	desc := d.DeliveryStreamDescription
	if desc.DeliveryStreamStatus != fhtypes.DeliveryStreamStatusActive || aws.ToString(desc.VersionId) != "1" ||
		desc.DeliveryStreamType != fhtypes.DeliveryStreamTypeDirectPut || len(desc.Destinations) != 1 {
		t.Fatalf("describe: %+v", desc)
	}
	dst := desc.Destinations[0]
	if aws.ToString(dst.DestinationId) != "destinationId-000000000001" || dst.S3DestinationDescription == nil || dst.ExtendedS3DestinationDescription == nil {
		t.Fatalf("destination: %+v", dst)
	}
	ext := dst.ExtendedS3DestinationDescription
	if aws.ToInt32(ext.BufferingHints.SizeInMBs) != 5 || aws.ToInt32(ext.BufferingHints.IntervalInSeconds) != 300 ||
		ext.CompressionFormat != fhtypes.CompressionFormatUncompressed || ext.S3BackupMode != fhtypes.S3BackupModeDisabled {
		t.Fatalf("defaults: %+v %+v", ext.BufferingHints, ext)
	}
	if desc.DeliveryStreamEncryptionConfiguration == nil || desc.DeliveryStreamEncryptionConfiguration.Status != fhtypes.DeliveryStreamEncryptionStatusDisabled {
		t.Fatalf("encryption: %+v", desc.DeliveryStreamEncryptionConfiguration)
	}

	// UpdateDestination: version check, merge, version bump.
	_, err = c.UpdateDestination(ctx, &fh.UpdateDestinationInput{DeliveryStreamName: aws.String("cp"), CurrentDeliveryStreamVersionId: aws.String("7"),
		DestinationId: aws.String("destinationId-000000000001"), ExtendedS3DestinationUpdate: &fhtypes.ExtendedS3DestinationUpdate{Prefix: aws.String("p/")}})
	if apiCode(err) != "ConcurrentModificationException" {
		t.Fatalf("stale version: %v", err)
	}
	_, err = c.UpdateDestination(ctx, &fh.UpdateDestinationInput{DeliveryStreamName: aws.String("cp"), CurrentDeliveryStreamVersionId: aws.String("1"),
		DestinationId: aws.String("destinationId-000000000001"), ExtendedS3DestinationUpdate: &fhtypes.ExtendedS3DestinationUpdate{
			Prefix: aws.String("p/"), BufferingHints: &fhtypes.BufferingHints{IntervalInSeconds: aws.Int32(60)}}})
	if err != nil {
		t.Fatal(err)
	}
	d, _ = c.DescribeDeliveryStream(ctx, &fh.DescribeDeliveryStreamInput{DeliveryStreamName: aws.String("cp")})
	ext = d.DeliveryStreamDescription.Destinations[0].ExtendedS3DestinationDescription
	if aws.ToString(d.DeliveryStreamDescription.VersionId) != "2" || aws.ToString(ext.Prefix) != "p/" ||
		aws.ToInt32(ext.BufferingHints.IntervalInSeconds) != 60 || aws.ToInt32(ext.BufferingHints.SizeInMBs) != 5 ||
		aws.ToString(ext.BucketARN) != "arn:aws:s3:::b" {
		t.Fatalf("after update: version %s %+v %+v", aws.ToString(d.DeliveryStreamDescription.VersionId), ext, ext.BufferingHints)
	}

	// Encryption.
	if _, err := c.StartDeliveryStreamEncryption(ctx, &fh.StartDeliveryStreamEncryptionInput{DeliveryStreamName: aws.String("cp")}); err != nil {
		t.Fatal(err)
	}
	pr, err := c.PutRecord(ctx, &fh.PutRecordInput{DeliveryStreamName: aws.String("cp"), Record: &fhtypes.Record{Data: []byte("x")}})
	if err != nil || !aws.ToBool(pr.Encrypted) || aws.ToString(pr.RecordId) == "" {
		t.Fatalf("put after encryption: %+v %v", pr, err)
	}
	d, _ = c.DescribeDeliveryStream(ctx, &fh.DescribeDeliveryStreamInput{DeliveryStreamName: aws.String("cp")})
	if e := d.DeliveryStreamDescription.DeliveryStreamEncryptionConfiguration; e.Status != fhtypes.DeliveryStreamEncryptionStatusEnabled || e.KeyType != fhtypes.KeyTypeAwsOwnedCmk {
		t.Fatalf("encryption after start: %+v", e)
	}
	if _, err := c.StopDeliveryStreamEncryption(ctx, &fh.StopDeliveryStreamEncryptionInput{DeliveryStreamName: aws.String("cp")}); err != nil {
		t.Fatal(err)
	}
	pr, _ = c.PutRecord(ctx, &fh.PutRecordInput{DeliveryStreamName: aws.String("cp"), Record: &fhtypes.Record{Data: []byte("x")}})
	if aws.ToBool(pr.Encrypted) {
		t.Fatal("still encrypted after stop")
	}

	// Tags: merge, list with paging, untag unknown key ignored.
	if _, err := c.TagDeliveryStream(ctx, &fh.TagDeliveryStreamInput{DeliveryStreamName: aws.String("cp"), Tags: []fhtypes.Tag{
		{Key: aws.String("team"), Value: aws.String("platform")}, {Key: aws.String("env"), Value: aws.String("dev")}}}); err != nil {
		t.Fatal(err)
	}
	lt, err := c.ListTagsForDeliveryStream(ctx, &fh.ListTagsForDeliveryStreamInput{DeliveryStreamName: aws.String("cp"), Limit: aws.Int32(1)})
	if err != nil || len(lt.Tags) != 1 || !aws.ToBool(lt.HasMoreTags) || aws.ToString(lt.Tags[0].Key) != "env" {
		t.Fatalf("list tags page 1: %+v %v", lt, err)
	}
	lt, _ = c.ListTagsForDeliveryStream(ctx, &fh.ListTagsForDeliveryStreamInput{DeliveryStreamName: aws.String("cp"), ExclusiveStartTagKey: aws.String("env")})
	if len(lt.Tags) != 1 || aws.ToString(lt.Tags[0].Value) != "platform" || aws.ToBool(lt.HasMoreTags) {
		t.Fatalf("list tags page 2: %+v", lt)
	}
	if _, err := c.UntagDeliveryStream(ctx, &fh.UntagDeliveryStreamInput{DeliveryStreamName: aws.String("cp"), TagKeys: []string{"team", "nope"}}); err != nil {
		t.Fatal(err)
	}
	lt, _ = c.ListTagsForDeliveryStream(ctx, &fh.ListTagsForDeliveryStreamInput{DeliveryStreamName: aws.String("cp")})
	if len(lt.Tags) != 1 || aws.ToString(lt.Tags[0].Key) != "env" {
		t.Fatalf("after untag: %+v", lt.Tags)
	}
	many := make([]fhtypes.Tag, 50)
	for i := range many {
		many[i] = fhtypes.Tag{Key: aws.String(fmt.Sprintf("k%02d", i)), Value: aws.String("v")}
	}
	if _, err := c.TagDeliveryStream(ctx, &fh.TagDeliveryStreamInput{DeliveryStreamName: aws.String("cp"), Tags: many}); apiCode(err) != "LimitExceededException" {
		t.Fatalf("51 tags: %v", err)
	}

	// List: alphabetical, paging, type filter.
	for _, n := range []string{"b2", "a1", "c3"} {
		if _, err := c.CreateDeliveryStream(ctx, &fh.CreateDeliveryStreamInput{DeliveryStreamName: aws.String(n), ExtendedS3DestinationConfiguration: s3Dest("b")}); err != nil {
			t.Fatal(err)
		}
	}
	ls, err := c.ListDeliveryStreams(ctx, &fh.ListDeliveryStreamsInput{Limit: aws.Int32(2)})
	if err != nil || strings.Join(ls.DeliveryStreamNames, ",") != "a1,b2" || !aws.ToBool(ls.HasMoreDeliveryStreams) {
		t.Fatalf("list page 1: %+v %v", ls, err)
	}
	ls, _ = c.ListDeliveryStreams(ctx, &fh.ListDeliveryStreamsInput{ExclusiveStartDeliveryStreamName: aws.String("b2")})
	if strings.Join(ls.DeliveryStreamNames, ",") != "c3,cp" || aws.ToBool(ls.HasMoreDeliveryStreams) {
		t.Fatalf("list page 2: %+v", ls)
	}
	ls, _ = c.ListDeliveryStreams(ctx, &fh.ListDeliveryStreamsInput{DeliveryStreamType: fhtypes.DeliveryStreamTypeKinesisStreamAsSource})
	if len(ls.DeliveryStreamNames) != 0 {
		t.Fatalf("type filter: %v", ls.DeliveryStreamNames)
	}

	// Delete, then everything says not found.
	if _, err := c.DeleteDeliveryStream(ctx, &fh.DeleteDeliveryStreamInput{DeliveryStreamName: aws.String("cp")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DescribeDeliveryStream(ctx, &fh.DescribeDeliveryStreamInput{DeliveryStreamName: aws.String("cp")})
	if apiCode(err) != "ResourceNotFoundException" || apiMessage(err) != "Firehose cp under account 000000000000 not found." {
		t.Fatalf("describe deleted: %v", err)
	}
	_, err = c.PutRecord(ctx, &fh.PutRecordInput{DeliveryStreamName: aws.String("cp"), Record: &fhtypes.Record{Data: []byte("x")}})
	if apiCode(err) != "ResourceNotFoundException" {
		t.Fatalf("put to deleted: %v", err)
	}
}

func TestPutValidation(t *testing.T) {
	srv := startServer(t, nil, "http://127.0.0.1:1")
	c := srv.Firehose()
	ctx := context.Background()
	if _, err := c.CreateDeliveryStream(ctx, &fh.CreateDeliveryStreamInput{DeliveryStreamName: aws.String("pv"), ExtendedS3DestinationConfiguration: s3Dest("b")}); err != nil {
		t.Fatal(err)
	}
	big := make([]byte, 1024001)
	cases := []struct {
		name     string
		call     func() error
		code     string
		contains string
	}{
		{"record too big", func() error {
			_, err := c.PutRecord(ctx, &fh.PutRecordInput{DeliveryStreamName: aws.String("pv"), Record: &fhtypes.Record{Data: big}})
			return err
		}, "ValidationException", "at 'record.data' failed to satisfy constraint: Member must have length less than or equal to 1024000"},
		{"batch member too big", func() error {
			_, err := c.PutRecordBatch(ctx, &fh.PutRecordBatchInput{DeliveryStreamName: aws.String("pv"), Records: []fhtypes.Record{{Data: []byte("a")}, {Data: big}}})
			return err
		}, "ValidationException", "at 'records.2.member.data'"},
		{"501 records", func() error {
			r := make([]fhtypes.Record, 501)
			for i := range r {
				r[i].Data = []byte("a")
			}
			_, err := c.PutRecordBatch(ctx, &fh.PutRecordBatchInput{DeliveryStreamName: aws.String("pv"), Records: r})
			return err
		}, "ValidationException", "Member must have length less than or equal to 500"},
		{"over 4 MiB", func() error {
			r := make([]fhtypes.Record, 5)
			for i := range r {
				r[i].Data = make([]byte, 1000000)
			}
			_, err := c.PutRecordBatch(ctx, &fh.PutRecordBatchInput{DeliveryStreamName: aws.String("pv"), Records: r})
			return err
		}, "InvalidArgumentException", "4 MB"},
		{"unknown stream", func() error {
			_, err := c.PutRecord(ctx, &fh.PutRecordInput{DeliveryStreamName: aws.String("nope"), Record: &fhtypes.Record{Data: []byte("a")}})
			return err
		}, "ResourceNotFoundException", "Firehose nope under account 000000000000 not found."},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			if apiCode(err) != tc.code || !strings.Contains(apiMessage(err), tc.contains) {
				t.Fatalf("got %s %q; want %s containing %q", apiCode(err), apiMessage(err), tc.code, tc.contains)
			}
		})
	}
	out, err := c.PutRecordBatch(ctx, &fh.PutRecordBatchInput{DeliveryStreamName: aws.String("pv"), Records: []fhtypes.Record{{Data: []byte("a")}, {Data: []byte{}}, {Data: []byte("c")}}})
	if err != nil || aws.ToInt32(out.FailedPutCount) != 0 || len(out.RequestResponses) != 3 {
		t.Fatalf("batch: %+v %v", out, err)
	}
	seen := map[string]bool{}
	for _, r := range out.RequestResponses {
		if aws.ToString(r.RecordId) == "" || seen[aws.ToString(r.RecordId)] {
			t.Fatalf("record ids not unique: %+v", out.RequestResponses)
		}
		seen[aws.ToString(r.RecordId)] = true
	}
}

// TestPlainS3Destination: a stream made with the (deprecated) S3 destination
// describes only S3DestinationDescription and delivers like ExtendedS3.
func TestPlainS3Destination(t *testing.T) {
	v := startVersity(t, "plain-bucket")
	srv := startServer(t, nil, v.URL)
	c := srv.Firehose()
	ctx := context.Background()
	_, err := c.CreateDeliveryStream(ctx, &fh.CreateDeliveryStreamInput{DeliveryStreamName: aws.String("plain"),
		S3DestinationConfiguration: &fhtypes.S3DestinationConfiguration{BucketARN: aws.String("arn:aws:s3:::plain-bucket"),
			RoleARN: aws.String("arn:aws:iam::000000000000:role/r"), Prefix: aws.String("p/"), CompressionFormat: fhtypes.CompressionFormatGzip}})
	if err != nil {
		t.Fatal(err)
	}
	d, err := c.DescribeDeliveryStream(ctx, &fh.DescribeDeliveryStreamInput{DeliveryStreamName: aws.String("plain")})
	if err != nil {
		t.Fatal(err)
	}
	dst := d.DeliveryStreamDescription.Destinations[0]
	if dst.S3DestinationDescription == nil || dst.ExtendedS3DestinationDescription != nil ||
		dst.S3DestinationDescription.CompressionFormat != fhtypes.CompressionFormatGzip {
		t.Fatalf("destination %+v", dst)
	}
	putBatch(t, c, "plain", [][]byte{[]byte("a"), []byte("b")})
	srv.flush("plain")
	objs := v.listObjects(t, "plain-bucket", "p/")
	if len(objs) != 1 {
		t.Fatalf("%d objects", len(objs))
	}
	if b, err := decompressGzip(objs[0].Body); err != nil || string(b) != "ab" {
		t.Fatalf("body %q %v", b, err)
	}
}
