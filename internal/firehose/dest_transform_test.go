package firehose_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	awslambda "github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	fh "github.com/aws/aws-sdk-go-v2/service/firehose"
	fhtypes "github.com/aws/aws-sdk-go-v2/service/firehose/types"
	"github.com/opensearch-project/opensearch-go/v4/opensearchapi"

	"github.com/eddy-streams/eddy/internal/firehose"
	"github.com/eddy-streams/eddy/internal/lambda"
)

// goFunctions runs aws-lambda-go handlers in process behind Firehose's
// lambda.Invoker (what Eddy's Lambda service is to Firehose): the payload is
// decoded and the reply encoded by aws-lambda-go itself, and an error the
// handler returns is a function error, as the Runtime API reports it.
type goFunctions struct {
	mu      sync.Mutex
	fns     map[string]awslambda.Handler
	calls   map[string]int
	records map[string][]int // per function, the record count of each invocation
	sizes   map[string][]int // per function, the data bytes of each invocation
}

func newGoFunctions() *goFunctions {
	return &goFunctions{fns: map[string]awslambda.Handler{}, calls: map[string]int{}, records: map[string][]int{}, sizes: map[string][]int{}}
}

func (g *goFunctions) add(arn string, handler any) { g.fns[arn] = awslambda.NewHandler(handler) }

func (g *goFunctions) Invoke(ctx context.Context, account, region, function string, payload []byte) (lambda.Result, error) {
	var ev events.KinesisFirehoseEvent
	_ = json.Unmarshal(payload, &ev)
	size := 0
	for _, r := range ev.Records {
		size += len(r.Data)
	}
	g.mu.Lock()
	g.calls[function]++
	g.records[function] = append(g.records[function], len(ev.Records))
	g.sizes[function] = append(g.sizes[function], size)
	h, ok := g.fns[function]
	g.mu.Unlock()
	if !ok { // counted: an invocation of a missing function is an attempt too
		return lambda.Result{}, fmt.Errorf("function not found: %s", function)
	}
	out, err := h.Invoke(ctx, payload)
	if err != nil {
		b, _ := json.Marshal(map[string]string{"errorMessage": err.Error(), "errorType": "errorString"})
		return lambda.Result{Payload: b, FunctionError: "Unhandled"}, nil
	}
	return lambda.Result{Payload: out}, nil
}

// named adds a handler under a function name of the test account and
// returns its ARN.
func (g *goFunctions) named(name string, handler any) string {
	arn := "arn:aws:lambda:us-east-1:000000000000:function:" + name
	g.add(arn, handler)
	return arn
}

// callsOf is the record count of each invocation of arn.
func (g *goFunctions) callsOf(arn string) []int {
	_, records, _ := g.stats(arn)
	return records
}

func (g *goFunctions) stats(fn string) (calls int, records, sizes []int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.calls[fn], append([]int(nil), g.records[fn]...), append([]int(nil), g.sizes[fn]...)
}

// transformer is a Firehose transformation handler: records whose data
// starts with "drop" are Dropped, "fail" ProcessingFailed, and the others
// are Ok with data f(data).
func transformer(f func([]byte) []byte) func(context.Context, events.KinesisFirehoseEvent) (events.KinesisFirehoseResponse, error) {
	return func(_ context.Context, ev events.KinesisFirehoseEvent) (events.KinesisFirehoseResponse, error) {
		var out events.KinesisFirehoseResponse
		for _, r := range ev.Records {
			res := events.KinesisFirehoseResponseRecord{RecordID: r.RecordID, Result: events.KinesisFirehoseTransformedStateOk, Data: f(r.Data)}
			switch {
			case bytes.HasPrefix(r.Data, []byte("drop")):
				res = events.KinesisFirehoseResponseRecord{RecordID: r.RecordID, Result: events.KinesisFirehoseTransformedStateDropped}
			case bytes.HasPrefix(r.Data, []byte("fail")):
				res = events.KinesisFirehoseResponseRecord{RecordID: r.RecordID, Result: events.KinesisFirehoseTransformedStateProcessingFailed, Data: r.Data}
			}
			out.Records = append(out.Records, res)
		}
		return out, nil
	}
}

