package consumer

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/eddy-streams/eddy/internal/shardmap"
)

// fakeStream is an in-memory Kinesis stream for synctest tests: shards
// with records, splits and merges with child shards, iterators.
type fakeStream struct {
	mu     sync.Mutex
	shards []*fshard
	seq    int
}

type fshard struct {
	id       string
	parents  []string
	rng      shardmap.Range
	recs     []types.Record
	closed   bool
	children []types.ChildShard
}

func newStream(n int) *fakeStream {
	f := &fakeStream{}
	for _, r := range shardmap.EvenRanges(n) {
		f.addShardLocked(r, nil)
	}
	return f
}

func (f *fakeStream) addShardLocked(r shardmap.Range, parents []string) *fshard {
	s := &fshard{id: fmt.Sprintf("shardId-%012d", len(f.shards)), rng: r, parents: parents}
	f.shards = append(f.shards, s)
	return s
}

// put appends a record to the open shard owning hk.
func (f *fakeStream) put(pk string, hk shardmap.HashKey, data []byte) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, s := range f.shards {
		if !s.closed && s.rng.Contains(hk) {
			f.seq++
			seq := strconv.Itoa(100000000 + f.seq)
			now := time.Now()
			s.recs = append(s.recs, types.Record{SequenceNumber: aws.String(seq), PartitionKey: aws.String(pk), Data: data, ApproximateArrivalTimestamp: &now})
			return s.id
		}
	}
	panic("no open shard")
}

func (f *fakeStream) putKey(pk, data string) string {
	return f.put(pk, shardmap.HashPartitionKey(pk), []byte(data))
}

func (f *fakeStream) shardByID(id string) *fshard {
	for _, s := range f.shards {
		if s.id == id {
			return s
		}
	}
	return nil
}

func childShape(c *fshard) types.ChildShard {
	return types.ChildShard{ShardId: aws.String(c.id), ParentShards: c.parents, HashKeyRange: &types.HashKeyRange{
		StartingHashKey: aws.String(c.rng.Start.String()), EndingHashKey: aws.String(c.rng.End.String())}}
}

// split closes shard id and opens its two halves.
func (f *fakeStream) split(id string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p := f.shardByID(id)
	p.closed = true
	mid := p.rng.Midpoint()
	a := f.addShardLocked(shardmap.Range{Start: p.rng.Start, End: mid.Sub(1)}, []string{p.id})
	b := f.addShardLocked(shardmap.Range{Start: mid, End: p.rng.End}, []string{p.id})
	p.children = []types.ChildShard{childShape(a), childShape(b)}
}

// merge closes two adjacent shards and opens one child.
func (f *fakeStream) merge(id1, id2 string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	a, b := f.shardByID(id1), f.shardByID(id2)
	a.closed, b.closed = true, true
	c := f.addShardLocked(shardmap.Range{Start: a.rng.Start, End: b.rng.End}, []string{a.id, b.id})
	a.children = []types.ChildShard{childShape(c)}
	b.children = a.children
}

func (f *fakeStream) ListShards(ctx context.Context, in *kinesis.ListShardsInput, _ ...func(*kinesis.Options)) (*kinesis.ListShardsOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := &kinesis.ListShardsOutput{}
	for _, s := range f.shards {
		sh := types.Shard{ShardId: aws.String(s.id), HashKeyRange: &types.HashKeyRange{
			StartingHashKey: aws.String(s.rng.Start.String()), EndingHashKey: aws.String(s.rng.End.String())},
			SequenceNumberRange: &types.SequenceNumberRange{StartingSequenceNumber: aws.String("0")}}
		if len(s.parents) > 0 {
			sh.ParentShardId = aws.String(s.parents[0])
		}
		if len(s.parents) > 1 {
			sh.AdjacentParentShardId = aws.String(s.parents[1])
		}
		if s.closed {
			sh.SequenceNumberRange.EndingSequenceNumber = aws.String("999999999999")
		}
		out.Shards = append(out.Shards, sh)
	}
	return out, nil
}

