package producer

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/smithy-go"

	"github.com/eddy-streams/eddy/internal/shardmap"
	"github.com/eddy-streams/eddy/pkg/kpl"
)

// fakeKinesis routes PutRecords entries by hash key to open shards as
// Kinesis does and lets tests refuse entries, block calls and reshard.
type fakeKinesis struct {
	mu     sync.Mutex
	shards []*fakeShard
	calls  int
	// refuse, when set, may fail an entry with an error code
	refuse func(call, i int, e types.PutRecordsRequestEntry) string
	// callErr, when set, may fail a whole call
	callErr func(call int) error
	gate    chan struct{} // when non-nil, each call waits for a receive
	maxSeen int           // largest batch
	maxSize int
}

type fakeShard struct {
	id     string
	rng    shardmap.Range
	open   bool
	stored []stored
}

type stored struct {
	pk, ehk string
	data    []byte
	at      time.Time
}

func newFake(n int) *fakeKinesis {
	f := &fakeKinesis{}
	for i, r := range shardmap.EvenRanges(n) {
		f.shards = append(f.shards, &fakeShard{id: fmt.Sprintf("shardId-%012d", i), rng: r, open: true})
	}
	return f
}

func (f *fakeKinesis) hashOf(pk, ehk string) shardmap.HashKey {
	if ehk != "" {
		k, _ := shardmap.ParseHashKey(ehk)
		return k
	}
	return shardmap.HashPartitionKey(pk)
}

func (f *fakeKinesis) PutRecords(ctx context.Context, in *kinesis.PutRecordsInput, _ ...func(*kinesis.Options)) (*kinesis.PutRecordsOutput, error) {
	f.mu.Lock()
	f.calls++
	call := f.calls
	gate := f.gate
	f.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.callErr != nil {
		if err := f.callErr(call); err != nil {
			return nil, err
		}
	}
	f.maxSeen = max(f.maxSeen, len(in.Records))
	size := 0
	out := &kinesis.PutRecordsOutput{}
	for i, e := range in.Records {
		size += len(e.Data) + len(aws.ToString(e.PartitionKey))
		if f.refuse != nil {
			if code := f.refuse(call, i, e); code != "" {
				out.Records = append(out.Records, types.PutRecordsResultEntry{ErrorCode: aws.String(code), ErrorMessage: aws.String("refused")})
				out.FailedRecordCount = aws.Int32(aws.ToInt32(out.FailedRecordCount) + 1)
				continue
			}
		}
		hk := f.hashOf(aws.ToString(e.PartitionKey), aws.ToString(e.ExplicitHashKey))
		for _, s := range f.shards {
			if s.open && s.rng.Contains(hk) {
				s.stored = append(s.stored, stored{aws.ToString(e.PartitionKey), aws.ToString(e.ExplicitHashKey), append([]byte(nil), e.Data...), time.Now()})
				out.Records = append(out.Records, types.PutRecordsResultEntry{ShardId: aws.String(s.id), SequenceNumber: aws.String("1")})
				break
			}
		}
	}
	f.maxSize = max(f.maxSize, size)
	return out, nil
}

func (f *fakeKinesis) ListShards(ctx context.Context, in *kinesis.ListShardsInput, _ ...func(*kinesis.Options)) (*kinesis.ListShardsOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := &kinesis.ListShardsOutput{}
	for _, s := range f.shards {
		sh := types.Shard{ShardId: aws.String(s.id), HashKeyRange: &types.HashKeyRange{
			StartingHashKey: aws.String(s.rng.Start.String()), EndingHashKey: aws.String(s.rng.End.String())},
			SequenceNumberRange: &types.SequenceNumberRange{StartingSequenceNumber: aws.String("0")}}
		if !s.open {
			sh.SequenceNumberRange.EndingSequenceNumber = aws.String("9")
		}
		out.Shards = append(out.Shards, sh)
	}
	return out, nil
}

// split closes shard i and opens two children splitting its range.
func (f *fakeKinesis) split(i int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p := f.shards[i]
	p.open = false
	mid := p.rng.Midpoint()
	n := len(f.shards)
	f.shards = append(f.shards,
		&fakeShard{id: fmt.Sprintf("shardId-%012d", n), rng: shardmap.Range{Start: p.rng.Start, End: mid.Sub(1)}, open: true},
		&fakeShard{id: fmt.Sprintf("shardId-%012d", n+1), rng: shardmap.Range{Start: mid, End: p.rng.End}, open: true})
}

// kclView returns, per partition key, the data a KCL would deliver: each
// stored record de-aggregated, and an aggregate dropped whole when one of
// its user records lies outside the shard's range.
func (f *fakeKinesis) kclView() (got map[string][]string, dropped int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	got = map[string][]string{}
	for _, s := range f.shards {
		for _, r := range s.stored {
			recs, ok := kpl.Deaggregate(r.data)
			if !ok {
				recs = []kpl.Record{{PartitionKey: r.pk, ExplicitHashKey: r.ehk, Data: r.data}}
			}
			inRange := true
			for _, u := range recs {
				if !s.rng.Contains(f.hashOf(u.PartitionKey, u.ExplicitHashKey)) {
					inRange = false
				}
			}
			if !inRange {
				dropped++
				continue
			}
			for _, u := range recs {
				got[u.PartitionKey] = append(got[u.PartitionKey], string(u.Data))
			}
		}
	}
	return got, dropped
}

type typesEntry = types.PutRecordsRequestEntry

type apiError string

func (e apiError) Error() string                 { return string(e) }
func (e apiError) ErrorCode() string             { return string(e) }
func (e apiError) ErrorMessage() string          { return string(e) }
func (e apiError) ErrorFault() smithy.ErrorFault { return smithy.FaultClient }

func apiErr(code string) error { return apiError(code) }
