package splunk

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/eddy-streams/eddy/internal/firehose/fhdest"
)

func TestIsEvent(t *testing.T) {
	for in, want := range map[string]bool{
		`{"event":"x"}`: true, ` {"event":{"a":1},"sourcetype":"s"}` + "\n": true, `{"event":0}`: true,
		`{"event":null}`: false, `{"event":""}`: false, `{"time":1}`: false, `"event"`: false, `[{"event":1}]`: false,
		`plain text`: false, ``: false, `{"event":1}{"event":2}`: false,
	} {
		if got := IsEvent([]byte(in)); got != want {
			t.Errorf("IsEvent(%q) = %v, want %v", in, got, want)
		}
	}
}

// TestEventEndpointSkipsNonEvents: on the Event endpoint, records that are
// not HEC events fail alone (permanently) and are not sent; the others are.
func TestEventEndpointSkipsNonEvents(t *testing.T) {
	var sent string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/services/collector/ack") {
			io.WriteString(w, `{"acks":{"0":true}}`)
			return
		}
		b, _ := io.ReadAll(r.Body)
		sent = string(b)
		io.WriteString(w, `{"text":"Success","code":0,"ackId":0}`)
	}))
	defer srv.Close()
	d := New(Config{Endpoint: srv.URL, Event: true, Token: "t"})
	b := &fhdest.Batch{StreamID: "s", Records: []fhdest.Record{
		{Data: []byte(`{"event":"a"}`), Pos: 1}, {Data: []byte(`not an event`), Pos: 2}, {Data: []byte(`{"event":"c"}`), Pos: 3}}}
	fails := d.Deliver(context.Background(), b)
	if len(fails) != 1 || fails[0].Index != 1 || fails[0].Code != CodeInvalidFormat || !fails[0].Permanent || fails[0].Fields["EventId"] != "s.2" {
		t.Fatalf("failures %+v", fails)
	}
	if sent != `{"event":"a"}{"event":"c"}` {
		t.Fatalf("sent %q", sent)
	}
}
