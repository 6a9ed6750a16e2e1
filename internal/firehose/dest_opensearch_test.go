package firehose_test

import (
	"bufio"
	"bytes"
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
	"github.com/opensearch-project/opensearch-go/v4"
	"github.com/opensearch-project/opensearch-go/v4/opensearchapi"

	"github.com/eddy-streams/eddy/internal/sigv4"
)

// bulkServer is a test receiver implementing OpenSearch's `_bulk` (index
// actions, per-item results with errors:true), document GET and `_count`,
// with basic auth and fault injection. No OpenSearch or Elasticsearch
// server can be installed here (docs/compat/firehose.md).
type bulkServer struct {
	t   testing.TB
	srv *httptest.Server

	mu      sync.Mutex
	down    bool              // answer every request 503
	docs    map[string][]byte // index/id → source
	seen    map[string]int    // index/id → index actions received
	types   map[string]string // index/id → _type of the action
	reject  map[string]int    // documents containing the key get 429 this many times
	auto    int
	actions int

	// With sigv4 set, requests must carry a SigV4 signature for service
	// sigv4Service made with one of sigv4.Keys (checked by Eddy's own
	// verifier, internal/sigv4, independent of the SDK's signer), and are
	// refused with 403 otherwise, as an IAM-protected domain does; the
	// credentials of accepted requests are kept in signed.
	sigv4        *sigv4.Verifier
	sigv4Service string
	signed       []sigv4.Credential
	refused      int
}

func newBulkServer(t testing.TB) *bulkServer {
	b := &bulkServer{t: t, docs: map[string][]byte{}, seen: map[string]int{}, reject: map[string]int{}, types: map[string]string{}}
	b.srv = httptest.NewServer(http.HandlerFunc(b.serve))
	t.Cleanup(b.srv.Close)
	return b
}

func (b *bulkServer) serve(w http.ResponseWriter, r *http.Request) {
	if b.sigv4 != nil {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		cred, err := b.sigv4.VerifyService(r, body, b.sigv4Service)
		b.mu.Lock()
		if err != nil {
			b.refused++
			b.mu.Unlock()
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(403)
			fmt.Fprintf(w, `{"message":%q}`, err.Error())
			return
		}
		b.signed = append(b.signed, cred)
		b.mu.Unlock()
	} else if u, p, ok := r.BasicAuth(); !ok || u != "fh" || p != "pw" {
		w.WriteHeader(401)
		io.WriteString(w, `{"error":{"type":"security_exception","reason":"missing authentication credentials"},"status":401}`)
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if b.down {
		w.WriteHeader(503)
		io.WriteString(w, `{"error":{"type":"cluster_block_exception","reason":"blocked"},"status":503}`)
		return
	}
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	switch {
	case r.Method == http.MethodPost && parts[len(parts)-1] == "_bulk":
		b.bulk(w, r, parts)
	case r.Method == http.MethodGet && len(parts) == 3 && parts[1] == "_doc":
		src, ok := b.docs[parts[0]+"/"+parts[2]]
		if !ok {
			w.WriteHeader(404)
			fmt.Fprintf(w, `{"_index":%q,"_id":%q,"found":false}`, parts[0], parts[2])
			return
		}
		fmt.Fprintf(w, `{"_index":%q,"_id":%q,"_version":1,"found":true,"_source":%s}`, parts[0], parts[2], src)
	default:
		w.WriteHeader(400)
		fmt.Fprintf(w, `{"error":{"type":"illegal_argument_exception","reason":"unsupported %s %s"},"status":400}`, r.Method, r.URL.Path)
	}
}

func (b *bulkServer) bulk(w http.ResponseWriter, r *http.Request, parts []string) {
	sc := bufio.NewScanner(r.Body)
	sc.Buffer(nil, 64<<20)
	var items []string
	errs := false
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var action map[string]struct {
			Index string `json:"_index"`
			ID    string `json:"_id"`
			Type  string `json:"_type"`
		}
		if err := json.Unmarshal(sc.Bytes(), &action); err != nil || len(action) != 1 {
			w.WriteHeader(400)
			fmt.Fprintf(w, `{"error":{"type":"illegal_argument_exception","reason":"Malformed action/metadata line"},"status":400}`)
			return
		}
		var op string
		for k := range action {
			op = k
		}
		a := action[op]
		if a.Index == "" && len(parts) == 2 {
			a.Index = parts[0]
		}
		if op != "index" && op != "create" || !sc.Scan() {
			w.WriteHeader(400)
			fmt.Fprintf(w, `{"error":{"type":"illegal_argument_exception","reason":"unsupported action %s"},"status":400}`, op)
			return
		}
		doc := append([]byte(nil), sc.Bytes()...)
		b.actions++
		if a.ID == "" {
			b.auto++
			a.ID = fmt.Sprintf("auto-%d", b.auto)
		}
		key := a.Index + "/" + a.ID
		b.seen[key]++
		b.types[key] = a.Type
		status, errJSON := 201, ""
		var src map[string]any
		for k, n := range b.reject {
			if bytes.Contains(doc, []byte(k)) && b.seen[key] <= n {
				status, errJSON = 429, `{"type":"es_rejected_execution_exception","reason":"rejected execution"}`
			}
		}
		if json.Unmarshal(doc, &src) != nil || src["bad"] != nil {
			status, errJSON = 400, `{"type":"mapper_parsing_exception","reason":"failed to parse field [bad]"}`
		}
		if status == 201 {
			b.docs[key] = doc
			items = append(items, fmt.Sprintf(`{%q:{"_index":%q,"_id":%q,"_version":1,"result":"created","status":201}}`, op, a.Index, a.ID))
		} else {
			errs = true
			items = append(items, fmt.Sprintf(`{%q:{"_index":%q,"_id":%q,"status":%d,"error":%s}}`, op, a.Index, a.ID, status, errJSON))
		}
	}
	fmt.Fprintf(w, `{"took":1,"errors":%t,"items":[%s]}`, errs, strings.Join(items, ","))
}

