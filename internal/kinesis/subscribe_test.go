package kinesis_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/smithy-go"
	"github.com/fxamacker/cbor/v2"

	"github.com/eddy-streams/eddy/internal/app"
	"github.com/eddy-streams/eddy/internal/awsclient"
	"github.com/eddy-streams/eddy/internal/awsproto/eventstream"
	"github.com/eddy-streams/eddy/internal/config"
	"github.com/eddy-streams/eddy/internal/eddytest"
	kin "github.com/eddy-streams/eddy/internal/kinesis"
)

// efo is a server with a stream and helpers for SubscribeToShard tests.
type efo struct {
	t      *testing.T
	srv    *app.Server
	c      *kinesis.Client
	stream string
}

func newEFO(t *testing.T, shards int32, opts ...eddytest.Option) *efo {
	t.Helper()
	srv := eddytest.Start(t, opts...)
	c := kinesis.NewFromConfig(efoConfig(srv, false, nil), func(o *kinesis.Options) { o.RetryMaxAttempts = 1 })
	e := &efo{t: t, srv: srv, c: c, stream: "efo"}
	createStream(t, c, e.stream, shards)
	return e
}

// consumer registers an ACTIVE consumer and returns its ARN.
func (e *efo) consumer(name string) string {
	e.t.Helper()
	arn := aws.ToString(register(e.t, e.c, e.stream, name).ConsumerARN)
	waitFor(e.t, "consumer ACTIVE", func() bool {
		st, err := consumerStatus(e.t, e.c, arn)
		return err == nil && st == types.ConsumerStatusActive
	})
	return arn
}

// put writes records with the given data (partition key = data) and returns
// their sequence numbers.
func (e *efo) put(data ...string) []string {
	e.t.Helper()
	var entries []types.PutRecordsRequestEntry
	for _, d := range data {
		entries = append(entries, types.PutRecordsRequestEntry{Data: []byte(d), PartitionKey: aws.String(d)})
	}
	out, err := e.c.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String(e.stream), Records: entries})
	if err != nil {
		e.t.Fatal(err)
	}
	var seqs []string
	for _, r := range out.Records {
		if r.ErrorCode != nil {
			e.t.Fatalf("put failed: %s", aws.ToString(r.ErrorMessage))
		}
		seqs = append(seqs, aws.ToString(r.SequenceNumber))
	}
	return seqs
}

// efoClient is a Go SDK client for SubscribeToShard over HTTP/1.1, or
// HTTP/2 (h2c with prior knowledge over http://, ALPN h2 over https://).
func efoClient(srv *app.Server, h2 bool) *kinesis.Client {
	return kinesis.NewFromConfig(efoConfig(srv, h2, nil), func(o *kinesis.Options) { o.RetryMaxAttempts = 1 })
}

func efoConfig(srv *app.Server, h2 bool, protos *protoLog) aws.Config {
	cfg := eddytest.AWSConfig(srv.URL(), "", "")
	tr := &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}
	if h2 {
		p := new(http.Protocols)
		p.SetUnencryptedHTTP2(true)
		p.SetHTTP2(true)
		tr.Protocols = p
	}
	var rt http.RoundTripper = tr
	if protos != nil {
		rt = protos.wrap(tr)
	}
	cfg.HTTPClient = awsclient.OwnBody{Next: &http.Client{Transport: rt}}
	return cfg
}

// protoLog records the HTTP version of each response.
type protoLog struct {
	mu     sync.Mutex
	protos []string
}

type protoRT struct {
	l    *protoLog
	next http.RoundTripper
}

func (l *protoLog) wrap(next http.RoundTripper) http.RoundTripper { return protoRT{l, next} }

func (r protoRT) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.next.RoundTrip(req)
	if err == nil {
		r.l.mu.Lock()
		r.l.protos = append(r.l.protos, resp.Proto)
		r.l.mu.Unlock()
	}
	return resp, err
}

func (l *protoLog) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.protos...)
}

// selfSigned writes a certificate for 127.0.0.1 and its key.
func selfSigned(t *testing.T) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "eddy-test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:    x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

