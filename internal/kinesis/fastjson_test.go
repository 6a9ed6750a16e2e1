package kinesis

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/eddy-streams/eddy/internal/awsproto"
)

// The fast PutRecords decoder must agree with encoding/json whenever it
// accepts a body.
func FuzzFastPutRecords(f *testing.F) {
	f.Add([]byte(`{"StreamName":"s","Records":[{"Data":"AAEC","PartitionKey":"k"},{"Data":"","PartitionKey":"x","ExplicitHashKey":"5"}]}`))
	f.Add([]byte(` { "Records" : [ ] , "StreamARN":"arn" } `))
	f.Add([]byte(`{"Records":[{"Data":"AA==","PartitionKey":"k\"q"}]}`))
	f.Add([]byte(`{"Records":[{}]}`))
	f.Add([]byte(`{}`))
	f.Add([]byte("{\"Records\":[{\"Data\":\"QU\nJD\",\"PartitionKey\":\"k\"}]}"))
	f.Add([]byte(`{"Records":[{"Data":"QUJD\"","PartitionKey":"k"}]}`))
	f.Add([]byte(`{"Records":[{"Data":"QUI=","PartitionKey":"k"},{"Data":"QQ==","PartitionKey":"k"}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var fast putRecordsInput
		if !fastPutRecords(body, &fast) {
			return
		}
		var ref putRecordsInput
		if err := json.Unmarshal(body, &ref); err != nil {
			t.Fatalf("fast path accepted what encoding/json rejects: %v", err)
		}
		a, _ := json.Marshal(fast)
		b, _ := json.Marshal(ref)
		if !bytes.Equal(a, b) {
			t.Fatalf("fast %s\nref  %s", a, b)
		}
	})
}

func TestFastPutRecordsFallsBack(t *testing.T) {
	for _, body := range []string{
		`{"Records":[{"Data":"AA==","PartitionKey":"k\u0041"}]}`,        // escape
		`{"Records":[{"Data":"AA==","PartitionKey":"k"}],"Records":[]}`, // repeated member
		`{"Records":[{"Data":"AA==","PartitionKey":"k"}],"X":1}`,        // unknown member
		`{"Records":"nope"}`, // wrong type
	} {
		var in putRecordsInput
		if fastPutRecords([]byte(body), &in) {
			t.Fatalf("fast path took %s", body)
		}
		in = putRecordsInput{}
		err := decodePutRecords(&awsproto.Request{Codec: awsproto.JSON, Body: []byte(body)}, &in)
		var ref putRecordsInput
		refErr := json.Unmarshal([]byte(body), &ref)
		if (err == nil) != (refErr == nil) {
			t.Fatalf("%s: %v vs %v", body, err, refErr)
		}
	}
}

func BenchmarkDecodePutRecords(b *testing.B) {
	var in putRecordsInput
	for i := 0; i < 500; i++ {
		k := "partition-key-" + string(rune('a'+i%26))
		in.Records = append(in.Records, putRecordsEntry{Data: bytes.Repeat([]byte{byte(i)}, 100), PartitionKey: &k})
	}
	name := "bench"
	in.StreamName = &name
	body, _ := json.Marshal(in)
	b.Run("fast", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		for i := 0; i < b.N; i++ {
			var out putRecordsInput
			if !fastPutRecords(body, &out) {
				b.Fatal("fast path refused")
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		for i := 0; i < b.N; i++ {
			var out putRecordsInput
			if err := json.Unmarshal(body, &out); err != nil {
				b.Fatal(err)
			}
		}
	})
}
