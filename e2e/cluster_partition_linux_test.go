//go:build linux

package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// netLab is three network namespaces on two bridges: "api" (10.77.0.0/24,
// the test talks HTTP to the nodes there) and "route" (10.78.0.0/24, the
// NATS routes between nodes). Cutting a node's route link partitions it
// from the other two while its API stays reachable.
type netLab struct {
	tag  string
	cmds [][]string // teardown
}

func ipCmd(args ...string) error {
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return nil
}

func newNetLab(t *testing.T) *netLab {
	t.Helper()
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("partition test skipped: the ip tool (iproute2) is not installed")
	}
	l := &netLab{tag: fmt.Sprintf("%04x", rand.IntN(0xffff))}
	probe := "eddyprobe" + l.tag
	if err := ipCmd("netns", "add", probe); err != nil {
		t.Skipf("partition test skipped: cannot create network namespaces here (needs root and CAP_SYS_ADMIN): %v", err)
	}
	ipCmd("netns", "del", probe)
	t.Cleanup(l.teardown)
	must := func(args ...string) {
		t.Helper()
		if err := ipCmd(args...); err != nil {
			t.Fatal(err)
		}
	}
	for _, br := range []struct{ name, addr string }{{"ea" + l.tag, "10.77.0.1/24"}, {"er" + l.tag, "10.78.0.1/24"}} {
		must("link", "add", br.name, "type", "bridge")
		l.cmds = append(l.cmds, []string{"link", "del", br.name})
		must("addr", "add", br.addr, "dev", br.name)
		must("link", "set", br.name, "up")
	}
	for i := range 3 {
		ns := l.ns(i)
		must("netns", "add", ns)
		l.cmds = append(l.cmds, []string{"netns", "del", ns})
		must("-n", ns, "link", "set", "lo", "up")
		for _, net := range []struct{ kind, br, prefix string }{{"a", "ea" + l.tag, "10.77.0."}, {"r", "er" + l.tag, "10.78.0."}} {
			host, peer := fmt.Sprintf("e%s%s%dh", net.kind, l.tag, i), fmt.Sprintf("e%s%s%dn", net.kind, l.tag, i)
			must("link", "add", host, "type", "veth", "peer", "name", peer)
			must("link", "set", host, "master", net.br)
			must("link", "set", host, "up")
			must("link", "set", peer, "netns", ns)
			must("-n", ns, "addr", "add", fmt.Sprintf("%s%d/24", net.prefix, 11+i), "dev", peer)
			must("-n", ns, "link", "set", peer, "up")
		}
	}
	return l
}

func (l *netLab) ns(i int) string { return fmt.Sprintf("eddy%sn%d", l.tag, i) }

// cut and heal a node's route link.
func (l *netLab) route(i int, up bool) error {
	state := "down"
	if up {
		state = "up"
	}
	return ipCmd("link", "set", fmt.Sprintf("er%s%dh", l.tag, i), state)
}

func (l *netLab) teardown() {
	for i := len(l.cmds) - 1; i >= 0; i-- {
		ipCmd(l.cmds[i]...)
	}
}

// TestClusterPartition partitions one node from the other two (its NATS
// routes cut, its API still reachable): writes through the majority go on,
// writes through the isolated node are not acknowledged, and after the
// partition heals every acknowledged record reads back unchanged through
// every node, the isolated one included.
func TestClusterPartition(t *testing.T) {
	lab := newNetLab(t)
	nodes := make([]*clusterNode, 3)
	for i := range nodes {
		n := &clusterNode{name: fmt.Sprint("p", i), addr: fmt.Sprintf("10.77.0.%d:4567", 11+i), route: fmt.Sprintf("10.78.0.%d:6222", 11+i), dir: t.TempDir()}
		for j := range 3 {
			if j != i {
				n.peers = append(n.peers, fmt.Sprintf("10.78.0.%d:6222", 11+j))
			}
		}
		n.client = kinesisClient("http://"+n.addr, nil)
		nodes[i] = n
	}
	for i, n := range nodes {
		n.log = &syncBuf{}
		n.cmd = exec.Command("ip", "netns", "exec", lab.ns(i), eddyBin, "server", "--addr", n.addr, "--data-dir", n.dir,
			"--node-name", n.name, "--cluster", n.route, "--peers", strings.Join(n.peers, ","))
		n.cmd.Stdout, n.cmd.Stderr = n.log, n.log
		if err := n.cmd.Start(); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		for _, n := range nodes {
			n.cmd.Process.Signal(syscall.SIGTERM)
			done := make(chan struct{})
			go func() { n.cmd.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(20 * time.Second):
				n.cmd.Process.Kill()
			}
		}
	})
	for _, n := range nodes {
		n.waitHealthy(t, 90*time.Second)
	}
	ctx := context.Background()
	if _, err := nodes[0].client.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String("crash"), ShardCount: aws.Int32(4)}); err != nil {
		t.Fatal(err)
	}
	for _, n := range nodes {
		waitUntil(t, 10*time.Second, func() bool {
			out, err := n.client.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String("crash")})
			return err == nil && out.StreamDescriptionSummary.StreamStatus == types.StreamStatusActive
		}, "stream ACTIVE on "+n.name)
	}
	var mu sync.Mutex
	ackedBySeq := map[string]acked{}
	ackedVia := [3]int{}
	put := func(ni int, round int) {
		var entries []types.PutRecordsRequestEntry
		for i := range 20 {
			entries = append(entries, types.PutRecordsRequestEntry{PartitionKey: aws.String(fmt.Sprintf("k%d", rand.IntN(1000))),
				Data: []byte(fmt.Sprintf("r%d-n%d-i%d-%x", round, ni, i, rand.Uint64()))})
		}
		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		out, err := nodes[ni].client.PutRecords(cctx, &kinesis.PutRecordsInput{StreamName: aws.String("crash"), Records: entries})
		if err != nil {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		for i, r := range out.Records {
			if r.ErrorCode == nil {
				ackedBySeq[aws.ToString(r.SequenceNumber)] = acked{aws.ToString(r.ShardId), string(entries[i].Data)}
				ackedVia[ni]++
			}
		}
	}
	for round := range 10 {
		put(round%3, round)
	}
	victim := 2
	if err := lab.route(victim, false); err != nil {
		t.Fatal(err)
	}
	before := ackedVia
	// the isolated node's writes run concurrently with the majority's
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); put(victim, 100) }()
	for round := range 30 {
		put(round%2, 200+round)
	}
	wg.Wait()
	if got := ackedVia[0] + ackedVia[1] - before[0] - before[1]; got == 0 {
		t.Fatal("the majority acknowledged no write during the partition")
	}
	t.Logf("during the partition: %d records acknowledged by the majority, %d by the isolated node",
		ackedVia[0]+ackedVia[1]-before[0]-before[1], ackedVia[victim]-before[victim])
	if n := ackedVia[victim] - before[victim]; n != 0 {
		t.Errorf("the isolated node acknowledged %d records it could not replicate", n)
	}
	if err := lab.route(victim, true); err != nil {
		t.Fatal(err)
	}
	for _, n := range nodes {
		var missing string
		waitUntil(t, 60*time.Second, func() bool {
			missing = checkAcked(t, n.client, ackedBySeq)
			return missing == ""
		}, "every acknowledged record readable through "+n.name+" after the partition healed")
	}
	t.Logf("%d acknowledged records intact on all three nodes after the partition", len(ackedBySeq))
}
