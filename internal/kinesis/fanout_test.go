package kinesis

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/eddy-streams/eddy/internal/awsproto"
	"github.com/eddy-streams/eddy/internal/storage/memstore"
)

// fanoutService is a service on an in-memory backend with stream "f" (2
// shards, 3 records) and an ACTIVE consumer; it returns the consumer ARN.
func fanoutService(t testing.TB) (*Service, string) {
	t.Helper()
	s, err := New(Options{Backend: memstore.New(nil), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	call := func(op string, in any) []byte {
		body, _ := json.Marshal(in)
		out, err := s.Handle(&awsproto.Request{Ctx: context.Background(), Operation: op, Codec: awsproto.JSON, Body: body, Account: "000000000000", Region: "us-east-1"})
		if err != nil {
			t.Fatalf("%s: %v", op, err)
		}
		if raw, ok := out.(awsproto.Raw); ok {
			return raw
		}
		b, _ := json.Marshal(out)
		return b
	}
	call("CreateStream", map[string]any{"StreamName": "f", "ShardCount": 2})
	call("PutRecords", map[string]any{"StreamName": "f", "Records": []map[string]any{
		{"Data": "YQ==", "PartitionKey": "a"}, {"Data": "Yg==", "PartitionKey": "b"}, {"Data": "Yw==", "PartitionKey": "c"}}})
	var reg struct{ Consumer struct{ ConsumerARN string } }
	json.Unmarshal(call("RegisterStreamConsumer", map[string]any{"StreamARN": "arn:aws:kinesis:us-east-1:000000000000:stream/f", "ConsumerName": "c"}), &reg)
	if reg.Consumer.ConsumerARN == "" {
		t.Fatal("no consumer ARN")
	}
	return s, reg.Consumer.ConsumerARN
}

// FuzzSubscribeRequest feeds arbitrary request bodies (JSON and CBOR) to
// SubscribeToShard's validation: no panic, and a request that is accepted
// registers exactly one subscription.
func FuzzSubscribeRequest(f *testing.F) {
	s, arn := fanoutService(f)
	seeds := []string{
		`{}`,
		`{"ConsumerARN":"` + arn + `","ShardId":"shardId-000000000000","StartingPosition":{"Type":"TRIM_HORIZON"}}`,
		`{"ConsumerARN":"` + arn + `","ShardId":"1","StartingPosition":{"Type":"AT_SEQUENCE_NUMBER","SequenceNumber":"0"}}`,
		`{"ConsumerARN":"` + arn + `","ShardId":"shardId-000000000000","StartingPosition":{"Type":"AFTER_SEQUENCE_NUMBER","SequenceNumber":"49680562033616062936322596345304424532897377180666822658"}}`,
		`{"ConsumerARN":"` + arn + `","ShardId":"shardId-000000000001","StartingPosition":{"Type":"AT_TIMESTAMP","Timestamp":1.5e9}}`,
		`{"ConsumerARN":"arn:aws:kinesis:us-east-1:000000000000:stream/f","ShardId":"x","StartingPosition":{"Type":"LATEST"}}`,
		`{"ConsumerARN":null,"ShardId":7,"StartingPosition":[]}`,
		`{"StartingPosition":{"Type":null}}`,
	}
	for _, sd := range seeds {
		f.Add([]byte(sd), false)
	}
	f.Add([]byte{0xa1, 0x67, 'S', 'h', 'a', 'r', 'd', 'I', 'd', 0x61, '0'}, true)
	f.Fuzz(func(t *testing.T, body []byte, cbor bool) {
		codec := awsproto.JSON
		if cbor {
			codec = awsproto.CBOR
		}
		r := &awsproto.Request{Ctx: context.Background(), Operation: "SubscribeToShard", Codec: codec, Body: body, Account: "000000000000", Region: "us-east-1"}
		sub, err := s.prepareSubscription(r)
		if err != nil {
			if sub != nil {
				t.Fatal("subscription returned with an error")
			}
			return
		}
		h := s.fanout()
		if n := s.Subscriptions(); n != 1 {
			t.Fatalf("%d subscriptions after one accepted request", n)
		}
		h.unregister(sub)
	})
}

// The push quota (--enforce-limits) holds a subscription to 2 MiB/s.
func TestFanoutThrottle(t *testing.T) {
	p := &pusher{s: &Service{opt: Options{EnforceLimits: true}}, sub: &subscription{done: make(chan struct{})}, tokens: efoBytesPerSec, lastRef: time.Now()}
	start := time.Now()
	for range 3 {
		if err := p.throttle(context.Background(), 1<<20); err != nil {
			t.Fatal(err)
		}
	}
	// 3 MiB against a 2 MiB burst at 2 MiB/s: about half a second
	if d := time.Since(start); d < 400*time.Millisecond || d > 5*time.Second {
		t.Fatalf("3 MiB took %v", d)
	}
	free := &pusher{s: &Service{}, sub: p.sub}
	start = time.Now()
	if err := free.throttle(context.Background(), 100<<20); err != nil || time.Since(start) > 100*time.Millisecond {
		t.Fatalf("without --enforce-limits: %v after %v", err, time.Since(start))
	}
}
