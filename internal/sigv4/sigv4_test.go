package sigv4

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/eddy-streams/eddy/internal/awserr"
)

const (
	akid   = "AKIDEXAMPLE"
	secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
)

var signTime = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// verifyServer runs an HTTP server whose handler verifies each request with
// v and records the outcome.
type verifyServer struct {
	*httptest.Server
	v       *Verifier
	service string

	mu       sync.Mutex
	cred     Credential
	err      error
	proto    int // HTTP major version of the last request
	requests int
}

func newVerifyServer(t *testing.T, v *Verifier, h2 bool) *verifyServer {
	s := &verifyServer{v: v}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		cred, err := s.v.VerifyService(r, body, s.service)
		s.mu.Lock()
		s.cred, s.err, s.proto = cred, err, r.ProtoMajor
		s.requests++
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		if s.v.Now != nil { // the SDKs read the server's clock from Date
			w.Header().Set("Date", s.v.Now().UTC().Format(http.TimeFormat))
		}
		if e, ok := awserr.As(err); ok {
			w.Header().Set("x-amzn-ErrorType", e.Type)
			w.WriteHeader(e.Status)
			json.NewEncoder(w).Encode(map[string]string{"__type": e.Type, "message": e.Message})
			return
		}
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		io.WriteString(w, `{"StreamNames":[],"HasMoreStreams":false,"ShardId":"shardId-000000000000","SequenceNumber":"1"}`)
	}))
	if h2 {
		s.EnableHTTP2 = true
		s.StartTLS()
	} else {
		s.Start()
	}
	t.Cleanup(s.Close)
	return s
}

func (s *verifyServer) result() (Credential, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cred, s.err
}

