package bench

import (
	"context"
	"encoding/binary"
	"fmt"
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

// errEntryCount reports a PutRecords answer whose entries do not match the
// request one for one.
func errEntryCount(got, sent int) error {
	return fmt.Errorf("PutRecords answered %d entries for %d records", got, sent)
}

// maxConsecutiveErrors stops a producer or consumer that gets nothing but
// errors (after the SDK's own retries), e.g. a stream deleted under it.
const maxConsecutiveErrors = 20

// putTally accumulates a put phase's rounds.
type putTally struct {
	producerStats
	elapsed time.Duration
	cpu     time.Duration
	srvCPU  time.Duration
	retries int64
	causes  map[string]int64
}

// result turns the tally into a PhaseResult.
func (p *putTally) result(recordSize int) PhaseResult {
	res := PhaseResult{
		Records: p.records, Bytes: p.records * int64(recordSize),
		Calls: p.calls, Errors: p.errors, Throttles: p.throttles,
		CallLatency: p.hist.Summary(),
		ClientCPU:   p.cpu.Seconds(),
		ServerCPU:   p.srvCPU.Seconds(),
		Retries:     p.retries, RetryCauses: p.causes,
	}
	rates(&res, p.elapsed)
	return res
}

// runPut is the put phase (see the package doc) in one round.
func runPut(ctx context.Context, t *target) (PhaseResult, error) {
	var tally putTally
	tag := newTag()
	putRound(ctx, t, tag, t.opts.Duration, t.opts.TotalRecords, &tally)
	return t.finishPut(ctx, tag, &tally)
}

// finishPut records what the get phase needs and returns the result.
func (t *target) finishPut(ctx context.Context, tag [8]byte, tally *putTally) (PhaseResult, error) {
	res := tally.result(t.opts.RecordSize)
	t.putTag, t.putAccepted, t.putDone = tag, tally.records, true
	if err := ctx.Err(); err != nil {
		return res, err
	}
	if tally.records == 0 && tally.lastErr != nil {
		return res, tally.lastErr
	}
	return res, nil
}

// runPutRounds is the put phase with a baseline: rounds alternating
// baseline and endpoint, each d/rounds long (or total/rounds records), so
// both see the same background load on a shared machine.
func runPutRounds(ctx context.Context, endpoint, baseline *target, rounds int) (ep, bl PhaseResult, err error) {
	o := endpoint.opts
	var epTally, blTally putTally
	epTag, blTag := newTag(), newTag()
	for r := range rounds {
		d := o.Duration / time.Duration(rounds)
		total := o.TotalRecords / int64(rounds)
		if r == rounds-1 {
			d = o.Duration - d*time.Duration(rounds-1)
			total = o.TotalRecords - total*int64(rounds-1)
		}
		if o.TotalRecords > 0 && total <= 0 {
			continue
		}
		for _, x := range []struct {
			t     *target
			tag   [8]byte
			tally *putTally
		}{{baseline, blTag, &blTally}, {endpoint, epTag, &epTally}} {
			o.Logger.Info("put round", "round", r+1, "of", rounds, "target", x.t.name)
			putRound(ctx, x.t, x.tag, d, total, x.tally)
			if ctx.Err() != nil {
				break
			}
		}
	}
	bl, blErr := baseline.finishPut(ctx, blTag, &blTally)
	if blErr != nil {
		return PhaseResult{}, bl, fmt.Errorf("baseline: %w", blErr)
	}
	ep, err = endpoint.finishPut(ctx, epTag, &epTally)
	return ep, bl, err
}

// putRound runs the producers for d (or until total records, when > 0)
// and adds what they did to tally.
func putRound(ctx context.Context, t *target, tag [8]byte, d time.Duration, total int64, tally *putTally) {
	o := t.opts
	cpu0, srv0 := processCPU(), t.serverCPU()
	t.retries.take()
	var remaining atomic.Int64
	remaining.Store(total)
	// claim returns how many records the next call may send; 0 means stop.
	claim := func() int {
		if total <= 0 {
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
				if total <= 0 && st.calls > 0 && !time.Now().Before(deadline) {
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
				if err != nil && ctx.Err() != nil {
					return // interrupted: neither a call nor an error
				}
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
				if len(out.Records) != n {
					// Unknown which records landed: count the call failed.
					st.errors++
					st.lastErr = errEntryCount(len(out.Records), n)
					continue
				}
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
	deadline = start.Add(d)
	close(startCh)
	wg.Wait()
	tally.elapsed += time.Since(start)
	for i := range stats {
		tally.merge(&stats[i])
	}
	tally.cpu += processCPU() - cpu0
	tally.srvCPU += t.serverCPU() - srv0
	n, causes := t.retries.take()
	tally.retries += n
	for k, v := range causes {
		if tally.causes == nil {
			tally.causes = map[string]int64{}
		}
		tally.causes[k] += v
	}
}
