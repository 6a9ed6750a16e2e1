// Package agent is `eddy agent`: it tails log files and ships their lines to
// Kinesis Data Streams (PutRecords) or Firehose (PutRecordBatch), configured
// by the AWS Kinesis Agent's agent.json.
//
// Design (docs/agent.md has the user-facing version):
//   - One pipeline per flow (filePattern × destination): a reader goroutine
//     polls a tail.Tailer, runs the convert.Chain and fills batches; a
//     bounded queue feeds MaxInFlightBatches sender goroutines; a committer
//     moves the checkpoint.
//   - Delivery is at-least-once without loss: every batch carries the file
//     position after its last record; the checkpoint moves to a batch's
//     position only when that batch and every earlier one of the flow were
//     fully acknowledged (a contiguous watermark, unlike the AWS agent's
//     "highest batch id"), and it is written durably before the next one.
//     A restart re-reads from there: duplicates are at most the batches that
//     were in flight (MaxInFlightBatches), never a gap.
//   - Partial failures retry only the failed entries, with exponential
//     backoff and jitter, without a retry limit: a record is never dropped.
//   - Memory is bounded: the reader stops reading while queued and in-flight
//     record bytes exceed maxBufferedBytes or the queue is full; the files
//     are the buffer.
//   - Sub-packages: tail (files, rotation, records), convert (converters),
//     send (AWS SDK senders), checkpoint (the checkpoint file).
package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/eddy-streams/eddy/internal/agent/checkpoint"
	"github.com/eddy-streams/eddy/internal/agent/send"
	"github.com/eddy-streams/eddy/internal/promtext"
)

// Options are the agent's non-file settings (mostly for tests).
type Options struct {
	Logger *slog.Logger
	Now    func() time.Time
	// NewSender overrides the AWS SDK senders (tests).
	NewSender func(ctx context.Context, f Flow) (send.Sender, error)
}

// Agent runs every flow of a config.
type Agent struct {
	cfg     *Config
	opt     Options
	log     *slog.Logger
	store   *checkpoint.Store
	flows   []*flow
	metrics net.Listener
}

// New prepares an agent: opens the checkpoint file and builds the senders.
func New(ctx context.Context, cfg *Config, opt Options) (*Agent, error) {
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	a := &Agent{cfg: cfg, opt: opt, log: opt.Logger}
	if len(cfg.Ignored()) > 0 {
		a.log.Info("agent.json keys accepted but without effect in eddy agent", "keys", cfg.Ignored())
	}
	store, err := checkpoint.Open(cfg.CheckpointFile, cfg.CheckpointTTL, opt.Now)
	if err != nil {
		return nil, err
	}
	a.store = store
	newSender := opt.NewSender
	if newSender == nil {
		newSender = a.awsSender
	}
	threads := make(chan struct{}, cfg.MaxSendingThreads)
	for _, fc := range cfg.Flows {
		s, err := newSender(ctx, fc)
		if err != nil {
			return nil, fmt.Errorf("flow %s: %w", fc.ID(), err)
		}
		a.flows = append(a.flows, newFlow(fc, s, store, threads, cfg.MaxBufferedBytes, a.log, opt.Now))
	}
	return a, nil
}

func (a *Agent) awsSender(ctx context.Context, f Flow) (send.Sender, error) {
	c := a.cfg
	o := send.ClientOptions{
		AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey,
		AssumeRoleARN: c.AssumeRoleARN, AssumeRoleExtID: c.AssumeRoleExtID, STSEndpoint: c.STSEndpoint,
		UserAgent: c.UserAgent, ConnectTimeout: c.ConnectionTimeout, SocketTimeout: c.SocketTimeout,
		MaxConnsPerHost: c.MaxSendingThreads,
	}
	if f.KinesisStream != "" {
		o.Region = c.KinesisRegion
		o.DefaultRegionHint = send.RegionFromEndpoint(c.KinesisEndpoint)
		cfg, err := send.AWSConfig(ctx, o)
		if err != nil {
			return nil, err
		}
		return send.NewKinesis(cfg, c.KinesisEndpoint, f.KinesisStream), nil
	}
	o.Region = c.FirehoseRegion
	if o.Region == "" {
		o.Region = send.RegionFromEndpoint(c.FirehoseEndpoint)
	}
	o.DefaultRegionHint = c.KinesisRegion
	cfg, err := send.AWSConfig(ctx, o)
	if err != nil {
		return nil, err
	}
	return send.NewFirehose(cfg, c.FirehoseEndpoint, f.DeliveryStream), nil
}

// Run runs every flow until ctx is cancelled, then shuts down within the
// shutdown timeout. It returns the first flow error.
func (a *Agent) Run(ctx context.Context) error {
	if a.cfg.MetricsAddr != "" {
		l, err := net.Listen("tcp", a.cfg.MetricsAddr)
		if err != nil {
			return fmt.Errorf("metrics listener: %w", err)
		}
		a.metrics = l
		mux := http.NewServeMux()
		mux.HandleFunc("/metrics", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", promtext.ContentType)
			if err := a.WriteMetrics(w); err != nil {
				a.log.Warn("metrics", "err", err)
			}
		})
		srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = srv.Serve(l) }()
		defer srv.Close()
		a.log.Info("serving agent metrics", "addr", l.Addr().String())
	}
	statusCtx, stopStatus := context.WithCancel(context.Background())
	defer stopStatus()
	go func() {
		t := time.NewTicker(a.cfg.StatusPeriod)
		defer t.Stop()
		for {
			select {
			case <-statusCtx.Done():
				return
			case <-t.C:
				for _, f := range a.flows {
					f.logStatus(a.log)
				}
			}
		}
	}()
	var wg sync.WaitGroup
	errs := make([]error, len(a.flows))
	for i, f := range a.flows {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = f.run(ctx, a.cfg.ShutdownTimeout)
		}()
	}
	wg.Wait()
	for _, f := range a.flows {
		f.logStatus(a.log)
	}
	if err := a.store.Close(); err != nil {
		errs = append(errs, fmt.Errorf("close checkpoints: %w", err))
	}
	return errors.Join(errs...)
}

// MetricsAddr is the metrics listener's address once Run started it.
func (a *Agent) MetricsAddr() string {
	if a.metrics == nil {
		return ""
	}
	return a.metrics.Addr().String()
}

// Stats returns the counters of the flow with the given id (nil if none).
func (a *Agent) Stats(flowID string) *FlowStats {
	for _, f := range a.flows {
		if f.id == flowID {
			return f.stats
		}
	}
	return nil
}
