package eddytest

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// StreamReader reads every shard of a stream from TRIM_HORIZON, keeping its
// iterators between Poll calls, so a test can wait for records to arrive.
type StreamReader struct {
	Client *kinesis.Client
	Stream string

	iters map[string]*string
	got   []string
	keys  map[string]bool
}

// Poll reads what arrived since the last call and returns every record's
// data read so far, in read order (per shard).
func (r *StreamReader) Poll(t testing.TB) []string {
	t.Helper()
	ctx := context.Background()
	if r.iters == nil {
		r.iters, r.keys = map[string]*string{}, map[string]bool{}
		out, err := r.Client.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String(r.Stream)})
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range out.Shards {
			it, err := r.Client.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String(r.Stream),
				ShardId: s.ShardId, ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
			if err != nil {
				t.Fatal(err)
			}
			r.iters[*s.ShardId] = it.ShardIterator
		}
	}
	for id, it := range r.iters {
		for it != nil {
			out, err := r.Client.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: it})
			if err != nil {
				t.Fatal(err)
			}
			for _, rec := range out.Records {
				r.got = append(r.got, string(rec.Data))
				r.keys[aws.ToString(rec.PartitionKey)] = true
			}
			it = out.NextShardIterator
			if len(out.Records) == 0 {
				break
			}
		}
		r.iters[id] = it
	}
	return r.got
}

// Keys counts the distinct partition keys read so far.
func (r *StreamReader) Keys() int { return len(r.keys) }

// Got returns the records read so far without reading more.
func (r *StreamReader) Got() []string { return r.got }