// subscribe calls SubscribeToShard with a fresh client unless c is given:
// the SDK's event-stream decoder is shared by all streams of a client and
// not safe for concurrent streams (aws/smithy-go#714).
func (e *efo) subscribe(c *kinesis.Client, arn, shard string, pos types.StartingPosition) (*kinesis.SubscribeToShardEventStream, error) {
	if c == nil {
		c = efoClient(e.srv, false)
	}
	out, err := c.SubscribeToShard(ctx, &kinesis.SubscribeToShardInput{ConsumerARN: aws.String(arn), ShardId: aws.String(shard), StartingPosition: &pos})
	if err != nil {
		return nil, err
	}
	es := out.GetStream()
	e.t.Cleanup(func() { es.Close() })
	return es, nil
}

func (e *efo) mustSubscribe(arn, shard string, pos types.StartingPosition) *kinesis.SubscribeToShardEventStream {
	e.t.Helper()
	es, err := e.subscribe(nil, arn, shard, pos)
	if err != nil {
		e.t.Fatalf("SubscribeToShard %s: %v", shard, err)
	}
	return es
}

// next returns the next event, or nil when the stream ended (or d passed:
// then the test fails).
func next(t *testing.T, es *kinesis.SubscribeToShardEventStream, d time.Duration) *types.SubscribeToShardEvent {
	t.Helper()
	select {
	case ev, ok := <-es.Events():
		if !ok {
			return nil
		}
		v, ok := ev.(*types.SubscribeToShardEventStreamMemberSubscribeToShardEvent)
		if !ok {
			t.Fatalf("unexpected event %T", ev)
		}
		return &v.Value
	case <-time.After(d):
		t.Fatalf("no event within %v", d)
	}
	return nil
}

// collect reads events until n records arrived, returning their data.
func collect(t *testing.T, es *kinesis.SubscribeToShardEventStream, n int) []string {
	t.Helper()
	var got []string
	deadline := time.Now().Add(10 * time.Second)
	for len(got) < n {
		ev := next(t, es, time.Until(deadline))
		if ev == nil {
			t.Fatalf("stream ended after %d of %d records: %v", len(got), n, es.Err())
		}
		for _, r := range ev.Records {
			got = append(got, string(r.Data))
		}
	}
	return got
}

