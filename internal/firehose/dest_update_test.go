package firehose_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	fh "github.com/aws/aws-sdk-go-v2/service/firehose"
	fhtypes "github.com/aws/aws-sdk-go-v2/service/firehose/types"
)

// TestUpdateDestinationTypes: switching S3 → HTTP endpoint → ExtendedS3
// takes each update as a full configuration and delivers to the new type;
// OpenSearch only updates to OpenSearch; a backup mode that keeps every
// record cannot go back; Snowflake and Iceberg stay refused with a reason.
func TestUpdateDestinationTypes(t *testing.T) {
	v := startVersity(t, "updbk")
	recv := newHTTPReceiver(t)
	srv := startServer(t, nil, v.URL, fastDestRetry)
	c := srv.Firehose()
	ctx := context.Background()
	role := aws.String("arn:aws:iam::000000000000:role/x")
	s3Stream(t, c, "sw", fhtypes.ExtendedS3DestinationConfiguration{BucketARN: aws.String("arn:aws:s3:::updbk"), Prefix: aws.String("s3/")})
	version := func(name string) *string {
		d, err := c.DescribeDeliveryStream(ctx, &fh.DescribeDeliveryStreamInput{DeliveryStreamName: aws.String(name)})
		if err != nil {
			t.Fatal(err)
		}
		return d.DeliveryStreamDescription.VersionId
	}
	update := func(name string, in fh.UpdateDestinationInput) error {
		in.DeliveryStreamName, in.CurrentDeliveryStreamVersionId, in.DestinationId = aws.String(name), version(name), aws.String("destinationId-000000000001")
		_, err := c.UpdateDestination(ctx, &in)
		return err
	}
	if err := update("sw", fh.UpdateDestinationInput{HttpEndpointDestinationUpdate: &fhtypes.HttpEndpointDestinationUpdate{
		EndpointConfiguration: &fhtypes.HttpEndpointConfiguration{Url: aws.String(recv.srv.URL)},
		S3Update:              &fhtypes.S3DestinationUpdate{BucketARN: aws.String("arn:aws:s3:::updbk"), RoleARN: role, Prefix: aws.String("h/")}}}); err != nil {
		t.Fatal(err)
	}
	d, _ := c.DescribeDeliveryStream(ctx, &fh.DescribeDeliveryStreamInput{DeliveryStreamName: aws.String("sw")})
	dd := d.DeliveryStreamDescription.Destinations[0]
	if dd.HttpEndpointDestinationDescription == nil || dd.ExtendedS3DestinationDescription != nil || dd.S3DestinationDescription != nil ||
		aws.ToString(dd.HttpEndpointDestinationDescription.S3DestinationDescription.Prefix) != "h/" {
		t.Fatalf("after S3 → HTTP: %+v", dd)
	}
	putBatch(t, c, "sw", [][]byte{[]byte("to-http")})
	srv.flush("sw")
	if got, _ := recv.got(); len(got) != 1 || string(got[0]) != "to-http" {
		t.Fatalf("HTTP receiver got %q", got)
	}
	// Back to ExtendedS3: again no merge.
	if err := update("sw", fh.UpdateDestinationInput{ExtendedS3DestinationUpdate: &fhtypes.ExtendedS3DestinationUpdate{
		BucketARN: aws.String("arn:aws:s3:::updbk"), RoleARN: role, Prefix: aws.String("back/")}}); err != nil {
		t.Fatal(err)
	}
	putBatch(t, c, "sw", [][]byte{[]byte("to-s3")})
	srv.flush("sw")
	if objs := v.listObjects(t, "updbk", "back/"); len(objs) != 1 || string(objs[0].Body) != "to-s3" {
		t.Fatalf("back on S3: %+v", objs)
	}

	// A switch is a full configuration: an HTTP update without the endpoint is refused.
	if err := update("sw", fh.UpdateDestinationInput{HttpEndpointDestinationUpdate: &fhtypes.HttpEndpointDestinationUpdate{
		S3Update: &fhtypes.S3DestinationUpdate{BucketARN: aws.String("arn:aws:s3:::updbk"), RoleARN: role}}}); err == nil || !strings.Contains(err.Error(), "endpointConfiguration") {
		t.Fatalf("switch without EndpointConfiguration: %v", err)
	}

	osStream(t, c, "os", "http://127.0.0.1:1", 60, 60)
	err := update("os", fh.UpdateDestinationInput{HttpEndpointDestinationUpdate: &fhtypes.HttpEndpointDestinationUpdate{
		EndpointConfiguration: &fhtypes.HttpEndpointConfiguration{Url: aws.String(recv.srv.URL)},
		S3Update:              &fhtypes.S3DestinationUpdate{BucketARN: aws.String("arn:aws:s3:::updbk"), RoleARN: role}}})
	if err == nil || !strings.Contains(err.Error(), "same type") {
		t.Fatalf("OpenSearch → HTTP: %v", err)
	}
	if err := update("os", fh.UpdateDestinationInput{ExtendedS3DestinationUpdate: &fhtypes.ExtendedS3DestinationUpdate{BucketARN: aws.String("arn:aws:s3:::updbk"), RoleARN: role}}); err == nil {
		t.Fatal("OpenSearch → S3 accepted")
	}
	if err := update("os", fh.UpdateDestinationInput{AmazonopensearchserviceDestinationUpdate: &fhtypes.AmazonopensearchserviceDestinationUpdate{
		IndexName: aws.String("renamed")}}); err != nil {
		t.Fatal(err)
	}
	d, _ = c.DescribeDeliveryStream(ctx, &fh.DescribeDeliveryStreamInput{DeliveryStreamName: aws.String("os")})
	od := d.DeliveryStreamDescription.Destinations[0].AmazonopensearchserviceDestinationDescription
	if aws.ToString(od.IndexName) != "renamed" || aws.ToString(od.ClusterEndpoint) != "http://127.0.0.1:1" || od.IndexRotationPeriod != fhtypes.AmazonopensearchserviceIndexRotationPeriodOneDay {
		t.Fatalf("merged OpenSearch update: %+v", od)
	}
	splunkStream(t, c, "sp", "http://127.0.0.1:1", "tok", fhtypes.HECEndpointTypeRaw, 60, 60)
	if err := update("sp", fh.UpdateDestinationInput{SplunkDestinationUpdate: &fhtypes.SplunkDestinationUpdate{S3BackupMode: fhtypes.SplunkS3BackupModeAllEvents}}); err != nil {
		t.Fatal(err)
	}
	if err := update("sp", fh.UpdateDestinationInput{SplunkDestinationUpdate: &fhtypes.SplunkDestinationUpdate{S3BackupMode: fhtypes.SplunkS3BackupModeFailedEventsOnly}}); err == nil {
		t.Fatal("AllEvents → FailedEventsOnly accepted")
	}
	d, _ = c.DescribeDeliveryStream(ctx, &fh.DescribeDeliveryStreamInput{DeliveryStreamName: aws.String("sp")})
	if sd := d.DeliveryStreamDescription.Destinations[0].SplunkDestinationDescription; sd.S3BackupMode != fhtypes.SplunkS3BackupModeAllEvents || aws.ToString(sd.HECToken) != "tok" {
		t.Fatalf("Splunk after updates: %+v", sd)
	}

	_, err = c.CreateDeliveryStream(ctx, &fh.CreateDeliveryStreamInput{DeliveryStreamName: aws.String("ice"),
		IcebergDestinationConfiguration: &fhtypes.IcebergDestinationConfiguration{RoleARN: role,
			CatalogConfiguration: &fhtypes.CatalogConfiguration{CatalogARN: aws.String("arn:aws:glue:us-east-1:000000000000:catalog")},
			S3Configuration:      &fhtypes.S3DestinationConfiguration{BucketARN: aws.String("arn:aws:s3:::updbk"), RoleARN: role}}})
	if err == nil || !strings.Contains(err.Error(), "Iceberg") || !strings.Contains(err.Error(), "InvalidArgumentException") {
		t.Fatalf("Iceberg: %v", err)
	}
}