func lambdaProcessing(arn string, params ...string) *fhtypes.ProcessingConfiguration {
	p := []fhtypes.ProcessorParameter{{ParameterName: "LambdaArn", ParameterValue: aws.String(arn)}}
	for i := 0; i+1 < len(params); i += 2 {
		p = append(p, fhtypes.ProcessorParameter{ParameterName: fhtypes.ProcessorParameterName(params[i]), ParameterValue: aws.String(params[i+1])})
	}
	return &fhtypes.ProcessingConfiguration{Enabled: aws.Bool(true), Processors: []fhtypes.Processor{{Type: fhtypes.ProcessorTypeLambda, Parameters: p}}}
}

// processingFailed reads the processing-failed error records under prefix
// and checks their fields; it returns their rawData.
func processingFailed(t *testing.T, v *versity, bucket, prefix, arn, code string) []string {
	t.Helper()
	var raw []string
	for _, d := range errorDocs(t, v, bucket, prefix) {
		b, _ := base64.StdEncoding.DecodeString(fmt.Sprint(d["rawData"]))
		if d["errorCode"] != code || d["lambdaArn"] != arn || d["attemptsMade"] == nil || d["arrivalTimestamp"] == nil ||
			d["attemptEndingTimestamp"] == nil || d["errorMessage"] == nil {
			t.Fatalf("processing-failed record %v", d)
		}
		raw = append(raw, string(b))
	}
	sort.Strings(raw)
	return raw
}

const fnARN = "arn:aws:lambda:us-east-1:000000000000:function:"