func TestSubscribeStartingPositions(t *testing.T) {
	clock := newFakeClock()
	e := newEFO(t, 1, eddytest.WithClock(clock.Now))
	const sh = "shardId-000000000000"
	seqs := e.put("a0", "a1", "a2", "a3", "a4")
	clock.Advance(10 * time.Second)
	e.put("b0", "b1")
	mid := clock.Now().Add(-5 * time.Second)

	cases := []struct {
		name  string
		pos   types.StartingPosition
		later []string // put after subscribing
		want  []string
	}{
		{"trim-horizon", types.StartingPosition{Type: types.ShardIteratorTypeTrimHorizon}, nil, []string{"a0", "a1", "a2", "a3", "a4", "b0", "b1"}},
		{"latest", types.StartingPosition{Type: types.ShardIteratorTypeLatest}, []string{"c0", "c1"}, []string{"c0", "c1"}},
		{"at-seq", types.StartingPosition{Type: types.ShardIteratorTypeAtSequenceNumber, SequenceNumber: &seqs[2]}, nil, []string{"a2", "a3", "a4", "b0", "b1", "c0", "c1"}},
		{"after-seq", types.StartingPosition{Type: types.ShardIteratorTypeAfterSequenceNumber, SequenceNumber: &seqs[2]}, nil, []string{"a3", "a4", "b0", "b1", "c0", "c1"}},
		{"at-timestamp", types.StartingPosition{Type: types.ShardIteratorTypeAtTimestamp, Timestamp: &mid}, nil, []string{"b0", "b1", "c0", "c1"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e.t = t
			es := e.mustSubscribe(e.consumer("c-"+tc.name), sh, tc.pos)
			if tc.later != nil {
				e.put(tc.later...)
			}
			got := collect(t, es, len(tc.want))
			// cases run in order: c0 and c1 are in the shard after "latest"
			if strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}

// Records put after subscribing are pushed at once: each arrives long
// before the 5 s heartbeat, over HTTP/1.1, h2c and h2 over TLS.
func TestSubscribePushLatency(t *testing.T) {
	plain := newEFO(t, 1)
	cert, key := selfSigned(t)
	secure := newEFO(t, 1, eddytest.WithConfig(func(c *config.Config) { c.TLSCert, c.TLSKey = cert, key }))
	cases := []struct {
		name  string
		e     *efo
		h2    bool
		proto string
	}{
		{"http1", plain, false, "HTTP/1.1"},
		{"h2c", plain, true, "HTTP/2.0"},
		{"h2-tls", secure, true, "HTTP/2.0"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := tc.e
			e.t = t
			var protos protoLog
			client := kinesis.NewFromConfig(efoConfig(e.srv, tc.h2, &protos), func(o *kinesis.Options) { o.RetryMaxAttempts = 1 })
			es, err := e.subscribe(client, e.consumer("lat-"+tc.name), "shardId-000000000000", types.StartingPosition{Type: types.ShardIteratorTypeLatest})
			if err != nil {
				t.Fatal(err)
			}
			if got := protos.all(); len(got) != 1 || got[0] != tc.proto {
				t.Fatalf("SubscribeToShard answered over %v, want %s", got, tc.proto)
			}
			var worst time.Duration
			for i := 0; i < 20; i++ {
				start := time.Now()
				e.put(fmt.Sprintf("%s-%d", tc.name, i))
				got := collect(t, es, 1)
				if got[0] != fmt.Sprintf("%s-%d", tc.name, i) {
					t.Fatalf("got %q", got[0])
				}
				worst = max(worst, time.Since(start))
			}
			// a poller with a heartbeat-sized interval would take seconds
			if worst > time.Second {
				t.Fatalf("slowest put→delivered %v", worst)
			}
			t.Logf("slowest put→delivered %v", worst)
		})
	}
}

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// One subscription per consumer and shard: a second within 5 s is refused,
// a later one takes over and the old one ends with ResourceInUseException.
func TestSubscribeTakeover(t *testing.T) {
	clock := newFakeClock()
	e := newEFO(t, 2, eddytest.WithClock(clock.Now))
	arn := e.consumer("take")
	th := types.StartingPosition{Type: types.ShardIteratorTypeTrimHorizon}
	old := e.mustSubscribe(arn, "shardId-000000000000", th)

	_, err := e.subscribe(nil, arn, "shardId-000000000000", th)
	if apiCode(err) != "ResourceInUseException" {
		t.Fatalf("second subscription within 5 s: %v, want ResourceInUseException", err)
	}
	// another shard of the same consumer is fine
	e.mustSubscribe(arn, "shardId-000000000001", th)

	clock.Advance(5 * time.Second)
	fresh := e.mustSubscribe(arn, "shardId-000000000000", th)
	for ev := next(t, old, 10*time.Second); ev != nil; ev = next(t, old, 10*time.Second) {
	}
	if apiCode(old.Err()) != "ResourceInUseException" {
		t.Fatalf("replaced subscription ended with %v, want ResourceInUseException", old.Err())
	}
	// the new one works
	if _, err := e.c.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String(e.stream), PartitionKey: aws.String("k"), Data: []byte("to-shard-0"), ExplicitHashKey: aws.String("0")}); err != nil {
		t.Fatal(err)
	}
	if got := collect(t, fresh, 1); got[0] != "to-shard-0" {
		t.Fatalf("got %v", got)
	}
}

