package kinesis

// Enhanced fan-out: the push side of SubscribeToShard.
//
// Design:
//   - Each subscription is one goroutine (the HTTP handler's own) reading the
//     shard log at its own position. There is no queue fed by producers:
//     when a subscriber is slow its writes block on TCP or HTTP/2 flow
//     control and it simply reads later; producers and other subscribers
//     never wait for it. Memory per subscription is one payload buffer and
//     one frame buffer, each bounded by one event (maxEventBytes of record
//     data, or one larger record).
//   - Push without polling: when caught up, a subscription waits on
//     Backend.Watch(shard, next), closed as soon as position next is
//     durable, so a record is sent as soon as a reader could see it.
//   - Subscriptions of one shard share encoded events (eventCache below):
//     they usually wake together on an append, the first encodes, the
//     others write the same frame. JSON events reuse GetRecords' direct
//     writer, CBOR events have their own (fanout_cbor.go); neither copies
//     record data or allocates per record.
//   - An idle subscription sends an empty event every Heartbeat (default
//     5 s) carrying ContinuationSequenceNumber, as AWS does, after checking
//     that its consumer is still ACTIVE.
//   - The fanout hub (one per Service) maps (consumer, shard) to the live
//     subscription for the 5-second takeover rule, ends subscriptions whose
//     consumer is deregistered or whose stream is deleted (the service's
//     onConsumerGone hook, called with the service lock held: lock order
//     Service.mu → fanout.mu), and ends them all on HTTP server shutdown
//     (registered on the *http.Server found in the request context) or
//     Service.Close.

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/awsproto"
	"github.com/eddy-streams/eddy/internal/awsproto/eventstream"
	"github.com/eddy-streams/eddy/internal/storage"
)

const (
	// maxEventRecords and maxEventBytes bound one SubscribeToShardEvent (a
	// single larger record is still sent alone).
	maxEventRecords = 10000
	maxEventBytes   = 1 << 20
	// efoBytesPerSec is the per consumer-shard push quota (--enforce-limits).
	efoBytesPerSec = 2 << 20
	// keepBufCap: buffers that grew beyond this are dropped after use.
	keepBufCap = 2 << 20
	// sealedRetry paces a subscription whose log is sealed before the
	// metadata shows the shard closed (a split or merge in progress).
	sealedRetry = 10 * time.Millisecond
)

// FanoutOptions tune enhanced fan-out. Zero values mean the AWS defaults.
type FanoutOptions struct {
	// Lifetime is how long a subscription lasts (AWS: 5 minutes).
	Lifetime time.Duration
	// Heartbeat is the longest gap between events on an idle subscription
	// (AWS: about 5 s).
	Heartbeat time.Duration
}

func (o FanoutOptions) withDefaults() FanoutOptions {
	if o.Lifetime <= 0 {
		o.Lifetime = 5 * time.Minute
	}
	if o.Heartbeat <= 0 {
		o.Heartbeat = 5 * time.Second
	}
	return o
}

// SetFanoutOptions changes the fan-out timings for subscriptions started
// afterwards (tests shorten them).
func (s *Service) SetFanoutOptions(o FanoutOptions) {
	h := s.fanout()
	h.mu.Lock()
	h.opts = o.withDefaults()
	h.mu.Unlock()
}

// Subscriptions reports how many SubscribeToShard responses are open.
func (s *Service) Subscriptions() int {
	h := s.fanout()
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs)
}

type subKey struct {
	consumer string // consumer ARN
	stream   string // internal stream id
	shard    uint32
}

// subscription is one open SubscribeToShard.
type subscription struct {
	key     subKey
	st      *stream
	sh      *shard
	id      storage.ShardID
	pos     uint64 // next position to send
	kms     bool
	startMs int64

	readers *atomic.Int32 // open subscriptions on this shard (set by register)

	done    chan struct{} // closed to end the subscription
	endOnce sync.Once
	endErr  *awserr.Error // exception event to send on done (nil: end quietly)
}