// send delivers req and returns what the server's Verify said.
func (s *verifyServer) send(t *testing.T, req *http.Request) (Credential, error) {
	t.Helper()
	res, err := s.Client().Do(req)
	if err != nil {
		t.Fatalf("send: %v", err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return s.result()
}

// readBody reads and restores r's body.
func readBody(r *http.Request) []byte {
	if r.Body == nil {
		return nil
	}
	b, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(b))
	return b
}

func fixedClock(t time.Time) func() time.Time { return func() time.Time { return t } }

func hashHex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// Real SDK clients signing real calls, over HTTP/1.1 and HTTP/2 (TLS).
func TestKinesisClientSignatures(t *testing.T) {
	for _, h2 := range []bool{false, true} {
		name := "h1"
		if h2 {
			name = "h2"
		}
		t.Run(name, func(t *testing.T) {
			srv := newVerifyServer(t, &Verifier{Keys: map[string]string{akid: secret, "123456789012": "s2"}}, h2)
			srv.service = "kinesis"
			client := func(id, sec string) *kinesis.Client {
				return kinesis.New(kinesis.Options{
					Region:       "eu-west-1",
					BaseEndpoint: aws.String(srv.URL),
					Credentials:  aws.NewCredentialsCache(staticCreds{id, sec, ""}),
					HTTPClient:   srv.Client(),
				})
			}
			ctx := context.Background()
			if _, err := client(akid, secret).ListStreams(ctx, &kinesis.ListStreamsInput{}); err != nil {
				t.Fatalf("ListStreams: %v", err)
			}
			cred, err := srv.result()
			if err != nil {
				t.Fatalf("verify: %v", err)
			}
			if cred.AccessKey != akid || cred.Region != "eu-west-1" || cred.Service != "kinesis" || cred.Presigned {
				t.Fatalf("credential %+v", cred)
			}
			srv.mu.Lock()
			proto := srv.proto
			srv.mu.Unlock()
			if want := map[bool]int{false: 1, true: 2}[h2]; proto != want {
				t.Fatalf("served over HTTP/%d, want HTTP/%d", proto, want)
			}
			if !slices.Contains(cred.SignedHeaders, "x-amz-target") || !slices.Contains(cred.SignedHeaders, "host") {
				t.Fatalf("signed headers %v", cred.SignedHeaders)
			}
			// A 100 KiB record, and the account convention.
			data := bytes.Repeat([]byte("0123456789abcdef"), 100<<10/16)
			if _, err := client("123456789012", "s2").PutRecord(ctx, &kinesis.PutRecordInput{
				StreamName: aws.String("s"), PartitionKey: aws.String("k"), Data: data,
			}); err != nil {
				t.Fatalf("PutRecord: %v", err)
			}
			cred, _ = srv.result()
			if got := AccountFor(cred.AccessKey, "000000000000"); got != "123456789012" {
				t.Fatalf("account %s", got)
			}
			// Wrong secret and unknown key come back as the SDK's typed errors.
			_, err = client(akid, "wrong").ListStreams(ctx, &kinesis.ListStreamsInput{})
			assertAWSError(t, err, awserr.TInvalidSignature, MsgSignatureMismatch)
			_, err = client("AKIDUNKNOWN", secret).ListStreams(ctx, &kinesis.ListStreamsInput{})
			assertAWSError(t, err, awserr.TUnrecognizedClient, MsgUnknownKey)
		})
	}
}

// The SDK corrects its clock from the Date of a skew error and retries: a
// client 10 minutes behind the server fails once, then succeeds.
func TestKinesisClientClockSkewRetry(t *testing.T) {
	ahead := 10 * time.Minute
	srv := newVerifyServer(t, &Verifier{Keys: map[string]string{akid: secret}, Now: func() time.Time { return time.Now().Add(ahead) }}, false)
	c := kinesis.New(kinesis.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(srv.URL),
		Credentials:  aws.NewCredentialsCache(staticCreds{akid, secret, ""}),
		HTTPClient:   srv.Client(),
	})
	if _, err := c.ListStreams(context.Background(), &kinesis.ListStreamsInput{}); err != nil {
		t.Fatalf("ListStreams with a skewed client clock: %v", err)
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if srv.requests != 2 {
		t.Fatalf("%d attempts, want 2 (one skew error, one corrected retry)", srv.requests)
	}
}

type staticCreds struct{ id, secret, token string }

func (c staticCreds) Retrieve(context.Context) (aws.Credentials, error) {
	return aws.Credentials{AccessKeyID: c.id, SecretAccessKey: c.secret, SessionToken: c.token, Source: "test"}, nil
}

// assertAWSError checks err (from the verifier or an SDK call) names typ and
// carries msg.
func assertAWSError(t *testing.T, err error, typ, msg string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %s", typ)
	}
	if e, ok := awserr.As(err); ok {
		if e.Type != typ || e.Message != msg || e.Status != 400 {
			t.Fatalf("got %d %s %q\nwant 400 %s %q", e.Status, e.Type, e.Message, typ, msg)
		}
		return
	}
	var api interface {
		ErrorCode() string
		ErrorMessage() string
	}
	if !errors.As(err, &api) || api.ErrorCode() != typ || api.ErrorMessage() != msg {
		t.Fatalf("got %v, want %s %q", err, typ, msg)
	}
}

