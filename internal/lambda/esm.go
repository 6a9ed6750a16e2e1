package lambda

// Event source mappings for Kinesis streams, read in process.
//
// A mapping runs one goroutine that lists the stream's shards and starts a
// worker per shard whose parents are done (parent before child after a
// split or merge). A worker reads up to BatchSize records from its
// checkpoint, waits up to MaximumBatchingWindowInSeconds for a full batch,
// drops records that match no FilterCriteria pattern, and delivers the
// batch: with ParallelizationFactor N the batch is split by partition-key
// hash into N ordered groups invoked concurrently. A delivery retries as
// configured (see deliver) and the checkpoint moves past the batch only
// once every record is processed or sent to the on-failure destination,
// then is written durably (namespace "lambda-esm-UUID"), so a restart
// resumes without skipping; records may be delivered again after a crash
// (at least once, as in AWS).

import (
	"context"
	"crypto/md5"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/awsproto"
	"github.com/eddy-streams/eddy/internal/firehose/s3dest"
	"github.com/eddy-streams/eddy/internal/kinesis"
)

// mappingSettings is the persisted and API-visible state of a mapping.
type mappingSettings struct {
	UUID                           string             `json:"UUID"`
	Account                        string             `json:"account"`
	Region                         string             `json:"region"`
	FunctionArn                    string             `json:"FunctionArn"`
	EventSourceArn                 string             `json:"EventSourceArn"`
	BatchSize                      int                `json:"BatchSize"`
	MaximumBatchingWindowInSeconds int                `json:"MaximumBatchingWindowInSeconds"`
	StartingPosition               string             `json:"StartingPosition"`
	StartingPositionTimestamp      *float64           `json:"StartingPositionTimestamp,omitempty"`
	ParallelizationFactor          int                `json:"ParallelizationFactor"`
	BisectBatchOnFunctionError     bool               `json:"BisectBatchOnFunctionError"`
	MaximumRetryAttempts           int                `json:"MaximumRetryAttempts"`
	MaximumRecordAgeInSeconds      int                `json:"MaximumRecordAgeInSeconds"`
	FunctionResponseTypes          []string           `json:"FunctionResponseTypes"`
	TumblingWindowInSeconds        int                `json:"TumblingWindowInSeconds"`
	FilterCriteria                 *FilterCriteria    `json:"FilterCriteria,omitempty"`
	DestinationConfig              *DestinationConfig `json:"DestinationConfig,omitempty"`
	Enabled                        bool               `json:"Enabled"`
	LastModified                   float64            `json:"LastModified"`
	StreamCreatedMs                int64              `json:"streamCreatedMs"`
	Deleting                       bool               `json:"deleting,omitempty"`
}

// FilterCriteria is AWS's FilterCriteria shape.
type FilterCriteria struct {
	Filters []struct {
		Pattern string `json:"Pattern"`
	} `json:"Filters"`
}

// DestinationConfig is AWS's DestinationConfig shape.
type DestinationConfig struct {
	OnFailure *struct {
		Destination string `json:"Destination,omitempty"`
	} `json:"OnFailure,omitempty"`
	OnSuccess *struct {
		Destination string `json:"Destination,omitempty"`
	} `json:"OnSuccess,omitempty"`
}

type shardCkpt struct {
	Pos  uint64 `json:"pos"`
	Done bool   `json:"done,omitempty"`
	// the open tumbling window: its start (ms) and state
	WinStart int64           `json:"winStart,omitempty"`
	State    json.RawMessage `json:"state,omitempty"`
}

type checkpoints struct {
	Shards map[string]shardCkpt `json:"shards"`
}

type mapping struct {
	s *Service

	mu      sync.Mutex // guards the fields below
	set     mappingSettings
	ckpt    checkpoints
	last    string // LastProcessingResult
	cancel  context.CancelFunc
	done    chan struct{}
	filters []*pattern
	saveErr error
	// checkpoints are written at most every ckptEvery (dirty until then)
	// and on shard end and stop: a crash re-delivers at most that much
	dirty    bool
	lastSave time.Time
}

