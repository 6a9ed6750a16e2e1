package lambda_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	kinesissdk "github.com/aws/aws-sdk-go-v2/service/kinesis"
	lambdasdk "github.com/aws/aws-sdk-go-v2/service/lambda"
	ltypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/eddy-streams/eddy/internal/app"
	"github.com/eddy-streams/eddy/internal/config"
	"github.com/eddy-streams/eddy/internal/eddytest"
	"github.com/eddy-streams/eddy/internal/storage/natsstore/natstest"
)

// TestClusterSharedLambda: two Eddy nodes over an in-process 3-node NATS
// cluster, both running from the start. A zip function and a mapping
// created through node A are listed and described by node B within the
// watch's latency, and B runs the function from the replicated zip.
// Changes through both nodes at once never overwrite each other: each
// call succeeds or answers 409 ResourceConflictException, and both nodes
// end with the same configuration. Then the mapping's holder loses its
// NATS server (it dies as far as the cluster knows): the other node takes
// the lease, resumes from the fenced checkpoint and invokes the function
// itself; every record reaches it at least once.
func TestClusterSharedLambda(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a 3-node NATS cluster")
	}
	stores, servers := natstest.StartCluster(t, 3)
	logs := []*logBuf{{}, {}}
	node := func(i int) *app.Server {
		return eddytest.Start(t, eddytest.WithBackend(stores[i]),
			eddytest.WithConfig(func(c *config.Config) {
				c.Cluster.NodeName = fmt.Sprint("n", i)
				c.Cluster.LeaseTTL = 1500 * time.Millisecond
			}),
			func(_ *config.Config, o *app.Options) { o.Logger = slog.New(slog.NewTextHandler(logs[i], nil)) })
	}
	nodes := []*app.Server{node(0), node(1)}
	lcs := []*lambdasdk.Client{
		lambdasdk.NewFromConfig(eddytest.AWSConfig(nodes[0].URL(), "", "")),
		lambdasdk.NewFromConfig(eddytest.AWSConfig(nodes[1].URL(), "", "")),
	}
	ctx := context.Background()
	kc := eddytest.Kinesis(nodes[0])
	if _, err := kc.CreateStream(ctx, &kinesissdk.CreateStreamInput{StreamName: aws.String("src"), ShardCount: aws.Int32(2)}); err != nil {
		t.Fatal(err)
	}
	eddytest.WaitActive(t, kc, "src")

	out := filepath.Join(t.TempDir(), "out")
	if _, err := lcs[0].CreateFunction(ctx, &lambdasdk.CreateFunctionInput{
		FunctionName: aws.String("cf"), Runtime: ltypes.RuntimeProvidedal2023, Handler: aws.String("bootstrap"),
		Role: aws.String("arn:aws:iam::000000000000:role/test"), Code: &ltypes.FunctionCode{ZipFile: handlerZip(t)},
		Timeout: aws.Int32(10), Environment: &ltypes.Environment{Variables: map[string]string{"OUT": out}},
	}); err != nil {
		t.Fatal(err)
	}
	// B knows the function and runs it from the replicated zip
	waitFor(t, "node B to list the function", 10*time.Second, func() bool {
		l, err := lcs[1].ListFunctions(ctx, &lambdasdk.ListFunctionsInput{})
		return err == nil && len(l.Functions) == 1 && aws.ToString(l.Functions[0].FunctionName) == "cf"
	})
	inv, err := lcs[1].Invoke(ctx, &lambdasdk.InvokeInput{FunctionName: aws.String("cf"), Payload: []byte(`{"op":"echo","x":7}`)})
	if err != nil {
		t.Fatal(err)
	}
	if inv.FunctionError != nil || !strings.Contains(string(inv.Payload), `"x":7`) {
		t.Fatalf("invoke through B: error %v, payload %s", aws.ToString(inv.FunctionError), inv.Payload)
	}

	// changes through both nodes at once: none is silently lost
	var wg sync.WaitGroup
	var mu sync.Mutex
	won := map[string]bool{}
	conflicts := 0
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 8 {
				d := fmt.Sprintf("n%d-%d", i, j)
				_, err := lcs[i].UpdateFunctionConfiguration(ctx, &lambdasdk.UpdateFunctionConfigurationInput{FunctionName: aws.String("cf"), Description: aws.String(d)})
				var rc *ltypes.ResourceConflictException
				mu.Lock()
				switch {
				case err == nil:
					won[d] = true
				case errors.As(err, &rc):
					conflicts++
				default:
					t.Errorf("update through node %d: %v", i, err)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	desc := func(i int) string {
		g, err := lcs[i].GetFunctionConfiguration(ctx, &lambdasdk.GetFunctionConfigurationInput{FunctionName: aws.String("cf")})
		if err != nil {
			return "error: " + err.Error()
		}
		return aws.ToString(g.Description)
	}
	waitFor(t, "both nodes to agree on the function's configuration", 10*time.Second, func() bool {
		a := desc(0)
		return a == desc(1) && won[a]
	})
	t.Logf("concurrent updates: %d succeeded, %d answered ResourceConflictException", len(won), conflicts)

	// a function and a mapping created through B and deleted through A
	// disappear from B
	if _, err := lcs[1].CreateFunction(ctx, &lambdasdk.CreateFunctionInput{FunctionName: aws.String("tmp"), Runtime: ltypes.RuntimeProvidedal2023,
		Role: aws.String("arn:aws:iam::000000000000:role/test"), Code: &ltypes.FunctionCode{S3Bucket: aws.String("eddy-local"), S3Key: aws.String(t.TempDir())}}); err != nil {
		t.Fatal(err)
	}
	tm, err := lcs[1].CreateEventSourceMapping(ctx, &lambdasdk.CreateEventSourceMappingInput{FunctionName: aws.String("tmp"),
		EventSourceArn: aws.String(streamARN("src")), StartingPosition: ltypes.EventSourcePositionLatest, Enabled: aws.Bool(false)})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "node A to know B's mapping", 10*time.Second, func() bool {
		_, err := lcs[0].GetEventSourceMapping(ctx, &lambdasdk.GetEventSourceMappingInput{UUID: tm.UUID})
		return err == nil
	})
	if _, err := lcs[0].DeleteEventSourceMapping(ctx, &lambdasdk.DeleteEventSourceMappingInput{UUID: tm.UUID}); err != nil {
		t.Fatal(err)
	}
	if _, err := lcs[0].DeleteFunction(ctx, &lambdasdk.DeleteFunctionInput{FunctionName: aws.String("tmp")}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "node B to forget the deleted function and mapping", 10*time.Second, func() bool {
		var nf1, nf2 *ltypes.ResourceNotFoundException
		_, e1 := lcs[1].GetFunction(ctx, &lambdasdk.GetFunctionInput{FunctionName: aws.String("tmp")})
		_, e2 := lcs[1].GetEventSourceMapping(ctx, &lambdasdk.GetEventSourceMappingInput{UUID: tm.UUID})
		return errors.As(e1, &nf1) && errors.As(e2, &nf2)
	})

	m, err := lcs[0].CreateEventSourceMapping(ctx, &lambdasdk.CreateEventSourceMappingInput{FunctionName: aws.String("cf"),
		EventSourceArn: aws.String(streamARN("src")), StartingPosition: ltypes.EventSourcePositionTrimHorizon, BatchSize: aws.Int32(10)})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "node B to describe the mapping", 10*time.Second, func() bool {
		g, err := lcs[1].GetEventSourceMapping(ctx, &lambdasdk.GetEventSourceMappingInput{UUID: m.UUID})
		return err == nil && aws.ToInt32(g.BatchSize) == 10
	})
	lease := "lease=lambda-esm." + aws.ToString(m.UUID)
	waitFor(t, "a node to take the mapping's lease", 20*time.Second, func() bool {
		return logs[0].has("lease acquired", lease) || logs[1].has("lease acquired", lease)
	})
	h := 0
	if logs[1].has("lease acquired", lease) {
		h = 1
	}
	o := 1 - h
	put := func(srv *app.Server, from, to int) {
		c := eddytest.Kinesis(srv)
		for i := from; i < to; i++ {
			if _, err := c.PutRecord(ctx, &kinesissdk.PutRecordInput{StreamName: aws.String("src"), PartitionKey: aws.String(fmt.Sprint("k", i)),
				Data: []byte(fmt.Sprintf("r%04d", i))}); err != nil {
				t.Fatal(err)
			}
		}
	}
	got := func() map[string]int {
		seen := map[string]int{}
		for _, l := range readLines(out) {
			if f := strings.Fields(l); len(f) == 4 && strings.HasPrefix(f[3], "r") {
				seen[f[3]]++
			}
		}
		return seen
	}
	put(nodes[o], 0, 60)
	waitFor(t, "the first 60 records at the function", 30*time.Second, func() bool { return len(got()) >= 60 })

	// the holder dies as far as the cluster knows: its NATS server goes
	servers[h].Shutdown()
	put(nodes[o], 60, 120)
	waitFor(t, "the other node to take the mapping over", 20*time.Second, func() bool { return logs[o].has("lease acquired", lease) })
	waitFor(t, "all 120 records at the function", 30*time.Second, func() bool { return len(got()) >= 120 })
	seen := got()
	dups := 0
	for i := range 120 {
		c := seen[fmt.Sprintf("r%04d", i)]
		if c == 0 {
			t.Fatalf("record r%04d never reached the function", i)
		}
		dups += c - 1
	}
	t.Logf("records delivered twice across the failover: %d", dups)
	// B still answers for the function and the mapping
	if _, err := lcs[o].GetEventSourceMapping(ctx, &lambdasdk.GetEventSourceMappingInput{UUID: m.UUID}); err != nil {
		t.Fatal(err)
	}
}
