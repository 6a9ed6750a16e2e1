package httpdest

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/eddy-streams/eddy/internal/firehose/fhdest"
)

func batch() *fhdest.Batch {
	return &fhdest.Batch{RequestID: "rid-1", NowMs: 1700000000000, StreamARN: "arn", Records: []fhdest.Record{{Data: []byte("a")}, {Data: []byte{0, 1, 2}}}}
}

func TestBody(t *testing.T) {
	var got struct {
		RequestID string `json:"requestId"`
		Timestamp int64  `json:"timestamp"`
		Records   []struct {
			Data []byte `json:"data"`
		} `json:"records"`
	}
	if err := json.Unmarshal(Body(batch()), &got); err != nil {
		t.Fatal(err)
	}
	if got.RequestID != "rid-1" || got.Timestamp != 1700000000000 || len(got.Records) != 2 || string(got.Records[1].Data) != "\x00\x01\x02" {
		t.Fatalf("%+v", got)
	}
}

// FuzzResponse: whatever the endpoint answers, Deliver neither panics nor
// accepts anything but a 200 carrying the request's id.
func FuzzResponse(f *testing.F) {
	f.Add(200, []byte(`{"requestId":"rid-1","timestamp":1}`))
	f.Add(200, []byte(`{"requestId":"other","timestamp":1}`))
	f.Add(413, []byte(`{"requestId":"rid-1","timestamp":1}`))
	f.Add(200, []byte(`{`))
	var status int
	var body []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(status)
		w.Write(body)
	}))
	defer srv.Close()
	d := New(Config{URL: srv.URL}, nil)
	f.Fuzz(func(t *testing.T, st int, b []byte) {
		if st < 200 || st > 599 {
			return
		}
		status, body = st, b
		fails := d.Deliver(context.Background(), batch())
		var r struct {
			RequestID *string `json:"requestId"`
			Timestamp *int64  `json:"timestamp"`
		}
		ok := st == 200 && json.Unmarshal(b, &r) == nil && r.RequestID != nil && *r.RequestID == "rid-1" && r.Timestamp != nil
		if ok != (len(fails) == 0) {
			t.Fatalf("status %d body %q: %d failures", st, b, len(fails))
		}
		if len(fails) > 0 && len(fails) != 2 {
			t.Fatalf("partial failure of an all-or-nothing request")
		}
		if len(fails) > 0 && fails[0].Permanent != (st == 413) {
			t.Fatalf("status %d permanent=%v", st, fails[0].Permanent)
		}
	})
}
