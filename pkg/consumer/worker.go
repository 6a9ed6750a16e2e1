// Package consumer is a Kinesis Data Streams consumer in the manner of the
// Java Kinesis Client Library (KCL) 2.x: workers in any number of processes
// share a stream's shards through a lease table with the Java KCL's schema
// (so Go and Java workers can share one table), take, renew, balance and
// steal leases, fail over when a worker stops renewing, follow resharding
// (a child shard starts only after its parents were processed to their
// end), checkpoint at sequence and sub-sequence numbers, de-aggregate KPL
// records, and read by polling (GetRecords) or enhanced fan-out
// (SubscribeToShard).
//
// Goroutines: Run starts the taker, the renewer and the shard syncer, and
// one goroutine per held lease (its shardConsumer). Lock order:
// Worker.mu before held.mu; lease-table calls for a lease are made under
// its held.mu, which serialises renewals and checkpoints of that lease.
package consumer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/kinesis"
)

// KinesisAPI is the part of *kinesis.Client the consumer uses.
type KinesisAPI interface {
	ListShards(ctx context.Context, in *kinesis.ListShardsInput, opts ...func(*kinesis.Options)) (*kinesis.ListShardsOutput, error)
	GetShardIterator(ctx context.Context, in *kinesis.GetShardIteratorInput, opts ...func(*kinesis.Options)) (*kinesis.GetShardIteratorOutput, error)
	GetRecords(ctx context.Context, in *kinesis.GetRecordsInput, opts ...func(*kinesis.Options)) (*kinesis.GetRecordsOutput, error)
}

// FanOutAPI adds what enhanced fan-out needs.
type FanOutAPI interface {
	KinesisAPI
	DescribeStreamSummary(ctx context.Context, in *kinesis.DescribeStreamSummaryInput, opts ...func(*kinesis.Options)) (*kinesis.DescribeStreamSummaryOutput, error)
	RegisterStreamConsumer(ctx context.Context, in *kinesis.RegisterStreamConsumerInput, opts ...func(*kinesis.Options)) (*kinesis.RegisterStreamConsumerOutput, error)
	DescribeStreamConsumer(ctx context.Context, in *kinesis.DescribeStreamConsumerInput, opts ...func(*kinesis.Options)) (*kinesis.DescribeStreamConsumerOutput, error)
	SubscribeToShard(ctx context.Context, in *kinesis.SubscribeToShardInput, opts ...func(*kinesis.Options)) (*kinesis.SubscribeToShardOutput, error)
}

// Clock is the time source; tests inject their own.
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Config configures a Worker. Zero values take the defaults shown.
type Config struct {
	StreamName string
	StreamARN  string // required for EnhancedFanOut unless StreamName resolves it
	// ApplicationName names the application: the lease table (for
	// NewDynamoStore) and the enhanced fan-out consumer.
	ApplicationName string
	WorkerID        string // default hostname:pid:random
	Kinesis         KinesisAPI
	Leases          LeaseStore
	Processor       ProcessorFactory

	// InitialPosition for shards without a checkpoint: TRIM_HORIZON
	// (default) or LATEST. Child shards always start at TRIM_HORIZON.
	InitialPosition string
	// FailoverTime: a lease not renewed for this long may be taken
	// (default 10 s). Leases are renewed every FailoverTime/3.
	FailoverTime time.Duration
	// TakerInterval: how often the lease taker scans the table (default
	// FailoverTime, as the Java KCL). A lease of a dead worker is taken
	// within FailoverTime + 2 × TakerInterval of its last renewal.
	TakerInterval time.Duration
	// ShardSyncInterval: how often ListShards is compared with the lease
	// table to create missing leases (default 60 s).
	ShardSyncInterval time.Duration
	// IdleTimeBetweenReads: pause after an empty GetRecords (default 1 s).
	IdleTimeBetweenReads time.Duration
	// MaxRecords per GetRecords (default 10000).
	MaxRecords int32
	// MaxLeasesForWorker caps the leases one worker takes (default no cap).
	MaxLeasesForWorker int
	// EnhancedFanOut reads with SubscribeToShard through a consumer named
	// ApplicationName (registered if missing) instead of GetRecords.
	// Kinesis must then be a FanOutAPI.
	EnhancedFanOut bool

	Clock  Clock
	Logger *slog.Logger
}

// Worker processes a stream together with the other workers of its
// application.
type Worker struct {
	cfg   Config
	log   *slog.Logger
	clock Clock
	me    string
	rnd   *rand.Rand

	consumerARN string // enhanced fan-out

	mu       sync.Mutex
	held     map[string]*held
	seen     map[string]*seenCounter
	stopping bool
	wg       sync.WaitGroup // shard consumers
	shutdown chan struct{}  // closed by Shutdown
	stats    Stats
}

