package firehose_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	fh "github.com/aws/aws-sdk-go-v2/service/firehose"
	fhtypes "github.com/aws/aws-sdk-go-v2/service/firehose/types"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	ktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/eddy-streams/eddy/internal/firehose"
	ks "github.com/eddy-streams/eddy/internal/kinesis"
	"github.com/eddy-streams/eddy/internal/storage/memstore"
)

// gatedStreams is the real in-process Data Streams API with a gate in front
// of Shards: a closed gate parks the source reader at the start of its next
// pass (signalled on parked) until it is opened, so that a test can reshard
// while the reader holds unread records of the parent.
type gatedStreams struct {
	firehose.SourceStreams
	mu     sync.Mutex
	closed bool
	open   chan struct{}
	parked chan struct{}
}

func (g *gatedStreams) Shards(ref ks.StreamRef) ([]ks.ShardInfo, error) {
	g.mu.Lock()
	closed, open := g.closed, g.open
	g.mu.Unlock()
	if closed {
		select {
		case g.parked <- struct{}{}:
		default:
		}
		<-open
	}
	return g.SourceStreams.Shards(ref)
}

func (g *gatedStreams) close() {
	g.mu.Lock()
	g.closed, g.open = true, make(chan struct{})
	g.mu.Unlock()
}

func (g *gatedStreams) release() {
	g.mu.Lock()
	g.closed = false
	close(g.open)
	g.mu.Unlock()
}

// putKinesisKey puts data in PutRecords calls of at most 500 records, all
// with partition key pk ("" spreads them over pk-0, pk-1, …).
func putKinesisKey(t testing.TB, c *kinesis.Client, stream, pk string, data [][]byte) {
	t.Helper()
	for len(data) > 0 {
		n := min(len(data), 500)
		in := &kinesis.PutRecordsInput{StreamName: aws.String(stream)}
		for i, d := range data[:n] {
			k := pk
			if k == "" {
				k = fmt.Sprintf("pk-%d", i)
			}
			in.Records = append(in.Records, ktypes.PutRecordsRequestEntry{Data: d, PartitionKey: aws.String(k)})
		}
		out, err := c.PutRecords(context.Background(), in)
		if err != nil || aws.ToInt32(out.FailedRecordCount) != 0 {
			t.Fatalf("put records: %v", err)
		}
		data = data[n:]
	}
}

func numbered(prefix string, n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = []byte(fmt.Sprintf("%s-%05d", prefix, i))
	}
	return out
}

