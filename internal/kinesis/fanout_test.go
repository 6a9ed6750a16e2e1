package kinesis

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/eddy-streams/eddy/internal/awsproto"
	"github.com/eddy-streams/eddy/internal/shardmap"
	"github.com/eddy-streams/eddy/internal/storage"
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

// FuzzCBOREvent checks the hand-written CBOR event encoder against the
// generic one (fxamacker/cbor over the same shapes): byte for byte.
func FuzzCBOREvent(f *testing.F) {
	f.Add([]byte("data"), "pk", int64(1795637097962), uint64(7), false, true, int64(0), false)
	f.Add([]byte{}, "", int64(0), uint64(0), true, false, int64(-1), true)
	f.Add(make([]byte, 300), "ключ", int64(1<<40), uint64(1<<40), true, true, int64(1<<33), true)
	f.Fuzz(func(t *testing.T, data []byte, pk string, arrivalMs int64, pos uint64, kms, hasCont bool, behind int64, hasChildren bool) {
		if arrivalMs < 0 {
			arrivalMs = -arrivalMs
		}
		pos &= shardmap.EndPos
		sh := &shard{Index: 3, CreatedMs: 1795637000000}
		sh.derive()
		recs := []storage.StoredRecord{
			{Pos: pos, ArrivalMs: arrivalMs, PartitionKey: []byte(pk), Data: data},
			{Pos: pos / 2, ArrivalMs: arrivalMs / 3, PartitionKey: []byte("k"), Data: data[:len(data)/2]},
		}
		var cont *string
		if hasCont {
			c := recordSeq(sh, pos, arrivalMs)
			cont = &c
		}
		var children []childShard
		if hasChildren {
			children = []childShard{{ShardId: "shardId-000000000004", ParentShards: []string{sh.id}, HashKeyRange: hashKeyRange{"0", "17"}}}
		}
		fast := &cborEvent{sh: sh, kms: kms}
		generic := subscribeEvent{Records: []recordShape{}, ContinuationSequenceNumber: cont, MillisBehindLatest: behind, ChildShards: children}
		enc := "NONE"
		if kms {
			enc = "KMS"
		}
		shapes := shapeRecords{sh: sh, enc: enc}
		for _, r := range recs {
			fast.add(r)
			shapes.add(r)
		}
		generic.Records = shapes.recs
		for i := range generic.Records {
			if generic.Records[i].Data == nil {
				// shapeRecords copies empty data to nil, which the generic
				// encoder writes as null; an empty blob is an empty byte string
				generic.Records[i].Data = []byte{}
			}
		}
		got, err := fast.finish(awsproto.CBOR, cont, behind, children)
		if err != nil {
			t.Fatal(err)
		}
		want, err := awsproto.Encode(awsproto.CBOR, generic)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("hand-written CBOR differs:\n got %x\nwant %x", got, want)
		}
	})
}

// BenchmarkEventEncode encodes a 500-record event of 100-byte records with
// buffers reused as a subscription reuses them: JSON (the GetRecords
// writer), CBOR hand-written, and CBOR through the generic encoder (what
// the hand-written one replaced).
func BenchmarkEventEncode(b *testing.B) {
	sh := &shard{Index: 1, CreatedMs: 1795637000000}
	sh.derive()
	recs := make([]storage.StoredRecord, 500)
	for i := range recs {
		recs[i] = storage.StoredRecord{Pos: uint64(1000 + i), ArrivalMs: 1795637097962, PartitionKey: []byte("partition-key-17"), Data: bytes.Repeat([]byte{byte(i)}, 100)}
	}
	cont := recordSeq(sh, 1499, 1795637097962)
	run := func(b *testing.B, f func() ([]byte, error)) {
		b.ReportAllocs()
		b.SetBytes(500 * 100)
		for b.Loop() {
			if _, err := f(); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("json", func(b *testing.B) {
		var buf []byte
		run(b, func() ([]byte, error) {
			e := &jsonEvent{jsonRecords: jsonRecords{sh: sh, buf: append(buf[:0], `{"Records":[`...)}}
			for _, r := range recs {
				e.add(r)
			}
			out, err := e.finish(awsproto.JSON, &cont, 0, nil)
			buf = out
			return out, err
		})
	})
	b.Run("cbor", func(b *testing.B) {
		var scratch, buf []byte
		run(b, func() ([]byte, error) {
			e := &cborEvent{sh: sh, recs: scratch[:0], out: buf[:0]}
			for _, r := range recs {
				e.add(r)
			}
			out, err := e.finish(awsproto.CBOR, &cont, 0, nil)
			scratch, buf = e.recs, out
			return out, err
		})
	})
	b.Run("cbor-generic", func(b *testing.B) {
		run(b, func() ([]byte, error) {
			e := shapeRecords{sh: sh, enc: "NONE"}
			for _, r := range recs {
				e.add(r)
			}
			return awsproto.Encode(awsproto.CBOR, subscribeEvent{Records: e.recs, ContinuationSequenceNumber: &cont})
		})
	})
}
