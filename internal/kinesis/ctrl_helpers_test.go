package kinesis_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/eddy-streams/eddy/internal/app"
	"github.com/eddy-streams/eddy/internal/config"
	"github.com/eddy-streams/eddy/internal/eddytest"
)

// Helpers for the control-plane tests (ctrl_*_test.go).

const testAccount = "000000000000"

func streamARNOf(name string) string {
	return "arn:aws:kinesis:us-east-1:" + testAccount + ":stream/" + name
}

// startCtrl starts a server and returns it with a client that does not
// retry (the SDK retries LimitExceededException as throttling, with backoff).
func startCtrl(t *testing.T, opts ...eddytest.Option) (*app.Server, *kinesis.Client) {
	t.Helper()
	srv := eddytest.Start(t, opts...)
	c := kinesis.NewFromConfig(eddytest.AWSConfig(srv.URL(), "", ""), func(o *kinesis.Options) { o.RetryMaxAttempts = 1 })
	return srv, c
}

func withDelay(d time.Duration) eddytest.Option {
	return eddytest.WithConfig(func(c *config.Config) { c.TransitionDelay = d })
}

// rawCall posts an unsigned JSON 1.1 request, for inputs the SDK's own
// validation would refuse before sending. It returns the HTTP status, the
// error type ("" on success) and the message or decoded body.
func rawCall(t *testing.T, srv *app.Server, op string, body any) (status int, typ, msg string) {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest("POST", srv.URL()+"/", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "Kinesis_20131202."+op)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	if resp.StatusCode == 200 {
		enc, _ := json.Marshal(out)
		return 200, "", string(enc)
	}
	typ, _ = out["__type"].(string)
	msg, _ = out["message"].(string)
	if msg == "" {
		msg, _ = out["Message"].(string)
	}
	return resp.StatusCode, typ, msg
}

// wantRaw asserts a raw call fails with typ and, unless msg is "", msg.
func wantRaw(t *testing.T, srv *app.Server, op string, body any, typ, msg string) {
	t.Helper()
	st, gotTyp, gotMsg := rawCall(t, srv, op, body)
	if st != 400 || gotTyp != typ {
		t.Fatalf("%s %v: status %d type %q (%s), want 400 %s", op, body, st, gotTyp, gotMsg, typ)
	}
	if msg != "" && gotMsg != msg {
		t.Fatalf("%s %v:\n got message %q\nwant message %q", op, body, gotMsg, msg)
	}
}

// wantErr asserts err is an API error of code and, unless msg is "", msg.
func wantErr(t *testing.T, err error, code, msg string) {
	t.Helper()
	got := apiErr(t, err, code)
	if msg != "" && got != msg {
		t.Fatalf("\n got message %q\nwant message %q", got, msg)
	}
}

// fakeClock is a settable clock.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Now().Truncate(time.Second)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// summary returns the stream's DescribeStreamSummary.
func summary(t *testing.T, c *kinesis.Client, name string) *kinesis.DescribeStreamSummaryOutput {
	t.Helper()
	out, err := c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// waitFor polls cond until it holds or 10 s pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}
