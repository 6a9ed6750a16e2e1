package e2e

import (
	"archive/zip"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// buildFunction builds internal/lambda/testdata/fn (aws-lambda-go) as
// bootstrap and zips it.
func buildFunction(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "bootstrap")
	cmd := exec.Command("go", "build", "-o", bin, "../internal/lambda/testdata/fn")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build function: %v\n%s", err, out)
	}
	zpath := filepath.Join(dir, "fn.zip")
	f, err := os.Create(zpath)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	h := &zip.FileHeader{Name: "bootstrap", Method: zip.Deflate}
	h.SetMode(0o755)
	w, _ := zw.CreateHeader(h)
	b, _ := os.ReadFile(bin)
	w.Write(b)
	zw.Close()
	f.Close()
	return zpath
}

type fnRecord struct{ shard, seq, key, data string }

func readDelivered(path string) []fnRecord {
	b, _ := os.ReadFile(path)
	var out []fnRecord
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) == 4 && f[0] != "INVOKE" {
			out = append(out, fnRecord{f[0], f[1], f[2], f[3]})
		}
	}
	return out
}

func distinct(recs []fnRecord) int {
	seen := map[string]bool{}
	for _, r := range recs {
		seen[r.data] = true
	}
	return len(seen)
}

// TestLambdaMappingCLISplitKill9 creates a function and a mapping with the
// AWS CLI v1, puts 50,000 records across a shard split, kills the server
// with SIGKILL mid-stream and restarts it: every record reaches the
// function, each shard's records in sequence order (re-deliveries after
// the crash repeat a suffix, as Lambda's at-least-once does), parents
// before children for every partition key.
func TestLambdaMappingCLISplitKill9(t *testing.T) {
	tStart := time.Now()
	zpath := buildFunction(t)
	t.Logf("built in %v", time.Since(tStart))
	dir := t.TempDir()
	out := filepath.Join(t.TempDir(), "delivered")
	s := startServer(t, dir)
	ep := "--endpoint-url=" + s.URL
	run(t, "", "aws", ep, "lambda", "create-function", "--function-name", "consumer", "--runtime", "provided.al2023",
		"--handler", "bootstrap", "--role", "arn:aws:iam::000000000000:role/lambda", "--zip-file", "fileb://"+zpath,
		"--environment", "Variables={OUT="+out+"}")
	inv := filepath.Join(t.TempDir(), "inv.json")
	res := run(t, "", "aws", ep, "lambda", "invoke", "--function-name", "consumer", "--payload", `{"op":"echo","v":1}`, inv)
	if b, _ := os.ReadFile(inv); string(b) != `{"op":"echo","v":1}` || !strings.Contains(res, `"StatusCode": 200`) {
		t.Fatalf("invoke: %s %s", res, b)
	}
	errOut := runFail(t, "aws", ep, "lambda", "get-function", "--function-name", "nope")
	if !strings.Contains(errOut, "ResourceNotFoundException") || !strings.Contains(errOut, "Function not found: arn:aws:lambda:us-east-1:000000000000:function:nope") {
		t.Fatalf("get-function missing: %s", errOut)
	}
	run(t, "", "aws", ep, "kinesis", "create-stream", "--stream-name", "events", "--shard-count", "2")
	waitStreamActive(t, s.URL, "events")
	esm := run(t, "", "aws", ep, "lambda", "create-event-source-mapping", "--function-name", "consumer",
		"--event-source-arn", "arn:aws:kinesis:us-east-1:000000000000:stream/events", "--starting-position", "TRIM_HORIZON",
		"--batch-size", "500")
	if !strings.Contains(esm, `"UUID"`) || !strings.Contains(esm, `"BatchSize": 500`) {
		t.Fatalf("create-event-source-mapping: %s", esm)
	}
	ctx := context.Background()
	const total = 50000
	put := func(c *kinesis.Client, from, to int) {
		for i := from; i < to; i += 500 {
			var entries []types.PutRecordsRequestEntry
			for j := i; j < min(i+500, to); j++ {
				entries = append(entries, types.PutRecordsRequestEntry{PartitionKey: aws.String(fmt.Sprintf("k%d", j%97)), Data: []byte(fmt.Sprintf("r%d", j))})
			}
			o, err := c.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String("events"), Records: entries})
			if err != nil || aws.ToInt32(o.FailedRecordCount) != 0 {
				t.Fatalf("put: %v", err)
			}
		}
	}
	put(kinesisClient(s.URL, nil), 0, 20000)
	run(t, "", "aws", ep, "kinesis", "split-shard", "--stream-name", "events", "--shard-to-split", "shardId-000000000000",
		"--new-starting-hash-key", "85070591730234615865843651857942052864")
	waitStreamActive(t, s.URL, "events")
	put(kinesisClient(s.URL, nil), 20000, 35000)
	// kill -9 while the mapping is mid-stream
	deadline := time.Now().Add(60 * time.Second)
	for distinct(readDelivered(out)) < 5000 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	before := distinct(readDelivered(out))
	t.Logf("kill at %v", time.Since(tStart))
	s.cmd.Process.Signal(syscall.SIGKILL)
	s.cmd.Wait()
	if before >= 35000 {
		t.Logf("mapping had finished before the kill (%d records)", before)
	}
	t0 := time.Now()
	s = startServer(t, dir)
	ep = "--endpoint-url=" + s.URL
	t.Logf("restart took %v", time.Since(t0))
	put(kinesisClient(s.URL, nil), 35000, total)
	t.Logf("restart+put took %v", time.Since(t0))
	deadline = time.Now().Add(120 * time.Second)
	for distinct(readDelivered(out)) < total && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("all delivered %v after restart", time.Since(t0))
	recs := readDelivered(out)
	if n := distinct(recs); n != total {
		t.Fatalf("%d of %d records reached the function (%d before the kill)", n, total, before)
	}
	// per shard: after dropping repeats, strictly increasing sequence numbers
	seen := map[string]bool{}
	lastSeq := map[string]string{}
	lastOfKey := map[string]int{}
	for _, r := range recs {
		if seen[r.data] {
			continue
		}
		seen[r.data] = true
		if p := lastSeq[r.shard]; p != "" && !(len(p) < len(r.seq) || (len(p) == len(r.seq) && p < r.seq)) {
			t.Fatalf("shard %s: %s after %s", r.shard, r.seq, p)
		}
		lastSeq[r.shard] = r.seq
		var n int
		fmt.Sscanf(r.data, "r%d", &n)
		if p, ok := lastOfKey[r.key]; ok && n < p {
			t.Fatalf("key %s: r%d after r%d", r.key, n, p)
		}
		lastOfKey[r.key] = n
	}
	if len(lastSeq) != 4 {
		t.Fatalf("records from %d shards, want 4", len(lastSeq))
	}
	t.Logf("%d deliveries for %d records (%d before the kill)", len(recs), total, before)
	t.Logf("checked at %v", time.Since(tStart))
	lst := run(t, "", "aws", ep, "lambda", "list-event-source-mappings", "--function-name", "consumer")
	if !strings.Contains(lst, `"State": "Enabled"`) {
		t.Fatalf("list-event-source-mappings: %s", lst)
	}
}

