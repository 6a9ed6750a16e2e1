// Package opensearch delivers Firehose batches to OpenSearch or
// Elasticsearch with the `_bulk` API: one action line
// ({"index":{"_index":…,"_type":…,"_id":…}}) and one document line per
// record, the index name rotated by the record's arrival time (UTC), and
// per-item results: items that fail with 429 or 5xx are reported as
// retryable (the delivery loop resends only those), other item errors are
// permanent (they go to S3 under the failed-documents prefix). Requests
// carry basic auth (user:password@ in the endpoint) or a SigV4 signature
// (sign.go).
package opensearch

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/eddy-streams/eddy/internal/firehose/fhdest"
)

// Rotation periods (IndexRotationPeriod).
const (
	NoRotation = "NoRotation"
	OneHour    = "OneHour"
	OneDay     = "OneDay"
	OneWeek    = "OneWeek"
	OneMonth   = "OneMonth"
)

// Error codes of whole-request failures (item failures carry the item's
// HTTP status as errorCode, and its error object as errorMessage).
const (
	CodeConnection = "OS.ConnectionFailed"
	CodeRequest    = "OS.RequestFailed"
	CodeNotJSON    = "OS.MalformedDocument"
)

// Config is one OpenSearch destination.
type Config struct {
	Endpoint  string // base URL; user:password@ in it is sent as basic auth
	IndexName string
	TypeName  string
	Rotation  string
	NoDocID   bool // DocumentIdOptions NO_DOCUMENT_ID (and Serverless)
	Timeout   time.Duration
	// Sign, when set and the endpoint has no user:password@, signs every
	// request with SigV4.
	Sign *Signing
}

// Dest is an OpenSearch/Elasticsearch destination.
type Dest struct {
	cfg        Config
	bulkURL    string
	user, pass string
	client     *http.Client
	signer     *signer // nil: not signed
}

// New builds a destination.
func New(cfg Config) (*Dest, error) {
	u, err := url.Parse(cfg.Endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("cluster endpoint %q is not an http(s) URL", cfg.Endpoint)
	}
	d := &Dest{cfg: cfg, client: &http.Client{}}
	if u.User != nil {
		d.user = u.User.Username()
		d.pass, _ = u.User.Password()
		u.User = nil
	}
	if cfg.Sign != nil && d.user == "" && d.pass == "" {
		if cfg.Sign.Credentials == nil || cfg.Sign.Service == "" || cfg.Sign.Region == "" {
			return nil, fmt.Errorf("SigV4 signing needs credentials, a service name and a region")
		}
		d.signer = newSigner(*cfg.Sign)
	}
	u.Path = strings.TrimSuffix(u.Path, "/") + "/_bulk"
	d.bulkURL = u.String()
	if d.cfg.Timeout <= 0 {
		d.cfg.Timeout = 5 * time.Minute
	}
	return d, nil
}

// Close implements fhdest.Destination.
func (d *Dest) Close() error { d.client.CloseIdleConnections(); return nil }

// IndexName is the index of a record that arrived at t (UTC), with AWS's
// rotation suffixes: -yyyy-MM-dd-HH, -yyyy-MM-dd, -yyyy-'w'ww (the ISO week,
// which gives AWS's documented -2016-w08 for 2016-02-25), -yyyy-MM.
func IndexName(base, rotation string, t time.Time) string {
	t = t.UTC()
	switch rotation {
	case OneHour:
		return base + t.Format("-2006-01-02-15")
	case OneDay:
		return base + t.Format("-2006-01-02")
	case OneWeek:
		y, w := t.ISOWeek()
		return fmt.Sprintf("%s-%04d-w%02d", base, y, w)
	case OneMonth:
		return base + t.Format("-2006-01")
	}
	return base
}

// DocID is the Firehose-generated id of a record: stable across attempts
// and restarts (the stream's id and the record's buffer-log position).
func DocID(streamID string, pos uint64) string {
	return streamID + "." + strconv.FormatUint(pos, 10)
}

type bulkItem struct {
	Status int             `json:"status"`
	Error  json.RawMessage `json:"error"`
	ID     string          `json:"_id"`
}

