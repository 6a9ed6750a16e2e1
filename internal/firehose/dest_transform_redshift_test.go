//go:build linux

package firehose_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
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
