//go:build linux

package analytics_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	kt "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	ka "github.com/aws/aws-sdk-go-v2/service/kinesisanalytics"
	kat "github.com/aws/aws-sdk-go-v2/service/kinesisanalytics/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/eddy-streams/eddy/internal/config"
	"github.com/eddy-streams/eddy/internal/eddytest"
)

// startS3 runs versitygw (scripts/setup.d/20-versitygw.sh) on loopback with
// one bucket holding the given objects.
func startS3(t *testing.T, bucket string, objects map[string]string) string {
	t.Helper()
	bin, err := exec.LookPath("versitygw")
	if err != nil {
		bin = os.ExpandEnv("$HOME/go/bin/versitygw")
		if _, err := os.Stat(bin); err != nil {
			t.Fatalf("versitygw is not installed (run scripts/setup.d/20-versitygw.sh)")
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	cmd := exec.Command(bin, "--access", "s3key", "--secret", "s3secret", "--port", addr, "--quiet", "posix", t.TempDir())
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("versitygw did not start")
		}
	}
	url := "http://" + addr
	c := s3.NewFromConfig(aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("s3key", "s3secret", "")}, func(o *s3.Options) {
		o.BaseEndpoint, o.UsePathStyle = aws.String(url), true
	})
	if _, err := c.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	for k, v := range objects {
		if _, err := c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(k), Body: bytes.NewReader([]byte(v))}); err != nil {
			t.Fatal(err)
		}
	}
	return url
}

