//go:build linux

package firehose_test

import (
	"archive/zip"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// buildFunctionZip builds internal/lambda/testdata/fn (aws-lambda-go) as
// bootstrap and zips it for `aws lambda create-function`.
func buildFunctionZip(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "bootstrap")
	cmd := exec.Command("go", "build", "-o", bin, "../../internal/lambda/testdata/fn")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build function: %v\n%s", err, out)
	}
	zpath := filepath.Join(dir, "fn.zip")
	f, err := os.Create(zpath)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	h := &zip.FileHeader{Name: "bootstrap", Method: zip.Deflate}
	h.SetMode(0o755)
	w, _ := zw.CreateHeader(h)
	b, _ := os.ReadFile(bin)
	w.Write(b)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	return zpath
}

const putStreamScript = `
import boto3, sys
c = boto3.client("firehose", endpoint_url=sys.argv[1], region_name="us-east-1",
                 aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret")
recs = [{"Data": line.encode()} for line in open(sys.argv[3]).read().splitlines()]
for i in range(0, len(recs), 500):
    r = c.put_record_batch(DeliveryStreamName=sys.argv[2], Records=recs[i:i+500])
    assert r["FailedPutCount"] == 0, r
print("ok")
`

// TestLakeLambdaBinary: the AWS CLI v1 creates an aws-lambda-go function
// and a stream whose prefix mixes a key the function returns
// (metadata.partitionKeys) with a JQ key of the transformed record; boto3
// puts JSON events; eddy is killed with SIGKILL while the partitions are
// buffered; after the restart every transformed record is under exactly
// its prefix, dropped records are nowhere and the ProcessingFailed one is
// under processing-failed.
func TestLakeLambdaBinary(t *testing.T) {
	zpath := buildFunctionZip(t)
	s3url := versitygw(t)
	sc := s3Client(s3url)
	ctx := context.Background()
	if _, err := sc.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("lake")}); err != nil {
		t.Fatal(err)
	}
	dataDir := t.TempDir()
	url, stop := startEddy(t, dataDir, s3url)
	dir := t.TempDir()
	var fn struct{ FunctionArn string }
	if err := json.Unmarshal([]byte(awsCLI(t, url, "lambda", "create-function", "--function-name", "keys", "--runtime", "provided.al2023",
		"--handler", "bootstrap", "--role", "arn:aws:iam::000000000000:role/lambda", "--zip-file", "fileb://"+zpath)), &fn); err != nil || fn.FunctionArn == "" {
		t.Fatalf("create-function: %v %+v", err, fn)
	}
	stream := filepath.Join(dir, "stream.json")
	if err := os.WriteFile(stream, []byte(`{
	  "DeliveryStreamName": "lclicks",
	  "ExtendedS3DestinationConfiguration": {
	    "RoleARN": "arn:aws:iam::000000000000:role/f", "BucketARN": "arn:aws:s3:::lake",
	    "Prefix": "customer=!{partitionKeyFromLambda:customer}/device=!{partitionKeyFromQuery:device}/",
	    "ErrorOutputPrefix": "errors/!{firehose:error-output-type}/",
	    "BufferingHints": {"SizeInMBs": 64, "IntervalInSeconds": 900},
	    "DynamicPartitioningConfiguration": {"Enabled": true},
	    "ProcessingConfiguration": {"Enabled": true, "Processors": [
	      {"Type": "Lambda", "Parameters": [{"ParameterName": "LambdaArn", "ParameterValue": "`+fn.FunctionArn+`"},
	        {"ParameterName": "NumberOfRetries", "ParameterValue": "1"}]},
	      {"Type": "MetadataExtraction", "Parameters": [
	        {"ParameterName": "MetadataExtractionQuery", "ParameterValue": "{device: .DEVICE}"},
	        {"ParameterName": "JsonParsingEngine", "ParameterValue": "JQ-1.6"}]},
	      {"Type": "AppendDelimiterToRecord"}]}
	  }}`), 0o644); err != nil {
		t.Fatal(err)
	}
	awsCLI(t, url, "firehose", "create-delivery-stream", "--cli-input-json", "file://"+stream)

	want := map[string]string{} // prefix → body
	var lines []string
	for n := 0; n < 600; n++ {
		line := fmt.Sprintf(`{"customer":"c%d","device":"%s","n":%d}`, n%5, []string{"ios", "web", "tv"}[n%3], n)
		if n%100 == 42 {
			line = fmt.Sprintf("drop-%d", n)
		} else {
			p := fmt.Sprintf("customer=c%d/device=%s/", n%5, strings.ToUpper([]string{"ios", "web", "tv"}[n%3]))
			want[p] += strings.ToUpper(line) + "\n"
		}
		lines = append(lines, line)
	}
	lines = append(lines, "fail-1")
	script, data := filepath.Join(dir, "put.py"), filepath.Join(dir, "events.txt")
	os.WriteFile(script, []byte(putStreamScript), 0o644)
	os.WriteFile(data, []byte(strings.Join(lines, "\n")), 0o644)
	if out, err := exec.Command("python3", script, url, "lclicks", data).CombinedOutput(); err != nil {
		t.Fatalf("boto3: %v\n%s", err, out)
	}
	// The ProcessingFailed record is written at once; the partitions wait
	// for the 900 s interval: kill -9 with them buffered.
	waitFor(t, 30e9, "the processing-failed output", func() bool { return len(objects(t, sc, "lake", "errors/processing-failed/", false)) > 0 })
	if got := objects(t, sc, "lake", "customer=", false); len(got) != 0 {
		t.Fatalf("delivered before the interval: %d objects", len(got))
	}
	stop(syscall.SIGKILL)
	url, _ = startEddy(t, dataDir, s3url)
	awsCLI(t, url, "firehose", "update-destination", "--delivery-stream-name", "lclicks", "--current-delivery-stream-version-id", "1",
		"--destination-id", "destinationId-000000000001", "--extended-s3-destination-update", `{"BufferingHints":{"IntervalInSeconds":0}}`)
	var objs map[string][]byte
	waitFor(t, 60e9, "every partition", func() bool {
		objs = objects(t, sc, "lake", "customer=", false)
		return len(objs) >= len(want)
	})
	got := map[string]string{}
	for k, b := range objs {
		i := strings.Index(k, "lclicks-2-")
		if i < 0 {
			t.Fatalf("unexpected key %s", k)
		}
		got[k[:i]] += string(b)
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
	for k, body := range want {
		if got[k] != body {
			t.Fatalf("%s:\n got %q\nwant %q", k, got[k], body)
		}
	}
	for k, b := range objects(t, sc, "lake", "", false) {
		if strings.Contains(string(b), "DROP-") || strings.Contains(string(b), "drop-") {
			t.Fatalf("a dropped record was delivered in %s", k)
		}
	}
	for k, b := range objects(t, sc, "lake", "errors/", false) {
		if !strings.HasPrefix(k, "errors/processing-failed/") {
			t.Fatalf("unexpected error object %s: %s", k, b)
		}
		for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			var r struct {
				ErrorCode, LambdaArn, RawData string
				AttemptsMade                  int
			}
			if err := json.Unmarshal([]byte(line), &r); err != nil {
				t.Fatal(err)
			}
			raw, _ := base64.StdEncoding.DecodeString(r.RawData)
			if r.ErrorCode != "Lambda.ProcessingFailedStatus" || r.LambdaArn != fn.FunctionArn || string(raw) != "fail-1" || r.AttemptsMade != 1 {
				t.Fatalf("processing-failed record %s", line)
			}
		}
	}
}
