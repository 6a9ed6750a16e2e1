package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/eddy-streams/eddy/internal/awsclient"
	"github.com/eddy-streams/eddy/internal/shardmap"
	"github.com/eddy-streams/eddy/pkg/consumer"
	"github.com/eddy-streams/eddy/pkg/kpl"
	"github.com/eddy-streams/eddy/pkg/producer"
)

// nodeAgg runs e2e/kplnode/agg.js (the aws-kinesis-agg npm module) in mode
// on JSON lines and returns its JSON lines.
func nodeAgg(t *testing.T, mode string, in []map[string]any) []map[string]any {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		t.Fatal("node not installed: run scripts/setup.d/40-node.sh")
	}
	if _, err := os.Stat("kplnode/node_modules/aws-kinesis-agg"); err != nil {
		t.Fatal("e2e/kplnode/node_modules missing: run scripts/setup.d/45-kplnode.sh")
	}
	var stdin bytes.Buffer
	enc := json.NewEncoder(&stdin)
	for _, l := range in {
		enc.Encode(l)
	}
	cmd := exec.Command("node", "kplnode/agg.js", mode)
	cmd.Stdin = &stdin
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node agg.js %s: %v\n%s", mode, err, stderr.String())
	}
	var res []map[string]any
	dec := json.NewDecoder(bytes.NewReader(out))
	for dec.More() {
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			t.Fatal(err)
		}
		res = append(res, m)
	}
	return res
}

func ownBodyClient(url string) *kinesis.Client {
	c := kinesisClient(url, nil)
	return kinesis.New(c.Options(), func(o *kinesis.Options) {
		o.HTTPClient = awsclient.OwnBody{Next: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}}
	})
}

func createStream(t *testing.T, c *kinesis.Client, name string, shards int32) {
	t.Helper()
	ctx := context.Background()
	if _, err := c.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(name), ShardCount: aws.Int32(shards)}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "stream ACTIVE", func() bool {
		out, err := c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(name)})
		return err == nil && out.StreamDescriptionSummary.StreamStatus == types.StreamStatusActive
	})
}

// readAll returns every record of every shard (TRIM_HORIZON to the end).
func readAll(t *testing.T, c *kinesis.Client, stream string) map[*types.Shard][]types.Record {
	t.Helper()
	ctx := context.Background()
	ls, err := c.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String(stream)})
	if err != nil {
		t.Fatal(err)
	}
	out := map[*types.Shard][]types.Record{}
	for i := range ls.Shards {
		sh := &ls.Shards[i]
		it, err := c.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String(stream), ShardId: sh.ShardId, ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
		if err != nil {
			t.Fatal(err)
		}
		iter := it.ShardIterator
		for iter != nil {
			res, err := c.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: iter})
			if err != nil {
				t.Fatal(err)
			}
			out[sh] = append(out[sh], res.Records...)
			if len(res.Records) == 0 && aws.ToInt64(res.MillisBehindLatest) == 0 {
				break
			}
			iter = res.NextShardIterator
		}
	}
	return out
}

