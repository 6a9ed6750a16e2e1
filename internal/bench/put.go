package bench

import (
	"context"
	"encoding/binary"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// headerSize is the payload prefix: 8-byte tag, 8-byte timestamp.
const headerSize = 16

// payloads holds reusable record buffers with the header layout of the
// package doc. The SDK serialises a request before the call returns, so a
// producer may rewrite its buffers for the next call.
type payloads struct {
	tag  [8]byte
	bufs [][]byte
	rng  *rand.Rand
}

func newPayloads(tag [8]byte, n, size int, rng *rand.Rand) *payloads {
	p := &payloads{tag: tag, bufs: make([][]byte, n), rng: rng}
	for i := range p.bufs {
		b := make([]byte, size)
		copy(b, tag[:])
		for j := headerSize; j < size; j++ {
			b[j] = byte(rng.Uint32())
		}
		p.bufs[i] = b
	}
	return p
}

// stamp writes the timestamp into the first n buffers.
func (p *payloads) stamp(n int, ts time.Duration) {
	for _, b := range p.bufs[:n] {
		binary.BigEndian.PutUint64(b[8:16], uint64(ts))
	}
}

// key is a random partition key, so MD5 routing spreads records evenly.
func (p *payloads) key() *string {
	return aws.String(strconv.FormatUint(p.rng.Uint64(), 36))
}

// readHeader splits a payload into tag and timestamp.
func readHeader(b []byte) (tag [8]byte, ts time.Duration, ok bool) {
	if len(b) < headerSize {
		return tag, 0, false
	}
	copy(tag[:], b[:8])
	return tag, time.Duration(binary.BigEndian.Uint64(b[8:16])), true
}

// producerStats is one producer's tally, merged after the phase.
type producerStats struct {
	records, calls, errors, throttles int64
	hist                              Histogram
	lastErr                           error
}

func (s *producerStats) merge(o *producerStats) {
	s.records += o.records
	s.calls += o.calls
	s.errors += o.errors
	s.throttles += o.throttles
	s.hist.Merge(&o.hist)
	if o.lastErr != nil {
		s.lastErr = o.lastErr
	}
}

// maxConsecutiveErrors stops a producer or consumer that gets nothing but
// errors (after the SDK's own retries), e.g. a stream deleted under it.
const maxConsecutiveErrors = 20

// runPut is the put phase (see the package doc).
func runPut(ctx context.Context, t *target) (PhaseResult, error) {
	o := t.opts
	tag := newTag()
	var remaining atomic.Int64
	remaining.Store(o.TotalRecords)
	// claim returns how many records the next call may send; 0 means stop.
	claim := func() int {
		if o.TotalRecords <= 0 {
			return o.BatchSize
		}
		for {
			left := remaining.Load()
			if left <= 0 {
				return 0
			}
			n := min(left, int64(o.BatchSize))
			if remaining.CompareAndSwap(left, left-n) {
				return int(n)
			}
		}
	}

	stats := make([]producerStats, o.Producers)
	// Producers build their buffers first, then all start together.
	var ready sync.WaitGroup
	ready.Add(o.Producers)
	startCh := make(chan struct{})
	var start, deadline time.Time
	var wg sync.WaitGroup
	for i := range o.Producers {
		wg.Go(func() {
			st := &stats[i]
			rng := rand.New(rand.NewPCG(rand.Uint64(), uint64(i)))
			p := newPayloads(tag, o.BatchSize, o.RecordSize, rng)
			entries := make([]types.PutRecordsRequestEntry, o.BatchSize)
			ready.Done()
			<-startCh
			consecutiveErrs := 0
			for ctx.Err() == nil && consecutiveErrs < maxConsecutiveErrors {
				// Every producer makes at least one call, even when a
				// loaded machine schedules it after the deadline.
				if o.TotalRecords <= 0 && st.calls > 0 && !time.Now().Before(deadline) {
					return
				}
				n := claim()
				if n == 0 {
					return
				}
				t0 := time.Now()
				p.stamp(n, t0.Sub(t.base))
				for j := range n {
					entries[j] = types.PutRecordsRequestEntry{Data: p.bufs[j], PartitionKey: p.key()}
				}
				out, err := t.client.PutRecords(ctx, &kinesis.PutRecordsInput{
					StreamName: &o.Stream, Records: entries[:n],
				})
				st.hist.Record(time.Since(t0))
				st.calls++
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
				failed := 0
				for _, r := range out.Records {
					if r.ErrorCode == nil {
						continue
					}
					failed++
					if aws.ToString(r.ErrorCode) == "ProvisionedThroughputExceededException" {
						st.throttles++
					} else {
						st.errors++
					}
				}
				st.records += int64(n - failed)
			}
		})
	}
	ready.Wait()
	start = time.Now()
	deadline = start.Add(o.Duration)
	close(startCh)
	wg.Wait()
	elapsed := time.Since(start)

	var total producerStats
	for i := range stats {
		total.merge(&stats[i])
	}
	res := PhaseResult{
		Records: total.records, Bytes: total.records * int64(o.RecordSize),
		Calls: total.calls, Errors: total.errors, Throttles: total.throttles,
		CallLatency: total.hist.Summary(),
	}
	rates(&res, elapsed)
	t.putTag, t.putAccepted, t.putDone = tag, total.records, true
	if err := ctx.Err(); err != nil {
		return res, err
	}
	if total.records == 0 && total.lastErr != nil {
		return res, total.lastErr
	}
	return res, nil
}