const ckptEvery = 100 * time.Millisecond

// config returns the mapping's configuration as AWS shows it.
func (m *mapping) config() map[string]any {
	m.mu.Lock()
	defer m.mu.Unlock()
	st := m.set
	state := "Enabled"
	switch {
	case st.Deleting:
		state = "Deleting"
	case !st.Enabled:
		state = "Disabled"
	}
	last := m.last
	if last == "" {
		last = "No records processed"
	}
	out := map[string]any{
		"UUID": st.UUID, "BatchSize": st.BatchSize, "MaximumBatchingWindowInSeconds": st.MaximumBatchingWindowInSeconds,
		"ParallelizationFactor": st.ParallelizationFactor, "EventSourceArn": st.EventSourceArn, "FunctionArn": st.FunctionArn,
		"LastModified": st.LastModified, "LastProcessingResult": last, "State": state, "StateTransitionReason": "User action",
		"StartingPosition": st.StartingPosition, "MaximumRecordAgeInSeconds": st.MaximumRecordAgeInSeconds,
		"BisectBatchOnFunctionError": st.BisectBatchOnFunctionError, "MaximumRetryAttempts": st.MaximumRetryAttempts,
		"TumblingWindowInSeconds": st.TumblingWindowInSeconds, "FunctionResponseTypes": nonNil(st.FunctionResponseTypes),
		"DestinationConfig":     destOrEmpty(st.DestinationConfig),
		"EventSourceMappingArn": fmt.Sprintf("arn:aws:lambda:%s:%s:event-source-mapping:%s", st.Region, st.Account, st.UUID),
	}
	if st.StartingPositionTimestamp != nil {
		out["StartingPositionTimestamp"] = *st.StartingPositionTimestamp
	}
	if st.FilterCriteria != nil {
		out["FilterCriteria"] = st.FilterCriteria
	}
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func destOrEmpty(d *DestinationConfig) any {
	if d == nil {
		return map[string]any{"OnFailure": map[string]any{}}
	}
	return d
}

// startMappingLocked runs m if enabled (caller holds s.mu).
func (s *Service) startMappingLocked(m *mapping) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.set.Enabled || m.set.Deleting || m.cancel != nil {
		return
	}
	ctx, cancel := context.WithCancel(s.ctx)
	m.cancel, m.done = cancel, make(chan struct{})
	done := m.done
	uuid := m.set.UUID
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer close(done)
		// only while this node holds the mapping's lease (esm_lease.go)
		s.leaser().Run(ctx, "lambda-esm."+uuid, m.runLeased)
	}()
}

// stop halts m's goroutines and waits for them.
func (m *mapping) stop() {
	m.mu.Lock()
	cancel, done := m.cancel, m.done
	m.cancel, m.done = nil, nil
	m.mu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
}

func (m *mapping) saveCkpt() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.flushCkptLocked()
}

// saveCkptLocked writes the checkpoints, or marks them dirty when the last
// write is recent (the mapping's run loop flushes them).
func (m *mapping) saveCkptLocked() error {
	if m.saveErr != nil {
		return m.saveErr
	}
	if time.Since(m.lastSave) < ckptEvery {
		m.dirty = true
		return nil
	}
	return m.flushCkptLocked()
}

func (m *mapping) flushCkptLocked() error {
	if m.saveErr != nil {
		return m.saveErr
	}
	m.dirty, m.lastSave = false, time.Now()
	if m.s.o.Backend == nil {
		return nil
	}
	b, err := json.Marshal(m.ckpt)
	if err != nil {
		return err
	}
	if err := m.s.o.Backend.SaveMeta("lambda-esm-"+m.set.UUID, b); err != nil {
		m.saveErr = fmt.Errorf("save checkpoints of mapping %s: %w", m.set.UUID, err)
		return m.saveErr
	}
	return nil
}