// TestUpdateDuringRetries: fixing the endpoint with UpdateDestination while
// a buffer is being retried (long RetryOptions) delivers it to the new URL
// at once.
func TestUpdateDuringRetries(t *testing.T) {
	v := startVersity(t, "updbk")
	recv := newHTTPReceiver(t)
	srv := startServer(t, nil, v.URL, fastDestRetry)
	c := srv.Firehose()
	ctx := context.Background()
	httpStream(t, c, "fix", "http://127.0.0.1:1/", 7200, fhtypes.HttpEndpointS3BackupModeFailedDataOnly, 0)
	putBatch(t, c, "fix", [][]byte{[]byte("waiting")})
	var version *string
	waitFor(t, 10*time.Second, "failing attempts", func() bool {
		d, _ := c.DescribeDeliveryStream(ctx, &fh.DescribeDeliveryStreamInput{DeliveryStreamName: aws.String("fix")})
		if d == nil {
			return false
		}
		version = d.DeliveryStreamDescription.VersionId
		return d.DeliveryStreamDescription.FailureDescription != nil
	})
	_, err := c.UpdateDestination(ctx, &fh.UpdateDestinationInput{DeliveryStreamName: aws.String("fix"), CurrentDeliveryStreamVersionId: version,
		DestinationId:                 aws.String("destinationId-000000000001"),
		HttpEndpointDestinationUpdate: &fhtypes.HttpEndpointDestinationUpdate{EndpointConfiguration: &fhtypes.HttpEndpointConfiguration{Url: aws.String(recv.srv.URL)}}})
	if err != nil {
		t.Fatal(err)
	}
	srv.flush("fix")
	if got, _ := recv.got(); len(got) != 1 || string(got[0]) != "waiting" {
		t.Fatalf("after the update: %q", got)
	}
}
