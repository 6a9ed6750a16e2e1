package kinesis_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/smithy-go"

	"github.com/eddy-streams/eddy/internal/eddytest"
)

var ctx = context.Background()

func newClient(t *testing.T, opts ...eddytest.Option) *kinesis.Client {
	t.Helper()
	return eddytest.Kinesis(eddytest.Start(t, opts...))
}

func createStream(t *testing.T, c *kinesis.Client, name string, shards int32) {
	t.Helper()
	if _, err := c.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(name), ShardCount: aws.Int32(shards)}); err != nil {
		t.Fatal(err)
	}
	eddytest.WaitActive(t, c, name)
}

// apiErr asserts err is an AWS API error of the given code and returns its message.
func apiErr(t *testing.T, err error, code string) string {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("want %s, got %v", code, err)
	}
	if ae.ErrorCode() != code {
		t.Fatalf("want %s, got %s: %s", code, ae.ErrorCode(), ae.ErrorMessage())
	}
	return ae.ErrorMessage()
}

func TestPutGetRoundTrip(t *testing.T) {
	c := newClient(t)
	createStream(t, c, "s1", 3)
	var entries []types.PutRecordsRequestEntry
	for i := 0; i < 300; i++ {
		entries = append(entries, types.PutRecordsRequestEntry{Data: []byte(fmt.Sprintf("rec-%d", i)), PartitionKey: aws.String(fmt.Sprintf("pk-%d", i%17))})
	}
	out, err := c.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String("s1"), Records: entries})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToInt32(out.FailedRecordCount) != 0 || len(out.Records) != 300 {
		t.Fatalf("failed=%d n=%d", aws.ToInt32(out.FailedRecordCount), len(out.Records))
	}
	want := map[string]string{} // seq -> data
	for i, r := range out.Records {
		want[aws.ToString(r.SequenceNumber)] = string(entries[i].Data)
	}
	shards, err := c.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String("s1")})
	if err != nil {
		t.Fatal(err)
	}
	if len(shards.Shards) != 3 {
		t.Fatalf("%d shards", len(shards.Shards))
	}
	got := 0
	for _, sh := range shards.Shards {
		it, err := c.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String("s1"), ShardId: sh.ShardId, ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
		if err != nil {
			t.Fatal(err)
		}
		res, err := c.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: it.ShardIterator})
		if err != nil {
			t.Fatal(err)
		}
		if res.NextShardIterator == nil {
			t.Fatal("open shard returned no NextShardIterator")
		}
		if aws.ToInt64(res.MillisBehindLatest) != 0 {
			t.Fatalf("MillisBehindLatest %d after reading all", aws.ToInt64(res.MillisBehindLatest))
		}
		prev := ""
		for _, r := range res.Records {
			seq := aws.ToString(r.SequenceNumber)
			if want[seq] != string(r.Data) {
				t.Fatalf("seq %s: data %q, want %q", seq, r.Data, want[seq])
			}
			if prev != "" && !(len(seq) > len(prev) || seq > prev) {
				t.Fatalf("sequence not increasing: %s after %s", seq, prev)
			}
			if r.ApproximateArrivalTimestamp == nil || r.ApproximateArrivalTimestamp.IsZero() {
				t.Fatal("no arrival timestamp")
			}
			prev = seq
			got++
		}
	}
	if got != 300 {
		t.Fatalf("read %d records, want 300", got)
	}
}

func TestStreamNotFound(t *testing.T) {
	c := newClient(t)
	_, err := c.DescribeStream(ctx, &kinesis.DescribeStreamInput{StreamName: aws.String("nope")})
	msg := apiErr(t, err, "ResourceNotFoundException")
	if msg != "Stream nope under account 000000000000 not found." {
		t.Fatalf("message %q", msg)
	}
}
