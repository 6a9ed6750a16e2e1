package lambda_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	ktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	lambdasdk "github.com/aws/aws-sdk-go-v2/service/lambda"
	ltypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/eddy-streams/eddy/internal/config"
	"github.com/eddy-streams/eddy/internal/eddytest"
)

func streamARN(name string) string { return "arn:aws:kinesis:us-east-1:000000000000:stream/" + name }

func createStream(t *testing.T, kc *kinesis.Client, name string, shards int32) {
	t.Helper()
	if _, err := kc.CreateStream(context.Background(), &kinesis.CreateStreamInput{StreamName: aws.String(name), ShardCount: aws.Int32(shards)}); err != nil {
		t.Fatal(err)
	}
	eddytest.WaitActive(t, kc, name)
}

func putN(t *testing.T, kc *kinesis.Client, stream string, from, n int, keys int) {
	t.Helper()
	for i := from; i < from+n; i += 500 {
		var entries []ktypes.PutRecordsRequestEntry
		for j := i; j < min(i+500, from+n); j++ {
			entries = append(entries, ktypes.PutRecordsRequestEntry{PartitionKey: aws.String(fmt.Sprintf("k%d", j%keys)), Data: []byte(fmt.Sprintf("r%d", j))})
		}
		out, err := kc.PutRecords(context.Background(), &kinesis.PutRecordsInput{StreamName: aws.String(stream), Records: entries})
		if err != nil || aws.ToInt32(out.FailedRecordCount) != 0 {
			t.Fatalf("put: %v %v", err, out)
		}
	}
}

// delivered parses the function's OUT file: record lines "shard seq pk data".
func delivered(path string) (recs [][4]string, invokes []string) {
	for _, l := range readLines(path) {
		if strings.HasPrefix(l, "INVOKE") {
			invokes = append(invokes, l)
			continue
		}
		f := strings.Fields(l)
		if len(f) == 4 {
			recs = append(recs, [4]string{f[0], f[1], f[2], f[3]})
		}
	}
	return
}

func seqLess(a, b string) bool {
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return a < b
}

// Every record reaches the function once, in sequence order per shard and
// per partition key across a split (parent before children).
func TestMappingOrderAcrossSplit(t *testing.T) {
	if testing.Short() {
		t.Skip("long: runs in the full suite")
	}
	e := start(t)
	kc := eddytest.Kinesis(e.srv)
	ctx := context.Background()
	createStream(t, kc, "s1", 2)
	out := filepath.Join(t.TempDir(), "out")
	e.create(t, "consumer", map[string]string{"OUT": out}, 10)
	putN(t, kc, "s1", 0, 3000, 50)
	m, err := e.lc.CreateEventSourceMapping(ctx, &lambdasdk.CreateEventSourceMappingInput{FunctionName: aws.String("consumer"),
		EventSourceArn: aws.String(streamARN("s1")), StartingPosition: ltypes.EventSourcePositionTrimHorizon, BatchSize: aws.Int32(100)})
	if err != nil {
		t.Fatal(err)
	}
	if *m.State != "Creating" || *m.BatchSize != 100 || *m.MaximumRetryAttempts != -1 || *m.ParallelizationFactor != 1 {
		t.Fatalf("create mapping: %+v", m)
	}
	ds, err := kc.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String("s1")})
	if err != nil {
		t.Fatal(err)
	}
	sh := ds.Shards[0]
	if _, err := kc.SplitShard(ctx, &kinesis.SplitShardInput{StreamName: aws.String("s1"), ShardToSplit: sh.ShardId,
		NewStartingHashKey: aws.String("85070591730234615865843651857942052864")}); err != nil {
		t.Fatal(err)
	}
	eddytest.WaitActive(t, kc, "s1")
	putN(t, kc, "s1", 3000, 3000, 50)
	waitFor(t, "6000 records", 30*time.Second, func() bool { r, _ := delivered(out); return len(r) >= 6000 })
	recs, invokes := delivered(out)
	if len(recs) != 6000 {
		t.Fatalf("%d records delivered, want 6000 exactly once", len(recs))
	}
	seen := map[string]bool{}
	lastByShard := map[string]string{}
	lastByKey := map[string]int{}
	for _, r := range recs {
		if seen[r[3]] {
			t.Fatalf("%s delivered twice", r[3])
		}
		seen[r[3]] = true
		if p := lastByShard[r[0]]; p != "" && !seqLess(p, r[1]) {
			t.Fatalf("shard %s out of order: %s after %s", r[0], r[1], p)
		}
		lastByShard[r[0]] = r[1]
		var n int
		fmt.Sscanf(r[3], "r%d", &n)
		if p, ok := lastByKey[r[2]]; ok && n < p {
			t.Fatalf("key %s out of order: r%d after r%d", r[2], n, p)
		}
		lastByKey[r[2]] = n
	}
	if len(lastByShard) != 4 {
		t.Fatalf("records from %d shards, want 4 (2 + 2 children)", len(lastByShard))
	}
	for _, l := range invokes {
		var n int
		fmt.Sscanf(l, "INVOKE %d", &n)
		if n > 100 {
			t.Fatalf("batch of %d > BatchSize", n)
		}
	}
	gm, err := e.lc.GetEventSourceMapping(ctx, &lambdasdk.GetEventSourceMappingInput{UUID: m.UUID})
	if err != nil || *gm.State != "Enabled" || *gm.LastProcessingResult != "OK" {
		t.Fatalf("get mapping: %v %+v", err, gm)
	}
}

