// Package producer is a Kinesis Data Streams producer in the manner of the
// Kinesis Producer Library (KPL): Put returns as soon as a record is
// buffered; records are aggregated in the KPL format (pkg/kpl), grouped by
// the shard each will land on, collected into PutRecords calls within AWS's
// limits, rate limited per shard, and retried entry by entry until they
// succeed or their time to live runs out.
//
// Pipeline (one mutex, Producer.mu, guards every stage; sends run outside
// it):
//
//	Put ─▶ shard of hash key ─▶ shard's aggregate (kpl.Builder) ─seal─▶ shard queue
//	      ─▶ flusher: batch of ≤500 entries / ≤5 MiB, rate-limit tokens ─▶ PutRecords
//	      ─▶ per entry: done | retry (front of its queue, backoff) | expired
//
// Shard prediction: the shard map comes from ListShards (open shards only).
// An aggregate carries PartitionKey "a" and, as ExplicitHashKey, the hash key
// of its first user record, so it lands on the predicted shard. When a
// PutRecords result names another shard (the stream was resharded), the
// producer refreshes its map; an aggregate whose user records do not all lie
// in the shard it landed on is split again and re-sent, because a KCL
// discards an aggregate holding a record outside its lease's hash range.
package producer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/eddy-streams/eddy/internal/shardmap"
	"github.com/eddy-streams/eddy/pkg/kpl"
)

// API is the part of *kinesis.Client the producer uses.
type API interface {
	PutRecords(ctx context.Context, in *kinesis.PutRecordsInput, opts ...func(*kinesis.Options)) (*kinesis.PutRecordsOutput, error)
	ListShards(ctx context.Context, in *kinesis.ListShardsInput, opts ...func(*kinesis.Options)) (*kinesis.ListShardsOutput, error)
}

// Config configures a Producer. Zero values take the defaults shown.
type Config struct {
	StreamName string // or StreamARN
	StreamARN  string
	Client     API

	// Aggregation packs user records bound for one shard into KPL
	// aggregated records up to AggregationMaxSize bytes (default 51200)
	// and AggregationMaxCount records (default unlimited).
	DisableAggregation  bool
	AggregationMaxSize  int
	AggregationMaxCount int

	// CollectionMaxCount and CollectionMaxSize bound one PutRecords call
	// (defaults and maxima: 500 entries, 5 MiB of data and partition keys).
	CollectionMaxCount int
	CollectionMaxSize  int

	// MaxBufferedTime is how long a record may wait for a fuller batch
	// (default 100 ms).
	MaxBufferedTime time.Duration
	// RecordTTL is how long a record may take to be put, retries
	// included; after it the record fails with ErrExpired (default 30 s).
	RecordTTL time.Duration
	// RateLimit caps what is sent to one shard, in percent of the shard's
	// limits (1,000 records/s and 1 MiB/s), as the KPL's RateLimit does
	// (default 150). Negative turns the limiter off.
	RateLimit float64
	// MaxBufferedBytes bounds user data held by the producer; Put blocks
	// while it is reached (default 64 MiB).
	MaxBufferedBytes int
	// MaxInFlight is the number of concurrent PutRecords calls (default 8).
	MaxInFlight int
	// Ordered keeps the order of records put with the same partition key:
	// each shard has at most one Kinesis record in flight, and a failed one
	// is retried before anything after it.
	Ordered bool
	// RetryBackoff is the first retry delay, doubled per attempt up to
	// MaxRetryBackoff (defaults 100 ms and 5 s), with jitter.
	RetryBackoff    time.Duration
	MaxRetryBackoff time.Duration
	// ShardMapRefresh re-reads the shard map this often even without a
	// misprediction (default 60 s).
	ShardMapRefresh time.Duration

	// OnFailure receives records that will not be put (expired or refused
	// for good). It runs on the producer's goroutines: keep it short.
	OnFailure func(Failure)
	// Now is the clock (default time.Now).
	Now    func() time.Time
	Logger *slog.Logger
}

// Failure reports user records that were not put.
type Failure struct {
	Records   []kpl.Record
	Err       error
	ErrorCode string // the last PutRecords error code, if any
}

// Errors.
var (
	ErrClosed   = errors.New("producer: closed")
	ErrExpired  = errors.New("producer: record TTL expired")
	ErrTooLarge = errors.New("producer: record larger than 1 MiB (data and partition key)")
	ErrKey      = errors.New("producer: partition key must be 1 to 256 characters")
	ErrHashKey  = errors.New("producer: explicit hash key is not a decimal in [0, 2^128-1]")
)