// end stops the subscription, sending e (if not nil) as an exception event.
func (sub *subscription) end(e *awserr.Error) {
	sub.endOnce.Do(func() {
		sub.endErr = e
		close(sub.done)
	})
}

// fanout is the per-Service registry of subscriptions.
type fanout struct {
	s *Service

	mu      sync.Mutex
	opts    FanoutOptions
	subs    map[subKey]*subscription
	readers map[storage.ShardID]*atomic.Int32 // subscriptions per shard
	servers map[*http.Server]bool
	closed  bool

	cache eventCache
}

// fanout returns the Service's subscription registry, making it on first
// use: it hooks consumer removal and ends every subscription when the
// Service closes.
func (s *Service) fanout() *fanout {
	s.hubOnce.Do(func() {
		h := &fanout{s: s, opts: FanoutOptions{}.withDefaults(), subs: map[subKey]*subscription{}, readers: map[storage.ShardID]*atomic.Int32{}, servers: map[*http.Server]bool{}}
		h.cache.m = map[cacheKey]*cacheEntry{}
		s.hub = h
		s.OnConsumerGone(h.consumerGone)
		go func() {
			<-s.stop
			h.shutdown()
		}()
	})
	return s.hub
}

// register adds sub, applying the one-subscription-per-consumer-shard rule.
func (h *fanout) register(sub *subscription) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return awserr.ServiceUnavailable("The service is shutting down.")
	}
	if old := h.subs[sub.key]; old != nil {
		if sub.startMs-old.startMs < subscriptionTakeover.Milliseconds() {
			return awserr.ResourceInUse("Another active subscription exists for this consumer: %s", sub.key.consumer)
		}
		old.end(awserr.ResourceInUse("Subscription for consumer %s on shard %s was replaced by a newer subscription.", sub.key.consumer, sub.sh.id))
	}
	h.subs[sub.key] = sub
	r := h.readers[sub.id]
	if r == nil {
		r = new(atomic.Int32)
		h.readers[sub.id] = r
	}
	r.Add(1)
	sub.readers = r
	return nil
}

func (h *fanout) unregister(sub *subscription) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.subs[sub.key] == sub {
		delete(h.subs, sub.key)
	}
	if sub.readers.Add(-1) == 0 {
		delete(h.readers, sub.id)
	}
}

// consumerGone ends the consumer's subscriptions. Called with s.mu held.
func (h *fanout) consumerGone(arn string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for k, sub := range h.subs {
		if k.consumer == arn {
			sub.end(awserr.ResourceNotFound("Consumer %s was deregistered or its stream deleted.", arn))
		}
	}
}

// shutdown ends every subscription quietly and refuses new ones.
func (h *fanout) shutdown() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for _, sub := range h.subs {
		sub.end(nil)
	}
}

// watchServer makes srv's Shutdown end the subscriptions (an open stream
// would otherwise hold Shutdown until its lifetime ends).
func (h *fanout) watchServer(ctx context.Context) {
	srv, ok := ctx.Value(http.ServerContextKey).(*http.Server)
	if !ok || srv == nil {
		return
	}
	h.mu.Lock()
	seen := h.servers[srv]
	h.servers[srv] = true
	h.mu.Unlock()
	if !seen {
		srv.RegisterOnShutdown(h.shutdown)
	}
}

// pusher writes one subscription's events.
type pusher struct {
	s     *Service
	hub   *fanout
	sub   *subscription
	codec awsproto.Codec
	ct    string
	w     http.ResponseWriter
	rc    *http.ResponseController

	payload []byte
	scratch []byte // CBOR records before their array header
	frame   []byte
	cont    string // ContinuationSequenceNumber of the next event
	tokens  float64
	lastRef time.Time
}

