package natsstore

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// MaxPayload is the largest NATS message the embedded server accepts. Kinesis
// records reach 10 MiB, but nats-server warns above 8 MiB, so cluster mode caps
// records (and metadata blobs) at this size; see docs/cluster.md.
const MaxPayload = 8 << 20

// ServerConfig starts one embedded nats-server: a JetStream node whose files
// live in StoreDir. With Cluster set it listens for routes there and joins
// Peers; without it the node is a single-server JetStream (R1).
type ServerConfig struct {
	Name     string   // unique node name (NATS server_name)
	StoreDir string   // JetStream store directory
	Cluster  string   // HOST:PORT this node's route listener binds; "" for a single node
	Peers    []string // HOST:PORT of the other nodes' route listeners
	// ClientAddr, when set, also opens a client listener (HOST:PORT) so
	// operators and tools (the nats CLI) can reach the embedded server.
	ClientAddr string
	// ClusterName is the NATS cluster name; "eddy" when empty.
	ClusterName string
	// RouteTLS, when set, encrypts the routes between nodes with mutual
	// TLS: this node presents CertFile/KeyFile and accepts (and dials)
	// only peers whose certificate CAFile signed.
	RouteTLS *TLSFiles
	// RouteUser and RoutePassword, when set, are required of every peer
	// that opens a route to this node, and are sent to the peers this
	// node dials (all nodes of a cluster share them).
	RouteUser, RoutePassword string
	// Logger receives nats-server's own log (route errors, elections);
	// nil keeps it silent.
	Logger server.Logger
}

// TLSFiles names PEM files: a certificate, its key and the CA that signs
// the peers' certificates.
type TLSFiles struct {
	CertFile, KeyFile, CAFile string
}

// StartServer starts an embedded nats-server and waits until it accepts
// connections. JetStream is configured with sync_interval: always, so a
// publish is acknowledged only after the stream leader fsynced it (R1) or a
// quorum stored it (R3): "acknowledged means durable" as with
// --durability always (nats-io/nats-server#7564 is why the 2-minute default
// is never used).
func StartServer(c ServerConfig) (*server.Server, error) {
	opts := &server.Options{
		ServerName: c.Name,
		JetStream:  true,
		StoreDir:   c.StoreDir,
		NoSigs:     true,
		NoLog:      true,
		SyncAlways: true,
		MaxPayload: MaxPayload,
		// A clustered server must listen for clients (nats-server waits
		// on that during startup); without ClientAddr it gets a random
		// loopback port nobody is told about.
		DontListen: c.ClientAddr == "" && c.Cluster == "",
		Host:       "127.0.0.1",
		Port:       -1,
	}
	if c.ClientAddr != "" {
		h, p, err := splitHostPort(c.ClientAddr)
		if err != nil {
			return nil, fmt.Errorf("nats client address: %w", err)
		}
		opts.Host, opts.Port = h, p
	}
	if c.Cluster != "" {
		h, p, err := splitHostPort(c.Cluster)
		if err != nil {
			return nil, fmt.Errorf("cluster address: %w", err)
		}
		name := c.ClusterName
		if name == "" {
			name = "eddy"
		}
		opts.Cluster = server.ClusterOpts{Name: name, Host: h, Port: p}
		if t := c.RouteTLS; t != nil {
			tc, err := server.GenTLSConfig(&server.TLSConfigOpts{CertFile: t.CertFile, KeyFile: t.KeyFile, CaFile: t.CAFile, Verify: true})
			if err != nil {
				return nil, fmt.Errorf("route tls: %w", err)
			}
			// the same config dials the peers: verify them by the same CA
			tc.RootCAs = tc.ClientCAs
			opts.Cluster.TLSConfig, opts.Cluster.TLSTimeout = tc, 2
		}
		if c.RouteUser != "" {
			opts.Cluster.Username, opts.Cluster.Password = c.RouteUser, c.RoutePassword
			opts.Cluster.AuthTimeout = 2
		}
		for _, peer := range c.Peers {
			u, err := url.Parse("nats://" + peer)
			if err != nil {
				return nil, fmt.Errorf("peer %q: %w", peer, err)
			}
			if c.RouteUser != "" {
				u.User = url.UserPassword(c.RouteUser, c.RoutePassword)
			}
			opts.Routes = append(opts.Routes, u)
		}
	}
	if c.Logger != nil {
		opts.NoLog = false
	}
	s, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("nats server: %w", err)
	}
	if c.Logger != nil {
		s.SetLogger(c.Logger, false, false)
	}
	go s.Start()
	if !s.ReadyForConnections(30 * time.Second) {
		s.Shutdown()
		return nil, fmt.Errorf("nats server %s not ready after 30s", c.Name)
	}
	return s, nil
}

// ConnectInProcess opens a client connection to an embedded server without a
// TCP listener.
func ConnectInProcess(s *server.Server, name string) (*nats.Conn, error) {
	nc, err := nats.Connect("", nats.InProcessServer(s), nats.Name(name),
		nats.MaxReconnects(-1), nats.ReconnectWait(100*time.Millisecond))
	if err != nil {
		return nil, fmt.Errorf("connect to embedded nats: %w", err)
	}
	return nc, nil
}

func splitHostPort(a string) (string, int, error) {
	h, ps, err := net.SplitHostPort(a)
	if err != nil {
		return "", 0, err
	}
	p, err := strconv.Atoi(ps)
	if err != nil || p < 0 || p > 65535 {
		return "", 0, fmt.Errorf("bad port in %q", a)
	}
	return h, p, nil
}
