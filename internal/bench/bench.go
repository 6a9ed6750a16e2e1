// Package bench is the load generator behind `eddy bench`: it drives any
// Kinesis Data Streams endpoint through the real AWS SDK for Go v2 and
// reports throughput and latency.
//
// Design. A run is a list of phases chosen by Options.Mode (see modes);
// each phase is a function from a target (client + stream) to a
// PhaseResult, so a new mode (fan-out, Firehose ingest, …) is a new phase
// function and one line in modes. The phases are:
//
//   - put: Producers goroutines each send PutRecords calls of BatchSize
//     records of RecordSize bytes with random partition keys (so records
//     spread over all shards), back to back, for Duration or until
//     TotalRecords are sent. Every call's latency goes into a per-producer
//     Histogram. Failed entries are counted (throttled or not) and not
//     resent. Calls already started when time runs out are allowed to
//     finish, so the count of accepted records is exact.
//   - get: reads everything back, one goroutine per shard, with
//     GetShardIterator TRIM_HORIZON and GetRecords (Limit 10000) until the
//     shard answers an empty page with MillisBehindLatest 0. Each record
//     payload starts with an 8-byte tag unique to the put phase, so the
//     read-back count of this run's records must equal the put phase's
//     accepted count even on a stream that held data before; a mismatch is
//     an error.
//   - latency: one consumer per shard polls GetRecords from LATEST in a tight
//     loop (no pause after a non-empty page, a 1 ms pause after an empty
//     one) while one producer writes Rate records/s, paced against the wall
//     clock: one PutRecord call per record, or one small PutRecords with
//     every record due when it has fallen behind. Each payload carries the
//     monotonic time its call started; the consumer records
//     call-start→record-seen latency. Every accepted record must be seen.
//   - fanout (fanout.go) and, with RateBytesPerShard, the fixed-rate
//     fan-out phases (fanout_rate.go): SubscribeToShard subscribers over
//     HTTP/1.1, h2c or TLS at a fixed rate per shard, every record checked
//     at every subscriber, and the server's CPU per delivery.
//
// With Options.Baseline the put phase also runs, with the same options,
// against Noop: an in-process endpoint that answers without storing
// anything. The ratio endpoint/baseline of records/s says how close the
// server gets to the ceiling set by the client, HTTP and the machine. The
// baseline runs right before the endpoint; with Rounds > 1 the put phase is
// cut into that many baseline-then-endpoint pairs of Duration/Rounds each,
// so that on a shared machine both see the same background load.
//
// Beside throughput and latency, each phase reports what explains them:
// the CPU time of this process (getrusage) and, with ServerPID, of a local
// server (/proc); and the retries the SDK made, by cause (retryCounter),
// since a retry is invisible in a call's result but costs latency and, for
// a PutRecords whose first attempt was stored, writes its records twice.
// The HTTP client hands the transport its own copy of each request body to
// keep a known SDK race from causing such retries (awsclient.OwnBody).
//
// Payload layout (big-endian): bytes 0-7 phase tag, 8-15 nanoseconds since
// the run's monotonic base at call start, the rest random filler.
package bench

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"github.com/eddy-streams/eddy/internal/awsclient"
	"log/slog"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// Options configure a run. Zero values take the defaults in parentheses.