// waitStreamActive polls (the CLI's waiter sleeps 10 s between checks).
func waitStreamActive(t *testing.T, url, name string) {
	t.Helper()
	c := kinesisClient(url, nil)
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		o, err := c.DescribeStreamSummary(context.Background(), &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(name)})
		if err == nil && o.StreamDescriptionSummary.StreamStatus == types.StreamStatusActive {
			return
		}
	}
	t.Fatalf("stream %s not ACTIVE", name)
}

// TestLambdaNodeHandler runs a nodejs20.x handler through aws-lambda-ric
// from npm (e2e/lambda-node, installed by scripts/setup.d/45-lambda-node.sh)
// with the AWS CLI: a result, and a thrown error as X-Amz-Function-Error.
func TestLambdaNodeHandler(t *testing.T) {
	ric, err := filepath.Abs("lambda-node/node_modules")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(ric, ".bin", "aws-lambda-ric")); err != nil {
		t.Fatalf("aws-lambda-ric is not installed (run scripts/setup.d/45-lambda-node.sh): %v", err)
	}
	code := t.TempDir()
	handler := `export const handler = async (event, context) => {
  if (event.fail) { throw new TypeError("failing on purpose"); }
  return { got: event, name: process.env.AWS_LAMBDA_FUNCTION_NAME, arn: context.invokedFunctionArn, custom: process.env.CUSTOM };
};
`
	if err := os.WriteFile(filepath.Join(code, "index.mjs"), []byte(handler), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(ric, filepath.Join(code, "node_modules")); err != nil {
		t.Fatal(err)
	}
	s := startServer(t, "")
	ep := "--endpoint-url=" + s.URL
	run(t, "", "aws", ep, "lambda", "create-function", "--function-name", "nodefn", "--runtime", "nodejs20.x",
		"--handler", "index.handler", "--role", "arn:aws:iam::000000000000:role/lambda",
		"--code", "S3Bucket=eddy-local,S3Key="+code, "--environment", "Variables={CUSTOM=c1}", "--timeout", "20")
	outFile := filepath.Join(t.TempDir(), "out.json")
	res := run(t, "", "aws", ep, "lambda", "invoke", "--function-name", "nodefn", "--payload", `{"x":1}`, outFile)
	b, _ := os.ReadFile(outFile)
	want := `{"got":{"x":1},"name":"nodefn","arn":"arn:aws:lambda:us-east-1:000000000000:function:nodefn","custom":"c1"}`
	if string(b) != want || strings.Contains(res, "FunctionError") {
		t.Fatalf("invoke: %s\n%s\nlog: %s", res, b, s.log.String())
	}
	res = run(t, "", "aws", ep, "lambda", "invoke", "--function-name", "nodefn", "--payload", `{"fail":true}`, outFile)
	b, _ = os.ReadFile(outFile)
	if !strings.Contains(res, `"FunctionError": "Unhandled"`) || !strings.Contains(string(b), `"errorType":"TypeError"`) || !strings.Contains(string(b), "failing on purpose") {
		t.Fatalf("failing invoke: %s\n%s", res, b)
	}
}