// kdsToHTTP creates a KinesisStreamAsSource delivery stream reading src and
// delivering to url (an HTTP endpoint delivers batches in buffer order).
func kdsToHTTP(t testing.TB, c *fh.Client, name, src, url string) {
	t.Helper()
	_, err := c.CreateDeliveryStream(context.Background(), &fh.CreateDeliveryStreamInput{
		DeliveryStreamName: aws.String(name), DeliveryStreamType: fhtypes.DeliveryStreamTypeKinesisStreamAsSource,
		KinesisStreamSourceConfiguration: &fhtypes.KinesisStreamSourceConfiguration{
			KinesisStreamARN: aws.String("arn:aws:kinesis:us-east-1:000000000000:stream/" + src), RoleARN: aws.String("arn:aws:iam::000000000000:role/r")},
		HttpEndpointDestinationConfiguration: &fhtypes.HttpEndpointDestinationConfiguration{
			EndpointConfiguration: &fhtypes.HttpEndpointConfiguration{Url: aws.String(url)},
			BufferingHints:        &fhtypes.HttpEndpointBufferingHints{SizeInMBs: aws.Int32(1), IntervalInSeconds: aws.Int32(0)},
			S3Configuration: &fhtypes.S3DestinationConfiguration{BucketARN: aws.String("arn:aws:s3:::unused"),
				RoleARN: aws.String("arn:aws:iam::000000000000:role/r")}},
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestKinesisSourceSplitWhileDelivering splits the source's only shard
// while the reader still has more than one read's worth (10,000 records)
// of the parent unread and the children already hold records: every
// record arrives, the parent's all before any child's, none twice.
func TestKinesisSourceSplitWhileDelivering(t *testing.T) {
	gate := &gatedStreams{parked: make(chan struct{}, 1)}
	srv := startServer(t, nil, "http://127.0.0.1:1", func(o *firehose.Options) {
		gate.SourceStreams = o.Streams
		o.Streams = gate
	})
	recv := newHTTPReceiver(t)
	kc, fc := srv.Kinesis(), srv.Firehose()
	ctx := context.Background()
	if _, err := kc.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String("sp"), ShardCount: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	waitStreamActive(t, kc, "sp")
	kdsToHTTP(t, fc, "sp", "sp", recv.srv.URL)

	first := numbered("a", 100)
	putKinesisKey(t, kc, "sp", "k", first)
	waitFor(t, 20*time.Second, "first batch delivered", func() bool { r, _ := recv.got(); return len(r) == len(first) })

	// Park the reader, fill the parent beyond one read, split, fill both
	// children, then let the reader go.
	gate.close()
	parent := numbered("b", 12000)
	putKinesisKey(t, kc, "sp", "k", parent)
	select {
	case <-gate.parked:
	case <-time.After(20 * time.Second):
		t.Fatal("the reader did not wake up for the parent's records")
	}
	ls, err := kc.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String("sp")})
	if err != nil {
		t.Fatal(err)
	}
	hi, _ := new(big.Int).SetString(aws.ToString(ls.Shards[0].HashKeyRange.EndingHashKey), 10)
	mid := new(big.Int).Rsh(hi, 1)
	if _, err := kc.SplitShard(ctx, &kinesis.SplitShardInput{StreamName: aws.String("sp"), ShardToSplit: ls.Shards[0].ShardId,
		NewStartingHashKey: aws.String(mid.String())}); err != nil {
		t.Fatal(err)
	}
	waitStreamActive(t, kc, "sp")
	children := numbered("c", 300)
	putKinesisKey(t, kc, "sp", "", children) // pk-0… spread over both children
	ls, err = kc.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String("sp")})
	if err != nil || len(ls.Shards) != 3 {
		t.Fatalf("shards after the split: %+v %v", ls, err)
	}
	gate.release()

	total := len(first) + len(parent) + len(children)
	var got [][]byte
	waitFor(t, 30*time.Second, "every record delivered", func() bool { got, _ = recv.got(); return len(got) >= total })
	seen := map[string]int{}
	lastParent, firstChild := -1, -1
	for i, r := range got {
		seen[string(r)]++
		switch r[0] {
		case 'b':
			lastParent = i
		case 'c':
			if firstChild < 0 {
				firstChild = i
			}
		}
	}
	for _, set := range [][][]byte{first, parent, children} {
		for _, r := range set {
			if seen[string(r)] != 1 {
				t.Fatalf("record %s delivered %d times", r, seen[string(r)])
			}
		}
	}
	if len(got) != total {
		t.Fatalf("%d records delivered, want %d", len(got), total)
	}
	if firstChild < lastParent {
		t.Fatalf("a child's record (at %d) was delivered before the parent's last (at %d)", firstChild, lastParent)
	}
	// Within the parent, the order of the single partition key holds.
	prev := ""
	for _, r := range got {
		if s := string(r); r[0] != 'c' {
			if s < prev {
				t.Fatalf("%s delivered after %s", s, prev)
			}
			prev = s
		}
	}
}

