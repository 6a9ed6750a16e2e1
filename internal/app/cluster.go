package app

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/eddy-streams/eddy/internal/config"
	"github.com/eddy-streams/eddy/internal/lease"
	"github.com/eddy-streams/eddy/internal/storage"
	"github.com/eddy-streams/eddy/internal/storage/natsstore"
)

// openClusterBackend opens natsstore: over an embedded nats-server (its
// JetStream files in DATA_DIR/nats) routed to --peers, or over an existing
// NATS cluster (--nats-url). It waits (up to 2 minutes) for the JetStream
// cluster to form and the metadata bucket to exist.
func openClusterBackend(cfg config.Config, log *slog.Logger, now func() time.Time) (storage.Backend, error) {
	cl := cfg.Cluster
	opts := natsstore.Options{Replicas: cl.ReplicaCount(), OwnConn: true, Now: now}
	var nc *nats.Conn
	if cl.NATSURL != "" {
		copts := []nats.Option{nats.Name("eddy-" + cl.NodeName), nats.MaxReconnects(-1), nats.ReconnectWait(250 * time.Millisecond)}
		if cl.NATSCreds != "" {
			copts = append(copts, nats.UserCredentials(cl.NATSCreds))
		}
		if cl.NATSTLSCA != "" {
			copts = append(copts, nats.RootCAs(cl.NATSTLSCA))
		}
		if cl.NATSTLSCert != "" {
			copts = append(copts, nats.ClientCert(cl.NATSTLSCert, cl.NATSTLSKey))
		}
		if cl.NATSUser != "" {
			copts = append(copts, nats.UserInfo(cl.NATSUser, cl.NATSPassword))
		}
		if cl.NATSToken != "" {
			copts = append(copts, nats.Token(cl.NATSToken))
		}
		var err error
		if nc, err = nats.Connect(cl.NATSURL, copts...); err != nil {
			return nil, fmt.Errorf("connect to %s: %w", cl.NATSURL, err)
		}
	} else {
		dir := filepath.Join(cfg.DataDir, "nats")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("nats store dir: %w", err)
		}
		sc := natsstore.ServerConfig{
			Name: cl.NodeName, StoreDir: dir, Cluster: cl.ClusterAddr, Peers: cl.PeerList(), ClusterName: cl.ClusterName,
			RouteUser: cl.ClusterUser, RoutePassword: cl.ClusterPassword,
			Logger: natsLog{log.With("nats", cl.NodeName)},
		}
		if cl.ClusterTLSCert != "" {
			sc.RouteTLS = &natsstore.TLSFiles{CertFile: cl.ClusterTLSCert, KeyFile: cl.ClusterTLSKey, CAFile: cl.ClusterTLSCA}
		}
		srv, err := natsstore.StartServer(sc)
		if err != nil {
			return nil, err
		}
		if nc, err = natsstore.ConnectInProcess(srv, "eddy-"+cl.NodeName); err != nil {
			srv.Shutdown()
			return nil, err
		}
		opts.Server = srv
	}
	log.Info("cluster mode: waiting for JetStream", "node", cl.NodeName, "replicas", opts.Replicas, "peers", cl.PeerList(), "nats_url", cl.NATSURL)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	st, err := natsstore.Open(ctx, nc, opts)
	if err != nil {
		nc.Close()
		if opts.Server != nil {
			opts.Server.Shutdown()
		}
		return nil, err
	}
	if opts.Server != nil {
		go logMetaLeader(st, opts.Server.JetStreamIsLeader, log, cl.NodeName)
	}
	return st, nil
}

// logMetaLeader logs when this node becomes or stops being the JetStream
// meta leader (the node that places streams): operators and the cluster
// tests read it to know which node that is.
func logMetaLeader(st *natsstore.Store, isLeader func() bool, log *slog.Logger, node string) {
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	was := false
	for {
		select {
		case <-st.Done():
			return
		case <-t.C:
		}
		if now := isLeader(); now != was {
			was = now
			log.Info("cluster: JetStream meta leader changed", "node", node, "leader", now)
		}
	}
}

// leaser is how services run their background work: on natsstore under
// leases in the replicated KV bucket (one node at a time, moving when the
// holder dies, docs/cluster.md); on one node, always here.
func (s *Server) leaser() lease.Leaser {
	st, ok := s.Backend.(*natsstore.Store)
	if !ok {
		return lease.Local{}
	}
	ttl := s.Config.Cluster.LeaseTTL
	if ttl <= 0 {
		ttl = lease.DefaultTTL
	}
	node := s.Config.Cluster.NodeName
	if node == "" {
		h, _ := os.Hostname()
		node = h + "-" + strconv.Itoa(os.Getpid())
	}
	return &lease.Shared{TTL: ttl, Logger: s.log.With("node", node), New: func(name string) lease.Claim {
		return st.NewLease(name, node, ttl, nil)
	}}
}

// fenced is the backend for a service that keeps leased loops' checkpoints
// with SaveMeta under prefix: in cluster mode those namespaces are fenced
// by lease epoch (lease.FencedMeta); on one node, the backend itself.
func (s *Server) fenced(prefix string) (storage.Backend, *lease.FencedMeta) {
	st, ok := s.Backend.(*natsstore.Store)
	if !ok {
		return s.Backend, nil
	}
	fm := &lease.FencedMeta{Backend: s.Backend, Store: st, Prefixes: []string{prefix}}
	return fm, fm
}

// natsLog passes the embedded nats-server's errors (a refused route) to
// Eddy's log at error level and its warnings (a lost quorum, but also
// routine ones while a cluster forms) at info level; its notices and debug
// lines are dropped (they are many, and Eddy logs what matters of them).
type natsLog struct{ l *slog.Logger }

func (n natsLog) Noticef(string, ...any)    {}
func (n natsLog) Debugf(string, ...any)     {}
func (n natsLog) Tracef(string, ...any)     {}
func (n natsLog) Warnf(f string, v ...any)  { n.l.Info(fmt.Sprintf(f, v...)) }
func (n natsLog) Errorf(f string, v ...any) { n.l.Error(fmt.Sprintf(f, v...)) }
func (n natsLog) Fatalf(f string, v ...any) { n.l.Error(fmt.Sprintf(f, v...)) }