// TestLambdaMappingCLIPartialFailureRetries: a function failing on one
// record, with ReportBatchItemFailures, bisection, two retries and an
// on-failure stream, all configured with the AWS CLI: the batch, then two
// retries from the failed record, then AWS's invocation record on the
// destination stream.
func TestLambdaMappingCLIPartialFailureRetries(t *testing.T) {
	zpath := buildFunction(t)
	out := filepath.Join(t.TempDir(), "delivered")
	s := startServer(t, "")
	ep := "--endpoint-url=" + s.URL
	run(t, "", "aws", ep, "lambda", "create-function", "--function-name", "partial", "--runtime", "provided.al2023",
		"--handler", "bootstrap", "--role", "arn:aws:iam::000000000000:role/lambda", "--zip-file", "fileb://"+zpath,
		"--environment", "Variables={OUT="+out+",FAIL_DATA=r5,RBIF=1}")
	for _, st := range []string{"src", "dlq"} {
		run(t, "", "aws", ep, "kinesis", "create-stream", "--stream-name", st, "--shard-count", "1")
		waitStreamActive(t, s.URL, st)
	}
	c := kinesisClient(s.URL, nil)
	var entries []types.PutRecordsRequestEntry
	for i := 0; i < 8; i++ {
		entries = append(entries, types.PutRecordsRequestEntry{PartitionKey: aws.String("k"), Data: []byte(fmt.Sprintf("r%d", i))})
	}
	if _, err := c.PutRecords(context.Background(), &kinesis.PutRecordsInput{StreamName: aws.String("src"), Records: entries}); err != nil {
		t.Fatal(err)
	}
	run(t, "", "aws", ep, "lambda", "create-event-source-mapping", "--function-name", "partial",
		"--event-source-arn", "arn:aws:kinesis:us-east-1:000000000000:stream/src", "--starting-position", "TRIM_HORIZON",
		"--batch-size", "8", "--function-response-types", "ReportBatchItemFailures", "--bisect-batch-on-function-error",
		"--maximum-retry-attempts", "2",
		"--destination-config", "OnFailure={Destination=arn:aws:kinesis:us-east-1:000000000000:stream/dlq}")
	var dlq string
	for deadline := time.Now().Add(30 * time.Second); dlq == "" && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		it, err := c.GetShardIterator(context.Background(), &kinesis.GetShardIteratorInput{StreamName: aws.String("dlq"),
			ShardId: aws.String("shardId-000000000000"), ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
		if err != nil {
			t.Fatal(err)
		}
		g, err := c.GetRecords(context.Background(), &kinesis.GetRecordsInput{ShardIterator: it.ShardIterator})
		if err != nil {
			t.Fatal(err)
		}
		if len(g.Records) > 0 {
			dlq = string(g.Records[0].Data)
		}
	}
	if !strings.Contains(dlq, `"condition":"RetryAttemptsExhausted"`) || !strings.Contains(dlq, `"batchSize":3`) || !strings.Contains(dlq, `"approximateInvokeCount":3`) {
		t.Fatalf("on-failure record: %q", dlq)
	}
	b, _ := os.ReadFile(out)
	var sizes []string
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) > 1 && f[0] == "INVOKE" {
			sizes = append(sizes, f[1])
		}
	}
	if got := strings.Join(sizes, " "); got != "8 3 3" {
		t.Fatalf("invocations %q, want the batch of 8 then two retries of r5..r7", got)
	}
	if recs := readDelivered(out); len(recs) != 5 {
		t.Fatalf("%d records processed, want r0..r4", len(recs))
	}
}
