//go:build linux

package firehose_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	fh "github.com/aws/aws-sdk-go-v2/service/firehose"
	fhtypes "github.com/aws/aws-sdk-go-v2/service/firehose/types"
)

func redshiftStream(t testing.TB, c *fh.Client, name string, cfg fhtypes.RedshiftDestinationConfiguration) error {
	t.Helper()
	if cfg.RoleARN == nil {
		cfg.RoleARN = aws.String("arn:aws:iam::000000000000:role/x")
	}
	if cfg.Username == nil {
		cfg.Username, cfg.Password = aws.String("postgres"), aws.String("unused-with-trust")
	}
	_, err := c.CreateDeliveryStream(context.Background(), &fh.CreateDeliveryStreamInput{
		DeliveryStreamName: aws.String(name), RedshiftDestinationConfiguration: &cfg})
	return err
}

func rsS3(prefix string, comp fhtypes.CompressionFormat) *fhtypes.S3DestinationConfiguration {
	return &fhtypes.S3DestinationConfiguration{BucketARN: aws.String("arn:aws:s3:::rsbk"), RoleARN: aws.String("arn:aws:iam::000000000000:role/x"),
		Prefix: aws.String(prefix), CompressionFormat: comp,
		BufferingHints: &fhtypes.BufferingHints{SizeInMBs: aws.Int32(1), IntervalInSeconds: aws.Int32(60)}}
}

// TestRedshiftCopyIntoPostgres: JSON 'auto' and CSV batches land in a real
// PostgreSQL through intermediate S3 objects and manifests; the description
// hides the password; bad COPY options and compressions are refused.
func TestRedshiftCopyIntoPostgres(t *testing.T) {
	pg := startPostgres(t)
	pg.exec(`CREATE TABLE events (id int, name text, tags jsonb, seen timestamptz)`)
	pg.exec(`CREATE TABLE pairs (k text, v int, extra text)`)
	v := startVersity(t, "rsbk")
	srv := startServer(t, nil, v.URL, fastDestRetry)
	c := srv.Firehose()

	if err := redshiftStream(t, c, "rj", fhtypes.RedshiftDestinationConfiguration{ClusterJDBCURL: aws.String(pg.JDBC()),
		CopyCommand:     &fhtypes.CopyCommand{DataTableName: aws.String("events"), CopyOptions: aws.String("JSON 'auto' GZIP TIMEFORMAT 'auto'")},
		S3Configuration: rsS3("j/", fhtypes.CompressionFormatGzip)}); err != nil {
		t.Fatal(err)
	}
	var in [][]byte
	for i := 0; i < 50; i++ {
		in = append(in, []byte(fmt.Sprintf(`{"id":%d,"name":"n,\"%d\"","tags":{"k":[%d]},"seen":"2026-12-03T10:00:%02dZ"}`+"\n", i, i, i, i)))
	}
	putBatch(t, c, "rj", in)
	srv.flush("rj")
	got := pg.rows(`SELECT id, name, tags::text, extract(epoch from seen)::bigint FROM events ORDER BY id`)
	if len(got) != 50 || got[7] != `7|n,"7"|{"k": [7]}|`+fmt.Sprint(time.Date(2026, 12, 3, 10, 0, 7, 0, time.UTC).Unix()) {
		t.Fatalf("%d rows; row 7 = %q", len(got), got[min(7, len(got)-1)])
	}
	objs := v.listObjects(t, "rsbk", "j/")
	var data, manifest int
	for _, o := range objs {
		if strings.HasPrefix(o.Key, "j/manifests/") {
			manifest++
			var m struct{ Entries []struct{ URL string } }
			if err := json.Unmarshal(o.Body, &m); err != nil || len(m.Entries) != 1 || !strings.HasPrefix(m.Entries[0].URL, "s3://rsbk/j/") {
				t.Fatalf("manifest %s: %s", o.Key, o.Body)
			}
		} else if strings.HasSuffix(o.Key, ".gz") {
			data++
		}
	}
	if data != 1 || manifest != 1 {
		t.Fatalf("%d intermediate objects and %d manifests: %+v", data, manifest, objs)
	}

	if err := redshiftStream(t, c, "rc", fhtypes.RedshiftDestinationConfiguration{ClusterJDBCURL: aws.String(pg.JDBC()),
		CopyCommand:     &fhtypes.CopyCommand{DataTableName: aws.String("pairs"), DataTableColumns: aws.String("k,v"), CopyOptions: aws.String("CSV DELIMITER ';' IGNOREHEADER 1")},
		S3Configuration: rsS3("c/", fhtypes.CompressionFormatUncompressed)}); err != nil {
		t.Fatal(err)
	}
	putBatch(t, c, "rc", [][]byte{[]byte("k;v\n"), []byte("a;1\n"), []byte("\"b;c\";2\n")})
	srv.flush("rc")
	if got := pg.rows(`SELECT k, v, extra FROM pairs ORDER BY v`); strings.Join(got, ",") != "a|1|NULL,b;c|2|NULL" {
		t.Fatalf("CSV rows: %q", got)
	}
	if got := metricValue(t, srv.fh, "eddy_firehose_delivery_to_redshift_records_total", "rc"); got != "3" {
		t.Fatalf("DeliveryToRedshift.Records = %s", got)
	}

	d, err := c.DescribeDeliveryStream(context.Background(), &fh.DescribeDeliveryStreamInput{DeliveryStreamName: aws.String("rc")})
	if err != nil {
		t.Fatal(err)
	}
	rd := d.DeliveryStreamDescription.Destinations[0].RedshiftDestinationDescription
	if rd == nil || aws.ToString(rd.ClusterJDBCURL) != pg.JDBC() || aws.ToString(rd.CopyCommand.DataTableColumns) != "k,v" ||
		aws.ToString(rd.Username) != "postgres" || rd.S3BackupMode != fhtypes.RedshiftS3BackupModeDisabled ||
		aws.ToInt32(rd.RetryOptions.DurationInSeconds) != 3600 || aws.ToString(rd.S3DestinationDescription.Prefix) != "c/" {
		t.Fatalf("description: %+v", rd)
	}
	raw, _ := json.Marshal(rd)
	if strings.Contains(string(raw), "unused-with-trust") {
		t.Fatal("the description shows the password")
	}

	for _, bad := range []struct {
		opts string
		comp fhtypes.CompressionFormat
		want string
	}{
		{"JSON 'auto' MAXERROR 5", fhtypes.CompressionFormatUncompressed, "MAXERROR is not supported"},
		{"JSON 's3://b/paths.json'", fhtypes.CompressionFormatUncompressed, "JSONPaths"},
		{"CSV", fhtypes.CompressionFormatSnappy, "Snappy is not supported for Redshift"},
		{"CSV", fhtypes.CompressionFormatZip, "ZIP is not supported for Redshift"},
		{"CSV", fhtypes.CompressionFormatGzip, "GZIP exactly when"},
	} {
		err := redshiftStream(t, c, "bad", fhtypes.RedshiftDestinationConfiguration{ClusterJDBCURL: aws.String(pg.JDBC()),
			CopyCommand: &fhtypes.CopyCommand{DataTableName: aws.String("pairs"), CopyOptions: aws.String(bad.opts)}, S3Configuration: rsS3("b/", bad.comp)})
		if err == nil || !strings.Contains(err.Error(), bad.want) || !strings.Contains(err.Error(), "InvalidArgumentException") {
			t.Errorf("%s/%s: %v", bad.opts, bad.comp, err)
		}
	}
}

