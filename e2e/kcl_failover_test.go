package e2e

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/eddy-streams/eddy/pkg/consumer"
	"github.com/eddy-streams/eddy/pkg/producer"
)

// TestKCLFailover: three kclworker processes (pkg/consumer, lease table in
// Eddy's DynamoDB) share an 8-shard stream while pkg/producer writes in
// order; a shard is split, one worker is killed with SIGKILL, two shards are
// merged. Every record is processed at least once, the first deliveries of
// each key are in put order (per-key order within each shard lineage), and
// no unfinished lease is without a live owner for longer than the failover
// time plus one shard-sync interval.
func TestKCLFailover(t *testing.T) {
	const (
		failover = 4 * time.Second
		taker    = 500 * time.Millisecond
		syncIvl  = 2 * time.Second
		stream   = "failover"
		app      = "failover-app"
		keys     = 40
	)
	srv := startServer(t, "", "--durability", "none")
	dir := t.TempDir()
	bin := filepath.Join(dir, "kclworker")
	if out, err := exec.Command("go", "build", "-o", bin, "./kclworker").CombinedOutput(); err != nil {
		t.Fatalf("build kclworker: %v\n%s", err, out)
	}
	c := ownBodyClient(srv.URL)
	createStream(t, c, stream, 8)
	ctx := context.Background()

	type proc struct {
		id  string
		out string
		cmd *exec.Cmd
		log *bytes.Buffer
	}
	var procs []*proc
	for i := range 3 {
		p := &proc{id: fmt.Sprint("worker-", i), out: filepath.Join(dir, fmt.Sprint("out-", i)), log: new(bytes.Buffer)}
		p.cmd = exec.Command(bin, "--endpoint", srv.URL, "--stream", stream, "--app", app, "--id", p.id, "--out", p.out,
			"--failover", failover.String(), "--taker", taker.String(), "--sync", syncIvl.String())
		p.cmd.Stdout, p.cmd.Stderr = p.log, p.log
		if err := p.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		procs = append(procs, p)
	}
	defer func() {
		for _, p := range procs {
			if p.cmd.ProcessState == nil {
				p.cmd.Process.Kill()
				p.cmd.Wait()
			}
		}
		if t.Failed() {
			for _, p := range procs {
				t.Logf("%s log (tail):\n%s", p.id, tail(p.log.String(), 3000))
			}
		}
	}()

	// watch the lease table
	store := consumer.NewDynamoStore(dynamodb.NewFromConfig(dynamoCfg(srv.URL)), app)
	type obs struct {
		at     time.Time
		leases []consumer.Lease
	}
	var obsMu sync.Mutex
	var observed []obs
	stopWatch := make(chan struct{})
	watchDone := make(chan struct{})
	go func() {
		defer close(watchDone)
		for {
			select {
			case <-stopWatch:
				return
			case <-time.After(100 * time.Millisecond):
			}
			ls, err := store.List(ctx)
			if err != nil {
				continue // table not created yet
			}
			obsMu.Lock()
			observed = append(observed, obs{time.Now(), ls})
			obsMu.Unlock()
		}
	}()

	// produce in order per key until told to stop
	p, err := producer.New(ctx, producer.Config{StreamName: stream, Client: c, RateLimit: -1, Ordered: true, MaxBufferedTime: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	stopProd := make(chan struct{})
	prodDone := make(chan int)
	go func() {
		i := 0
		for {
			select {
			case <-stopProd:
				prodDone <- i
				return
			default:
			}
			for range 50 {
				k := i % keys
				if err := p.Put(ctx, fmt.Sprint("key-", k), []byte(fmt.Sprintf("key-%d:%d", k, i))); err != nil {
					t.Error(err)
				}
				i++
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()

	time.Sleep(3 * time.Second)
	if _, err := c.SplitShard(ctx, &kinesis.SplitShardInput{StreamName: aws.String(stream), ShardToSplit: aws.String("shardId-000000000000"),
		NewStartingHashKey: aws.String("21267647932558653966460912964485513216")}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second)
	victim := procs[2]
	victim.cmd.Process.Signal(syscall.SIGKILL)
	victim.cmd.Wait()
	killedAt := time.Now()
	time.Sleep(2 * time.Second)
	waitFor(t, "stream ACTIVE", func() bool {
		out, err := c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(stream)})
		return err == nil && out.StreamDescriptionSummary.StreamStatus == "ACTIVE"
	})
	if _, err := c.MergeShards(ctx, &kinesis.MergeShardsInput{StreamName: aws.String(stream),
		ShardToMerge: aws.String("shardId-000000000003"), AdjacentShardToMerge: aws.String("shardId-000000000004")}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(4 * time.Second)
	close(stopProd)
	total := <-prodDone
	if err := p.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if cn := p.Counters(); cn.UserRecordsPut != int64(total) {
		t.Fatalf("producer put %d of %d (%+v)", cn.UserRecordsPut, total, cn)
	}

	// wait until every record was processed somewhere
	type line struct {
		at    int64
		file  int
		n     int // line index in its file
		shard string
		data  string
	}
	read := func() []line {
		var all []line
		for fi, pr := range procs {
			b, _ := os.ReadFile(pr.out)
			sc := bufio.NewScanner(bytes.NewReader(b))
			for n := 0; sc.Scan(); n++ {
				f := strings.Fields(sc.Text())
				if len(f) != 5 {
					continue // a line cut by SIGKILL
				}
				at, _ := strconv.ParseInt(f[0], 10, 64)
				all = append(all, line{at, fi, n, f[1], f[4]})
			}
		}
		return all
	}
	var lines []line
	deadline := time.Now().Add(90 * time.Second)
	for {
		lines = read()
		seen := map[string]bool{}
		for _, l := range lines {
			seen[l.data] = true
		}
		if len(seen) == total {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d records processed", len(seen), total)
		}
		time.Sleep(200 * time.Millisecond)
	}
	// stop watching before the graceful shutdown hands every lease over
	close(stopWatch)
	<-watchDone
	for _, pr := range procs[:2] {
		pr.cmd.Process.Signal(syscall.SIGTERM)
	}
	for _, pr := range procs[:2] {
		if err := pr.cmd.Wait(); err != nil {
			t.Errorf("%s: %v", pr.id, err)
		}
	}

	// per-key order of first deliveries
	sort.SliceStable(lines, func(i, j int) bool {
		if lines[i].at != lines[j].at {
			return lines[i].at < lines[j].at
		}
		if lines[i].file != lines[j].file {
			return lines[i].file < lines[j].file
		}
		return lines[i].n < lines[j].n
	})
	first := map[string]bool{}
	last := map[string]int{}
	dups := 0
	for _, l := range lines {
		if first[l.data] {
			dups++
			continue
		}
		first[l.data] = true
		k, n, _ := strings.Cut(l.data, ":")
		i, _ := strconv.Atoi(n)
		if prev, ok := last[k]; ok && i < prev {
			t.Fatalf("%s: record %d processed after %d (shard %s)", k, i, prev, l.shard)
		}
		last[k] = i
	}

	// ownership: no unfinished lease without a live owner for too long
	bound := failover + syncIvl
	var worst time.Duration
	var worstKey string
	failoverTime := time.Duration(0)
	since := map[string]time.Time{}
	for _, o := range observed {
		for _, l := range o.leases {
			dead := l.Owner == "" || (l.Owner == victim.id && o.at.After(killedAt))
			if l.Done() || !dead {
				if s, ok := since[l.Key]; ok {
					if d := o.at.Sub(s); d > worst {
						worst, worstKey = d, l.Key
					}
					if s.Equal(killedAt) && o.at.Sub(s) > failoverTime {
						failoverTime = o.at.Sub(s)
					}
					delete(since, l.Key)
				}
				continue
			}
			if _, ok := since[l.Key]; !ok {
				start := o.at
				if l.Owner == victim.id {
					start = killedAt
				}
				since[l.Key] = start
			}
		}
	}
	for k, s := range since {
		t.Errorf("lease %s without a live owner since %v", k, s)
	}
	if failoverTime == 0 {
		t.Error("the killed worker held no lease that was taken over")
	}
	t.Logf("%d records, %d duplicate deliveries; killed worker's leases taken over after %v; longest time without a live owner %v (%s), bound %v",
		total, dups, failoverTime.Round(10*time.Millisecond), worst.Round(10*time.Millisecond), worstKey, bound)
	if worst > bound {
		t.Errorf("lease %s had no live owner for %v > failover + sync interval %v", worstKey, worst, bound)
	}
	ls, err := store.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(ls) != 11 { // 8 + 2 split children + 1 merge child
		t.Errorf("%d leases, want 11", len(ls))
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
