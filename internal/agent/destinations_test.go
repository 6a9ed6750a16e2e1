package agent

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/eddy-streams/eddy/internal/eddytest"
)

func TestShipsApacheLogToEddyStream(t *testing.T) {
	srv := eddytest.Start(t)
	kc := eddytest.Kinesis(srv)
	ctx := context.Background()
	if _, err := kc.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String("web"), ShardCount: aws.Int32(2)}); err != nil {
		t.Fatal(err)
	}
	eddytest.WaitActive(t, kc, "web")

	dir := t.TempDir()
	const n = 2000
	const format = `10.0.0.%d - - [25/Nov/2026:19:30:00 +0000] "GET /item/%d HTTP/1.1" 200 512 "-" "Go-http-client/1.1"` + "\n"
	var lines []string
	for i := 0; i < n; i++ {
		lines = append(lines, fmt.Sprintf(format, i%250, i))
	}
	writeFile(t, filepath.Join(dir, "access.log"), strings.Join(lines, ""))
	doc := fmt.Sprintf(`{"checkpointFile": %q, "kinesis.endpoint": %q, "kinesis.region": "us-east-1",
		"awsAccessKeyId": "AKIDEXAMPLE", "awsSecretAccessKey": "secret",
		"flows": [{"filePattern": %q, "kinesisStream": "web", "initialPosition": "START_OF_FILE",
		"partitionKeyOption": "DETERMINISTIC", "minTimeBetweenFilePollsMillis": 5, "maxBufferAgeMillis": 1000,
		"dataProcessingOptions": [{"optionName": "LOGTOJSON", "logFormat": "COMBINEDAPACHELOG"}]}]}`,
		filepath.Join(dir, "cp"), srv.URL(), filepath.Join(dir, "access.log"))
	cfg, err := ParseConfig([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	a, err := New(runCtx, cfg, Options{Logger: quietLog()})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Run(runCtx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	r := &eddytest.StreamReader{Client: kc, Stream: "web"}
	eventually(t, "all records in the stream", func() bool { return len(r.Poll(t)) >= n })
	seen := map[string]bool{}
	for _, rec := range r.Poll(t) {
		var m map[string]*string
		if err := json.Unmarshal([]byte(rec), &m); err != nil {
			t.Fatalf("record is not JSON: %q", rec)
		}
		seen[*m["request"]] = true
		if m["ident"] != nil || *m["agent"] != "Go-http-client/1.1" {
			t.Fatalf("bad conversion: %s", rec)
		}
	}
	for i := 0; i < n; i++ {
		if !seen[fmt.Sprintf("GET /item/%d HTTP/1.1", i)] {
			t.Fatalf("request %d missing", i)
		}
	}
	if got := len(r.Poll(t)); got != n {
		t.Errorf("%d records, want %d", got, n)
	}
	if r.Keys() < n/2 {
		t.Errorf("only %d distinct partition keys for %d distinct records (DETERMINISTIC = MD5 of each record)", r.Keys(), n)
	}
}

// fakeFirehose answers PutRecordBatch in the service's JSON 1.1 shape and
// rejects the first entry of every other call.
type fakeFirehose struct {
	mu      sync.Mutex
	calls   int
	got     []string
	streams map[string]int
}

func (f *fakeFirehose) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("X-Amz-Target") != "Firehose_20150804.PutRecordBatch" {
		http.Error(w, `{"__type":"UnknownOperationException"}`, http.StatusBadRequest)
		return
	}
	var in struct {
		DeliveryStreamName string
		Records            []struct{ Data []byte }
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		http.Error(w, `{"__type":"SerializationException"}`, http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	f.streams[in.DeliveryStreamName]++
	type resp struct {
		RecordId     string `json:",omitempty"`
		ErrorCode    string `json:",omitempty"`
		ErrorMessage string `json:",omitempty"`
	}
	out := struct {
		FailedPutCount   int
		Encrypted        bool
		RequestResponses []resp
	}{}
	for i, rec := range in.Records {
		if i == 0 && f.calls%2 == 1 {
			out.FailedPutCount++
			out.RequestResponses = append(out.RequestResponses, resp{ErrorCode: "ServiceUnavailableException", ErrorMessage: "Slow down."})
			continue
		}
		f.got = append(f.got, string(rec.Data))
		out.RequestResponses = append(out.RequestResponses, resp{RecordId: base64.StdEncoding.EncodeToString([]byte(fmt.Sprint(len(f.got))))})
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	_ = json.NewEncoder(w).Encode(out)
}

func TestShipsToFirehose(t *testing.T) {
	fh := &fakeFirehose{streams: map[string]int{}}
	hs := httptest.NewServer(fh)
	defer hs.Close()
	dir := t.TempDir()
	const n = 300
	var b strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "event %03d\n", i)
	}
	writeFile(t, filepath.Join(dir, "app.log"), b.String())
	doc := fmt.Sprintf(`{"checkpointFile": %q, "firehose.endpoint": %q, "awsAccessKeyId": "AKIDEXAMPLE", "awsSecretAccessKey": "secret",
		"flows": [{"filePattern": %q, "deliveryStream": "ds", "initialPosition": "START_OF_FILE",
		"minTimeBetweenFilePollsMillis": 5, "maxBufferAgeMillis": 1000, "maxBufferSizeRecords": 20,
		"aggregatedRecordSizeBytes": 100, "retryInitialBackoffMillis": 1}]}`,
		filepath.Join(dir, "cp"), hs.URL, filepath.Join(dir, "app.log"))
	cfg, err := ParseConfig([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	a, err := New(ctx, cfg, Options{Logger: quietLog()})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	joined := func() string {
		fh.mu.Lock()
		defer fh.mu.Unlock()
		return strings.Join(fh.got, "")
	}
	eventually(t, "all events", func() bool { return strings.Count(joined(), "\n") >= n })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	all := joined()
	for i := 0; i < n; i++ {
		if c := strings.Count(all, fmt.Sprintf("event %03d\n", i)); c != 1 {
			t.Fatalf("event %d delivered %d times", i, c)
		}
	}
	fh.mu.Lock()
	defer fh.mu.Unlock()
	for _, rec := range fh.got {
		if len(rec) > 100 {
			t.Fatalf("aggregated record of %d bytes > aggregatedRecordSizeBytes", len(rec))
		}
	}
	if len(fh.got) >= n/2 {
		t.Errorf("%d Firehose records for %d lines: no aggregation", len(fh.got), n)
	}
	if fh.streams["ds"] == 0 {
		t.Errorf("no call named delivery stream ds: %v", fh.streams)
	}
}
