package gateway

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/eddy-streams/eddy/internal/awsproto"
)

// plain is a JSON-protocol service served by servePost.
type plain struct{}

func (plain) TargetPrefix() string { return "Plain_1" }
func (plain) Handle(req *awsproto.Request) (any, error) {
	return map[string]string{"op": req.Operation}, nil
}

// own is a Protocol service claiming form posts with Version=own.
type own struct{ sawAuthErr bool }

func (*own) TargetPrefix() string                  { return "Own_1" }
func (*own) Handle(*awsproto.Request) (any, error) { return nil, nil }
func (*own) Claims(r *http.Request, body []byte) (string, bool) {
	if r.Header.Get("X-Amz-Target") == "Own_1.Op" {
		return "Op", true
	}
	return "Form", strings.Contains(string(body), "Version=own")
}
func (o *own) ServeAWS(w http.ResponseWriter, r *http.Request, req *awsproto.Request, authErr error) string {
	w.Header().Set("Content-Type", "text/plain")
	io.WriteString(w, "own:"+req.Operation+":"+req.Account+":"+string(req.Body))
	return "200"
}

func TestProtocolServicesClaimTheirRequests(t *testing.T) {
	g := New(Options{Auth: ScopeAuth("111111111111", "us-east-1"), Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Services: []awsproto.Service{plain{}, &own{}}})
	srv := httptest.NewServer(g)
	defer srv.Close()
	do := func(target, ct, body string) (int, string) {
		req, _ := http.NewRequest("POST", srv.URL+"/", strings.NewReader(body))
		if target != "" {
			req.Header.Set("X-Amz-Target", target)
		}
		req.Header.Set("Content-Type", ct)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if st, b := do("Plain_1.Get", "application/x-amz-json-1.1", "{}"); st != 200 || !strings.Contains(b, `"op":"Get"`) {
		t.Fatalf("plain service: %d %s", st, b)
	}
	if st, b := do("Own_1.Op", "application/x-amz-json-1.0", `{"a":1}`); st != 200 || b != `own:Op:111111111111:{"a":1}` {
		t.Fatalf("own by target: %d %s", st, b)
	}
	if st, b := do("", "application/x-www-form-urlencoded", "Action=X&Version=own"); st != 200 || b != "own:Form:111111111111:Action=X&Version=own" {
		t.Fatalf("own by form: %d %s", st, b)
	}
	if st, b := do("", "application/x-www-form-urlencoded", "Action=X&Version=other"); st != 400 || !strings.Contains(b, "<Code>InvalidAction</Code>") {
		t.Fatalf("unclaimed form: %d %s", st, b)
	}
	var m strings.Builder
	g.writeMetrics(&m)
	if !strings.Contains(m.String(), `"Own_1"`) || !strings.Contains(m.String(), `"Form"`) {
		t.Fatalf("counters: %s", m.String())
	}
}