// initPositions records where each current shard starts (StartingPosition),
// so records put after CreateEventSourceMapping returns are not missed.
func (s *Service) initPositions(m *mapping, ref kinesis.StreamRef) error {
	ks := s.o.Kinesis
	shards, err := ks.Shards(ref)
	if err != nil {
		return err
	}
	m.ckpt.Shards = map[string]shardCkpt{}
	for _, sh := range shards {
		b, err := ks.Bounds(context.Background(), ref, sh.Index)
		if err != nil {
			return err
		}
		var pos uint64
		switch m.set.StartingPosition {
		case "LATEST":
			pos = b.Next
		case "AT_TIMESTAMP":
			ms := int64(*m.set.StartingPositionTimestamp * 1000)
			pos, err = ks.PosAtTime(context.Background(), ref, sh.Index, ms)
			if err != nil {
				return err
			}
		default:
			pos = b.Trim
		}
		m.ckpt.Shards[sh.ID] = shardCkpt{Pos: pos, Done: b.Sealed && pos >= b.Next}
	}
	return m.saveCkpt()
}

func (m *mapping) run(ctx context.Context) {
	s := m.s
	m.mu.Lock()
	set := m.set
	m.mu.Unlock()
	ref, err := s.o.Kinesis.ResolveARN(set.EventSourceArn)
	if err != nil || ref.CreatedMs != set.StreamCreatedMs {
		m.setLast("PROBLEM: Stream not found")
		s.log.Warn("event source mapping: stream gone", "uuid", set.UUID, "stream", set.EventSourceArn)
		return
	}
	running := map[string]bool{}
	finished := make(chan string, 16)
	var wg sync.WaitGroup
	defer wg.Wait()
	tick := time.NewTicker(ckptEvery)
	defer tick.Stop()
	defer func() {
		wg.Wait()
		m.mu.Lock()
		if m.dirty {
			m.flushCkptLocked()
		}
		m.mu.Unlock()
	}()
	lastScan := time.Time{}
	for {
		m.mu.Lock()
		if m.dirty && time.Since(m.lastSave) >= ckptEvery {
			m.flushCkptLocked()
		}
		saveErr := m.saveErr
		m.mu.Unlock()
		if saveErr != nil {
			// checkpoints cannot be written: stop rather than re-deliver
			// batches forever (a restart retries)
			m.setLast("PROBLEM: " + saveErr.Error())
			s.log.Error("event source mapping stopped", "uuid", set.UUID, "err", saveErr)
			return
		}
		if time.Since(lastScan) < time.Second {
			select {
			case <-ctx.Done():
				return
			case id := <-finished:
				delete(running, id)
			case <-tick.C:
				continue
			}
		}
		lastScan = time.Now()
		shards, err := s.o.Kinesis.Shards(ref)
		if err != nil {
			m.setLast("PROBLEM: Stream not found")
			return
		}
		present := map[string]bool{}
		for _, sh := range shards {
			present[sh.ID] = true
		}
		m.mu.Lock()
		for _, sh := range shards {
			ck, seen := m.ckpt.Shards[sh.ID]
			if running[sh.ID] || (seen && ck.Done) {
				continue
			}
			ready := true
			for _, p := range []string{sh.Parent, sh.AdjacentParent} {
				if p != "" && present[p] && !m.ckpt.Shards[p].Done {
					ready = false
				}
			}
			if !ready {
				continue
			}
			running[sh.ID] = true
			sh := sh // a shard without checkpoint starts at its trim horizon
			wg.Add(1)
			go func() {
				defer wg.Done()
				m.shardLoop(ctx, ref, sh, ck)
				select {
				case finished <- sh.ID:
				case <-ctx.Done():
				}
			}()
		}
		m.mu.Unlock()
		select {
		case <-ctx.Done():
			return
		case id := <-finished:
			delete(running, id)
		case <-tick.C:
		}
	}
}