type Options struct {
	Endpoint     string        // Kinesis endpoint URL (required)
	Region       string        // signing region (us-east-1)
	Mode         string        // put, get, latency or all (put)
	Stream       string        // stream name (eddy-bench); created when missing
	Shards       int           // shard count when creating the stream (4)
	Producers    int           // concurrent producers in the put phase (8)
	BatchSize    int           // records per PutRecords call (500)
	RecordSize   int           // bytes of data per record, >= 16 (100)
	Duration     time.Duration // put and latency phase length (10s)
	TotalRecords int64         // if > 0, the put phase stops after this many records instead
	Rate         int           // records/s written in the latency phase (1000)
	Baseline     bool          // also run the put phase against the no-op endpoint
	// BaselineEndpoint, when set, is the baseline instead of the no-op
	// endpoint (e.g. a second server with --durability none, to measure
	// what durability costs in one run). It implies Baseline.
	BaselineEndpoint string
	Rounds           int  // with Baseline: alternate baseline and endpoint put rounds this many times (1)
	JSON             bool // Write prints JSON instead of tables
	Keep             bool // keep a stream this run created
	ServerPID        int  // if > 0, a local server process whose CPU time each phase reports (Linux)
	// Subscribers are the subscriber counts of the fanout-put phases
	// (0, 5, 20).
	Subscribers []int
	// RateBytesPerShard, when > 0, makes --mode fanout run the fixed-rate
	// phases (fanout_rate.go): this many bytes of record data per second
	// into every shard.
	RateBytesPerShard int64
	// SubscribeProtos are the protocols of the fixed-rate phases, in order
	// (h1, h2c, h1tls, h2; default h1).
	SubscribeProtos []string
	// SubscribeConns is "consumer" (default: the HTTP/2 subscriptions of a
	// consumer share a connection) or "subscription" (one each).
	SubscribeConns string
	// PutInterval, when > 0, makes the fixed-rate producers send what is
	// due once per interval instead of as soon as a record is due.
	PutInterval time.Duration
	// H2Client is "lean" (default: h2client.go, with Node's flow control)
	// or "go" (Go's HTTP/2 transport) for the h2c and h2 subscribers.
	H2Client string
	// H2Window is the lean client's receive window per stream and per
	// connection (65,535 as in Node.js; the Java SDK uses 1 MiB).
	H2Window int
	// TLSEndpoint is the server the h1tls and h2 phases use, TLSServerPID
	// its process.
	TLSEndpoint  string
	TLSServerPID int
	Logger       *slog.Logger // progress messages (discarded when nil)
	// ReadEndpoint, when set, is where the latency phase's consumers read
	// (GetShardIterator, GetRecords) while the producer writes to Endpoint:
	// put→get across the nodes of a cluster.
	ReadEndpoint string
}

// Report is what a run measured.
type Report struct {
	Endpoint   string `json:"endpoint"`
	Stream     string `json:"stream"`
	Shards     int    `json:"shards"`
	Mode       string `json:"mode"`
	Producers  int    `json:"producers"`
	BatchSize  int    `json:"batch_size"`
	RecordSize int    `json:"record_size"`
	Rate       int    `json:"rate"`
	Rounds     int    `json:"rounds"`
	// RateBytesPerShard is the fixed-rate fan-out phases' rate.
	RateBytesPerShard int64         `json:"rate_bytes_per_shard,omitempty"`
	Host              Host          `json:"host"`
	Phases            []PhaseResult `json:"phases"`
	// FanoutCosts summarise the fixed-rate fan-out phases.
	FanoutCosts []FanoutCost `json:"fanout_costs,omitempty"`
	// Ratio is real/baseline put records/s, set when both ran.
	Ratio *float64 `json:"ratio,omitempty"`
	// AggregationRatio is producer-agg/producer-raw user records/s
	// (--mode producer).
	AggregationRatio *float64 `json:"aggregation_ratio,omitempty"`
}

// PhaseResult is one phase against one target.
type PhaseResult struct {
	Phase         string  `json:"phase"`  // put, get, latency
	Target        string  `json:"target"` // "endpoint" or "baseline"
	Seconds       float64 `json:"seconds"`
	Records       int64   `json:"records"` // accepted (put, latency) or read (get)
	Bytes         int64   `json:"bytes"`   // record data bytes of Records
	Calls         int64   `json:"calls"`   // API calls that returned (put calls, or GetRecords in get)
	Errors        int64   `json:"errors"`  // calls that failed after the SDK's retries, plus failed entries
	Throttles     int64   `json:"throttles"`
	RecordsPerSec float64 `json:"records_per_sec"`
	MBPerSec      float64 `json:"mb_per_sec"` // 10^6 bytes of record data per second
	CallsPerSec   float64 `json:"calls_per_sec"`
	CallLatency   Latency `json:"call_latency"`
	// EndToEnd is put call start → record seen by a consumer (latency phase).
	EndToEnd *Latency `json:"end_to_end,omitempty"`
	// ConsumerCalls counts GetRecords calls of the latency phase's pollers.
	ConsumerCalls int64 `json:"consumer_calls,omitempty"`
	// ClientCPU is the CPU time (user+system, seconds) this process used
	// during the phase: the load generator's cost, plus the no-op server's
	// for the baseline. Compare it with Seconds × cores to see whether the
	// client, rather than the server, was the limit.
	ClientCPU float64 `json:"client_cpu_seconds"`
	// ServerCPU is the CPU time the server process used during the phase,
	// when Options.ServerPID names it.
	ServerCPU float64 `json:"server_cpu_seconds,omitempty"`
	// Proto, SubscribersPerShard and Deliveries describe a fixed-rate
	// fan-out phase: its subscribers' protocol, how many read every shard,
	// and the records they received in all (Records × subscriptions when
	// complete).
	Proto               string `json:"proto,omitempty"`
	SubscribersPerShard int    `json:"subscribers_per_shard,omitempty"`
	Deliveries          int64  `json:"deliveries,omitempty"`
	// Retries counts the attempts the SDK repeated after a retryable error,
	// by cause in RetryCauses.
	Retries     int64            `json:"retries"`
	RetryCauses map[string]int64 `json:"retry_causes,omitempty"`
}