// Bisection without partial failures: the exact invocation sequence.
func TestMappingBisectRetries(t *testing.T) {
	e := start(t)
	kc := eddytest.Kinesis(e.srv)
	ctx := context.Background()
	createStream(t, kc, "s2", 1)
	createStream(t, kc, "dlq", 1)
	out := filepath.Join(t.TempDir(), "out")
	e.create(t, "bis", map[string]string{"OUT": out, "FAIL_DATA": "r5"}, 10)
	putN(t, kc, "s2", 0, 8, 1)
	_, err := e.lc.CreateEventSourceMapping(ctx, &lambdasdk.CreateEventSourceMappingInput{FunctionName: aws.String("bis"),
		EventSourceArn: aws.String(streamARN("s2")), StartingPosition: ltypes.EventSourcePositionTrimHorizon, BatchSize: aws.Int32(8),
		BisectBatchOnFunctionError: aws.Bool(true), MaximumRetryAttempts: aws.Int32(1),
		DestinationConfig: &ltypes.DestinationConfig{OnFailure: &ltypes.OnFailure{Destination: aws.String(streamARN("dlq"))}}})
	if err != nil {
		t.Fatal(err)
	}
	var rec map[string]any
	waitFor(t, "failure record", 20*time.Second, func() bool {
		recs := readStream(t, kc, "dlq")
		if len(recs) == 0 {
			return false
		}
		json.Unmarshal(recs[0], &rec)
		return true
	})
	waitFor(t, "7 records", 10*time.Second, func() bool { r, _ := delivered(out); return len(r) == 7 })
	_, invokes := delivered(out)
	var sizes []string
	for _, l := range invokes {
		f := strings.Fields(l)
		s := f[1]
		if strings.HasSuffix(l, "ERROR") {
			s += "!"
		}
		sizes = append(sizes, s)
	}
	// [0-7]! → [0-3] [4-7]! → [4,5]! → [4] [5]! → retry [5]! → destination; [6,7]
	if got := strings.Join(sizes, " "); got != "8! 4 4! 2! 1 1! 1! 2" {
		t.Fatalf("invocations %q", got)
	}
	rc := rec["requestContext"].(map[string]any)
	bi := rec["KinesisBatchInfo"].(map[string]any)
	if rc["condition"] != "RetryAttemptsExhausted" || rc["approximateInvokeCount"] != float64(2) || bi["batchSize"] != float64(1) ||
		bi["streamArn"] != streamARN("s2") || bi["shardId"] != "shardId-000000000000" || rec["version"] != "1.0" ||
		rec["responseContext"].(map[string]any)["functionError"] != "Unhandled" {
		t.Fatalf("failure record %v", rec)
	}
}

