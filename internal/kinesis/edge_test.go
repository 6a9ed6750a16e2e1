package kinesis_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/fxamacker/cbor/v2"

	"github.com/eddy-streams/eddy/internal/eddytest"
)

// Edge cases of issue 10: AWS's serialization messages through real
// operations, AWS's check order, shard ids read as AWS reads them.

// postCodec posts body to op in JSON 1.1 or CBOR and decodes the answer in
// the same codec.
func postCodec(t *testing.T, url, op string, body any, useCBOR bool) (status int, typ, msg string) {
	t.Helper()
	var b []byte
	var err error
	ct := "application/x-amz-json-1.1"
	if useCBOR {
		ct = "application/x-amz-cbor-1.1"
		b, err = cbor.Marshal(body)
	} else {
		b, err = json.Marshal(body)
	}
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("POST", url+"/", bytes.NewReader(b))
	req.Header.Set("Content-Type", ct)
	req.Header.Set("X-Amz-Target", "Kinesis_20131202."+op)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if got := resp.Header.Get("Content-Type"); got != ct && resp.StatusCode != 200 {
		t.Fatalf("%s: content type %q, want %q", op, got, ct)
	}
	out := map[string]any{}
	if useCBOR {
		var m map[any]any
		if err := cbor.Unmarshal(raw, &m); err == nil {
			for k, v := range m {
				out[fmt.Sprint(k)] = v
			}
		}
	} else {
		_ = json.Unmarshal(raw, &out)
	}
	typ, _ = out["__type"].(string)
	msg, _ = out["message"].(string)
	if m, ok := out["Message"].(string); ok {
		msg = m
	}
	return resp.StatusCode, typ, msg
}

// A member of each model type in real Kinesis operations, given a value of
// every other JSON type.
func TestSerializationErrorsThroughOperations(t *testing.T) {
	srv := eddytest.Start(t)
	type member struct {
		op, name string
		base     map[string]any // other members (the errors come before any check of them)
	}
	members := map[string]member{
		"String":    {"DescribeStream", "StreamName", nil},
		"Integer":   {"CreateStream", "ShardCount", map[string]any{"StreamName": "s"}},
		"Boolean":   {"DeleteStream", "EnforceConsumerDeletion", map[string]any{"StreamName": "s"}},
		"Blob":      {"PutRecord", "Data", map[string]any{"StreamName": "s", "PartitionKey": "k"}},
		"Timestamp": {"GetShardIterator", "Timestamp", map[string]any{"StreamName": "s", "ShardId": "0", "ShardIteratorType": "AT_TIMESTAMP"}},
		"List":      {"PutRecords", "Records", map[string]any{"StreamName": "s"}},
		"Map":       {"AddTagsToStream", "Tags", map[string]any{"StreamName": "s"}},
		"Structure": {"CreateStream", "StreamModeDetails", map[string]any{"StreamName": "s"}},
	}
	for _, tc := range []struct {
		member string
		value  any
		msg    string
	}{
		{"String", 23, "NUMBER_VALUE can not be converted to a String"},
		{"String", true, "TRUE_VALUE can not be converted to a String"},
		{"String", false, "FALSE_VALUE can not be converted to a String"},
		{"String", []any{}, "Start of list found where not expected"},
		{"String", map[string]any{}, "Start of structure or map found where not expected."},
		{"Integer", "23", "STRING_VALUE can not be converted to an Integer"},
		{"Integer", true, "TRUE_VALUE can not be converted to an Integer"},
		{"Integer", []any{}, "Start of list found where not expected"},
		{"Integer", map[string]any{}, "Start of structure or map found where not expected."},
		{"Boolean", "perhaps", "STRING_VALUE can not be converted to an Boolean"},
		{"Boolean", 1, "NUMBER_VALUE can not be converted to a Boolean"},
		{"Boolean", []any{}, "Start of list found where not expected"},
		{"Boolean", map[string]any{}, "Start of structure or map found where not expected."},
		{"Blob", 23, "NUMBER_VALUE can not be converted to a Blob"},
		{"Blob", false, "FALSE_VALUE can not be converted to a Blob"},
		{"Blob", map[string]any{}, "Start of structure or map found where not expected."},
		{"Timestamp", "2026-12-03T00:00:00Z", "class java.lang.String can not be converted to milliseconds since epoch"},
		{"Timestamp", true, "class java.lang.Boolean can not be converted to milliseconds since epoch"},
		{"Timestamp", []any{}, "Start of list found where not expected"},
		{"Timestamp", map[string]any{}, "Start of structure or map found where not expected."},
		{"List", "x", "Expected list or null"},
		{"List", 5, "Expected list or null"},
		{"List", true, "Expected list or null"},
		{"List", map[string]any{}, "Start of structure or map found where not expected."},
		{"List", []any{"x"}, "Expected null"},
		{"Map", "x", "Expected map or null"},
		{"Map", 5, "Expected map or null"},
		{"Map", []any{}, "Start of list found where not expected"},
		{"Map", map[string]any{"k": 5}, "NUMBER_VALUE can not be converted to a String"},
		{"Structure", "ON_DEMAND", "Expected null"},
		{"Structure", 5, "Expected null"},
		{"Structure", []any{}, "Start of list found where not expected"},
		{"Structure", map[string]any{"StreamMode": 1}, "NUMBER_VALUE can not be converted to a String"},
	} {
		m := members[tc.member]
		body := map[string]any{m.name: tc.value}
		for k, v := range m.base {
			body[k] = v
		}
		for _, useCBOR := range []bool{false, true} {
			st, typ, msg := postCodec(t, srv.URL(), m.op, body, useCBOR)
			if st != 400 || typ != "SerializationException" || msg != tc.msg {
				t.Errorf("%s.%s = %v (cbor %v): %d %s %q, want %q", m.op, m.name, tc.value, useCBOR, st, typ, msg, tc.msg)
			}
		}
	}
}