type bulkResponse struct {
	Errors bool                  `json:"errors"`
	Items  []map[string]bulkItem `json:"items"`
	Error  json.RawMessage       `json:"error"`
}

// Deliver implements fhdest.Destination: one _bulk request.
func (d *Dest) Deliver(ctx context.Context, b *fhdest.Batch) []fhdest.Failure {
	var body bytes.Buffer
	var fails []fhdest.Failure
	sent := make([]int, 0, len(b.Records)) // item → record index
	fields := func(i int) map[string]any {
		r := b.Records[i]
		m := map[string]any{"esIndexName": IndexName(d.cfg.IndexName, d.cfg.Rotation, time.UnixMilli(r.ArrivalMs))}
		if d.cfg.TypeName != "" {
			m["esTypeName"] = d.cfg.TypeName
		}
		if !d.cfg.NoDocID {
			m["esDocumentId"] = DocID(b.StreamID, r.Pos)
		}
		return m
	}
	var doc bytes.Buffer
	for i, r := range b.Records {
		doc.Reset()
		if err := json.Compact(&doc, bytes.TrimSpace(r.Data)); err != nil || doc.Len() == 0 || doc.Bytes()[0] != '{' {
			fails = append(fails, fhdest.Failure{Index: i, Code: CodeNotJSON, Message: "The record is not a single JSON object.", Permanent: true, Fields: fields(i)})
			continue
		}
		f := fields(i)
		action := map[string]string{"_index": f["esIndexName"].(string)}
		if t, ok := f["esTypeName"]; ok {
			action["_type"] = t.(string)
		}
		if id, ok := f["esDocumentId"]; ok {
			action["_id"] = id.(string)
		}
		line, _ := json.Marshal(map[string]any{"index": action})
		body.Write(line)
		body.WriteByte('\n')
		body.Write(doc.Bytes())
		body.WriteByte('\n')
		sent = append(sent, i)
	}
	if len(sent) == 0 {
		return fails
	}
	all := func(code, msg string) []fhdest.Failure {
		for _, i := range sent {
			fails = append(fails, fhdest.Failure{Index: i, Code: code, Message: msg, Fields: fields(i)})
		}
		return fails
	}
	ctx, cancel := context.WithTimeout(ctx, d.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.bulkURL, bytes.NewReader(body.Bytes()))
	if err != nil {
		return all(CodeConnection, err.Error())
	}
	req.Header.Set("Content-Type", "application/x-ndjson")
	var unsigned error // why a request that should be signed is not
	if d.user != "" || d.pass != "" {
		req.SetBasicAuth(d.user, d.pass)
	} else if d.signer != nil {
		if unsigned, err = d.signer.sign(ctx, req, body.Bytes()); err != nil {
			return all(CodeConnection, err.Error())
		}
	}
	resp, err := d.client.Do(req)
	if err != nil {
		return all(CodeConnection, fmt.Sprintf("Error received from the cluster when attempting to connect: %v", err))
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	if err != nil {
		return all(CodeConnection, err.Error())
	}
	if resp.StatusCode != http.StatusOK {
		msg := truncate(raw)
		if resp.StatusCode == http.StatusForbidden && unsigned != nil {
			msg += " (the request went unsigned: no AWS credentials were found: " + unsigned.Error() + ")"
		}
		return all(strconv.Itoa(resp.StatusCode), msg)
	}
	var br bulkResponse
	if err := json.Unmarshal(raw, &br); err != nil || len(br.Items) != len(sent) {
		return all(CodeRequest, "The _bulk response does not match the request: "+truncate(raw))
	}
	if !br.Errors {
		return fails
	}
	for j, item := range br.Items {
		var it bulkItem
		for _, v := range item {
			it = v
		}
		if it.Status >= 200 && it.Status < 300 {
			continue
		}
		i := sent[j]
		fails = append(fails, fhdest.Failure{Index: i, Code: strconv.Itoa(it.Status), Message: string(it.Error),
			Permanent: it.Status != http.StatusTooManyRequests && it.Status < 500, Fields: fields(i)})
	}
	return fails
}

func truncate(b []byte) string {
	if len(b) > 1024 {
		return string(b[:1024]) + "..."
	}
	return string(b)
}