const (
	maxRecordBytes   = 1 << 20
	maxBatchBytes    = 5 << 20
	maxBatchCount    = 500
	shardRecordsRate = 1000
	shardBytesRate   = 1 << 20
)

// Counters are running totals a caller can read at any time.
type Counters struct {
	UserRecordsPut     int64 // acknowledged by Kinesis
	UserRecordsFailed  int64 // reported to OnFailure
	UserRecordsPending int64 // buffered or in flight
	KinesisRecordsPut  int64
	BytesPut           int64 // Kinesis record data + partition keys
	PutRecordsCalls    int64
	RetriedRecords     int64 // Kinesis records retried
	ThrottledRecords   int64 // entries refused with ProvisionedThroughputExceeded
	ShardMapRefreshes  int64
	Resplits           int64 // aggregates re-split after a reshard
	BufferedBytes      int64
}

type counters struct {
	put, failed, pending, kput, bytes, calls, retried, throttled, refreshes, resplits atomic.Int64
}

// krec is one Kinesis record: a raw user record or an aggregate.
type krec struct {
	pk, ehk    string
	data       []byte
	shard      *shard // predicted
	lo, hi     shardmap.HashKey
	users      int   // user records inside
	userBytes  int64 // user data bytes, for back-pressure
	deadline   time.Time
	notBefore  time.Time
	attempts   int
	lastCode   string
	aggregated bool
}

func (k *krec) size() int { return len(k.data) + len(k.pk) }

// shard is one open shard and what is buffered for it.
type shard struct {
	id       string
	rng      shardmap.Range
	agg      kpl.Builder
	aggLo    shardmap.HashKey
	aggHi    shardmap.HashKey
	aggFirst time.Time // when the open aggregate got its first record
	aggDL    time.Time // earliest deadline in the open aggregate
	aggBytes int64
	queue    []*krec
	inflight int
	// token buckets
	recTokens, byteTokens float64
	refill                time.Time
}

// Producer puts records into one stream. Safe for concurrent use.
type Producer struct {
	cfg Config
	log *slog.Logger
	c   counters

	mu         sync.Mutex
	shards     []*shard // open shards sorted by hash range
	buffered   int64    // user bytes held
	spaceCh    chan struct{}
	idleCh     chan struct{} // closed when nothing is pending
	pending    int64         // user records held
	inflight   int
	closed     bool
	refreshing bool // a refresh waits for in-flight calls to drain
	needMap    bool
	lastMap    time.Time
	flushing   int // Flush calls waiting
	suspects   []suspect
	sealed     int // bytes sealed since the flusher was last woken for them

	kick   chan struct{}
	sem    chan struct{}
	stop   chan struct{}
	done   chan struct{}
	sendWG sync.WaitGroup
}

// New checks cfg, reads the shard map and starts the producer.
func New(ctx context.Context, cfg Config) (*Producer, error) {
	if cfg.Client == nil || (cfg.StreamName == "" && cfg.StreamARN == "") {
		return nil, errors.New("producer: Client and StreamName or StreamARN are required")
	}
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	defd := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&cfg.AggregationMaxSize, 51200)
	def(&cfg.AggregationMaxCount, 1<<31-1)
	def(&cfg.CollectionMaxCount, maxBatchCount)
	def(&cfg.CollectionMaxSize, maxBatchBytes)
	cfg.CollectionMaxCount = min(cfg.CollectionMaxCount, maxBatchCount)
	cfg.CollectionMaxSize = min(cfg.CollectionMaxSize, maxBatchBytes)
	cfg.AggregationMaxSize = min(cfg.AggregationMaxSize, maxRecordBytes-1)
	def(&cfg.MaxBufferedBytes, 64<<20)
	def(&cfg.MaxInFlight, 8)
	defd(&cfg.MaxBufferedTime, 100*time.Millisecond)
	defd(&cfg.RecordTTL, 30*time.Second)
	defd(&cfg.RetryBackoff, 100*time.Millisecond)
	defd(&cfg.MaxRetryBackoff, 5*time.Second)
	defd(&cfg.ShardMapRefresh, time.Minute)
	if cfg.RateLimit == 0 {
		cfg.RateLimit = 150
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	p := &Producer{
		cfg: cfg, log: cfg.Logger,
		spaceCh: make(chan struct{}), idleCh: make(chan struct{}),
		kick: make(chan struct{}, 1), sem: make(chan struct{}, cfg.MaxInFlight),
		stop: make(chan struct{}), done: make(chan struct{}),
	}
	close(p.idleCh)
	shards, err := p.listShards(ctx)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	p.installLocked(shards)
	p.mu.Unlock()
	go p.flusher()
	return p, nil
}

