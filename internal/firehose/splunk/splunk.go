// Package splunk delivers Firehose batches to a Splunk HTTP Event Collector
// with indexer acknowledgement, as Firehose does:
//
//   - POST <HECEndpoint>/services/collector/raw (HECEndpointType Raw: the
//     records' bytes concatenated as sent) or /services/collector/event
//     (Event: the records, which must already be HEC event JSON);
//   - headers Authorization: Splunk <HECToken> and X-Splunk-Request-Channel
//     (one channel per destination);
//   - a 200 {"text":"Success","code":0,"ackId":N} is only accepted; the batch
//     counts as delivered once POST /services/collector/ack answers
//     {"acks":{"N":true}}; no ack within HECAcknowledgmentTimeoutInSeconds is
//     Splunk.AckTimeout, and the delivery loop retries the batch.
package splunk

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/eddy-streams/eddy/internal/firehose/fhdest"
)

// Error codes (AWS's Splunk.* delivery errors).
const (
	CodeAckTimeout     = "Splunk.AckTimeout"
	CodeInvalidToken   = "Splunk.InvalidToken"
	CodeDisabledToken  = "Splunk.DisabledToken"
	CodeInvalidFormat  = "Splunk.InvalidDataFormat"
	CodeInvalidIndex   = "Splunk.InvalidIndex"
	CodeDisabledAck    = "Splunk.DisabledAck"
	CodeServerError    = "Splunk.ServerError"
	CodeConnection     = "Splunk.ConnectionTimeout"
	CodeInvalidEndoint = "Splunk.InvalidEndpoint"
)

// Config is one HEC destination.
type Config struct {
	Endpoint   string // HECEndpoint, e.g. https://splunk:8088
	Event      bool   // HECEndpointType Event (else Raw)
	Token      string
	AckTimeout time.Duration    // HECAcknowledgmentTimeoutInSeconds
	AckPoll    time.Duration    // between ack polls (default 1 s)
	Now        func() time.Time // the delivery clock (nil: time.Now)
}

// Dest is a Splunk HEC destination.
type Dest struct {
	cfg     Config
	channel string
	client  *http.Client
}

// New builds a destination with a fresh request channel.
func New(cfg Config) *Dest {
	if cfg.AckPoll <= 0 {
		cfg.AckPoll = time.Second
	}
	if cfg.AckTimeout <= 0 {
		cfg.AckTimeout = 180 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	ch := fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
	return &Dest{cfg: cfg, channel: ch, client: &http.Client{Timeout: 3 * time.Minute}}
}

// Channel is the X-Splunk-Request-Channel this destination sends.
func (d *Dest) Channel() string { return d.channel }

// Close implements fhdest.Destination.
func (d *Dest) Close() error { d.client.CloseIdleConnections(); return nil }

type hecReply struct {
	Text  string `json:"text"`
	Code  *int   `json:"code"`
	AckID *int64 `json:"ackId"`
}

// codeFor maps a HEC status code to AWS's error code.
func codeFor(hecCode int, status int) string {
	switch hecCode {
	case 1:
		return CodeDisabledToken
	case 2, 3, 4:
		return CodeInvalidToken
	case 5, 6, 12, 13:
		return CodeInvalidFormat
	case 7:
		return CodeInvalidIndex
	case 14:
		return CodeDisabledAck
	}
	if status == http.StatusNotFound {
		return CodeInvalidEndoint
	}
	return CodeServerError
}

func (d *Dest) post(ctx context.Context, path string, body []byte) (int, hecReply, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(d.cfg.Endpoint, "/")+path, bytes.NewReader(body))
	if err != nil {
		return 0, hecReply{}, nil, err
	}
	req.Header.Set("Authorization", "Splunk "+d.cfg.Token)
	req.Header.Set("X-Splunk-Request-Channel", d.channel)
	req.Header.Set("Content-Type", "application/json")
	resp, err := d.client.Do(req)
	if err != nil {
		return 0, hecReply{}, nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return 0, hecReply{}, nil, err
	}
	var r hecReply
	_ = json.Unmarshal(raw, &r)
	return resp.StatusCode, r, raw, nil
}