// The SDK sends what its types allow; a Go SDK call with a string where the
// model has a timestamp cannot be built, so the SDK side is covered by the
// AWS CLI e2e test (e2e/edge_test.go). Here: AWS's conversions accepted.
func TestSerializationConversionsAccepted(t *testing.T) {
	srv := eddytest.Start(t)
	st, typ, msg := postCodec(t, srv.URL(), "CreateStream", map[string]any{"StreamName": "conv", "ShardCount": 1.9}, false)
	if st != 200 {
		t.Fatalf("decimal shard count: %d %s %s", st, typ, msg)
	}
	c := kinesis.NewFromConfig(eddytest.AWSConfig(srv.URL(), "", ""))
	sum, err := c.DescribeStreamSummary(context.Background(), &kinesis.DescribeStreamSummaryInput{StreamName: aws.String("conv")})
	if err != nil || *sum.StreamDescriptionSummary.OpenShardCount != 1 {
		t.Fatalf("1.9 shards should be 1: %v %v", sum, err)
	}
	if st, typ, msg := postCodec(t, srv.URL(), "DeleteStream", map[string]any{"StreamName": "conv", "EnforceConsumerDeletion": "yes"}, false); st != 200 {
		t.Fatalf("boolean word: %d %s %s", st, typ, msg)
	}
	// the same conversions in CBOR
	if st, typ, msg := postCodec(t, srv.URL(), "CreateStream", map[string]any{"StreamName": "conv2", "ShardCount": 2.5}, true); st != 200 {
		t.Fatalf("CBOR decimal shard count: %d %s %s", st, typ, msg)
	}
	sum, err = c.DescribeStreamSummary(context.Background(), &kinesis.DescribeStreamSummaryInput{StreamName: aws.String("conv2")})
	if err != nil || *sum.StreamDescriptionSummary.OpenShardCount != 2 {
		t.Fatalf("CBOR 2.5 shards should be 2: %v %v", sum, err)
	}
	if st, typ, msg := postCodec(t, srv.URL(), "DeleteStream", map[string]any{"StreamName": "conv2", "EnforceConsumerDeletion": "TRUE"}, true); st != 200 {
		t.Fatalf("CBOR boolean word: %d %s %s", st, typ, msg)
	}
}

