package dynamodb

import (
	"bytes"
	"encoding/json"
	"hash/crc32"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"testing"
)

// kclStep is one request exactly as the Java KCL 2.x/3.x sends it (the
// shapes of DynamoDBLeaseSerializer and DynamoDBLeaseRefresher: legacy
// Expected + AttributeUpdates, ReturnValues and
// ReturnValuesOnConditionCheckFailure) and the response DynamoDB gives.
type kclStep struct {
	name   string
	op     string
	req    string
	status int
	resp   string // expected JSON body (compared as JSON values)
}

// TestKCLLeaseTableReplay replays a lease table's life: create table,
// create leases if not exists, take, renew, a stale renew, checkpoint,
// evict, the 3.x GSI and its lease-discovery query, a paged parallel scan,
// delete. Each response must equal DynamoDB's.
func TestKCLLeaseTableReplay(t *testing.T) {
	e := start(t, "")
	steps := []kclStep{
		{"create lease table", "CreateTable",
			`{"AttributeDefinitions":[{"AttributeName":"leaseKey","AttributeType":"S"}],"TableName":"kcl-app","KeySchema":[{"AttributeName":"leaseKey","KeyType":"HASH"}],"BillingMode":"PAY_PER_REQUEST","DeletionProtectionEnabled":false,"Tags":[]}`,
			200, ""},
		{"create lease if not exists", "PutItem",
			`{"TableName":"kcl-app","Item":{"leaseKey":{"S":"shardId-000000000000"},"leaseCounter":{"N":"0"},"checkpoint":{"S":"TRIM_HORIZON"},"checkpointSubSequenceNumber":{"N":"0"},"ownerSwitchesSinceCheckpoint":{"N":"0"},"startingHashKey":{"S":"0"},"endingHashKey":{"S":"170141183460469231731687303715884105727"}},"Expected":{"leaseKey":{"Exists":false}}}`,
			200, `{}`},
		{"create second lease", "PutItem",
			`{"TableName":"kcl-app","Item":{"leaseKey":{"S":"shardId-000000000001"},"leaseCounter":{"N":"0"},"checkpoint":{"S":"TRIM_HORIZON"},"checkpointSubSequenceNumber":{"N":"0"},"ownerSwitchesSinceCheckpoint":{"N":"0"},"parentShardId":{"SS":["shardId-000000000000"]}},"Expected":{"leaseKey":{"Exists":false}}}`,
			200, `{}`},
		{"create lease again fails", "PutItem",
			`{"TableName":"kcl-app","Item":{"leaseKey":{"S":"shardId-000000000000"},"leaseCounter":{"N":"0"},"checkpoint":{"S":"LATEST"}},"Expected":{"leaseKey":{"Exists":false}}}`,
			400, `{"__type":"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException","message":"The conditional request failed"}`},
		{"take unowned lease", "UpdateItem",
			`{"TableName":"kcl-app","Key":{"leaseKey":{"S":"shardId-000000000000"}},"Expected":{"leaseCounter":{"Value":{"N":"0"}}},"AttributeUpdates":{"leaseCounter":{"Value":{"N":"1"},"Action":"PUT"},"leaseOwner":{"Value":{"S":"worker-a"},"Action":"PUT"},"checkpointOwner":{"Action":"DELETE"}},"ReturnValues":"ALL_NEW","ReturnValuesOnConditionCheckFailure":"ALL_OLD"}`,
			200, `{"Attributes":{"leaseKey":{"S":"shardId-000000000000"},"leaseCounter":{"N":"1"},"leaseOwner":{"S":"worker-a"},"checkpoint":{"S":"TRIM_HORIZON"},"checkpointSubSequenceNumber":{"N":"0"},"ownerSwitchesSinceCheckpoint":{"N":"0"},"startingHashKey":{"S":"0"},"endingHashKey":{"S":"170141183460469231731687303715884105727"}}}`},
		{"renew", "UpdateItem",
			`{"TableName":"kcl-app","Key":{"leaseKey":{"S":"shardId-000000000000"}},"Expected":{"leaseCounter":{"Value":{"N":"1"}}},"AttributeUpdates":{"leaseCounter":{"Value":{"N":"2"},"Action":"PUT"}},"ReturnValues":"ALL_NEW","ReturnValuesOnConditionCheckFailure":"ALL_OLD"}`,
			200, `{"Attributes":{"leaseKey":{"S":"shardId-000000000000"},"leaseCounter":{"N":"2"},"leaseOwner":{"S":"worker-a"},"checkpoint":{"S":"TRIM_HORIZON"},"checkpointSubSequenceNumber":{"N":"0"},"ownerSwitchesSinceCheckpoint":{"N":"0"},"startingHashKey":{"S":"0"},"endingHashKey":{"S":"170141183460469231731687303715884105727"}}}`},
		{"stale renew returns the current lease", "UpdateItem",
			`{"TableName":"kcl-app","Key":{"leaseKey":{"S":"shardId-000000000000"}},"Expected":{"leaseCounter":{"Value":{"N":"1"}}},"AttributeUpdates":{"leaseCounter":{"Value":{"N":"2"},"Action":"PUT"}},"ReturnValues":"ALL_NEW","ReturnValuesOnConditionCheckFailure":"ALL_OLD"}`,
			400, `{"__type":"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException","message":"The conditional request failed","Item":{"leaseKey":{"S":"shardId-000000000000"},"leaseCounter":{"N":"2"},"leaseOwner":{"S":"worker-a"},"checkpoint":{"S":"TRIM_HORIZON"},"checkpointSubSequenceNumber":{"N":"0"},"ownerSwitchesSinceCheckpoint":{"N":"0"},"startingHashKey":{"S":"0"},"endingHashKey":{"S":"170141183460469231731687303715884105727"}}}`},
		{"steal: take from another owner", "UpdateItem",
			`{"TableName":"kcl-app","Key":{"leaseKey":{"S":"shardId-000000000000"}},"Expected":{"leaseCounter":{"Value":{"N":"2"}}},"AttributeUpdates":{"leaseCounter":{"Value":{"N":"3"},"Action":"PUT"},"leaseOwner":{"Value":{"S":"worker-b"},"Action":"PUT"},"ownerSwitchesSinceCheckpoint":{"Value":{"N":"1"},"Action":"ADD"},"checkpointOwner":{"Action":"DELETE"}},"ReturnValues":"ALL_NEW"}`,
			200, `{"Attributes":{"leaseKey":{"S":"shardId-000000000000"},"leaseCounter":{"N":"3"},"leaseOwner":{"S":"worker-b"},"checkpoint":{"S":"TRIM_HORIZON"},"checkpointSubSequenceNumber":{"N":"0"},"ownerSwitchesSinceCheckpoint":{"N":"1"},"startingHashKey":{"S":"0"},"endingHashKey":{"S":"170141183460469231731687303715884105727"}}}`},
		{"checkpoint", "UpdateItem",
			`{"TableName":"kcl-app","Key":{"leaseKey":{"S":"shardId-000000000000"}},"Expected":{"leaseCounter":{"Value":{"N":"3"}},"leaseOwner":{"Value":{"S":"worker-b"}}},"AttributeUpdates":{"leaseCounter":{"Value":{"N":"4"},"Action":"PUT"},"checkpoint":{"Value":{"S":"49590338271490256608559692538361571095921575989136588898"},"Action":"PUT"},"checkpointSubSequenceNumber":{"Value":{"N":"7"},"Action":"PUT"},"ownerSwitchesSinceCheckpoint":{"Value":{"N":"0"},"Action":"PUT"},"pendingCheckpoint":{"Action":"DELETE"},"pendingCheckpointSubSequenceNumber":{"Action":"DELETE"},"pendingCheckpointState":{"Action":"DELETE"}},"ReturnValues":"UPDATED_NEW"}`,
			200, `{"Attributes":{"leaseCounter":{"N":"4"},"checkpoint":{"S":"49590338271490256608559692538361571095921575989136588898"},"checkpointSubSequenceNumber":{"N":"7"},"ownerSwitchesSinceCheckpoint":{"N":"0"}}}`},
		{"evict with the wrong owner fails", "UpdateItem",
			`{"TableName":"kcl-app","Key":{"leaseKey":{"S":"shardId-000000000000"}},"Expected":{"leaseOwner":{"Value":{"S":"worker-a"}}},"AttributeUpdates":{"leaseOwner":{"Action":"DELETE"},"leaseCounter":{"Value":{"N":"5"},"Action":"PUT"}}}`,
			400, `{"__type":"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException","message":"The conditional request failed"}`},
		{"evict", "UpdateItem",
			`{"TableName":"kcl-app","Key":{"leaseKey":{"S":"shardId-000000000000"}},"Expected":{"leaseOwner":{"Value":{"S":"worker-b"}}},"AttributeUpdates":{"leaseOwner":{"Action":"DELETE"},"leaseCounter":{"Value":{"N":"5"},"Action":"PUT"}},"ReturnValues":"UPDATED_OLD"}`,
			200, `{"Attributes":{"leaseOwner":{"S":"worker-b"},"leaseCounter":{"N":"4"}}}`},
		{"assign (3.x leader): owner absent", "UpdateItem",
			`{"TableName":"kcl-app","Key":{"leaseKey":{"S":"shardId-000000000000"}},"Expected":{"leaseOwner":{"Exists":false},"leaseKey":{"Value":{"S":"shardId-000000000000"},"Exists":true}},"AttributeUpdates":{"leaseOwner":{"Value":{"S":"worker-c"},"Action":"PUT"},"leaseCounter":{"Value":{"N":"1"},"Action":"ADD"},"checkpointOwner":{"Action":"DELETE"}},"ReturnValues":"ALL_NEW"}`,
			200, `{"Attributes":{"leaseKey":{"S":"shardId-000000000000"},"leaseCounter":{"N":"6"},"leaseOwner":{"S":"worker-c"},"checkpoint":{"S":"49590338271490256608559692538361571095921575989136588898"},"checkpointSubSequenceNumber":{"N":"7"},"ownerSwitchesSinceCheckpoint":{"N":"0"},"startingHashKey":{"S":"0"},"endingHashKey":{"S":"170141183460469231731687303715884105727"}}}`},
		{"graceful handoff (3.x)", "UpdateItem",
			`{"TableName":"kcl-app","Key":{"leaseKey":{"S":"shardId-000000000000"}},"Expected":{"leaseOwner":{"Value":{"S":"worker-c"},"Exists":true},"checkpointOwner":{"Exists":false},"leaseKey":{"Value":{"S":"shardId-000000000000"},"Exists":true}},"AttributeUpdates":{"leaseOwner":{"Value":{"S":"worker-d"},"Action":"PUT"},"checkpointOwner":{"Value":{"S":"worker-c"},"Action":"PUT"}},"ReturnValues":"UPDATED_NEW"}`,
			200, `{"Attributes":{"leaseOwner":{"S":"worker-d"},"checkpointOwner":{"S":"worker-c"}}}`},
		{"add the lease-owner index", "UpdateTable",
			`{"TableName":"kcl-app","AttributeDefinitions":[{"AttributeName":"leaseOwner","AttributeType":"S"}],"GlobalSecondaryIndexUpdates":[{"Create":{"IndexName":"LeaseOwnerToLeaseKeyIndex","KeySchema":[{"AttributeName":"leaseOwner","KeyType":"HASH"}],"Projection":{"ProjectionType":"KEYS_ONLY"}}}]}`,
			200, ""},
		{"lease discovery query", "Query",
			`{"TableName":"kcl-app","IndexName":"LeaseOwnerToLeaseKeyIndex","KeyConditionExpression":"#leaseOwner = :leaseOwner","ExpressionAttributeNames":{"#leaseOwner":"leaseOwner"},"ExpressionAttributeValues":{":leaseOwner":{"S":"worker-d"}}}`,
			200, `{"Items":[{"leaseKey":{"S":"shardId-000000000000"},"leaseOwner":{"S":"worker-d"}}],"Count":1,"ScannedCount":1}`},
		{"list leases: parallel scan page 1", "Scan",
			`{"TableName":"kcl-app","Limit":1,"Segment":0,"TotalSegments":1,"ConsistentRead":true}`,
			200, `{"Items":[{"leaseKey":{"S":"shardId-000000000000"},"leaseCounter":{"N":"6"},"leaseOwner":{"S":"worker-d"},"checkpointOwner":{"S":"worker-c"},"checkpoint":{"S":"49590338271490256608559692538361571095921575989136588898"},"checkpointSubSequenceNumber":{"N":"7"},"ownerSwitchesSinceCheckpoint":{"N":"0"},"startingHashKey":{"S":"0"},"endingHashKey":{"S":"170141183460469231731687303715884105727"}}],"Count":1,"ScannedCount":1,"LastEvaluatedKey":{"leaseKey":{"S":"shardId-000000000000"}}}`},
		{"list leases: parallel scan page 2", "Scan",
			`{"TableName":"kcl-app","Limit":1,"Segment":0,"TotalSegments":1,"ConsistentRead":true,"ExclusiveStartKey":{"leaseKey":{"S":"shardId-000000000000"}}}`,
			200, `{"Items":[{"leaseKey":{"S":"shardId-000000000001"},"leaseCounter":{"N":"0"},"checkpoint":{"S":"TRIM_HORIZON"},"checkpointSubSequenceNumber":{"N":"0"},"ownerSwitchesSinceCheckpoint":{"N":"0"},"parentShardId":{"SS":["shardId-000000000000"]}}],"Count":1,"ScannedCount":1,"LastEvaluatedKey":{"leaseKey":{"S":"shardId-000000000001"}}}`},
		{"list leases: parallel scan page 3 (empty)", "Scan",
			`{"TableName":"kcl-app","Limit":1,"Segment":0,"TotalSegments":1,"ConsistentRead":true,"ExclusiveStartKey":{"leaseKey":{"S":"shardId-000000000001"}}}`,
			200, `{"Items":[],"Count":0,"ScannedCount":0}`},
		{"get lease", "GetItem",
			`{"TableName":"kcl-app","Key":{"leaseKey":{"S":"shardId-000000000001"}},"ConsistentRead":true}`,
			200, `{"Item":{"leaseKey":{"S":"shardId-000000000001"},"leaseCounter":{"N":"0"},"checkpoint":{"S":"TRIM_HORIZON"},"checkpointSubSequenceNumber":{"N":"0"},"ownerSwitchesSinceCheckpoint":{"N":"0"},"parentShardId":{"SS":["shardId-000000000000"]}}}`},
		{"shard end: child shard ids and SHARD_END", "UpdateItem",
			`{"TableName":"kcl-app","Key":{"leaseKey":{"S":"shardId-000000000001"}},"Expected":{"leaseCounter":{"Value":{"N":"0"}}},"AttributeUpdates":{"leaseCounter":{"Value":{"N":"1"},"Action":"PUT"},"childShardIds":{"Value":{"SS":["shardId-000000000002","shardId-000000000003"]},"Action":"PUT"},"checkpoint":{"Value":{"S":"SHARD_END"},"Action":"PUT"}},"ReturnValues":"UPDATED_NEW"}`,
			200, `{"Attributes":{"leaseCounter":{"N":"1"},"childShardIds":{"SS":["shardId-000000000002","shardId-000000000003"]},"checkpoint":{"S":"SHARD_END"}}}`},
		{"delete lease", "DeleteItem",
			`{"TableName":"kcl-app","Key":{"leaseKey":{"S":"shardId-000000000001"}},"Expected":{"leaseKey":{"Value":{"S":"shardId-000000000001"}}}}`,
			200, `{}`},
		{"update of a deleted lease (KCL passes Exists on leaseKey)", "UpdateItem",
			`{"TableName":"kcl-app","Key":{"leaseKey":{"S":"shardId-000000000001"}},"Expected":{"leaseKey":{"Value":{"S":"shardId-000000000001"},"Exists":true}},"AttributeUpdates":{"leaseCounter":{"Value":{"N":"2"},"Action":"PUT"}}}`,
			400, `{"__type":"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException","message":"The conditional request failed"}`},
		{"missing table", "Scan",
			`{"TableName":"kcl-other"}`,
			400, `{"__type":"com.amazonaws.dynamodb.v20120810#ResourceNotFoundException","message":"Requested resource not found"}`},
	}
	for _, st := range steps {
		status, body, hdr := rawCall(t, e.srv.URL, st.op, st.req)
		if status != st.status {
			t.Fatalf("%s: status %d, want %d: %s", st.name, status, st.status, body)
		}
		if ct := hdr.Get("Content-Type"); ct != ContentType {
			t.Fatalf("%s: content type %q", st.name, ct)
		}
		if crc := hdr.Get("x-amz-crc32"); crc != strconv.FormatUint(uint64(crc32.ChecksumIEEE(body)), 10) {
			t.Fatalf("%s: x-amz-crc32 %q does not match the body", st.name, crc)
		}
		if st.resp == "" {
			continue
		}
		var got, want any
		if err := json.Unmarshal(body, &got); err != nil {
			t.Fatalf("%s: response %s: %v", st.name, body, err)
		}
		if err := json.Unmarshal([]byte(st.resp), &want); err != nil {
			t.Fatalf("%s: expected response: %v", st.name, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s:\n got  %s\n want %s", st.name, body, st.resp)
		}
	}
}

func rawCall(t testing.TB, url, op, body string) (int, []byte, http.Header) {
	t.Helper()
	req, err := http.NewRequest("POST", url+"/", bytes.NewReader([]byte(body)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	req.Header.Set("X-Amz-Target", TargetPrefix+"."+op)
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=00")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b, resp.Header
}
