package firehose

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strconv"
	"testing"

	"github.com/eddy-streams/eddy/internal/lambda"
)

// fixedAnswer is a Lambda that answers every invocation with the same payload.
type fixedAnswer []byte

func (f fixedAnswer) Invoke(context.Context, string, string, string, []byte) (lambda.Result, error) {
	return lambda.Result{Payload: f}, nil
}

// FuzzTransformResponse feeds any function answer through callTransform's
// response checks and the partition-key rendering: no panics; either the
// batch fails with a code, or every input record comes back exactly once
// with a valid result, and every rendered partition key was in the answer.
func FuzzTransformResponse(f *testing.F) {
	f.Add([]byte(`{"records":[{"recordId":"0","result":"Ok","data":"YQ==","metadata":{"partitionKeys":{"k":"v","n":1,"b":true,"z":null,"o":{}}}},{"recordId":"1","result":"Dropped"}]}`))
	f.Add([]byte(`{"records":[{"recordId":"0","result":"ProcessingFailed"},{"recordId":"0","result":"Ok"}]}`))
	f.Add([]byte(`{"records":[{"recordId":"7","result":"Ok"}]}`))
	f.Add([]byte(`{"records":[{"recordId":"0","result":"Ok","metadata":{"partitionKeys":[1]}}]}`))
	f.Add([]byte(`not json`))
	f.Fuzz(func(t *testing.T, answer []byte) {
		s := &Service{opts: Options{Lambda: fixedAnswer(answer)}, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
		st := &stream{meta: streamMeta{Name: "s", Account: "000000000000", Region: "us-east-1"}}
		buf := &buffer{recs: [][]byte{[]byte("a"), []byte("b")}, arrivals: []int64{1, 2}}
		outs, attempts, code, _, err := s.callTransform(context.Background(), st, buf, 0, 2, lambdaParams{arn: "f", retries: 1})
		if err != nil {
			t.Fatal(err)
		}
		if code != "" {
			if outs != nil || attempts != 2 {
				t.Fatalf("failed batch: outs %v, attempts %d", outs, attempts)
			}
			return
		}
		seen := map[int]bool{}
		for _, o := range outs {
			if seen[o.index] || o.index < 0 || o.index > 1 {
				t.Fatalf("record %d answered twice or unknown: %+v", o.index, outs)
			}
			seen[o.index] = true
			switch o.result {
			case "Ok", "Dropped", "ProcessingFailed":
			default:
				t.Fatalf("result %q accepted", o.result)
			}
			// every string, number and boolean key is rendered, nothing else
			var resp struct {
				Records []struct {
					RecordID string `json:"recordId"`
					Metadata struct {
						PartitionKeys map[string]any `json:"partitionKeys"`
					} `json:"metadata"`
				} `json:"records"`
			}
			dec := json.NewDecoder(bytes.NewReader(answer))
			dec.UseNumber()
			if err := dec.Decode(&resp); err != nil {
				t.Fatalf("accepted an answer encoding/json refuses: %v", err)
			}
			for _, r := range resp.Records {
				if r.RecordID != strconv.Itoa(o.index) {
					continue
				}
				want := 0
				for k, v := range r.Metadata.PartitionKeys {
					switch x := v.(type) {
					case string:
						want++
						if o.partitionKeys[k] != x {
							t.Fatalf("key %q: %q, want %q", k, o.partitionKeys[k], x)
						}
					case json.Number, bool:
						want++
						if _, ok := o.partitionKeys[k]; !ok {
							t.Fatalf("key %q (%v) not rendered", k, x)
						}
					}
				}
				if len(o.partitionKeys) != want {
					t.Fatalf("rendered %v from %v", o.partitionKeys, r.Metadata.PartitionKeys)
				}
			}
		}
		if len(seen) != 2 {
			t.Fatalf("%d of 2 records answered without a failure code", len(seen))
		}
	})
}
