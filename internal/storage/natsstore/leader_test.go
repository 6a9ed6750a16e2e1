package natsstore

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/eddy-streams/eddy/internal/storage"
)

// TestLeaderElectedWakesAppenders: a shard's leader change (here a
// step-down asked through the JetStream API) closes the channel an append
// waits on, so a publish the old leader will not answer is retried on the
// new one at once.
func TestLeaderElectedWakesAppenders(t *testing.T) {
	if testing.Short() {
		t.Skip("needs a 3-node cluster")
	}
	var addrs []string
	for range 3 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addrs = append(addrs, l.Addr().String())
		l.Close()
	}
	servers := make([]*server.Server, 3)
	errs := make(chan error, 3)
	clusterName := fmt.Sprintf("t%x", rand.Uint64()) // apart from other tests' nodes
	for i := range 3 {
		go func() {
			var peers []string
			for j, a := range addrs {
				if j != i {
					peers = append(peers, a)
				}
			}
			s, err := StartServer(ServerConfig{Name: fmt.Sprint("l", i), StoreDir: t.TempDir(), Cluster: addrs[i], Peers: peers, ClusterName: clusterName})
			servers[i] = s
			errs <- err
		}()
	}
	for range 3 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	stores := make([]*Store, 3)
	for i, srv := range servers {
		nc, err := ConnectInProcess(srv, fmt.Sprint("c", i))
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		st, err := Open(ctx, nc, Options{Replicas: 3, Server: srv, OwnConn: true})
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		stores[i] = st
		t.Cleanup(func() { st.Close() })
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	id := storage.ShardID{Stream: "lead", Index: 0}
	if err := stores[0].CreateShard(ctx, id, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := stores[0].Append(ctx, id, []storage.Record{{PartitionKey: "k", Data: []byte("a")}}); err != nil {
		t.Fatal(err)
	}
	name := streamName(id)
	woken := make([]<-chan struct{}, 3)
	for i, st := range stores {
		woken[i] = st.leaders.next(name)
	}
	resp, err := stores[1].nc.RequestWithContext(ctx, "$JS.API.STREAM.LEADER.STEPDOWN."+name, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("step-down: %s", resp.Data)
	for i, ch := range woken {
		select {
		case <-ch:
		case <-ctx.Done():
			t.Fatalf("node %d: no leader-elected wake-up for %s", i, name)
		}
	}
	// and the shard takes writes through every node after the change
	for i, st := range stores {
		if _, err := st.Append(ctx, id, []storage.Record{{PartitionKey: "k", Data: []byte(fmt.Sprint(i))}}); err != nil {
			t.Fatalf("append through node %d after the leader change: %v", i, err)
		}
	}
}

// TestUnansweredPublishStoredOnce: a retry after an unanswered publish finds
// the batch already stored after the sequence it expected (same bytes, same
// arrival time) and answers with it instead of appending it twice; records
// of another writer there are appended after.
func TestUnansweredPublishStoredOnce(t *testing.T) {
	st, err := OpenEmbedded(t.TempDir(), "once")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	id := storage.ShardID{Stream: "once", Index: 0}
	if err := st.CreateShard(ctx, id, 1); err != nil {
		t.Fatal(err)
	}
	recs := []storage.Record{{PartitionKey: "k", Data: []byte("a")}, {PartitionKey: "k", Data: []byte("b")}}
	first, err := st.Append(ctx, id, recs)
	if err != nil {
		t.Fatal(err)
	}
	encoded := func() [][]byte {
		var p [][]byte
		for _, r := range recs {
			p = append(p, encode(r))
		}
		return p
	}
	// as if that publish had gone unanswered: a fresh view of the shard
	// and a pending attempt after sequence 0 at the same arrival time
	pend := pending{ok: true, expected: 0, ms: first.ArrivalMs}
	res, _, err := st.appendAttempt(ctx, id, &shardState{}, recs, encoded(), &pend)
	if err != nil {
		t.Fatal(err)
	}
	if res.FirstPos != 0 || res.ArrivalMs != first.ArrivalMs {
		t.Errorf("retry answered %+v, want the stored batch at 0 (%d)", res, first.ArrivalMs)
	}
	if b, err := st.Bounds(ctx, id); err != nil || b.Next != 2 {
		t.Fatalf("after the retry: %+v, %v; want 2 records (stored once)", b, err)
	}
	// a different batch pending at the same place is not ours: appended after
	other := []storage.Record{{PartitionKey: "k", Data: []byte("c")}, {PartitionKey: "k", Data: []byte("d")}}
	pend = pending{ok: true, expected: 0, ms: first.ArrivalMs}
	recs = other
	res, _, err = st.appendAttempt(ctx, id, &shardState{}, other, encoded(), &pend)
	if err != nil {
		t.Fatal(err)
	}
	if res.FirstPos != 2 {
		t.Errorf("another batch pending at 0 was answered at %d, want appended at 2", res.FirstPos)
	}
	if b, err := st.Bounds(ctx, id); err != nil || b.Next != 4 {
		t.Fatalf("after appending the other batch: %+v, %v; want 4 records", b, err)
	}
}