// TestTransformHTTPEndpoint: the Lambda processor runs before the HTTP
// endpoint's batching (several invocations of at most BufferSizeInMBs, one
// request); Ok records arrive transformed and in order, Dropped ones nowhere,
// ProcessingFailed ones under <Prefix>processing-failed/ with AWS's fields;
// AllData backs up the source records; the metrics count what was delivered.
// A function that always errors sends the whole buffer to processing-failed
// after 1+NumberOfRetries attempts and nothing to the endpoint.
func TestTransformHTTPEndpoint(t *testing.T) {
	fns := newGoFunctions()
	fns.add(fnARN+"upper", transformer(bytes.ToUpper))
	fns.add(fnARN+"broken", func(context.Context, events.KinesisFirehoseEvent) (events.KinesisFirehoseResponse, error) {
		return events.KinesisFirehoseResponse{}, fmt.Errorf("boom")
	})
	recv := newHTTPReceiver(t)
	v := startVersity(t, "httpbk")
	srv := startServer(t, nil, v.URL, fastDestRetry, func(o *firehose.Options) { o.Lambda = fns })
	c := srv.Firehose()
	ctx := context.Background()
	create := func(name, fn string, params ...string) {
		t.Helper()
		_, err := c.CreateDeliveryStream(ctx, &fh.CreateDeliveryStreamInput{DeliveryStreamName: aws.String(name),
			HttpEndpointDestinationConfiguration: &fhtypes.HttpEndpointDestinationConfiguration{
				EndpointConfiguration:   &fhtypes.HttpEndpointConfiguration{Url: aws.String(recv.srv.URL), AccessKey: aws.String("sekret")},
				BufferingHints:          &fhtypes.HttpEndpointBufferingHints{SizeInMBs: aws.Int32(5), IntervalInSeconds: aws.Int32(60)},
				ProcessingConfiguration: lambdaProcessing(fnARN+fn, params...),
				S3BackupMode:            fhtypes.HttpEndpointS3BackupModeAllData,
				S3Configuration: &fhtypes.S3DestinationConfiguration{BucketARN: aws.String("arn:aws:s3:::httpbk"),
					RoleARN: aws.String("arn:aws:iam::000000000000:role/x"), Prefix: aws.String(name + "/")}}})
		if err != nil {
			t.Fatalf("create %s: %v", name, err)
		}
	}
	create("tx", "upper", "BufferSizeInMBs", "0.2")
	pad := strings.Repeat("p", 15000)
	var in [][]byte
	var want [][]byte
	for i := 0; i < 30; i++ {
		kind := []string{"rec", "drop", "fail"}[i%3]
		r := []byte(fmt.Sprintf("%s-%02d-%s", kind, i, pad))
		in = append(in, r)
		if kind == "rec" {
			want = append(want, bytes.ToUpper(r))
		}
	}
	putBatch(t, c, "tx", in)
	srv.flush("tx")
	got, reqs := recv.got()
	sameRecords(t, got, want)
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want one batch of the transformed buffer", len(reqs))
	}
	calls, _, sizes := fns.stats(fnARN + "upper")
	if calls < 2 {
		t.Fatalf("%d invocations for 450 KB at BufferSizeInMBs 0.2", calls)
	}
	for _, s := range sizes {
		if float64(s) > 0.2*(1<<20) {
			t.Fatalf("an invocation carried %d bytes, over BufferSizeInMBs", s)
		}
	}
	failed := processingFailed(t, v, "httpbk", "tx/processing-failed/", fnARN+"upper", "Lambda.ProcessingFailedStatus")
	if len(failed) != 10 || !strings.HasPrefix(failed[0], "fail-02-") {
		t.Fatalf("processing-failed records %d: %.20q", len(failed), failed)
	}
	var backup []byte
	for _, o := range v.listObjects(t, "httpbk", "tx/") {
		if strings.Contains(o.Key, "processing-failed") {
			continue
		}
		backup = append(backup, o.Body...)
	}
	if string(backup) != string(bytes.Join(in, nil)) {
		t.Fatalf("AllData backup holds %d bytes, want the %d bytes of the source records", len(backup), len(bytes.Join(in, nil)))
	}
	if n := metricValue(t, srv.fh, "eddy_firehose_delivery_to_http_endpoint_records_total", "tx"); n != "10" {
		t.Fatalf("DeliveryToHttpEndpoint.Records = %s, want the 10 Ok records", n)
	}
	if n := metricValue(t, srv.fh, "eddy_firehose_delivery_to_s3_error_output_records_total", "tx"); n != "10" {
		t.Fatalf("error output records = %s, want the 10 processing failures", n)
	}
	if n := metricValue(t, srv.fh, "eddy_firehose_backup_to_s3_records_total", "tx"); n != "30" {
		t.Fatalf("BackupToS3.Records = %s, want the 30 source records", n)
	}

	create("broken", "broken", "NumberOfRetries", "2")
	putBatch(t, c, "broken", [][]byte{[]byte("a"), []byte("b")})
	srv.flush("broken")
	if got, _ := recv.got(); len(got) != 10 {
		t.Fatalf("the endpoint received %d records, want no more after the failed transformation", len(got))
	}
	if calls, _, _ := fns.stats(fnARN + "broken"); calls != 3 {
		t.Fatalf("%d invocations, want 1 + NumberOfRetries 2", calls)
	}
	failed = processingFailed(t, v, "httpbk", "broken/processing-failed/", fnARN+"broken", "Lambda.FunctionError")
	if len(failed) != 2 || failed[0] != "a" || failed[1] != "b" {
		t.Fatalf("processing-failed records %q", failed)
	}
}

