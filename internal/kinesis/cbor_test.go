package kinesis_test

import (
	"bytes"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"

	"github.com/eddy-streams/eddy/internal/eddytest"
)

// cborCall speaks CBOR the way the AWS SDK for Java does (content type
// application/x-amz-cbor-1.1, blobs as byte strings, timestamps as tag 1
// around epoch milliseconds).
func cborCall(t *testing.T, url, op string, in any) (int, map[any]any, []byte) {
	t.Helper()
	body, err := cbor.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("POST", url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/x-amz-cbor-1.1")
	req.Header.Set("X-Amz-Target", "Kinesis_20131202."+op)
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/kinesis/aws4_request, SignedHeaders=host, Signature=00")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if ct := resp.Header.Get("Content-Type"); ct != "application/x-amz-cbor-1.1" {
		t.Fatalf("%s: content type %q", op, ct)
	}
	var out map[any]any
	if len(raw) > 0 {
		if err := cbor.Unmarshal(raw, &out); err != nil {
			t.Fatalf("%s: response is not CBOR: %v (%x)", op, err, raw)
		}
	}
	return resp.StatusCode, out, raw
}

func TestCBORWire(t *testing.T) {
	srv := eddytest.Start(t)
	url := srv.URL()
	if code, _, _ := cborCall(t, url, "CreateStream", map[string]any{"StreamName": "cb", "ShardCount": 1}); code != 200 {
		t.Fatalf("CreateStream: %d", code)
	}
	payload := []byte{0, 1, 2, 0xff, 'x'}
	code, out, _ := cborCall(t, url, "PutRecords", map[string]any{
		"StreamName": "cb",
		"Records":    []any{map[string]any{"Data": payload, "PartitionKey": "k"}},
	})
	if code != 200 || out["FailedRecordCount"] != uint64(0) {
		t.Fatalf("PutRecords: %d %v", code, out)
	}
	before := time.Now().Add(-time.Second).UnixMilli()
	code, out, _ = cborCall(t, url, "GetShardIterator", map[string]any{"StreamName": "cb", "ShardId": "shardId-000000000000", "ShardIteratorType": "AT_TIMESTAMP", "Timestamp": cbor.Tag{Number: 1, Content: before}})
	if code != 200 {
		t.Fatalf("GetShardIterator: %d %v", code, out)
	}
	code, out, raw := cborCall(t, url, "GetRecords", map[string]any{"ShardIterator": out["ShardIterator"]})
	if code != 200 {
		t.Fatalf("GetRecords: %d %v", code, out)
	}
	recs, _ := out["Records"].([]any)
	if len(recs) != 1 {
		t.Fatalf("records: %v", out)
	}
	rec := recs[0].(map[any]any)
	if data, ok := rec["Data"].([]byte); !ok || !bytes.Equal(data, payload) {
		t.Fatalf("Data is %T %v, want a byte string", rec["Data"], rec["Data"])
	}
	// ApproximateArrivalTimestamp: tag 1 around an integer of milliseconds
	var raw2 struct {
		Records []struct {
			ApproximateArrivalTimestamp cbor.RawTag
		}
	}
	if err := cbor.Unmarshal(raw, &raw2); err != nil {
		t.Fatal(err)
	}
	tag := raw2.Records[0].ApproximateArrivalTimestamp
	var ms int64
	if tag.Number != 1 || cbor.Unmarshal(tag.Content, &ms) != nil || ms < before || ms > time.Now().UnixMilli()+1000 {
		t.Fatalf("timestamp tag %d content %x", tag.Number, []byte(tag.Content))
	}
	if tag.Content[0]>>5 != 0 {
		t.Fatalf("timestamp content is not an unsigned integer: %x", []byte(tag.Content))
	}
	// errors come back in CBOR with __type
	code, out, _ = cborCall(t, url, "DescribeStream", map[string]any{"StreamName": "missing"})
	if code != 400 || out["__type"] != "ResourceNotFoundException" {
		t.Fatalf("error: %d %v", code, out)
	}
	// a malformed body is a SerializationException
	req, _ := http.NewRequest("POST", url, bytes.NewReader([]byte{0xbf, 0x61}))
	req.Header.Set("Content-Type", "application/x-amz-cbor-1.1")
	req.Header.Set("X-Amz-Target", "Kinesis_20131202.PutRecords")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	var e map[string]any
	if resp.StatusCode != 400 || cbor.Unmarshal(raw, &e) != nil || e["__type"] != "SerializationException" {
		t.Fatalf("malformed CBOR: %d %x", resp.StatusCode, raw)
	}
}