func (m *mapping) setLast(s string) {
	m.mu.Lock()
	m.last = s
	m.mu.Unlock()
}

// rec is one record read for a batch (copied out of storage buffers).
type rec struct {
	pos       uint64
	seq       string
	pk        string
	data      []byte
	arrivalMs int64
}

// shardLoop processes one shard from pos until it is sealed and drained,
// or ctx ends.
func (m *mapping) shardLoop(ctx context.Context, ref kinesis.StreamRef, sh kinesis.ShardInfo, ck shardCkpt) {
	ks := m.s.o.Kinesis
	m.mu.Lock()
	set := m.set
	m.mu.Unlock()
	pos := ck.Pos
	window := time.Duration(set.MaximumBatchingWindowInSeconds) * time.Second
	tw := &tumbling{ms: int64(set.TumblingWindowInSeconds) * 1000, start: ck.WinStart, state: ck.State}
	if tw.ms > 0 && tw.state == nil {
		tw.start = -1
	}
	save := func(done bool) error {
		m.mu.Lock()
		defer m.mu.Unlock()
		c := shardCkpt{Pos: pos, Done: done}
		if tw.open() {
			c.WinStart, c.State = tw.start, tw.state
		}
		m.ckpt.Shards[sh.ID] = c
		return m.saveCkptLocked()
	}
	for ctx.Err() == nil {
		var batch []rec
		var size int
		full := false // the event is at its size limit
		read := func(from uint64) (uint64, error) {
			had := len(batch)
			next, err := ks.Read(ctx, ref, sh.Index, from, set.BatchSize-len(batch), func(r kinesis.InprocRecord) bool {
				// a Kinesis event record costs ~ 4/3 of its data plus ~500 bytes of fields
				sz := len(r.Data)*4/3 + len(r.PartitionKey) + 500
				if len(batch) > 0 && size+sz > maxSyncPayload-1024 {
					full = true
					return false
				}
				size += sz
				batch = append(batch, rec{pos: r.Pos, seq: r.SequenceNumber(), pk: string(r.PartitionKey), data: append([]byte(nil), r.Data...), arrivalMs: r.ArrivalMs})
				return true
			})
			if full {
				// Read's next counts the refused record too: it belongs
				// to the next batch
				if len(batch) > had {
					return batch[len(batch)-1].pos + 1, err
				}
				return from, err
			}
			return next, err
		}
		next, err := read(pos)
		if err != nil {
			if ctx.Err() == nil {
				m.s.log.Warn("event source mapping: read", "uuid", set.UUID, "shard", sh.ID, "err", err)
				m.setLast("PROBLEM: " + err.Error())
				select {
				case <-ctx.Done():
				case <-time.After(time.Second):
				}
			}
			continue
		}
		if len(batch) == 0 {
			b, err := ks.Bounds(ctx, ref, sh.Index)
			sealed := err == nil && b.Sealed && pos >= b.Next
			if tw.open() && (sealed || m.s.now().UnixMilli() >= tw.start+tw.ms) {
				// the window is over (or the shard ends): the final invocation
				if !m.finalInvoke(ctx, set, sh, tw, sealed && m.s.now().UnixMilli() < tw.start+tw.ms) {
					return
				}
				if save(false) != nil {
					return
				}
			}
			if sealed {
				save(true)
				m.saveCkpt()
				return
			}
			if err == nil && pos < b.Trim {
				pos = b.Trim
			}
			wait := time.Second
			if tw.open() {
				wait = min(wait, time.Duration(tw.start+tw.ms-m.s.now().UnixMilli())*time.Millisecond+time.Millisecond)
			}
			select {
			case <-ctx.Done():
				return
			case <-ks.Watch(ref, sh.Index, pos):
			case <-time.After(wait):
			}
			continue
		}
		if window > 0 && len(batch) < set.BatchSize {
			deadline := time.NewTimer(window)
		gather:
			for len(batch) < set.BatchSize && !full {
				select {
				case <-ctx.Done():
					deadline.Stop()
					return
				case <-deadline.C:
					break gather
				case <-ks.Watch(ref, sh.Index, next):
					n, err := read(next)
					if err != nil {
						break gather
					}
					next = n
				}
			}
			deadline.Stop()
		}
		if tw.ms > 0 {
			// a batch never spans windows; a record of a later window
			// closes the open one first
			w := batch[0].arrivalMs - batch[0].arrivalMs%tw.ms
			if tw.open() && tw.start != w {
				if !m.finalInvoke(ctx, set, sh, tw, false) {
					return
				}
			}
			if !tw.open() {
				tw.start, tw.state = w, json.RawMessage("{}")
			}
			for k, r := range batch {
				if r.arrivalMs-r.arrivalMs%tw.ms != w {
					next, batch = r.pos, batch[:k]
					break
				}
			}
		}
		if !m.process(ctx, ref, sh, batch, tw) {
			return // ctx ended: the batch is not checkpointed
		}
		pos = next
		err = save(false)
		if err != nil {
			m.s.log.Error("event source mapping: checkpoint", "uuid", set.UUID, "err", err)
			return
		}
	}
}

