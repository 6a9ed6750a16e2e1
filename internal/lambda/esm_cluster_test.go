package lambda_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
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

// logBuf collects a node's log lines.
type logBuf struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuf) has(parts ...string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, line := range strings.Split(l.b.String(), "\n") {
		all := true
		for _, p := range parts {
			all = all && strings.Contains(line, p)
		}
		if all {
			return true
		}
	}
	return false
}

// TestMappingLeaseAcrossNodes: two Eddy nodes over an in-process 3-node
// NATS cluster both know one event source mapping; exactly one runs it
// (the function's endpoint never sees two batches at once); when that node
// shuts down, the other takes the lease, resumes from the replicated
// checkpoint and delivers the rest: every record reaches the function.
func TestMappingLeaseAcrossNodes(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a 3-node NATS cluster")
	}
	stores, _ := natstest.StartCluster(t, 3)

	var (
		mu               sync.Mutex
		got              = map[string]int{}
		inFlight, maxFly atomic.Int32
	)
	fn := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for m := maxFly.Load(); n > m && !maxFly.CompareAndSwap(m, n); m = maxFly.Load() {
		}
		var ev struct {
			Records []struct {
				Kinesis struct{ Data string } `json:"kinesis"`
			}
		}
		body, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(body, &ev); err != nil {
			w.WriteHeader(400)
			return
		}
		time.Sleep(5 * time.Millisecond) // a batch takes a moment: overlapping runners would show
		mu.Lock()
		for _, rec := range ev.Records {
			b, _ := base64.StdEncoding.DecodeString(rec.Kinesis.Data)
			got[string(b)]++
		}
		mu.Unlock()
		w.Write([]byte(`{}`))
	}))
	defer fn.Close()

	logs := []*logBuf{{}, {}}
	node := func(i int) *app.Server {
		return eddytest.Start(t, eddytest.WithBackend(stores[i]),
			eddytest.WithConfig(func(c *config.Config) {
				c.Cluster.NodeName = fmt.Sprint("n", i)
				c.Cluster.LeaseTTL = 1500 * time.Millisecond
			}),
			func(_ *config.Config, o *app.Options) { o.Logger = slog.New(slog.NewTextHandler(logs[i], nil)) })
	}
	a := node(0)
	ctx := context.Background()
	kc := eddytest.Kinesis(a)
	if _, err := kc.CreateStream(ctx, &kinesissdk.CreateStreamInput{StreamName: aws.String("src"), ShardCount: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	eddytest.WaitActive(t, kc, "src")
	lc := lambdasdk.NewFromConfig(eddytest.AWSConfig(a.URL(), "", ""))
	if _, err := lc.CreateFunction(ctx, &lambdasdk.CreateFunctionInput{FunctionName: aws.String("f"), Runtime: ltypes.RuntimeProvidedal2023,
		Role: aws.String("arn:aws:iam::000000000000:role/test"), Code: &ltypes.FunctionCode{S3Bucket: aws.String("eddy-local"), S3Key: aws.String(t.TempDir())},
		Tags: map[string]string{"eddy:endpoint": fn.URL, "eddy:remote-function": "f"}}); err != nil {
		t.Fatal(err)
	}
	m, err := lc.CreateEventSourceMapping(ctx, &lambdasdk.CreateEventSourceMappingInput{FunctionName: aws.String("f"),
		EventSourceArn: aws.String(streamARN("src")), StartingPosition: ltypes.EventSourcePositionTrimHorizon, BatchSize: aws.Int32(10)})
	if err != nil {
		t.Fatal(err)
	}
	// the second node starts after the mapping exists: it loads it from the
	// replicated metadata (the Lambda control plane is loaded at start)
	b := node(1)
	lease := "lease=lambda-esm." + aws.ToString(m.UUID)
	waitFor(t, "a node to take the mapping's lease", 20*time.Second, func() bool {
		return logs[0].has("lease acquired", lease) || logs[1].has("lease acquired", lease)
	})
	put := func(srv *app.Server, from, to int) {
		c := eddytest.Kinesis(srv)
		for i := from; i < to; i++ {
			if _, err := c.PutRecord(ctx, &kinesissdk.PutRecordInput{StreamName: aws.String("src"), PartitionKey: aws.String("k"),
				Data: []byte(fmt.Sprintf("r%04d", i))}); err != nil {
				t.Fatal(err)
			}
		}
	}
	count := func() int { mu.Lock(); defer mu.Unlock(); return len(got) }
	put(b, 0, 100)
	waitFor(t, "the first 100 records at the function", 30*time.Second, func() bool { return count() >= 100 })
	holder, other, otherLog := a, b, logs[1]
	if logs[1].has("lease acquired", lease) {
		holder, other, otherLog = b, a, logs[0]
	}
	if logs[0].has("lease acquired", lease) == logs[1].has("lease acquired", lease) {
		t.Fatal("both nodes or neither started the mapping")
	}
	holder.Close() // a clean shutdown releases the lease at once
	put(other, 100, 200)
	waitFor(t, "the other node to take the mapping over", 20*time.Second, func() bool { return otherLog.has("lease acquired", lease) })
	waitFor(t, "all 200 records at the function", 30*time.Second, func() bool { return count() >= 200 })
	if m := maxFly.Load(); m != 1 {
		t.Fatalf("the function saw %d batches at once, want 1 (one running node)", m)
	}
	mu.Lock()
	defer mu.Unlock()
	dups := 0
	for i := range 200 {
		c := got[fmt.Sprintf("r%04d", i)]
		if c == 0 {
			t.Fatalf("record r%04d never reached the function", i)
		}
		dups += c - 1
	}
	if dups != 0 {
		// a clean shutdown writes the last checkpoint before releasing the
		// lease: the new holder resumes exactly there
		t.Fatalf("%d records delivered twice across a clean handover, want 0", dups)
	}
}