// TestTransformOpenSearch: text records become JSON documents through the
// function; document ids stay those of the source records' positions, a
// transformed document the cluster rejects goes to
// AmazonOpenSearchService-failed with the transformed data, and ErrorOutputPrefix
// receives the processing failures.
func TestTransformOpenSearch(t *testing.T) {
	fns := newGoFunctions()
	fns.add(fnARN+"tojson", transformer(func(b []byte) []byte {
		k, val, _ := strings.Cut(string(b), "=")
		return []byte(fmt.Sprintf(`{%q:%q}`, k, val))
	}))
	recv := newBulkServer(t)
	v := startVersity(t, "osbk")
	srv := startServer(t, nil, v.URL, fastDestRetry, func(o *firehose.Options) { o.Lambda = fns })
	c := srv.Firehose()
	ctx := context.Background()
	_, err := c.CreateDeliveryStream(ctx, &fh.CreateDeliveryStreamInput{DeliveryStreamName: aws.String("ostx"),
		AmazonopensearchserviceDestinationConfiguration: &fhtypes.AmazonopensearchserviceDestinationConfiguration{
			ClusterEndpoint: aws.String(strings.Replace(recv.srv.URL, "http://", "http://fh:pw@", 1)), IndexName: aws.String("kv"),
			RoleARN: aws.String("arn:aws:iam::000000000000:role/x"), IndexRotationPeriod: fhtypes.AmazonopensearchserviceIndexRotationPeriodNoRotation,
			RetryOptions:            &fhtypes.AmazonopensearchserviceRetryOptions{DurationInSeconds: aws.Int32(0)},
			ProcessingConfiguration: lambdaProcessing(fnARN + "tojson"),
			S3Configuration: &fhtypes.S3DestinationConfiguration{BucketARN: aws.String("arn:aws:s3:::osbk"),
				RoleARN: aws.String("arn:aws:iam::000000000000:role/x"), Prefix: aws.String("os/"),
				ErrorOutputPrefix: aws.String("errors/!{firehose:error-output-type}/")}}})
	if err != nil {
		t.Fatal(err)
	}
	putBatch(t, c, "ostx", [][]byte{[]byte("a=1"), []byte("drop=2"), []byte("b=3"), []byte("fail=4"), []byte("bad=5")})
	srv.flush("ostx")
	docs, _ := recv.snapshot()
	if len(docs) != 2 {
		t.Fatalf("documents %v", docs)
	}
	d, _ := c.DescribeDeliveryStream(ctx, &fh.DescribeDeliveryStreamInput{DeliveryStreamName: aws.String("ostx")})
	if p := d.DeliveryStreamDescription.Destinations[0].AmazonopensearchserviceDestinationDescription.ProcessingConfiguration; p == nil || !aws.ToBool(p.Enabled) || len(p.Processors) != 1 {
		t.Fatalf("described ProcessingConfiguration %+v", p)
	}
	// The ids of the two documents are those of records 0 and 2 of the buffer.
	ids := map[string]string{}
	for key, src := range docs {
		ids[string(src)] = strings.TrimPrefix(key, "kv/")
	}
	a, b := ids[`{"a":"1"}`], ids[`{"b":"3"}`]
	if !strings.HasSuffix(a, ".0") || !strings.HasSuffix(b, ".2") || strings.TrimSuffix(a, ".0") != strings.TrimSuffix(b, ".2") {
		t.Fatalf("document ids %v", ids)
	}
	g, err := recv.client(t).Document.Get(ctx, opensearchapi.DocumentGetReq{Index: "kv", DocumentID: b})
	if err != nil || string(g.Source) != `{"b":"3"}` {
		t.Fatalf("opensearch-go read back: %v", err)
	}
	if raw := processingFailed(t, v, "osbk", "errors/processing-failed/", fnARN+"tojson", "Lambda.ProcessingFailedStatus"); len(raw) != 1 || raw[0] != "fail=4" {
		t.Fatalf("processing-failed %q", raw)
	}
	failed := errorDocs(t, v, "osbk", "errors/AmazonOpenSearchService-failed/")
	if len(failed) != 1 || failed[0]["errorCode"] != "400" || !strings.HasSuffix(fmt.Sprint(failed[0]["esDocumentId"]), ".4") {
		t.Fatalf("failed documents %v", failed)
	}
	if raw, _ := base64.StdEncoding.DecodeString(failed[0]["rawData"].(string)); string(raw) != `{"bad":"5"}` {
		t.Fatalf("failed document rawData %q, want the transformed record", raw)
	}
	if n := metricValue(t, srv.fh, "eddy_firehose_delivery_to_amazon_open_search_service_records_total", "ostx"); n != "2" {
		t.Fatalf("DeliveryToAmazonOpenSearchService.Records = %s", n)
	}
}