// Host describes where the run happened.
type Host struct {
	CPUs       int    `json:"cpus"`
	GOMAXPROCS int    `json:"gomaxprocs"`
	LoadAvg    string `json:"loadavg,omitempty"` // /proc/loadavg at the start, when readable
}

// Latency summarises a histogram, in milliseconds.
type Latency struct {
	Count uint64  `json:"count"`
	Mean  float64 `json:"mean_ms"`
	P50   float64 `json:"p50_ms"`
	P90   float64 `json:"p90_ms"`
	P99   float64 `json:"p99_ms"`
	Max   float64 `json:"max_ms"`
}

// phase runs against one target. Phases run in order and may leave notes
// for the next in t (put → get: the tag and the accepted count).
type phase func(ctx context.Context, t *target) (PhaseResult, error)

var phases = map[string]phase{
	"put":     runPut,
	"get":     runGet,
	"latency": runLatency,
}

// modes maps a --mode to the phases it runs, in order.
var modes = map[string][]string{
	"put":     {"put"},
	"get":     {"put", "get"},
	"latency": {"latency"},
	"all":     {"put", "get", "latency"},
}

// ModeNames lists the accepted modes.
func ModeNames() []string {
	return []string{"put", "get", "latency", "fanout", "producer", "consumer", "analytics", "lambda", "video", "all"}
}

