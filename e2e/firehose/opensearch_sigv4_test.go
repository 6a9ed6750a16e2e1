//go:build linux

package firehose_test

import (
	"bufio"
	"bytes"
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

	"github.com/eddy-streams/eddy/internal/sigv4"
)

// TestOpenSearchSigV4WithCLI: the AWS CLI v1 creates an OpenSearch delivery
// stream on the built binary with a DomainARN whose endpoint is given by the
// eddy:opensearch-endpoint tag; the binary signs each _bulk request with
// SigV4 (service es, the ARN's region, the --s3-access-key credentials) and
// a receiver that verifies every signature (403 otherwise) indexes the
// documents. Without the tag the CLI gets InvalidArgumentException.
func TestOpenSearchSigV4WithCLI(t *testing.T) {
	if _, err := exec.LookPath("aws"); err != nil {
		t.Fatalf("the AWS CLI is required: %v", err)
	}
	verifier := &sigv4.Verifier{Keys: map[string]string{s3Key: s3Secret}}
	var mu sync.Mutex
	var docs []string
	var scopes []string
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		cred, err := verifier.VerifyService(r, body, "es")
		w.Header().Set("Content-Type", "application/json")
		if err != nil {
			w.WriteHeader(403)
			fmt.Fprintf(w, `{"message":%q}`, err.Error())
			return
		}
		var items []string
		sc := bufio.NewScanner(bytes.NewReader(body))
		mu.Lock()
		scopes = append(scopes, cred.Scope())
		for n := 0; sc.Scan(); n++ {
			if n%2 == 1 {
				docs = append(docs, sc.Text())
				items = append(items, `{"index":{"status":201}}`)
			}
		}
		mu.Unlock()
		fmt.Fprintf(w, `{"took":1,"errors":false,"items":[%s]}`, strings.Join(items, ","))
	}))
	defer recv.Close()
	s3url := versitygw(t)
	url, _ := startEddy(t, t.TempDir(), s3url)
	cli := func(args ...string) (string, error) {
		cmd := exec.Command("aws", append([]string{"--endpoint-url", url, "--region", "us-east-1", "--output", "json", "firehose"}, args...)...)
		cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY=secret", "AWS_CONFIG_FILE=/dev/null",
			"AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_PAGER=")
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	conf := `{"DomainARN":"arn:aws:es:eu-west-1:000000000000:domain/logs","IndexName":"logs","RoleARN":"arn:aws:iam::000000000000:role/r",` +
		`"IndexRotationPeriod":"NoRotation","BufferingHints":{"SizeInMBs":1,"IntervalInSeconds":0},` +
		`"S3Configuration":{"BucketARN":"arn:aws:s3:::e2e-os","RoleARN":"arn:aws:iam::000000000000:role/r"}}`
	if out, err := cli("create-delivery-stream", "--delivery-stream-name", "untagged", "--amazonopensearchservice-destination-configuration", conf); err == nil ||
		!strings.Contains(out, "InvalidArgumentException") || !strings.Contains(out, "eddy:opensearch-endpoint") {
		t.Fatalf("DomainARN without the tag: %v\n%s", err, out)
	}
	if out, err := cli("create-delivery-stream", "--delivery-stream-name", "signed", "--amazonopensearchservice-destination-configuration", conf,
		"--tags", "Key=eddy:opensearch-endpoint,Value="+recv.URL); err != nil {
		t.Fatalf("create: %v\n%s", err, out)
	}
	if out, err := cli("put-record-batch", "--delivery-stream-name", "signed", "--records", `[{"Data":"{\"a\":1}"},{"Data":"{\"a\":2}"}]`); err != nil {
		t.Fatalf("put: %v\n%s", err, out)
	}
	waitFor(t, 20*time.Second, "the signed documents", func() bool { mu.Lock(); defer mu.Unlock(); return len(docs) >= 2 })
	mu.Lock()
	defer mu.Unlock()
	if strings.Join(docs, ",") != `{"a":1},{"a":2}` || !strings.HasSuffix(scopes[0], "/eu-west-1/es/aws4_request") {
		t.Fatalf("documents %q, scopes %q", docs, scopes)
	}
}