// serve writes the response of a registered subscription until it ends.
func (h *fanout) serve(r *awsproto.Request, w http.ResponseWriter, sub *subscription) {
	defer h.unregister(sub)
	h.watchServer(r.Ctx)
	h.mu.Lock()
	opts := h.opts
	h.mu.Unlock()

	p := &pusher{s: h.s, hub: h, sub: sub, codec: r.Codec, w: w, rc: http.NewResponseController(w), tokens: efoBytesPerSec, lastRef: time.Now()}
	p.ct = "application/json"
	if r.Codec == awsproto.CBOR {
		p.ct = awsproto.ContentTypeCBOR
	}
	w.Header().Set("Content-Type", "application/vnd.amazon.eventstream")
	w.WriteHeader(http.StatusOK)
	initial, _ := awsproto.Encode(r.Codec, nil)
	if err := p.send(eventstream.EventMessage("initial-response", p.ct, initial)); err != nil {
		return
	}
	p.cont = p.continuationBefore(r.Ctx, sub.pos)
	if err := p.run(r.Ctx, opts); err != nil {
		h.s.log.Debug("subscription ended", "consumer", sub.key.consumer, "shard", sub.sh.id, "err", err)
	}
}

// errClientGone ends a subscription whose client went away.
var errClientGone = errors.New("client gone")

func (p *pusher) run(ctx context.Context, opts FanoutOptions) error {
	sub := p.sub
	life := time.NewTimer(opts.Lifetime)
	defer life.Stop()
	beat := time.NewTimer(opts.Heartbeat)
	defer beat.Stop()
	retry := time.NewTimer(sealedRetry)
	retry.Stop()
	defer retry.Stop()
	for {
		select {
		case <-sub.done:
			return p.ended()
		case <-life.C:
			return nil
		case <-ctx.Done():
			return errClientGone
		default:
		}
		n, more, last, err := p.pushAvailable(ctx)
		if err != nil {
			return err
		}
		if last {
			return nil
		}
		if n > 0 {
			beat.Reset(opts.Heartbeat)
		}
		if more {
			if err := p.throttle(ctx, n); err != nil {
				return err
			}
			continue
		}
		if err := p.throttle(ctx, n); err != nil {
			return err
		}
		watch := p.s.backend.Watch(sub.id, sub.pos)
		var paced <-chan time.Time
		if n == 0 && isClosed(watch) {
			// sealed or deleted while the metadata still says open: pace
			retry.Reset(sealedRetry)
			watch, paced = nil, retry.C
		}
		select {
		case <-watch:
		case <-paced:
		case <-beat.C:
			beat.Reset(opts.Heartbeat)
			if e := p.consumerProblem(); e != nil {
				_ = p.exception(e)
				return e
			}
			if err := p.heartbeat(); err != nil {
				return err
			}
		case <-sub.done:
			return p.ended()
		case <-life.C:
			return nil
		case <-ctx.Done():
			return errClientGone
		}
	}
}

func isClosed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// consumerProblem reports a consumer that is gone or leaving (DELETING
// with a transition delay, before onConsumerGone fires), checked at each
// heartbeat.
func (p *pusher) consumerProblem() *awserr.Error {
	c, ok := p.s.ConsumerByARN(p.sub.key.consumer)
	switch {
	case !ok:
		return awserr.ResourceNotFound("Consumer %s was deregistered or its stream deleted.", p.sub.key.consumer)
	case c.Status != stateActive:
		return awserr.ResourceInUse("Consumer %s is not in ACTIVE state; it is %s.", p.sub.key.consumer, c.Status)
	}
	return nil
}

// ended sends the exception the subscription was ended with, if any.
func (p *pusher) ended() error {
	if e := p.sub.endErr; e != nil {
		_ = p.exception(e)
		return e
	}
	return nil
}

// exception writes a modelled error event.
func (p *pusher) exception(e *awserr.Error) error {
	body, err := awsproto.Encode(p.codec, struct {
		Message string `json:"message"`
	}{e.Message})
	if err != nil {
		return err
	}
	return p.send(eventstream.ExceptionMessage(e.Type, p.ct, body))
}

