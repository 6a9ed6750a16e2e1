package agent

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"

	"github.com/eddy-streams/eddy/internal/agent/convert"
	"github.com/eddy-streams/eddy/internal/agent/send"
	"github.com/eddy-streams/eddy/internal/agent/tail"
)

// batch is one PutRecords / PutRecordBatch call's worth of records, with the
// file position after its last record (or skipped line).
type batch struct {
	seq     uint64
	entries []send.Entry
	bytes   int
	pos     tail.Position
	hasPos  bool
	opened  time.Time
}

// checkpointer is what a flow needs from the checkpoint store.
type checkpointer interface {
	Get(flow string) (tail.Position, bool)
	Set(flow string, pos tail.Position) error
}

// flow runs one filePattern → destination pipeline:
//
//	reader goroutine: tail.Poll → converters → batch → queue (bounded)
//	MaxInFlightBatches sender goroutines: queue → Sender with retries
//	committer: advances the checkpoint over the contiguous prefix of
//	           acknowledged batches, in batch order.
type flow struct {
	cfg     Flow
	id      string
	log     *slog.Logger
	sender  send.Sender
	store   checkpointer
	threads chan struct{} // global sending-thread semaphore
	now     func() time.Time
	stats   *FlowStats
	budget  *byteBudget
	chain   *convert.Chain

	queue chan *batch
	cur   *batch
	seq   uint64

	// Group commit: ack records a batch and moves the watermark; the
	// committer goroutine writes the newest watermark; a sender waits until
	// its batch is covered by a written checkpoint before taking another
	// batch, so at most MaxInFlightBatches batches are ever sent but not
	// checkpointed (the duplicate bound after a crash).
	commitMu     sync.Mutex
	nextDone     uint64            // lowest batch seq not yet acknowledged
	acked        map[uint64]*batch // acknowledged, waiting for earlier batches
	watermark    tail.Position     // position after the contiguous acknowledged prefix
	watermarkSeq uint64            // last seq of that prefix
	hasWatermark bool
	durableSeq   uint64        // every batch ≤ this is covered by the checkpoint file
	durableCh    chan struct{} // closed and replaced when durableSeq moves
	commitKick   chan struct{}
	committed    tail.Position           // last position written
	onCommit     func(pos tail.Position) // tests

	parseWarnings int
}

func newFlow(cfg Flow, sender send.Sender, store checkpointer, threads chan struct{}, maxBuffered int, log *slog.Logger, now func() time.Time) *flow {
	f := &flow{
		cfg:        cfg,
		id:         cfg.ID(),
		log:        log.With("flow", cfg.ID()),
		sender:     sender,
		store:      store,
		threads:    threads,
		now:        now,
		stats:      &FlowStats{},
		budget:     newByteBudget(int64(maxBuffered)),
		chain:      convert.NewChain(cfg.Converters...),
		queue:      make(chan *batch, cfg.PublishQueueCapacity),
		acked:      map[uint64]*batch{},
		nextDone:   1,
		durableCh:  make(chan struct{}),
		commitKick: make(chan struct{}, 1),
	}
	return f
}

