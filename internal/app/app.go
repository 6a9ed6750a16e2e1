// Package app wires Eddy's parts together and runs them: storage backend,
// services, gateway, listener. Start brings them up in order; Close takes
// them down in reverse (stop accepting, finish in-flight requests, stop
// services, sync and close storage).
package app

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/eddy-streams/eddy/internal/analytics"
	"github.com/eddy-streams/eddy/internal/awsproto"
	"github.com/eddy-streams/eddy/internal/config"
	"github.com/eddy-streams/eddy/internal/firehose"
	"github.com/eddy-streams/eddy/internal/gateway"
	"github.com/eddy-streams/eddy/internal/glue"
	"github.com/eddy-streams/eddy/internal/kinesis"
	"github.com/eddy-streams/eddy/internal/lambda"
	"github.com/eddy-streams/eddy/internal/storage"
	"github.com/eddy-streams/eddy/internal/storage/logstore"
)

// Server is a running Eddy.
type Server struct {
	Config   config.Config
	Backend  storage.Backend
	Kinesis  *kinesis.Service
	Firehose *firehose.Service
	Lambda   *lambda.Service
	Glue     *glue.Service
	// Analytics is the Data Analytics application store and runner.
	Analytics *analytics.Service
	Gateway   *gateway.Gateway

	log      *slog.Logger
	listener net.Listener
	http     *http.Server
	cancel   context.CancelFunc
	served   chan struct{} // closed when the serve loop returns
	serveErr error
	closers  []func() error
	rest     []gateway.RESTService // path-routed services (Lambda)

	closeOnce sync.Once
	closeErr  error
}

// Options tweak Start for tests.
type Options struct {
	Logger *slog.Logger
	Now    func() time.Time
	// Backend, when set, is used instead of opening one from the config.
	Backend storage.Backend
	// Listener, when set, is served instead of listening on Config.Addr.
	Listener net.Listener
}

// Start opens storage, starts the services and begins serving.
func Start(cfg config.Config, o Options) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	log := o.Logger
	if log == nil {
		log = slog.Default()
	}
	s := &Server{Config: cfg, log: log, served: make(chan struct{})}
	ok := false
	defer func() {
		if !ok {
			s.closeAll()
		}
	}()

	be := o.Backend
	if be == nil {
		var err error
		be, err = OpenBackend(cfg, log, o.Now)
		if err != nil {
			return nil, err
		}
	}
	s.Backend = be
	s.closers = append(s.closers, be.Close)

	ks, err := kinesis.New(kinesis.Options{
		Backend: be, Now: o.Now, Logger: log.With("service", "kinesis"),
		TransitionDelay: cfg.TransitionDelay, EnforceLimits: cfg.EnforceLimits, ShardLimit: cfg.ShardLimit,
	})
	if err != nil {
		return nil, err
	}
	s.Kinesis = ks
	s.closers = append(s.closers, func() error { ks.Close(); return nil })
	if err := initStreams(ks, cfg); err != nil {
		return nil, err
	}

	auth, err := authenticator(cfg)
	if err != nil {
		return nil, err
	}
	l := o.Listener
	if l == nil {
		l, err = net.Listen("tcp", cfg.Addr)
		if err != nil {
			return nil, fmt.Errorf("listen %s: %w", cfg.Addr, err)
		}
	}
	s.listener = l
	s.closers = append(s.closers, func() error { l.Close(); return nil })
	services := []awsproto.Service{ks}
	extra, metrics, err := startExtraServices(s, cfg, o, s.URL())
	if err != nil {
		return nil, err
	}
	services = append(services, extra...)
	if ls, ok := be.(*logstore.Store); ok {
		metrics = append(metrics, ls.Collector())
	}
	cors := cfg.CORSOriginList()
	if cfg.Auth == "sigv4" && len(cors) == 0 {
		// AWS answers every browser origin: each request still needs a
		// signature
		cors = []string{"*"}
	}
	s.Gateway = gateway.New(gateway.Options{Auth: auth, Logger: log, Services: services, Metrics: metrics, REST: s.rest,
		CORSOrigins: cors, Signed: cfg.Auth == "sigv4"})

	var tlsConf *tls.Config
	if cfg.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			return nil, fmt.Errorf("tls: %w", err)
		}
		tlsConf = &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"h2", "http/1.1"}}
	}
	s.http = s.Gateway.Server(cfg.Addr, tlsConf)
	if cfg.Pprof {
		mux := http.NewServeMux()
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.Handle("/", s.Gateway)
		s.http.Handler = mux
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	go func() {
		s.serveErr = gateway.Serve(ctx, s.http, l)
		close(s.served)
	}()
	s.Gateway.SetReady(true)
	ok = true
	log.Info("eddy serving", "addr", l.Addr().String(), "data_dir", cfg.DataDir, "durability", cfg.Durability, "tls", tlsConf != nil, "auth", cfg.Auth)
	return s, nil
}

