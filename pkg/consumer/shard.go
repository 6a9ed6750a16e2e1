package consumer

import (
	"context"
	"errors"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/eddy-streams/eddy/internal/shardmap"
	"github.com/eddy-streams/eddy/pkg/kpl"
)

// batch is what a fetcher returns: records, and at the shard's end its
// children.
type batch struct {
	records      []types.Record
	millisBehind int64
	end          bool
	children     []types.ChildShard
}

// fetcher reads one shard from a start position.
type fetcher interface {
	next(ctx context.Context) (batch, error)
	close()
}

// shardConsumer runs one held lease: wait for parents, then fetch, hand to
// the processor, and finish with exactly one of lease lost, shard ended or
// shutdown requested.
type shardConsumer struct {
	w        *Worker
	h        *held
	shardID  string
	lostOnce sync.Once
	lostCh   chan struct{}
	proc     RecordProcessor
	rng      *shardmap.Range // lease hash range, for the aggregate filter
}

func newShardConsumer(w *Worker, h *held) *shardConsumer {
	sc := &shardConsumer{w: w, h: h, shardID: h.lease.Key, lostCh: make(chan struct{})}
	lo, err1 := shardmap.ParseHashKey(h.lease.StartingHashKey)
	hi, err2 := shardmap.ParseHashKey(h.lease.EndingHashKey)
	if err1 == nil && err2 == nil {
		sc.rng = &shardmap.Range{Start: lo, End: hi}
	}
	return sc
}

func (sc *shardConsumer) lose() { sc.lostOnce.Do(func() { close(sc.lostCh) }) }

func (sc *shardConsumer) isLost() bool {
	select {
	case <-sc.lostCh:
		return true
	default:
		return false
	}
}

// checkpoint writes the lease's checkpoint under its lock.
func (sc *shardConsumer) checkpoint(ctx context.Context, seq string, sub int64) error {
	if sc.isLost() {
		return ErrLeaseLost
	}
	sc.h.mu.Lock()
	err := sc.w.cfg.Leases.Checkpoint(ctx, &sc.h.lease, seq, sub)
	sc.h.mu.Unlock()
	if errors.Is(err, ErrConflict) {
		sc.lose()
		return ErrLeaseLost
	}
	if err == nil {
		sc.w.count(func(s *Stats) { s.Checkpoints++ })
	}
	return err
}

// prepare writes a pending checkpoint under the lease's lock.
func (sc *shardConsumer) prepare(ctx context.Context, seq string, sub int64) error {
	if sc.isLost() {
		return ErrLeaseLost
	}
	sc.h.mu.Lock()
	err := sc.w.cfg.Leases.PrepareCheckpoint(ctx, &sc.h.lease, seq, sub)
	sc.h.mu.Unlock()
	if errors.Is(err, ErrConflict) {
		sc.lose()
		return ErrLeaseLost
	}
	return err
}

func (sc *shardConsumer) lease() Lease {
	sc.h.mu.Lock()
	defer sc.h.mu.Unlock()
	return cloneLease(sc.h.lease)
}

func (sc *shardConsumer) run(ctx context.Context) {
	w := sc.w
	defer w.wg.Done()
	lost := false
	defer func() { w.release(sc.h, lost) }()
	log := w.log.With("shard", sc.shardID)

	// parents first: every parent lease at SHARD_END (or gone)
	for {
		if sc.isLost() {
			lost = true
			return
		}
		if ctx.Err() != nil {
			return
		}
		select {
		case <-w.shutdown:
			sc.handOver(ctx)
			return
		default:
		}
		ready, err := sc.parentsDone(ctx)
		if err != nil {
			log.Warn("consumer: reading parent leases", "err", err)
		}
		if ready {
			break
		}
		if !w.sleep(w.cfg.IdleTimeBetweenReads, sc.lostCh, w.shutdown) && ctx.Err() != nil {
			return
		}
	}

	l := sc.lease()
	if l.Done() {
		return // finished by a previous owner
	}
	sc.proc = w.cfg.Processor(sc.shardID)
	sc.proc.Initialize(ctx, InitializationInput{ShardID: sc.shardID, Checkpoint: l.Checkpoint, SubSequenceNumber: l.SubSequence,
		PendingCheckpoint: l.PendingCheckpoint, PendingSubSequenceNumber: l.PendingSubSequence})
	cp := &Checkpointer{sc: sc}
	var f fetcher
	start := position{seq: l.Checkpoint, sub: l.SubSequence}
	defer func() {
		if f != nil {
			f.close()
		}
	}()
	for {
		if sc.isLost() {
			lost = true
			sc.proc.LeaseLost(ctx, LeaseLostInput{ShardID: sc.shardID})
			return
		}
		if ctx.Err() != nil {
			return
		}
		select {
		case <-w.shutdown:
			sc.proc.ShutdownRequested(ctx, ShutdownRequestedInput{ShardID: sc.shardID, Checkpointer: cp})
			sc.handOver(ctx)
			return
		default:
		}
		if f == nil {
			var err error
			if f, err = w.newFetcher(ctx, sc.shardID, start); err != nil {
				f = nil
				if sc.shardGone(ctx, err) {
					// trimmed past retention: nothing left to read; finishing
					// it lets its children start
					log.Warn("consumer: shard no longer in the stream; ending its lease", "err", err)
					if sc.finish(ctx, cp, nil) {
						w.count(func(s *Stats) { s.ShardsEnded++ })
					} else if sc.isLost() {
						lost = true
					}
					return
				}
				log.Warn("consumer: start reading", "err", err)
				w.sleep(w.cfg.IdleTimeBetweenReads, sc.lostCh, w.shutdown)
				continue
			}
		}
		b, err := f.next(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			log.Warn("consumer: read", "err", err)
			f.close()
			f = nil
			if cp.lastSeq != "" {
				start = position{seq: cp.lastSeq, sub: cp.lastSub}
			}
			w.sleep(w.cfg.IdleTimeBetweenReads, sc.lostCh, w.shutdown)
			continue
		}
		recs := sc.userRecords(b.records, start)
		if len(recs) > 0 {
			last := recs[len(recs)-1]
			cp.lastSeq, cp.lastSub = last.SequenceNumber, last.SubSequenceNumber
			w.count(func(s *Stats) { s.RecordsPassed += int64(len(recs)) })
			sc.proc.ProcessRecords(ctx, ProcessRecordsInput{ShardID: sc.shardID, Records: recs, MillisBehindLatest: b.millisBehind, Checkpointer: cp})
		}
		if b.end {
			if sc.finish(ctx, cp, b.children) {
				w.count(func(s *Stats) { s.ShardsEnded++ })
			} else if sc.isLost() {
				lost = true
			}
			return
		}
		if len(b.records) == 0 && !w.cfg.EnhancedFanOut {
			w.sleep(w.cfg.IdleTimeBetweenReads, sc.lostCh, w.shutdown)
		}
	}
}

