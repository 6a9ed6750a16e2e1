package app_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"math/rand/v2"
	"net"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/nats-io/nats-server/v2/server"

	"github.com/eddy-streams/eddy/internal/app"
	"github.com/eddy-streams/eddy/internal/config"
	"github.com/eddy-streams/eddy/internal/eddytest"
	"github.com/eddy-streams/eddy/internal/storage/natsstore"
)

// startEmbeddedCluster starts three in-process Eddy nodes whose embedded
// nats-servers route to each other (R3), all on the clock now.
func startEmbeddedCluster(t *testing.T, now func() time.Time, opts ...func(i int, c *config.Cluster)) []*app.Server {
	t.Helper()
	var routes []string
	for range 3 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		routes = append(routes, l.Addr().String())
		l.Close()
	}
	nodes := make([]*app.Server, 3)
	errs := make(chan error, 3)
	// a name of its own: nodes of other tests on this machine that happen
	// to get one of these route ports never join
	clusterName := fmt.Sprintf("t%x", rand.Uint64())
	for i := range 3 {
		cfg := config.Default()
		cfg.Addr = "127.0.0.1:0"
		cfg.DataDir = t.TempDir()
		cfg.Cluster = config.Cluster{NodeName: fmt.Sprint("n", i), ClusterAddr: routes[i], ClusterName: clusterName}
		for j, r := range routes {
			if j != i {
				cfg.Cluster.Peers += r + ","
			}
		}
		cfg.Cluster.Peers = strings.TrimSuffix(cfg.Cluster.Peers, ",")
		for _, f := range opts {
			f(i, &cfg.Cluster)
		}
		l, err := net.Listen("tcp", cfg.Addr)
		if err != nil {
			t.Fatal(err)
		}
		go func() { // each waits for a quorum of the others
			srv, err := app.Start(cfg, app.Options{Now: now, Listener: l, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
			nodes[i] = srv
			errs <- err
		}()
	}
	for range 3 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		for _, n := range nodes {
			if n != nil {
				n.Close()
			}
		}
	})
	return nodes
}

// eventually polls cond (another node's view arrives through the metadata
// watch, asynchronously) and fails after 20 s.
func eventually(t *testing.T, what string, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %v", what, err)
		}
		time.Sleep(20 * time.Millisecond) // polling another node's view; the condition is re-checked
	}
}