func TestSignedRequests(t *testing.T) {
	body := []byte(`{"StreamName":"s","Data":"aGVsbG8=","PartitionKey":"k"}`)
	type tc struct {
		name    string
		url     string
		method  string
		prep    func(r *http.Request)        // before signing
		tamper  func(r *http.Request) []byte // after signing; returns the body to send
		sign    func(r *http.Request) error  // default: SignHTTP with akid/secret at signTime
		now     time.Time                    // default signTime + 30s
		service string
		check   func(t *testing.T, c Credential)
		errType string
		errMsg  string
	}
	signer := v4.NewSigner()
	signWith := func(id, sec, token string, at time.Time) func(r *http.Request) error {
		return func(r *http.Request) error {
			b := readBody(r)
			// A fresh signer: the SDK caches derived keys by access key
			// id, not by secret.
			return v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: id, SecretAccessKey: sec, SessionToken: token},
				r, hashHex(b), "kinesis", "us-east-1", at)
		}
	}
	presign := func(expires string) func(r *http.Request) error {
		return func(r *http.Request) error {
			b := readBody(r)
			if expires != "" {
				q := r.URL.Query()
				q.Set("X-Amz-Expires", expires)
				r.URL.RawQuery = q.Encode()
			}
			uri, hdr, err := signer.PresignHTTP(context.Background(), aws.Credentials{AccessKeyID: akid, SecretAccessKey: secret},
				r, hashHex(b), "kinesis", "us-east-1", signTime)
			if err != nil {
				return err
			}
			var nb io.Reader
			if r.Method != "GET" {
				nb = bytes.NewReader(b)
			}
			nr, err := http.NewRequest(r.Method, uri, nb)
			if err != nil {
				return err
			}
			for k, v := range hdr {
				if k != "Host" {
					nr.Header[k] = v
				}
			}
			*r = *nr
			return nil
		}
	}
	cases := []tc{
		{name: "good", check: func(t *testing.T, c Credential) {
			if c.AccessKey != akid || c.Date != "20260101" || c.Region != "us-east-1" || c.Service != "kinesis" ||
				!c.AmzDate.Equal(signTime) || c.Presigned || c.Scope() != "20260101/us-east-1/kinesis/aws4_request" {
				t.Fatalf("credential %+v", c)
			}
		}},
		{name: "tampered body", tamper: func(r *http.Request) []byte {
			b := bytes.Clone(body)
			b[2] = 'X'
			return b
		}, errType: awserr.TInvalidSignature, errMsg: MsgSignatureMismatch},
		{name: "tampered signed header", tamper: func(r *http.Request) []byte {
			r.Header.Set("X-Amz-Target", "Kinesis_20131202.DeleteStream")
			return nil
		}, errType: awserr.TInvalidSignature, errMsg: MsgSignatureMismatch},
		{name: "unsigned header changed", tamper: func(r *http.Request) []byte {
			r.Header.Set("User-Agent", "someone-else")
			return nil
		}},
		{name: "wrong secret", sign: signWith(akid, "not-the-secret", "", signTime),
			errType: awserr.TInvalidSignature, errMsg: MsgSignatureMismatch},
		{name: "unknown key", sign: signWith("AKIDOTHER", secret, "", signTime),
			errType: awserr.TUnrecognizedClient, errMsg: MsgUnknownKey},
		{name: "session token", sign: signWith(akid, secret, "the-token", signTime), check: func(t *testing.T, c Credential) {
			if c.SessionToken != "the-token" || !slices.Contains(c.SignedHeaders, "x-amz-security-token") {
				t.Fatalf("credential %+v", c)
			}
		}},
		{name: "expired", now: signTime.Add(5*time.Minute + time.Second), errType: awserr.TInvalidSignature,
			errMsg: "Signature expired: 20260101T000000Z is now earlier than 20260101T000001Z (20260101T000501Z - 5 min.)"},
		{name: "just inside the skew", now: signTime.Add(5 * time.Minute)},
		{name: "not yet current", now: signTime.Add(-10 * time.Minute), errType: awserr.TInvalidSignature,
			errMsg: "Signature not yet current: 20260101T000000Z is still later than 20251231T235500Z (20251231T235000Z + 5 min.)"},
		{name: "wrong service", service: "firehose", errType: awserr.TInvalidSignature,
			errMsg: "Credential should be scoped to correct service: 'firehose'."},
		{name: "query and escaped path", url: "/a%20b/c~d/%E2%82%AC?b=2&a=1&a=0&sp=x+y&e=&slash=a%2Fb"},
		{name: "content sha256 header", prep: func(r *http.Request) {
			r.Header.Set("X-Amz-Content-Sha256", hashHex(body))
		}},
		{name: "content sha256 header not the body", prep: func(r *http.Request) {
			r.Header.Set("X-Amz-Content-Sha256", hashHex([]byte("other")))
		}, errType: awserr.TInvalidSignature, errMsg: MsgSignatureMismatch},
		{name: "multi-value and spaced headers", prep: func(r *http.Request) {
			r.Header.Add("X-Amz-Meta-A", "  one   two ")
			r.Header.Add("X-Amz-Meta-A", "three")
		}},
		{name: "presigned GET", method: "GET", sign: presign(""), check: func(t *testing.T, c Credential) {
			if !c.Presigned || c.AccessKey != akid {
				t.Fatalf("credential %+v", c)
			}
		}},
		{name: "presigned POST with body", sign: presign("300")},
		{name: "presigned with expiry, expired", sign: presign("60"), now: signTime.Add(61 * time.Second),
			errType: awserr.TInvalidSignature,
			errMsg:  "Signature expired: 20260101T000000Z is now earlier than 20260101T000001Z (20260101T000101Z - 60 sec.)"},
		{name: "presigned tampered body", sign: presign(""), tamper: func(r *http.Request) []byte {
			return []byte(`{"StreamName":"t","Data":"aGVsbG8=","PartitionKey":"k"}`)
		}, errType: awserr.TInvalidSignature, errMsg: MsgSignatureMismatch},
	}
	srv := newVerifyServer(t, &Verifier{Keys: map[string]string{akid: secret}}, false)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			method := c.method
			if method == "" {
				method = "POST"
			}
			var rb io.Reader
			if method == "POST" {
				rb = bytes.NewReader(body)
			}
			req, err := http.NewRequest(method, srv.URL+c.url, rb)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/x-amz-json-1.1")
			req.Header.Set("X-Amz-Target", "Kinesis_20131202.PutRecord")
			if c.prep != nil {
				c.prep(req)
			}
			sign := c.sign
			if sign == nil {
				sign = signWith(akid, secret, "", signTime)
			}
			if err := sign(req); err != nil {
				t.Fatalf("sign: %v", err)
			}
			if c.tamper != nil {
				if nb := c.tamper(req); nb != nil {
					req.Body = io.NopCloser(bytes.NewReader(nb))
					req.ContentLength = int64(len(nb))
				}
			}
			now := c.now
			if now.IsZero() {
				now = signTime.Add(30 * time.Second)
			}
			srv.v.Now = fixedClock(now)
			srv.service = c.service
			cred, err := srv.send(t, req)
			if c.errType != "" {
				assertAWSError(t, err, c.errType, c.errMsg)
				return
			}
			if err != nil {
				t.Fatalf("verify: %v", err)
			}
			if c.check != nil {
				c.check(t, cred)
			}
		})
	}
}