func (o Options) withDefaults() Options {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	if o.Region == "" {
		o.Region = "us-east-1"
	}
	if o.Mode == "" {
		o.Mode = "put"
	}
	if o.Stream == "" {
		o.Stream = "eddy-bench"
	}
	def(&o.Shards, 4)
	def(&o.Producers, 8)
	def(&o.BatchSize, 500)
	def(&o.RecordSize, 100)
	def(&o.Rate, 1000)
	def(&o.Rounds, 1)
	if len(o.SubscribeProtos) == 0 {
		o.SubscribeProtos = []string{"h1"}
	}
	if o.SubscribeConns == "" {
		o.SubscribeConns = "consumer"
	}
	if o.Duration <= 0 {
		o.Duration = 10 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

func (o Options) validate() error {
	if o.Endpoint == "" {
		return errors.New("bench: an endpoint URL is required")
	}
	if _, ok := modes[o.Mode]; !ok {
		return fmt.Errorf("bench: unknown mode %q (want one of %v)", o.Mode, ModeNames())
	}
	if o.BatchSize > 500 {
		return fmt.Errorf("bench: batch size %d is over the PutRecords limit of 500", o.BatchSize)
	}
	if o.RecordSize < headerSize {
		return fmt.Errorf("bench: record size %d is below the %d-byte payload header", o.RecordSize, headerSize)
	}
	if o.RateBytesPerShard > 0 {
		if o.Mode != "fanout" {
			return errors.New("bench: a rate per shard needs --mode fanout")
		}
		if o.RecordSize < rateHeaderSize {
			return fmt.Errorf("bench: record size %d is below the %d-byte payload header of the fixed-rate phases", o.RecordSize, rateHeaderSize)
		}
		for _, p := range o.SubscribeProtos {
			if !slices.Contains(subscribeProtos, p) {
				return fmt.Errorf("bench: unknown subscribe protocol %q (want one of %v)", p, subscribeProtos)
			}
			if protoTLS(p) && o.TLSEndpoint == "" {
				return fmt.Errorf("bench: subscribe protocol %s needs --tls-endpoint (a server with --tls-cert)", p)
			}
		}
		if c := o.H2Client; c != "" && c != "lean" && c != "go" {
			return fmt.Errorf("bench: --h2-client %q: want lean or go", c)
		}
		if c := o.SubscribeConns; c != "" && c != "consumer" && c != "subscription" {
			return fmt.Errorf("bench: --subscribe-conns %q: want consumer or subscription", c)
		}
	}
	return nil
}

// target is one endpoint under test, with what phases pass to each other.
type target struct {
	name     string // "endpoint", "tls-endpoint" or "baseline"
	endpoint string
	pid      int // server process whose CPU time phases report (0: none)
	client   *kinesis.Client
	reader   *kinesis.Client // the latency phase's consumers (client unless ReadEndpoint)
	retries  *retryCounter
	opts     Options
	base     time.Time // monotonic origin of payload timestamps

	putTag      [8]byte // tag of the last put phase's payloads
	putAccepted int64   // records that put phase got accepted
	putDone     bool
}

// Run executes the phases of o.Mode and returns what they measured. On a
// phase error the report holds the phases finished so far.
func Run(ctx context.Context, o Options) (Report, error) {
	o = o.withDefaults()
	rep := Report{
		Endpoint: o.Endpoint, Stream: o.Stream, Mode: o.Mode,
		Producers: o.Producers, BatchSize: o.BatchSize, RecordSize: o.RecordSize, Rate: o.Rate,
		Rounds: o.Rounds, RateBytesPerShard: o.RateBytesPerShard, Host: hostInfo(),
	}
	if err := o.validate(); err != nil {
		return rep, err
	}
	if o.ServerPID > 0 {
		if _, err := serverCPU(o.ServerPID); err != nil {
			return rep, fmt.Errorf("bench: --server-pid %d: %w", o.ServerPID, err)
		}
	}
	if o.TLSServerPID > 0 {
		if _, err := serverCPU(o.TLSServerPID); err != nil {
			return rep, fmt.Errorf("bench: --tls-server-pid %d: %w", o.TLSServerPID, err)
		}
	}
	names := modes[o.Mode]
	if o.Mode == "fanout" {
		names = fanoutPhases(o.Subscribers)
		if o.RateBytesPerShard > 0 {
			names = ratePhases(o.SubscribeProtos, o.Subscribers)
		}
	}

	var baseline *target
	if (o.Baseline || o.BaselineEndpoint != "") && slices.Contains(names, "put") {
		url := o.BaselineEndpoint
		if url == "" {
			noop, err := NoopServer()
			if err != nil {
				return rep, err
			}
			defer noop.Close()
			url = noop.URL
		}
		baseline = newTarget("baseline", url, o)
		_, created, err := ensureStream(ctx, baseline.client, o.Stream, o.Shards, o.Logger)
		if err != nil {
			return rep, fmt.Errorf("baseline: %w", err)
		}
		if created && o.BaselineEndpoint != "" && !o.Keep {
			defer func() {
				dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
				defer cancel()
				if err := deleteStream(dctx, baseline.client, o.Stream); err != nil {
					o.Logger.Warn("delete benchmark stream", "stream", o.Stream, "err", err)
				}
			}()
		}
	}

	t := newTarget("endpoint", o.Endpoint, o)
	shards, created, err := ensureStream(ctx, t.client, o.Stream, o.Shards, o.Logger)
	if err != nil {
		return rep, err
	}
	rep.Shards = shards
	if created && !o.Keep {
		defer func() {
			// A fresh context: the run's may be cancelled, the stream should
			// still go.
			dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
			defer cancel()
			if err := deleteStream(dctx, t.client, o.Stream); err != nil {
				o.Logger.Warn("delete benchmark stream", "stream", o.Stream, "err", err)
			}
		}()
	}
	var tlsT *target // the --tls-endpoint server, when a phase uses it
	for _, name := range names {
		if p, _, ok := parseRatePhase(name); ok && protoTLS(p) && tlsT == nil {
			tlsT = newTarget("tls-endpoint", o.TLSEndpoint, o)
			_, created, err := ensureStream(ctx, tlsT.client, o.Stream, o.Shards, o.Logger)
			if err != nil {
				return rep, fmt.Errorf("tls endpoint: %w", err)
			}
			if created && !o.Keep {
				defer func() {
					dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
					defer cancel()
					if err := deleteStream(dctx, tlsT.client, o.Stream); err != nil {
						o.Logger.Warn("delete benchmark stream", "stream", o.Stream, "err", err)
					}
				}()
			}
		}
	}
	for _, name := range names {
		o.Logger.Info("phase start", "phase", name, "endpoint", o.Endpoint)
		if proto, n, ok := parseRatePhase(name); ok {
			pt := t
			if protoTLS(proto) {
				pt = tlsT
			}
			res, err := measured(ctx, pt, func(ctx context.Context, pt *target) (PhaseResult, error) {
				return runFanoutRate(ctx, pt, proto, n)
			})
			res.Phase, res.Target = name, pt.name
			rep.Phases = append(rep.Phases, res)
			rep.FanoutCosts = fanoutCosts(rep.Phases)
			if err != nil {
				return rep, fmt.Errorf("%s phase: %w", name, err)
			}
			continue
		}
		if name == "put" && baseline != nil {
			res, bl, err := runPutRounds(ctx, t, baseline, o.Rounds)
			bl.Phase, bl.Target = name, baseline.name
			res.Phase, res.Target = name, t.name
			rep.Phases = append(rep.Phases, bl, res)
			if err != nil {
				return rep, fmt.Errorf("%s phase: %w", name, err)
			}
			if bl.RecordsPerSec > 0 {
				r := res.RecordsPerSec / bl.RecordsPerSec
				rep.Ratio = &r
			}
			continue
		}
		run := phases[name]
		if fp, ok := fanoutPutPhase(name); ok {
			run = fp
		}
		res, err := measured(ctx, t, run)
		res.Phase, res.Target = name, t.name
		rep.Phases = append(rep.Phases, res)
		if err != nil {
			return rep, fmt.Errorf("%s phase: %w", name, err)
		}
	}
	rep.AggregationRatio = aggregationRatio(rep.Phases)
	return rep, nil
}

// measured runs p and records the process CPU time it used.
func measured(ctx context.Context, t *target, p phase) (PhaseResult, error) {
	cpu0, srv0 := processCPU(), t.serverCPU()
	t.retries.take()
	res, err := p(ctx, t)
	if res.ClientCPU == 0 && res.ServerCPU == 0 { // else the phase measured its own window
		res.ClientCPU = (processCPU() - cpu0).Seconds()
		res.ServerCPU = (t.serverCPU() - srv0).Seconds()
	}
	// A phase may have taken (and reported) some retries itself.
	n, causes := t.retries.take()
	res.Retries += n
	for k, v := range causes {
		if res.RetryCauses == nil {
			res.RetryCauses = map[string]int64{}
		}
		res.RetryCauses[k] += v
	}
	return res, err
}

// serverCPU is the CPU time of the server process behind t so far, or 0
// when unknown (no ServerPID, or the baseline, which runs in this process).
func (t *target) serverCPU() time.Duration {
	if t.pid <= 0 {
		return 0
	}
	d, err := serverCPU(t.pid)
	if err != nil {
		t.opts.Logger.Warn("server CPU time", "pid", t.pid, "err", err)
		return 0
	}
	return d
}

func hostInfo() Host {
	h := Host{CPUs: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0)}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		h.LoadAvg = strings.TrimSpace(string(b))
	}
	return h
}