// Shard ids: AWS reads the number after the last hyphen.
func TestShardIDsParsedAsAWS(t *testing.T) {
	srv, c := startCtrl(t)
	createStream(t, c, "ids", 2)
	base := func(id string) map[string]any {
		return map[string]any{"StreamName": "ids", "ShardId": id, "ShardIteratorType": "TRIM_HORIZON"}
	}
	for _, id := range []string{"shardId-000000000000", "anything-0", "shard-1", "-0001", "1", "a-b-c-0000000000000000001", "x.y_z-0"} {
		if st, typ, msg := postCodec(t, srv.URL(), "GetShardIterator", base(id), false); st != 200 {
			t.Errorf("%q: %d %s %s", id, st, typ, msg)
		}
	}
	for _, tc := range []struct{ id, msg string }{
		{"ABKLFD8", "Could not find shard ABKLFD8 in stream ids under account 000000000000."},
		{"2.14E4", "Could not find shard 2.14E4 in stream ids under account 000000000000."},
		{"2147483648", "Could not find shard 2147483648 in stream ids under account 000000000000."},
		{"shardId-002147483648", "Could not find shard shardId-002147483648 in stream ids under account 000000000000."},
		{"shardId-", "Could not find shard shardId- in stream ids under account 000000000000."},
		{"shardId-5", "Shard shardId-000000000005 in stream ids under account 000000000000 does not exist"},
		{"x-2147483647", "Shard shardId-002147483647 in stream ids under account 000000000000 does not exist"},
	} {
		wantRaw(t, srv, "GetShardIterator", base(tc.id), "ResourceNotFoundException", tc.msg)
	}
	// the SDK sends any id the model's pattern allows
	out, err := c.GetShardIterator(context.Background(), &kinesis.GetShardIteratorInput{StreamName: aws.String("ids"), ShardId: aws.String("anything-1"), ShardIteratorType: types.ShardIteratorTypeLatest})
	if err != nil || out.ShardIterator == nil {
		t.Fatalf("sdk anything-1: %v", err)
	}
	// and SplitShard reads ids the same way
	if _, err := c.SplitShard(context.Background(), &kinesis.SplitShardInput{StreamName: aws.String("ids"), ShardToSplit: aws.String("whatever-0"), NewStartingHashKey: aws.String("1000")}); err != nil {
		t.Fatalf("split whatever-0: %v", err)
	}
}

// GetShardIterator on an unknown stream names the stream, not the shard; an
// unreadable shard id is refused first.
func TestGetShardIteratorUnknownStream(t *testing.T) {
	srv, c := startCtrl(t)
	wantRaw(t, srv, "GetShardIterator", map[string]any{"StreamName": "nope", "ShardId": "shardId-000000000000", "ShardIteratorType": "LATEST"},
		"ResourceNotFoundException", "Stream nope under account 000000000000 not found.")
	wantRaw(t, srv, "GetShardIterator", map[string]any{"StreamARN": streamARNOf("nope"), "ShardId": "7", "ShardIteratorType": "LATEST"},
		"ResourceNotFoundException", "Stream nope under account 000000000000 not found.")
	wantRaw(t, srv, "GetShardIterator", map[string]any{"StreamName": "nope", "ShardId": "ABKLFD8", "ShardIteratorType": "LATEST"},
		"ResourceNotFoundException", "Could not find shard ABKLFD8 in stream nope under account 000000000000.")
	_, err := c.GetShardIterator(context.Background(), &kinesis.GetShardIteratorInput{StreamName: aws.String("nope"), ShardId: aws.String("shardId-000000000000"), ShardIteratorType: types.ShardIteratorTypeLatest})
	wantErr(t, err, "ResourceNotFoundException", "Stream nope under account 000000000000 not found.")
}