// ReportBatchItemFailures: the batch is retried from the lowest failed
// sequence number; records before it are not delivered again.
func TestMappingReportBatchItemFailures(t *testing.T) {
	e := start(t)
	kc := eddytest.Kinesis(e.srv)
	ctx := context.Background()
	createStream(t, kc, "s3", 1)
	createStream(t, kc, "dlq3", 1)
	out := filepath.Join(t.TempDir(), "out")
	e.create(t, "rbif", map[string]string{"OUT": out, "FAIL_DATA": "r5", "RBIF": "1"}, 10)
	putN(t, kc, "s3", 0, 8, 1)
	_, err := e.lc.CreateEventSourceMapping(ctx, &lambdasdk.CreateEventSourceMappingInput{FunctionName: aws.String("rbif"),
		EventSourceArn: aws.String(streamARN("s3")), StartingPosition: ltypes.EventSourcePositionTrimHorizon, BatchSize: aws.Int32(8),
		BisectBatchOnFunctionError: aws.Bool(true), MaximumRetryAttempts: aws.Int32(2), FunctionResponseTypes: []ltypes.FunctionResponseType{"ReportBatchItemFailures"},
		DestinationConfig: &ltypes.DestinationConfig{OnFailure: &ltypes.OnFailure{Destination: aws.String(streamARN("dlq3"))}}})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "failure record", 20*time.Second, func() bool { return len(readStream(t, kc, "dlq3")) == 1 })
	recs, invokes := delivered(out)
	if len(recs) != 5 || strings.Join(invokes, "|") == "" {
		t.Fatalf("records %v invokes %v", recs, invokes)
	}
	var sizes []string
	for _, l := range invokes {
		sizes = append(sizes, strings.Fields(l)[1])
	}
	if got := strings.Join(sizes, " "); got != "8 3 3" {
		t.Fatalf("invocations %q (want the batch, then two retries of r5..r7)", got)
	}
	var rec map[string]any
	json.Unmarshal(readStream(t, kc, "dlq3")[0], &rec)
	if bi := rec["KinesisBatchInfo"].(map[string]any); bi["batchSize"] != float64(3) {
		t.Fatalf("failure record %v", rec)
	}
}

func readStream(t *testing.T, kc *kinesis.Client, name string) [][]byte {
	t.Helper()
	ctx := context.Background()
	it, err := kc.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String(name), ShardId: aws.String("shardId-000000000000"), ShardIteratorType: ktypes.ShardIteratorTypeTrimHorizon})
	if err != nil {
		t.Fatal(err)
	}
	out, err := kc.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: it.ShardIterator})
	if err != nil {
		t.Fatal(err)
	}
	var res [][]byte
	for _, r := range out.Records {
		res = append(res, r.Data)
	}
	return res
}

// Checkpoints survive a restart: nothing is skipped or delivered twice
// after a clean shutdown; filters drop non-matching records.
func TestMappingResumesAfterRestart(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(t.TempDir(), "out")
	opts := []eddytest.Option{eddytest.WithDataDir(dir), eddytest.WithConfig(func(c *config.Config) { c.Durability = "always" })}
	e := start(t, opts...)
	kc := eddytest.Kinesis(e.srv)
	ctx := context.Background()
	createStream(t, kc, "s4", 1)
	e.create(t, "resume", map[string]string{"OUT": out}, 10)
	m, err := e.lc.CreateEventSourceMapping(ctx, &lambdasdk.CreateEventSourceMappingInput{FunctionName: aws.String("resume"),
		EventSourceArn: aws.String(streamARN("s4")), StartingPosition: ltypes.EventSourcePositionLatest, BatchSize: aws.Int32(50),
		FilterCriteria: &ltypes.FilterCriteria{Filters: []ltypes.Filter{{Pattern: aws.String(`{"partitionKey":[{"anything-but":["k3"]}]}`)}}}})
	if err != nil {
		t.Fatal(err)
	}
	putN(t, kc, "s4", 0, 400, 4)
	waitFor(t, "300 records", 20*time.Second, func() bool { r, _ := delivered(out); return len(r) == 300 })
	if err := e.srv.Close(); err != nil {
		t.Fatal(err)
	}
	e = start(t, opts...)
	kc = eddytest.Kinesis(e.srv)
	putN(t, kc, "s4", 400, 400, 4)
	waitFor(t, "600 records", 20*time.Second, func() bool { r, _ := delivered(out); return len(r) >= 600 })
	recs, _ := delivered(out)
	var got []int
	for _, r := range recs {
		var n int
		fmt.Sscanf(r[3], "r%d", &n)
		if r[2] == "k3" {
			t.Fatalf("filtered record %v delivered", r)
		}
		got = append(got, n)
	}
	if len(got) != 600 || !sort.IntsAreSorted(got) {
		t.Fatalf("%d records, sorted %v", len(got), sort.IntsAreSorted(got))
	}
	lm, err := e.lc.ListEventSourceMappings(ctx, &lambdasdk.ListEventSourceMappingsInput{FunctionName: aws.String("resume")})
	if err != nil || len(lm.EventSourceMappings) != 1 || *lm.EventSourceMappings[0].UUID != *m.UUID || lm.EventSourceMappings[0].FilterCriteria == nil {
		t.Fatalf("list: %v %+v", err, lm)
	}
	if _, err := e.lc.DeleteEventSourceMapping(ctx, &lambdasdk.DeleteEventSourceMappingInput{UUID: m.UUID}); err != nil {
		t.Fatal(err)
	}
	_, err = e.lc.GetEventSourceMapping(ctx, &lambdasdk.GetEventSourceMappingInput{UUID: m.UUID})
	apiErr(t, err, "ResourceNotFoundException", "The resource you requested does not exist.")
}

