package e2e

import (
	"context"
	"fmt"
	"math/big"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// BenchmarkClusterFailover measures, per shard, how long writes stop when a
// node of a 3-node embedded cluster is killed with kill -9: writers keep
// PutRecord calls in flight on every shard through the surviving nodes, and
// for each shard the outage is the time from the kill to the first
// acknowledgement after it. Shards whose Raft leader lived elsewhere never
// stop (outage in milliseconds); the ones that lost their leader wait for
// nats-server's election (docs/cluster.md, "Failure model"). It kills each
// node in turn (restarting the previous victim and letting it catch up
// first) FAILOVER_KILLS times (default 6) and reports the distribution over
// the shards that stalled.
//
//	cd e2e && go test -run '^$' -bench ClusterFailover -benchtime 1x -v .
func BenchmarkClusterFailover(b *testing.B) {
	kills := 6
	if v, err := strconv.Atoi(os.Getenv("FAILOVER_KILLS")); err == nil && v > 0 {
		kills = v
	}
	const shards = 8
	nodes := startCluster3(b)
	ctx := context.Background()
	if _, err := nodes[0].client.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String("fo"), ShardCount: aws.Int32(shards)}); err != nil {
		b.Fatal(err)
	}
	for _, n := range nodes {
		waitUntil(b, 20*time.Second, func() bool {
			out, err := n.client.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String("fo")})
			return err == nil && out.StreamDescriptionSummary.StreamStatus == types.StreamStatusActive
		}, "stream ACTIVE on "+n.name)
	}
	// an explicit hash key inside each shard's range
	step := new(big.Int).Div(new(big.Int).Lsh(big.NewInt(1), 128), big.NewInt(shards))
	keys := make([]string, shards)
	for i := range keys {
		k := new(big.Int).Mul(step, big.NewInt(int64(i)))
		keys[i] = k.Add(k, big.NewInt(1)).String()
	}

	var mu sync.Mutex
	acks := make([][]time.Time, shards) // completion times of acknowledged puts
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for sh := range shards {
		for w := range 3 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for n := 0; ; n++ {
					select {
					case <-stop:
						return
					default:
					}
					node := nodes[(w+n)%3]
					if node.dead.Load() {
						continue
					}
					cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
					_, err := node.client.PutRecord(cctx, &kinesis.PutRecordInput{StreamName: aws.String("fo"), PartitionKey: aws.String("k"),
						ExplicitHashKey: aws.String(keys[sh]), Data: []byte(fmt.Sprintf("s%d-w%d-%d", sh, w, n))})
					cancel()
					if err != nil {
						time.Sleep(10 * time.Millisecond) // a refused connection to the dead node answers at once
						continue
					}
					mu.Lock()
					acks[sh] = append(acks[sh], time.Now())
					mu.Unlock()
				}
			}()
		}
	}
	firstAckAfter := func(sh int, t0 time.Time) time.Duration {
		mu.Lock()
		defer mu.Unlock()
		for _, a := range acks[sh] {
			if a.After(t0) {
				return a.Sub(t0)
			}
		}
		return -1
	}

	var stalled, quick []time.Duration
	b.ResetTimer()
	for k := range kills {
		victim := nodes[k%3]
		time.Sleep(2 * time.Second) // steady load before the kill
		killed := time.Now()
		victim.kill9()
		outages := make([]time.Duration, shards)
		waitUntil(b, 40*time.Second, func() bool {
			for sh := range outages {
				if outages[sh] <= 0 {
					outages[sh] = firstAckAfter(sh, killed)
				}
				if outages[sh] <= 0 {
					return false
				}
			}
			return true
		}, "every shard to take writes again")
		for _, d := range outages {
			if d > time.Second {
				stalled = append(stalled, d)
			} else {
				quick = append(quick, d)
			}
		}
		b.Logf("kill %d of %s: per-shard outage %v", k+1, victim.name, outages)
		victim.start(b)
		victim.waitHealthy(b, 60*time.Second)
		time.Sleep(5 * time.Second) // the restarted replica catches up before the next kill
	}
	b.StopTimer()
	close(stop)
	wg.Wait()
	slices.Sort(stalled)
	b.Logf("%d kills, %d shards x kill: %d lost their leader, %d kept writing", kills, kills*shards, len(stalled), len(quick))
	if len(stalled) == 0 {
		b.Fatal("no shard lost its leader: nothing measured")
	}
	q := func(p float64) time.Duration { return stalled[min(len(stalled)-1, int(p*float64(len(stalled))))] }
	within5 := 0
	for _, d := range stalled {
		if d <= 5*time.Second {
			within5++
		}
	}
	b.Logf("outage of shards that lost their leader: min %v p50 %v p90 %v max %v; within 5 s: %d of %d; all: %v",
		stalled[0], q(0.5), q(0.9), stalled[len(stalled)-1], within5, len(stalled), stalled)
	b.ReportMetric(q(0.5).Seconds(), "p50-s")
	b.ReportMetric(stalled[len(stalled)-1].Seconds(), "max-s")
	b.ReportMetric(float64(within5)/float64(len(stalled)), "within5s")
}
