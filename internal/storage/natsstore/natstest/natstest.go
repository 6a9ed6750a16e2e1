// Package natstest starts in-process NATS JetStream clusters for tests:
// embedded nats-servers routed together on loopback, one natsstore.Store
// per node.
package natstest

import (
	"context"
	"fmt"
	"net"
	"os"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/eddy-streams/eddy/internal/storage/natsstore"
)

func freePorts(t testing.TB, n int) []string {
	t.Helper()
	var out []string
	var ls []net.Listener
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ls = append(ls, l)
		out = append(out, l.Addr().String())
	}
	for _, l := range ls {
		l.Close()
	}
	return out
}

// StartCluster starts n (3 or 5) embedded servers and returns an R3 store
// per node (each store owns its connection, not its server). Cleanup closes
// the stores and shuts the servers down.
func StartCluster(t testing.TB, n int) ([]*natsstore.Store, []*server.Server) {
	t.Helper()
	addrs := freePorts(t, n)
	// A name of its own: a cluster of another test (this process or a
	// parallel one) that happens to be given a freed port nearby must not
	// route into this one, and nats-server refuses routes across names.
	cluster := fmt.Sprintf("test-%d-%d", os.Getpid(), time.Now().UnixNano())
	servers := make([]*server.Server, n)
	errs := make(chan error, n)
	for i := range n {
		dir := t.TempDir()
		go func() {
			var peers []string
			for j, a := range addrs {
				if j != i {
					peers = append(peers, a)
				}
			}
			s, err := natsstore.StartServer(natsstore.ServerConfig{Name: fmt.Sprint("n", i), ClusterName: cluster, StoreDir: dir, Cluster: addrs[i], Peers: peers})
			servers[i] = s
			errs <- err
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	stores := make([]*natsstore.Store, n)
	t.Cleanup(func() {
		for i := range n {
			if stores[i] != nil {
				stores[i].Close()
			}
			if servers[i] != nil {
				servers[i].Shutdown()
			}
		}
	})
	for i, s := range servers {
		nc, err := natsstore.ConnectInProcess(s, fmt.Sprint("c", i))
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		st, err := natsstore.Open(ctx, nc, natsstore.Options{Replicas: 3, OwnConn: true, Timeout: 2 * time.Second})
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		stores[i] = st
	}
	return stores, servers
}
