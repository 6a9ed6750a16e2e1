// Package lambda runs users' functions locally the way AWS Lambda does:
// the Lambda API subset (REST-JSON under /2015-03-31/…), a Lambda Runtime
// API server for the processes it starts, Invoke, and event source
// mappings that read Kinesis streams in process.
//
// A function's code is a zip (extracted under Dir/code/NAME/SHA) or, for
// local work, a directory (Code.S3Bucket "eddy-local", Code.S3Key the
// absolute path): it holds a `bootstrap` executable (provided.al2023,
// provided.al2, any custom runtime), or, for nodejs* runtimes, a handler
// run through node_modules/.bin/aws-lambda-ric. A function tagged
// eddy:endpoint=URL is remote: Invoke is forwarded to URL, which speaks the
// Invoke API (sam local start-lambda, the runtime interface emulator).
//
// Each process gets its own loopback Runtime API listener
// (AWS_LAMBDA_RUNTIME_API), so one process serves one invocation at a
// time, as in Lambda. Processes are reused warm, capped by reserved
// concurrency (else Options.MaxConcurrency), killed and replaced on
// timeout. Their stdout and stderr, with Lambda's START/END/REPORT lines,
// go to Dir/logs/NAME.log.
//
// Persisted metadata (namespace "lambda", JSON, written atomically by the
// storage backend): functions and mappings; each mapping's shard
// checkpoints in namespace "lambda-esm-UUID", written after every batch.
// In cluster mode (Options.Shared) functions, mappings and zips are
// replicated per item instead and followed by every node: see cluster.go.
//
// Lock order: Service.mu, then pool.mu, then instance.mu; a mapping's
// mapping.mu is never held while taking Service.mu.
package lambda

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/eddy-streams/eddy/internal/firehose/s3dest"
	"github.com/eddy-streams/eddy/internal/kinesis"
	"github.com/eddy-streams/eddy/internal/lease"
	"github.com/eddy-streams/eddy/internal/storage"
)

// Options configure a Service.
type Options struct {
	Backend storage.Backend  // metadata (SaveMeta/LoadMeta)
	Kinesis *kinesis.Service // event sources, read in process; may be nil
	// Dir holds extracted code and function logs.
	Dir            string
	Now            func() time.Time
	Logger         *slog.Logger
	DefaultAccount string
	DefaultRegion  string
	// Endpoint is Eddy's own URL, given to functions as AWS_ENDPOINT_URL.
	Endpoint string
	// S3 is where on-failure destinations "arn:aws:s3:::BUCKET" are
	// written (the server's --s3-* flags, as Firehose's deliveries).
	S3 s3dest.Endpoint
	// MaxConcurrency caps a function's processes when it has no reserved
	// concurrency (default 64; AWS's account default is 1000).
	MaxConcurrency int
	// Leases runs each event source mapping on one node at a time
	// (cluster mode); nil: lease.Local, this node runs them all.
	Leases lease.Leaser
	// Shared, in cluster mode, holds functions, mappings and function code
	// for every node (cluster.go); nil: Backend's "lambda" blob, this
	// node's alone.
	Shared SharedItems
}

// Service is the Lambda service.
type Service struct {
	o   Options
	log *slog.Logger
	now func() time.Time

	// ctx stops mappings from starting batches; hard (cancelled up to 5 s
	// later on Close) cuts invocations still running
	ctx        context.Context
	cancel     context.CancelFunc
	hard       context.Context
	hardCancel context.CancelFunc
	wg         sync.WaitGroup

	s3once sync.Once
	s3     *s3dest.Uploader

	mu       sync.Mutex
	funcs    map[fkey]*function
	mappings map[string]*mapping // by UUID
	saveErr  error               // sticky metadata write error
	items    map[string]item     // cluster mode: replicated items as last written or seen
	migrated bool                // cluster mode: the legacy blob was looked at
}

type fkey struct{ account, region, name string }

