//go:build linux

package firehose_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestHTTPEndpointWithCLI: the AWS CLI v1 creates an HTTP endpoint delivery
// stream on the built binary and puts records; a receiver gets them with
// Firehose's headers and body, DescribeDeliveryStream parses in botocore,
// and /metrics counts DeliveryToHttpEndpoint.Records.
func TestHTTPEndpointWithCLI(t *testing.T) {
	if _, err := exec.LookPath("aws"); err != nil {
		t.Fatalf("the AWS CLI is required: %v", err)
	}
	var mu sync.Mutex
	var got []string
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			RequestID string `json:"requestId"`
			Records   []struct{ Data string }
		}
		body, _ := io.ReadAll(r.Body)
		if json.Unmarshal(body, &in) != nil || in.RequestID != r.Header.Get("X-Amz-Firehose-Request-Id") || r.Header.Get("X-Amz-Firehose-Access-Key") != "k1" {
			w.WriteHeader(400)
			return
		}
		mu.Lock()
		for _, rec := range in.Records {
			b, _ := base64.StdEncoding.DecodeString(rec.Data)
			got = append(got, string(b))
		}
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"requestId":%q,"timestamp":%d}`, in.RequestID, time.Now().UnixMilli())
	}))
	defer recv.Close()
	s3url := versitygw(t)
	url, _ := startEddy(t, t.TempDir(), s3url)
	cli := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("aws", append([]string{"--endpoint-url", url, "--region", "us-east-1", "--output", "json", "firehose"}, args...)...)
		cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY=secret", "AWS_CONFIG_FILE=/dev/null",
			"AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_PAGER=")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("aws firehose %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	cli("create-delivery-stream", "--delivery-stream-name", "web",
		"--http-endpoint-destination-configuration", fmt.Sprintf(`{"EndpointConfiguration":{"Url":%q,"Name":"r","AccessKey":"k1"},"BufferingHints":{"SizeInMBs":1,"IntervalInSeconds":0},"S3Configuration":{"BucketARN":"arn:aws:s3:::e2e-http","RoleARN":"arn:aws:iam::000000000000:role/r"}}`, recv.URL))
	cli("put-record-batch", "--delivery-stream-name", "web", "--records", `[{"Data":"one"},{"Data":"two"}]`)
	waitFor(t, 20*time.Second, "the records at the HTTP endpoint", func() bool { mu.Lock(); defer mu.Unlock(); return len(got) >= 2 })
	mu.Lock()
	if strings.Join(got, ",") != "one,two" {
		t.Fatalf("endpoint got %q", got)
	}
	mu.Unlock()
	var desc struct {
		DeliveryStreamDescription struct {
			Destinations []struct {
				HttpEndpointDestinationDescription struct {
					EndpointConfiguration struct{ Url, Name, AccessKey string }
					S3BackupMode          string
				}
			}
		}
	}
	if err := json.Unmarshal([]byte(cli("describe-delivery-stream", "--delivery-stream-name", "web")), &desc); err != nil {
		t.Fatal(err)
	}
	hd := desc.DeliveryStreamDescription.Destinations[0].HttpEndpointDestinationDescription
	if hd.EndpointConfiguration.Url != recv.URL || hd.EndpointConfiguration.AccessKey != "" || hd.S3BackupMode != "FailedDataOnly" {
		t.Fatalf("describe: %+v", hd)
	}
	waitFor(t, 10*time.Second, "DeliveryToHttpEndpoint.Records on /metrics", func() bool {
		return strings.Contains(metrics(t, url), `eddy_firehose_delivery_to_http_endpoint_records_total{account="000000000000",delivery_stream="web",region="us-east-1"} 2`)
	})
}
