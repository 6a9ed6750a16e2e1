package e2e

import (
	"strings"
	"testing"
)

// TestBoto3Edges sends through boto3 (its own parameter validation off, so
// wrong types reach the server) what issue 10 lists: AWS's serialization
// messages, AWS's check order and shard ids read as AWS reads them.
func TestBoto3Edges(t *testing.T) {
	s := startServer(t, "")
	script := `
import boto3, sys
from botocore.config import Config
from botocore.exceptions import ClientError
c = boto3.client("kinesis", endpoint_url=sys.argv[1], region_name="us-east-1",
                 config=Config(parameter_validation=False, retries={"max_attempts": 1}))
def fails(code, msg, f, **kw):
    try:
        f(**kw)
    except ClientError as e:
        err = e.response["Error"]
        assert err["Code"] == code, (kw, e.response)
        assert msg is None or err["Message"] == msg, (kw, err["Message"])
        assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 400
        return
    raise SystemExit("no error for %r" % (kw,))
fails("SerializationException", "STRING_VALUE can not be converted to an Integer", c.create_stream, StreamName="e", ShardCount="two")
fails("SerializationException", "NUMBER_VALUE can not be converted to a String", c.describe_stream, StreamName=5)
fails("SerializationException", "Start of list found where not expected", c.describe_stream, StreamName=["e"])
fails("SerializationException", "Start of structure or map found where not expected.", c.describe_stream, StreamName={"a": 1})
c.create_stream(StreamName="e", ShardCount=1)
c.get_waiter("stream_exists").wait(StreamName="e", WaiterConfig={"Delay": 0.05})
# validation before existence: 51 tags on a missing stream
fails("ValidationException", None, c.add_tags_to_stream, StreamName="missing", Tags={"k%d" % i: "v" for i in range(51)})
fails("ResourceNotFoundException", "Stream missing under account 000000000000 not found.", c.get_shard_iterator,
      StreamName="missing", ShardId="shardId-000000000000", ShardIteratorType="LATEST")
it = c.get_shard_iterator(StreamName="e", ShardId="anything-0", ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
assert it
fails("ResourceNotFoundException", "Could not find shard ABKLFD8 in stream e under account 000000000000.", c.get_shard_iterator,
      StreamName="e", ShardId="ABKLFD8", ShardIteratorType="LATEST")
print("OK edges")
`
	out := run(t, "", "python3", "-c", script, s.URL)
	if !strings.Contains(out, "OK edges") {
		t.Fatalf("boto3 script: %s", out)
	}
	// the AWS CLI reads a shard id as AWS does too
	ep := "--endpoint-url=" + s.URL
	out = run(t, "", "aws", ep, "kinesis", "get-shard-iterator", "--stream-name", "e", "--shard-id", "shard-0", "--shard-iterator-type", "LATEST")
	if !strings.Contains(out, "ShardIterator") {
		t.Fatalf("get-shard-iterator shard-0: %s", out)
	}
	errOut := runFail(t, "aws", ep, "kinesis", "get-shard-iterator", "--stream-name", "e", "--shard-id", "2147483648", "--shard-iterator-type", "LATEST")
	if !strings.Contains(errOut, "Could not find shard 2147483648 in stream e under account 000000000000.") {
		t.Fatalf("get-shard-iterator 2147483648: %s", errOut)
	}
}