// TestNodeDeaggregatesProducer: what pkg/producer aggregates into the built
// server, the aws-kinesis-agg npm module de-aggregates (checksums on) into
// exactly the user records put, with sub-sequence numbers 0..n-1 per
// Kinesis record, and every user record of an aggregate lies in the hash
// range of the shard it was stored on (what a KCL requires).
func TestNodeDeaggregatesProducer(t *testing.T) {
	srv := startServer(t, "", "--durability", "none")
	c := ownBodyClient(srv.URL)
	createStream(t, c, "kpl", 4)
	ctx := context.Background()
	p, err := producer.New(ctx, producer.Config{StreamName: "kpl", Client: c, RateLimit: -1})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{} // data -> partition key
	ehks := map[string]string{}
	for i := range 5000 {
		pk := fmt.Sprintf("user-%d", i%97)
		data := fmt.Sprintf("%s-event-%d-%s", pk, i, strings.Repeat("x", i%50))
		if i%10 == 0 {
			ehk := shardmap.HashPartitionKey(fmt.Sprint("other", i)).String()
			ehks[data] = ehk
			err = p.PutWithHashKey(ctx, pk, ehk, []byte(data))
		} else {
			err = p.Put(ctx, pk, []byte(data))
		}
		if err != nil {
			t.Fatal(err)
		}
		want[data] = pk
	}
	if err := p.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if cn := p.Counters(); cn.UserRecordsPut != 5000 || cn.KinesisRecordsPut > 500 {
		t.Fatalf("counters %+v", cn)
	}

	var in []map[string]any
	aggregates := 0
	for sh, recs := range readAll(t, c, "kpl") {
		lo, _ := shardmap.ParseHashKey(aws.ToString(sh.HashKeyRange.StartingHashKey))
		hi, _ := shardmap.ParseHashKey(aws.ToString(sh.HashKeyRange.EndingHashKey))
		rng := shardmap.Range{Start: lo, End: hi}
		for _, r := range recs {
			if users, ok := kpl.Deaggregate(r.Data); ok {
				aggregates++
				for _, u := range users {
					hk := shardmap.HashPartitionKey(u.PartitionKey)
					if u.ExplicitHashKey != "" {
						hk, _ = shardmap.ParseHashKey(u.ExplicitHashKey)
					}
					if !rng.Contains(hk) {
						t.Fatalf("user record %s stored on %s outside its range", u.Data, aws.ToString(sh.ShardId))
					}
				}
			}
			in = append(in, map[string]any{"data": base64.StdEncoding.EncodeToString(r.Data),
				"partitionKey": aws.ToString(r.PartitionKey), "sequenceNumber": aws.ToString(r.SequenceNumber)})
		}
	}
	if aggregates == 0 {
		t.Fatal("no aggregated records stored")
	}
	got := nodeAgg(t, "deagg", in)
	if len(got) != len(want) {
		t.Fatalf("aws-kinesis-agg gave %d user records, want %d", len(got), len(want))
	}
	nextSub := map[string]float64{}
	for _, u := range got {
		raw, _ := base64.StdEncoding.DecodeString(u["data"].(string))
		d := string(raw)
		pk, ok := want[d]
		if !ok {
			t.Fatalf("unexpected or duplicate user record %q", d)
		}
		delete(want, d)
		if u["partitionKey"] != pk {
			t.Errorf("%s: partition key %v, want %s", d, u["partitionKey"], pk)
		}
		if e := ehks[d]; e != "" && u["explicitPartitionKey"] != e {
			t.Errorf("%s: explicit hash key %v, want %s", d, u["explicitPartitionKey"], e)
		}
		seq := u["sequenceNumber"].(string)
		if sub, _ := u["subSequenceNumber"].(float64); sub != nextSub[seq] {
			t.Errorf("%s: subSequenceNumber %v, want %v", d, sub, nextSub[seq])
		}
		nextSub[seq]++
	}
}