// process filters and delivers one batch; false when ctx ended first.
func (m *mapping) process(ctx context.Context, ref kinesis.StreamRef, sh kinesis.ShardInfo, batch []rec, tw *tumbling) bool {
	m.mu.Lock()
	set, filters := m.set, m.filters
	m.mu.Unlock()
	if len(filters) > 0 {
		kept := batch[:0:0]
		for _, r := range batch {
			if matchAny(filters, r.pk, r.data) {
				kept = append(kept, r)
			}
		}
		batch = kept
	}
	if set.MaximumRecordAgeInSeconds > 0 {
		cut := m.s.now().Add(-time.Duration(set.MaximumRecordAgeInSeconds) * time.Second).UnixMilli()
		i := 0
		for i < len(batch) && batch[i].arrivalMs < cut {
			i++
		}
		if i > 0 {
			m.sendFailure(set, sh, batch[:i], "RecordAgeExceeded", 0, Result{})
			batch = batch[i:]
		}
	}
	if len(batch) == 0 {
		return true
	}
	n := set.ParallelizationFactor
	if n <= 1 || tw.ms > 0 {
		return m.deliver(ctx, set, sh, batch, tw)
	}
	groups := make([][]rec, n)
	for _, r := range batch {
		h := md5.Sum([]byte(r.pk))
		g := binary.BigEndian.Uint64(h[:8]) % uint64(n)
		groups[g] = append(groups[g], r)
	}
	var wg sync.WaitGroup
	ok := make([]bool, n)
	for i, g := range groups {
		if len(g) == 0 {
			ok[i] = true
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok[i] = m.deliver(ctx, set, sh, g, tw)
		}()
	}
	wg.Wait()
	for _, v := range ok {
		if !v {
			return false
		}
	}
	return true
}

type pending struct {
	recs    []rec
	retries int
}

