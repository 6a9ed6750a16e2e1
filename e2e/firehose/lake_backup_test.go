//go:build linux

package firehose_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// TestLakeBackupBinary: the AWS CLI v1 creates a partitioned stream with
// the source-record backup on (gzip, its own prefix and hints); boto3 puts
// records, some of which fail partitioning; eddy is killed with SIGKILL
// while everything is buffered; after the restart (and an update to zero
// buffering) every record is in the backup byte for byte, once, and in its
// partition or error output.
func TestLakeBackupBinary(t *testing.T) {
	s3url := versitygw(t)
	sc := s3Client(s3url)
	ctx := context.Background()
	for _, b := range []string{"lake", "bak"} {
		if _, err := sc.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(b)}); err != nil {
			t.Fatal(err)
		}
	}
	dataDir := t.TempDir()
	url, stop := startEddy(t, dataDir, s3url)
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	awsCLI(t, url, "firehose", "create-delivery-stream", "--cli-input-json", "file://"+write("stream.json", `{
	  "DeliveryStreamName": "clicks",
	  "ExtendedS3DestinationConfiguration": {
	    "RoleARN": "arn:aws:iam::000000000000:role/f", "BucketARN": "arn:aws:s3:::lake",
	    "Prefix": "customer=!{partitionKeyFromQuery:customer}/",
	    "ErrorOutputPrefix": "errors/!{firehose:error-output-type}/",
	    "BufferingHints": {"SizeInMBs": 64, "IntervalInSeconds": 900},
	    "DynamicPartitioningConfiguration": {"Enabled": true},
	    "ProcessingConfiguration": {"Enabled": true, "Processors": [{"Type": "MetadataExtraction", "Parameters": [
	      {"ParameterName": "MetadataExtractionQuery", "ParameterValue": "{customer: .customer_id}"},
	      {"ParameterName": "JsonParsingEngine", "ParameterValue": "JQ-1.6"}]},
	      {"Type": "AppendDelimiterToRecord"}]},
	    "S3BackupMode": "Enabled",
	    "S3BackupConfiguration": {"RoleARN": "arn:aws:iam::000000000000:role/f", "BucketARN": "arn:aws:s3:::bak",
	      "Prefix": "raw/", "CompressionFormat": "GZIP", "BufferingHints": {"SizeInMBs": 5, "IntervalInSeconds": 900}}
	  }}`))
	if out := awsCLI(t, url, "firehose", "describe-delivery-stream", "--delivery-stream-name", "clicks"); !strings.Contains(out, `"S3BackupMode": "Enabled"`) ||
		!strings.Contains(out, `"S3BackupDescription"`) {
		t.Fatalf("describe: %s", out)
	}
	var lines []string
	for n := 0; n < 2000; n++ {
		lines = append(lines, fmt.Sprintf(`{"customer_id":"c%d","n":%d}`, n%5, n))
	}
	lines = append(lines, `{"n":"no customer"}`, `not json`)
	script := write("put.py", putScript)
	data := write("events.jsonl", strings.Join(lines, "\n"))
	if out, err := exec.Command("python3", script, url, data).CombinedOutput(); err != nil {
		t.Fatalf("boto3: %v\n%s", err, out)
	}
	// Partitions and backup wait for their 900 s; the error output is
	// written at once. Kill -9.
	if got := objects(t, sc, "bak", "", false); len(got) != 0 {
		t.Fatalf("backup written before its interval: %d objects", len(got))
	}
	stop(syscall.SIGKILL)
	url, _ = startEddy(t, dataDir, s3url)
	awsCLI(t, url, "firehose", "update-destination", "--delivery-stream-name", "clicks", "--current-delivery-stream-version-id", "1",
		"--destination-id", "destinationId-000000000001", "--extended-s3-destination-update",
		`{"BufferingHints":{"IntervalInSeconds":0},"S3BackupUpdate":{"BufferingHints":{"IntervalInSeconds":0}}}`)

	src := make([][]byte, len(lines))
	for i, l := range lines {
		src[i] = []byte(l)
	}
	var backup map[string][]byte
	waitFor(t, 60e9, "the backup of every record", func() bool {
		backup = objects(t, sc, "bak", "raw/", true)
		n := 0
		for _, b := range backup {
			n += len(b)
		}
		return n >= len(strings.Join(lines, ""))
	})
	counts := make([]int, len(src))
	for k, body := range backup {
		if !strings.HasPrefix(k, "raw/") || !strings.Contains(k, "/clicks-2-") || !strings.HasSuffix(k, ".gz") {
			t.Fatalf("backup key %s", k)
		}
		// Each object is a run of consecutive records, concatenated as put.
		start := -1
		for i, r := range src {
			if bytes.HasPrefix(body, r) {
				start = i
				break
			}
		}
		for i := start; len(body) > 0; i++ {
			if start < 0 || i >= len(src) || !bytes.HasPrefix(body, src[i]) {
				t.Fatalf("backup %s is not a run of the records as put: %.80q", k, body)
			}
			counts[i]++
			body = body[len(src[i]):]
		}
	}
	for i, n := range counts {
		if n != 1 {
			t.Fatalf("record %d (%s) backed up %d times", i, lines[i], n)
		}
	}
	var delivered int
	waitFor(t, 60e9, "every partition", func() bool {
		delivered = 0
		for _, b := range objects(t, sc, "lake", "customer=", false) {
			delivered += bytes.Count(b, []byte("\n"))
		}
		return delivered >= 2000
	})
	if delivered != 2000 {
		t.Fatalf("%d records in partitions, want 2000", delivered)
	}
	if m := metrics(t, url); !strings.Contains(m, fmt.Sprintf(`eddy_firehose_backup_to_s3_records_total{account="000000000000",delivery_stream="clicks",region="us-east-1"} %d`, len(lines))) {
		t.Fatalf("backup metric after the restart, want %d:\n%s", len(lines), m)
	}
}
