package bench

// Producer and consumer modes: the importable libraries pkg/producer and
// pkg/consumer against the endpoint.
//
//   - producer-agg / producer-raw: Producers goroutines call
//     producer.Put with RecordSize-byte records and random partition keys
//     (from a pool of 100,000) for Duration (or TotalRecords user records),
//     with KPL aggregation on, then off; the clock stops when Flush has
//     returned, i.e. when every record was acknowledged. The per-shard rate
//     limiter is off (the endpoint's quotas decide). Records counts user
//     records, Calls PutRecords calls.
//   - consumer: writes TotalRecords (default 500,000) aggregated records
//     with pkg/producer (not timed), then one pkg/consumer Worker
//     (polling) reads them all, checkpointing after every batch, with its
//     lease table in the endpoint's DynamoDB. The clock runs from Run to
//     the last record processed; Calls counts checkpoints.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/eddy-streams/eddy/internal/awsclient"
	"github.com/eddy-streams/eddy/pkg/consumer"
	"github.com/eddy-streams/eddy/pkg/producer"
)

func init() {
	phases["producer-agg"] = func(ctx context.Context, t *target) (PhaseResult, error) { return runProducer(ctx, t, true) }
	phases["producer-raw"] = func(ctx context.Context, t *target) (PhaseResult, error) { return runProducer(ctx, t, false) }
	phases["consumer"] = runConsumer
	modes["producer"] = []string{"producer-agg", "producer-raw"}
	modes["consumer"] = []string{"consumer"}
}

// keyPool is a fixed set of random partition keys.
func keyPool(n int) []string {
	keys := make([]string, n)
	b := make([]byte, 8)
	for i := range keys {
		rand.Read(b)
		keys[i] = hex.EncodeToString(b)
	}
	return keys
}

func runProducer(ctx context.Context, t *target, aggregate bool) (PhaseResult, error) {
	o := t.opts
	var res PhaseResult
	p, err := producer.New(ctx, producer.Config{StreamName: o.Stream, Client: t.client, DisableAggregation: !aggregate,
		RateLimit: -1, MaxInFlight: 16, MaxBufferedBytes: 256 << 20})
	if err != nil {
		return res, err
	}
	keys := keyPool(100_000)
	data := make([]byte, o.RecordSize)
	rand.Read(data)
	var sent atomic.Int64
	start := time.Now()
	deadline := start.Add(o.Duration)
	var wg sync.WaitGroup
	var firstErr error
	var errOnce sync.Once
	for g := range o.Producers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			i := g * 7919
			for {
				if o.TotalRecords > 0 {
					if sent.Add(1) > o.TotalRecords {
						return
					}
				} else if i%256 == 0 && time.Now().After(deadline) {
					return
				}
				if err := p.Put(ctx, keys[i%len(keys)], data); err != nil {
					errOnce.Do(func() { firstErr = err })
					return
				}
				if o.TotalRecords == 0 {
					sent.Add(1)
				}
				i++
			}
		}()
	}
	wg.Wait()
	if err := p.Close(ctx); err != nil && firstErr == nil {
		firstErr = err
	}
	elapsed := time.Since(start)
	c := p.Counters()
	res.Records = c.UserRecordsPut
	res.Bytes = c.UserRecordsPut * int64(o.RecordSize)
	res.Calls = c.PutRecordsCalls
	res.Errors = c.UserRecordsFailed
	res.Throttles = c.ThrottledRecords
	rates(&res, elapsed)
	o.Logger.Info("producer phase", "aggregation", aggregate, "user_records", c.UserRecordsPut,
		"kinesis_records", c.KinesisRecordsPut, "calls", c.PutRecordsCalls, "retried", c.RetriedRecords)
	if firstErr == nil && c.UserRecordsFailed > 0 {
		firstErr = fmt.Errorf("%d user records failed", c.UserRecordsFailed)
	}
	return res, firstErr
}

// benchProc counts records and checkpoints after every batch.
type benchProc struct {
	n, checkpoints *atomic.Int64
	done           chan struct{}
	want           int64
	once           *sync.Once
}