// Model validation (including counts such as the tag limit) comes before
// any existence or state check: an invalid request naming a stream that does
// not exist gets ValidationException.
func TestValidationBeforeExistence(t *testing.T) {
	srv, c := startCtrl(t)
	createStream(t, c, "exists", 1)
	missing := streamARNOf("missing")
	many := map[string]any{}
	for i := 0; i < 51; i++ {
		many[fmt.Sprintf("k%02d", i)] = "v"
	}
	manyKeys := make([]any, 51)
	for i := range manyKeys {
		manyKeys[i] = fmt.Sprintf("k%02d", i)
	}
	for _, tc := range []struct {
		op   string
		body map[string]any
	}{
		{"AddTagsToStream", map[string]any{"StreamName": "missing", "Tags": map[string]any{}}},
		{"AddTagsToStream", map[string]any{"StreamName": "missing", "Tags": many}},
		{"RemoveTagsFromStream", map[string]any{"StreamName": "missing", "TagKeys": manyKeys}},
		{"ListTagsForStream", map[string]any{"StreamName": "missing", "Limit": 0}},
		{"CreateStream", map[string]any{"StreamName": "exists", "ShardCount": 0}},
		{"CreateStream", map[string]any{"StreamName": "exists", "ShardCount": 1, "Tags": many}},
		{"DeleteStream", map[string]any{"StreamName": "missing!"}},
		{"DescribeStream", map[string]any{"StreamName": "missing", "Limit": 0}},
		{"DescribeStreamSummary", map[string]any{"StreamName": "missing!"}},
		{"GetShardIterator", map[string]any{"StreamName": "missing", "ShardId": "0", "ShardIteratorType": "BAD"}},
		{"GetRecords", map[string]any{"ShardIterator": "AAAA", "Limit": 0}},
		{"PutRecord", map[string]any{"StreamName": "missing", "PartitionKey": "", "Data": ""}},
		{"PutRecords", map[string]any{"StreamName": "missing", "Records": []any{}}},
		{"MergeShards", map[string]any{"StreamName": "missing", "ShardToMerge": "a b", "AdjacentShardToMerge": "0"}},
		{"SplitShard", map[string]any{"StreamName": "missing", "ShardToSplit": "0", "NewStartingHashKey": "abc"}},
		{"IncreaseStreamRetentionPeriod", map[string]any{"StreamName": "missing", "RetentionPeriodHours": -1}},
		{"DecreaseStreamRetentionPeriod", map[string]any{"StreamName": "missing", "RetentionPeriodHours": -1}},
		{"EnableEnhancedMonitoring", map[string]any{"StreamName": "missing", "ShardLevelMetrics": []any{}}},
		{"DisableEnhancedMonitoring", map[string]any{"StreamName": "missing", "ShardLevelMetrics": []any{"Nope"}}},
		{"StartStreamEncryption", map[string]any{"StreamName": "missing", "EncryptionType": "BAD", "KeyId": "k"}},
		{"StopStreamEncryption", map[string]any{"StreamName": "missing", "EncryptionType": "BAD", "KeyId": "k"}},
		{"UpdateShardCount", map[string]any{"StreamName": "missing", "TargetShardCount": 0, "ScalingType": "UNIFORM_SCALING"}},
		{"UpdateStreamMode", map[string]any{"StreamARN": missing, "StreamModeDetails": map[string]any{"StreamMode": "BAD"}}},
		{"UpdateMaxRecordSize", map[string]any{"StreamARN": missing, "MaxRecordSizeInKiB": 1}},
		{"UpdateStreamWarmThroughput", map[string]any{"StreamARN": missing, "WarmThroughputMiBps": -1}},
		{"ListShards", map[string]any{"StreamName": "missing", "MaxResults": 0}},
		{"RegisterStreamConsumer", map[string]any{"StreamARN": missing, "ConsumerName": "a b"}},
		{"RegisterStreamConsumer", map[string]any{"StreamARN": missing, "ConsumerName": "c", "Tags": many}},
		{"DeregisterStreamConsumer", map[string]any{"StreamARN": missing, "ConsumerName": "a b"}},
		{"DescribeStreamConsumer", map[string]any{"StreamARN": missing, "ConsumerName": "a b"}},
		{"ListStreamConsumers", map[string]any{"StreamARN": missing, "MaxResults": 0}},
		{"TagResource", map[string]any{"ResourceARN": missing, "Tags": map[string]any{}}},
		{"TagResource", map[string]any{"ResourceARN": missing, "Tags": many}},
		{"UntagResource", map[string]any{"ResourceARN": missing, "TagKeys": []any{}}},
		{"ListTagsForResource", map[string]any{"ResourceARN": "not-an-arn"}},
		{"PutResourcePolicy", map[string]any{"ResourceARN": missing}},
		{"GetResourcePolicy", map[string]any{"ResourceARN": "not-an-arn"}},
		{"DeleteResourcePolicy", map[string]any{"ResourceARN": "not-an-arn"}},
		{"SubscribeToShard", map[string]any{"ConsumerARN": missing + "/consumer/c:1", "ShardId": "0", "StartingPosition": map[string]any{"Type": "BAD"}}},
	} {
		for _, useCBOR := range []bool{false, true} {
			st, typ, msg := postCodec(t, srv.URL(), tc.op, tc.body, useCBOR)
			if st != 400 || typ != "ValidationException" || !strings.Contains(msg, "validation error") {
				t.Errorf("%s %v (cbor %v): %d %s %q, want ValidationException", tc.op, tc.body, useCBOR, st, typ, msg)
			}
		}
	}
	// through the SDK: 51 tags on a missing stream
	tags := map[string]string{}
	for i := 0; i < 51; i++ {
		tags[fmt.Sprintf("k%02d", i)] = "v"
	}
	_, err := c.AddTagsToStream(context.Background(), &kinesis.AddTagsToStreamInput{StreamName: aws.String("missing"), Tags: tags})
	apiErr(t, err, "ValidationException")
	_, err = c.CreateStream(context.Background(), &kinesis.CreateStreamInput{StreamName: aws.String("exists"), ShardCount: aws.Int32(1), Tags: tags})
	apiErr(t, err, "ValidationException")
}

