package config

import (
	"strings"
	"testing"
)

func TestClusterSources(t *testing.T) {
	want := Cluster{NodeName: "n1", ClusterAddr: "127.0.0.1:6222", Peers: "127.0.0.1:6223,127.0.0.1:6224", Replicas: 3}
	flags := []string{"--node-name", "n1", "--cluster", "127.0.0.1:6222", "--peers", "127.0.0.1:6223,127.0.0.1:6224", "--replicas", "3"}
	env := map[string]string{"EDDY_NODE_NAME": "n1", "EDDY_CLUSTER": "127.0.0.1:6222", "EDDY_PEERS": "127.0.0.1:6223,127.0.0.1:6224", "EDDY_REPLICAS": "3"}
	file := writeFile(t, `{"node-name":"n1","cluster":"127.0.0.1:6222","peers":"127.0.0.1:6223,127.0.0.1:6224","replicas":3}`)
	for name, c := range map[string]func() (Config, error){
		"flags": func() (Config, error) { return Parse("eddy server", flags, envOf(nil)) },
		"env":   func() (Config, error) { return Parse("eddy server", nil, envOf(env)) },
		"file":  func() (Config, error) { return Parse("eddy server", []string{"--config", file}, envOf(nil)) },
	} {
		got, err := c()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got.Cluster != want {
			t.Errorf("%s: %+v, want %+v", name, got.Cluster, want)
		}
		if !got.Cluster.Enabled() || got.Cluster.ReplicaCount() != 3 || len(got.Cluster.PeerList()) != 2 {
			t.Errorf("%s: derived values wrong: %+v", name, got.Cluster)
		}
	}
	ext, err := Parse("eddy server", []string{"--node-name", "a", "--nats-url", "nats://10.0.0.1:4222,tls://10.0.0.2:4222", "--nats-creds", "x.creds"}, envOf(nil))
	if err != nil || ext.Cluster.ReplicaCount() != 3 {
		t.Fatalf("external: %+v, %v", ext.Cluster, err)
	}
	single, err := Parse("eddy server", []string{"--node-name", "solo", "--cluster", "127.0.0.1:6222"}, envOf(nil))
	if err != nil || single.Cluster.ReplicaCount() != 1 {
		t.Fatalf("one embedded node: %+v, %v (want R1)", single.Cluster, err)
	}
}

// TestClusterRouteSecuritySources: the route TLS and auth settings and the
// --nats-url credentials read from flags, EDDY_* and the config file alike.
func TestClusterRouteSecuritySources(t *testing.T) {
	want := Cluster{NodeName: "n1", ClusterAddr: "127.0.0.1:6222", Peers: "127.0.0.1:6223", ClusterName: "prod",
		ClusterTLSCert: "n1.crt", ClusterTLSKey: "n1.key", ClusterTLSCA: "ca.pem", ClusterUser: "eddy", ClusterPassword: "pw"}
	flags := []string{"--node-name", "n1", "--cluster", "127.0.0.1:6222", "--peers", "127.0.0.1:6223", "--cluster-name", "prod", "--cluster-tls-cert", "n1.crt",
		"--cluster-tls-key", "n1.key", "--cluster-tls-ca", "ca.pem", "--cluster-user", "eddy", "--cluster-password", "pw"}
	env := map[string]string{"EDDY_NODE_NAME": "n1", "EDDY_CLUSTER": "127.0.0.1:6222", "EDDY_PEERS": "127.0.0.1:6223", "EDDY_CLUSTER_NAME": "prod",
		"EDDY_CLUSTER_TLS_CERT": "n1.crt", "EDDY_CLUSTER_TLS_KEY": "n1.key", "EDDY_CLUSTER_TLS_CA": "ca.pem", "EDDY_CLUSTER_USER": "eddy", "EDDY_CLUSTER_PASSWORD": "pw"}
	file := writeFile(t, `{"node-name":"n1","cluster":"127.0.0.1:6222","peers":"127.0.0.1:6223","cluster-name":"prod","cluster-tls-cert":"n1.crt",
		"cluster-tls-key":"n1.key","cluster-tls-ca":"ca.pem","cluster-user":"eddy","cluster-password":"pw"}`)
	for name, c := range map[string]func() (Config, error){
		"flags": func() (Config, error) { return Parse("eddy server", flags, envOf(nil)) },
		"env":   func() (Config, error) { return Parse("eddy server", nil, envOf(env)) },
		"file":  func() (Config, error) { return Parse("eddy server", []string{"--config", file}, envOf(nil)) },
	} {
		got, err := c()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got.Cluster != want {
			t.Errorf("%s: %+v, want %+v", name, got.Cluster, want)
		}
	}
	ext, err := Parse("eddy server", nil, envOf(map[string]string{"EDDY_NODE_NAME": "a", "EDDY_NATS_URL": "nats://10.0.0.1:4222",
		"EDDY_NATS_USER": "u", "EDDY_NATS_PASSWORD": "p"}))
	if err != nil || ext.Cluster.NATSUser != "u" || ext.Cluster.NATSPassword != "p" {
		t.Fatalf("external with user and password: %+v, %v", ext.Cluster, err)
	}
}

