package lambda

import (
	"encoding/base64"
	"encoding/json"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// The Kinesis event is decoded by aws-lambda-go's own types.
func TestKinesisEventShape(t *testing.T) {
	set := mappingSettings{Account: "123456789012", Region: "eu-west-1", EventSourceArn: "arn:aws:kinesis:eu-west-1:123456789012:stream/s"}
	recs := []rec{{seq: "49590338271490256608559692538361571095921575989136588898", pk: "k\"1", data: []byte{0, 1, 2, 250}, arrivalMs: 1545084650987}}
	b := kinesisEvent(set, "shardId-000000000006", recs)
	var ev events.KinesisEvent
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	r := ev.Records[0]
	if r.EventID != "shardId-000000000006:"+recs[0].seq || r.EventName != "aws:kinesis:record" || r.EventSource != "aws:kinesis" ||
		r.EventVersion != "1.0" || r.AwsRegion != "eu-west-1" || r.EventSourceArn != set.EventSourceArn ||
		r.InvokeIdentityArn != "arn:aws:iam::123456789012:role/eddy-lambda" || r.Kinesis.PartitionKey != "k\"1" ||
		r.Kinesis.SequenceNumber != recs[0].seq || string(r.Kinesis.Data) != string(recs[0].data) || r.Kinesis.KinesisSchemaVersion != "1.0" ||
		r.Kinesis.ApproximateArrivalTimestamp.Sub(time.UnixMilli(1545084650987)).Abs() > time.Millisecond {
		t.Fatalf("decoded %+v from %s", r, b)
	}
	var raw map[string][]map[string]map[string]any
	json.Unmarshal(b, &raw)
	if raw["Records"][0]["kinesis"]["data"] != base64.StdEncoding.EncodeToString(recs[0].data) {
		t.Fatalf("data not base64: %s", b)
	}
}

func TestPartialFailure(t *testing.T) {
	recs := []rec{{seq: "1"}, {seq: "2"}, {seq: "3"}}
	resp := func(v events.KinesisEventResponse) []byte { b, _ := json.Marshal(v); return b }
	cases := []struct {
		payload []byte
		want    int
	}{
		{nil, -1}, {[]byte("null"), -1}, {[]byte(`{}`), -1},
		{resp(events.KinesisEventResponse{}), -1},
		{resp(events.KinesisEventResponse{BatchItemFailures: []events.KinesisBatchItemFailure{{ItemIdentifier: "3"}, {ItemIdentifier: "2"}}}), 1},
		{resp(events.KinesisEventResponse{BatchItemFailures: []events.KinesisBatchItemFailure{{ItemIdentifier: "9"}}}), 0},
		{[]byte(`{"batchItemFailures":[{"itemIdentifier":""}]}`), 0},
		{[]byte(`not json`), 0},
	}
	for _, c := range cases {
		if got := partialFailure(c.payload, recs); got != c.want {
			t.Errorf("%s: got %d want %d", c.payload, got, c.want)
		}
	}
}

func FuzzPartialFailure(f *testing.F) {
	f.Add([]byte(`{"batchItemFailures":[{"itemIdentifier":"2"}]}`))
	f.Add([]byte(`[1,2]`))
	recs := []rec{{seq: "1"}, {seq: "2"}}
	f.Fuzz(func(t *testing.T, b []byte) {
		if got := partialFailure(b, recs); got < -1 || got >= len(recs) {
			t.Fatalf("index %d out of range", got)
		}
	})
}

func TestFilters(t *testing.T) {
	cases := []struct {
		pattern string
		pk      string
		data    string
		want    bool
	}{
		{`{"data":{"kind":["a"]}}`, "p", `{"kind":"a"}`, true},
		{`{"data":{"kind":["a"]}}`, "p", `{"kind":"b"}`, false},
		{`{"data":{"kind":["a"]}}`, "p", `not json`, false},
		{`{"partitionKey":["p"]}`, "p", `not json`, true},
		{`{"data":{"n":[{"numeric":[">",1,"<=",5]}]}}`, "p", `{"n":5}`, true},
		{`{"data":{"n":[{"numeric":[">",1,"<=",5]}]}}`, "p", `{"n":6}`, false},
		{`{"data":{"s":[{"prefix":"ab"}]}}`, "p", `{"s":"abc"}`, true},
		{`{"data":{"s":[{"suffix":"bc"}]}}`, "p", `{"s":"abc"}`, true},
		{`{"data":{"s":[{"anything-but":["abc"]}]}}`, "p", `{"s":"abc"}`, false},
		{`{"data":{"s":[{"anything-but":"x"}]}}`, "p", `{"s":"abc"}`, true},
		{`{"data":{"s":[{"exists":false}]}}`, "p", `{"t":1}`, true},
		{`{"data":{"s":[{"exists":true}]}}`, "p", `{"t":1}`, false},
		{`{"data":{"s":[{"equals-ignore-case":"ABC"}]}}`, "p", `{"s":"abc"}`, true},
		{`{"data":{"tags":["x"]}}`, "p", `{"tags":["y","x"]}`, true},
		{`{"data":{"a":{"b":[null]}}}`, "p", `{"a":{"b":null}}`, true},
	}
	for _, c := range cases {
		ps, err := compileFilters(&FilterCriteria{Filters: []struct {
			Pattern string `json:"Pattern"`
		}{{c.pattern}}})
		if err != nil {
			t.Fatalf("%s: %v", c.pattern, err)
		}
		if got := matchAny(ps, c.pk, []byte(c.data)); got != c.want {
			t.Errorf("%s on %s: got %v", c.pattern, c.data, got)
		}
	}
	for _, bad := range []string{`[]`, `{"a":1}`, `{"a":[{"numeric":["~",1]}]}`, `{"a":[{"nope":1}]}`, `{`} {
		if _, err := compileFilters(&FilterCriteria{Filters: []struct {
			Pattern string `json:"Pattern"`
		}{{bad}}}); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

func FuzzFilter(f *testing.F) {
	f.Add(`{"data":{"n":[{"numeric":[">",1]}],"s":[{"prefix":"a"},"b"]}}`, `{"n":2,"s":"ab"}`)
	f.Fuzz(func(t *testing.T, pattern, data string) {
		ps, err := compileFilters(&FilterCriteria{Filters: []struct {
			Pattern string `json:"Pattern"`
		}{{pattern}}})
		if err != nil {
			return
		}
		matchAny(ps, "k", []byte(data))
	})
}

func FuzzRoute(f *testing.F) {
	f.Add("GET", "/2015-03-31/functions/fn/configuration")
	f.Add("DELETE", "/2017-03-31/tags/arn:aws:lambda:us-east-1:000000000000:function:f")
	f.Add("PUT", "/2015-03-31/event-source-mappings/abc")
	f.Fuzz(func(t *testing.T, method, path string) {
		op, _ := route(method, path)
		if op != "" && handlers[op] == nil {
			t.Fatalf("route %s %s gives %s without a handler", method, path, op)
		}
	})
}

func FuzzNormalizeError(f *testing.F) {
	f.Add([]byte(`{"errorType":"X"}`), "T")
	f.Add([]byte("plain"), "")
	f.Fuzz(func(t *testing.T, b []byte, typ string) {
		if out := normalizeError(b, typ, "Unhandled"); !json.Valid(out) {
			t.Fatalf("not JSON: %q", out)
		}
	})
}

func benchRecs(n int) []rec {
	recs := make([]rec, n)
	data := make([]byte, 100)
	for i := range recs {
		recs[i] = rec{seq: "49590338271490256608559692538361571095921575989136588898", pk: "pk-123", data: data, arrivalMs: 1545084650987}
	}
	return recs
}

// BenchmarkKinesisEventEncode: the server's cost of rendering a 10,000
// record event (per record: ns/op / 10,000).
func BenchmarkKinesisEventEncode(b *testing.B) {
	set := mappingSettings{Account: "000000000000", Region: "us-east-1", EventSourceArn: "arn:aws:kinesis:us-east-1:000000000000:stream/s"}
	recs := benchRecs(10000)
	for b.Loop() {
		kinesisEvent(set, "shardId-000000000000", recs)
	}
}

// BenchmarkKinesisEventDecodeAWSLambdaGo: a Go function's cost of decoding
// the same event with aws-lambda-go's events.KinesisEvent.
func BenchmarkKinesisEventDecodeAWSLambdaGo(b *testing.B) {
	set := mappingSettings{Account: "000000000000", Region: "us-east-1", EventSourceArn: "arn:aws:kinesis:us-east-1:000000000000:stream/s"}
	ev := kinesisEvent(set, "shardId-000000000000", benchRecs(10000))
	b.SetBytes(int64(len(ev)))
	for b.Loop() {
		var e events.KinesisEvent
		if err := json.Unmarshal(ev, &e); err != nil {
			b.Fatal(err)
		}
	}
}