// Deregistering the consumer ends its subscriptions with an exception; a
// consumer that is not ACTIVE cannot subscribe.
func TestSubscribeConsumerState(t *testing.T) {
	e := newEFO(t, 1)
	arn := e.consumer("gone")
	es := e.mustSubscribe(arn, "shardId-000000000000", types.StartingPosition{Type: types.ShardIteratorTypeLatest})
	if _, err := e.c.DeregisterStreamConsumer(ctx, &kinesis.DeregisterStreamConsumerInput{ConsumerARN: &arn}); err != nil {
		t.Fatal(err)
	}
	for ev := next(t, es, 10*time.Second); ev != nil; ev = next(t, es, 10*time.Second) {
	}
	if apiCode(es.Err()) != "ResourceNotFoundException" {
		t.Fatalf("stream ended with %v, want ResourceNotFoundException", es.Err())
	}
	_, err := e.subscribe(nil, arn, "shardId-000000000000", types.StartingPosition{Type: types.ShardIteratorTypeLatest})
	if apiCode(err) != "ResourceNotFoundException" {
		t.Fatalf("subscribe with a deregistered consumer: %v", err)
	}

	// CREATING lasts the transition delay (the stream's creation too)
	slow := newEFO(t, 1, withDelay(2*time.Second))
	creating := aws.ToString(register(t, slow.c, slow.stream, "creating").ConsumerARN)
	_, err = slow.subscribe(nil, creating, "shardId-000000000000", types.StartingPosition{Type: types.ShardIteratorTypeLatest})
	if apiCode(err) != "ResourceInUseException" {
		t.Fatalf("subscribe with a CREATING consumer: %v", err)
	}

	// DELETING (before the consumer is gone) ends the subscription at the
	// next heartbeat with ResourceInUseException
	slow.srv.Kinesis.SetFanoutOptions(kin.FanoutOptions{Heartbeat: 20 * time.Millisecond})
	waitFor(t, "consumer ACTIVE", func() bool {
		st, err := consumerStatus(t, slow.c, creating)
		return err == nil && st == types.ConsumerStatusActive
	})
	es = slow.mustSubscribe(creating, "shardId-000000000000", types.StartingPosition{Type: types.ShardIteratorTypeLatest})
	if _, err := slow.c.DeregisterStreamConsumer(ctx, &kinesis.DeregisterStreamConsumerInput{ConsumerARN: &creating}); err != nil {
		t.Fatal(err)
	}
	for ev := next(t, es, 10*time.Second); ev != nil; ev = next(t, es, 10*time.Second) {
	}
	if apiCode(es.Err()) != "ResourceInUseException" {
		t.Fatalf("subscription of a DELETING consumer ended with %v", es.Err())
	}
}

// Errors found before streaming are plain HTTP errors.
func TestSubscribeErrors(t *testing.T) {
	e := newEFO(t, 2)
	arn := e.consumer("errs")
	seqs := e.put("x")
	var shardOfX string
	{
		sh, err := e.c.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String(e.stream)})
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range sh.Shards {
			it, _ := e.c.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String(e.stream), ShardId: s.ShardId, ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
			r, _ := e.c.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: it.ShardIterator})
			if len(r.Records) > 0 {
				shardOfX = aws.ToString(s.ShardId)
			}
		}
	}
	otherShard := "shardId-000000000000"
	if shardOfX == otherShard {
		otherShard = "shardId-000000000001"
	}
	future := time.Now().Add(time.Hour)
	unknown := strings.Replace(arn, "consumer/errs:", "consumer/nope:", 1)
	cases := []struct {
		name  string
		arn   string
		shard string
		pos   types.StartingPosition
		code  string
	}{
		{"unknown consumer", unknown, "shardId-000000000000", types.StartingPosition{Type: types.ShardIteratorTypeLatest}, "ResourceNotFoundException"},
		{"stream ARN", streamARNOf(e.stream), "shardId-000000000000", types.StartingPosition{Type: types.ShardIteratorTypeLatest}, "InvalidArgumentException"},
		{"unknown shard", arn, "shardId-000000000009", types.StartingPosition{Type: types.ShardIteratorTypeLatest}, "ResourceNotFoundException"},
		{"seq type without number", arn, "shardId-000000000000", types.StartingPosition{Type: types.ShardIteratorTypeAtSequenceNumber}, "InvalidArgumentException"},
		{"number of another shard", arn, otherShard, types.StartingPosition{Type: types.ShardIteratorTypeAtSequenceNumber, SequenceNumber: &seqs[0]}, "InvalidArgumentException"},
		{"future timestamp", arn, "shardId-000000000000", types.StartingPosition{Type: types.ShardIteratorTypeAtTimestamp, Timestamp: &future}, "InvalidArgumentException"},
		{"bad type", arn, "shardId-000000000000", types.StartingPosition{Type: "SOMETIME"}, "ValidationException"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.subscribe(nil, tc.arn, tc.shard, tc.pos)
			if apiCode(err) != tc.code {
				t.Fatalf("got %v, want %s", err, tc.code)
			}
		})
	}
	if n := e.srv.Kinesis.Subscriptions(); n != 0 {
		t.Fatalf("%d subscriptions registered by failed calls", n)
	}
}