// deliver invokes the function with batch until every record is processed
// or given up. The rules (AWS's, as documented; where AWS is silent, ours):
//   - success without ReportBatchItemFailures: done;
//   - with ReportBatchItemFailures, a response naming item identifiers
//     (sequence numbers) succeeds up to the lowest one named; the rest is
//     retried from it (one retry). An empty or null list is success; a
//     response that is not JSON, or names an unknown sequence number, fails
//     the whole batch;
//   - a function error (or throttle, or any invocation error) with
//     BisectBatchOnFunctionError and more than one record splits the batch
//     in two halves retried separately, in order; a split does not use a
//     retry;
//   - otherwise the same records are retried; after MaximumRetryAttempts
//     retries (-1: until the records expire from the stream) they go to the
//     on-failure destination, and the shard moves on.
//
// Retries back off from 100 ms to 5 s.
func (m *mapping) deliver(ctx context.Context, set mappingSettings, sh kinesis.ShardInfo, batch []rec, tw *tumbling) bool {
	rbif := false
	for _, t := range set.FunctionResponseTypes {
		rbif = rbif || t == "ReportBatchItemFailures"
	}
	queue := []pending{{recs: batch}}
	backoff := 100 * time.Millisecond
	for len(queue) > 0 {
		if ctx.Err() != nil {
			return false
		}
		p := queue[0]
		payload := kinesisEvent(set, sh.ID, p.recs)
		if tw.open() {
			payload = tw.event(payload, set, sh.ID, false)
		}
		// an invocation in flight when the mapping stops may finish
		// (Service.hard bounds it), so its batch is checkpointed
		res, err := m.s.Invoke(m.s.hard, set.Account, set.Region, set.FunctionArn, payload)
		if ctx.Err() != nil && (err != nil || res.FunctionError != "") {
			return false
		}
		failAt := -1 // index of the first failed record, -1 when all succeeded
		if err != nil || res.FunctionError != "" {
			failAt = 0
		} else if rbif {
			failAt = partialFailure(res.Payload, p.recs)
		}
		if failAt < 0 && tw.open() {
			if st, ok := windowState(res.Payload); ok {
				tw.state = st
			} else {
				failAt = 0 // the state must be a JSON object
			}
		}
		if failAt < 0 {
			m.setLast("OK")
			queue = queue[1:]
			backoff = 100 * time.Millisecond
			continue
		}
		m.setLast("PROBLEM: Function call failed")
		if err != nil {
			res = Result{FunctionError: "Unhandled"}
			m.s.log.Warn("event source mapping: invoke", "uuid", set.UUID, "err", err)
		}
		functionError := err != nil || res.FunctionError != ""
		rest := p.recs[failAt:]
		if functionError && set.BisectBatchOnFunctionError && len(rest) > 1 {
			h := len(rest) / 2
			queue = append([]pending{{recs: rest[:h], retries: p.retries}, {recs: rest[h:], retries: p.retries}}, queue[1:]...)
			continue
		}
		if set.MaximumRetryAttempts >= 0 && p.retries >= set.MaximumRetryAttempts {
			m.sendFailure(set, sh, rest, "RetryAttemptsExhausted", p.retries+1, res)
			queue = queue[1:]
			continue
		}
		queue[0] = pending{recs: rest, retries: p.retries + 1}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(backoff):
		}
		if backoff *= 2; backoff > 5*time.Second {
			backoff = 5 * time.Second
		}
	}
	return true
}

// partialFailure reads a ReportBatchItemFailures response: the index of the
// lowest failed record, -1 for none, 0 when the response is unusable.
func partialFailure(payload []byte, recs []rec) int {
	var resp struct {
		BatchItemFailures []struct {
			ItemIdentifier *string `json:"itemIdentifier"`
		} `json:"batchItemFailures"`
	}
	if len(payload) == 0 || string(payload) == "null" {
		return -1
	}
	if err := json.Unmarshal(payload, &resp); err != nil {
		return 0
	}
	if len(resp.BatchItemFailures) == 0 {
		return -1
	}
	idx := map[string]int{}
	for i, r := range recs {
		idx[r.seq] = i
	}
	low := len(recs)
	for _, f := range resp.BatchItemFailures {
		if f.ItemIdentifier == nil || *f.ItemIdentifier == "" {
			return 0
		}
		i, ok := idx[*f.ItemIdentifier]
		if !ok {
			return 0
		}
		low = min(low, i)
	}
	return low
}