// Put buffers one user record routed by the MD5 of partitionKey. It blocks
// while MaxBufferedBytes are held (back-pressure) until space frees or ctx
// ends.
func (p *Producer) Put(ctx context.Context, partitionKey string, data []byte) error {
	return p.PutWithHashKey(ctx, partitionKey, "", data)
}

// PutWithHashKey is Put with an explicit hash key (a decimal 128-bit
// number) that routes the record instead of the partition key's MD5.
func (p *Producer) PutWithHashKey(ctx context.Context, partitionKey, explicitHashKey string, data []byte) error {
	if n := len(partitionKey); n == 0 || n > 256 {
		return ErrKey
	}
	if len(data)+len(partitionKey) > maxRecordBytes {
		return ErrTooLarge
	}
	var hk shardmap.HashKey
	if explicitHashKey != "" {
		var err error
		if hk, err = shardmap.ParseHashKey(explicitHashKey); err != nil {
			return ErrHashKey
		}
	} else {
		hk = shardmap.HashPartitionKey(partitionKey)
	}
	size := int64(len(data))
	p.mu.Lock()
	for {
		if p.closed {
			p.mu.Unlock()
			return ErrClosed
		}
		if p.buffered == 0 || p.buffered+size <= int64(p.cfg.MaxBufferedBytes) {
			break
		}
		ch := p.spaceCh
		p.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
		p.mu.Lock()
	}
	now := p.cfg.Now()
	p.buffered += size
	if p.pending == 0 {
		p.idleCh = make(chan struct{})
	}
	p.pending++
	p.c.pending.Add(1)
	s := p.shardForLocked(hk)
	deadline := now.Add(p.cfg.RecordTTL)
	kick := false
	if p.cfg.DisableAggregation {
		s.queue = append(s.queue, &krec{pk: partitionKey, ehk: explicitHashKey, data: append([]byte(nil), data...),
			shard: s, lo: hk, hi: hk, users: 1, userBytes: size, deadline: deadline})
		kick = len(s.queue) >= p.cfg.CollectionMaxCount
	} else {
		ehk := explicitHashKey
		if s.agg.Len() > 0 && (s.agg.Len() >= p.cfg.AggregationMaxCount ||
			s.agg.SizeWith(partitionKey, ehk, len(data)) > p.cfg.AggregationMaxSize) {
			p.sealLocked(s)
			// wake the flusher once about a batch's worth was sealed; the
			// tick handles the rest (a scan per seal costs more than it saves)
			p.sealed += s.queue[len(s.queue)-1].size()
			if p.sealed >= p.cfg.CollectionMaxSize {
				p.sealed = 0
				kick = true
			}
		}
		if s.agg.Len() == 0 {
			s.aggFirst, s.aggDL, s.aggLo, s.aggHi, s.aggBytes = now, deadline, hk, hk, 0
		}
		s.agg.Add(partitionKey, ehk, data)
		s.aggBytes += size
		if hk.Cmp(s.aggLo) < 0 {
			s.aggLo = hk
		}
		if hk.Cmp(s.aggHi) > 0 {
			s.aggHi = hk
		}
	}
	p.mu.Unlock()
	if kick {
		p.wake()
	}
	return nil
}

// sealLocked turns the shard's open aggregate into a Kinesis record on its
// queue. A single user record goes out as itself.
func (p *Producer) sealLocked(s *shard) {
	n := s.agg.Len()
	if n == 0 {
		return
	}
	k := &krec{shard: s, lo: s.aggLo, hi: s.aggHi, users: n, userBytes: s.aggBytes, deadline: s.aggDL}
	if n == 1 {
		pk, ehk, data := s.agg.First()
		k.pk, k.ehk, k.data = pk, ehk, append([]byte(nil), data...)
	} else {
		k.pk, k.ehk, k.data, k.aggregated = "a", hashKeyOfFirst(s), s.agg.Bytes(), true
	}
	s.agg.Reset()
	s.queue = append(s.queue, k)
}

// hashKeyOfFirst is the explicit hash key an aggregate is sent with: that
// of its first user record (its own EHK, or the MD5 of its partition key).
func hashKeyOfFirst(s *shard) string {
	pk, ehk, _ := s.agg.First()
	if ehk != "" {
		return ehk
	}
	return shardmap.HashPartitionKey(pk).String()
}