// A reader following ChildShards across a split and then a merge sees every
// record exactly once, and every shard end carries ChildShards with parents
// and no ContinuationSequenceNumber.
func TestSubscribeFollowsChildShards(t *testing.T) {
	e := newEFO(t, 1)
	arn := e.consumer("follow")
	var want []string
	batch := func(tag string) {
		var d []string
		for i := 0; i < 30; i++ {
			d = append(d, fmt.Sprintf("%s-%02d", tag, i))
		}
		e.put(d...)
		want = append(want, d...)
	}
	batch("before-split")
	if _, err := e.c.SplitShard(ctx, &kinesis.SplitShardInput{StreamName: aws.String(e.stream), ShardToSplit: aws.String("shardId-000000000000"),
		NewStartingHashKey: aws.String("170141183460469231731687303715884105728")}); err != nil {
		t.Fatal(err)
	}
	eddytest.WaitActive(t, e.c, e.stream)
	batch("after-split")
	if _, err := e.c.MergeShards(ctx, &kinesis.MergeShardsInput{StreamName: aws.String(e.stream), ShardToMerge: aws.String("shardId-000000000001"), AdjacentShardToMerge: aws.String("shardId-000000000002")}); err != nil {
		t.Fatal(err)
	}
	eddytest.WaitActive(t, e.c, e.stream)
	batch("after-merge")

	seen := map[string]int{}
	queue := []string{"shardId-000000000000"}
	done := map[string]bool{}
	ends := 0
	for len(queue) > 0 {
		shard := queue[0]
		queue = queue[1:]
		if done[shard] {
			continue
		}
		done[shard] = true
		es := e.mustSubscribe(arn, shard, types.StartingPosition{Type: types.ShardIteratorTypeTrimHorizon})
		deadline := time.Now().Add(10 * time.Second)
		for {
			if len(seen) == len(want) && shard == "shardId-000000000003" {
				break // the open shard has no end
			}
			ev := next(t, es, time.Until(deadline))
			if ev == nil {
				t.Fatalf("shard %s: stream ended without a shard-end event: %v", shard, es.Err())
			}
			for _, r := range ev.Records {
				seen[string(r.Data)]++
			}
			if ev.ContinuationSequenceNumber == nil {
				if len(ev.ChildShards) == 0 {
					t.Fatalf("shard %s: null ContinuationSequenceNumber without ChildShards", shard)
				}
				for _, c := range ev.ChildShards {
					wantParents := 1 // split children
					if aws.ToString(c.ShardId) == "shardId-000000000003" {
						wantParents = 2 // the merge child
					}
					if len(c.ParentShards) != wantParents {
						t.Fatalf("child %s lists parents %v", aws.ToString(c.ShardId), c.ParentShards)
					}
					queue = append(queue, aws.ToString(c.ShardId))
				}
				ends++
				if ev := next(t, es, 10*time.Second); ev != nil {
					t.Fatalf("event after shard end: %+v", ev)
				}
				if err := es.Err(); err != nil {
					t.Fatalf("stream after shard end: %v", err)
				}
				break
			}
			if len(ev.ChildShards) != 0 {
				t.Fatalf("ChildShards with a ContinuationSequenceNumber")
			}
		}
	}
	if ends != 3 {
		t.Fatalf("%d shard ends, want 3 (shards 0, 1, 2)", ends)
	}
	for _, d := range want {
		if seen[d] != 1 {
			t.Fatalf("record %s seen %d times", d, seen[d])
		}
	}
	if len(seen) != len(want) {
		t.Fatalf("%d distinct records, want %d", len(seen), len(want))
	}
}