// fail ends the subscription on a storage error with an exception event.
func (p *pusher) fail(err error) error {
	var e *awserr.Error
	switch {
	case errors.Is(err, storage.ErrNotFound):
		e = awserr.ResourceNotFound("Shard %s in stream %s under account %s does not exist", p.sub.sh.id, p.sub.st.Name, p.sub.st.Account)
	case errors.Is(err, context.Canceled):
		return errClientGone
	default:
		p.s.log.Error("storage error", "op", "SubscribeToShard", "err", err)
		e = awserr.New("InternalFailureException", 500, "Internal service failure.")
	}
	_ = p.exception(e)
	return err
}

// event is one encoded SubscribeToShardEvent frame and where it leaves
// its reader. Cached events are shared read-only between subscriptions.
type event struct {
	frame []byte
	next  uint64 // position after its records
	n     int    // record bytes (data + partition keys)
	cont  string // ContinuationSequenceNumber, "" when none changed
	last  bool   // the shard-end event
	empty bool   // nothing to send yet
	more  bool   // more was readable when it was built
}

// pushAvailable reads what is durable from the subscription's position and
// sends it as one event. n is the record bytes sent, more reports that more
// is readable at once, last that the shard-end event went out. Subscriptions
// of a shard with several readers share encoded events (see eventCache).
func (p *pusher) pushAvailable(ctx context.Context) (n int, more, last bool, err error) {
	sub := p.sub
	var ev *event
	if sub.readers.Load() > 1 {
		k := cacheKey{stream: sub.id.Stream, shard: sub.id.Index, pos: sub.pos, codec: p.codec, kms: sub.kms}
		ev, err = p.hub.cache.load(k, func() (*event, error) { return p.readEvent(ctx, true) })
	} else {
		ev, err = p.readEvent(ctx, false)
	}
	if err != nil {
		return 0, false, false, err
	}
	if ev.empty {
		sub.pos = ev.next
		return 0, false, false, nil
	}
	if ev.cont != "" {
		p.cont = ev.cont
	}
	if err := p.write(ev.frame); err != nil {
		return 0, false, false, err
	}
	sub.pos = ev.next
	return ev.n, ev.more, ev.last, nil
}

// readEvent reads and encodes the next event. With owned the frame gets
// its own memory (to be cached); else it reuses the pusher's buffers.
func (p *pusher) readEvent(ctx context.Context, owned bool) (*event, error) {
	sub := p.sub
	var enc eventEncoder
	if p.codec == awsproto.JSON {
		enc = &jsonEvent{jsonRecords: jsonRecords{sh: sub.sh, kms: sub.kms, buf: append(p.payload[:0], `{"Records":[`...)}}
	} else {
		enc = &cborEvent{sh: sub.sh, kms: sub.kms, recs: p.scratch[:0], out: p.payload[:0]}
	}
	ev := &event{}
	var lastPos uint64
	var lastMs int64
	count := 0
	next, err := p.s.backend.Read(ctx, sub.id, sub.pos, storage.ReadLimits{MaxRecords: maxEventRecords, MaxBytes: maxEventBytes}, func(rec storage.StoredRecord) bool {
		enc.add(rec)
		lastPos, lastMs = rec.Pos, rec.ArrivalMs
		ev.n += len(rec.Data) + len(rec.PartitionKey)
		count++
		return true
	})
	if err != nil {
		return nil, p.fail(err)
	}
	b, err := p.s.backend.Bounds(ctx, sub.id)
	if err != nil {
		return nil, p.fail(err)
	}
	if next < b.Trim {
		next = b.Trim
	}
	ev.next, ev.more = next, next < b.Next
	var children []childShard
	if b.Sealed && next >= b.Next {
		p.s.mu.RLock()
		if !sub.sh.open() {
			children = sub.st.children(sub.sh)
			if children == nil {
				children = []childShard{}
			}
		}
		p.s.mu.RUnlock()
	}
	ev.last = children != nil
	if count == 0 && !ev.last {
		ev.empty = true
		return ev, nil
	}
	cont := p.cont
	if count > 0 {
		cont = recordSeq(sub.sh, lastPos, lastMs)
		ev.cont = cont
	}
	var behind int64
	if ev.more {
		behind = max(0, b.TipMs-lastMs)
	}
	contp := &cont
	if ev.last {
		contp = nil
	}
	payload, err := enc.finish(p.codec, contp, behind, children)
	if err != nil {
		return nil, err
	}
	m := eventstream.EventMessage("SubscribeToShardEvent", p.ct, payload)
	if owned {
		ev.frame, err = eventstream.AppendMessage(nil, m)
	} else {
		ev.frame, err = p.encode(m)
	}
	if err != nil {
		return nil, err
	}
	if cap(payload) <= keepBufCap {
		p.payload = payload[:0]
	}
	if ce, ok := enc.(*cborEvent); ok && cap(ce.recs) <= keepBufCap {
		p.scratch = ce.recs[:0]
	}
	return ev, nil
}

