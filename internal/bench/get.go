package bench

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// throttlePause is how long a reader waits after a throttled GetRecords
// (beyond the SDK's own retries) before trying again.
const throttlePause = 100 * time.Millisecond

// readerStats is one shard reader's tally.
type readerStats struct {
	records, bytes, mine, calls, errors, throttles int64
	hist                                           Histogram
	err                                            error
}

// runGet is the get phase: read every shard from TRIM_HORIZON to its tip
// and check the put phase's records all came back.
func runGet(ctx context.Context, t *target) (PhaseResult, error) {
	if !t.putDone {
		return PhaseResult{}, errors.New("the get phase needs a put phase before it")
	}
	o := t.opts
	shards, err := listShards(ctx, t.client, o.Stream)
	if err != nil {
		return PhaseResult{}, err
	}
	stats := make([]readerStats, len(shards))
	start := time.Now()
	var wg sync.WaitGroup
	for i, shard := range shards {
		wg.Go(func() {
			st := &stats[i]
			if err := readShard(ctx, t, shard, st); err != nil {
				st.err = fmt.Errorf("shard %s: %w", shard, err)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)

	var res PhaseResult
	var hist Histogram
	var mine int64
	var errs []error
	for i := range stats {
		st := &stats[i]
		res.Records += st.records
		res.Bytes += st.bytes
		res.Calls += st.calls
		res.Errors += st.errors
		res.Throttles += st.throttles
		mine += st.mine
		hist.Merge(&st.hist)
		if st.err != nil {
			errs = append(errs, st.err)
		}
	}
	res.CallLatency = hist.Summary()
	rates(&res, elapsed)
	if err := errors.Join(errs...); err != nil {
		return res, err
	}
	switch {
	case mine > t.putAccepted:
		return res, fmt.Errorf("read back %d records of the put phase, but it had %d accepted: duplicates, "+
			"e.g. from a PutRecords the SDK retried after its first attempt was stored (see the put phase's retries)", mine, t.putAccepted)
	case mine < t.putAccepted:
		return res, fmt.Errorf("read back %d records of the put phase, but it had %d accepted: records lost", mine, t.putAccepted)
	}
	return res, nil
}

// readShard reads one shard from TRIM_HORIZON until an empty page at the
// tip (MillisBehindLatest 0) or the end of a closed shard.
func readShard(ctx context.Context, t *target, shard string, st *readerStats) error {
	o := t.opts
	it, err := t.client.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{
		StreamName: &o.Stream, ShardId: &shard, ShardIteratorType: types.ShardIteratorTypeTrimHorizon,
	})
	if err != nil {
		return fmt.Errorf("get shard iterator: %w", err)
	}
	iter := it.ShardIterator
	throttled := 0
	for iter != nil {
		t0 := time.Now()
		out, err := t.client.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: iter, Limit: aws.Int32(10000)})
		st.hist.Record(time.Since(t0))
		st.calls++
		if err != nil {
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
			st.records++
			st.bytes += int64(len(r.Data))
			if tag, _, ok := readHeader(r.Data); ok && tag == t.putTag {
				st.mine++
			}
		}
		iter = out.NextShardIterator
		if len(out.Records) == 0 && aws.ToInt64(out.MillisBehindLatest) == 0 {
			return nil
		}
	}
	return nil
}

// pause waits d or until ctx ends.
func pause(ctx context.Context, d time.Duration) error {
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-tm.C:
		return nil
	}
}