// Malformed or missing pieces, checked by Parse and by Verify.
func TestMalformedAuth(t *testing.T) {
	type tc struct {
		name    string
		url     string
		headers map[string]string
		parse   bool // Parse reports it too (else only Verify)
		errType string
		errMsg  string
	}
	goodAuth := "AWS4-HMAC-SHA256 Credential=" + akid + "/20260101/us-east-1/kinesis/aws4_request, SignedHeaders=host;x-amz-date, Signature=" + strings.Repeat("0", 64)
	cases := []tc{
		{"no auth", "/", nil, true, awserr.TMissingAuthenticationToken, "Missing Authentication Token"},
		{"both forms", "/?X-Amz-Algorithm", map[string]string{"Authorization": "X"}, true, awserr.TInvalidSignature,
			"Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as HTTP header."},
		{"bare header", "/", map[string]string{"Authorization": "X"}, true, awserr.TIncompleteSignature,
			"Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. " +
				"Authorization header requires 'SignedHeaders' parameter. Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=X"},
		{"no SignedHeaders", "/", map[string]string{"Authorization": "AWS4- Signature=b Credential=a", "Date": "a"}, true, awserr.TIncompleteSignature,
			"Authorization header requires 'SignedHeaders' parameter. Authorization=AWS4- Signature=b Credential=a"},
		{"no date", "/", map[string]string{"Authorization": goodAuth}, true, awserr.TIncompleteSignature,
			"Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=" + goodAuth},
		{"empty query auth", "/?X-Amz-Algorithm", nil, true, awserr.TIncompleteSignature,
			"AWS query-string parameters must include 'X-Amz-Algorithm'. AWS query-string parameters must include 'X-Amz-Credential'. " +
				"AWS query-string parameters must include 'X-Amz-Signature'. AWS query-string parameters must include 'X-Amz-SignedHeaders'. " +
				"AWS query-string parameters must include 'X-Amz-Date'. Re-examine the query-string parameters."},
		{"query without SignedHeaders", "/?X-Amz-Algorithm=a&X-Amz-Credential=b&X-Amz-Signature=c&X-Amz-Date=d", nil, true, awserr.TIncompleteSignature,
			"AWS query-string parameters must include 'X-Amz-SignedHeaders'. Re-examine the query-string parameters."},
		{"bad X-Amz-Date", "/", map[string]string{"Authorization": goodAuth, "X-Amz-Date": "201"}, true, awserr.TIncompleteSignature,
			"Date must be in ISO-8601 'basic format'. Got '201'. See http://en.wikipedia.org/wiki/ISO_8601"},
		{"bad algorithm", "/", map[string]string{"Authorization": strings.Replace(goodAuth, "SHA256", "SHA25", 1), "X-Amz-Date": "20260101T000000Z"},
			true, awserr.TIncompleteSignature, "Unsupported AWS 'algorithm': 'AWS4-HMAC-SHA25' (only AWS4-HMAC-SHA256 for now). "},
		{"four-part credential", "/", map[string]string{"Authorization": "AWS4-HMAC-SHA256 Credential=a/b/c/d/, SignedHeaders=host, Signature=x", "X-Amz-Date": "20260101T000000Z"},
			true, awserr.TIncompleteSignature, "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got 'a/b/c/d'"},
		{"host not signed", "/", map[string]string{"Authorization": strings.Replace(goodAuth, "host;", "", 1), "X-Amz-Date": "20260101T000000Z"},
			false, awserr.TInvalidSignature, "'Host' must be a 'SignedHeader' in the AWS Authorization."},
		{"bad scope", "/", map[string]string{"Authorization": "AWS4-HMAC-SHA256 Credential=" + akid + "/20250101/US_EAST/kinesis/aws5_request, SignedHeaders=host, Signature=x", "X-Amz-Date": "20260101T000000Z"},
			false, awserr.TInvalidSignature, "Credential should be scoped to a valid region, not 'US_EAST'. " +
				"Credential should be scoped with a valid terminator: 'aws4_request', not 'aws5_request'. " +
				"Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '20250101' != '20260101', from '20260101T000000Z'."},
		{"signature not hex", "/", map[string]string{"Authorization": strings.Replace(goodAuth, strings.Repeat("0", 64), "zz", 1), "X-Amz-Date": "20260101T000000Z"},
			false, awserr.TInvalidSignature, MsgSignatureMismatch},
	}
	v := &Verifier{Keys: map[string]string{akid: secret}, Now: fixedClock(signTime)}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "http://kinesis.local"+c.url, strings.NewReader("{}"))
			for k, val := range c.headers {
				r.Header.Set(k, val)
			}
			_, err := v.Verify(r, []byte("{}"))
			assertAWSError(t, err, c.errType, c.errMsg)
			_, err = Parse(r)
			if c.parse {
				assertAWSError(t, err, c.errType, c.errMsg)
			} else if err != nil {
				t.Fatalf("Parse: %v", err)
			}
		})
	}
}