// Deliver implements fhdest.Destination: one POST, then ack polling. On
// the Event endpoint a record that is not a HEC event (a JSON object with an
// "event" member, as a Lambda transformation for Splunk makes them) is not
// sent: it fails alone and for good with Splunk.InvalidDataFormat, where
// sending it would make HEC refuse the whole batch.
func (d *Dest) Deliver(ctx context.Context, b *fhdest.Batch) []fhdest.Failure {
	var body []byte
	var failed []fhdest.Failure
	sent := make([]int, 0, len(b.Records))
	eventID := func(i int) map[string]any {
		return map[string]any{"EventId": b.StreamID + "." + strconv.FormatUint(b.Records[i].Pos, 10)}
	}
	for i, r := range b.Records {
		if d.cfg.Event && !IsEvent(r.Data) {
			failed = append(failed, fhdest.Failure{Index: i, Code: CodeInvalidFormat, Permanent: true, Fields: eventID(i),
				Message: "The record is not a Splunk HEC event: the Event endpoint takes JSON objects with an event member."})
			continue
		}
		body = append(body, r.Data...)
		sent = append(sent, i)
	}
	if len(sent) == 0 {
		return failed
	}
	path := "/services/collector/raw?channel=" + d.channel
	if d.cfg.Event {
		path = "/services/collector/event?channel=" + d.channel
	}
	fail := func(code, msg string) []fhdest.Failure {
		for _, i := range sent {
			failed = append(failed, fhdest.Failure{Index: i, Code: code, Message: msg, Fields: eventID(i)})
		}
		return failed
	}
	status, r, raw, err := d.post(ctx, path, body)
	if err != nil {
		return fail(CodeConnection, fmt.Sprintf("The connection to the Splunk endpoint failed: %v", err))
	}
	if status != http.StatusOK || r.Code == nil || *r.Code != 0 {
		c := -1
		if r.Code != nil {
			c = *r.Code
		}
		return fail(codeFor(c, status), fmt.Sprintf("Splunk answered %d: %s", status, strings.TrimSpace(string(raw))))
	}
	if r.AckID == nil {
		return fail(CodeDisabledAck, "The HEC token does not have indexer acknowledgement enabled: no ackId in the reply.")
	}
	ack := strconv.FormatInt(*r.AckID, 10)
	start := d.cfg.Now()
	for {
		status, _, raw, err := d.post(ctx, "/services/collector/ack?channel="+d.channel, []byte(`{"acks":[`+ack+`]}`))
		if err == nil && status == http.StatusOK {
			var acks struct {
				Acks map[string]bool `json:"acks"`
			}
			if json.Unmarshal(raw, &acks) == nil && acks.Acks[ack] {
				return failed
			}
		}
		if d.cfg.Now().Sub(start) >= d.cfg.AckTimeout {
			return fail(CodeAckTimeout, fmt.Sprintf("Did not receive an acknowledgement from HEC before the HEC acknowledgement timeout expired (%s). The data may have been indexed anyway.", d.cfg.AckTimeout))
		}
		t := time.NewTimer(d.cfg.AckPoll)
		select {
		case <-ctx.Done():
			t.Stop()
			return fail(CodeConnection, ctx.Err().Error())
		case <-t.C:
		}
	}
}

// IsEvent says whether data is one HEC event: a JSON object (surrounding
// white space allowed) with an "event" member.
func IsEvent(data []byte) bool {
	var ev map[string]json.RawMessage
	if err := json.Unmarshal(data, &ev); err != nil {
		return false
	}
	e, ok := ev["event"]
	return ok && len(e) > 0 && string(e) != "null" && string(e) != `""`
}