// heartbeat sends an empty event with the current continuation number.
func (p *pusher) heartbeat() error {
	var behind int64 // a heartbeat goes out only when caught up
	var err error
	var payload []byte
	if p.codec == awsproto.JSON {
		payload = append(p.payload[:0], `{"Records":[],"ContinuationSequenceNumber":"`...)
		payload = append(payload, p.cont...)
		payload = append(payload, `","MillisBehindLatest":`...)
		payload = strconv.AppendInt(payload, behind, 10)
		payload = append(payload, '}')
		p.payload = payload[:0]
	} else {
		cont := p.cont
		payload, err = awsproto.Encode(p.codec, subscribeEvent{Records: []recordShape{}, ContinuationSequenceNumber: &cont, MillisBehindLatest: behind})
		if err != nil {
			return err
		}
	}
	return p.send(eventstream.EventMessage("SubscribeToShardEvent", p.ct, payload))
}

// continuationBefore is the ContinuationSequenceNumber that resumes at pos
// with AFTER_SEQUENCE_NUMBER: the number of the record at pos-1.
func (p *pusher) continuationBefore(ctx context.Context, pos uint64) string {
	sh := p.sub.sh
	if pos == 0 {
		return startSeq(sh)
	}
	arrivalMs := sh.CreatedMs
	_, _ = p.s.backend.Read(ctx, p.sub.id, pos-1, storage.ReadLimits{MaxRecords: 1}, func(rec storage.StoredRecord) bool {
		if rec.Pos == pos-1 {
			arrivalMs = rec.ArrivalMs
		}
		return false
	})
	return recordSeq(sh, pos-1, arrivalMs)
}

// send writes one message and flushes it.
func (p *pusher) send(m eventstream.Message) error {
	f, err := p.encode(m)
	if err != nil {
		return err
	}
	return p.write(f)
}

// encode frames m in the pusher's frame buffer (valid until the next call).
func (p *pusher) encode(m eventstream.Message) ([]byte, error) {
	f, err := eventstream.AppendMessage(p.frame[:0], m)
	if err != nil {
		return nil, err
	}
	if cap(f) <= keepBufCap {
		p.frame = f[:0]
	} else {
		p.frame = nil
	}
	return f, nil
}

// write sends one frame and flushes it.
func (p *pusher) write(f []byte) error {
	if _, err := p.w.Write(f); err != nil {
		return errClientGone
	}
	if err := p.rc.Flush(); err != nil {
		return errClientGone
	}
	return nil
}

// throttle waits until the 2 MiB/s budget covers n more bytes
// (--enforce-limits only).
func (p *pusher) throttle(ctx context.Context, n int) error {
	if !p.s.opt.EnforceLimits {
		return nil
	}
	now := time.Now()
	p.tokens = min(efoBytesPerSec, p.tokens+now.Sub(p.lastRef).Seconds()*efoBytesPerSec) - float64(n)
	p.lastRef = now
	if p.tokens >= 0 {
		return nil
	}
	t := time.NewTimer(time.Duration(-p.tokens / efoBytesPerSec * float64(time.Second)))
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-p.sub.done:
		return nil // run notices done next
	case <-ctx.Done():
		return errClientGone
	}
}