func TestParse(t *testing.T) {
	r := httptest.NewRequest("POST", "http://kinesis.local/", nil)
	r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=123456789012/20260101/ap-south-2/kinesis/aws4_request, SignedHeaders=content-type;host;x-amz-target, Signature=abc")
	r.Header.Set("Date", "Thu, 01 Jan 2026 00:00:00 GMT")
	c, err := Parse(r)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"content-type", "host", "x-amz-target"}
	if c.AccessKey != "123456789012" || c.Region != "ap-south-2" || c.Service != "kinesis" || c.Date != "20260101" ||
		!slices.Equal(c.SignedHeaders, want) || c.Signature != "abc" || !c.AmzDate.Equal(signTime) {
		t.Fatalf("credential %+v", c)
	}
}

func TestAccountFor(t *testing.T) {
	cases := []struct{ key, want string }{
		{"123456789012", "123456789012"},
		{"000000000001", "000000000001"},
		{"12345678901", "000000000000"},
		{"1234567890123", "000000000000"},
		{"12345678901a", "000000000000"},
		{"AKIDEXAMPLE", "000000000000"},
		{"", "000000000000"},
	}
	for _, c := range cases {
		if got := AccountFor(c.key, "000000000000"); got != c.want {
			t.Errorf("AccountFor(%q) = %s, want %s", c.key, got, c.want)
		}
	}
}

