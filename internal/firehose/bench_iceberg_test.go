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

	"github.com/eddy-streams/eddy/internal/firehose"
)

// BenchmarkIcebergDestination measures delivered MB/s to an Iceberg table
// (Parquet data files and a snapshot commit per buffer, metadata and data in
// versitygw, Eddy's Glue catalog in process) as a ratio to S3 delivery in
// the same run, with BenchmarkDestinations' load: b.N PutRecordBatch calls
// of 500 × ~1 KiB JSON records and the Flush that returns once all are
// delivered (in the table: committed), 5 MB buffers.
//
//	go test -run XXX -bench IcebergDestination -benchtime 40x ./internal/firehose/
func BenchmarkIcebergDestination(b *testing.B) {
	v := startVersity(b, "warehouse", "benchi")
	lake := newIcebergLake(b, v, nil)
	lake.createTable(b, "bench")
	srv := startServer(b, nil, v.URL, fastDestRetry, func(o *firehose.Options) { o.Catalog = lake.glue })
	c := srv.Firehose()
	role := aws.String("arn:aws:iam::000000000000:role/x")
	hints := &fhtypes.BufferingHints{SizeInMBs: aws.Int32(5), IntervalInSeconds: aws.Int32(900)}
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
	var seq int
	run := func(b *testing.B, create func(name string) error) {
		seq++
		name := fmt.Sprintf("s%d", seq)
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
	b.Run("s3", func(b *testing.B) {
		run(b, func(n string) error {
			_, err := c.CreateDeliveryStream(context.Background(), &fh.CreateDeliveryStreamInput{DeliveryStreamName: aws.String(n),
				ExtendedS3DestinationConfiguration: &fhtypes.ExtendedS3DestinationConfiguration{
					BucketARN: aws.String("arn:aws:s3:::benchi"), RoleARN: role, Prefix: aws.String(n + "/"), BufferingHints: hints}})
			return err
		})
	})
	b.Run("iceberg", func(b *testing.B) {
		run(b, func(n string) error {
			_, err := c.CreateDeliveryStream(context.Background(), &fh.CreateDeliveryStreamInput{DeliveryStreamName: aws.String(n),
				IcebergDestinationConfiguration: &fhtypes.IcebergDestinationConfiguration{RoleARN: role,
					CatalogConfiguration: &fhtypes.CatalogConfiguration{CatalogARN: aws.String("arn:aws:glue:us-east-1:000000000000:catalog")},
					DestinationTableConfigurationList: []fhtypes.DestinationTableConfiguration{{
						DestinationDatabaseName: aws.String("lake"), DestinationTableName: aws.String("bench")}},
					BufferingHints:  hints,
					S3Configuration: &fhtypes.S3DestinationConfiguration{BucketARN: aws.String("arn:aws:s3:::benchi"), RoleARN: role}}})
			return err
		})
	})
}
