package firehose_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	fh "github.com/aws/aws-sdk-go-v2/service/firehose"
	fhtypes "github.com/aws/aws-sdk-go-v2/service/firehose/types"

	"github.com/eddy-streams/eddy/internal/firehose"
)

// httpReceiver is an HTTP endpoint that checks Firehose's request contract
// (as AWS's spec and the OTel awsfirehosereceiver do) and records what it got.
type httpReceiver struct {
	t   testing.TB
	srv *httptest.Server

	mu       sync.Mutex
	mode     string // "ok", "fail" (503), "badid" (200 with a wrong requestId), "toolarge" (413)
	requests []httpRequest
	records  [][]byte
}

type httpRequest struct {
	id, arn, accessKey, attrs, encoding string
	n                                   int
}

func newHTTPReceiver(t testing.TB) *httpReceiver {
	r := &httpReceiver{t: t, mode: "ok"}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *httpReceiver) setMode(m string) { r.mu.Lock(); r.mode = m; r.mu.Unlock() }

func (r *httpReceiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	if req.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			http.Error(w, "bad gzip", 400)
			return
		}
		body, _ = io.ReadAll(zr)
	}
	var in struct {
		RequestID string `json:"requestId"`
		Timestamp int64  `json:"timestamp"`
		Records   []struct {
			Data string `json:"data"`
		} `json:"records"`
	}
	if req.Method != http.MethodPost || req.Header.Get("Content-Type") != "application/json" ||
		req.Header.Get("X-Amz-Firehose-Protocol-Version") != "1.0" || json.Unmarshal(body, &in) != nil ||
		in.RequestID == "" || in.RequestID != req.Header.Get("X-Amz-Firehose-Request-Id") || in.Timestamp < 1e12 {
		http.Error(w, "contract violated", 400)
		r.t.Errorf("request breaks the contract: %s %v %s", req.Method, req.Header, body)
		return
	}
	var recs [][]byte
	for _, rec := range in.Records {
		b, err := base64.StdEncoding.DecodeString(rec.Data)
		if err != nil {
			r.t.Errorf("record data is not base64: %q", rec.Data)
		}
		recs = append(recs, b)
	}
	r.mu.Lock()
	mode := r.mode
	r.requests = append(r.requests, httpRequest{id: in.RequestID, arn: req.Header.Get("X-Amz-Firehose-Source-Arn"),
		accessKey: req.Header.Get("X-Amz-Firehose-Access-Key"), attrs: req.Header.Get("X-Amz-Firehose-Common-Attributes"),
		encoding: req.Header.Get("Content-Encoding"), n: len(recs)})
	if mode == "ok" {
		r.records = append(r.records, recs...)
	}
	r.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	switch mode {
	case "ok":
		fmt.Fprintf(w, `{"requestId":%q,"timestamp":%d}`, in.RequestID, time.Now().UnixMilli())
	case "badid":
		fmt.Fprintf(w, `{"requestId":"not-%s","timestamp":%d}`, in.RequestID, time.Now().UnixMilli())
	case "toolarge":
		w.WriteHeader(413)
		fmt.Fprintf(w, `{"requestId":%q,"timestamp":%d,"errorMessage":"Payload too large"}`, in.RequestID, time.Now().UnixMilli())
	default:
		w.WriteHeader(503)
		fmt.Fprintf(w, `{"requestId":%q,"timestamp":%d,"errorMessage":"down for maintenance"}`, in.RequestID, time.Now().UnixMilli())
	}
}

func (r *httpReceiver) got() ([][]byte, []httpRequest) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([][]byte(nil), r.records...), append([]httpRequest(nil), r.requests...)
}

func fastDestRetry(o *firehose.Options) {
	o.DestRetryBase, o.DestRetryMax = 20*time.Millisecond, 100*time.Millisecond
}