// kinesisEvent renders AWS's Kinesis event for recs.
func kinesisEvent(set mappingSettings, shardID string, recs []rec) []byte {
	n := 16
	for _, r := range recs {
		n += len(r.data)*4/3 + len(r.pk) + len(set.EventSourceArn) + 420
	}
	b := make([]byte, 0, n)
	b = append(b, `{"Records":[`...)
	role := `arn:aws:iam::` + set.Account + `:role/eddy-lambda`
	for i, r := range recs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"kinesis":{"kinesisSchemaVersion":"1.0","partitionKey":`...)
		b = awsproto.AppendJSONString(b, []byte(r.pk))
		b = append(b, `,"sequenceNumber":"`...)
		b = append(b, r.seq...)
		b = append(b, `","data":"`...)
		b = appendBase64(b, r.data)
		b = append(b, `","approximateArrivalTimestamp":`...)
		b = awsproto.AppendEpochSeconds(b, r.arrivalMs)
		b = append(b, `},"eventSource":"aws:kinesis","eventVersion":"1.0","eventID":"`...)
		b = append(b, shardID...)
		b = append(b, ':')
		b = append(b, r.seq...)
		b = append(b, `","eventName":"aws:kinesis:record","invokeIdentityArn":"`...)
		b = append(b, role...)
		b = append(b, `","awsRegion":"`...)
		b = append(b, set.Region...)
		b = append(b, `","eventSourceARN":"`...)
		b = append(b, set.EventSourceArn...)
		b = append(b, `"}`...)
	}
	b = append(b, `]}`...)
	return b
}

// sendFailure writes AWS's invocation record for discarded records to the
// on-failure destination (a Kinesis stream ARN), or logs it.
func (m *mapping) sendFailure(set mappingSettings, sh kinesis.ShardInfo, recs []rec, condition string, attempts int, res Result) {
	first, last := recs[0], recs[len(recs)-1]
	rc := map[string]any{
		"requestContext":  map[string]any{"requestId": newUUID(), "functionArn": set.FunctionArn, "condition": condition, "approximateInvokeCount": attempts},
		"responseContext": map[string]any{"statusCode": 200, "executedVersion": "$LATEST", "functionError": res.FunctionError},
		"version":         "1.0",
		"timestamp":       m.s.now().UTC().Format("2006-01-02T15:04:05.000Z"),
		"KinesisBatchInfo": map[string]any{
			"shardId": sh.ID, "startSequenceNumber": first.seq, "endSequenceNumber": last.seq,
			"approximateArrivalOfFirstRecord": time.UnixMilli(first.arrivalMs).UTC().Format("2006-01-02T15:04:05.000Z"),
			"approximateArrivalOfLastRecord":  time.UnixMilli(last.arrivalMs).UTC().Format("2006-01-02T15:04:05.000Z"),
			"batchSize":                       len(recs), "streamArn": set.EventSourceArn,
		},
	}
	b, _ := json.Marshal(rc)
	dest := ""
	if set.DestinationConfig != nil && set.DestinationConfig.OnFailure != nil {
		dest = set.DestinationConfig.OnFailure.Destination
	}
	if dest == "" {
		m.s.log.Warn("event source mapping: records discarded (no on-failure destination)", "uuid", set.UUID, "record", string(b))
		return
	}
	if strings.HasPrefix(dest, "arn:aws:s3:::") {
		// an S3 destination also gets the batch itself: "payload" is the
		// Kinesis event that failed
		rc["payload"] = json.RawMessage(kinesisEvent(set, sh.ID, recs))
		b, _ = json.Marshal(rc)
	}
	if err := m.s.putDestination(set, sh.ID, dest, b); err != nil {
		m.s.log.Error("event source mapping: on-failure destination", "uuid", set.UUID, "destination", dest, "err", err, "record", string(b))
	}
}