// shardGone reports whether err is ResourceNotFound for a shard the
// stream no longer lists (the stream itself answering ListShards).
func (sc *shardConsumer) shardGone(ctx context.Context, err error) bool {
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) {
		return false
	}
	shards, lerr := sc.w.listAllShards(ctx)
	if lerr != nil {
		return false
	}
	for _, s := range shards {
		if aws.ToString(s.ShardId) == sc.shardID {
			return false
		}
	}
	return true
}

// parentsDone reports whether every parent lease is finished or absent.
func (sc *shardConsumer) parentsDone(ctx context.Context) (bool, error) {
	for _, p := range sc.lease().ParentShardIDs {
		pl, err := sc.w.cfg.Leases.Get(ctx, p)
		if err != nil {
			return false, err
		}
		if pl != nil && !pl.Done() {
			return false, nil
		}
	}
	return true, nil
}

// finish handles the shard's end: child leases exist before the parent is
// marked done, then the processor checkpoints SHARD_END (ShardEnded is
// repeated until it does). It reports whether SHARD_END was stored.
func (sc *shardConsumer) finish(ctx context.Context, cp *Checkpointer, children []types.ChildShard) bool {
	w := sc.w
	var ids []string
	for _, c := range children {
		ids = append(ids, aws.ToString(c.ShardId))
		nl := Lease{Key: aws.ToString(c.ShardId), Checkpoint: TrimHorizon, ParentShardIDs: c.ParentShards}
		if c.HashKeyRange != nil {
			nl.StartingHashKey, nl.EndingHashKey = aws.ToString(c.HashKeyRange.StartingHashKey), aws.ToString(c.HashKeyRange.EndingHashKey)
		}
		if _, err := w.cfg.Leases.Create(ctx, nl); err != nil {
			w.log.Warn("consumer: create child lease", "shard", nl.Key, "err", err)
		}
	}
	if len(ids) > 0 {
		if err := w.cfg.Leases.SetChildren(ctx, sc.shardID, ids); err != nil {
			w.log.Warn("consumer: record child shards", "shard", sc.shardID, "err", err)
		}
	}
	cp.atEnd = true
	for {
		if sc.isLost() {
			sc.proc.LeaseLost(ctx, LeaseLostInput{ShardID: sc.shardID})
			return false
		}
		if ctx.Err() != nil {
			return false
		}
		sc.proc.ShardEnded(ctx, ShardEndedInput{ShardID: sc.shardID, Checkpointer: cp})
		if sc.lease().Done() {
			return true
		}
		w.log.Warn("consumer: processor did not checkpoint at shard end; calling ShardEnded again", "shard", sc.shardID)
		w.sleep(w.cfg.IdleTimeBetweenReads, sc.lostCh)
	}
}

// handOver removes our ownership so another worker takes the lease at once.
func (sc *shardConsumer) handOver(ctx context.Context) {
	sc.h.mu.Lock()
	err := sc.w.cfg.Leases.Evict(ctx, &sc.h.lease)
	sc.h.mu.Unlock()
	if err != nil {
		sc.w.log.Warn("consumer: hand over lease", "shard", sc.shardID, "err", err)
	}
}

