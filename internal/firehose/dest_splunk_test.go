package firehose_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	fh "github.com/aws/aws-sdk-go-v2/service/firehose"
	fhtypes "github.com/aws/aws-sdk-go-v2/service/firehose/types"

	"github.com/eddy-streams/eddy/internal/firehose"
)

// hecServer is a test receiver implementing Splunk's HTTP Event Collector
// with indexer acknowledgement (raw and event endpoints, tokens, request
// channels, ackIds per channel, /services/collector/ack). No Splunk (or
// HEC-receiving collector) can be installed here.
type hecServer struct {
	t   testing.TB
	srv *httptest.Server

	mu       sync.Mutex
	mode     string // "ok", "never" (never acks), "down" (503 busy)
	nextAck  map[string]int64
	pending  map[string][]byte // channel/ackId → data
	indexed  []byte
	events   []json.RawMessage
	channels map[string]bool
	polls    int
}

func newHECServer(t testing.TB) *hecServer {
	h := &hecServer{t: t, mode: "ok", nextAck: map[string]int64{}, pending: map[string][]byte{}, channels: map[string]bool{}}
	h.srv = httptest.NewServer(http.HandlerFunc(h.serve))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *hecServer) setMode(m string) { h.mu.Lock(); h.mode = m; h.mu.Unlock() }

func reply(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	io.WriteString(w, body)
}

func (h *hecServer) serve(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if r.URL.Path == "/services/collector/health" {
		reply(w, 200, `{"text":"HEC is healthy","code":17}`)
		return
	}
	if r.Header.Get("Authorization") != "Splunk tok" {
		reply(w, 403, `{"text":"Invalid token","code":4}`)
		return
	}
	ch := r.Header.Get("X-Splunk-Request-Channel")
	if ch == "" {
		ch = r.URL.Query().Get("channel")
	}
	if ch == "" {
		reply(w, 400, `{"text":"Data channel is missing","code":10}`)
		return
	}
	if h.mode == "down" {
		reply(w, 503, `{"text":"Server is busy","code":9}`)
		return
	}
	body, _ := io.ReadAll(r.Body)
	switch r.URL.Path {
	case "/services/collector/raw", "/services/collector/event":
		if len(body) == 0 {
			reply(w, 400, `{"text":"No data","code":5}`)
			return
		}
		if r.URL.Path == "/services/collector/event" {
			dec := json.NewDecoder(strings.NewReader(string(body)))
			for dec.More() {
				var ev map[string]json.RawMessage
				if err := dec.Decode(&ev); err != nil {
					reply(w, 400, `{"text":"Invalid data format","code":6}`)
					return
				}
				if _, ok := ev["event"]; !ok {
					reply(w, 400, `{"text":"Event field is required","code":12}`)
					return
				}
			}
		}
		h.channels[ch] = true
		id := h.nextAck[ch]
		h.nextAck[ch]++
		h.pending[fmt.Sprintf("%s/%d", ch, id)] = append([]byte(r.URL.Path[len("/services/collector/"):]+":"), body...)
		reply(w, 200, fmt.Sprintf(`{"text":"Success","code":0,"ackId":%d}`, id))
	case "/services/collector/ack":
		var in struct{ Acks []int64 }
		if json.Unmarshal(body, &in) != nil {
			reply(w, 400, `{"text":"Invalid data format","code":6}`)
			return
		}
		h.polls++
		out := map[string]bool{}
		for _, id := range in.Acks {
			key := fmt.Sprintf("%s/%d", ch, id)
			data, ok := h.pending[key]
			out[fmt.Sprint(id)] = ok && h.mode == "ok"
			if ok && h.mode == "ok" {
				delete(h.pending, key)
				kind, payload, _ := strings.Cut(string(data), ":")
				if kind == "raw" {
					h.indexed = append(h.indexed, payload...)
				} else {
					dec := json.NewDecoder(strings.NewReader(payload))
					for dec.More() {
						var ev json.RawMessage
						_ = dec.Decode(&ev)
						h.events = append(h.events, ev)
					}
				}
			}
		}
		b, _ := json.Marshal(map[string]any{"acks": out})
		reply(w, 200, string(b))
	default:
		reply(w, 404, `{"text":"The requested URL was not found on this server.","code":404}`)
	}
}