// Stats are running totals a caller can read.
type Stats struct {
	LeasesTaken   int64
	LeasesStolen  int64
	LeasesLost    int64
	RecordsPassed int64 // user records given to processors
	Checkpoints   int64
	ShardsEnded   int64
}

type held struct {
	key       string // the lease key, immutable (read without mu)
	mu        sync.Mutex
	lease     Lease // guarded by mu
	renewedAt time.Time
	sc        *shardConsumer
}

// New checks cfg and returns a Worker; Run starts it.
func New(cfg Config) (*Worker, error) {
	if cfg.Kinesis == nil || cfg.Leases == nil || cfg.Processor == nil || (cfg.StreamName == "" && cfg.StreamARN == "") {
		return nil, errors.New("consumer: Kinesis, Leases, Processor and StreamName or StreamARN are required")
	}
	if cfg.EnhancedFanOut {
		if _, ok := cfg.Kinesis.(FanOutAPI); !ok {
			return nil, errors.New("consumer: EnhancedFanOut needs a client with SubscribeToShard")
		}
		if cfg.ApplicationName == "" {
			return nil, errors.New("consumer: EnhancedFanOut needs ApplicationName (the consumer name)")
		}
	}
	switch cfg.InitialPosition {
	case "":
		cfg.InitialPosition = TrimHorizon
	case TrimHorizon, Latest:
	default:
		return nil, fmt.Errorf("consumer: InitialPosition %q: want TRIM_HORIZON or LATEST", cfg.InitialPosition)
	}
	if cfg.FailoverTime <= 0 {
		cfg.FailoverTime = 10 * time.Second
	}
	if cfg.TakerInterval <= 0 {
		cfg.TakerInterval = cfg.FailoverTime
	}
	if cfg.ShardSyncInterval <= 0 {
		cfg.ShardSyncInterval = time.Minute
	}
	if cfg.IdleTimeBetweenReads <= 0 {
		cfg.IdleTimeBetweenReads = time.Second
	}
	if cfg.MaxRecords <= 0 {
		cfg.MaxRecords = 10000
	}
	if cfg.Clock == nil {
		cfg.Clock = realClock{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.WorkerID == "" {
		h, _ := os.Hostname()
		cfg.WorkerID = fmt.Sprintf("%s:%d:%08x", h, os.Getpid(), rand.Uint32())
	}
	return &Worker{
		cfg: cfg, log: cfg.Logger.With("worker", cfg.WorkerID), clock: cfg.Clock, me: cfg.WorkerID,
		rnd:  rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64())),
		held: map[string]*held{}, seen: map[string]*seenCounter{}, shutdown: make(chan struct{}),
	}, nil
}

// ID is the worker id written as leaseOwner.
func (w *Worker) ID() string { return w.me }

// Stats returns the running totals.
func (w *Worker) Stats() Stats {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.stats
}

// Held returns the shard ids this worker holds leases for now.
func (w *Worker) Held() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make([]string, 0, len(w.held))
	for k := range w.held {
		out = append(out, k)
	}
	return out
}