// TestNodeAggregatesForKPL: what the aws-kinesis-agg npm module aggregates,
// pkg/kpl de-aggregates into the same user records (keys, explicit hash
// keys, data, order), and pkg/consumer delivers them from the built server.
func TestNodeAggregatesForKPL(t *testing.T) {
	var in []map[string]any
	var want []kpl.Record
	for i := range 3000 {
		r := kpl.Record{PartitionKey: fmt.Sprintf("pk-%d", i%13), Data: []byte(fmt.Sprintf("payload %d %s", i, strings.Repeat("y", i%200)))}
		m := map[string]any{"partitionKey": r.PartitionKey, "data": base64.StdEncoding.EncodeToString(r.Data)}
		if i%7 == 0 {
			r.ExplicitHashKey = fmt.Sprint(1000 + i)
			m["explicitHashKey"] = r.ExplicitHashKey
		}
		in = append(in, m)
		want = append(want, r)
	}
	out := nodeAgg(t, "agg", in)
	if len(out) == 0 {
		t.Fatalf("aws-kinesis-agg produced %d Kinesis records for 3000 user records", len(out))
	}
	var got []kpl.Record
	for _, k := range out {
		b, _ := base64.StdEncoding.DecodeString(k["data"].(string))
		users, ok := kpl.Deaggregate(b)
		if !ok {
			t.Fatalf("not an aggregate: % x", b[:min(16, len(b))])
		}
		got = append(got, users...)
	}
	if len(got) != len(want) {
		t.Fatalf("%d user records, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i].PartitionKey != want[i].PartitionKey || got[i].ExplicitHashKey != want[i].ExplicitHashKey || !bytes.Equal(got[i].Data, want[i].Data) {
			t.Fatalf("record %d: got %+v want %+v", i, got[i], want[i])
		}
	}

	// and pkg/consumer reads them from the built server as user records with
	// sub-sequence numbers (one shard: aws-kinesis-agg is not shard-aware)
	srv := startServer(t, "", "--durability", "none")
	c := ownBodyClient(srv.URL)
	createStream(t, c, "nodeagg", 1)
	ctx := context.Background()
	for _, k := range out {
		b, _ := base64.StdEncoding.DecodeString(k["data"].(string))
		in := &kinesis.PutRecordInput{StreamName: aws.String("nodeagg"), PartitionKey: aws.String(k["partitionKey"].(string)), Data: b}
		if e, ok := k["explicitHashKey"].(string); ok && e != "" {
			in.ExplicitHashKey = aws.String(e)
		}
		if _, err := c.PutRecord(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	var consumed []consumer.Record
	rec := recorder{mu: &mu, out: &consumed}
	w, err := consumer.New(consumer.Config{StreamName: "nodeagg", Kinesis: c, Leases: consumer.NewMemoryStore(),
		Processor: func(string) consumer.RecordProcessor { return rec }, IdleTimeBetweenReads: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- w.Run(wctx) }()
	waitFor(t, "pkg/consumer to read the aws-kinesis-agg records", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(consumed) >= len(want)
	})
	cancel()
	<-done
	if len(consumed) != len(want) {
		t.Fatalf("consumed %d, want %d", len(consumed), len(want))
	}
	sub := int64(0)
	for i, r := range consumed {
		if r.PartitionKey != want[i].PartitionKey || r.ExplicitHashKey != want[i].ExplicitHashKey || !bytes.Equal(r.Data, want[i].Data) || !r.Aggregated {
			t.Fatalf("consumed %d: %+v want %+v", i, r, want[i])
		}
		if i > 0 && r.SequenceNumber != consumed[i-1].SequenceNumber {
			sub = 0
		}
		if r.SubSequenceNumber != sub {
			t.Fatalf("consumed %d: sub-sequence %d, want %d", i, r.SubSequenceNumber, sub)
		}
		sub++
	}
}

// recorder keeps every record it is given.
type recorder struct {
	mu  *sync.Mutex
	out *[]consumer.Record
}

func (r recorder) Initialize(context.Context, consumer.InitializationInput) {}
func (r recorder) ProcessRecords(ctx context.Context, in consumer.ProcessRecordsInput) {
	r.mu.Lock()
	*r.out = append(*r.out, in.Records...)
	r.mu.Unlock()
	in.Checkpointer.Checkpoint(ctx)
}
func (r recorder) LeaseLost(context.Context, consumer.LeaseLostInput) {}
func (r recorder) ShardEnded(ctx context.Context, in consumer.ShardEndedInput) {
	in.Checkpointer.Checkpoint(ctx)
}
func (r recorder) ShutdownRequested(ctx context.Context, in consumer.ShutdownRequestedInput) {
	in.Checkpointer.Checkpoint(ctx)
}

func dynamoCfg(url string) aws.Config {
	return aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
		BaseEndpoint: aws.String(url),
		HTTPClient:   awsclient.OwnBody{Next: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}},
	}
}
