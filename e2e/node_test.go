package e2e

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// TestNodeSubscribeToShard runs the Node SDK v3's SubscribeToShard (HTTP/2
// with prior knowledge over http://, the only protocol that SDK speaks to
// Kinesis) against the built binary: records put after the subscription
// started must be pushed in order. Needs node and e2e/node/node_modules
// (scripts/setup.d/40-node.sh).
func TestNodeSubscribeToShard(t *testing.T) {
	if _, err := exec.LookPath("node"); err != nil {
		t.Fatal("node not installed: run scripts/setup.d/40-node.sh")
	}
	if _, err := os.Stat("node/node_modules/@aws-sdk/client-kinesis"); err != nil {
		t.Fatal("e2e/node/node_modules missing: run scripts/setup.d/40-node.sh")
	}
	srv := startServer(t, "", "--durability", "none")
	ctx := context.Background()
	c := kinesisClient(srv.URL, nil)
	name := "node-efo"
	if _, err := c.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(name), ShardCount: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "stream ACTIVE", func() bool {
		out, err := c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(name)})
		return err == nil && out.StreamDescriptionSummary.StreamStatus == types.StreamStatusActive
	})
	reg, err := c.RegisterStreamConsumer(ctx, &kinesis.RegisterStreamConsumerInput{
		StreamARN: aws.String("arn:aws:kinesis:us-east-1:000000000000:stream/" + name), ConsumerName: aws.String("node"),
	})
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(reg.Consumer.ConsumerARN)
	waitFor(t, "consumer ACTIVE", func() bool {
		out, err := c.DescribeStreamConsumer(ctx, &kinesis.DescribeStreamConsumerInput{ConsumerARN: aws.String(arn)})
		return err == nil && out.ConsumerDescription.ConsumerStatus == types.ConsumerStatusActive
	})

	const n = 50
	cmd := exec.Command("node", "node/subscribe.mjs", srv.URL, arn, "shardId-000000000000", fmt.Sprint(n))
	cmd.Env = append(os.Environ(), "NODE_DEBUG=http2")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	readLine := func() string {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("node exited early; stderr:\n%s", stderr.String())
			}
			return l
		case <-time.After(30 * time.Second):
			t.Fatalf("no output from node; stderr:\n%s", stderr.String())
		}
		return ""
	}
	if l := readLine(); l != "READY" {
		t.Fatalf("node: %s\nstderr:\n%s", l, stderr.String())
	}
	var want []string
	for batch := 0; batch < 5; batch++ {
		var entries []types.PutRecordsRequestEntry
		for i := 0; i < n/5; i++ {
			d := fmt.Sprintf("node-%02d", batch*n/5+i)
			want = append(want, d)
			entries = append(entries, types.PutRecordsRequestEntry{Data: []byte(d), PartitionKey: aws.String(d)})
		}
		if _, err := c.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String(name), Records: entries}); err != nil {
			t.Fatal(err)
		}
	}
	for i, w := range want {
		if l := readLine(); l != "RECORD "+w {
			t.Fatalf("line %d: %q, want %q", i, l, "RECORD "+w)
		}
	}
	if l := readLine(); l != "END ok" {
		t.Fatalf("node: %s", l)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("node: %v\n%s", err, stderr.String())
	}
	// NODE_DEBUG=http2 logs the client's HTTP/2 sessions on stderr
	if !strings.Contains(stderr.String(), "HTTP2") {
		t.Fatalf("node did not speak HTTP/2; stderr:\n%s", stderr.String())
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