func splunkStream(t testing.TB, c *fh.Client, name, endpoint, token string, typ fhtypes.HECEndpointType, retry int32, interval int32) {
	t.Helper()
	_, err := c.CreateDeliveryStream(context.Background(), &fh.CreateDeliveryStreamInput{DeliveryStreamName: aws.String(name),
		SplunkDestinationConfiguration: &fhtypes.SplunkDestinationConfiguration{
			HECEndpoint: aws.String(endpoint), HECEndpointType: typ, HECToken: aws.String(token),
			BufferingHints: &fhtypes.SplunkBufferingHints{SizeInMBs: aws.Int32(1), IntervalInSeconds: aws.Int32(interval)},
			RetryOptions:   &fhtypes.SplunkRetryOptions{DurationInSeconds: aws.Int32(retry)},
			S3Configuration: &fhtypes.S3DestinationConfiguration{BucketARN: aws.String("arn:aws:s3:::splbk"),
				RoleARN: aws.String("arn:aws:iam::000000000000:role/x"), Prefix: aws.String("sp/")}}})
	if err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
}

func TestSplunkHEC(t *testing.T) {
	hec := newHECServer(t)
	v := startVersity(t, "splbk")
	srv := startServer(t, nil, v.URL, fastDestRetry)
	c := srv.Firehose()
	splunkStream(t, c, "raw", hec.srv.URL, "tok", fhtypes.HECEndpointTypeRaw, 60, 60)
	splunkStream(t, c, "ev", hec.srv.URL, "tok", fhtypes.HECEndpointTypeEvent, 60, 60)
	splunkStream(t, c, "badtok", hec.srv.URL, "wrong", fhtypes.HECEndpointTypeRaw, 0, 60)

	raw := recs("line", 100, 40)
	for i := range raw {
		raw[i] = append(raw[i], '\n')
	}
	putBatch(t, c, "raw", raw)
	srv.flush("raw")
	var evs [][]byte
	for i := 0; i < 20; i++ {
		evs = append(evs, []byte(fmt.Sprintf(`{"event":{"n":%d},"sourcetype":"fh"}`, i)))
	}
	putBatch(t, c, "ev", evs)
	srv.flush("ev")
	putBatch(t, c, "badtok", [][]byte{[]byte("x\n")})
	srv.flush("badtok")

	hec.mu.Lock()
	indexed, events, channels, polls := string(hec.indexed), hec.events, len(hec.channels), hec.polls
	hec.mu.Unlock()
	var want strings.Builder
	for _, r := range raw {
		want.Write(r)
	}
	if indexed != want.String() {
		t.Fatalf("raw endpoint indexed %d bytes, want %d", len(indexed), want.Len())
	}
	if len(events) != 20 || string(events[3]) != `{"event":{"n":3},"sourcetype":"fh"}` {
		t.Fatalf("%d events; event 3 = %s", len(events), events[min(3, len(events)-1)])
	}
	if channels != 2 || polls < 2 {
		t.Fatalf("%d channels, %d ack polls", channels, polls)
	}
	failed := errorDocs(t, v, "splbk", "sp/splunk-failed/")
	if len(failed) != 1 || failed[0]["errorCode"] != "Splunk.InvalidToken" || failed[0]["EventId"] == nil || failed[0]["rawData"] != base64.StdEncoding.EncodeToString([]byte("x\n")) {
		t.Fatalf("invalid-token error records: %v", failed)
	}

	d, err := c.DescribeDeliveryStream(context.Background(), &fh.DescribeDeliveryStreamInput{DeliveryStreamName: aws.String("ev")})
	if err != nil {
		t.Fatal(err)
	}
	sd := d.DeliveryStreamDescription.Destinations[0].SplunkDestinationDescription
	if sd == nil || aws.ToString(sd.HECEndpoint) != hec.srv.URL || sd.HECEndpointType != fhtypes.HECEndpointTypeEvent ||
		aws.ToInt32(sd.HECAcknowledgmentTimeoutInSeconds) != 180 || sd.S3BackupMode != fhtypes.SplunkS3BackupModeFailedEventsOnly ||
		aws.ToInt32(sd.BufferingHints.IntervalInSeconds) != 60 || sd.S3DestinationDescription == nil {
		t.Fatalf("description: %+v", sd)
	}
	if got := metricValue(t, srv.fh, "eddy_firehose_delivery_to_splunk_records_total", "raw"); got != "100" {
		t.Fatalf("DeliveryToSplunk.Records = %s", got)
	}
	// Splunk's buffering range is 1–5 MB, 0–60 s.
	_, err = c.CreateDeliveryStream(context.Background(), &fh.CreateDeliveryStreamInput{DeliveryStreamName: aws.String("big"),
		SplunkDestinationConfiguration: &fhtypes.SplunkDestinationConfiguration{HECEndpoint: aws.String(hec.srv.URL), HECEndpointType: fhtypes.HECEndpointTypeRaw,
			HECToken: aws.String("tok"), BufferingHints: &fhtypes.SplunkBufferingHints{IntervalInSeconds: aws.Int32(61)},
			S3Configuration: &fhtypes.S3DestinationConfiguration{BucketARN: aws.String("arn:aws:s3:::splbk"), RoleARN: aws.String("arn:aws:iam::000000000000:role/x")}}})
	if err == nil || !strings.Contains(err.Error(), "intervalInSeconds") {
		t.Fatalf("61 s interval: %v", err)
	}
}

