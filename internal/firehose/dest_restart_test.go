//go:build linux

package firehose_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	fh "github.com/aws/aws-sdk-go-v2/service/firehose"
	fhtypes "github.com/aws/aws-sdk-go-v2/service/firehose/types"
)

// TestDestinationsOutageAcrossRestart: OpenSearch, Splunk and the Redshift
// warehouse are all down while records arrive and Eddy restarts (on-disk
// store); when they return, every record is delivered, none to S3.
func TestDestinationsOutageAcrossRestart(t *testing.T) {
	v := startVersity(t, "rstbk")
	bulk := newBulkServer(t)
	hec := newHECServer(t)
	pg := startPostgres(t)
	pg.exec(`CREATE TABLE r (id int)`)
	dir := filepath.Join(t.TempDir(), "data")
	be := openLogstore(t, dir)
	srv := startServer(t, be, v.URL, fastDestRetry)
	c := srv.Firehose()
	s3c := &fhtypes.S3DestinationConfiguration{BucketARN: aws.String("arn:aws:s3:::rstbk"), RoleARN: aws.String("arn:aws:iam::000000000000:role/x"),
		Prefix: aws.String("bk/"), BufferingHints: &fhtypes.BufferingHints{SizeInMBs: aws.Int32(1), IntervalInSeconds: aws.Int32(0)}}
	create := func(in *fh.CreateDeliveryStreamInput) {
		if _, err := c.CreateDeliveryStream(context.Background(), in); err != nil {
			t.Fatal(err)
		}
	}
	create(&fh.CreateDeliveryStreamInput{DeliveryStreamName: aws.String("os"), AmazonopensearchserviceDestinationConfiguration: &fhtypes.AmazonopensearchserviceDestinationConfiguration{
		ClusterEndpoint: aws.String(strings.Replace(bulk.srv.URL, "http://", "http://fh:pw@", 1)), IndexName: aws.String("r"), RoleARN: s3c.RoleARN,
		IndexRotationPeriod: fhtypes.AmazonopensearchserviceIndexRotationPeriodNoRotation,
		BufferingHints:      &fhtypes.AmazonopensearchserviceBufferingHints{SizeInMBs: aws.Int32(1), IntervalInSeconds: aws.Int32(0)},
		RetryOptions:        &fhtypes.AmazonopensearchserviceRetryOptions{DurationInSeconds: aws.Int32(7200)}, S3Configuration: s3c}})
	create(&fh.CreateDeliveryStreamInput{DeliveryStreamName: aws.String("sp"), SplunkDestinationConfiguration: &fhtypes.SplunkDestinationConfiguration{
		HECEndpoint: aws.String(hec.srv.URL), HECEndpointType: fhtypes.HECEndpointTypeRaw, HECToken: aws.String("tok"),
		BufferingHints: &fhtypes.SplunkBufferingHints{SizeInMBs: aws.Int32(1), IntervalInSeconds: aws.Int32(0)},
		RetryOptions:   &fhtypes.SplunkRetryOptions{DurationInSeconds: aws.Int32(7200)}, S3Configuration: s3c}})
	create(&fh.CreateDeliveryStreamInput{DeliveryStreamName: aws.String("rs"), RedshiftDestinationConfiguration: &fhtypes.RedshiftDestinationConfiguration{
		ClusterJDBCURL: aws.String(pg.JDBC()), Username: aws.String("postgres"), Password: aws.String("unused"), RoleARN: s3c.RoleARN,
		CopyCommand:  &fhtypes.CopyCommand{DataTableName: aws.String("r"), CopyOptions: aws.String("CSV")},
		RetryOptions: &fhtypes.RedshiftRetryOptions{DurationInSeconds: aws.Int32(7200)}, S3Configuration: s3c}})

	bulk.setDown(true)
	hec.setMode("down")
	pg.Stop()
	var osRecs, spRecs, rsRecs [][]byte
	for i := 0; i < 30; i++ {
		osRecs = append(osRecs, []byte(fmt.Sprintf(`{"i":%d}`, i)))
		spRecs = append(spRecs, []byte(fmt.Sprintf("ev %d\n", i)))
		rsRecs = append(rsRecs, []byte(fmt.Sprintf("%d\n", i)))
	}
	putBatch(t, c, "os", osRecs)
	putBatch(t, c, "sp", spRecs)
	putBatch(t, c, "rs", rsRecs)
	for _, name := range []string{"os", "sp", "rs"} {
		waitFor(t, 15*time.Second, name+" failing", func() bool {
			d, _ := c.DescribeDeliveryStream(context.Background(), &fh.DescribeDeliveryStreamInput{DeliveryStreamName: aws.String(name)})
			return d != nil && d.DeliveryStreamDescription.FailureDescription != nil
		})
	}
	srv.Close()
	if err := be.Close(); err != nil {
		t.Fatal(err)
	}
	be = openLogstore(t, dir)
	defer be.Close()
	bulk.setDown(false)
	hec.setMode("ok")
	pg.Start()
	srv = startServer(t, be, v.URL, fastDestRetry)
	for _, name := range []string{"os", "sp", "rs"} {
		srv.flush(name)
	}
	docs, _ := bulk.snapshot()
	if len(docs) != 30 {
		t.Fatalf("%d documents after the outage, want 30", len(docs))
	}
	hec.mu.Lock()
	indexed := string(hec.indexed)
	hec.mu.Unlock()
	var want strings.Builder
	for _, r := range spRecs {
		want.Write(r)
	}
	if indexed != want.String() {
		t.Fatalf("Splunk indexed %q", indexed)
	}
	if n := len(pg.rows(`SELECT DISTINCT id FROM r`)); n != 30 {
		t.Fatalf("%d distinct rows in the warehouse, want 30", n)
	}
	for _, o := range v.listObjects(t, "rstbk", "bk/") {
		if strings.Contains(o.Key, "failed") || strings.Contains(o.Key, "errors/") {
			t.Fatalf("error output during an outage within RetryOptions: %s", o.Key)
		}
	}
}