// URL is the base URL clients use.
func (s *Server) URL() string {
	scheme := "http"
	if s.Config.TLSCert != "" {
		scheme = "https"
	}
	return scheme + "://" + s.listener.Addr().String()
}

// Addr is the listening address.
func (s *Server) Addr() net.Addr { return s.listener.Addr() }

// Close stops serving (in-flight requests finish) and closes everything.
// Further calls return the first call's result.
func (s *Server) Close() error {
	s.closeOnce.Do(func() { s.closeErr = s.close() })
	return s.closeErr
}

func (s *Server) close() error {
	var err error
	if s.cancel != nil {
		s.Gateway.SetReady(false)
		s.cancel()
		<-s.served
		if e := s.serveErr; e != nil && !errors.Is(e, http.ErrServerClosed) {
			err = e
		}
	}
	return errors.Join(err, s.closeAll())
}

func (s *Server) closeAll() error {
	var errs []error
	for i := len(s.closers) - 1; i >= 0; i-- {
		if err := s.closers[i](); err != nil {
			errs = append(errs, err)
		}
	}
	s.closers = nil
	return errors.Join(errs...)
}

// Done is closed when the serve loop stops (after Close, or on its own when
// the listener fails); Err then tells why.
func (s *Server) Done() <-chan struct{} { return s.served }

// Err is the serve loop's error once Done is closed.
func (s *Server) Err() error { return s.serveErr }

// initStreams creates streams named by --init-streams (name:shards[:region]).
func initStreams(ks *kinesis.Service, cfg config.Config) error {
	if strings.TrimSpace(cfg.InitStreams) == "" {
		return nil
	}
	for _, spec := range strings.Split(cfg.InitStreams, ",") {
		parts := strings.Split(strings.TrimSpace(spec), ":")
		if len(parts) < 1 || parts[0] == "" || len(parts) > 3 {
			return fmt.Errorf("init-streams: bad entry %q (want name:shards[:region])", spec)
		}
		shards := 4
		if len(parts) >= 2 {
			n, err := strconv.Atoi(parts[1])
			if err != nil || n < 1 {
				return fmt.Errorf("init-streams: bad shard count in %q", spec)
			}
			shards = n
		}
		region := cfg.Region
		if len(parts) == 3 {
			region = parts[2]
		}
		if err := ks.EnsureStream(cfg.Account, region, parts[0], shards); err != nil {
			return fmt.Errorf("init-streams %q: %w", spec, err)
		}
	}
	return nil
}

func authenticator(cfg config.Config) (gateway.Authenticator, error) {
	if cfg.Auth == "sigv4" {
		return sigv4Authenticator(cfg)
	}
	return gateway.ScopeAuth(cfg.Account, cfg.Region), nil
}

// OpenBackend opens the durable log store in cfg.DataDir with the
// configured durability.
func OpenBackend(cfg config.Config, log *slog.Logger, now func() time.Time) (storage.Backend, error) {
	if cfg.Cluster.Enabled() {
		return openClusterBackend(cfg, log, now)
	}
	mode, interval, err := logstore.ParseDurability(cfg.Durability)
	if err != nil {
		return nil, err
	}
	if cfg.DataDir == "" {
		return nil, errors.New("data-dir: empty")
	}
	st, err := logstore.Open(cfg.DataDir, logstore.Options{Durability: mode, Interval: interval, Now: now, Logger: log.With("component", "logstore")})
	if err != nil {
		return nil, fmt.Errorf("open data dir %s: %w", cfg.DataDir, err)
	}
	return st, nil
}