// An idle subscription sends heartbeats carrying a continuation number that
// resumes at the right record, and ends cleanly after its lifetime.
func TestSubscribeHeartbeatAndLifetime(t *testing.T) {
	e := newEFO(t, 1)
	e.srv.Kinesis.SetFanoutOptions(kin.FanoutOptions{Lifetime: 500 * time.Millisecond, Heartbeat: 50 * time.Millisecond})
	arn := e.consumer("beat")
	es := e.mustSubscribe(arn, "shardId-000000000000", types.StartingPosition{Type: types.ShardIteratorTypeTrimHorizon})
	ev := next(t, es, 10*time.Second)
	if ev == nil || len(ev.Records) != 0 || ev.ContinuationSequenceNumber == nil {
		t.Fatalf("want an empty heartbeat with a continuation number, got %+v (%v)", ev, es.Err())
	}
	cont := *ev.ContinuationSequenceNumber
	start := time.Now()
	beats := 1
	for ev := next(t, es, 10*time.Second); ev != nil; ev = next(t, es, 10*time.Second) {
		beats++
	}
	if err := es.Err(); err != nil {
		t.Fatalf("lifetime end: %v", err)
	}
	if beats < 3 || time.Since(start) > 5*time.Second {
		t.Fatalf("%d heartbeats; ended after %v", beats, time.Since(start))
	}

	// resume after the heartbeat's number: nothing is skipped
	e.put("first", "second")
	es = e.mustSubscribe(arn, "shardId-000000000000", types.StartingPosition{Type: types.ShardIteratorTypeAfterSequenceNumber, SequenceNumber: &cont})
	if got := collect(t, es, 2); got[0] != "first" || got[1] != "second" {
		t.Fatalf("resumed at %v", got)
	}
}

// Closing the server ends open subscriptions promptly.
func TestSubscribeShutdown(t *testing.T) {
	e := newEFO(t, 1)
	es := e.mustSubscribe(e.consumer("shut"), "shardId-000000000000", types.StartingPosition{Type: types.ShardIteratorTypeLatest})
	start := time.Now()
	if err := e.srv.Close(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("Close took %v with an open subscription", d)
	}
	select {
	case <-es.Events():
	case <-time.After(10 * time.Second):
		t.Fatal("subscription still open after Close")
	}
}

// A Java-style CBOR request gets CBOR event payloads.
func TestSubscribeCBOR(t *testing.T) {
	e := newEFO(t, 1)
	arn := e.consumer("cbor")
	e.put("cbor-record")
	body, err := cbor.Marshal(map[string]any{"ConsumerARN": arn, "ShardId": "shardId-000000000000", "StartingPosition": map[string]any{"Type": "TRIM_HORIZON"}})
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("POST", e.srv.URL()+"/", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/x-amz-cbor-1.1")
	req.Header.Set("X-Amz-Target", "Kinesis_20131202.SubscribeToShard")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/vnd.amazon.eventstream" {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("status %d %s: %x", resp.StatusCode, resp.Header.Get("Content-Type"), b)
	}
	dec := eventstream.NewDecoder(resp.Body)
	m, err := dec.Decode()
	if err != nil {
		t.Fatal(err)
	}
	if m.String(":event-type") != "initial-response" || !bytes.Equal(m.Payload, []byte{0xa0}) {
		t.Fatalf("first message %+v", m)
	}
	m, err = dec.Decode()
	if err != nil {
		t.Fatal(err)
	}
	if m.String(":message-type") != "event" || m.String(":event-type") != "SubscribeToShardEvent" {
		t.Fatalf("second message headers %+v", m.Headers)
	}
	var ev struct {
		Records []struct {
			Data                        []byte
			PartitionKey                string
			SequenceNumber              string
			ApproximateArrivalTimestamp cbor.Tag
		}
		ContinuationSequenceNumber string
		MillisBehindLatest         int64
	}
	if err := cbor.Unmarshal(m.Payload, &ev); err != nil {
		t.Fatalf("payload is not CBOR: %v", err)
	}
	if len(ev.Records) != 1 || string(ev.Records[0].Data) != "cbor-record" || ev.ContinuationSequenceNumber != ev.Records[0].SequenceNumber {
		t.Fatalf("event %+v", ev)
	}
	ts := ev.Records[0].ApproximateArrivalTimestamp
	ms, ok := ts.Content.(uint64)
	if ts.Number != 1 || !ok || time.Since(time.UnixMilli(int64(ms))) > time.Minute {
		t.Fatalf("timestamp %+v: want tag 1 around epoch milliseconds", ts)
	}
}