func newTarget(name, endpoint string, o Options) *target {
	rc := newRetryCounter(o.Logger)
	c := newClient(endpoint, o, rc)
	reader := c
	if o.ReadEndpoint != "" && name == "endpoint" {
		reader = newClient(o.ReadEndpoint, o, rc)
	}
	t := &target{name: name, endpoint: endpoint, client: c, reader: reader, retries: rc, opts: o, base: time.Now()}
	switch name {
	case "endpoint":
		t.pid = o.ServerPID
	case "tls-endpoint":
		t.pid = o.TLSServerPID
	}
	return t
}

// newClient is a Kinesis client for endpoint with static dummy credentials,
// the SDK's default retryer and a transport that keeps a connection per
// concurrent caller (and owns its request bodies: see awsclient.OwnBody). retryer, when not nil, wraps the default retryer.
func newClient(endpoint string, o Options, retryer aws.Retryer) *kinesis.Client {
	return kinesis.New(kinesis.Options{
		Region:       o.Region,
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("eddybench", "eddybench", ""),
		HTTPClient:   awsclient.OwnBody{Next: newHTTPClient(endpoint, o)},
		Retryer:      retryer,
	})
}

// newHTTPClient keeps a connection per concurrent caller.
func newHTTPClient(endpoint string, o Options) *awshttp.BuildableClient {
	conns := o.Producers + o.Shards + 24
	return awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) {
		tr.MaxIdleConns = conns * 2
		tr.MaxIdleConnsPerHost = conns
		tr.MaxConnsPerHost = 0
		if strings.HasPrefix(endpoint, "https:") {
			tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} // the bench's own test server
		}
	})
}

