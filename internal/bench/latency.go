package bench

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

const (
	// emptyPollPause is a latency-phase consumer's wait after an empty page.
	emptyPollPause = time.Millisecond
	// drainTimeout bounds the wait for consumers to see the last records
	// once the producer has stopped.
	drainTimeout = 10 * time.Second
)

// runLatency is the latency phase (see the package doc).
func runLatency(ctx context.Context, t *target) (PhaseResult, error) {
	o := t.opts
	tag := newTag()
	shards, err := listShards(ctx, t.reader, o.Stream)
	if err != nil {
		return PhaseResult{}, err
	}
	// Iterators first, so LATEST is before the first record written.
	iters := make([]*string, len(shards))
	for i, shard := range shards {
		out, err := t.reader.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{
			StreamName: &o.Stream, ShardId: &shard, ShardIteratorType: types.ShardIteratorTypeLatest,
		})
		if err != nil {
			return PhaseResult{}, fmt.Errorf("get LATEST iterator of shard %s: %w", shard, err)
		}
		iters[i] = out.ShardIterator
	}

	var seen atomic.Int64
	var failed atomic.Bool
	stop := make(chan struct{})
	stats := make([]readerStats, len(shards))
	var wg sync.WaitGroup
	for i := range shards {
		wg.Go(func() {
			if err := poll(ctx, t, tag, iters[i], &stats[i], &seen, stop); err != nil {
				stats[i].err = fmt.Errorf("consumer of shard %s: %w", shards[i], err)
				failed.Store(true)
			}
		})
	}

	prod, elapsed := produce(ctx, t, tag)

	// Drain: wait until every accepted record was seen, a consumer failed,
	// or the drain deadline passed.
	drainEnd := time.Now().Add(drainTimeout)
	tick := time.NewTicker(time.Millisecond)
	for seen.Load() < prod.records && time.Now().Before(drainEnd) && ctx.Err() == nil && !failed.Load() {
		<-tick.C
	}
	tick.Stop()
	close(stop)
	wg.Wait()

	var e2e Histogram
	var errs []error
	res := PhaseResult{
		Records: prod.records, Bytes: prod.records * int64(o.RecordSize),
		Calls: prod.calls, Errors: prod.errors, Throttles: prod.throttles,
		CallLatency: prod.hist.Summary(),
	}
	for i := range stats {
		e2e.Merge(&stats[i].hist)
		res.ConsumerCalls += stats[i].calls
		res.Throttles += stats[i].throttles
		if stats[i].err != nil {
			errs = append(errs, stats[i].err)
		}
	}
	sum := e2e.Summary()
	res.EndToEnd = &sum
	rates(&res, elapsed)
	if err := ctx.Err(); err != nil {
		return res, err
	}
	if err := errors.Join(errs...); err != nil {
		return res, err
	}
	if n := seen.Load(); n != prod.records {
		return res, fmt.Errorf("consumers saw %d records, the producer had %d accepted", n, prod.records)
	}
	if prod.records == 0 && prod.lastErr != nil {
		return res, prod.lastErr
	}
	return res, nil
}

// produce writes o.Rate records/s for o.Duration, paced against the clock
// from the phase start: each turn sends every record due by now, one
// PutRecord call for one record, one PutRecords for several (at most 500).
func produce(ctx context.Context, t *target, tag [8]byte) (st producerStats, elapsed time.Duration) {
	o := t.opts
	rng := rand.New(rand.NewPCG(rand.Uint64(), 0))
	p := newPayloads(tag, 500, o.RecordSize, rng)
	entries := make([]types.PutRecordsRequestEntry, 500)
	var sent int64
	start := time.Now()
	consecutiveErrs := 0
	for ctx.Err() == nil && consecutiveErrs < maxConsecutiveErrors {
		since := time.Since(start)
		if since >= o.Duration {
			break
		}
		due := int64(since)*int64(o.Rate)/int64(time.Second) + 1 - sent
		if due <= 0 {
			next := time.Duration(sent * int64(time.Second) / int64(o.Rate))
			if pause(ctx, next-since) != nil {
				break
			}
			continue
		}
		n := int(min(due, 500))
		t0 := time.Now()
		p.stamp(n, t0.Sub(t.base))
		var err error
		failed := 0
		if n == 1 {
			_, err = t.client.PutRecord(ctx, &kinesis.PutRecordInput{
				StreamName: &o.Stream, Data: p.bufs[0], PartitionKey: p.key(),
			})
		} else {
			for j := range n {
				entries[j] = types.PutRecordsRequestEntry{Data: p.bufs[j], PartitionKey: p.key()}
			}
			var out *kinesis.PutRecordsOutput
			out, err = t.client.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: &o.Stream, Records: entries[:n]})
			if err == nil && len(out.Records) != n {
				err = errEntryCount(len(out.Records), n)
			}
			if err == nil {
				for _, r := range out.Records {
					if r.ErrorCode != nil {
						failed++
					}
				}
			}
		}
		if err != nil && ctx.Err() != nil {
			break // interrupted: neither a call nor an error
		}
		st.hist.Record(time.Since(t0))
		st.calls++
		sent += int64(n)
		if err != nil {
			st.errors++
			st.lastErr = err
			consecutiveErrs++
			if isThrottle(err) {
				st.throttles++
			}
			continue
		}
		consecutiveErrs = 0
		st.errors += int64(failed)
		st.records += int64(n - failed)
	}
	return st, time.Since(start)
}

// poll is one latency-phase consumer: GetRecords back to back, pausing
// emptyPollPause only after an empty page, until stop is closed.
func poll(ctx context.Context, t *target, tag [8]byte, iter *string, st *readerStats, seen *atomic.Int64, stop <-chan struct{}) error {
	throttled := 0
	for iter != nil {
		select {
		case <-stop:
			return nil
		default:
		}
		out, err := t.reader.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: iter})
		now := time.Since(t.base)
		st.calls++
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			st.errors++
			if !isThrottle(err) || throttled >= maxConsecutiveErrors {
				return fmt.Errorf("get records: %w", err)
			}
			st.throttles++
			throttled++
			if err := pause(ctx, throttlePause); err != nil {
				return err
			}
			continue
		}
		throttled = 0
		for _, r := range out.Records {
			if rt, ts, ok := readHeader(r.Data); ok && rt == tag {
				st.hist.Record(now - ts)
				seen.Add(1)
			}
		}
		iter = out.NextShardIterator
		if len(out.Records) == 0 {
			if err := pause(ctx, emptyPollPause); err != nil {
				return err
			}
		}
	}
	return nil
}
