package config

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Cluster is cluster mode's settings (docs/cluster.md). Zero means a single
// node on the embedded log store.
type Cluster struct {
	NodeName string `json:"node-name"`
	// ClusterAddr is this node's NATS route address (HOST:PORT); Peers the
	// other nodes' (comma-separated).
	ClusterAddr string `json:"cluster"`
	Peers       string `json:"peers"`
	// ClusterName is the embedded NATS cluster's name ("eddy" when
	// empty): nodes route only to peers of the same name.
	ClusterName string `json:"cluster-name"`
	// NATSURL connects to an existing NATS cluster instead of embedding one.
	NATSURL     string `json:"nats-url"`
	NATSCreds   string `json:"nats-creds"`
	NATSTLSCA   string `json:"nats-tls-ca"`
	NATSTLSCert string `json:"nats-tls-cert"`
	NATSTLSKey  string `json:"nats-tls-key"`
	// NATSUser/NATSPassword or NATSToken authenticate to --nats-url (the
	// URL's own user:password@ or token@ works too).
	NATSUser     string `json:"nats-user"`
	NATSPassword string `json:"nats-password"`
	NATSToken    string `json:"nats-token"`
	// Route security of the embedded topology: mutual TLS between the
	// nodes (each node's certificate and key, and the CA that signs every
	// node's), and a user and password every node must present.
	ClusterTLSCert  string `json:"cluster-tls-cert"`
	ClusterTLSKey   string `json:"cluster-tls-key"`
	ClusterTLSCA    string `json:"cluster-tls-ca"`
	ClusterUser     string `json:"cluster-user"`
	ClusterPassword string `json:"cluster-password"`
	// Replicas per shard stream; 0: 3 in a cluster, 1 on a single NATS node.
	Replicas int `json:"replicas"`
	// LeaseTTL is how long a node's hold on background work (Firehose
	// delivery, event source mappings, analytics applications) lasts
	// without renewal: a dead node's work moves within about 4/3 of it.
	LeaseTTL time.Duration `json:"lease-ttl"`
}

func registerCluster(fs *flag.FlagSet, c *Cluster) {
	fs.StringVar(&c.NodeName, "node-name", c.NodeName, "cluster mode: this node's unique name")
	fs.StringVar(&c.ClusterAddr, "cluster", c.ClusterAddr, "cluster mode: this node's NATS route address HOST:PORT (embedded NATS)")
	fs.StringVar(&c.Peers, "peers", c.Peers, "cluster mode: the other nodes' route addresses HOST:PORT,...")
	fs.StringVar(&c.ClusterName, "cluster-name", c.ClusterName, "cluster mode: the embedded NATS cluster's name (default eddy); nodes join only peers of the same name")
	fs.StringVar(&c.NATSURL, "nats-url", c.NATSURL, "cluster mode: use an existing NATS cluster (nats://host:port,...)")
	fs.StringVar(&c.NATSCreds, "nats-creds", c.NATSCreds, "credentials file for --nats-url")
	fs.StringVar(&c.NATSTLSCA, "nats-tls-ca", c.NATSTLSCA, "CA file to verify --nats-url servers")
	fs.StringVar(&c.NATSTLSCert, "nats-tls-cert", c.NATSTLSCert, "client certificate for --nats-url (PEM)")
	fs.StringVar(&c.NATSTLSKey, "nats-tls-key", c.NATSTLSKey, "client key for --nats-url (PEM)")
	fs.StringVar(&c.NATSUser, "nats-user", c.NATSUser, "user name for --nats-url")
	fs.StringVar(&c.NATSPassword, "nats-password", c.NATSPassword, "password for --nats-url (prefer EDDY_NATS_PASSWORD)")
	fs.StringVar(&c.NATSToken, "nats-token", c.NATSToken, "token for --nats-url (prefer EDDY_NATS_TOKEN)")
	fs.StringVar(&c.ClusterTLSCert, "cluster-tls-cert", c.ClusterTLSCert, "cluster mode: this node's route certificate (PEM); turns on mutual TLS between nodes")
	fs.StringVar(&c.ClusterTLSKey, "cluster-tls-key", c.ClusterTLSKey, "cluster mode: the key of --cluster-tls-cert (PEM)")
	fs.StringVar(&c.ClusterTLSCA, "cluster-tls-ca", c.ClusterTLSCA, "cluster mode: CA (PEM) that signs every node's route certificate")
	fs.StringVar(&c.ClusterUser, "cluster-user", c.ClusterUser, "cluster mode: user every node presents on its routes")
	fs.StringVar(&c.ClusterPassword, "cluster-password", c.ClusterPassword, "cluster mode: password of --cluster-user (prefer EDDY_CLUSTER_PASSWORD)")
	fs.IntVar(&c.Replicas, "replicas", c.Replicas, "cluster mode: replicas per shard (1, 3 or 5; default 3, 1 for a single node)")
	fs.DurationVar(&c.LeaseTTL, "lease-ttl", c.LeaseTTL, "cluster mode: lease duration of background work; a dead node's work moves within 4/3 of it (default 10s)")
}

// Enabled reports whether the server runs on NATS (embedded cluster or external).
func (c Cluster) Enabled() bool { return c.ClusterAddr != "" || c.NATSURL != "" || c.NodeName != "" }

