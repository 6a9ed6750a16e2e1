package kinesis_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// The shard's StartingSequenceNumber sorts before its first record: AT and
// AFTER it both read from the first record; a record's own number reads it
// (AT) or the one after (AFTER).
func TestSequenceNumberPositions(t *testing.T) {
	c := newClient(t)
	createStream(t, c, "sp", 1)
	var seqs []string
	for _, d := range []string{"a", "b", "c"} {
		out, err := c.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("sp"), PartitionKey: aws.String("k"), Data: []byte(d)})
		if err != nil {
			t.Fatal(err)
		}
		seqs = append(seqs, aws.ToString(out.SequenceNumber))
	}
	ls, err := c.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String("sp")})
	if err != nil {
		t.Fatal(err)
	}
	start := aws.ToString(ls.Shards[0].SequenceNumberRange.StartingSequenceNumber)
	if !(len(start) < len(seqs[0]) || (len(start) == len(seqs[0]) && start < seqs[0])) {
		t.Fatalf("StartingSequenceNumber %s does not sort before the first record %s", start, seqs[0])
	}
	first := func(typ types.ShardIteratorType, seq string) string {
		t.Helper()
		it, err := c.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String("sp"), ShardId: aws.String("shardId-000000000000"), ShardIteratorType: typ, StartingSequenceNumber: aws.String(seq)})
		if err != nil {
			t.Fatal(err)
		}
		out, err := c.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: it.ShardIterator, Limit: aws.Int32(1)})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Records) == 0 {
			return ""
		}
		return string(out.Records[0].Data)
	}
	for _, tc := range []struct {
		typ  types.ShardIteratorType
		seq  string
		want string
	}{
		{types.ShardIteratorTypeAtSequenceNumber, start, "a"},
		{types.ShardIteratorTypeAfterSequenceNumber, start, "a"},
		{types.ShardIteratorTypeAtSequenceNumber, seqs[0], "a"},
		{types.ShardIteratorTypeAfterSequenceNumber, seqs[0], "b"},
		{types.ShardIteratorTypeAtSequenceNumber, seqs[2], "c"},
		{types.ShardIteratorTypeAfterSequenceNumber, seqs[2], ""},
	} {
		if got := first(tc.typ, tc.seq); got != tc.want {
			t.Errorf("%s %s: read %q, want %q", tc.typ, tc.seq, got, tc.want)
		}
	}
}