// TestTransformSplunkEvent: on the Event endpoint the function makes HEC
// events of raw lines; a record it returns that is not a HEC event goes to
// splunk-failed as Splunk.InvalidDataFormat without spoiling the batch; the
// Lambda buffer defaults to 256 KB for Splunk.
func TestTransformSplunkEvent(t *testing.T) {
	fns := newGoFunctions()
	fns.add(fnARN+"hec", transformer(func(b []byte) []byte {
		if bytes.HasPrefix(b, []byte("plain")) {
			return b // not an event
		}
		ev, _ := json.Marshal(map[string]any{"event": string(b[:8]), "sourcetype": "fh", "fields": map[string]int{"len": len(b)}})
		return ev
	}))
	hec := newHECServer(t)
	v := startVersity(t, "splbk")
	srv := startServer(t, nil, v.URL, fastDestRetry, func(o *firehose.Options) { o.Lambda = fns })
	c := srv.Firehose()
	_, err := c.CreateDeliveryStream(context.Background(), &fh.CreateDeliveryStreamInput{DeliveryStreamName: aws.String("sptx"),
		SplunkDestinationConfiguration: &fhtypes.SplunkDestinationConfiguration{
			HECEndpoint: aws.String(hec.srv.URL), HECEndpointType: fhtypes.HECEndpointTypeEvent, HECToken: aws.String("tok"),
			BufferingHints:          &fhtypes.SplunkBufferingHints{SizeInMBs: aws.Int32(5), IntervalInSeconds: aws.Int32(60)},
			RetryOptions:            &fhtypes.SplunkRetryOptions{DurationInSeconds: aws.Int32(60)},
			ProcessingConfiguration: lambdaProcessing(fnARN + "hec"),
			S3Configuration: &fhtypes.S3DestinationConfiguration{BucketARN: aws.String("arn:aws:s3:::splbk"),
				RoleARN: aws.String("arn:aws:iam::000000000000:role/x"), Prefix: aws.String("sp/")}}})
	if err != nil {
		t.Fatal(err)
	}
	pad := strings.Repeat("z", 20000)
	var in [][]byte
	for i := 0; i < 24; i++ {
		kind := []string{"line", "line", "drop", "plain"}[i%4]
		in = append(in, []byte(fmt.Sprintf("%s%04d%s", kind, i, pad)))
	}
	putBatch(t, c, "sptx", in)
	srv.flush("sptx")
	hec.mu.Lock()
	events := append([]json.RawMessage(nil), hec.events...)
	hec.mu.Unlock()
	if len(events) != 12 {
		t.Fatalf("%d events indexed, want the 12 lines", len(events))
	}
	var first struct {
		Event  string
		Fields map[string]int
	}
	if err := json.Unmarshal(events[0], &first); err != nil || first.Event != "line0000" || first.Fields["len"] != 20008 {
		t.Fatalf("event 0: %s", events[0])
	}
	failed := errorDocs(t, v, "splbk", "sp/splunk-failed/")
	if len(failed) != 6 || failed[0]["errorCode"] != "Splunk.InvalidDataFormat" || failed[0]["EventId"] == nil {
		t.Fatalf("splunk-failed records: %d %v", len(failed), failed[:min(1, len(failed))])
	}
	calls, _, sizes := fns.stats(fnARN + "hec")
	if calls < 2 {
		t.Fatalf("%d invocations for 480 KB with Splunk's 256 KB Lambda buffer", calls)
	}
	for _, s := range sizes {
		if s > 256<<10 {
			t.Fatalf("an invocation carried %d bytes", s)
		}
	}
	if n := metricValue(t, srv.fh, "eddy_firehose_delivery_to_splunk_records_total", "sptx"); n != "12" {
		t.Fatalf("DeliveryToSplunk.Records = %s", n)
	}
}