// Tumbling windows: state flows between invocations of a window and the
// final invocation reports the window's whole count (AWS's
// events.KinesisTimeWindowEvent and its response).
func TestMappingTumblingWindow(t *testing.T) {
	e := start(t)
	kc := eddytest.Kinesis(e.srv)
	ctx := context.Background()
	createStream(t, kc, "tw", 1)
	out := filepath.Join(t.TempDir(), "out")
	e.create(t, "win", map[string]string{"OUT": out}, 10)
	_, err := e.lc.CreateEventSourceMapping(ctx, &lambdasdk.CreateEventSourceMappingInput{FunctionName: aws.String("win"),
		EventSourceArn: aws.String(streamARN("tw")), StartingPosition: ltypes.EventSourcePositionTrimHorizon, BatchSize: aws.Int32(7),
		TumblingWindowInSeconds: aws.Int32(1)})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		putN(t, kc, "tw", i*20, 20, 3)
	}
	windows := func() (n int, ws []string) {
		for _, l := range readLines(out) {
			if strings.HasPrefix(l, "WINDOW") {
				var c int
				fmt.Sscanf(strings.Fields(l)[2], "%d", &c)
				n += c
				ws = append(ws, l)
			}
		}
		return
	}
	waitFor(t, "windows closing over 60 records", 20*time.Second, func() bool { n, _ := windows(); return n == 60 })
	recs, _ := delivered(out)
	if len(recs) != 60 {
		t.Fatalf("%d records delivered", len(recs))
	}
	_, ws := windows()
	seen := map[string]bool{}
	for _, w := range ws {
		if seen[strings.Fields(w)[1]] {
			t.Fatalf("window closed twice: %v", ws)
		}
		seen[strings.Fields(w)[1]] = true
	}
}

// Batches are cut at Lambda's 6 MB payload: 100 KB records with BatchSize
// 100 arrive whole, none skipped at a cut.
func TestMappingPayloadLimitCutsBatches(t *testing.T) {
	if testing.Short() {
		t.Skip("long: runs in the full suite")
	}
	e := start(t)
	kc := eddytest.Kinesis(e.srv)
	ctx := context.Background()
	createStream(t, kc, "big", 1)
	out := filepath.Join(t.TempDir(), "out")
	e.create(t, "bigc", map[string]string{"OUT": out}, 10)
	pad := strings.Repeat("x", 100<<10)
	for i := 0; i < 200; i += 10 {
		var entries []ktypes.PutRecordsRequestEntry
		for j := i; j < i+10; j++ {
			entries = append(entries, ktypes.PutRecordsRequestEntry{PartitionKey: aws.String("k"), Data: []byte(fmt.Sprintf("r%d-%s", j, pad))})
		}
		if _, err := kc.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String("big"), Records: entries}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.lc.CreateEventSourceMapping(ctx, &lambdasdk.CreateEventSourceMappingInput{FunctionName: aws.String("bigc"),
		EventSourceArn: aws.String(streamARN("big")), StartingPosition: ltypes.EventSourcePositionTrimHorizon, BatchSize: aws.Int32(100)}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "200 records", 30*time.Second, func() bool { r, _ := delivered(out); return len(r) >= 200 })
	recs, invokes := delivered(out)
	for i, r := range recs {
		if !strings.HasPrefix(r[3], fmt.Sprintf("r%d-", i)) {
			t.Fatalf("record %d is %.10s", i, r[3])
		}
	}
	if len(recs) != 200 || len(invokes) < 4 {
		t.Fatalf("%d records in %d invocations", len(recs), len(invokes))
	}
}