// PeerList splits Peers.
func (c Cluster) PeerList() []string {
	var out []string
	for _, p := range strings.Split(c.Peers, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// ReplicaCount is the effective replica count.
func (c Cluster) ReplicaCount() int {
	if c.Replicas > 0 {
		return c.Replicas
	}
	if c.NATSURL != "" || len(c.PeerList()) >= 2 {
		return 3
	}
	return 1
}

func hostPort(a string) error {
	h, p, err := net.SplitHostPort(a)
	if err != nil {
		return err
	}
	if h == "" {
		return errors.New("empty host")
	}
	n, err := strconv.Atoi(p)
	if err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("bad port %q", p)
	}
	return nil
}

// natsAuth reports whether any --nats-* connection option is set.
func (c Cluster) natsAuth() bool {
	return c.NATSCreds != "" || c.NATSTLSCA != "" || c.NATSTLSCert != "" || c.NATSTLSKey != "" ||
		c.NATSUser != "" || c.NATSPassword != "" || c.NATSToken != ""
}

// routeSecurity reports whether any --cluster-tls-* or --cluster-user/password is set.
func (c Cluster) routeSecurity() bool {
	return c.ClusterTLSCert != "" || c.ClusterTLSKey != "" || c.ClusterTLSCA != "" || c.ClusterUser != "" || c.ClusterPassword != ""
}

func (c Cluster) validate() []error {
	var errs []error
	if !c.Enabled() {
		if c.Peers != "" || c.Replicas != 0 || c.ClusterName != "" || c.natsAuth() || c.routeSecurity() {
			errs = append(errs, errors.New("peers, replicas, nats-* and cluster-* options need --cluster or --nats-url"))
		}
		return errs
	}
	if c.NodeName == "" {
		errs = append(errs, errors.New("node-name: cluster mode needs a unique node name"))
	} else if strings.ContainsAny(c.NodeName, " \t\r\n.*>") {
		errs = append(errs, fmt.Errorf("node-name: %q may not contain spaces, '.', '*' or '>'", c.NodeName))
	}
	if c.NATSURL != "" {
		if c.ClusterAddr != "" || c.Peers != "" || c.ClusterName != "" {
			errs = append(errs, errors.New("nats-url: use either an external NATS (--nats-url) or the embedded one (--cluster/--peers), not both"))
		}
		for _, u := range strings.Split(c.NATSURL, ",") {
			pu, err := url.Parse(strings.TrimSpace(u))
			if err != nil || pu.Host == "" || (pu.Scheme != "nats" && pu.Scheme != "tls" && pu.Scheme != "ws" && pu.Scheme != "wss") {
				errs = append(errs, fmt.Errorf("nats-url: %q is not nats://HOST:PORT (or tls://, ws://, wss://)", u))
			}
		}
	} else {
		if strings.ContainsAny(c.ClusterName, " \t\r\n.*>") {
			errs = append(errs, fmt.Errorf("cluster-name: %q may not contain spaces, '.', '*' or '>'", c.ClusterName))
		}
		if c.ClusterAddr == "" && c.Peers != "" {
			errs = append(errs, errors.New("peers: needs --cluster HOST:PORT for this node"))
		}
		if c.ClusterAddr != "" {
			if err := hostPort(c.ClusterAddr); err != nil {
				errs = append(errs, fmt.Errorf("cluster: %q is not HOST:PORT: %v", c.ClusterAddr, err))
			}
		}
		for _, p := range c.PeerList() {
			if err := hostPort(p); err != nil {
				errs = append(errs, fmt.Errorf("peers: %q is not HOST:PORT: %v", p, err))
			} else if p == c.ClusterAddr {
				errs = append(errs, fmt.Errorf("peers: %q is this node's own --cluster address", p))
			}
		}
		if c.natsAuth() {
			errs = append(errs, errors.New("nats-creds, nats-user, nats-password, nats-token and nats-tls-* apply to --nats-url only"))
		}
		if n := len(c.PeerList()) + 1; c.Replicas > n {
			errs = append(errs, fmt.Errorf("replicas: %d is more than the %d nodes named by --cluster and --peers", c.Replicas, n))
		}
	}
	if c.NATSURL != "" && c.routeSecurity() {
		errs = append(errs, errors.New("cluster-tls-* and cluster-user/password secure the embedded routes (--cluster); with --nats-url the NATS servers' own configuration does"))
	}
	if (c.NATSPassword != "") && c.NATSUser == "" {
		errs = append(errs, errors.New("nats-password needs nats-user"))
	}
	if c.NATSToken != "" && (c.NATSUser != "" || c.NATSCreds != "") {
		errs = append(errs, errors.New("nats-token: use a token, a user and password, or a credentials file, not several"))
	}
	if c.ClusterTLSCert != "" || c.ClusterTLSKey != "" || c.ClusterTLSCA != "" {
		if c.ClusterTLSCert == "" || c.ClusterTLSKey == "" || c.ClusterTLSCA == "" {
			errs = append(errs, errors.New("cluster-tls-cert, cluster-tls-key and cluster-tls-ca go together (mutual TLS: each node verifies the others by the CA)"))
		}
	}
	if (c.ClusterUser == "") != (c.ClusterPassword == "") {
		errs = append(errs, errors.New("cluster-user and cluster-password go together"))
	}
	if (c.NATSTLSCert == "") != (c.NATSTLSKey == "") {
		errs = append(errs, errors.New("nats-tls-cert and nats-tls-key go together"))
	}
	if c.LeaseTTL != 0 && (c.LeaseTTL < 300*time.Millisecond || c.LeaseTTL > 10*time.Minute) {
		errs = append(errs, fmt.Errorf("lease-ttl: %s is not between 300ms and 10m", c.LeaseTTL))
	}
	switch c.Replicas {
	case 0, 1, 3, 5:
	default:
		errs = append(errs, fmt.Errorf("replicas: %d is not 1, 3 or 5", c.Replicas))
	}
	return errs
}