// run reads, sends and checkpoints until ctx is cancelled, then flushes:
// queued batches keep being sent for up to shutdown, and the checkpoint
// covers exactly what was acknowledged.
func (f *flow) run(ctx context.Context, shutdown time.Duration) error {
	var resume *tail.Position
	if p, ok := f.store.Get(f.id); ok {
		resume = &p
		f.committed = p
	}
	tl := tail.New(tail.Options{
		Pattern:          f.cfg.FilePattern,
		Resume:           resume,
		StartAtEnd:       f.cfg.InitialPosition == "END_OF_FILE",
		SkipHeaderLines:  f.cfg.SkipHeaderLines,
		MultiLineStart:   f.cfg.MultiLineStartPattern,
		MultiLineFlush:   f.cfg.MultiLineFlush,
		Footer:           f.cfg.FileFooterPattern,
		MaxRecord:        f.cfg.MaxRecordBytes(),
		Split:            f.cfg.OversizeRecords == "SPLIT",
		Terminator:       []byte(f.cfg.TruncatedTerminator),
		FingerprintBytes: f.cfg.FingerprintBytes,
		RotateWait:       f.cfg.RotateWait,
		Now:              f.now,
		Log:              f.log,
		Stats:            &f.stats.Tail,
	})
	defer tl.Close()

	sendCtx, cancelSend := context.WithCancel(context.Background())
	defer cancelSend()
	stopCommit := make(chan struct{})
	committerDone := make(chan struct{})
	go func() { defer close(committerDone); f.committer(stopCommit) }()
	var wg sync.WaitGroup
	errc := make(chan error, f.cfg.MaxInFlightBatches)
	for i := 0; i < f.cfg.MaxInFlightBatches; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range f.queue {
				if err := f.deliver(sendCtx, b); err != nil {
					select {
					case errc <- err:
					default:
					}
					continue
				}
			}
		}()
	}

	readErr := f.read(ctx, tl)
	// Flush what was read, stop the senders once the queue drains or the
	// shutdown timeout passes.
	if f.cur != nil && (len(f.cur.entries) > 0 || f.cur.hasPos) {
		f.dispatchNoWait()
	}
	close(f.queue)
	drained := make(chan struct{})
	go func() { wg.Wait(); close(drained) }()
	select {
	case <-drained:
	case <-time.After(shutdown):
		f.log.Warn("shutdown timeout: unsent batches will be read again on restart")
		cancelSend()
		<-drained
	}
	close(stopCommit)
	<-committerDone
	if readErr != nil && !errors.Is(readErr, context.Canceled) {
		return readErr
	}
	select {
	case err := <-errc:
		if !errors.Is(err, context.Canceled) {
			return err
		}
	default:
	}
	return nil
}

