package opensearch

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/eddy-streams/eddy/internal/firehose/fhdest"
)

// TestSigning: requests carry an AWS4-HMAC-SHA256 Authorization for the
// configured service and region and the payload hash; basic auth in the
// endpoint wins; a provider that finds no credentials sends the request
// unsigned and says so when the cluster answers 403.
func TestSigning(t *testing.T) {
	var auth, hash string
	status := 200
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth, hash = r.Header.Get("Authorization"), r.Header.Get("X-Amz-Content-Sha256")
		io.ReadAll(r.Body)
		w.WriteHeader(status)
		io.WriteString(w, `{"errors":false,"items":[{"index":{"status":201}}]}`)
	}))
	defer srv.Close()
	now := func() time.Time { return time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC) }
	creds := aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		return aws.Credentials{AccessKeyID: "AKID", SecretAccessKey: "s"}, nil
	})
	b := &fhdest.Batch{StreamID: "s", Records: []fhdest.Record{{Data: []byte(`{"a":1}`), Pos: 1}}}
	d, err := New(Config{Endpoint: srv.URL, IndexName: "i", Sign: &Signing{Service: ServiceServerless, Region: "eu-west-3", Credentials: creds, Now: now}})
	if err != nil {
		t.Fatal(err)
	}
	if f := d.Deliver(context.Background(), b); f != nil {
		t.Fatal(f)
	}
	if !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 Credential=AKID/20261203/eu-west-3/aoss/aws4_request") || len(hash) != 64 {
		t.Fatalf("Authorization %q, X-Amz-Content-Sha256 %q", auth, hash)
	}
	basic, _ := New(Config{Endpoint: strings.Replace(srv.URL, "http://", "http://u:p@", 1), IndexName: "i", Sign: &Signing{Service: ServiceDomain, Region: "r", Credentials: creds}})
	basic.Deliver(context.Background(), b)
	if !strings.HasPrefix(auth, "Basic ") {
		t.Fatalf("Authorization %q with user:password in the endpoint", auth)
	}
	calls := 0
	none := aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		calls++
		return aws.Credentials{}, errors.New("no credentials in the chain")
	})
	anon, _ := New(Config{Endpoint: srv.URL, IndexName: "i", Sign: &Signing{Service: ServiceDomain, Region: "r", Credentials: none, Now: now}})
	status = 403
	f := anon.Deliver(context.Background(), b)
	if auth != "" || len(f) != 1 || f[0].Code != "403" || !strings.Contains(f[0].Message, "no credentials in the chain") {
		t.Fatalf("unsigned: Authorization %q, failures %+v", auth, f)
	}
	anon.Deliver(context.Background(), b)
	if calls != 1 {
		t.Fatalf("the provider was asked %d times within a minute, want 1", calls)
	}
	if _, err := New(Config{Endpoint: srv.URL, IndexName: "i", Sign: &Signing{Service: ServiceDomain}}); err == nil {
		t.Fatal("signing without credentials or region accepted")
	}
}
