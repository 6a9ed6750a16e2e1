package splunk

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/eddy-streams/eddy/internal/firehose/fhdest"
)

// FuzzHECReplies: any reply to the event POST or the ack poll ends in
// success only with a code 0 reply carrying an ackId that is then acked.
func FuzzHECReplies(f *testing.F) {
	f.Add(200, []byte(`{"text":"Success","code":0,"ackId":7}`), []byte(`{"acks":{"7":true}}`))
	f.Add(200, []byte(`{"text":"Success","code":0}`), []byte(`{"acks":{}}`))
	f.Add(403, []byte(`{"text":"Invalid token","code":4}`), []byte(``))
	f.Add(200, []byte(`{"code":0,"ackId":1}`), []byte(`{"acks":{"1":false}}`))
	var status int
	var post, ack []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/services/collector/ack") {
			w.Write(ack)
			return
		}
		w.WriteHeader(status)
		w.Write(post)
	}))
	defer srv.Close()
	// The clock jumps past the ack timeout on each reading: one poll only.
	var now time.Time
	d := New(Config{Endpoint: srv.URL, Token: "t", AckPoll: time.Millisecond, AckTimeout: time.Second,
		Now: func() time.Time { now = now.Add(2 * time.Second); return now }})
	b := &fhdest.Batch{StreamID: "s", Records: []fhdest.Record{{Data: []byte("x"), Pos: 3}}}
	f.Fuzz(func(t *testing.T, st int, p, a []byte) {
		if st < 200 || st > 599 {
			return
		}
		status, post, ack = st, p, a
		fails := d.Deliver(context.Background(), b)
		if len(fails) > 1 || len(fails) == 1 && fails[0].Fields["EventId"] != "s.3" {
			t.Fatalf("failures %+v", fails)
		}
		if len(fails) == 0 && (st != 200 || !strings.Contains(string(a), "true")) {
			t.Fatalf("delivered on status %d post %q ack %q", st, p, a)
		}
	})
}