// read polls the tailer until ctx is done.
func (f *flow) read(ctx context.Context, tl *tail.Tailer) error {
	emit := func(r tail.Record) error { return f.add(ctx, r) }
	for {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		n, err := tl.Poll(emit)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			f.log.Error("reading files", "err", err)
		}
		lagBytes, lagFiles := tl.Lag()
		f.stats.BytesBehind.Store(lagBytes)
		f.stats.FilesBehind.Store(int64(lagFiles))
		if f.cur != nil && f.now().Sub(f.cur.opened) >= f.cfg.MaxBufferAge {
			if err := f.dispatch(ctx); err != nil {
				return err
			}
		}
		if n > 0 {
			continue
		}
		wait := f.cfg.MinTimeBetweenFilePolls
		if f.cur != nil {
			if left := f.cfg.MaxBufferAge - f.now().Sub(f.cur.opened); left < wait {
				wait = max(left, time.Millisecond)
			}
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// add converts one tailed record and appends it to the open batch.
func (f *flow) add(ctx context.Context, r tail.Record) error {
	if r.Skip {
		return f.addPos(ctx, r.End)
	}
	data := r.Data
	if f.chain.Len() > 0 {
		out, err := f.chain.Convert(data)
		if err != nil {
			f.stats.RecordsUnparsed.Add(1)
			f.parseWarning(err, data)
			if f.cfg.OnParseError == "SKIP" {
				f.stats.RecordsSkipped.Add(1)
				return f.addPos(ctx, r.End)
			}
		} else {
			f.stats.RecordsParsed.Add(1)
			data = out
		}
	}
	max := f.cfg.MaxRecordBytes()
	for len(data) > max {
		if f.cfg.OversizeRecords == "SPLIT" {
			if err := f.addEntry(ctx, data[:max], nil); err != nil {
				return err
			}
			f.stats.Tail.Split.Add(1)
			data = data[max:]
			continue
		}
		term := f.cfg.TruncatedTerminator
		if len(term) >= max {
			term = ""
		}
		cut := make([]byte, 0, max)
		cut = append(append(cut, data[:max-len(term)]...), term...)
		data = cut
		f.stats.Tail.Truncated.Add(1)
	}
	pos := r.End
	return f.addEntry(ctx, data, &pos)
}

func (f *flow) parseWarning(err error, data []byte) {
	f.parseWarnings++
	if n := f.parseWarnings; n <= 5 || n%10000 == 0 {
		const maxShown = 200
		shown := data
		if len(shown) > maxShown {
			shown = shown[:maxShown]
		}
		action := "sent raw"
		if f.cfg.OnParseError == "SKIP" {
			action = "skipped"
		}
		f.log.Warn("record does not parse", "err", err, "record", string(shown), "action", action, "unparsed_total", f.stats.RecordsUnparsed.Load())
	}
}

func (f *flow) partitionKey(data []byte) string {
	if f.cfg.PartitionKeyOption == "DETERMINISTIC" {
		sum := md5.Sum(data)
		return hex.EncodeToString(sum[:])
	}
	return strconv.FormatUint(rand.Uint64N(1e15), 10)
}

// addEntry appends a record (copied) to the open batch, dispatching first if
// it would not fit.
func (f *flow) addEntry(ctx context.Context, data []byte, pos *tail.Position) error {
	var pk string
	if f.cfg.KinesisStream != "" {
		pk = f.partitionKey(data)
	}
	size := len(data) + len(pk)
	if agg := f.cfg.AggregatedRecordSize; agg > 0 && f.cur != nil && len(f.cur.entries) > 0 {
		last := &f.cur.entries[len(f.cur.entries)-1]
		if len(last.Data)+len(data) <= agg && f.cur.bytes+len(data) <= f.cfg.MaxBufferSizeBytes {
			last.Data = append(last.Data, data...)
			f.cur.bytes += len(data)
			if pos != nil {
				f.cur.pos, f.cur.hasPos = *pos, true
			}
			return nil
		}
	}
	if f.cur != nil && (len(f.cur.entries) >= f.cfg.MaxBufferSizeRecords || f.cur.bytes+size > f.cfg.MaxBufferSizeBytes) {
		if err := f.dispatch(ctx); err != nil {
			return err
		}
	}
	if f.cur == nil {
		f.open()
	}
	buf := make([]byte, len(data))
	copy(buf, data)
	f.cur.entries = append(f.cur.entries, send.Entry{Data: buf, PartitionKey: pk})
	f.cur.bytes += size
	if pos != nil {
		f.cur.pos, f.cur.hasPos = *pos, true
	}
	if len(f.cur.entries) >= f.cfg.MaxBufferSizeRecords || f.cur.bytes >= f.cfg.MaxBufferSizeBytes {
		return f.dispatch(ctx)
	}
	return nil
}

// addPos moves the open batch's position without adding a record.
func (f *flow) addPos(_ context.Context, pos tail.Position) error {
	if f.cur == nil {
		f.open()
	}
	f.cur.pos, f.cur.hasPos = pos, true
	return nil
}

func (f *flow) open() {
	f.seq++
	f.cur = &batch{seq: f.seq, opened: f.now()}
}

// dispatch queues the open batch, waiting for room in the byte budget and
// the queue (back-pressure: the files are the buffer).
func (f *flow) dispatch(ctx context.Context) error {
	b := f.cur
	if b == nil {
		return nil
	}
	if err := f.budget.acquire(ctx, int64(b.bytes)); err != nil {
		return err
	}
	select {
	case f.queue <- b:
		f.cur = nil
		return nil
	case <-ctx.Done():
		f.budget.release(int64(b.bytes))
		return ctx.Err()
	}
}

// dispatchNoWait queues the open batch at shutdown if there is room.
func (f *flow) dispatchNoWait() {
	b := f.cur
	if !f.budget.tryAcquire(int64(b.bytes)) {
		return
	}
	select {
	case f.queue <- b:
		f.cur = nil
	default:
		f.budget.release(int64(b.bytes))
	}
}

// deliver sends one batch until every entry is accepted (retrying only the
// failed ones, with backoff) or ctx ends; then it is acknowledged.
func (f *flow) deliver(ctx context.Context, b *batch) error {
	defer f.budget.release(int64(b.bytes))
	pending := b.entries
	attempt := 0
	for len(pending) > 0 {
		select {
		case f.threads <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		}
		f.stats.RecordSendAttempts.Add(int64(len(pending)))
		res, err := f.sender.Send(ctx, pending)
		<-f.threads
		if err == nil && len(res.Failed) == 0 {
			f.stats.RecordsSent.Add(int64(len(pending)))
			f.stats.BytesSent.Add(entryBytes(pending))
			break
		}
		attempt++
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			f.stats.ServiceErrors.Add(1)
			f.log.Warn("send failed; retrying", "err", err, "records", len(pending), "attempt", attempt)
		} else {
			f.stats.RecordSendErrors.Add(int64(len(res.Failed)))
			failed := make([]send.Entry, 0, len(res.Failed))
			for _, i := range res.Failed {
				if i >= 0 && i < len(pending) {
					failed = append(failed, pending[i])
				}
			}
			f.stats.RecordsSent.Add(int64(len(pending) - len(failed)))
			f.log.Debug("partial failure; retrying failed records", "failed", len(failed), "of", len(pending),
				"code", res.ErrorCode, "message", res.ErrorMsg, "attempt", attempt)
			if attempt == 1 || attempt%10 == 0 {
				f.log.Warn("records rejected; retrying them", "failed", len(failed), "of", len(pending), "code", res.ErrorCode, "attempt", attempt)
			}
			pending = failed
		}
		if err := sleepCtx(ctx, f.backoff(attempt)); err != nil {
			return err
		}
	}
	if len(b.entries) > 0 {
		f.stats.BatchesSent.Add(1)
	}
	f.ack(b)
	return f.waitDurable(ctx, b.seq)
}

func entryBytes(es []send.Entry) int64 {
	var n int64
	for _, e := range es {
		n += int64(len(e.Data) + len(e.PartitionKey))
	}
	return n
}

// backoff is min(max, initial × 2^(attempt−1)) with ±30 % jitter.
func (f *flow) backoff(attempt int) time.Duration {
	d := f.cfg.RetryInitialBackoff
	for i := 1; i < attempt && d < f.cfg.RetryMaxBackoff; i++ {
		d *= 2
	}
	d = min(d, f.cfg.RetryMaxBackoff)
	jitter := 0.7 + 0.6*rand.Float64()
	return time.Duration(float64(d) * jitter)
}

// ack marks b acknowledged and moves the watermark over the longest run of
// acknowledged batches starting at the oldest unacknowledged one.
func (f *flow) ack(b *batch) {
	f.commitMu.Lock()
	f.acked[b.seq] = b
	for {
		nb, ok := f.acked[f.nextDone]
		if !ok {
			break
		}
		delete(f.acked, f.nextDone)
		f.watermarkSeq = f.nextDone
		f.nextDone++
		if nb.hasPos {
			f.watermark, f.hasWatermark = nb.pos, true
		}
	}
	f.commitMu.Unlock()
	select {
	case f.commitKick <- struct{}{}:
	default:
	}
}

// waitDurable blocks until batch seq is covered by a written checkpoint.
func (f *flow) waitDurable(ctx context.Context, seq uint64) error {
	for {
		f.commitMu.Lock()
		done, ch := f.durableSeq >= seq, f.durableCh
		f.commitMu.Unlock()
		if done {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// committer writes the watermark whenever it moves, until stop is closed;
// then it writes a last time.
func (f *flow) committer(stop <-chan struct{}) {
	for {
		select {
		case <-f.commitKick:
			f.commit()
		case <-stop:
			f.commit()
			return
		}
	}
}

// commit writes the current watermark if it moved. On a write error the
// batches stay unacknowledged for waitDurable and the next kick retries.
func (f *flow) commit() {
	f.commitMu.Lock()
	seq, pos, has := f.watermarkSeq, f.watermark, f.hasWatermark
	moved := has && pos != f.committed
	f.commitMu.Unlock()
	if seq == 0 {
		return
	}
	if moved {
		if err := f.store.Set(f.id, pos); err != nil {
			f.stats.CheckpointErrors.Add(1)
			f.log.Error("writing checkpoint", "err", err)
			time.Sleep(100 * time.Millisecond) // do not spin on a broken disk
			select {
			case f.commitKick <- struct{}{}:
			default:
			}
			return
		}
		f.stats.CheckpointWrites.Add(1)
		if f.onCommit != nil {
			f.onCommit(pos)
		}
	}
	f.commitMu.Lock()
	f.committed = pos
	if seq > f.durableSeq {
		f.durableSeq = seq
		close(f.durableCh)
		f.durableCh = make(chan struct{})
	}
	f.commitMu.Unlock()
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// byteBudget bounds the record bytes a flow holds in its queue and in
// flight.
type byteBudget struct {
	mu   sync.Mutex
	cond chan struct{} // closed and replaced on every release
	max  int64
	used int64
}

func newByteBudget(max int64) *byteBudget {
	return &byteBudget{max: max, cond: make(chan struct{})}
}

func (b *byteBudget) tryAcquire(n int64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	// A batch larger than the whole budget is let through alone.
	if b.used+n <= b.max || b.used == 0 {
		b.used += n
		return true
	}
	return false
}

func (b *byteBudget) acquire(ctx context.Context, n int64) error {
	for {
		if b.tryAcquire(n) {
			return nil
		}
		b.mu.Lock()
		ch := b.cond
		b.mu.Unlock()
		if b.tryAcquire(n) {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (b *byteBudget) release(n int64) {
	b.mu.Lock()
	b.used -= n
	close(b.cond)
	b.cond = make(chan struct{})
	b.mu.Unlock()
}