// Several consumers on one shard share encoded events; each still gets
// every record once, in order.
func TestSubscribeManyReaders(t *testing.T) {
	e := newEFO(t, 1)
	const readers = 5
	var streams []*kinesis.SubscribeToShardEventStream
	for i := range readers {
		streams = append(streams, e.mustSubscribe(e.consumer(fmt.Sprint("many-", i)), "shardId-000000000000", types.StartingPosition{Type: types.ShardIteratorTypeTrimHorizon}))
	}
	var want []string
	for b := range 10 {
		var d []string
		for i := range 20 {
			d = append(d, fmt.Sprintf("r%02d-%02d", b, i))
		}
		e.put(d...)
		want = append(want, d...)
	}
	for i, es := range streams {
		if got := collect(t, es, len(want)); strings.Join(got, ",") != strings.Join(want, ",") {
			t.Fatalf("reader %d got %d records, out of order or duplicated", i, len(got))
		}
	}
}

// A subscriber that stops reading holds back neither producers nor other
// subscribers: its response blocks on flow control while they go on.
func TestSubscribeStalledReader(t *testing.T) {
	e := newEFO(t, 1)
	stalled := e.consumer("stalled")
	live := e.mustSubscribe(e.consumer("live"), "shardId-000000000000", types.StartingPosition{Type: types.ShardIteratorTypeLatest})

	// a raw HTTP/1.1 request whose response is never read
	conn, err := net.Dial("tcp", strings.TrimPrefix(e.srv.URL(), "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	body := fmt.Sprintf(`{"ConsumerARN":%q,"ShardId":"shardId-000000000000","StartingPosition":{"Type":"LATEST"}}`, stalled)
	fmt.Fprintf(conn, "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-amz-json-1.1\r\nX-Amz-Target: Kinesis_20131202.SubscribeToShard\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
	waitFor(t, "two subscriptions", func() bool { return e.srv.Kinesis.Subscriptions() == 2 })

	// 32 MiB: far more than socket buffers hold for the stalled reader
	big := strings.Repeat("x", 64<<10)
	const puts = 32
	done := make(chan []string)
	go func() {
		var got []string
		for len(got) < puts*8 {
			ev := next(t, live, 30*time.Second)
			if ev == nil {
				break
			}
			for _, r := range ev.Records {
				got = append(got, string(r.Data[:8]))
			}
		}
		done <- got
	}()
	start := time.Now()
	for i := range puts {
		var entries []types.PutRecordsRequestEntry
		for j := range 8 {
			entries = append(entries, types.PutRecordsRequestEntry{Data: []byte(fmt.Sprintf("%03d-%03d-", i, j)[:8] + big), PartitionKey: aws.String(fmt.Sprint(j))})
		}
		if _, err := e.c.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String(e.stream), Records: entries}); err != nil {
			t.Fatal(err)
		}
	}
	putTime := time.Since(start)
	got := <-done
	if len(got) != puts*8 {
		t.Fatalf("live subscriber got %d of %d records", len(got), puts*8)
	}
	if putTime > 20*time.Second {
		t.Fatalf("producer took %v with a stalled subscriber", putTime)
	}
	if n := e.srv.Kinesis.Subscriptions(); n != 2 {
		t.Fatalf("%d subscriptions, want the stalled one still open", n)
	}
}