func TestLoadCredentials(t *testing.T) {
	cases := []struct {
		name, text string
		want       map[string]string
		err        string
	}{
		{"ini", `# shared credentials
[default]
aws_access_key_id = AKIDDEFAULT
aws_secret_access_key = s1
aws_session_token = ignored

[profile other]
AWS_ACCESS_KEY_ID=123456789012
aws_secret_access_key=s/2+x=
; a settings-only profile
[settings]
region = us-west-2
`, map[string]string{"AKIDDEFAULT": "s1", "123456789012": "s/2+x="}, ""},
		{"json", ` {"AKID1": "one", "AKID2": "two"}`, map[string]string{"AKID1": "one", "AKID2": "two"}, ""},
		{"half a profile", "[p]\naws_access_key_id = A\n", nil, "needs both"},
		{"key outside a profile", "aws_access_key_id = A\n", nil, "outside a [profile]"},
		{"conflicting secrets", "[a]\naws_access_key_id=A\naws_secret_access_key=1\n[b]\naws_access_key_id=A\naws_secret_access_key=2\n", nil, "two different secrets"},
		{"bad json", `{"A": 1}`, nil, "parse JSON"},
		{"empty", "\n# nothing\n", nil, "no credentials"},
		{"garbage line", "[a]\nnot a setting\n", nil, "want key = value"},
	}
	dir := t.TempDir()
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := filepath.Join(dir, string(rune('a'+i)))
			if err := os.WriteFile(p, []byte(c.text), 0o600); err != nil {
				t.Fatal(err)
			}
			got, err := LoadCredentials(p)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("err %v, want one containing %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(c.want) {
				t.Fatalf("got %v, want %v", got, c.want)
			}
			for k, v := range c.want {
				if got[k] != v {
					t.Fatalf("got %v, want %v", got, c.want)
				}
			}
		})
	}
	if _, err := LoadCredentials(filepath.Join(dir, "missing")); err == nil {
		t.Fatal("missing file: no error")
	}
}

// signedServerRequest builds the server-side view of a request signed by the
// SDK, without a network round trip.
func signedServerRequest(tb testing.TB, body []byte) *http.Request {
	tb.Helper()
	cr, _ := http.NewRequest("POST", "http://kinesis.local/", bytes.NewReader(body))
	cr.Header.Set("Content-Type", "application/x-amz-json-1.1")
	cr.Header.Set("X-Amz-Target", "Kinesis_20131202.PutRecord")
	if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: akid, SecretAccessKey: secret},
		cr, hashHex(body), "kinesis", "us-east-1", signTime); err != nil {
		tb.Fatal(err)
	}
	sr := httptest.NewRequest("POST", "http://kinesis.local/", bytes.NewReader(body))
	sr.Header = cr.Header.Clone()
	return sr
}

func TestDefaultPortAndDebug(t *testing.T) {
	body := []byte("{}")
	for _, port := range []string{"80", "443"} {
		cr, _ := http.NewRequest("POST", "http://kinesis.local:"+port+"/", bytes.NewReader(body))
		if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: akid, SecretAccessKey: secret},
			cr, hashHex(body), "kinesis", "us-east-1", signTime); err != nil {
			t.Fatal(err)
		}
		sr := httptest.NewRequest("POST", "http://kinesis.local:"+port+"/", bytes.NewReader(body))
		sr.Header = cr.Header.Clone()
		if sr.Host != "kinesis.local:"+port {
			t.Fatalf("server Host %q", sr.Host)
		}
		v := &Verifier{Keys: map[string]string{akid: secret}, Now: fixedClock(signTime)}
		if _, err := v.Verify(sr, body); err != nil {
			t.Fatalf("port %s: %v", port, err)
		}
		// With Debug, a mismatch explains what the server computed.
		v.Debug = true
		_, err := v.Verify(sr, []byte("{ }"))
		e, ok := awserr.As(err)
		if !ok || !strings.HasPrefix(e.Message, MsgSignatureMismatch+"\n\nThe Canonical String for this request should have been\n'POST\n/\n") ||
			!strings.Contains(e.Message, "host:kinesis.local:"+port+"\n") ||
			!strings.Contains(e.Message, "The String-to-Sign should have been\n'AWS4-HMAC-SHA256\n20260101T000000Z\n20260101/us-east-1/kinesis/aws4_request\n") {
			t.Fatalf("debug message: %v", err)
		}
	}
}