func httpStream(t testing.TB, c *fh.Client, name, url string, retrySec int32, mode fhtypes.HttpEndpointS3BackupMode, interval ...int32) {
	iv := int32(60)
	if len(interval) > 0 {
		iv = interval[0]
	}
	t.Helper()
	_, err := c.CreateDeliveryStream(context.Background(), &fh.CreateDeliveryStreamInput{
		DeliveryStreamName: aws.String(name),
		HttpEndpointDestinationConfiguration: &fhtypes.HttpEndpointDestinationConfiguration{
			EndpointConfiguration: &fhtypes.HttpEndpointConfiguration{Url: aws.String(url), Name: aws.String("recv"), AccessKey: aws.String("sekret")},
			RequestConfiguration: &fhtypes.HttpEndpointRequestConfiguration{ContentEncoding: fhtypes.ContentEncodingGzip,
				CommonAttributes: []fhtypes.HttpEndpointCommonAttribute{{AttributeName: aws.String("env"), AttributeValue: aws.String("test")}}},
			BufferingHints: &fhtypes.HttpEndpointBufferingHints{SizeInMBs: aws.Int32(1), IntervalInSeconds: aws.Int32(iv)},
			RetryOptions:   &fhtypes.HttpEndpointRetryOptions{DurationInSeconds: aws.Int32(retrySec)},
			S3BackupMode:   mode,
			S3Configuration: &fhtypes.S3DestinationConfiguration{BucketARN: aws.String("arn:aws:s3:::httpbk"),
				RoleARN: aws.String("arn:aws:iam::000000000000:role/x"), Prefix: aws.String("bk/")},
		},
	})
	if err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
}

func sameRecords(t testing.TB, got, want [][]byte) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d records, want %d", len(got), len(want))
	}
	for i := range want {
		if !bytes.Equal(got[i], want[i]) {
			t.Fatalf("record %d = %q, want %q", i, got[i], want[i])
		}
	}
}

// errorDocs reads the JSON error records under prefix.
func errorDocs(t testing.TB, v *versity, bucket, prefix string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, o := range v.listObjects(t, bucket, prefix) {
		for _, line := range strings.Split(strings.TrimSpace(string(o.Body)), "\n") {
			var m map[string]any
			if err := json.Unmarshal([]byte(line), &m); err != nil {
				t.Fatalf("error record %s: %v: %q", o.Key, err, line)
			}
			out = append(out, m)
		}
	}
	return out
}