// Run processes until ctx ends (leases are then left to expire, as after a
// crash) or Shutdown completes (leases handed over). It returns the first
// setup error.
func (w *Worker) Run(ctx context.Context) error {
	if err := w.cfg.Leases.Init(ctx); err != nil {
		return fmt.Errorf("consumer: lease table: %w", err)
	}
	if w.cfg.EnhancedFanOut {
		if err := w.registerConsumer(ctx); err != nil {
			return err
		}
	}
	if err := w.syncShards(ctx); err != nil {
		w.log.Warn("consumer: first shard sync failed", "err", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var loops sync.WaitGroup
	every := func(d time.Duration, first bool, f func(context.Context)) {
		loops.Add(1)
		go func() {
			defer loops.Done()
			if first {
				f(ctx)
			}
			for {
				select {
				case <-ctx.Done():
					return
				case <-w.shutdown:
					return
				case <-w.clock.After(d):
				}
				f(ctx)
			}
		}()
	}
	every(w.cfg.TakerInterval, true, w.takeLeases)
	every(w.cfg.ShardSyncInterval, false, func(ctx context.Context) {
		if err := w.syncShards(ctx); err != nil {
			w.log.Warn("consumer: shard sync failed", "err", err)
		}
	})
	// the renewer keeps running through a graceful shutdown until every
	// shard consumer has checkpointed and handed its lease over
	renewDone := make(chan struct{})
	go func() {
		defer close(renewDone)
		for {
			select {
			case <-ctx.Done():
				return
			case <-w.clock.After(w.cfg.FailoverTime / 3):
			}
			w.renewLeases(ctx)
		}
	}()
	select {
	case <-ctx.Done():
	case <-w.shutdown:
	}
	loops.Wait()
	w.wg.Wait() // shard consumers end on ctx or on the shutdown signal
	cancel()
	<-renewDone
	return nil
}

// Shutdown asks every shard processor to checkpoint (ShutdownRequested),
// hands the leases over (leaseOwner removed, so other workers take them at
// their next taker run) and makes Run return. It waits until then or until
// ctx ends.
func (w *Worker) Shutdown(ctx context.Context) error {
	w.mu.Lock()
	if !w.stopping {
		w.stopping = true
		close(w.shutdown)
	}
	w.mu.Unlock()
	done := make(chan struct{})
	go func() { w.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// takeLeases is one taker round.
func (w *Worker) takeLeases(ctx context.Context) {
	leases, err := w.cfg.Leases.List(ctx)
	if err != nil {
		w.log.Warn("consumer: list leases", "err", err)
		return
	}
	w.mu.Lock()
	if w.stopping {
		w.mu.Unlock()
		return
	}
	now := w.clock.Now()
	plan := planTakes(leases, w.seen, now, w.me, w.cfg.FailoverTime, w.cfg.MaxLeasesForWorker, w.rnd)
	w.mu.Unlock()
	for _, l := range plan.take {
		w.take(ctx, l, false)
	}
	for _, l := range plan.steal {
		w.take(ctx, l, true)
	}
}

func (w *Worker) take(ctx context.Context, l Lease, steal bool) {
	w.mu.Lock()
	if _, ok := w.held[l.Key]; ok || w.stopping {
		w.mu.Unlock()
		return
	}
	w.mu.Unlock()
	prev := l.Owner
	if err := w.cfg.Leases.Take(ctx, &l, w.me); err != nil {
		if !errors.Is(err, ErrConflict) {
			w.log.Warn("consumer: take lease", "shard", l.Key, "err", err)
		}
		return
	}
	w.log.Info("consumer: took lease", "shard", l.Key, "from", prev, "steal", steal)
	h := &held{key: l.Key, lease: l, renewedAt: w.clock.Now()}
	w.mu.Lock()
	if steal {
		w.stats.LeasesStolen++
	}
	w.stats.LeasesTaken++
	w.held[l.Key] = h
	h.sc = newShardConsumer(w, h)
	w.wg.Add(1)
	w.mu.Unlock()
	go h.sc.run(ctx)
}

// renewLeases heartbeats every held lease. A lease whose renewal is refused
// is lost; one that could not be renewed for FailoverTime (the table
// unreachable) is given up, since other workers may take it by now.
func (w *Worker) renewLeases(ctx context.Context) {
	w.mu.Lock()
	hs := make([]*held, 0, len(w.held))
	for _, h := range w.held {
		hs = append(hs, h)
	}
	w.mu.Unlock()
	for _, h := range hs {
		h.mu.Lock()
		err := w.cfg.Leases.Renew(ctx, &h.lease)
		now := w.clock.Now()
		lost := errors.Is(err, ErrConflict) || (err != nil && now.Sub(h.renewedAt) > w.cfg.FailoverTime)
		if err == nil {
			h.renewedAt = now
		}
		h.mu.Unlock()
		if err != nil {
			w.log.Warn("consumer: renew lease", "shard", h.key, "err", err, "lost", lost)
		}
		if lost {
			h.sc.lose()
		}
	}
}

// release forgets a lease whose shard consumer ended.
func (w *Worker) release(h *held, lost bool) {
	w.mu.Lock()
	if w.held[h.key] == h {
		delete(w.held, h.key)
	}
	if lost {
		w.stats.LeasesLost++
	}
	w.mu.Unlock()
}

func (w *Worker) count(f func(*Stats)) {
	w.mu.Lock()
	f(&w.stats)
	w.mu.Unlock()
}

// sleep waits d or until one of the channels closes; false when it did.
func (w *Worker) sleep(d time.Duration, chans ...<-chan struct{}) bool {
	t := w.clock.After(d)
	for {
		switch len(chans) {
		case 0:
			<-t
			return true
		case 1:
			select {
			case <-t:
				return true
			case <-chans[0]:
				return false
			}
		default:
			select {
			case <-t:
				return true
			case <-chans[0]:
				return false
			case <-chans[1]:
				return false
			}
		}
	}
}
