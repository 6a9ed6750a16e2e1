//go:build linux

package firehose_test

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	fh "github.com/aws/aws-sdk-go-v2/service/firehose"
	fhtypes "github.com/aws/aws-sdk-go-v2/service/firehose/types"

	"github.com/eddy-streams/eddy/internal/firehose"
)

// TestTransformRedshift: the function turns "k,v" lines into JSON objects;
// the intermediate S3 object holds the transformed records, which COPY
// JSON 'auto' loads into a real PostgreSQL; the source-record backup
// (S3BackupMode Enabled) holds the records as put; processing failures go
// to <Prefix>processing-failed/.
func TestTransformRedshift(t *testing.T) {
	fns := newGoFunctions()
	fns.add(fnARN+"csv2json", transformer(func(b []byte) []byte {
		k, v, _ := strings.Cut(strings.TrimSpace(string(b)), ",")
		return []byte(fmt.Sprintf(`{"k":%q,"v":%s}`+"\n", k, v))
	}))
	pg := startPostgres(t)
	pg.exec(`CREATE TABLE kv (k text, v int)`)
	v := startVersity(t, "rsbk")
	srv := startServer(t, nil, v.URL, fastDestRetry, func(o *firehose.Options) { o.Lambda = fns })
	c := srv.Firehose()
	if err := redshiftStream(t, c, "rstx", fhtypes.RedshiftDestinationConfiguration{ClusterJDBCURL: aws.String(pg.JDBC()),
		CopyCommand:             &fhtypes.CopyCommand{DataTableName: aws.String("kv"), CopyOptions: aws.String("JSON 'auto'")},
		ProcessingConfiguration: lambdaProcessing(fnARN + "csv2json"),
		S3BackupMode:            fhtypes.RedshiftS3BackupModeEnabled,
		S3BackupConfiguration: &fhtypes.S3DestinationConfiguration{BucketARN: aws.String("arn:aws:s3:::rsbk"),
			RoleARN: aws.String("arn:aws:iam::000000000000:role/x"), Prefix: aws.String("source/")},
		S3Configuration: rsS3("tx/", fhtypes.CompressionFormatUncompressed)}); err != nil {
		t.Fatal(err)
	}
	in := [][]byte{[]byte("x,1\n"), []byte("drop,2\n"), []byte("fail,3\n"), []byte("y,4\n")}
	putBatch(t, c, "rstx", in)
	srv.flush("rstx")
	if got := pg.rows(`SELECT k, v FROM kv ORDER BY v`); strings.Join(got, ",") != "x|1,y|4" {
		t.Fatalf("rows %q", got)
	}
	var intermediate []byte
	for _, o := range v.listObjects(t, "rsbk", "tx/") {
		if !strings.Contains(o.Key, "/manifests/") && !strings.Contains(o.Key, "processing-failed") {
			intermediate = append(intermediate, o.Body...)
		}
	}
	if string(intermediate) != "{\"k\":\"x\",\"v\":1}\n{\"k\":\"y\",\"v\":4}\n" {
		t.Fatalf("intermediate object %q", intermediate)
	}
	var source []byte
	for _, o := range v.listObjects(t, "rsbk", "source/") {
		source = append(source, o.Body...)
	}
	if !bytes.Equal(source, bytes.Join(in, nil)) {
		t.Fatalf("source backup %q", source)
	}
	if raw := processingFailed(t, v, "rsbk", "tx/processing-failed/", fnARN+"csv2json", "Lambda.ProcessingFailedStatus"); len(raw) != 1 || raw[0] != "fail,3\n" {
		t.Fatalf("processing-failed %q", raw)
	}
	if got := metricValue(t, srv.fh, "eddy_firehose_delivery_to_redshift_records_total", "rstx"); got != "2" {
		t.Fatalf("DeliveryToRedshift.Records = %s", got)
	}
}

// TestTransformOutageAcrossRestart: with a Lambda processor, an HTTP
// endpoint that is down while records arrive and Eddy restarts (on-disk
// store) gets every transformed record once it returns; the transformation
// runs again after the restart (the buffer was never delivered), so the
// processing-failed output is written at least once.
func TestTransformOutageAcrossRestart(t *testing.T) {
	fns := newGoFunctions()
	fns.add(fnARN+"upper", transformer(bytes.ToUpper))
	recv := newHTTPReceiver(t)
	v := startVersity(t, "httpbk")
	dir := filepath.Join(t.TempDir(), "data")
	be := openLogstore(t, dir)
	withFns := func(o *firehose.Options) { o.Lambda = fns }
	srv := startServer(t, be, v.URL, fastDestRetry, withFns)
	c := srv.Firehose()
	_, err := c.CreateDeliveryStream(context.Background(), &fh.CreateDeliveryStreamInput{DeliveryStreamName: aws.String("txr"),
		HttpEndpointDestinationConfiguration: &fhtypes.HttpEndpointDestinationConfiguration{
			EndpointConfiguration:   &fhtypes.HttpEndpointConfiguration{Url: aws.String(recv.srv.URL), AccessKey: aws.String("sekret")},
			BufferingHints:          &fhtypes.HttpEndpointBufferingHints{SizeInMBs: aws.Int32(1), IntervalInSeconds: aws.Int32(0)},
			RetryOptions:            &fhtypes.HttpEndpointRetryOptions{DurationInSeconds: aws.Int32(7200)},
			ProcessingConfiguration: lambdaProcessing(fnARN + "upper"),
			S3Configuration: &fhtypes.S3DestinationConfiguration{BucketARN: aws.String("arn:aws:s3:::httpbk"),
				RoleARN: aws.String("arn:aws:iam::000000000000:role/x"), Prefix: aws.String("txr/")}}})
	if err != nil {
		t.Fatal(err)
	}
	recv.setMode("fail")
	var in, want [][]byte
	for i := 0; i < 12; i++ {
		r := []byte(fmt.Sprintf("%s-%d", []string{"rec", "drop", "fail"}[i%3], i))
		in = append(in, r)
		if i%3 == 0 {
			want = append(want, bytes.ToUpper(r))
		}
	}
	putBatch(t, c, "txr", in)
	waitFor(t, 15*time.Second, "failing attempts", func() bool {
		d, _ := c.DescribeDeliveryStream(context.Background(), &fh.DescribeDeliveryStreamInput{DeliveryStreamName: aws.String("txr")})
		return d != nil && d.DeliveryStreamDescription.FailureDescription != nil
	})
	srv.Close()
	if err := be.Close(); err != nil {
		t.Fatal(err)
	}
	be = openLogstore(t, dir)
	defer be.Close()
	recv.setMode("ok")
	srv = startServer(t, be, v.URL, fastDestRetry, withFns)
	srv.flush("txr")
	got, _ := recv.got()
	sameRecords(t, got, want)
	raw := processingFailed(t, v, "httpbk", "txr/processing-failed/", fnARN+"upper", "Lambda.ProcessingFailedStatus")
	uniq := map[string]int{}
	for _, r := range raw {
		uniq[r]++
	}
	if len(uniq) != 4 || uniq["fail-2"] == 0 || uniq["fail-5"] == 0 || uniq["fail-8"] == 0 || uniq["fail-11"] == 0 {
		t.Fatalf("processing-failed records %q, want the 4 failed records (once per transformation)", raw)
	}
}
