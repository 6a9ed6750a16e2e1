package e2e

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// TestClusterLambdaFailover: on a 3-node cluster (separate processes), a
// zip function is created with the AWS CLI through node 0 and its Kinesis
// mapping through node 1; node 2 lists both. Records put through the
// cluster reach the function, run by the one node holding the mapping's
// lease from its own copy of the replicated zip. That node is killed with
// kill -9; another takes the lease, resumes from the fenced checkpoint and
// every acknowledged record reaches the function (at least once).
func TestClusterLambdaFailover(t *testing.T) {
	if testing.Short() {
		t.Skip("3-node cluster with a kill -9 and a lease expiry")
	}
	t.Setenv("EDDY_LEASE_TTL", "3s")
	zpath := buildFunction(t)
	out := filepath.Join(t.TempDir(), "delivered")
	nodes := startCluster3(t)
	ep := func(i int) string { return "--endpoint-url=http://" + nodes[i].addr }
	run(t, "", "aws", ep(0), "lambda", "create-function", "--function-name", "consumer", "--runtime", "provided.al2023",
		"--handler", "bootstrap", "--role", "arn:aws:iam::000000000000:role/lambda", "--zip-file", "fileb://"+zpath,
		"--environment", "Variables={OUT="+out+"}")
	run(t, "", "aws", ep(0), "kinesis", "create-stream", "--stream-name", "events", "--shard-count", "2")
	waitStreamActive(t, "http://"+nodes[0].addr, "events")
	var esm string
	waitUntil(t, 10*time.Second, func() bool {
		return strings.Contains(run(t, "", "aws", ep(1), "lambda", "list-functions"), `"FunctionName": "consumer"`)
	}, "node 1 to list the function")
	esm = run(t, "", "aws", ep(1), "lambda", "create-event-source-mapping", "--function-name", "consumer",
		"--event-source-arn", "arn:aws:kinesis:us-east-1:000000000000:stream/events", "--starting-position", "TRIM_HORIZON",
		"--batch-size", "100")
	if !strings.Contains(esm, `"UUID"`) {
		t.Fatalf("create-event-source-mapping: %s", esm)
	}
	waitUntil(t, 10*time.Second, func() bool {
		return strings.Contains(run(t, "", "aws", ep(2), "lambda", "list-event-source-mappings"), `"BatchSize": 100`)
	}, "node 2 to list the mapping")
	holder := func() int {
		for i, n := range nodes {
			if strings.Contains(n.log.String(), "lease=lambda-esm.") {
				for _, line := range strings.Split(n.log.String(), "\n") {
					if strings.Contains(line, `msg="lease acquired: starting"`) && strings.Contains(line, " lease=lambda-esm.") && !n.dead.Load() {
						return i
					}
				}
			}
		}
		return -1
	}
	ctx := context.Background()
	put := func(c *kinesis.Client, from, to int) {
		for i := from; i < to; i += 100 {
			var entries []types.PutRecordsRequestEntry
			for j := i; j < min(i+100, to); j++ {
				entries = append(entries, types.PutRecordsRequestEntry{PartitionKey: aws.String(fmt.Sprintf("k%d", j)), Data: []byte(fmt.Sprintf("r%d", j))})
			}
			o, err := c.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String("events"), Records: entries})
			if err != nil || aws.ToInt32(o.FailedRecordCount) != 0 {
				t.Fatalf("put: %v", err)
			}
		}
	}
	put(nodes[2].client, 0, 500)
	waitUntil(t, 30*time.Second, func() bool { return distinct(readDelivered(out)) >= 500 }, "the first 500 records at the function")
	h := holder()
	if h < 0 {
		t.Fatal("no node logged taking the mapping's lease")
	}
	nodes[h].kill9()
	survivor := (h + 1) % 3
	put(nodes[survivor].client, 500, 1000)
	waitUntil(t, 60*time.Second, func() bool { return distinct(readDelivered(out)) >= 1000 }, "all 1000 records at the function after the kill")
	recs := readDelivered(out)
	seen := map[string]bool{}
	for _, r := range recs {
		seen[r.data] = true
	}
	for i := range 1000 {
		if !seen[fmt.Sprint("r", i)] {
			t.Fatalf("record r%d never reached the function", i)
		}
	}
	t.Logf("node %s held the mapping; %d deliveries for 1000 records", nodes[h].name, len(recs))
}
