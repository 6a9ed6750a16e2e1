//go:build linux

package firehose_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// awsCLI runs the AWS CLI v1 against url and returns its stdout.
func awsCLI(t *testing.T, url string, args ...string) string {
	t.Helper()
	cmd := exec.Command("aws", append(args, "--endpoint-url", url, "--output", "json")...)
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY=secret", "AWS_DEFAULT_REGION=us-east-1")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("aws %s: %v\n%s", strings.Join(args, " "), err, errb.String())
	}
	return out.String()
}

const putScript = `
import boto3, json, sys
c = boto3.client("firehose", endpoint_url=sys.argv[1], region_name="us-east-1",
                 aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret")
recs = [{"Data": line.encode()} for line in open(sys.argv[2]).read().splitlines()]
for i in range(0, len(recs), 500):
    r = c.put_record_batch(DeliveryStreamName="clicks", Records=recs[i:i+500])
    assert r["FailedPutCount"] == 0, r
print("ok")
`

// TestLakeBinary: the AWS CLI v1 sets up a Glue table and a Firehose stream
// with dynamic partitioning (two JQ keys and a date from the event
// timestamp) and Parquet conversion; boto3 puts clickstream JSON; eddy is
// killed with SIGKILL while everything is buffered; after the restart every
// event lands under exactly the expected keys, arrow-go reads every row
// back, and records breaking the JQ query or the schema are in their error
// prefixes.
func TestLakeBinary(t *testing.T) {
	s3url := versitygw(t)
	sc := s3Client(s3url)
	ctx := context.Background()
	if _, err := sc.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("lake")}); err != nil {
		t.Fatal(err)
	}
	dataDir := t.TempDir()
	url, stop := startEddy(t, dataDir, s3url)
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return "file://" + p
	}
	awsCLI(t, url, "glue", "create-database", "--database-input", "Name=web")
	awsCLI(t, url, "glue", "create-table", "--database-name", "web", "--table-input", write("table.json", `{"Name":"clicks",
	  "StorageDescriptor":{"Columns":[{"Name":"customer_id","Type":"string"},{"Name":"device","Type":"string"},
	  {"Name":"ts","Type":"timestamp"},{"Name":"amount","Type":"decimal(10,2)"},{"Name":"n","Type":"int"}]}}`))
	if out := awsCLI(t, url, "glue", "get-table", "--database-name", "web", "--name", "clicks"); !strings.Contains(out, `"decimal(10,2)"`) {
		t.Fatalf("get-table: %s", out)
	}
	awsCLI(t, url, "firehose", "create-delivery-stream", "--cli-input-json", write("stream.json", `{
	  "DeliveryStreamName": "clicks",
	  "ExtendedS3DestinationConfiguration": {
	    "RoleARN": "arn:aws:iam::000000000000:role/f", "BucketARN": "arn:aws:s3:::lake",
	    "Prefix": "customer=!{partitionKeyFromQuery:customer}/device=!{partitionKeyFromQuery:device}/dt=!{partitionKeyFromQuery:dt}/",
	    "ErrorOutputPrefix": "errors/!{firehose:error-output-type}/",
	    "BufferingHints": {"SizeInMBs": 64, "IntervalInSeconds": 900},
	    "DynamicPartitioningConfiguration": {"Enabled": true},
	    "ProcessingConfiguration": {"Enabled": true, "Processors": [{"Type": "MetadataExtraction", "Parameters": [
	      {"ParameterName": "MetadataExtractionQuery", "ParameterValue": "{customer: .customer_id, device: .device, dt: (.ts | strftime(\"%Y-%m-%d\"))}"},
	      {"ParameterName": "JsonParsingEngine", "ParameterValue": "JQ-1.6"}]}]},
	    "DataFormatConversionConfiguration": {"Enabled": true,
	      "SchemaConfiguration": {"RoleARN": "arn:aws:iam::000000000000:role/f", "DatabaseName": "web", "TableName": "clicks"},
	      "InputFormatConfiguration": {"Deserializer": {"OpenXJsonSerDe": {}}},
	      "OutputFormatConfiguration": {"Serializer": {"ParquetSerDe": {"Compression": "SNAPPY"}}}}
	  }}`))

	type event struct {
		Customer string `json:"customer_id"`
		Device   string `json:"device"`
		TS       int64  `json:"ts"`
		Amount   string `json:"amount"`
		N        int    `json:"n"`
	}
	days := []string{"2023-11-14", "2023-11-15"}
	want := map[string][]event{}
	var lines []string
	for n := 0; n < 1200; n++ {
		e := event{Customer: fmt.Sprintf("c%d", n%4), Device: []string{"ios", "android", "web"}[n%3], TS: 1700000000 + int64(n%2)*86400, Amount: fmt.Sprintf("%d.%02d", n, n%100), N: n}
		b, _ := json.Marshal(e)
		lines = append(lines, string(b))
		k := fmt.Sprintf("customer=%s/device=%s/dt=%s/", e.Customer, e.Device, days[n%2])
		want[k] = append(want[k], e)
	}
	lines = append(lines, `{"device":"ios","ts":1700000000}`, `{"customer_id":"c0","device":"ios","ts":1700000000,"n":"many"}`)
	script := filepath.Join(dir, "put.py")
	if err := os.WriteFile(script, []byte(putScript), 0o644); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "events.jsonl")
	if err := os.WriteFile(data, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("python3", script, url, data).CombinedOutput(); err != nil {
		t.Fatalf("boto3: %v\n%s", err, out)
	}
	// Everything is acknowledged and buffered (900 s interval); kill -9.
	if got := objects(t, sc, "lake", "customer=", false); len(got) != 0 {
		t.Fatalf("delivered before the interval: %d objects", len(got))
	}
	stop(syscall.SIGKILL)
	url, _ = startEddy(t, dataDir, s3url)
	awsCLI(t, url, "firehose", "update-destination", "--delivery-stream-name", "clicks", "--current-delivery-stream-version-id", "1",
		"--destination-id", "destinationId-000000000001", "--extended-s3-destination-update", `{"BufferingHints":{"IntervalInSeconds":0}}`)
	var objs map[string][]byte
	waitFor(t, 60e9, "all partitions and error outputs", func() bool {
		objs = objects(t, sc, "lake", "", false)
		return len(objs) >= len(want)+2
	})
	got := map[string][]byte{}
	errs := map[string][]byte{}
	for k, b := range objs {
		if strings.HasPrefix(k, "errors/") {
			errs[k] = b
			continue
		}
		i := strings.Index(k, "clicks-2-")
		if i < 0 || !strings.HasSuffix(k, ".parquet") {
			t.Fatalf("unexpected key %s", k)
		}
		if _, dup := got[k[:i]]; dup {
			t.Fatalf("two objects in partition %s", k[:i])
		}
		got[k[:i]] = b
	}
	var gotKeys, wantKeys []string
	for k := range got {
		gotKeys = append(gotKeys, k)
	}
	for k := range want {
		wantKeys = append(wantKeys, k)
	}
	sort.Strings(gotKeys)
	sort.Strings(wantKeys)
	if strings.Join(gotKeys, " ") != strings.Join(wantKeys, " ") {
		t.Fatalf("partitions\n got %v\nwant %v", gotKeys, wantKeys)
	}
	for k, evs := range want {
		pf, err := file.NewParquetReader(bytes.NewReader(got[k]))
		if err != nil {
			t.Fatalf("%s: arrow-go: %v", k, err)
		}
		fr, _ := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
		tbl, err := fr.ReadTable(ctx)
		if err != nil {
			t.Fatal(err)
		}
		cols := map[string]any{}
		for i := 0; i < int(tbl.NumCols()); i++ {
			cols[tbl.Schema().Field(i).Name] = tbl.Column(i).Data().Chunk(0)
		}
		if int(tbl.NumRows()) != len(evs) {
			t.Fatalf("%s: %d rows, want %d", k, tbl.NumRows(), len(evs))
		}
		for i, e := range evs {
			if cols["customer_id"].(*array.String).Value(i) != e.Customer || cols["device"].(*array.String).Value(i) != e.Device ||
				int64(cols["ts"].(*array.Timestamp).Value(i)) != e.TS*1000 || cols["amount"].(*array.Decimal128).Value(i).ToString(2) != e.Amount ||
				int(cols["n"].(*array.Int32).Value(i)) != e.N {
				t.Fatalf("%s row %d differs from %+v", k, i, e)
			}
		}
		tbl.Release()
	}
	var part, conv int
	for k, b := range errs {
		n := bytes.Count(b, []byte("\n"))
		switch {
		case strings.HasPrefix(k, "errors/partitioning-failed/"):
			part += n
		case strings.HasPrefix(k, "errors/format-conversion-failed/"):
			conv += n
			if !bytes.Contains(b, []byte(`"lastErrorCode":"DataFormatConversion.MalformedData"`)) || !bytes.Contains(b, []byte(`"tableName":"clicks"`)) {
				t.Fatalf("format-conversion-failed record: %s", b)
			}
		default:
			t.Fatalf("unexpected error object %s", k)
		}
	}
	if part != 1 || conv != 1 {
		t.Fatalf("partitioning-failed %d, format-conversion-failed %d", part, conv)
	}
}