func TestHTTPEndpointDelivery(t *testing.T) {
	v := startVersity(t, "httpbk")
	recv := newHTTPReceiver(t)
	srv := startServer(t, nil, v.URL, fastDestRetry)
	c := srv.Firehose()
	httpStream(t, c, "h1", recv.srv.URL, 60, fhtypes.HttpEndpointS3BackupModeFailedDataOnly)
	want := recs("h", 300, 100)
	putBatch(t, c, "h1", want)
	srv.flush("h1")
	got, reqs := recv.got()
	sameRecords(t, got, want)
	r := reqs[0]
	if r.arn != "arn:aws:firehose:us-east-1:000000000000:deliverystream/h1" || r.accessKey != "sekret" ||
		r.attrs != `{"commonAttributes":{"env":"test"}}` || r.encoding != "gzip" {
		t.Fatalf("headers: %+v", r)
	}
	if objs := v.listObjects(t, "httpbk", ""); len(objs) != 0 {
		t.Fatalf("FailedDataOnly wrote %d objects after a success", len(objs))
	}

	d, err := c.DescribeDeliveryStream(context.Background(), &fh.DescribeDeliveryStreamInput{DeliveryStreamName: aws.String("h1")})
	if err != nil {
		t.Fatal(err)
	}
	hd := d.DeliveryStreamDescription.Destinations[0].HttpEndpointDestinationDescription
	if hd == nil || aws.ToString(hd.EndpointConfiguration.Url) != recv.srv.URL || aws.ToString(hd.EndpointConfiguration.Name) != "recv" ||
		aws.ToInt32(hd.BufferingHints.SizeInMBs) != 1 || aws.ToInt32(hd.RetryOptions.DurationInSeconds) != 60 ||
		hd.S3BackupMode != fhtypes.HttpEndpointS3BackupModeFailedDataOnly || hd.S3DestinationDescription == nil ||
		aws.ToString(hd.S3DestinationDescription.BucketARN) != "arn:aws:s3:::httpbk" || hd.RequestConfiguration.ContentEncoding != fhtypes.ContentEncodingGzip {
		t.Fatalf("description: %+v", hd)
	}
	if d.DeliveryStreamDescription.Destinations[0].S3DestinationDescription != nil {
		t.Fatal("an HTTP endpoint stream also describes an S3 destination")
	}
	if got := metricValue(t, srv.fh, "eddy_firehose_delivery_to_http_endpoint_records_total", "h1"); got != "300" {
		t.Fatalf("DeliveryToHttpEndpoint.Records = %s", got)
	}
	metricValue(t, srv.fh, "eddy_firehose_delivery_to_http_endpoint_data_freshness_seconds", "h1")

	// UpdateDestination merges: only the interval changes.
	_, err = c.UpdateDestination(context.Background(), &fh.UpdateDestinationInput{DeliveryStreamName: aws.String("h1"),
		CurrentDeliveryStreamVersionId: d.DeliveryStreamDescription.VersionId, DestinationId: aws.String("destinationId-000000000001"),
		HttpEndpointDestinationUpdate: &fhtypes.HttpEndpointDestinationUpdate{BufferingHints: &fhtypes.HttpEndpointBufferingHints{IntervalInSeconds: aws.Int32(5)}}})
	if err != nil {
		t.Fatal(err)
	}
	d, _ = c.DescribeDeliveryStream(context.Background(), &fh.DescribeDeliveryStreamInput{DeliveryStreamName: aws.String("h1")})
	hd = d.DeliveryStreamDescription.Destinations[0].HttpEndpointDestinationDescription
	if aws.ToString(d.DeliveryStreamDescription.VersionId) != "2" || aws.ToInt32(hd.BufferingHints.IntervalInSeconds) != 5 ||
		aws.ToInt32(hd.BufferingHints.SizeInMBs) != 1 || aws.ToString(hd.EndpointConfiguration.Url) != recv.srv.URL {
		t.Fatalf("after update: version %s, %+v", aws.ToString(d.DeliveryStreamDescription.VersionId), hd)
	}
	putBatch(t, c, "h1", [][]byte{[]byte("after-update")})
	srv.flush("h1")
	got, _ = recv.got()
	if string(got[len(got)-1]) != "after-update" {
		t.Fatalf("last record after update = %q", got[len(got)-1])
	}

	// Bad input: a buffer size past HTTP's 64 MB.
	_, err = c.CreateDeliveryStream(context.Background(), &fh.CreateDeliveryStreamInput{DeliveryStreamName: aws.String("h2"),
		HttpEndpointDestinationConfiguration: &fhtypes.HttpEndpointDestinationConfiguration{
			EndpointConfiguration: &fhtypes.HttpEndpointConfiguration{Url: aws.String(recv.srv.URL)},
			BufferingHints:        &fhtypes.HttpEndpointBufferingHints{SizeInMBs: aws.Int32(65)},
			S3Configuration:       &fhtypes.S3DestinationConfiguration{BucketARN: aws.String("arn:aws:s3:::httpbk"), RoleARN: aws.String("arn:aws:iam::000000000000:role/x")}}})
	if err == nil || !strings.Contains(err.Error(), "sizeInMBs") {
		t.Fatalf("65 MB buffer: %v", err)
	}
}