// TestServerReferenceTableFromS3: DiscoverInputSchema reads an S3 object,
// and an application joins its stream with a reference table loaded from
// S3 through the server's S3 endpoint.
func TestServerReferenceTableFromS3(t *testing.T) {
	url := startS3(t, "ref", map[string]string{"codes.csv": "200,OK\n404,Not Found\n500,Server Error\n"})
	srv := eddytest.Start(t, eddytest.WithConfig(func(c *config.Config) {
		c.S3Endpoint, c.S3AccessKey, c.S3SecretKey = url, "s3key", "s3secret"
	}))
	cfg := eddytest.AWSConfig(srv.URL(), "", "")
	kc, ac := kinesis.NewFromConfig(cfg), ka.NewFromConfig(cfg)

	d, err := ac.DiscoverInputSchema(ctx, &ka.DiscoverInputSchemaInput{S3Configuration: &kat.S3Configuration{BucketARN: aws.String("arn:aws:s3:::ref"), FileKey: aws.String("codes.csv"), RoleARN: aws.String(roleARN)}})
	if err != nil {
		t.Fatal(err)
	}
	var cols []string
	for _, c := range d.InputSchema.RecordColumns {
		cols = append(cols, aws.ToString(c.Name)+" "+aws.ToString(c.SqlType))
	}
	if d.InputSchema.RecordFormat.RecordFormatType != kat.RecordFormatTypeCsv || strings.Join(cols, ", ") != "COL1 INTEGER, COL2 VARCHAR(16)" || len(d.ParsedInputRecords) != 3 {
		t.Fatalf("discovered %v %+v", cols, d.InputSchema.RecordFormat)
	}
	_, err = ac.DiscoverInputSchema(ctx, &ka.DiscoverInputSchemaInput{S3Configuration: &kat.S3Configuration{BucketARN: aws.String("arn:aws:s3:::ref"), FileKey: aws.String("nope.csv"), RoleARN: aws.String(roleARN)}})
	apiErr(t, err, "ResourceNotFoundException")

	for _, s := range []string{"in", "out"} {
		if _, err := kc.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(s), ShardCount: aws.Int32(1)}); err != nil {
			t.Fatal(err)
		}
		eddytest.WaitActive(t, kc, s)
	}
	code := `CREATE OR REPLACE STREAM "DEST" (status INTEGER, label VARCHAR(16));
CREATE OR REPLACE PUMP "P" AS INSERT INTO "DEST"
  SELECT STREAM "SOURCE_SQL_STREAM_001"."status", "c"."label"
  FROM "SOURCE_SQL_STREAM_001" LEFT JOIN "Codes" AS "c" ON "SOURCE_SQL_STREAM_001"."status" = "c"."code";`
	in := kat.Input{NamePrefix: aws.String("SOURCE_SQL_STREAM"),
		KinesisStreamsInput: &kat.KinesisStreamsInput{ResourceARN: aws.String("arn:aws:kinesis:us-east-1:000000000000:stream/in"), RoleARN: aws.String(roleARN)},
		InputSchema: &kat.SourceSchema{RecordFormat: &kat.RecordFormat{RecordFormatType: kat.RecordFormatTypeJson, MappingParameters: &kat.MappingParameters{JSONMappingParameters: &kat.JSONMappingParameters{RecordRowPath: aws.String("$")}}},
			RecordColumns: []kat.RecordColumn{{Name: aws.String("status"), SqlType: aws.String("INTEGER"), Mapping: aws.String("$.status")}}}}
	if _, err := ac.CreateApplication(ctx, &ka.CreateApplicationInput{ApplicationName: aws.String("join"), Inputs: []kat.Input{in},
		Outputs: []kat.Output{{Name: aws.String("DEST"), KinesisStreamsOutput: &kat.KinesisStreamsOutput{ResourceARN: aws.String("arn:aws:kinesis:us-east-1:000000000000:stream/out"), RoleARN: aws.String(roleARN)}, DestinationSchema: &kat.DestinationSchema{RecordFormatType: kat.RecordFormatTypeCsv}}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := ac.AddApplicationReferenceDataSource(ctx, &ka.AddApplicationReferenceDataSourceInput{ApplicationName: aws.String("join"), CurrentApplicationVersionId: aws.Int64(1),
		ReferenceDataSource: &kat.ReferenceDataSource{TableName: aws.String("Codes"),
			S3ReferenceDataSource: &kat.S3ReferenceDataSource{BucketARN: aws.String("arn:aws:s3:::ref"), FileKey: aws.String("codes.csv"), ReferenceRoleARN: aws.String(roleARN)},
			ReferenceSchema: &kat.SourceSchema{RecordFormat: &kat.RecordFormat{RecordFormatType: kat.RecordFormatTypeCsv, MappingParameters: &kat.MappingParameters{CSVMappingParameters: &kat.CSVMappingParameters{RecordRowDelimiter: aws.String("\n"), RecordColumnDelimiter: aws.String(",")}}},
				RecordColumns: []kat.RecordColumn{{Name: aws.String("code"), SqlType: aws.String("INTEGER")}, {Name: aws.String("label"), SqlType: aws.String("VARCHAR(16)")}}}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := ac.UpdateApplication(ctx, &ka.UpdateApplicationInput{ApplicationName: aws.String("join"), CurrentApplicationVersionId: aws.Int64(2), ApplicationUpdate: &kat.ApplicationUpdate{ApplicationCodeUpdate: aws.String(code)}}); err != nil {
		t.Fatal(err)
	}
	if _, err := ac.StartApplication(ctx, &ka.StartApplicationInput{ApplicationName: aws.String("join"), InputConfigurations: []kat.InputConfiguration{{Id: aws.String("1.1"), InputStartingPositionConfiguration: &kat.InputStartingPositionConfiguration{InputStartingPosition: kat.InputStartingPositionNow}}}}); err != nil {
		t.Fatal(err)
	}
	var recs []kt.PutRecordsRequestEntry
	for _, s := range []int{404, 200, 302} {
		recs = append(recs, kt.PutRecordsRequestEntry{Data: []byte(fmt.Sprintf(`{"status":%d}`, s)), PartitionKey: aws.String("p")})
	}
	if _, err := kc.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String("in"), Records: recs}); err != nil {
		t.Fatal(err)
	}
	got := waitRecords(t, kc, "out", 3)
	sort.Strings(got)
	if want := "200,OK\n|302,\n|404,Not Found\n"; strings.Join(got, "|") != want {
		t.Fatalf("joined %q, want %q", strings.Join(got, "|"), want)
	}
}