// The iterator type's arguments are checked after the stream and the shard:
// a missing stream is ResourceNotFoundException whatever the arguments.
func TestGetShardIteratorArgumentsAfterLookup(t *testing.T) {
	srv, c := startCtrl(t)
	createStream(t, c, "args", 1)
	noSeq := map[string]any{"StreamName": "nope", "ShardId": "shardId-000000000000", "ShardIteratorType": "AT_SEQUENCE_NUMBER"}
	wantRaw(t, srv, "GetShardIterator", noSeq, "ResourceNotFoundException", "Stream nope under account 000000000000 not found.")
	noSeq["StreamName"] = "args"
	noSeq["ShardId"] = "shardId-000000000009"
	wantRaw(t, srv, "GetShardIterator", noSeq, "ResourceNotFoundException", "Shard shardId-000000000009 in stream args under account 000000000000 does not exist")
	noSeq["ShardId"] = "shardId-000000000000"
	wantRaw(t, srv, "GetShardIterator", noSeq, "InvalidArgumentException",
		"Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and StartingSequenceNumber or (2) TRIM_HORIZON or LATEST and no StartingSequenceNumber. Request specified AT_SEQUENCE_NUMBER and no StartingSequenceNumber.")
	wantRaw(t, srv, "GetShardIterator", map[string]any{"StreamName": "nope", "ShardId": "0", "ShardIteratorType": "AT_TIMESTAMP"},
		"ResourceNotFoundException", "Stream nope under account 000000000000 not found.")
}