// shardForLocked finds the open shard whose range holds hk.
func (p *Producer) shardForLocked(hk shardmap.HashKey) *shard {
	lo, hi := 0, len(p.shards)-1
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if p.shards[mid].rng.Start.Cmp(hk) <= 0 {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return p.shards[lo]
}

// Flush sends everything buffered now without waiting for fuller batches,
// and returns once nothing is pending (put or failed) or ctx ends.
func (p *Producer) Flush(ctx context.Context) error {
	p.mu.Lock()
	p.flushing++
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		p.flushing--
		p.mu.Unlock()
	}()
	p.wake()
	for {
		p.mu.Lock()
		if p.pending == 0 {
			p.mu.Unlock()
			return nil
		}
		ch := p.idleCh
		p.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Close flushes (bounded by ctx), then stops the producer. Records still
// pending when ctx ends are reported to OnFailure with ErrClosed.
func (p *Producer) Close(ctx context.Context) error {
	err := p.Flush(ctx)
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return err
	}
	p.closed = true
	close(p.spaceCh)
	p.spaceCh = make(chan struct{})
	p.mu.Unlock()
	close(p.stop)
	<-p.done
	p.sendWG.Wait()
	p.mu.Lock()
	var left []*krec
	for _, s := range p.shards {
		p.sealLocked(s)
		left = append(left, s.queue...)
		s.queue = nil
	}
	p.mu.Unlock()
	for _, k := range left {
		p.fail(k, ErrClosed)
	}
	return err
}

// Counters returns the running totals.
func (p *Producer) Counters() Counters {
	p.mu.Lock()
	buf := p.buffered
	p.mu.Unlock()
	return Counters{
		UserRecordsPut: p.c.put.Load(), UserRecordsFailed: p.c.failed.Load(), UserRecordsPending: p.c.pending.Load(),
		KinesisRecordsPut: p.c.kput.Load(), BytesPut: p.c.bytes.Load(), PutRecordsCalls: p.c.calls.Load(),
		RetriedRecords: p.c.retried.Load(), ThrottledRecords: p.c.throttled.Load(),
		ShardMapRefreshes: p.c.refreshes.Load(), Resplits: p.c.resplits.Load(), BufferedBytes: buf,
	}
}

func (p *Producer) wake() {
	select {
	case p.kick <- struct{}{}:
	default:
	}
}

// releaseLocked returns n user records of b bytes: back-pressure space and
// the idle signal.
func (p *Producer) releaseLocked(n int, b int64) {
	p.buffered -= b
	p.pending -= int64(n)
	p.c.pending.Add(-int64(n))
	close(p.spaceCh)
	p.spaceCh = make(chan struct{})
	if p.pending == 0 {
		close(p.idleCh)
	}
}

// fail reports a Kinesis record's user records as failed.
// OnFailure runs before the records stop counting as pending, so Flush
// returns only after the callback did.
func (p *Producer) fail(k *krec, err error) {
	p.c.failed.Add(int64(k.users))
	if p.cfg.OnFailure != nil {
		p.cfg.OnFailure(Failure{Records: userRecords(k), Err: err, ErrorCode: k.lastCode})
	}
	p.mu.Lock()
	p.releaseLocked(k.users, k.userBytes)
	p.mu.Unlock()
}

// userRecords unpacks a Kinesis record into the user records it carries.
func userRecords(k *krec) []kpl.Record {
	if k.aggregated {
		if recs, ok := kpl.Deaggregate(k.data); ok {
			return recs
		}
	}
	return []kpl.Record{{PartitionKey: k.pk, ExplicitHashKey: k.ehk, Data: k.data}}
}

func (p *Producer) backoff(attempts int) time.Duration {
	d := p.cfg.RetryBackoff << min(attempts-1, 20)
	if d > p.cfg.MaxRetryBackoff || d <= 0 {
		d = p.cfg.MaxRetryBackoff
	}
	// ±25 % jitter
	return d*3/4 + time.Duration(rand.Int64N(int64(d)/2+1))
}

func (p *Producer) streamRef() (name, arn *string) {
	if p.cfg.StreamARN != "" {
		return nil, &p.cfg.StreamARN
	}
	return &p.cfg.StreamName, nil
}

func (p *Producer) String() string {
	return fmt.Sprintf("producer(%s%s)", p.cfg.StreamName, p.cfg.StreamARN)
}