// position is where reading starts: a sentinel or an extended sequence
// number (records at or before it are skipped).
type position struct {
	seq string
	sub int64
}

// userRecords de-aggregates, drops aggregates holding a record outside the
// lease's hash range (as the KCL does: they belong to another shard of a
// reshard), and skips records at or before the start position.
func (sc *shardConsumer) userRecords(in []types.Record, start position) []Record {
	out := make([]Record, 0, len(in))
	skip := isSequence(start.seq)
	for _, r := range in {
		seq := aws.ToString(r.SequenceNumber)
		at := aws.ToTime(r.ApproximateArrivalTimestamp)
		if users, ok := kpl.Deaggregate(r.Data); ok {
			if sc.rng != nil && !sc.allInRange(users) {
				sc.w.log.Warn("consumer: aggregate holds records outside the shard's hash range; dropped as the KCL does",
					"shard", sc.shardID, "sequenceNumber", seq)
				continue
			}
			for i, u := range users {
				if skip && cmpExtended(seq, int64(i), start.seq, start.sub) <= 0 {
					continue
				}
				out = append(out, Record{SequenceNumber: seq, SubSequenceNumber: int64(i), Aggregated: true,
					PartitionKey: u.PartitionKey, ExplicitHashKey: u.ExplicitHashKey, Data: u.Data, ApproximateArrivalTimestamp: at})
			}
			continue
		}
		if skip && cmpExtended(seq, 0, start.seq, start.sub) <= 0 {
			continue
		}
		out = append(out, Record{SequenceNumber: seq, PartitionKey: aws.ToString(r.PartitionKey), Data: r.Data, ApproximateArrivalTimestamp: at})
	}
	return out
}

func (sc *shardConsumer) allInRange(users []kpl.Record) bool {
	for _, u := range users {
		hk := shardmap.HashPartitionKey(u.PartitionKey)
		if u.ExplicitHashKey != "" {
			var err error
			if hk, err = shardmap.ParseHashKey(u.ExplicitHashKey); err != nil {
				return false
			}
		}
		if !sc.rng.Contains(hk) {
			return false
		}
	}
	return true
}

// pollFetcher reads with GetShardIterator and GetRecords.
type pollFetcher struct {
	w       *Worker
	shardID string
	iter    *string
	start   position
	last    string // last sequence number read, to re-open an expired iterator
}

func (w *Worker) newFetcher(ctx context.Context, shardID string, start position) (fetcher, error) {
	if w.cfg.EnhancedFanOut {
		return w.newFanOutFetcher(ctx, shardID, start)
	}
	f := &pollFetcher{w: w, shardID: shardID, start: start}
	if err := f.open(ctx); err != nil {
		return nil, err
	}
	return f, nil
}

func (f *pollFetcher) open(ctx context.Context) error {
	in := iteratorInput(f.w.cfg.StreamName, f.w.cfg.StreamARN, f.shardID, f.start, f.last)
	out, err := f.w.cfg.Kinesis.GetShardIterator(ctx, in)
	if err != nil {
		return err
	}
	f.iter = out.ShardIterator
	return nil
}

func (f *pollFetcher) next(ctx context.Context) (batch, error) {
	if f.iter == nil {
		return batch{end: true}, nil
	}
	out, err := f.w.cfg.Kinesis.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: f.iter, Limit: aws.Int32(f.w.cfg.MaxRecords)})
	if err != nil {
		var ee *types.ExpiredIteratorException
		if errors.As(err, &ee) {
			if err := f.open(ctx); err != nil {
				return batch{}, err
			}
			return batch{}, nil
		}
		return batch{}, err
	}
	if n := len(out.Records); n > 0 {
		f.last = aws.ToString(out.Records[n-1].SequenceNumber)
	}
	b := batch{records: out.Records, millisBehind: aws.ToInt64(out.MillisBehindLatest)}
	f.iter = out.NextShardIterator
	if f.iter == nil {
		b.end, b.children = true, out.ChildShards
	}
	return b, nil
}

func (f *pollFetcher) close() {}

// iteratorInput positions an iterator at start, or after last when
// something was read already.
func iteratorInput(stream, arn, shardID string, start position, last string) *kinesis.GetShardIteratorInput {
	in := &kinesis.GetShardIteratorInput{ShardId: aws.String(shardID)}
	if arn != "" {
		in.StreamARN = aws.String(arn)
	} else {
		in.StreamName = aws.String(stream)
	}
	switch {
	case last != "":
		in.ShardIteratorType = types.ShardIteratorTypeAfterSequenceNumber
		in.StartingSequenceNumber = aws.String(last)
	case isSequence(start.seq):
		// AT: an aggregate may be only partly checkpointed; userRecords
		// skips what is at or before the checkpoint
		in.ShardIteratorType = types.ShardIteratorTypeAtSequenceNumber
		in.StartingSequenceNumber = aws.String(start.seq)
	case start.seq == Latest:
		in.ShardIteratorType = types.ShardIteratorTypeLatest
	default:
		in.ShardIteratorType = types.ShardIteratorTypeTrimHorizon
	}
	return in
}
