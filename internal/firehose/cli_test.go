package firehose_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestAWSCLI drives the Firehose API with AWS CLI v1 (botocore's own
// serializers and parsers), end to end into versitygw.
func TestAWSCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("AWS CLI test starts python a dozen times (~10 s)")
	}
	if _, err := exec.LookPath("aws"); err != nil {
		t.Fatalf("the AWS CLI is required: %v", err)
	}
	v := startVersity(t, "clibucket")
	srv := startServer(t, nil, v.URL)
	aws := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("aws", append([]string{"--endpoint-url", srv.http.URL, "--region", "us-east-1", "--output", "json", "firehose"}, args...)...)
		cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY=secret", "AWS_CONFIG_FILE=/dev/null",
			"AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_PAGER=")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("aws firehose %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	out := aws("create-delivery-stream", "--delivery-stream-name", "cli",
		"--extended-s3-destination-configuration", `{"BucketARN":"arn:aws:s3:::clibucket","RoleARN":"arn:aws:iam::000000000000:role/r","Prefix":"cli/","CompressionFormat":"GZIP","BufferingHints":{"SizeInMBs":1,"IntervalInSeconds":60}}`,
		"--tags", "Key=team,Value=data")
	if !strings.Contains(out, `"arn:aws:firehose:us-east-1:000000000000:deliverystream/cli"`) {
		t.Fatalf("create: %s", out)
	}
	var desc struct {
		DeliveryStreamDescription struct {
			DeliveryStreamStatus string
			VersionId            string
			CreateTimestamp      any
			Destinations         []struct {
				DestinationId                    string
				ExtendedS3DestinationDescription struct{ CompressionFormat, Prefix string }
			}
		}
	}
	if err := json.Unmarshal([]byte(aws("describe-delivery-stream", "--delivery-stream-name", "cli")), &desc); err != nil {
		t.Fatal(err)
	}
	d := desc.DeliveryStreamDescription
	if d.DeliveryStreamStatus != "ACTIVE" || d.VersionId != "1" || d.CreateTimestamp == nil || len(d.Destinations) != 1 ||
		d.Destinations[0].ExtendedS3DestinationDescription.CompressionFormat != "GZIP" {
		t.Fatalf("describe: %+v", d)
	}
	aws("put-record", "--delivery-stream-name", "cli", "--record", `{"Data":"first\n"}`)
	out = aws("put-record-batch", "--delivery-stream-name", "cli", "--records", `[{"Data":"second\n"},{"Data":"third\n"}]`)
	if !strings.Contains(out, `"FailedPutCount": 0`) {
		t.Fatalf("put-record-batch: %s", out)
	}
	aws("update-destination", "--delivery-stream-name", "cli", "--current-delivery-stream-version-id", "1",
		"--destination-id", "destinationId-000000000001", "--extended-s3-destination-update", `{"BufferingHints":{"IntervalInSeconds":0}}`)
	objs := []object{}
	waitFor(t, 10*time.Second, "the object (interval now 0)", func() bool { objs = v.listObjects(t, "clibucket", "cli/"); return len(objs) == 1 })
	body, err := decompressGzip(objs[0].Body)
	if err != nil || string(body) != "first\nsecond\nthird\n" {
		t.Fatalf("object %s: %q %v", objs[0].Key, body, err)
	}
	if !strings.Contains(objs[0].Key, "/cli-2-") {
		t.Fatalf("key %s: want version 2 (delivered after the update)", objs[0].Key)
	}
	if out := aws("list-delivery-streams"); !strings.Contains(out, `"cli"`) {
		t.Fatalf("list: %s", out)
	}
	if out := aws("list-tags-for-delivery-stream", "--delivery-stream-name", "cli"); !strings.Contains(out, `"team"`) {
		t.Fatalf("tags: %s", out)
	}
	aws("delete-delivery-stream", "--delivery-stream-name", "cli")
	cmd := exec.Command("aws", "--endpoint-url", srv.http.URL, "--region", "us-east-1", "firehose", "describe-delivery-stream", "--delivery-stream-name", "cli")
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY=secret", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
	out2, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out2), "ResourceNotFoundException") {
		t.Fatalf("describe after delete: %v %s", err, out2)
	}
}