// putDestination appends one record to a destination stream, or writes it
// as an object under aws/lambda/UUID/SHARD/YYYY/MM/DD/ of a bucket (the
// key AWS documents: …/YYYY-MM-DDTHH.MM.SS-RANDOMUUID).
func (s *Service) putDestination(set mappingSettings, shardID, arn string, b []byte) error {
	if bucket, ok := strings.CutPrefix(arn, "arn:aws:s3:::"); ok {
		s.s3once.Do(func() { s.s3 = s3dest.NewUploader(s.o.S3) })
		now := s.now().UTC()
		key := fmt.Sprintf("aws/lambda/%s/%s/%s/%s-%s", set.UUID, shardID, now.Format("2006/01/02"), now.Format("2006-01-02T15.04.05"), newUUID())
		ctx, cancel := context.WithTimeout(s.ctx, time.Minute)
		defer cancel()
		return s.s3.Put(ctx, bucket, key, b, "")
	}
	ref, err := s.o.Kinesis.ResolveARN(arn)
	if err != nil {
		return err
	}
	_, err = s.o.Kinesis.Put(context.Background(), ref.Account, ref.Region, ref.Name, []kinesis.InprocEntry{{PartitionKey: "eddy-lambda", Data: b}})
	return err
}

func badMapping(format string, a ...any) *awserr.Error {
	return awserr.New(tInvalidParameter, http.StatusBadRequest, format, a...)
}

// tumbling is a shard's open tumbling window (TumblingWindowInSeconds):
// windows are aligned to multiples of the window length in arrival time;
// each invocation gets the state the previous one returned; the final
// invocation (no records, isFinalInvokeForWindow) comes once the window
// has ended on the clock or a record of a later window arrives.
type tumbling struct {
	ms    int64 // window length; 0 when tumbling windows are off
	start int64 // -1 or open window start (ms)
	state json.RawMessage
}

func (t *tumbling) open() bool { return t != nil && t.ms > 0 && t.state != nil }

// event wraps a Kinesis event's Records with the window fields.
func (t *tumbling) event(ev []byte, set mappingSettings, shardID string, final bool) []byte {
	f := func(ms int64) string { return time.UnixMilli(ms).UTC().Format("2006-01-02T15:04:05Z") }
	extra, _ := json.Marshal(map[string]any{
		"window": map[string]string{"start": f(t.start), "end": f(t.start + t.ms)}, "state": t.state,
		"shardId": shardID, "eventSourceARN": set.EventSourceArn, "isFinalInvokeForWindow": final, "isWindowTerminatedEarly": false,
	})
	out := append(ev[:len(ev)-1:len(ev)-1], ',')
	return append(out, extra[1:]...)
}

// windowState reads "state" from a tumbling-window response ({} when none).
func windowState(payload []byte) (json.RawMessage, bool) {
	var resp struct {
		State json.RawMessage `json:"state"`
	}
	if len(payload) == 0 || string(payload) == "null" {
		return json.RawMessage("{}"), true
	}
	if json.Unmarshal(payload, &resp) != nil {
		return nil, false
	}
	if len(resp.State) == 0 || string(resp.State) == "null" {
		return json.RawMessage("{}"), true
	}
	if resp.State[0] != '{' || len(resp.State) > 1<<20 {
		return nil, false
	}
	return resp.State, true
}

// finalInvoke sends the window's final invocation, retried as a batch is;
// the window closes whatever the outcome. false when ctx ended.
func (m *mapping) finalInvoke(ctx context.Context, set mappingSettings, sh kinesis.ShardInfo, tw *tumbling, early bool) bool {
	payload := tw.event([]byte(`{"Records":[]}`), set, sh.ID, true)
	if early {
		payload = []byte(strings.Replace(string(payload), `"isWindowTerminatedEarly":false`, `"isWindowTerminatedEarly":true`, 1))
	}
	backoff := 100 * time.Millisecond
	for attempt := 0; ; attempt++ {
		res, err := m.s.Invoke(ctx, set.Account, set.Region, set.FunctionArn, payload)
		if ctx.Err() != nil {
			return false
		}
		if err == nil && res.FunctionError == "" {
			break
		}
		if set.MaximumRetryAttempts >= 0 && attempt >= set.MaximumRetryAttempts {
			m.s.log.Warn("event source mapping: final window invocation failed", "uuid", set.UUID, "shard", sh.ID)
			break
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 5*time.Second)
	}
	tw.start, tw.state = -1, nil
	return true
}