// TestHTTPEndpointRetriesAndErrorOutput: retries keep the request id; after
// RetryOptions the records go to S3 with AWS's error-record fields; 413 is
// not retried; the endpoint coming back delivers the next records.
func TestHTTPEndpointRetriesAndErrorOutput(t *testing.T) {
	v := startVersity(t, "httpbk")
	recv := newHTTPReceiver(t)
	srv := startServer(t, nil, v.URL, fastDestRetry)
	c := srv.Firehose()
	httpStream(t, c, "h", recv.srv.URL, 1, fhtypes.HttpEndpointS3BackupModeFailedDataOnly)

	recv.setMode("badid")
	lost := recs("lost", 20, 30)
	putBatch(t, c, "h", lost)
	srv.flush("h")
	_, reqs := recv.got()
	if len(reqs) < 3 {
		t.Fatalf("%d attempts within the retry duration", len(reqs))
	}
	for _, r := range reqs {
		if r.id != reqs[0].id {
			t.Fatalf("request id changed across retries: %s vs %s", r.id, reqs[0].id)
		}
	}
	docs := errorDocs(t, v, "httpbk", "bk/http-endpoint-failed/")
	if len(docs) != len(lost) {
		t.Fatalf("%d error records, want %d", len(docs), len(lost))
	}
	for i, d := range docs {
		raw, _ := base64.StdEncoding.DecodeString(d["rawData"].(string))
		if string(raw) != string(lost[i]) || d["errorCode"] != "HttpEndpoint.InvalidResponseFromDestination" ||
			d["attemptsMade"].(float64) < 2 || d["arrivalTimestamp"] == nil || d["attemptEndingTimestamp"] == nil || d["errorMessage"] == "" ||
			d["subsequenceNumber"] != float64(0) || d["dataId"] == nil || d["dataId"] == docs[0]["dataId"] && i > 0 {
			t.Fatalf("error record %d: %v", i, d)
		}
	}

	recv.setMode("toolarge")
	n0 := len(reqs)
	putBatch(t, c, "h", [][]byte{[]byte("big")})
	srv.flush("h")
	_, reqs = recv.got()
	if len(reqs) != n0+1 {
		t.Fatalf("413 was retried: %d attempts", len(reqs)-n0)
	}
	if docs := errorDocs(t, v, "httpbk", "bk/http-endpoint-failed/"); len(docs) != len(lost)+1 || docs[len(docs)-1]["errorCode"] != "HttpEndpoint.DestinationException" {
		t.Fatalf("after 413: %d error records", len(docs))
	}

	recv.setMode("ok")
	back := recs("back", 10, 30)
	putBatch(t, c, "h", back)
	srv.flush("h")
	got, _ := recv.got()
	sameRecords(t, got, back)
}

// TestHTTPEndpointOutageAcrossRestart: the endpoint is down for longer than
// Eddy runs; records wait in the durable buffer through a restart and are
// delivered, exactly, when it returns. AllData backs every record up to S3.
func TestHTTPEndpointOutageAcrossRestart(t *testing.T) {
	v := startVersity(t, "httpbk")
	recv := newHTTPReceiver(t)
	recv.setMode("fail")
	dir := filepath.Join(t.TempDir(), "data")
	be := openLogstore(t, dir)
	srv := startServer(t, be, v.URL, fastDestRetry)
	c := srv.Firehose()
	httpStream(t, c, "o", recv.srv.URL, 7200, fhtypes.HttpEndpointS3BackupModeAllData, 0)
	want := recs("o", 200, 50)
	putBatch(t, c, "o", want)
	waitFor(t, 10*time.Second, "failed attempts", func() bool { _, r := recv.got(); return len(r) >= 3 })
	d, _ := c.DescribeDeliveryStream(context.Background(), &fh.DescribeDeliveryStreamInput{DeliveryStreamName: aws.String("o")})
	if d.DeliveryStreamDescription.FailureDescription == nil || !strings.Contains(aws.ToString(d.DeliveryStreamDescription.FailureDescription.Details), "HttpEndpoint.DestinationException") {
		t.Fatalf("FailureDescription while failing: %+v", d.DeliveryStreamDescription.FailureDescription)
	}
	srv.Close()
	if err := be.Close(); err != nil {
		t.Fatal(err)
	}
	be = openLogstore(t, dir)
	defer be.Close()
	recv.setMode("ok")
	srv = startServer(t, be, v.URL, fastDestRetry)
	srv.flush("o")
	got, _ := recv.got()
	sameRecords(t, got, want)
	objs := v.listObjects(t, "httpbk", "bk/")
	var all []byte
	for _, o := range objs {
		if strings.Contains(o.Key, "failed") {
			t.Fatalf("error output written while RetryOptions had not run out: %s", o.Key)
		}
		all = append(all, o.Body...)
	}
	if string(all) != string(bytes.Join(want, nil)) {
		t.Fatalf("AllData backup holds %d bytes, want %d", len(all), len(bytes.Join(want, nil)))
	}
}