// Event sharing. When several subscriptions read one shard they usually
// wake together (one Watch per append) at the same position, so the first
// to arrive reads and encodes the event and the others wait for it and
// write the same frame: encoding costs once per shard instead of once per
// subscriber. A reader ahead or behind simply finds no entry and encodes
// its own (which the next reader at that position reuses). Entries are
// immutable; the cache keeps at most cacheMaxEntries of them and
// cacheMaxBytes of frames, oldest dropped first.
const (
	cacheMaxEntries = 1024
	cacheMaxBytes   = 64 << 20
)

type cacheKey struct {
	stream string
	shard  uint32
	pos    uint64
	codec  awsproto.Codec
	kms    bool
}

type cacheEntry struct {
	ready chan struct{} // closed once ev or err is set
	ev    *event
	err   error
}

type eventCache struct {
	mu    sync.Mutex
	m     map[cacheKey]*cacheEntry
	fifo  []cacheSlot
	bytes int
}

type cacheSlot struct {
	k cacheKey
	e *cacheEntry
}

// load returns the event at k, building it with build unless another
// subscription has built or is building it. A failed or empty build is not
// kept; a waiter whose builder failed builds its own.
func (c *eventCache) load(k cacheKey, build func() (*event, error)) (*event, error) {
	c.mu.Lock()
	if e := c.m[k]; e != nil {
		c.mu.Unlock()
		<-e.ready
		if e.err != nil {
			return build()
		}
		return e.ev, nil
	}
	e := &cacheEntry{ready: make(chan struct{})}
	c.m[k] = e
	c.mu.Unlock()

	ev, err := build()
	e.ev, e.err = ev, err
	c.mu.Lock()
	if err != nil || ev.empty {
		delete(c.m, k)
	} else {
		c.fifo = append(c.fifo, cacheSlot{k, e})
		c.bytes += len(ev.frame)
		for len(c.fifo) > cacheMaxEntries || c.bytes > cacheMaxBytes {
			old := c.fifo[0]
			c.fifo[0] = cacheSlot{}
			c.fifo = c.fifo[1:]
			c.bytes -= len(old.e.ev.frame)
			if c.m[old.k] == old.e {
				delete(c.m, old.k)
			}
		}
	}
	c.mu.Unlock()
	close(e.ready)
	return ev, err
}

// subscribeEvent is the SubscribeToShardEvent shape (CBOR path).
type subscribeEvent struct {
	Records                    []recordShape `json:"Records"`
	ContinuationSequenceNumber *string       `json:"ContinuationSequenceNumber,omitempty"`
	MillisBehindLatest         int64         `json:"MillisBehindLatest"`
	ChildShards                []childShard  `json:"ChildShards,omitempty"`
}

// eventEncoder builds one event payload while records stream by.
type eventEncoder interface {
	add(storage.StoredRecord)
	finish(c awsproto.Codec, cont *string, behind int64, children []childShard) ([]byte, error)
}

// jsonEvent writes the JSON payload directly (the GetRecords record writer).
type jsonEvent struct{ jsonRecords }

func (e *jsonEvent) finish(_ awsproto.Codec, cont *string, behind int64, children []childShard) ([]byte, error) {
	b := append(e.buf, ']')
	if cont != nil {
		b = append(b, `,"ContinuationSequenceNumber":"`...)
		b = append(b, *cont...)
		b = append(b, '"')
	}
	b = append(b, `,"MillisBehindLatest":`...)
	b = strconv.AppendInt(b, behind, 10)
	if children != nil {
		cb, err := json.Marshal(children)
		if err != nil {
			return nil, err
		}
		b = append(b, `,"ChildShards":`...)
		b = append(b, cb...)
	}
	return append(b, '}'), nil
}
