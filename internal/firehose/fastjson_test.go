package firehose

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
)

func TestFastPutRecordBatch(t *testing.T) {
	cases := []struct {
		body string
		fast bool
	}{
		{`{"DeliveryStreamName":"s","Records":[{"Data":"aGVsbG8="},{"Data":""},{}]}`, true},
		{` { "Records" : [ { "Data" : "eA==" } ] , "DeliveryStreamName" : "s" } `, true},
		{`{"DeliveryStreamName":"s","Records":[]}`, true},
		{`{}`, true},
		{`{"DeliveryStreamName":"s\u0041","Records":[]}`, false},             // escape
		{`{"DeliveryStreamName":"s","Records":[{"Data":"aGVsbG8"}]}`, false}, // bad padding → generic error
		{`{"DeliveryStreamName":"s","Records":null}`, false},
		{`{"DeliveryStreamName":"s","Records":[{"Data":"eA==","X":1}]}`, false},
		{`{"DeliveryStreamName":"s","Other":1}`, false},
		{`{"DeliveryStreamName":"s"} x`, false},
		{`{"DeliveryStreamName":"s","DeliveryStreamName":"t"}`, false},
	}
	for _, tc := range cases {
		var fast putRecordBatchInput
		ok := fastPutRecordBatch([]byte(tc.body), &fast)
		if ok != tc.fast {
			t.Errorf("%s: fast=%v, want %v", tc.body, ok, tc.fast)
			continue
		}
		if !ok {
			continue
		}
		var std putRecordBatchInput
		if err := json.Unmarshal([]byte(tc.body), &std); err != nil {
			t.Fatalf("%s: std: %v", tc.body, err)
		}
		if !sameBatch(fast, std) {
			t.Errorf("%s: fast %+v, std %+v", tc.body, fast, std)
		}
	}
}

func sameBatch(a, b putRecordBatchInput) bool {
	if !reflect.DeepEqual(a.DeliveryStreamName, b.DeliveryStreamName) || (a.Records == nil) != (b.Records == nil) || len(a.Records) != len(b.Records) {
		return false
	}
	for i := range a.Records {
		x, y := a.Records[i].Data, b.Records[i].Data
		if (x == nil) != (y == nil) || !bytes.Equal(x, y) {
			return false
		}
	}
	return true
}

// FuzzFastPutRecordBatch: whenever the fast path accepts a body,
// encoding/json must accept it too and decode the same records.
func FuzzFastPutRecordBatch(f *testing.F) {
	f.Add([]byte(`{"DeliveryStreamName":"s","Records":[{"Data":"aGVsbG8="},{"Data":""},{}]}`))
	f.Add([]byte(`{"Records":[{"Data":"eA=="}],"DeliveryStreamName":"s"}`))
	f.Add([]byte(`{"DeliveryStreamName":"s","Records":[{"Data":"aGVs\nbG8="}]}`))
	f.Add([]byte(`{"DeliveryStreamName":"s","Records":[{"Data":"a"}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var fast putRecordBatchInput
		if !fastPutRecordBatch(body, &fast) {
			return
		}
		var std putRecordBatchInput
		if err := json.Unmarshal(body, &std); err != nil {
			t.Fatalf("fast path accepted what encoding/json rejects (%v): %q", err, body)
		}
		if !sameBatch(fast, std) {
			t.Fatalf("decoded differently: %q", body)
		}
	})
}
