package natsstore_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/eddy-streams/eddy/internal/storage"
	"github.com/eddy-streams/eddy/internal/storage/natsstore"
	"github.com/eddy-streams/eddy/internal/storage/storagetest"
)

func openSingle(t *testing.T, dir string) storage.Backend {
	t.Helper()
	st, err := natsstore.OpenEmbedded(dir, "t1")
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestConformanceSingleNode(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storage.Backend { return openSingle(t, t.TempDir()) })
}

func TestReopenSingleNode(t *testing.T) {
	storagetest.RunReopen(t, openSingle)
}

// uniqueClusterName keeps a test's nodes apart from other tests' nodes on
// this machine that might get one of the same route ports.
func uniqueClusterName() string { return fmt.Sprintf("t%x", rand.Uint64()) }

func freePorts(t *testing.T, n int) []string {
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

// startCluster starts three embedded servers routed together on loopback
// and returns one R3 Store per node.
func startCluster(t *testing.T) ([]*natsstore.Store, []*server.Server) {
	t.Helper()
	addrs := freePorts(t, 3)
	name := uniqueClusterName()
	servers := make([]*server.Server, 3)
	errs := make(chan error, 3)
	for i := range 3 {
		go func() {
			var peers []string
			for j, a := range addrs {
				if j != i {
					peers = append(peers, a)
				}
			}
			s, err := natsstore.StartServer(natsstore.ServerConfig{Name: fmt.Sprint("n", i), StoreDir: t.TempDir(), Cluster: addrs[i], Peers: peers, ClusterName: name})
			servers[i] = s
			errs <- err
		}()
	}
	for range 3 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	stores := make([]*natsstore.Store, 3)
	for i, s := range servers {
		nc, err := natsstore.ConnectInProcess(s, fmt.Sprint("c", i))
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		st, err := natsstore.Open(ctx, nc, natsstore.Options{Replicas: 3, Server: s, OwnConn: true})
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		stores[i] = st
	}
	return stores, servers
}

// TestConformanceCluster runs the suite against node 0 of a 3-node R3
// cluster; every shard is a 3-replica Raft group.
func TestConformanceCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("3-node cluster conformance runs without -short")
	}
	stores, servers := startCluster(t)
	for _, st := range stores {
		t.Cleanup(func() { st.Close() })
	}
	n := 0
	storagetest.Run(t, func(t *testing.T) storage.Backend {
		// Each case gets its own connection (so the Close case closes only
		// it) and its own prefix for shard ids and metadata namespaces.
		n++
		nc, err := natsstore.ConnectInProcess(servers[n%3], fmt.Sprint("case", n))
		if err != nil {
			t.Fatal(err)
		}
		st, err := natsstore.Open(context.Background(), nc, natsstore.Options{Replicas: 3, OwnConn: true})
		if err != nil {
			t.Fatal(err)
		}
		return &prefixed{Store: st, prefix: fmt.Sprint("case", n, "-")}
	})
}

// prefixed gives one conformance case its own namespace on a shared cluster.
type prefixed struct {
	*natsstore.Store
	prefix string
}

func (p *prefixed) id(id storage.ShardID) storage.ShardID {
	return storage.ShardID{Stream: p.prefix + id.Stream, Index: id.Index}
}
func (p *prefixed) CreateShard(ctx context.Context, id storage.ShardID, ms int64) error {
	return p.Store.CreateShard(ctx, p.id(id), ms)
}
func (p *prefixed) Append(ctx context.Context, id storage.ShardID, r []storage.Record) (storage.AppendResult, error) {
	return p.Store.Append(ctx, p.id(id), r)
}
func (p *prefixed) Read(ctx context.Context, id storage.ShardID, from uint64, lim storage.ReadLimits, fn func(storage.StoredRecord) bool) (uint64, error) {
	return p.Store.Read(ctx, p.id(id), from, lim, fn)
}
func (p *prefixed) PosAtTime(ctx context.Context, id storage.ShardID, ms int64) (uint64, error) {
	return p.Store.PosAtTime(ctx, p.id(id), ms)
}
func (p *prefixed) Bounds(ctx context.Context, id storage.ShardID) (storage.Bounds, error) {
	return p.Store.Bounds(ctx, p.id(id))
}
func (p *prefixed) Watch(id storage.ShardID, next uint64) <-chan struct{} {
	return p.Store.Watch(p.id(id), next)
}
func (p *prefixed) SealShard(ctx context.Context, id storage.ShardID) error {
	return p.Store.SealShard(ctx, p.id(id))
}
func (p *prefixed) Trim(ctx context.Context, id storage.ShardID, ms int64) error {
	return p.Store.Trim(ctx, p.id(id), ms)
}
func (p *prefixed) DeleteShard(ctx context.Context, id storage.ShardID) error {
	return p.Store.DeleteShard(ctx, p.id(id))
}
func (p *prefixed) SaveMeta(ns string, b []byte) error { return p.Store.SaveMeta(p.prefix+ns, b) }
func (p *prefixed) LoadMeta(ns string) ([]byte, error) { return p.Store.LoadMeta(p.prefix + ns) }

// TestQuorumLossRefusesWrites: a node whose two peers are gone cannot
// replicate, so its appends fail with ErrUnavailable instead of being
// acknowledged, and its metadata writes fail too.
func TestQuorumLossRefusesWrites(t *testing.T) {
	if testing.Short() {
		t.Skip("3-node cluster test runs without -short")
	}
	stores, servers := startCluster(t)
	ctx := context.Background()
	id := storage.ShardID{Stream: "q", Index: 0}
	if err := stores[0].CreateShard(ctx, id, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := stores[0].Append(ctx, id, []storage.Record{{PartitionKey: "k", Data: []byte("before")}}); err != nil {
		t.Fatal(err)
	}
	defer stores[0].Close()
	// a second Store on node 0 with short timeouts, opened while the
	// cluster is whole
	nc, err := natsstore.ConnectInProcess(servers[0], "q")
	if err != nil {
		t.Fatal(err)
	}
	octx, cancel := context.WithTimeout(ctx, 30*time.Second)
	st, err := natsstore.Open(octx, nc, natsstore.Options{Replicas: 3, OwnConn: true, AppendTimeout: 3 * time.Second, Timeout: 2 * time.Second})
	cancel()
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, i := range []int{1, 2} {
		stores[i].Close() // shuts its server down too
	}
	_, err = st.Append(ctx, id, []storage.Record{{PartitionKey: "k", Data: []byte("after")}})
	if !errors.Is(err, storage.ErrUnavailable) {
		t.Fatalf("append without quorum: %v, want ErrUnavailable", err)
	}
	if err := st.SaveMeta("kinesis", []byte("x")); !errors.Is(err, storage.ErrUnavailable) {
		t.Fatalf("SaveMeta without quorum: %v, want ErrUnavailable", err)
	}
}