// TestTransformProcessorRules: the processors each destination takes.
func TestTransformProcessorRules(t *testing.T) {
	recv := newHTTPReceiver(t)
	srv := startServer(t, nil, "http://127.0.0.1:1", fastDestRetry)
	c := srv.Firehose()
	for _, tc := range []struct {
		proc *fhtypes.ProcessingConfiguration
		want string
	}{
		{&fhtypes.ProcessingConfiguration{Enabled: aws.Bool(true), Processors: []fhtypes.Processor{{Type: fhtypes.ProcessorTypeAppendDelimiterToRecord}}},
			"AppendDelimiterToRecord processor applies to objects delivered to Amazon S3"},
		{&fhtypes.ProcessingConfiguration{Enabled: aws.Bool(true), Processors: []fhtypes.Processor{{Type: fhtypes.ProcessorTypeMetadataExtraction}}},
			"MetadataExtraction processor can only be used with dynamic partitioning"},
		{&fhtypes.ProcessingConfiguration{Enabled: aws.Bool(true), Processors: []fhtypes.Processor{{Type: fhtypes.ProcessorTypeLambda}}},
			"LambdaArn is a required parameter"},
		{lambdaProcessing(fnARN+"f", "BufferSizeInMBs", "5"), "BufferSizeInMBs must be between 0.2 and 3."},
		{&fhtypes.ProcessingConfiguration{Enabled: aws.Bool(true), Processors: []fhtypes.Processor{{Type: fhtypes.ProcessorTypeDecompression}}},
			"Processor type Decompression is not supported by Eddy yet."},
	} {
		_, err := c.CreateDeliveryStream(context.Background(), &fh.CreateDeliveryStreamInput{DeliveryStreamName: aws.String("rules"),
			HttpEndpointDestinationConfiguration: &fhtypes.HttpEndpointDestinationConfiguration{
				EndpointConfiguration:   &fhtypes.HttpEndpointConfiguration{Url: aws.String(recv.srv.URL)},
				ProcessingConfiguration: tc.proc,
				S3Configuration: &fhtypes.S3DestinationConfiguration{BucketARN: aws.String("arn:aws:s3:::b"),
					RoleARN: aws.String("arn:aws:iam::000000000000:role/x")}}})
		if err == nil || !strings.Contains(err.Error(), "InvalidArgumentException") || !strings.Contains(err.Error(), tc.want) {
			t.Fatalf("processor %+v: %v, want %q", tc.proc.Processors, err, tc.want)
		}
	}
	// A disabled configuration is kept and not run.
	_, err := c.CreateDeliveryStream(context.Background(), &fh.CreateDeliveryStreamInput{DeliveryStreamName: aws.String("off"),
		HttpEndpointDestinationConfiguration: &fhtypes.HttpEndpointDestinationConfiguration{
			EndpointConfiguration: &fhtypes.HttpEndpointConfiguration{Url: aws.String(recv.srv.URL)},
			ProcessingConfiguration: &fhtypes.ProcessingConfiguration{Enabled: aws.Bool(false),
				Processors: []fhtypes.Processor{{Type: fhtypes.ProcessorTypeAppendDelimiterToRecord}}},
			S3Configuration: &fhtypes.S3DestinationConfiguration{BucketARN: aws.String("arn:aws:s3:::b"), RoleARN: aws.String("arn:aws:iam::000000000000:role/x")}}})
	if err != nil {
		t.Fatal(err)
	}
}
