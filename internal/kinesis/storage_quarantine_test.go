package kinesis_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/eddy-streams/eddy/internal/eddytest"
)

// TestQuarantinedShardThroughAPI: a shard whose files were damaged while
// the server was down is quarantined at the next start instead of
// stopping the server. Through the SDK, its writes and reads answer
// InternalFailure while the stream's other shards read and write.
func TestQuarantinedShardThroughAPI(t *testing.T) {
	if os.Getenv("EDDY_TEST_BACKEND") == "nats" {
		t.Skip("quarantine is logstore's answer to a damaged segment file; natsstore has no segment files")
	}
	dir := t.TempDir()
	keys := []string{"0", "170141183460469231731687303715884105728", "340282366920938463463374607431768211455"} // shards 0, 1, 2
	put := func(c *kinesis.Client) *kinesis.PutRecordsOutput {
		t.Helper()
		var entries []types.PutRecordsRequestEntry
		for _, k := range keys {
			entries = append(entries, types.PutRecordsRequestEntry{PartitionKey: aws.String("pk"), ExplicitHashKey: aws.String(k), Data: []byte("rec-" + k)})
		}
		out, err := c.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String("q"), Records: entries})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	srv := eddytest.Start(t, eddytest.WithDataDir(dir))
	c := eddytest.Kinesis(srv)
	createStream(t, c, "q", 3)
	if out := put(c); aws.ToInt32(out.FailedRecordCount) != 0 {
		t.Fatalf("put before the damage: %+v", out)
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	states, _ := filepath.Glob(filepath.Join(dir, "shards", "*", "0000000001", "shard.state"))
	if len(states) != 1 {
		t.Fatalf("state files of shard 1: %v", states)
	}
	b, _ := os.ReadFile(states[0])
	b[8] ^= 0xff
	if err := os.WriteFile(states[0], b, 0o644); err != nil {
		t.Fatal(err)
	}

	c = eddytest.Kinesis(eddytest.Start(t, eddytest.WithDataDir(dir)))
	out := put(c)
	for i, r := range out.Records {
		if i == 1 {
			if aws.ToString(r.ErrorCode) != "InternalFailure" || r.SequenceNumber != nil {
				t.Fatalf("put to the quarantined shard: %+v", r)
			}
			continue
		}
		if r.ErrorCode != nil || aws.ToString(r.ShardId) != quarantineShardID(i) {
			t.Fatalf("put to healthy shard %d: %+v", i, r)
		}
	}
	if aws.ToInt32(out.FailedRecordCount) != 1 {
		t.Fatalf("FailedRecordCount %d, want 1", aws.ToInt32(out.FailedRecordCount))
	}
	_, err := c.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("q"), PartitionKey: aws.String("pk"), ExplicitHashKey: aws.String(keys[1]), Data: []byte("x")},
		func(o *kinesis.Options) { o.RetryMaxAttempts = 1 })
	apiErr(t, err, "InternalFailure")

	read := func(shard int, typ types.ShardIteratorType) (*kinesis.GetRecordsOutput, error) {
		it, err := c.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String("q"), ShardId: aws.String(quarantineShardID(shard)), ShardIteratorType: typ},
			func(o *kinesis.Options) { o.RetryMaxAttempts = 1 })
		if err != nil {
			return nil, err
		}
		return c.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: it.ShardIterator}, func(o *kinesis.Options) { o.RetryMaxAttempts = 1 })
	}
	for _, i := range []int{0, 2} {
		got, err := read(i, types.ShardIteratorTypeTrimHorizon)
		if err != nil || len(got.Records) != 2 || string(got.Records[1].Data) != "rec-"+keys[i] {
			t.Fatalf("read of healthy shard %d: %v %+v", i, err, got)
		}
	}
	_, err = read(1, types.ShardIteratorTypeTrimHorizon)
	apiErr(t, err, "InternalFailure")
	_, err = read(1, types.ShardIteratorTypeLatest)
	apiErr(t, err, "InternalFailure")

	// the control plane still describes the stream, quarantined shard included
	ls, err := c.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String("q")})
	if err != nil || len(ls.Shards) != 3 {
		t.Fatalf("ListShards: %v %+v", err, ls)
	}
}

func quarantineShardID(i int) string { return "shardId-00000000000" + string(rune('0'+i)) }
