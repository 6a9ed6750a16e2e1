package e2e

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
)

// TestAWSCLIQuickstart runs the README's quickstart with the AWS CLI v1
// against the real binary.
func TestAWSCLIQuickstart(t *testing.T) {
	s := startServer(t, "")
	ep := "--endpoint-url=" + s.URL
	run(t, "", "aws", ep, "kinesis", "create-stream", "--stream-name", "orders", "--shard-count", "2")
	run(t, "", "aws", ep, "kinesis", "wait", "stream-exists", "--stream-name", "orders")
	var put struct{ ShardId, SequenceNumber string }
	out := run(t, "", "aws", ep, "kinesis", "put-record", "--stream-name", "orders", "--partition-key", "user-1",
		"--data", `{"id":1}`) // CLI v1 base64-encodes blob arguments itself
	if err := json.Unmarshal([]byte(out), &put); err != nil || put.SequenceNumber == "" {
		t.Fatalf("put-record output %q: %v", out, err)
	}
	var it struct{ ShardIterator string }
	out = run(t, "", "aws", ep, "kinesis", "get-shard-iterator", "--stream-name", "orders", "--shard-id", put.ShardId,
		"--shard-iterator-type", "AT_SEQUENCE_NUMBER", "--starting-sequence-number", put.SequenceNumber)
	if err := json.Unmarshal([]byte(out), &it); err != nil {
		t.Fatal(err)
	}
	var recs struct {
		Records []struct {
			Data           string
			PartitionKey   string
			SequenceNumber string
		}
		NextShardIterator  string
		MillisBehindLatest int64
	}
	out = run(t, "", "aws", ep, "kinesis", "get-records", "--shard-iterator", it.ShardIterator)
	if err := json.Unmarshal([]byte(out), &recs); err != nil {
		t.Fatal(err)
	}
	if len(recs.Records) != 1 || recs.Records[0].SequenceNumber != put.SequenceNumber || recs.Records[0].PartitionKey != "user-1" {
		t.Fatalf("get-records: %s", out)
	}
	if d, _ := base64.StdEncoding.DecodeString(recs.Records[0].Data); string(d) != `{"id":1}` {
		t.Fatalf("data %q", recs.Records[0].Data)
	}
	out = run(t, "", "aws", ep, "kinesis", "list-streams")
	if !strings.Contains(out, `"orders"`) {
		t.Fatalf("list-streams: %s", out)
	}
	out = run(t, "", "aws", ep, "kinesis", "describe-stream-summary", "--stream-name", "orders")
	if !strings.Contains(out, `"OpenShardCount": 2`) || strings.Contains(out, "StreamId") {
		t.Fatalf("describe-stream-summary: %s", out)
	}
	// list-shards one page at a time with NextToken
	var page struct {
		Shards    []struct{ ShardId string }
		NextToken string
	}
	out = run(t, "", "aws", ep, "kinesis", "list-shards", "--stream-name", "orders", "--max-results", "1")
	if err := json.Unmarshal([]byte(out), &page); err != nil || len(page.Shards) != 1 || page.NextToken == "" {
		t.Fatalf("list-shards page 1: %s", out)
	}
	out = run(t, "", "aws", ep, "kinesis", "list-shards", "--next-token", page.NextToken)
	page.NextToken = ""
	if err := json.Unmarshal([]byte(out), &page); err != nil || len(page.Shards) != 1 || page.Shards[0].ShardId != "shardId-000000000001" || page.NextToken != "" {
		t.Fatalf("list-shards page 2: %s", out)
	}
	errOut := runFail(t, "aws", ep, "kinesis", "describe-stream", "--stream-name", "missing")
	if !strings.Contains(errOut, "ResourceNotFoundException") || !strings.Contains(errOut, "Stream missing under account 000000000000 not found.") {
		t.Fatalf("describe-stream on a missing stream: %s", errOut)
	}
	run(t, "", "aws", ep, "kinesis", "delete-stream", "--stream-name", "orders")
	run(t, "", "aws", ep, "kinesis", "wait", "stream-not-exists", "--stream-name", "orders")
}

// TestBoto3 drives the server with boto3: batch puts, resharding and reading
// across the lineage, and error shapes.
func TestBoto3(t *testing.T) {
	s := startServer(t, "")
	script := `
import boto3, sys, json
from botocore.exceptions import ClientError
c = boto3.client("kinesis", endpoint_url=sys.argv[1], region_name="eu-west-1")
c.create_stream(StreamName="py", ShardCount=1)
c.get_waiter("stream_exists").wait(StreamName="py", WaiterConfig={"Delay": 0.05})
recs = [{"Data": ("r%d" % i).encode(), "PartitionKey": "k%d" % (i % 5)} for i in range(200)]
out = c.put_records(StreamName="py", Records=recs)
assert out["FailedRecordCount"] == 0, out
arn = c.describe_stream_summary(StreamName="py")["StreamDescriptionSummary"]["StreamARN"]
assert arn.startswith("arn:aws:kinesis:eu-west-1:000000000000:stream/py"), arn
c.split_shard(StreamARN=arn, ShardToSplit="shardId-000000000000", NewStartingHashKey=str(2**127))
c.put_records(StreamARN=arn, Records=recs)
seen = []
queue = ["shardId-000000000000"]
while queue:
    sid = queue.pop(0)
    it = c.get_shard_iterator(StreamARN=arn, ShardId=sid, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    while it:
        r = c.get_records(ShardIterator=it, Limit=50)
        seen += [x["Data"].decode() for x in r["Records"]]
        if r.get("NextShardIterator") is None:
            queue += [ch["ShardId"] for ch in r["ChildShards"]]
            break
        if not r["Records"]:
            break
        it = r["NextShardIterator"]
assert len(seen) == 400, len(seen)
try:
    c.get_records(ShardIterator="bogus")
    raise SystemExit("no error")
except ClientError as e:
    assert e.response["Error"]["Code"] == "InvalidArgumentException", e.response
    assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 400
try:
    c.get_shard_iterator(StreamName="py", ShardId="shardId-000000000099", ShardIteratorType="LATEST")
    raise SystemExit("no error")
except ClientError as e:
    assert e.response["Error"]["Code"] == "ResourceNotFoundException", e.response
    assert e.response["Error"]["Message"] == "Shard shardId-000000000099 in stream py under account 000000000000 does not exist", e.response
print("OK", len(seen))
`
	out := run(t, "", "python3", "-c", script, s.URL)
	if !strings.Contains(out, "OK 400") {
		t.Fatalf("boto3 script: %s", out)
	}
}