// TestRedshiftOutage: the warehouse is down. Within RetryOptions the batch
// waits and loads when it returns; past it, the batch is skipped and its
// manifest goes under errors/ (AWS's rule), and later batches load.
func TestRedshiftOutage(t *testing.T) {
	pg := startPostgres(t)
	pg.exec(`CREATE TABLE t (id int)`)
	v := startVersity(t, "rsbk")
	srv := startServer(t, nil, v.URL, fastDestRetry)
	c := srv.Firehose()
	mk := func(name string, retry int32) {
		if err := redshiftStream(t, c, name, fhtypes.RedshiftDestinationConfiguration{ClusterJDBCURL: aws.String(pg.JDBC()),
			CopyCommand:     &fhtypes.CopyCommand{DataTableName: aws.String("t"), CopyOptions: aws.String("CSV")},
			RetryOptions:    &fhtypes.RedshiftRetryOptions{DurationInSeconds: aws.Int32(retry)},
			S3Configuration: rsS3(name+"/", fhtypes.CompressionFormatUncompressed)}); err != nil {
			t.Fatal(err)
		}
	}
	mk("short", 1)
	mk("long", 7200)
	pg.Stop()
	putBatch(t, c, "short", [][]byte{[]byte("1\n"), []byte("2\n")})
	srv.flush("short")
	errs := v.listObjects(t, "rsbk", "short/errors/")
	if len(errs) != 1 || !strings.Contains(string(errs[0].Body), `"url":"s3://rsbk/short/`) {
		t.Fatalf("error manifests: %+v", errs)
	}
	putBatch(t, c, "long", [][]byte{[]byte("10\n"), []byte("11\n")})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- srv.fh.Flush(ctx, "000000000000", "us-east-1", "long") }()
	waitFor(t, 10*time.Second, "a failed COPY", func() bool {
		d, _ := c.DescribeDeliveryStream(context.Background(), &fh.DescribeDeliveryStreamInput{DeliveryStreamName: aws.String("long")})
		return d != nil && d.DeliveryStreamDescription.FailureDescription != nil
	})
	pg.Start()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	putBatch(t, c, "short", [][]byte{[]byte("3\n")})
	srv.flush("short")
	if got := strings.Join(pg.rows(`SELECT id FROM t ORDER BY id`), ","); got != "3,10,11" {
		t.Fatalf("rows after the outage: %s", got)
	}
	if len(v.listObjects(t, "rsbk", "long/errors/")) != 0 {
		t.Fatal("an error manifest within RetryOptions")
	}
}
