//go:build linux

package firehose_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	fh "github.com/aws/aws-sdk-go-v2/service/firehose"
	fhtypes "github.com/aws/aws-sdk-go-v2/service/firehose/types"
)

// BenchmarkDestinations measures delivery throughput per destination
// against its local receiver, in one run so the ratios to S3 (versitygw)
// hold: the timer covers b.N PutRecordBatch calls of 500 × ~1 KiB JSON
// records from one client and the Flush that returns once all of them are
// delivered. Every destination buffers 5 MB (Splunk's maximum), so each
// delivers while the puts go on; MB/s is end-to-end delivered bytes per second.
// opensearch-sigv4 signs each _bulk request (SigV4, service es) and its
// receiver verifies every signature; opensearch uses basic auth.
//
//	go test -run XXX -bench Destinations -benchtime 40x ./internal/firehose/
func BenchmarkDestinations(b *testing.B) {
	v := startVersity(b, "benchd")
	pg := startPostgres(b)
	pg.exec(`CREATE TABLE bench (id int, msg text)`)
	recv := newHTTPReceiver(b)
	bulk := newBulkServer(b)
	signedBulk := newSigV4BulkServer(b, "es", s3Key, s3Secret) // checks every signature
	hec := newHECServer(b)
	srv := startServer(b, nil, v.URL, fastDestRetry)
	c := srv.Firehose()
	s3c := &fhtypes.S3DestinationConfiguration{BucketARN: aws.String("arn:aws:s3:::benchd"), RoleARN: aws.String("arn:aws:iam::000000000000:role/x"),
		Prefix: aws.String("bk/"), BufferingHints: &fhtypes.BufferingHints{SizeInMBs: aws.Int32(5), IntervalInSeconds: aws.Int32(900)}}
	pad := strings.Repeat("x", 1000)
	batch := func(n int) *fh.PutRecordBatchInput {
		in := &fh.PutRecordBatchInput{}
		for i := 0; i < 500; i++ {
			in.Records = append(in.Records, fhtypes.Record{Data: []byte(fmt.Sprintf(`{"id":%d,"msg":"%s"}`+"\n", n*500+i, pad))})
		}
		return in
	}
	size := 0
	for _, r := range batch(0).Records {
		size += len(r.Data)
	}
	run := func(b *testing.B, name string, create func(name string) error) {
		if err := create(name); err != nil {
			b.Fatal(err)
		}
		b.SetBytes(int64(size))
		b.ResetTimer()
		start := time.Now()
		for i := 0; i < b.N; i++ {
			in := batch(i)
			in.DeliveryStreamName = aws.String(name)
			out, err := c.PutRecordBatch(context.Background(), in)
			if err != nil || aws.ToInt32(out.FailedPutCount) != 0 {
				b.Fatalf("put: %v", err)
			}
		}
		srv.flush(name)
		b.StopTimer()
		b.ReportMetric(float64(b.N*size)/1e6/time.Since(start).Seconds(), "MB/s-delivered")
	}
	var seq int
	next := func(k string) string { seq++; return fmt.Sprintf("%s%d", k, seq) }
	create := func(in *fh.CreateDeliveryStreamInput) error {
		_, err := c.CreateDeliveryStream(context.Background(), in)
		return err
	}
	b.Run("s3", func(b *testing.B) {
		run(b, next("s3"), func(n string) error {
			return create(&fh.CreateDeliveryStreamInput{DeliveryStreamName: aws.String(n), ExtendedS3DestinationConfiguration: &fhtypes.ExtendedS3DestinationConfiguration{
				BucketARN: s3c.BucketARN, RoleARN: s3c.RoleARN, Prefix: aws.String(n + "/"), BufferingHints: s3c.BufferingHints}})
		})
	})
	b.Run("http", func(b *testing.B) {
		run(b, next("http"), func(n string) error {
			return create(&fh.CreateDeliveryStreamInput{DeliveryStreamName: aws.String(n), HttpEndpointDestinationConfiguration: &fhtypes.HttpEndpointDestinationConfiguration{
				EndpointConfiguration: &fhtypes.HttpEndpointConfiguration{Url: aws.String(recv.srv.URL)},
				BufferingHints:        &fhtypes.HttpEndpointBufferingHints{SizeInMBs: aws.Int32(5), IntervalInSeconds: aws.Int32(900)}, S3Configuration: s3c}})
		})
	})
	b.Run("opensearch", func(b *testing.B) {
		run(b, next("os"), func(n string) error {
			return create(&fh.CreateDeliveryStreamInput{DeliveryStreamName: aws.String(n), AmazonopensearchserviceDestinationConfiguration: &fhtypes.AmazonopensearchserviceDestinationConfiguration{
				ClusterEndpoint: aws.String(strings.Replace(bulk.srv.URL, "http://", "http://fh:pw@", 1)), IndexName: aws.String(n), RoleARN: s3c.RoleARN,
				BufferingHints: &fhtypes.AmazonopensearchserviceBufferingHints{SizeInMBs: aws.Int32(5), IntervalInSeconds: aws.Int32(900)}, S3Configuration: s3c}})
		})
	})
	b.Run("opensearch-sigv4", func(b *testing.B) {
		run(b, next("ossig"), func(n string) error {
			return create(&fh.CreateDeliveryStreamInput{DeliveryStreamName: aws.String(n), AmazonopensearchserviceDestinationConfiguration: &fhtypes.AmazonopensearchserviceDestinationConfiguration{
				ClusterEndpoint: aws.String(signedBulk.srv.URL), IndexName: aws.String(n), RoleARN: s3c.RoleARN,
				BufferingHints: &fhtypes.AmazonopensearchserviceBufferingHints{SizeInMBs: aws.Int32(5), IntervalInSeconds: aws.Int32(900)}, S3Configuration: s3c}})
		})
	})
	b.Run("splunk", func(b *testing.B) {
		run(b, next("sp"), func(n string) error {
			return create(&fh.CreateDeliveryStreamInput{DeliveryStreamName: aws.String(n), SplunkDestinationConfiguration: &fhtypes.SplunkDestinationConfiguration{
				HECEndpoint: aws.String(hec.srv.URL), HECEndpointType: fhtypes.HECEndpointTypeRaw, HECToken: aws.String("tok"),
				BufferingHints: &fhtypes.SplunkBufferingHints{SizeInMBs: aws.Int32(5), IntervalInSeconds: aws.Int32(60)}, S3Configuration: s3c}})
		})
	})
	b.Run("redshift-postgres", func(b *testing.B) {
		run(b, next("rs"), func(n string) error {
			return create(&fh.CreateDeliveryStreamInput{DeliveryStreamName: aws.String(n), RedshiftDestinationConfiguration: &fhtypes.RedshiftDestinationConfiguration{
				ClusterJDBCURL: aws.String(pg.JDBC()), Username: aws.String("postgres"), Password: aws.String("unused"), RoleARN: s3c.RoleARN,
				CopyCommand:     &fhtypes.CopyCommand{DataTableName: aws.String("bench"), CopyOptions: aws.String("JSON 'auto'")},
				S3Configuration: &fhtypes.S3DestinationConfiguration{BucketARN: s3c.BucketARN, RoleARN: s3c.RoleARN, Prefix: aws.String(n + "/"), BufferingHints: s3c.BufferingHints}}})
		})
	})
}