func TestVerifyAllocs(t *testing.T) {
	body := bytes.Repeat([]byte("x"), 100<<10)
	r := signedServerRequest(t, body)
	v := &Verifier{Keys: map[string]string{akid: secret}, Now: fixedClock(signTime)}
	if _, err := v.Verify(r, body); err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(50, func() {
		if _, err := v.Verify(r, body); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 12 {
		t.Fatalf("Verify allocated %.0f times per call, want at most 12", allocs)
	}
}

// BenchmarkVerify measures a whole verification of an SDK-signed request;
// the sha256 case is the floor under it (hashing the body, which any
// verification must do).
func BenchmarkVerify(b *testing.B) {
	for _, size := range []int{1 << 10, 100 << 10} {
		body := bytes.Repeat([]byte("x"), size)
		b.Run(fmt.Sprintf("verify/body=%dKiB", size>>10), func(b *testing.B) {
			r := signedServerRequest(b, body)
			v := &Verifier{Keys: map[string]string{akid: secret}, Now: fixedClock(signTime)}
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v.Verify(r, body); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("sha256/body=%dKiB", size>>10), func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				sha256.Sum256(body)
			}
		})
	}
}

// FuzzParse: no Authorization header, query or date makes Parse or Verify
// panic, and every error is an AWS error.
func FuzzParse(f *testing.F) {
	f.Add("AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/kinesis/aws4_request, SignedHeaders=host;x-amz-date, Signature="+strings.Repeat("ab", 32), "", "20260101T000000Z")
	f.Add("X", "X-Amz-Algorithm", "")
	f.Add("", "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=a%2Fb%2Fc%2Fd%2Fe&X-Amz-Signature=00&X-Amz-SignedHeaders=host&X-Amz-Date=20260101T000000Z&X-Amz-Expires=9", "")
	f.Add("AWS4-HMAC-SHA256 Credential=///, SignedHeaders=, Signature=", "a=%zz", "Thu, 01 Jan 2026 00:00:00 GMT")
	v := &Verifier{Keys: map[string]string{"AKID": "s", "a": "s"}, Now: fixedClock(signTime)}
	f.Fuzz(func(t *testing.T, auth, query, date string) {
		r := httptest.NewRequest("POST", "http://kinesis.local/", nil)
		r.URL.RawQuery = query
		if auth != "" {
			r.Header["Authorization"] = []string{auth}
		}
		if date != "" {
			r.Header["X-Amz-Date"] = []string{date}
		}
		for _, err := range []error{
			func() error { _, err := Parse(r); return err }(),
			func() error { _, err := v.Verify(r, nil); return err }(),
		} {
			if err == nil {
				continue
			}
			if _, ok := awserr.As(err); !ok {
				t.Fatalf("non-AWS error %v", err)
			}
		}
	})
}

// FuzzParseCredentials: no file content panics the credentials parser.
func FuzzParseCredentials(f *testing.F) {
	f.Add([]byte("[default]\naws_access_key_id=A\naws_secret_access_key=B\n"))
	f.Add([]byte(`{"A":"B"}`))
	f.Add([]byte("[unterminated\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		keys, err := ParseCredentials(data)
		if err == nil && len(keys) == 0 {
			t.Fatal("no error and no keys")
		}
	})
}