// ensureStream makes sure stream exists and is ACTIVE, creating it with
// shards shards when missing. It returns the open shard count and whether
// this call created the stream.
func ensureStream(ctx context.Context, c *kinesis.Client, stream string, shards int, log *slog.Logger) (open int, created bool, err error) {
	_, err = c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: &stream})
	var notFound *types.ResourceNotFoundException
	switch {
	case errors.As(err, &notFound):
		log.Info("creating stream", "stream", stream, "shards", shards)
		_, err = c.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: &stream, ShardCount: aws.Int32(int32(shards))})
		if err != nil {
			return 0, false, fmt.Errorf("create stream %s: %w", stream, err)
		}
		created = true
	case err != nil:
		return 0, false, fmt.Errorf("describe stream %s: %w", stream, err)
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		out, err := c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: &stream})
		if err != nil {
			return 0, created, fmt.Errorf("describe stream %s: %w", stream, err)
		}
		s := out.StreamDescriptionSummary
		if s != nil && s.StreamStatus == types.StreamStatusActive {
			return int(aws.ToInt32(s.OpenShardCount)), created, nil
		}
		select {
		case <-ctx.Done():
			return 0, created, fmt.Errorf("wait for stream %s to become ACTIVE: %w", stream, ctx.Err())
		case <-tick.C:
		}
	}
}

func deleteStream(ctx context.Context, c *kinesis.Client, stream string) error {
	_, err := c.DeleteStream(ctx, &kinesis.DeleteStreamInput{
		StreamName: &stream, EnforceConsumerDeletion: aws.Bool(true),
	})
	if err != nil {
		return fmt.Errorf("delete stream %s: %w", stream, err)
	}
	return nil
}

// listShards returns every shard ID of stream.
func listShards(ctx context.Context, c *kinesis.Client, stream string) ([]string, error) {
	var ids []string
	in := &kinesis.ListShardsInput{StreamName: &stream}
	for {
		out, err := c.ListShards(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("list shards of %s: %w", stream, err)
		}
		for _, s := range out.Shards {
			ids = append(ids, aws.ToString(s.ShardId))
		}
		if out.NextToken == nil {
			return ids, nil
		}
		in = &kinesis.ListShardsInput{NextToken: out.NextToken}
	}
}

// newTag returns a random payload tag.
func newTag() (tag [8]byte) {
	rand.Read(tag[:])
	return tag
}

// isThrottle reports whether err is a throughput or rate-limit rejection.
func isThrottle(err error) bool {
	var pte *types.ProvisionedThroughputExceededException
	var lee *types.LimitExceededException
	return errors.As(err, &pte) || errors.As(err, &lee)
}

func rates(r *PhaseResult, elapsed time.Duration) {
	r.Seconds = elapsed.Seconds()
	if elapsed <= 0 {
		return
	}
	s := elapsed.Seconds()
	r.RecordsPerSec = float64(r.Records) / s
	r.MBPerSec = float64(r.Bytes) / s / 1e6
	r.CallsPerSec = float64(r.Calls) / s
}
