package kinesis_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/eddy-streams/eddy/internal/eddytest"
)

// rawJSON posts a JSON 1.1 call and returns status and decoded body.
func rawJSON(t *testing.T, url, op string, body any) (int, map[string]any) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", url, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "Kinesis_20131202."+op)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &out); err != nil {
			t.Fatalf("%s: %v: %s", op, err, raw)
		}
	}
	return resp.StatusCode, out
}

func TestPutRecordsValidation(t *testing.T) {
	srv := eddytest.Start(t)
	c := eddytest.Kinesis(srv)
	createStream(t, c, "v", 2)
	rec := func(pk string, data []byte) map[string]any { return map[string]any{"PartitionKey": pk, "Data": data} }
	many := make([]any, 501)
	for i := range many {
		many[i] = rec("k", []byte("x"))
	}
	big := bytes.Repeat([]byte{'a'}, 1<<20) // with its key, over the 1 MiB default
	cases := []struct {
		name, op string
		body     map[string]any
		typ, msg string
	}{
		{"no records", "PutRecords", map[string]any{"StreamName": "v", "Records": []any{}}, "ValidationException", "1 validation error detected: Value '[]' at 'records' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{"501 records", "PutRecords", map[string]any{"StreamName": "v", "Records": many}, "ValidationException", "Member must have length less than or equal to 500"},
		{"empty key", "PutRecords", map[string]any{"StreamName": "v", "Records": []any{rec("", []byte("x"))}}, "ValidationException", "Value '' at 'records.1.member.partitionKey' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{"long key", "PutRecords", map[string]any{"StreamName": "v", "Records": []any{rec("ok", nil), rec(strings.Repeat("k", 257), []byte("x"))}}, "ValidationException", "2 validation errors detected"},
		{"bad hash key", "PutRecords", map[string]any{"StreamName": "v", "Records": []any{map[string]any{"PartitionKey": "k", "Data": []byte("x"), "ExplicitHashKey": "340282366920938463463374607431768211456"}}}, "InvalidArgumentException", "Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. Specified value was 340282366920938463463374607431768211456"},
		{"hash key pattern", "PutRecords", map[string]any{"StreamName": "v", "Records": []any{map[string]any{"PartitionKey": "k", "Data": []byte("x"), "ExplicitHashKey": "01"}}}, "ValidationException", "at 'records.1.member.explicitHashKey'"},
		{"record over max size", "PutRecords", map[string]any{"StreamName": "v", "Records": []any{rec("k", big)}}, "InvalidArgumentException", "maximum record size of 1024 KiB"},
		{"no stream", "PutRecords", map[string]any{"Records": []any{rec("k", []byte("x"))}}, "InvalidArgumentException", "Either StreamName or StreamARN should be provided."},
		{"missing stream", "PutRecords", map[string]any{"StreamName": "nope", "Records": []any{rec("k", []byte("x"))}}, "ResourceNotFoundException", "Stream nope under account 000000000000 not found."},
		{"put record no data", "PutRecord", map[string]any{"StreamName": "v", "PartitionKey": "k"}, "ValidationException", "Value null at 'data' failed to satisfy constraint: Member must not be null"},
		{"put record bad ordering", "PutRecord", map[string]any{"StreamName": "v", "PartitionKey": "k", "Data": []byte("x"), "SequenceNumberForOrdering": "x1"}, "ValidationException", "at 'sequenceNumberForOrdering'"},
		{"bad base64", "PutRecord", map[string]any{"StreamName": "v", "PartitionKey": "k", "Data": "!!notbase64"}, "SerializationException", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, out := rawJSON(t, srv.URL(), tc.op, tc.body)
			if code != 400 || out["__type"] != tc.typ {
				t.Fatalf("got %d %v, want 400 %s", code, out, tc.typ)
			}
			msg, _ := out["message"].(string)
			if m, ok := out["Message"].(string); ok {
				msg = m
			}
			if !strings.Contains(msg, tc.msg) {
				t.Fatalf("message %q lacks %q", msg, tc.msg)
			}
		})
	}
	// the total over 10 MiB is refused whole
	var recs []any
	for i := 0; i < 11; i++ {
		recs = append(recs, rec(fmt.Sprint(i), bytes.Repeat([]byte{'b'}, 1000*1000)))
	}
	if _, err := c.UpdateMaxRecordSize(ctx, &kinesis.UpdateMaxRecordSizeInput{StreamARN: aws.String("arn:aws:kinesis:us-east-1:000000000000:stream/v"), MaxRecordSizeInKiB: aws.Int32(10240)}); err != nil {
		t.Fatal(err)
	}
	code, out := rawJSON(t, srv.URL(), "PutRecords", map[string]any{"StreamName": "v", "Records": recs})
	if code != 400 || out["__type"] != "InvalidArgumentException" || out["message"] != "Records size exceeds 10 MB limit" {
		t.Fatalf("over 10 MiB: %d %v", code, out)
	}
}

func TestUnknownOperationAndProtocol(t *testing.T) {
	srv := eddytest.Start(t)
	code, out := rawJSON(t, srv.URL(), "NoSuchThing", map[string]any{})
	if code != 400 || out["__type"] != "UnknownOperationException" {
		t.Fatalf("unknown op: %d %v", code, out)
	}
	resp, err := http.Get(srv.URL() + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz: %v %v", resp, err)
	}
	resp, err = http.Get(srv.URL() + "/")
	if err != nil || resp.StatusCode != 403 {
		t.Fatalf("GET /: %v %v", resp, err)
	}
	resp, err = http.Get(srv.URL() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(body), `eddy_gateway_requests_total{code="UnknownOperationException",operation="unknown",service="unknown"} 1`) {
		t.Fatalf("metrics: %s", body)
	}
}

func TestTargetInQuery(t *testing.T) {
	srv := eddytest.Start(t)
	req, _ := http.NewRequest("POST", srv.URL()+"/?X-Amz-Target=Kinesis_20131202.ListStreams", strings.NewReader(`{}`))
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"StreamNames":[]`) {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
}