// TestKinesisSourceRecreatedStream deletes the source stream and creates
// another of the same name: the reader waits while it is gone, then reads
// the new stream from its start (the old stream's checkpoint does not
// apply to it), and nothing of the old one is delivered again.
func TestKinesisSourceRecreatedStream(t *testing.T) {
	srv := startServer(t, nil, "http://127.0.0.1:1")
	recv := newHTTPReceiver(t)
	kc, fc := srv.Kinesis(), srv.Firehose()
	ctx := context.Background()
	if _, err := kc.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String("rc"), ShardCount: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	waitStreamActive(t, kc, "rc")
	kdsToHTTP(t, fc, "rc", "rc", recv.srv.URL)
	old := numbered("old", 80)
	putKinesisKey(t, kc, "rc", "k", old)
	waitFor(t, 20*time.Second, "old stream delivered", func() bool { r, _ := recv.got(); return len(r) == len(old) })

	oldRef, err := srv.kin.ResolveARN("arn:aws:kinesis:us-east-1:000000000000:stream/rc")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kc.DeleteStream(ctx, &kinesis.DeleteStreamInput{StreamName: aws.String("rc")}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, "stream deleted", func() bool {
		_, err := srv.kin.Resolve("000000000000", "us-east-1", "rc")
		return errors.Is(err, ks.ErrStreamGone)
	})
	// Fewer records than before: a reader that applied the old stream's
	// sequence numbers to the new one would skip them all.
	for {
		if _, err := kc.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String("rc"), ShardCount: aws.Int32(1)}); err == nil {
			break
		} else if apiCode(err) != "ResourceInUseException" {
			t.Fatal(err)
		}
	}
	waitStreamActive(t, kc, "rc")
	newRef, err := srv.kin.ResolveARN("arn:aws:kinesis:us-east-1:000000000000:stream/rc")
	if err != nil || newRef.CreatedMs == oldRef.CreatedMs {
		t.Fatalf("recreated stream: %+v %v (old %+v)", newRef, err, oldRef)
	}
	if _, err := srv.kin.Shards(oldRef); !errors.Is(err, ks.ErrStreamGone) {
		t.Fatalf("old incarnation still readable: %v", err)
	}
	fresh := numbered("new", 30)
	putKinesisKey(t, kc, "rc", "k", fresh)
	var got [][]byte
	waitFor(t, 20*time.Second, "new stream delivered", func() bool { got, _ = recv.got(); return len(got) >= len(old)+len(fresh) })
	want := append(append([][]byte{}, old...), fresh...)
	if len(got) != len(want) {
		t.Fatalf("%d records delivered, want %d", len(got), len(want))
	}
	for i := range want {
		if !bytes.Equal(got[i], want[i]) {
			t.Fatalf("record %d is %s, want %s", i, got[i], want[i])
		}
	}
}

// TestKinesisSourceLegacyCheckpoint resumes from metadata written before
// the in-process reader: per-shard progress as a bare sequence number,
// without the source stream's creation stamp. Nothing is read twice and
// nothing is skipped.
func TestKinesisSourceLegacyCheckpoint(t *testing.T) {
	be := memstore.New(nil)
	srv := startServer(t, be, "http://127.0.0.1:1")
	recv := newHTTPReceiver(t)
	kc, fc := srv.Kinesis(), srv.Firehose()
	ctx := context.Background()
	if _, err := kc.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String("lg"), ShardCount: aws.Int32(2)}); err != nil {
		t.Fatal(err)
	}
	waitStreamActive(t, kc, "lg")
	kdsToHTTP(t, fc, "lg", "lg", recv.srv.URL)
	before := numbered("before", 60)
	putKinesisKey(t, kc, "lg", "", before)
	waitFor(t, 20*time.Second, "first batch delivered", func() bool { r, _ := recv.got(); return len(r) == len(before) })
	srv.Close()

	// Rewrite the metadata into the old format: {"seq": …} per shard.
	blob, err := be.LoadMeta("firehose")
	if err != nil || blob == nil {
		t.Fatalf("load metadata: %v", err)
	}
	var meta map[string]any
	if err := json.Unmarshal(blob, &meta); err != nil {
		t.Fatal(err)
	}
	streams := meta["streams"].([]any)
	shards := streams[0].(map[string]any)["shards"].(map[string]any)
	if len(shards) != 2 {
		t.Fatalf("checkpoint of %d shards: %s", len(shards), blob)
	}
	for id, p := range shards {
		prog := p.(map[string]any)
		if _, ok := prog["seq"].(string); !ok {
			t.Fatalf("shard %s has no sequence number: %s", id, blob)
		}
		shards[id] = map[string]any{"seq": prog["seq"]}
	}
	legacy, _ := json.Marshal(meta)
	if bytes.Contains(legacy, []byte(`"stream":`)) {
		t.Fatalf("not the old format: %s", legacy)
	}
	if err := be.SaveMeta("firehose", legacy); err != nil {
		t.Fatal(err)
	}

	srv = startServer(t, be, "http://127.0.0.1:1")
	kc = srv.Kinesis()
	after := numbered("after", 40)
	putKinesisKey(t, kc, "lg", "", after)
	var got [][]byte
	waitFor(t, 20*time.Second, "second batch delivered", func() bool { got, _ = recv.got(); return len(got) >= len(before)+len(after) })
	seen := map[string]int{}
	for _, r := range got {
		seen[string(r)]++
	}
	for _, r := range append(append([][]byte{}, before...), after...) {
		if seen[string(r)] != 1 {
			t.Errorf("record %s delivered %d times", r, seen[string(r)])
		}
	}
	if len(got) != len(before)+len(after) {
		t.Fatalf("%d records delivered, want %d", len(got), len(before)+len(after))
	}
}
