// Package httpdest delivers Firehose batches to an HTTP endpoint
// (HttpEndpointDestinationConfiguration) with the request and response
// contract of AWS's "HTTP endpoint delivery request and response
// specifications":
//
//   - POST <Url> with X-Amz-Firehose-Protocol-Version: 1.0,
//     X-Amz-Firehose-Request-Id (the same on every retry of a batch),
//     X-Amz-Firehose-Source-Arn, X-Amz-Firehose-Access-Key (when set),
//     X-Amz-Firehose-Common-Attributes (when set), Content-Type:
//     application/json and Content-Encoding: gzip when ContentEncoding is GZIP;
//   - body {"requestId":…,"timestamp":<ms>,"records":[{"data":"<base64>"}…]};
//   - only a 200 whose JSON body carries the same requestId is a success;
//     413 is permanent (not retried); anything else (other 2xx, 3xx, 4xx,
//     5xx, a malformed body, a timeout after 3 minutes) is retried by the
//     delivery loop.
package httpdest

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/eddy-streams/eddy/internal/firehose/fhdest"
)

// Error codes of the S3 error records (AWS's HttpEndpoint.* codes).
const (
	CodeDestination     = "HttpEndpoint.DestinationException"
	CodeInvalidResponse = "HttpEndpoint.InvalidResponseFromDestination"
	CodeTimeout         = "HttpEndpoint.RequestTimeout"
	CodeConnection      = "HttpEndpoint.ConnectionFailed"
)

// Attribute is one common attribute (AttributeName/AttributeValue).
type Attribute struct {
	AttributeName  *string `json:"AttributeName,omitempty"`
	AttributeValue *string `json:"AttributeValue,omitempty"`
}

// Config is what one delivery needs from the stream's configuration.
type Config struct {
	URL              string
	AccessKey        string
	GZIP             bool
	CommonAttributes []Attribute
	Timeout          time.Duration // 0: 3 minutes, as AWS
}

// Dest is an HTTP endpoint destination.
type Dest struct {
	cfg    Config
	client *http.Client
	attrs  string // the X-Amz-Firehose-Common-Attributes value, or ""
}

// New builds a destination. client nil: a client of its own.
func New(cfg Config, client *http.Client) *Dest {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 3 * time.Minute
	}
	if client == nil {
		client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	d := &Dest{cfg: cfg, client: client}
	if len(cfg.CommonAttributes) > 0 {
		m := map[string]string{}
		for _, a := range cfg.CommonAttributes {
			if a.AttributeName != nil {
				m[*a.AttributeName] = deref(a.AttributeValue)
			}
		}
		b, _ := json.Marshal(map[string]any{"commonAttributes": m})
		d.attrs = string(b)
	}
	return d
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// Close implements fhdest.Destination.
func (d *Dest) Close() error { d.client.CloseIdleConnections(); return nil }

// Body encodes the request body of b.
func Body(b *fhdest.Batch) []byte {
	n := 64
	for _, r := range b.Records {
		n += base64.StdEncoding.EncodedLen(len(r.Data)) + 12
	}
	out := make([]byte, 0, n)
	out = append(out, `{"requestId":`...)
	out = strconv.AppendQuote(out, b.RequestID)
	out = append(out, `,"timestamp":`...)
	out = strconv.AppendInt(out, b.NowMs, 10)
	out = append(out, `,"records":[`...)
	for i, r := range b.Records {
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, `{"data":"`...)
		out = base64.StdEncoding.AppendEncode(out, r.Data)
		out = append(out, `"}`...)
	}
	return append(out, "]}"...)
}

// response is the endpoint's reply body.
type response struct {
	RequestID    *string `json:"requestId"`
	Timestamp    *int64  `json:"timestamp"`
	ErrorMessage string  `json:"errorMessage"`
}

// Deliver implements fhdest.Destination: one POST of the whole batch. The
// failures carry AWS's HTTP error-record fields subsequenceNumber (0: Eddy
// does not split records) and dataId (<stream id>.<buffer-log position>).
func (d *Dest) Deliver(ctx context.Context, b *fhdest.Batch) []fhdest.Failure {
	fails := d.deliver(ctx, b)
	for i := range fails {
		r := b.Records[fails[i].Index]
		fails[i].Fields = map[string]any{"subsequenceNumber": 0, "dataId": b.StreamID + "." + strconv.FormatUint(r.Pos, 10)}
	}
	return fails
}

func (d *Dest) deliver(ctx context.Context, b *fhdest.Batch) []fhdest.Failure {
	body := Body(b)
	if d.cfg.GZIP {
		var zb bytes.Buffer
		zw := gzip.NewWriter(&zb)
		_, _ = zw.Write(body)
		_ = zw.Close()
		body = zb.Bytes()
	}
	ctx, cancel := context.WithTimeout(ctx, d.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.cfg.URL, bytes.NewReader(body))
	if err != nil {
		return fhdest.AllFailed(b, CodeConnection, err.Error(), true)
	}
	h := req.Header
	h.Set("Content-Type", "application/json")
	h.Set("X-Amz-Firehose-Protocol-Version", "1.0")
	h.Set("X-Amz-Firehose-Request-Id", b.RequestID)
	h.Set("X-Amz-Firehose-Source-Arn", b.StreamARN)
	if d.cfg.AccessKey != "" {
		h.Set("X-Amz-Firehose-Access-Key", d.cfg.AccessKey)
	}
	if d.attrs != "" {
		h.Set("X-Amz-Firehose-Common-Attributes", d.attrs)
	}
	if d.cfg.GZIP {
		h.Set("Content-Encoding", "gzip")
	}
	resp, err := d.client.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil {
			return fhdest.AllFailed(b, CodeTimeout, "The request to the endpoint timed out.", false)
		}
		return fhdest.AllFailed(b, CodeConnection, fmt.Sprintf("Could not connect to the endpoint: %v", err), false)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20+1))
	if err != nil {
		return fhdest.AllFailed(b, CodeConnection, fmt.Sprintf("Reading the endpoint's response: %v", err), false)
	}
	if resp.StatusCode != http.StatusOK {
		msg := fmt.Sprintf("The following response was received from the endpoint destination. %d: %s", resp.StatusCode, truncate(raw))
		return fhdest.AllFailed(b, CodeDestination, msg, resp.StatusCode == http.StatusRequestEntityTooLarge)
	}
	var r response
	if len(raw) > 1<<20 || json.Unmarshal(raw, &r) != nil || r.RequestID == nil || r.Timestamp == nil {
		return fhdest.AllFailed(b, CodeInvalidResponse, "The response received from the endpoint is invalid. "+truncate(raw), false)
	}
	if *r.RequestID != b.RequestID {
		return fhdest.AllFailed(b, CodeInvalidResponse, fmt.Sprintf("The response's requestId %q does not match the request's %q.", *r.RequestID, b.RequestID), false)
	}
	return nil
}

func truncate(b []byte) string {
	const max = 1024
	if len(b) > max {
		return string(b[:max]) + "..."
	}
	return string(b)
}