// New loads persisted functions and mappings.
func New(o Options) (*Service, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.DefaultAccount == "" {
		o.DefaultAccount = "000000000000"
	}
	if o.DefaultRegion == "" {
		o.DefaultRegion = "us-east-1"
	}
	if o.MaxConcurrency <= 0 {
		o.MaxConcurrency = 64
	}
	if o.Dir == "" {
		d, err := os.MkdirTemp("", "eddy-lambda-")
		if err != nil {
			return nil, fmt.Errorf("lambda dir: %w", err)
		}
		o.Dir = d
	}
	for _, d := range []string{"code", "logs"} {
		if err := os.MkdirAll(filepath.Join(o.Dir, d), 0o755); err != nil {
			return nil, fmt.Errorf("lambda dir: %w", err)
		}
	}
	s := &Service{o: o, log: o.Logger, now: o.Now, funcs: map[fkey]*function{}, mappings: map[string]*mapping{}, items: map[string]item{}}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.hard, s.hardCancel = context.WithCancel(context.Background())
	if err := s.load(); err != nil {
		return nil, err
	}
	return s, nil
}

// Start runs the enabled event source mappings and, in cluster mode,
// follows other nodes' changes.
func (s *Service) Start() error {
	s.mu.Lock()
	for _, m := range s.mappings {
		s.startMappingLocked(m)
	}
	s.mu.Unlock()
	return s.watchShared()
}

// Close stops mappings and kills every function process.
// Batches being invoked get up to 5 s to finish (and be checkpointed).
func (s *Service) Close() error {
	s.cancel()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
	}
	s.hardCancel()
	<-done
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range s.funcs {
		f.pool.close()
	}
	return nil
}

// persisted is the "lambda" metadata blob.
type persisted struct {
	Version   int               `json:"v"`
	Functions []storedFunction  `json:"functions"`
	Mappings  []mappingSettings `json:"mappings"`
}

func (s *Service) load() error {
	if s.o.Shared != nil {
		return s.loadShared()
	}
	if s.o.Backend == nil {
		return nil
	}
	b, err := s.o.Backend.LoadMeta("lambda")
	if err != nil {
		return fmt.Errorf("load lambda metadata: %w", err)
	}
	if b == nil {
		return nil
	}
	var p persisted
	if err := json.Unmarshal(b, &p); err != nil {
		return fmt.Errorf("decode lambda metadata: %w", err)
	}
	for _, sf := range p.Functions {
		f := &function{storedFunction: sf}
		f.pool = s.newPool(f)
		s.funcs[fkey{sf.Account, sf.Region, sf.Config.FunctionName}] = f
	}
	for _, ms := range p.Mappings {
		m := &mapping{s: s, set: ms}
		if cp, err := s.o.Backend.LoadMeta("lambda-esm-" + ms.UUID); err != nil {
			return fmt.Errorf("load checkpoints of mapping %s: %w", ms.UUID, err)
		} else if cp != nil {
			if err := json.Unmarshal(cp, &m.ckpt); err != nil {
				return fmt.Errorf("decode checkpoints of mapping %s: %w", ms.UUID, err)
			}
		}
		if m.ckpt.Shards == nil {
			m.ckpt.Shards = map[string]shardCkpt{}
		}
		m.filters, _ = compileFilters(ms.FilterCriteria)
		s.mappings[ms.UUID] = m
	}
	return nil
}

// saveLocked writes functions and mappings. A failed write is sticky: the
// service refuses changes until restarted.
func (s *Service) saveLocked() error {
	if s.saveErr != nil {
		return s.saveErr
	}
	if s.o.Shared != nil {
		return s.saveItemsLocked() // not sticky: the store keeps the last good state
	}
	if s.o.Backend == nil {
		return nil
	}
	p := persisted{Version: 1}
	for _, f := range s.funcs {
		p.Functions = append(p.Functions, f.storedFunction)
	}
	for _, m := range s.mappings {
		m.mu.Lock()
		p.Mappings = append(p.Mappings, m.set)
		m.mu.Unlock()
	}
	b, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("encode lambda metadata: %w", err)
	}
	if err := s.o.Backend.SaveMeta("lambda", b); err != nil {
		s.saveErr = fmt.Errorf("save lambda metadata: %w", err)
		return s.saveErr
	}
	return nil
}