// TestClusterReshardAndRetention: a split through one node and a merge
// through another are seen by ListShards and iterators on every node, each
// partition key's records keep their order through parent, child and merged
// shard, and a retention decrease through a third node trims every replica
// (each node's own copy of the shard streams) and drops the expired closed
// shards everywhere.
func TestClusterReshardAndRetention(t *testing.T) {
	if testing.Short() {
		t.Skip("3-node cluster runs without -short")
	}
	var offset atomic.Int64
	base := time.Now()
	now := func() time.Time { return base.Add(time.Duration(offset.Load())) }
	nodes := startEmbeddedCluster(t, now)
	c := []*kinesis.Client{eddytest.Kinesis(nodes[0]), eddytest.Kinesis(nodes[1]), eddytest.Kinesis(nodes[2])}
	ctx := context.Background()
	name := aws.String("rs")
	if _, err := c[0].CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: name, ShardCount: aws.Int32(2)}); err != nil {
		t.Fatal(err)
	}
	active := func(i int) {
		t.Helper()
		eventually(t, fmt.Sprintf("stream ACTIVE on n%d", i), func() error {
			out, err := c[i].DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: name})
			if err != nil {
				return err
			}
			if s := out.StreamDescriptionSummary.StreamStatus; s != types.StreamStatusActive {
				return fmt.Errorf("status %s", s)
			}
			return nil
		})
	}
	for i := range 3 {
		active(i)
	}
	if _, err := c[1].IncreaseStreamRetentionPeriod(ctx, &kinesis.IncreaseStreamRetentionPeriodInput{StreamName: name, RetentionPeriodHours: aws.Int32(48)}); err != nil {
		t.Fatal(err)
	}

	// Two keys in shard 0's hash range, one in each half of the split.
	half := new(big.Int).Lsh(big.NewInt(1), 126)
	keys := map[string]string{"a": "1", "b": new(big.Int).Add(half, big.NewInt(1)).String()}
	seqs := map[string][]string{}
	put := func(node, round int) {
		t.Helper()
		for _, k := range []string{"a", "b"} {
			for i := range 3 {
				n := round*3 + i
				out, err := c[node].PutRecord(ctx, &kinesis.PutRecordInput{StreamName: name, PartitionKey: aws.String(k),
					ExplicitHashKey: aws.String(keys[k]), Data: []byte(fmt.Sprintf("%s-%d", k, n))})
				if err != nil {
					t.Fatalf("put %s-%d through n%d: %v", k, n, node, err)
				}
				seqs[k] = append(seqs[k], aws.ToString(out.SequenceNumber))
			}
		}
	}
	put(1, 0) // into shard 0

	// Split shard 0 through n0 at 2^126.
	if _, err := c[0].SplitShard(ctx, &kinesis.SplitShardInput{StreamName: name, ShardToSplit: aws.String("shardId-000000000000"),
		NewStartingHashKey: aws.String(half.String())}); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		active(i)
	}
	eventually(t, "n2 lists the split's children", func() error {
		out, err := c[2].ListShards(ctx, &kinesis.ListShardsInput{StreamName: name})
		if err != nil {
			return err
		}
		if len(out.Shards) != 4 {
			return fmt.Errorf("%d shards", len(out.Shards))
		}
		for _, s := range out.Shards[2:] {
			if aws.ToString(s.ParentShardId) != "shardId-000000000000" {
				return fmt.Errorf("%s has parent %q", aws.ToString(s.ShardId), aws.ToString(s.ParentShardId))
			}
		}
		if out.Shards[0].SequenceNumberRange.EndingSequenceNumber == nil {
			return fmt.Errorf("shard 0 not closed on n2")
		}
		return nil
	})
	put(2, 1) // into shards 2 (a) and 3 (b), through n2

	// Merge the two children through n1.
	if _, err := c[1].MergeShards(ctx, &kinesis.MergeShardsInput{StreamName: name, ShardToMerge: aws.String("shardId-000000000002"),
		AdjacentShardToMerge: aws.String("shardId-000000000003")}); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		active(i)
	}
	eventually(t, "n0 lists the merged shard", func() error {
		out, err := c[0].ListShards(ctx, &kinesis.ListShardsInput{StreamName: name})
		if err != nil {
			return err
		}
		if len(out.Shards) != 5 {
			return fmt.Errorf("%d shards", len(out.Shards))
		}
		m := out.Shards[4]
		if aws.ToString(m.ParentShardId) != "shardId-000000000002" || aws.ToString(m.AdjacentParentShardId) != "shardId-000000000003" {
			return fmt.Errorf("merged shard parents %q, %q", aws.ToString(m.ParentShardId), aws.ToString(m.AdjacentParentShardId))
		}
		return nil
	})
	put(0, 2) // into shard 4, through n0

	// Read each shard with an iterator from one node and records from
	// another, and follow each key down its lineage.
	readShard := func(itNode, getNode int, shard string) ([]types.Record, []types.ChildShard) {
		t.Helper()
		it, err := c[itNode].GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: name, ShardId: aws.String(shard),
			ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
		if err != nil {
			t.Fatalf("iterator for %s through n%d: %v", shard, itNode, err)
		}
		var recs []types.Record
		iter := it.ShardIterator
		for range 100 {
			out, err := c[getNode].GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: iter})
			if err != nil {
				t.Fatalf("GetRecords %s through n%d: %v", shard, getNode, err)
			}
			recs = append(recs, out.Records...)
			if out.NextShardIterator == nil {
				return recs, out.ChildShards
			}
			if len(out.Records) == 0 && aws.ToInt64(out.MillisBehindLatest) == 0 {
				return recs, out.ChildShards
			}
			iter = out.NextShardIterator
		}
		t.Fatalf("%s: no end after 100 GetRecords", shard)
		return nil, nil
	}
	got := map[string][]string{}
	gotSeq := map[string][]string{}
	lineage := map[string][]string{"a": {"shardId-000000000000", "shardId-000000000002", "shardId-000000000004"},
		"b": {"shardId-000000000000", "shardId-000000000003", "shardId-000000000004"}}
	for k, shards := range lineage {
		for i, sh := range shards {
			recs, children := readShard(i%3, (i+1)%3, sh)
			if sh == "shardId-000000000000" {
				var ids []string
				for _, ch := range children {
					ids = append(ids, aws.ToString(ch.ShardId))
				}
				sort.Strings(ids)
				if strings.Join(ids, ",") != "shardId-000000000002,shardId-000000000003" {
					t.Errorf("end of shard 0 read through n%d: child shards %v, want 2 and 3", (i+1)%3, ids)
				}
			}
			for _, r := range recs {
				if aws.ToString(r.PartitionKey) == k {
					got[k] = append(got[k], string(r.Data))
					gotSeq[k] = append(gotSeq[k], aws.ToString(r.SequenceNumber))
				}
			}
		}
	}
	for _, k := range []string{"a", "b"} {
		var want []string
		for n := range 9 {
			want = append(want, fmt.Sprintf("%s-%d", k, n))
		}
		if strings.Join(got[k], " ") != strings.Join(want, " ") {
			t.Errorf("key %s through its lineage: %v, want %v", k, got[k], want)
		}
		if strings.Join(gotSeq[k], " ") != strings.Join(seqs[k], " ") {
			t.Errorf("key %s sequence numbers: %v, want the acknowledged %v", k, gotSeq[k], seqs[k])
		}
	}

	// Retention: 30 h later, with 48 h retention, one node's pass trims
	// nothing; a decrease to 24 h through n2 trims at once, on every replica.
	offset.Store(int64(30 * time.Hour))
	nodes[1].Kinesis.EnforceRetention()
	if recs, _ := readShard(0, 2, "shardId-000000000004"); len(recs) != 6 {
		t.Fatalf("after a pass within 48 h retention shard 4 has %d records, want 6", len(recs))
	}
	eventually(t, "n2 sees the 48 h retention", func() error {
		out, err := c[2].DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: name})
		if err != nil {
			return err
		}
		if h := aws.ToInt32(out.StreamDescriptionSummary.RetentionPeriodHours); h != 48 {
			return fmt.Errorf("retention %d h", h)
		}
		return nil
	})
	if _, err := c[2].DecreaseStreamRetentionPeriod(ctx, &kinesis.DecreaseStreamRetentionPeriodInput{StreamName: name, RetentionPeriodHours: aws.Int32(24)}); err != nil {
		t.Fatal(err)
	}
	for i, n := range nodes {
		srv := n.Backend.(*natsstore.Store).Server()
		eventually(t, fmt.Sprintf("n%d's own replicas trimmed", i), func() error {
			ad, err := srv.JszAccount(&server.JSzOptions{Account: "$G", Streams: true})
			if err != nil {
				return err
			}
			var shards []string
			for _, sd := range ad.Streams {
				if !strings.HasPrefix(sd.Name, "KIN_") {
					continue
				}
				shards = append(shards, sd.Name)
				if sd.State.Msgs != 0 {
					return fmt.Errorf("%s holds %d records (first %d, last %d)", sd.Name, sd.State.Msgs, sd.State.FirstSeq, sd.State.LastSeq)
				}
			}
			if len(shards) != 5 {
				return fmt.Errorf("shard streams %v, want 5", shards)
			}
			return nil
		})
	}
	// Through the other nodes too: shard 4 reads empty from the trim horizon.
	if recs, _ := readShard(1, 0, "shardId-000000000004"); len(recs) != 0 {
		t.Errorf("shard 4 after the decrease: %d records through n0", len(recs))
	}
	// The next pass (on n0) drops the closed, expired shards everywhere.
	nodes[0].Kinesis.EnforceRetention()
	eventually(t, "n1 lists only the open shards", func() error {
		out, err := c[1].ListShards(ctx, &kinesis.ListShardsInput{StreamName: name})
		if err != nil {
			return err
		}
		var ids []string
		for _, s := range out.Shards {
			ids = append(ids, aws.ToString(s.ShardId))
		}
		if strings.Join(ids, ",") != "shardId-000000000001,shardId-000000000004" {
			return fmt.Errorf("shards %v", ids)
		}
		return nil
	})
	for i, n := range nodes {
		srv := n.Backend.(*natsstore.Store).Server()
		eventually(t, fmt.Sprintf("n%d deleted the closed shards' streams", i), func() error {
			ad, err := srv.JszAccount(&server.JSzOptions{Account: "$G", Streams: true})
			if err != nil {
				return err
			}
			var names []string
			for _, sd := range ad.Streams {
				if strings.HasPrefix(sd.Name, "KIN_") {
					names = append(names, sd.Name)
				}
			}
			if len(names) != 2 {
				return fmt.Errorf("shard streams %v, want 2", names)
			}
			return nil
		})
	}
}