// ParallelizationFactor: concurrent groups per shard, order per key kept.
func TestMappingParallelizationFactor(t *testing.T) {
	e := start(t)
	kc := eddytest.Kinesis(e.srv)
	ctx := context.Background()
	createStream(t, kc, "pf", 1)
	out := filepath.Join(t.TempDir(), "out")
	e.create(t, "pfc", map[string]string{"OUT": out}, 10)
	putN(t, kc, "pf", 0, 2000, 40)
	if _, err := e.lc.CreateEventSourceMapping(ctx, &lambdasdk.CreateEventSourceMappingInput{FunctionName: aws.String("pfc"),
		EventSourceArn: aws.String(streamARN("pf")), StartingPosition: ltypes.EventSourcePositionTrimHorizon, BatchSize: aws.Int32(200),
		ParallelizationFactor: aws.Int32(4)}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "2000 records", 30*time.Second, func() bool { r, _ := delivered(out); return len(r) >= 2000 })
	recs, invokes := delivered(out)
	last := map[string]int{}
	for _, r := range recs {
		var n int
		fmt.Sscanf(r[3], "r%d", &n)
		if p, ok := last[r[2]]; ok && n < p {
			t.Fatalf("key %s: r%d after r%d", r[2], n, p)
		}
		last[r[2]] = n
	}
	if len(recs) != 2000 || len(invokes) < 40 {
		t.Fatalf("%d records in %d invocations (want groups of a 200-record batch split 4 ways)", len(recs), len(invokes))
	}
}

// MaximumRecordAgeInSeconds: records older than the limit are not
// delivered but sent to the on-failure destination (RecordAgeExceeded).
func TestMappingMaximumRecordAge(t *testing.T) {
	var skew atomic.Int64
	e := start(t, eddytest.WithClock(func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }))
	kc := eddytest.Kinesis(e.srv)
	ctx := context.Background()
	createStream(t, kc, "age", 1)
	createStream(t, kc, "agedlq", 1)
	out := filepath.Join(t.TempDir(), "out")
	e.create(t, "agec", map[string]string{"OUT": out}, 10)
	putN(t, kc, "age", 0, 5, 1)
	skew.Store(int64(2 * time.Minute)) // the 5 records are now 2 minutes old
	putN(t, kc, "age", 5, 5, 1)
	if _, err := e.lc.CreateEventSourceMapping(ctx, &lambdasdk.CreateEventSourceMappingInput{FunctionName: aws.String("agec"),
		EventSourceArn: aws.String(streamARN("age")), StartingPosition: ltypes.EventSourcePositionTrimHorizon, BatchSize: aws.Int32(100),
		MaximumRecordAgeInSeconds: aws.Int32(60),
		DestinationConfig:         &ltypes.DestinationConfig{OnFailure: &ltypes.OnFailure{Destination: aws.String(streamARN("agedlq"))}}}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "5 fresh records", 20*time.Second, func() bool { r, _ := delivered(out); return len(r) == 5 })
	recs, _ := delivered(out)
	if recs[0][3] != "r5" {
		t.Fatalf("first delivered %v", recs[0])
	}
	var rec map[string]any
	waitFor(t, "failure record", 10*time.Second, func() bool {
		d := readStream(t, kc, "agedlq")
		return len(d) == 1 && json.Unmarshal(d[0], &rec) == nil
	})
	if rec["requestContext"].(map[string]any)["condition"] != "RecordAgeExceeded" || rec["KinesisBatchInfo"].(map[string]any)["batchSize"] != float64(5) {
		t.Fatalf("failure record %v", rec)
	}
}
