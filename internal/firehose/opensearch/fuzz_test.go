package opensearch

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/eddy-streams/eddy/internal/firehose/fhdest"
)

// FuzzBulkResponse: any _bulk reply yields failures only for records of the
// batch, and never a panic.
func FuzzBulkResponse(f *testing.F) {
	f.Add(200, []byte(`{"errors":true,"items":[{"index":{"status":429,"error":{"type":"x"}}},{"index":{"status":201}}]}`))
	f.Add(200, []byte(`{"errors":false,"items":[{"index":{"status":201}},{"index":{"status":201}}]}`))
	f.Add(503, []byte(`{}`))
	f.Add(200, []byte(`{"errors":true,"items":[{}]}`))
	var status int
	var body []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(status)
		w.Write(body)
	}))
	defer srv.Close()
	d, err := New(Config{Endpoint: srv.URL, IndexName: "i", Rotation: OneDay})
	if err != nil {
		f.Fatal(err)
	}
	b := &fhdest.Batch{StreamID: "s", Records: []fhdest.Record{{Data: []byte(`{"a":1}`), Pos: 1}, {Data: []byte(`{"b":2}`), Pos: 2}}}
	f.Fuzz(func(t *testing.T, st int, resp []byte) {
		if st < 200 || st > 599 {
			return
		}
		status, body = st, resp
		for _, fl := range d.Deliver(context.Background(), b) {
			if fl.Index < 0 || fl.Index >= len(b.Records) || fl.Fields["esIndexName"] == nil {
				t.Fatalf("failure %+v", fl)
			}
		}
	})
}
