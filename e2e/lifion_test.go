package e2e

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/eddy-streams/eddy/pkg/producer"
)

// TestLifionKinesisConsumerGroup: two lifion-kinesis consumers (npm) in one
// consumer group, coordinated through their state table in Eddy's
// DynamoDB, read a 4-shard stream on the built binary that pkg/producer
// filled with KPL-aggregated records; together they deliver every record.
func TestLifionKinesisConsumerGroup(t *testing.T) {
	if _, err := exec.LookPath("node"); err != nil {
		t.Fatal("node not installed: run scripts/setup.d/40-node.sh")
	}
	if _, err := os.Stat("kplnode/node_modules/lifion-kinesis"); err != nil {
		t.Fatal("e2e/kplnode/node_modules missing: run scripts/setup.d/45-kplnode.sh")
	}
	srv := startServer(t, "", "--durability", "none")
	c := ownBodyClient(srv.URL)
	createStream(t, c, "lifion", 4)
	var mu sync.Mutex
	seen := map[string]bool{}
	perConsumer := make([]int, 2)
	var logs []*bytes.Buffer
	for ci := range 2 {
		cmd := exec.Command("node", "kplnode/lifion.js", srv.URL, "lifion", "group-a")
		stderr := new(bytes.Buffer)
		cmd.Stderr = stderr
		logs = append(logs, stderr)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		go func() {
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				mu.Lock()
				seen[sc.Text()] = true
				perConsumer[ci]++
				mu.Unlock()
			}
		}()
	}
	// produce once both consumers registered in the group's state table
	// (which of them leases which shard is lifion-kinesis's timing)
	db := dynamodb.NewFromConfig(dynamoCfg(srv.URL))
	waitFor(t, "two lifion consumers registered", func() bool {
		out, err := db.Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String("group-a-state")})
		if err != nil {
			return false
		}
		consumers := map[string]bool{}
		for _, it := range out.Items {
			collectConsumers(ddb.AttributeValue(&ddb.AttributeValueMemberM{Value: it}), consumers)
		}
		return len(consumers) >= 2
	})
	ctx := context.Background()
	p, err := producer.New(ctx, producer.Config{StreamName: "lifion", Client: c, RateLimit: -1})
	if err != nil {
		t.Fatal(err)
	}
	const n = 3000
	for i := range n {
		if err := p.Put(ctx, fmt.Sprint("key-", i%37), []byte(fmt.Sprint("rec-", i))); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Close(ctx); err != nil {
		t.Fatal(err)
	}

	deadline := time.Now().Add(90 * time.Second)
	for {
		mu.Lock()
		got := len(seen)
		mu.Unlock()
		if got >= n {
			break
		}
		if time.Now().After(deadline) {
			for i, l := range logs {
				t.Logf("consumer %d stderr:\n%s", i, tail(l.String(), 300000))
			}
			t.Fatalf("lifion-kinesis delivered %d of %d records", got, n)
		}
		time.Sleep(100 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	for i := range n {
		if !seen[fmt.Sprint("rec-", i)] {
			t.Fatalf("rec-%d missing", i)
		}
	}
	for d := range seen {
		if !strings.HasPrefix(d, "rec-") {
			t.Errorf("unexpected record %q", d)
		}
	}
	t.Logf("records per consumer: %v", perConsumer)
}

// collectConsumers gathers the keys of every map attribute named
// "consumers" (lifion-kinesis's registry of a group's live consumers).
func collectConsumers(v ddb.AttributeValue, into map[string]bool) {
	m, ok := v.(*ddb.AttributeValueMemberM)
	if !ok {
		return
	}
	for k, e := range m.Value {
		if c, ok := e.(*ddb.AttributeValueMemberM); ok && k == "consumers" {
			for id := range c.Value {
				into[id] = true
			}
		}
		collectConsumers(e, into)
	}
}