// TestSplunkAckTimeoutAndOutage runs on a fast clock (1 s real = 300 s):
// an indexer that never acknowledges makes Splunk.AckTimeout records in S3
// once RetryOptions has run out; an HEC down within RetryOptions delivers
// everything when it returns.
func TestSplunkAckTimeoutAndOutage(t *testing.T) {
	hec := newHECServer(t)
	v := startVersity(t, "splbk")
	base := time.Now()
	fast := func(o *firehose.Options) {
		fastDestRetry(o)
		o.Now = func() time.Time { return base.Add(time.Since(base) * 300) }
	}
	srv := startServer(t, nil, v.URL, fast)
	c := srv.Firehose()
	splunkStream(t, c, "noack", hec.srv.URL, "tok", fhtypes.HECEndpointTypeRaw, 300, 0)
	hec.setMode("never")
	putBatch(t, c, "noack", [][]byte{[]byte("a\n"), []byte("b\n")})
	srv.flush("noack")
	failed := errorDocs(t, v, "splbk", "sp/splunk-failed/")
	if len(failed) != 2 || failed[0]["errorCode"] != "Splunk.AckTimeout" || failed[0]["attemptsMade"].(float64) < 2 {
		t.Fatalf("ack-timeout records: %v", failed)
	}

	hec.setMode("down")
	splunkStream(t, c, "down", hec.srv.URL, "tok", fhtypes.HECEndpointTypeRaw, 7200, 0)
	putBatch(t, c, "down", [][]byte{[]byte("c\n"), []byte("d\n")})
	waitFor(t, 10*time.Second, "failing attempts", func() bool {
		d, _ := c.DescribeDeliveryStream(context.Background(), &fh.DescribeDeliveryStreamInput{DeliveryStreamName: aws.String("down")})
		return d != nil && d.DeliveryStreamDescription.FailureDescription != nil &&
			strings.Contains(aws.ToString(d.DeliveryStreamDescription.FailureDescription.Details), "Splunk.ServerError")
	})
	hec.setMode("ok")
	srv.flush("down")
	hec.mu.Lock()
	indexed := string(hec.indexed)
	hec.mu.Unlock()
	if indexed != "c\nd\n" {
		t.Fatalf("indexed after the outage: %q", indexed)
	}
	if n := len(errorDocs(t, v, "splbk", "sp/splunk-failed/")); n != 2 {
		t.Fatalf("%d error records, want only the 2 ack timeouts", n)
	}
}
