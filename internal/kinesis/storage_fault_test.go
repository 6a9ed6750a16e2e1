package kinesis_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/eddy-streams/eddy/internal/eddytest"
	"github.com/eddy-streams/eddy/internal/storage"
	"github.com/eddy-streams/eddy/internal/storage/memstore"
)

// failingShard is a backend whose appends to one shard fail as a poisoned
// or full log does, until healed.
type failingShard struct {
	storage.Backend
	index  uint32
	broken atomic.Bool
}

func (f *failingShard) Append(ctx context.Context, id storage.ShardID, recs []storage.Record) (storage.AppendResult, error) {
	if f.broken.Load() && id.Index == f.index {
		return storage.AppendResult{}, fmt.Errorf("append %s/%d: %w", id.Stream, id.Index, storage.ErrNoSpace)
	}
	return f.Backend.Append(ctx, id, recs)
}

// A storage failure on one shard fails only that shard's records, each
// with InternalFailure, while the others are stored; nothing half-written
// is readable, and writes resume once the shard heals.
func TestPutRecordsStorageFailureIsPerRecord(t *testing.T) {
	be := &failingShard{Backend: memstore.New(nil), index: 1}
	c := eddytest.Kinesis(eddytest.Start(t, eddytest.WithBackend(be)))
	createStream(t, c, "f", 2)
	be.broken.Store(true)
	var entries []types.PutRecordsRequestEntry
	for i := 0; i < 200; i++ {
		entries = append(entries, types.PutRecordsRequestEntry{PartitionKey: aws.String(fmt.Sprint("k", i)), Data: []byte(fmt.Sprint(i))})
	}
	out, err := c.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String("f"), Records: entries})
	if err != nil {
		t.Fatal(err)
	}
	failed := 0
	for _, r := range out.Records {
		switch {
		case r.ErrorCode != nil:
			failed++
			if aws.ToString(r.ErrorCode) != "InternalFailure" || r.SequenceNumber != nil {
				t.Fatalf("failed entry %+v", r)
			}
		case aws.ToString(r.ShardId) != "shardId-000000000000":
			t.Fatalf("record stored on the broken shard: %+v", r)
		}
	}
	if failed == 0 || failed == 200 || aws.ToInt32(out.FailedRecordCount) != int32(failed) {
		t.Fatalf("%d failed, FailedRecordCount %d", failed, aws.ToInt32(out.FailedRecordCount))
	}
	// PutRecord to the broken shard is an InternalFailure (500)
	_, err = c.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("f"), PartitionKey: aws.String("x"), Data: []byte("x"),
		ExplicitHashKey: aws.String("340282366920938463463374607431768211455")}, func(o *kinesis.Options) { o.RetryMaxAttempts = 1 })
	apiErr(t, err, "InternalFailure")
	be.broken.Store(false)
	out2, err := c.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("f"), PartitionKey: aws.String("x"), Data: []byte("x"),
		ExplicitHashKey: aws.String("340282366920938463463374607431768211455")})
	if err != nil || aws.ToString(out2.ShardId) != "shardId-000000000001" {
		t.Fatalf("after healing: %v %v", out2, err)
	}
}