func (b *bulkServer) setDown(d bool) { b.mu.Lock(); b.down = d; b.mu.Unlock() }

func (b *bulkServer) snapshot() (docs map[string][]byte, seen map[string]int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	docs, seen = map[string][]byte{}, map[string]int{}
	for k, v := range b.docs {
		docs[k] = v
	}
	for k, v := range b.seen {
		seen[k] = v
	}
	return docs, seen
}

func (b *bulkServer) client(t testing.TB) *opensearchapi.Client {
	c, err := opensearchapi.NewClient(opensearchapi.Config{Client: opensearch.Config{Addresses: []string{b.srv.URL}, Username: "fh", Password: "pw"}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func osStream(t testing.TB, c *fh.Client, name, endpoint string, retry int32, interval int32) {
	t.Helper()
	_, err := c.CreateDeliveryStream(context.Background(), &fh.CreateDeliveryStreamInput{DeliveryStreamName: aws.String(name),
		AmazonopensearchserviceDestinationConfiguration: &fhtypes.AmazonopensearchserviceDestinationConfiguration{
			ClusterEndpoint: aws.String(endpoint), IndexName: aws.String("logs"), RoleARN: aws.String("arn:aws:iam::000000000000:role/x"),
			IndexRotationPeriod: fhtypes.AmazonopensearchserviceIndexRotationPeriodOneDay,
			BufferingHints:      &fhtypes.AmazonopensearchserviceBufferingHints{SizeInMBs: aws.Int32(1), IntervalInSeconds: aws.Int32(interval)},
			RetryOptions:        &fhtypes.AmazonopensearchserviceRetryOptions{DurationInSeconds: aws.Int32(retry)},
			S3Configuration: &fhtypes.S3DestinationConfiguration{BucketARN: aws.String("arn:aws:s3:::osbk"),
				RoleARN: aws.String("arn:aws:iam::000000000000:role/x"), Prefix: aws.String("os/")}}})
	if err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
}

// TestOpenSearchBulk: the test receiver speaks real _bulk (driven here by
// opensearch-go too); Eddy indexes each record once under the rotated index
// with stable ids, resends only the items that got 429, and writes
// permanently failed documents to S3 with AWS's fields.
func TestOpenSearchBulk(t *testing.T) {
	recv := newBulkServer(t)
	osc := recv.client(t)
	ctx := context.Background()
	if _, err := osc.Bulk(ctx, opensearchapi.BulkReq{Body: strings.NewReader("{\"index\":{\"_index\":\"probe\",\"_id\":\"1\"}}\n{\"a\":1}\n")}); err != nil {
		t.Fatalf("opensearch-go bulk against the test receiver: %v", err)
	}
	if g, err := osc.Document.Get(ctx, opensearchapi.DocumentGetReq{Index: "probe", DocumentID: "1"}); err != nil || string(g.Source) != `{"a":1}` {
		t.Fatalf("opensearch-go get: %v", err)
	}

	v := startVersity(t, "osbk")
	srv := startServer(t, nil, v.URL, fastDestRetry)
	c := srv.Firehose()
	endpoint := strings.Replace(recv.srv.URL, "http://", "http://fh:pw@", 1)
	osStream(t, c, "os", endpoint, 60, 60)
	recv.mu.Lock()
	recv.reject["slow"] = 2 // 429 twice, then indexed
	recv.mu.Unlock()
	var in [][]byte
	for i := 0; i < 40; i++ {
		in = append(in, []byte(fmt.Sprintf(`{"n":%d,"msg":"hello %d"}`, i, i)))
	}
	in = append(in, []byte(`{"n":100,"msg":"slow"}`), []byte(`{"n":101,"bad":true}`), []byte(`not json`))
	putBatch(t, c, "os", in)
	srv.flush("os")
	index := "logs-" + time.Now().UTC().Format("2006-01-02")
	docs, seen := recv.snapshot()
	if len(docs) != 42 { // 41 + the probe
		t.Fatalf("%d documents indexed, want 41", len(docs)-1)
	}
	for key, n := range seen {
		if strings.HasPrefix(key, "probe/") {
			continue
		}
		if !strings.HasPrefix(key, index+"/") {
			t.Fatalf("document %s outside the rotated index %s", key, index)
		}
		id := strings.TrimPrefix(key, index+"/")
		src := docs[key]
		switch {
		case bytes.Contains(src, []byte("slow")):
			if n != 3 {
				t.Fatalf("the 429 document was sent %d times, want 3", n)
			}
		case src == nil: // the mapping failure
			if n != 1 {
				t.Fatalf("a permanently failed document was resent %d times", n)
			}
		default:
			if n != 1 {
				t.Fatalf("document %s sent %d times: only failed items may be resent", key, n)
			}
			g, err := osc.Document.Get(ctx, opensearchapi.DocumentGetReq{Index: index, DocumentID: id})
			if err != nil || !g.Found || string(g.Source) != string(src) {
				t.Fatalf("opensearch-go read back %s: %v", id, err)
			}
		}
	}
	failed := errorDocs(t, v, "osbk", "os/AmazonOpenSearchService-failed/")
	if len(failed) != 2 {
		t.Fatalf("%d failed documents in S3, want 2", len(failed))
	}
	codes := map[string]map[string]any{}
	for _, d := range failed {
		raw, _ := base64.StdEncoding.DecodeString(d["rawData"].(string))
		codes[string(raw)] = d
	}
	bad := codes[`{"n":101,"bad":true}`]
	if bad == nil || bad["errorCode"] != "400" || !strings.Contains(bad["errorMessage"].(string), "mapper_parsing_exception") ||
		bad["esIndexName"] != index || bad["esDocumentId"] == nil || bad["attemptsMade"] == nil {
		t.Fatalf("mapping failure record: %v", bad)
	}
	if nj := codes["not json"]; nj == nil || nj["errorCode"] != "OS.MalformedDocument" {
		t.Fatalf("non-JSON record: %v", nj)
	}

	d, err := c.DescribeDeliveryStream(ctx, &fh.DescribeDeliveryStreamInput{DeliveryStreamName: aws.String("os")})
	if err != nil {
		t.Fatal(err)
	}
	od := d.DeliveryStreamDescription.Destinations[0].AmazonopensearchserviceDestinationDescription
	if od == nil || aws.ToString(od.IndexName) != "logs" || od.IndexRotationPeriod != fhtypes.AmazonopensearchserviceIndexRotationPeriodOneDay ||
		od.S3BackupMode != fhtypes.AmazonopensearchserviceS3BackupModeFailedDocumentsOnly || od.DocumentIdOptions == nil ||
		od.DocumentIdOptions.DefaultDocumentIdFormat != fhtypes.DefaultDocumentIdFormatFirehoseDefault || od.S3DestinationDescription == nil {
		t.Fatalf("description: %+v", od)
	}
	if got := metricValue(t, srv.fh, "eddy_firehose_delivery_to_amazon_open_search_service_records_total", "os"); got != "41" {
		t.Fatalf("DeliveryToAmazonOpenSearchService.Records = %s", got)
	}
	// A rotation period outside the enum is a model error (the SDK checks required members itself).
	_, err = c.CreateDeliveryStream(ctx, &fh.CreateDeliveryStreamInput{DeliveryStreamName: aws.String("norole"),
		AmazonopensearchserviceDestinationConfiguration: &fhtypes.AmazonopensearchserviceDestinationConfiguration{
			ClusterEndpoint: aws.String(endpoint), IndexName: aws.String("x"), IndexRotationPeriod: "OneYear", RoleARN: aws.String("arn:aws:iam::000000000000:role/x"),
			S3Configuration: &fhtypes.S3DestinationConfiguration{BucketARN: aws.String("arn:aws:s3:::osbk"), RoleARN: aws.String("arn:aws:iam::000000000000:role/x")}}})
	if err == nil || !strings.Contains(err.Error(), "ValidationException") || !strings.Contains(err.Error(), "amazonopensearchserviceDestinationConfiguration.indexRotationPeriod") {
		t.Fatalf("bad rotation: %v", err)
	}
}

// TestOpenSearchOutage: a cluster down past RetryOptions sends the documents
// to S3 (errorCode 503); one down within it delivers them when it returns.
func TestOpenSearchOutage(t *testing.T) {
	recv := newBulkServer(t)
	v := startVersity(t, "osbk")
	srv := startServer(t, nil, v.URL, fastDestRetry)
	c := srv.Firehose()
	endpoint := strings.Replace(recv.srv.URL, "http://", "http://fh:pw@", 1)
	osStream(t, c, "short", endpoint, 1, 60)
	osStream(t, c, "long", endpoint, 7200, 0)
	recv.setDown(true)
	putBatch(t, c, "short", [][]byte{[]byte(`{"a":1}`), []byte(`{"a":2}`)})
	srv.flush("short")
	failed := errorDocs(t, v, "osbk", "os/AmazonOpenSearchService-failed/")
	if len(failed) != 2 || failed[0]["errorCode"] != "503" {
		t.Fatalf("after the retry duration: %v", failed)
	}
	putBatch(t, c, "long", [][]byte{[]byte(`{"b":1}`), []byte(`{"b":2}`)})
	waitFor(t, 10*time.Second, "failing attempts", func() bool {
		d, _ := c.DescribeDeliveryStream(context.Background(), &fh.DescribeDeliveryStreamInput{DeliveryStreamName: aws.String("long")})
		return d != nil && d.DeliveryStreamDescription.FailureDescription != nil
	})
	recv.setDown(false)
	srv.flush("long")
	docs, _ := recv.snapshot()
	if len(docs) != 2 {
		t.Fatalf("%d documents after the cluster returned, want 2", len(docs))
	}
	if n := len(errorDocs(t, v, "osbk", "os/AmazonOpenSearchService-failed/")); n != 2 {
		t.Fatalf("%d failed documents, want the 2 of the short stream", n)
	}
}

// TestElasticsearchTypeName: the Elasticsearch flavour sends TypeName as
// _type, rotates by the hour, counts DeliveryToElasticsearch and writes its
// failures under elasticsearch-failed/ with esTypeName.
func TestElasticsearchTypeName(t *testing.T) {
	recv := newBulkServer(t)
	v := startVersity(t, "esbk")
	srv := startServer(t, nil, v.URL, fastDestRetry)
	c := srv.Firehose()
	_, err := c.CreateDeliveryStream(context.Background(), &fh.CreateDeliveryStreamInput{DeliveryStreamName: aws.String("es"),
		ElasticsearchDestinationConfiguration: &fhtypes.ElasticsearchDestinationConfiguration{
			ClusterEndpoint: aws.String(strings.Replace(recv.srv.URL, "http://", "http://fh:pw@", 1)), IndexName: aws.String("ev"), TypeName: aws.String("log"),
			RoleARN: aws.String("arn:aws:iam::000000000000:role/x"), IndexRotationPeriod: fhtypes.ElasticsearchIndexRotationPeriodOneHour,
			RetryOptions:    &fhtypes.ElasticsearchRetryOptions{DurationInSeconds: aws.Int32(0)},
			S3Configuration: &fhtypes.S3DestinationConfiguration{BucketARN: aws.String("arn:aws:s3:::esbk"), RoleARN: aws.String("arn:aws:iam::000000000000:role/x")}}})
	if err != nil {
		t.Fatal(err)
	}
	before := time.Now().UTC()
	putBatch(t, c, "es", [][]byte{[]byte(`{"ok":1}`), []byte(`{"bad":1}`)})
	srv.flush("es")
	_, seen := recv.snapshot()
	recv.mu.Lock()
	defer recv.mu.Unlock()
	if len(seen) != 2 {
		t.Fatalf("%d actions", len(seen))
	}
	for key := range seen {
		if recv.types[key] != "log" || !strings.HasPrefix(key, "ev-"+before.Format("2006-01-02-15")) && !strings.HasPrefix(key, "ev-"+time.Now().UTC().Format("2006-01-02-15")) {
			t.Fatalf("action %s with _type %q", key, recv.types[key])
		}
	}
	failed := errorDocs(t, v, "esbk", "elasticsearch-failed/")
	if len(failed) != 1 || failed[0]["esTypeName"] != "log" || failed[0]["errorCode"] != "400" {
		t.Fatalf("failed documents: %v", failed)
	}
	if got := metricValue(t, srv.fh, "eddy_firehose_delivery_to_elasticsearch_records_total", "es"); got != "1" {
		t.Fatalf("DeliveryToElasticsearch.Records = %s", got)
	}
}

// TestOpenSearchServerless: CollectionEndpoint, no document ids (the
// collection makes them), no rotation.
func TestOpenSearchServerless(t *testing.T) {
	recv := newBulkServer(t)
	v := startVersity(t, "aossbk")
	srv := startServer(t, nil, v.URL, fastDestRetry)
	c := srv.Firehose()
	_, err := c.CreateDeliveryStream(context.Background(), &fh.CreateDeliveryStreamInput{DeliveryStreamName: aws.String("aoss"),
		AmazonOpenSearchServerlessDestinationConfiguration: &fhtypes.AmazonOpenSearchServerlessDestinationConfiguration{
			CollectionEndpoint: aws.String(strings.Replace(recv.srv.URL, "http://", "http://fh:pw@", 1)), IndexName: aws.String("col"),
			RoleARN:         aws.String("arn:aws:iam::000000000000:role/x"),
			S3Configuration: &fhtypes.S3DestinationConfiguration{BucketARN: aws.String("arn:aws:s3:::aossbk"), RoleARN: aws.String("arn:aws:iam::000000000000:role/x")}}})
	if err != nil {
		t.Fatal(err)
	}
	putBatch(t, c, "aoss", [][]byte{[]byte(`{"a":1}`), []byte(`{"a":2}`)})
	srv.flush("aoss")
	docs, _ := recv.snapshot()
	if len(docs) != 2 || docs["col/auto-1"] == nil || docs["col/auto-2"] == nil {
		t.Fatalf("documents: %v", docs)
	}
	d, err := c.DescribeDeliveryStream(context.Background(), &fh.DescribeDeliveryStreamInput{DeliveryStreamName: aws.String("aoss")})
	if err != nil {
		t.Fatal(err)
	}
	sd := d.DeliveryStreamDescription.Destinations[0].AmazonOpenSearchServerlessDestinationDescription
	if sd == nil || aws.ToString(sd.IndexName) != "col" || sd.S3BackupMode != fhtypes.AmazonOpenSearchServerlessS3BackupModeFailedDocumentsOnly {
		t.Fatalf("description: %+v", sd)
	}
}