// PutRecords' fast JSON path gives way to the full decoder for anything it
// does not expect, so its records get the same messages.
func TestPutRecordsFastPathSerialization(t *testing.T) {
	srv, c := startCtrl(t)
	createStream(t, c, "fast", 1)
	for _, tc := range []struct {
		data any
		msg  string
	}{
		{"+/+=", "'+/+=' can not be converted to a Blob: Invalid last non-pad Base64 character dectected"},
		{"23456", "'23456' can not be converted to a Blob: Base64 encoded length is expected a multiple of 4 bytes but found: 5"},
		{"=+/=", "'=+/=' can not be converted to a Blob: Invalid Base64 character: '='"},
		{12, "NUMBER_VALUE can not be converted to a Blob"},
		{[]any{1}, "Start of list found where not expected"},
	} {
		body := map[string]any{"StreamName": "fast", "Records": []any{map[string]any{"Data": "aGk=", "PartitionKey": "k"}, map[string]any{"Data": tc.data, "PartitionKey": "k"}}}
		wantRaw(t, srv, "PutRecords", body, "SerializationException", tc.msg)
	}
}

// rewriteBody replaces old with new in the serialized request body before
// signing, to make the SDK send a member of the wrong type.
func rewriteBody(old, new string) func(*middleware.Stack) error {
	return func(s *middleware.Stack) error {
		return s.Build.Add(middleware.BuildMiddlewareFunc("rewrite", func(ctx context.Context, in middleware.BuildInput, next middleware.BuildHandler) (out middleware.BuildOutput, md middleware.Metadata, err error) {
			if req, ok := in.Request.(*smithyhttp.Request); ok {
				if r := req.GetStream(); r != nil {
					b, _ := io.ReadAll(r)
					b = bytes.Replace(b, []byte(old), []byte(new), 1)
					if req, err = req.SetStream(bytes.NewReader(b)); err != nil {
						return out, md, err
					}
					req.ContentLength = int64(len(b))
					in.Request = req
				}
			}
			return next.HandleBuild(ctx, in)
		}), middleware.After)
	}
}

// Through the SDK: a wrong member type comes back as SerializationException
// with AWS's text, which the SDK reads from the capital "Message".
func TestSerializationErrorsThroughSDK(t *testing.T) {
	srv := eddytest.Start(t)
	for _, tc := range []struct {
		old, new, msg string
		call          func(c *kinesis.Client) error
	}{
		{`"ShardCount":1`, `"ShardCount":"1"`, "STRING_VALUE can not be converted to an Integer", func(c *kinesis.Client) error {
			_, err := c.CreateStream(context.Background(), &kinesis.CreateStreamInput{StreamName: aws.String("sdk"), ShardCount: aws.Int32(1)})
			return err
		}},
		{`"Timestamp":`, `"Timestamp":"2026-12-03T00:00:00Z","X":`, "class java.lang.String can not be converted to milliseconds since epoch", func(c *kinesis.Client) error {
			_, err := c.GetShardIterator(context.Background(), &kinesis.GetShardIteratorInput{StreamName: aws.String("sdk"), ShardId: aws.String("0"), ShardIteratorType: types.ShardIteratorTypeAtTimestamp, Timestamp: aws.Time(time.Unix(1, 0))})
			return err
		}},
	} {
		if tc.call == nil {
			continue
		}
		c := kinesis.NewFromConfig(eddytest.AWSConfig(srv.URL(), "", ""), func(o *kinesis.Options) {
			o.RetryMaxAttempts = 1
			o.APIOptions = append(o.APIOptions, rewriteBody(tc.old, tc.new))
		})
		wantErr(t, tc.call(c), "SerializationException", tc.msg)
	}
	// a list where the Tags map is expected
	c := kinesis.NewFromConfig(eddytest.AWSConfig(srv.URL(), "", ""), func(o *kinesis.Options) {
		o.RetryMaxAttempts = 1
		o.APIOptions = append(o.APIOptions, rewriteBody(`"Tags":{"k":"v"}`, `"Tags":[{"k":"v"}]`))
	})
	_, err := c.AddTagsToStream(context.Background(), &kinesis.AddTagsToStreamInput{StreamName: aws.String("sdk"), Tags: map[string]string{"k": "v"}})
	wantErr(t, err, "SerializationException", "Start of list found where not expected")
}