func TestClusterErrors(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--cluster", "127.0.0.1:6222"}, "node-name"},
		{[]string{"--peers", "127.0.0.1:6223"}, "need --cluster or --nats-url"},
		{[]string{"--node-name", "a", "--peers", "127.0.0.1:6223"}, "peers: needs --cluster"},
		{[]string{"--node-name", "a", "--cluster", "nohost"}, "cluster: \"nohost\""},
		{[]string{"--node-name", "a", "--cluster", "127.0.0.1:0"}, "bad port"},
		{[]string{"--node-name", "a", "--cluster", "127.0.0.1:6222", "--peers", "127.0.0.1:6222"}, "own --cluster"},
		{[]string{"--node-name", "a", "--cluster", "127.0.0.1:6222", "--peers", "x"}, "peers: \"x\""},
		{[]string{"--node-name", "a.b", "--cluster", "127.0.0.1:6222"}, "may not contain"},
		{[]string{"--node-name", "a", "--nats-url", "http://x:1"}, "nats-url: \"http://x:1\""},
		{[]string{"--node-name", "a", "--nats-url", "nats://x:1", "--cluster", "127.0.0.1:6222"}, "not both"},
		{[]string{"--node-name", "a", "--cluster", "127.0.0.1:6222", "--nats-creds", "c"}, "apply to --nats-url only"},
		{[]string{"--node-name", "a", "--nats-url", "nats://x:1", "--nats-tls-cert", "c"}, "go together"},
		{[]string{"--node-name", "a", "--nats-url", "nats://x:1", "--replicas", "2"}, "not 1, 3 or 5"},
		{[]string{"--node-name", "a", "--cluster", "127.0.0.1:6222", "--replicas", "3"}, "more than the 1 nodes"},
		{[]string{"--node-name", "a", "--cluster", "127.0.0.1:6222", "--cluster-tls-cert", "c", "--cluster-tls-key", "k"}, "go together (mutual TLS"},
		{[]string{"--node-name", "a", "--cluster", "127.0.0.1:6222", "--cluster-user", "u"}, "cluster-user and cluster-password go together"},
		{[]string{"--node-name", "a", "--nats-url", "nats://x:1", "--cluster-user", "u", "--cluster-password", "p"}, "secure the embedded routes"},
		{[]string{"--cluster-tls-ca", "ca.pem"}, "need --cluster or --nats-url"},
		{[]string{"--node-name", "a", "--cluster", "127.0.0.1:6222", "--cluster-name", "a.b"}, "cluster-name: \"a.b\""},
		{[]string{"--node-name", "a", "--nats-url", "nats://x:1", "--cluster-name", "c"}, "not both"},
		{[]string{"--node-name", "a", "--cluster", "127.0.0.1:6222", "--nats-token", "t"}, "apply to --nats-url only"},
		{[]string{"--node-name", "a", "--nats-url", "nats://x:1", "--nats-password", "p"}, "nats-password needs nats-user"},
		{[]string{"--node-name", "a", "--nats-url", "nats://x:1", "--nats-token", "t", "--nats-user", "u"}, "not several"},
	}
	for _, c := range cases {
		_, err := Parse("eddy server", c.args, envOf(nil))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want an error containing %q", c.args, err, c.want)
		}
	}
}