func (p benchProc) Initialize(context.Context, consumer.InitializationInput) {}
func (p benchProc) ProcessRecords(ctx context.Context, in consumer.ProcessRecordsInput) {
	if err := in.Checkpointer.Checkpoint(ctx); err == nil {
		p.checkpoints.Add(1)
	}
	if p.n.Add(int64(len(in.Records))) >= p.want {
		p.once.Do(func() { close(p.done) })
	}
}
func (p benchProc) LeaseLost(context.Context, consumer.LeaseLostInput) {}
func (p benchProc) ShardEnded(ctx context.Context, in consumer.ShardEndedInput) {
	in.Checkpointer.Checkpoint(ctx)
}
func (p benchProc) ShutdownRequested(ctx context.Context, in consumer.ShutdownRequestedInput) {
	in.Checkpointer.Checkpoint(ctx)
}

func runConsumer(ctx context.Context, t *target) (PhaseResult, error) {
	o := t.opts
	var res PhaseResult
	want := o.TotalRecords
	if want <= 0 {
		want = 500_000
	}
	// a stream of its own, so earlier phases' records do not count
	stream := fmt.Sprintf("%s-consumer-%x", o.Stream, newTag())
	if _, _, err := ensureStream(ctx, t.client, stream, o.Shards, o.Logger); err != nil {
		return res, err
	}
	defer deleteStream(context.WithoutCancel(ctx), t.client, stream)
	p, err := producer.New(ctx, producer.Config{StreamName: stream, Client: t.client, RateLimit: -1, MaxInFlight: 16})
	if err != nil {
		return res, err
	}
	keys := keyPool(10_000)
	data := make([]byte, o.RecordSize)
	rand.Read(data)
	for i := range want {
		if err := p.Put(ctx, keys[i%int64(len(keys))], data); err != nil {
			return res, err
		}
	}
	if err := p.Close(ctx); err != nil {
		return res, err
	}
	o.Logger.Info("consumer phase: records written", "records", want)

	db := dynamodb.NewFromConfig(aws.Config{Region: o.Region, BaseEndpoint: aws.String(o.Endpoint),
		Credentials: credentials.NewStaticCredentialsProvider("eddybench", "eddybench", ""),
		HTTPClient:  awsclient.OwnBody{Next: newHTTPClient(o.Endpoint, o)}})
	store := consumer.NewDynamoStore(db, stream)
	store.PollInterval = 20 * time.Millisecond
	var n, cps atomic.Int64
	done := make(chan struct{})
	var once sync.Once
	w, err := consumer.New(consumer.Config{StreamName: stream, ApplicationName: stream, Kinesis: t.client, Leases: store,
		Processor: func(string) consumer.RecordProcessor {
			return benchProc{n: &n, checkpoints: &cps, done: done, want: want, once: &once}
		},
		IdleTimeBetweenReads: 50 * time.Millisecond, Logger: o.Logger})
	if err != nil {
		return res, err
	}
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	start := time.Now()
	runErr := make(chan error, 1)
	go func() { runErr <- w.Run(rctx) }()
	select {
	case <-done:
	case err := <-runErr:
		if err == nil {
			err = errors.New("worker stopped")
		}
		return res, err
	case <-ctx.Done():
		return res, ctx.Err()
	}
	elapsed := time.Since(start)
	sctx, scancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	w.Shutdown(sctx)
	scancel()
	cancel()
	<-runErr
	res.Records = n.Load()
	res.Bytes = res.Records * int64(o.RecordSize)
	res.Calls = cps.Load()
	rates(&res, elapsed)
	return res, nil
}

// aggregationRatio is producer-agg/producer-raw records/s when both ran.
func aggregationRatio(ps []PhaseResult) *float64 {
	var agg, raw float64
	for _, p := range ps {
		switch p.Phase {
		case "producer-agg":
			agg = p.RecordsPerSec
		case "producer-raw":
			raw = p.RecordsPerSec
		}
	}
	if agg == 0 || raw == 0 {
		return nil
	}
	r := agg / raw
	return &r
}