func (f *fakeStream) GetShardIterator(ctx context.Context, in *kinesis.GetShardIteratorInput, _ ...func(*kinesis.Options)) (*kinesis.GetShardIteratorOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.shardByID(aws.ToString(in.ShardId))
	if s == nil {
		return nil, &types.ResourceNotFoundException{Message: aws.String("no shard")}
	}
	pos := 0
	switch in.ShardIteratorType {
	case types.ShardIteratorTypeLatest:
		pos = len(s.recs)
	case types.ShardIteratorTypeAtSequenceNumber, types.ShardIteratorTypeAfterSequenceNumber:
		seq := aws.ToString(in.StartingSequenceNumber)
		pos = len(s.recs)
		for i, r := range s.recs {
			if cmpSeq(aws.ToString(r.SequenceNumber), seq) >= 0 {
				pos = i
				if in.ShardIteratorType == types.ShardIteratorTypeAfterSequenceNumber && aws.ToString(r.SequenceNumber) == seq {
					pos++
				}
				break
			}
		}
	}
	return &kinesis.GetShardIteratorOutput{ShardIterator: aws.String(fmt.Sprintf("%s/%d", s.id, pos))}, nil
}

func (f *fakeStream) GetRecords(ctx context.Context, in *kinesis.GetRecordsInput, _ ...func(*kinesis.Options)) (*kinesis.GetRecordsOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	id, p, _ := strings.Cut(aws.ToString(in.ShardIterator), "/")
	pos, _ := strconv.Atoi(p)
	s := f.shardByID(id)
	end := min(len(s.recs), pos+int(aws.ToInt32(in.Limit)))
	out := &kinesis.GetRecordsOutput{Records: append([]types.Record(nil), s.recs[pos:end]...), MillisBehindLatest: aws.Int64(int64(len(s.recs) - end))}
	if s.closed && end == len(s.recs) {
		out.ChildShards = s.children
	} else {
		out.NextShardIterator = aws.String(fmt.Sprintf("%s/%d", id, end))
	}
	return out, nil
}

// logProc records what it is given into a shared log and checkpoints
// after every batch (unless noCheckpoint).
type logProc struct {
	l     *procLog
	shard string
}

type procLog struct {
	mu           sync.Mutex
	events       []event
	seen         map[string]int // data -> times processed
	noCheckpoint bool
	lost, ended  map[string]int
	shutdowns    int
}

type event struct {
	worker, shard string
	rec           Record
	at            time.Time
}

func newLog() *procLog {
	return &procLog{seen: map[string]int{}, lost: map[string]int{}, ended: map[string]int{}}
}

func (l *procLog) factory(worker string) ProcessorFactory {
	return func(shard string) RecordProcessor { return &logProc{l: l, shard: worker + "|" + shard} }
}

func (p *logProc) Initialize(ctx context.Context, in InitializationInput) {}

func (p *logProc) ProcessRecords(ctx context.Context, in ProcessRecordsInput) {
	p.l.mu.Lock()
	w, s, _ := strings.Cut(p.shard, "|")
	for _, r := range in.Records {
		p.l.events = append(p.l.events, event{w, s, r, time.Now()})
		p.l.seen[string(r.Data)]++
	}
	nocp := p.l.noCheckpoint
	p.l.mu.Unlock()
	if !nocp {
		in.Checkpointer.Checkpoint(ctx)
	}
}

func (p *logProc) LeaseLost(ctx context.Context, in LeaseLostInput) {
	p.l.mu.Lock()
	p.l.lost[in.ShardID]++
	p.l.mu.Unlock()
}

func (p *logProc) ShardEnded(ctx context.Context, in ShardEndedInput) {
	p.l.mu.Lock()
	p.l.ended[in.ShardID]++
	p.l.mu.Unlock()
	if err := in.Checkpointer.Checkpoint(ctx); err != nil {
		panic(err)
	}
}

func (p *logProc) ShutdownRequested(ctx context.Context, in ShutdownRequestedInput) {
	p.l.mu.Lock()
	p.l.shutdowns++
	p.l.mu.Unlock()
	in.Checkpointer.Checkpoint(ctx)
}

func (l *procLog) count(data string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.seen[data]
}

func (l *procLog) snapshot() []event {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]event(nil), l.events...)
}

func testWorker(t *testing.T, id string, f KinesisAPI, store LeaseStore, l *procLog, edit func(*Config)) *Worker {
	t.Helper()
	cfg := Config{StreamName: "s", WorkerID: id, Kinesis: f, Leases: store, Processor: l.factory(id),
		FailoverTime: 3 * time.Second, ShardSyncInterval: 5 * time.Second, IdleTimeBetweenReads: 200 * time.Millisecond}
	if edit != nil {
		edit(&cfg)
	}
	w, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return w
}
