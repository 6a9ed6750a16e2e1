package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestDynamoDBCLI drives DynamoDB with the AWS CLI v1: a lease table, a
// conditional put, an update, a query on a GSI added by update-table, then
// a restart of the binary, after which the items are still there.
func TestDynamoDBCLI(t *testing.T) {
	dir := t.TempDir()
	s := startServer(t, dir)
	ep := "--endpoint-url=" + s.URL
	run(t, "", "aws", ep, "dynamodb", "create-table", "--table-name", "kcl-app",
		"--attribute-definitions", "AttributeName=leaseKey,AttributeType=S",
		"--key-schema", "AttributeName=leaseKey,KeyType=HASH", "--billing-mode", "PAY_PER_REQUEST")
	run(t, "", "aws", ep, "dynamodb", "wait", "table-exists", "--table-name", "kcl-app")
	run(t, "", "aws", ep, "dynamodb", "put-item", "--table-name", "kcl-app",
		"--item", `{"leaseKey":{"S":"shardId-000000000000"},"leaseCounter":{"N":"0"},"leaseOwner":{"S":"w1"}}`,
		"--condition-expression", "attribute_not_exists(leaseKey)")
	errOut := runFail(t, "aws", ep, "dynamodb", "put-item", "--table-name", "kcl-app",
		"--item", `{"leaseKey":{"S":"shardId-000000000000"}}`, "--condition-expression", "attribute_not_exists(leaseKey)")
	if !strings.Contains(errOut, "ConditionalCheckFailedException") || !strings.Contains(errOut, "The conditional request failed") {
		t.Fatalf("conditional put: %s", errOut)
	}
	out := run(t, "", "aws", ep, "dynamodb", "update-item", "--table-name", "kcl-app",
		"--key", `{"leaseKey":{"S":"shardId-000000000000"}}`,
		"--update-expression", "SET leaseCounter = leaseCounter + :one", "--expression-attribute-values", `{":one":{"N":"1"}}`,
		"--return-values", "UPDATED_NEW")
	if !strings.Contains(out, `"N": "1"`) {
		t.Fatalf("update-item: %s", out)
	}
	run(t, "", "aws", ep, "dynamodb", "update-table", "--table-name", "kcl-app",
		"--attribute-definitions", "AttributeName=leaseOwner,AttributeType=S",
		"--global-secondary-index-updates", `[{"Create":{"IndexName":"LeaseOwnerToLeaseKeyIndex","KeySchema":[{"AttributeName":"leaseOwner","KeyType":"HASH"}],"Projection":{"ProjectionType":"KEYS_ONLY"}}}]`)
	var q struct {
		Count int
		Items []map[string]map[string]string
	}
	out = run(t, "", "aws", ep, "dynamodb", "query", "--table-name", "kcl-app", "--index-name", "LeaseOwnerToLeaseKeyIndex",
		"--key-condition-expression", "leaseOwner = :o", "--expression-attribute-values", `{":o":{"S":"w1"}}`)
	if err := json.Unmarshal([]byte(out), &q); err != nil || q.Count != 1 || q.Items[0]["leaseKey"]["S"] != "shardId-000000000000" {
		t.Fatalf("query: %s", out)
	}
	s.stop(t)

	s = startServer(t, dir)
	ep = "--endpoint-url=" + s.URL
	out = run(t, "", "aws", ep, "dynamodb", "get-item", "--table-name", "kcl-app", "--key", `{"leaseKey":{"S":"shardId-000000000000"}}`, "--consistent-read")
	if !strings.Contains(out, `"leaseOwner"`) || !strings.Contains(out, `"N": "1"`) {
		t.Fatalf("get-item after restart: %s", out)
	}
	out = run(t, "", "aws", ep, "dynamodb", "describe-table", "--table-name", "kcl-app")
	if !strings.Contains(out, "LeaseOwnerToLeaseKeyIndex") || !strings.Contains(out, `"ItemCount": 1`) {
		t.Fatalf("describe-table after restart: %s", out)
	}
	out = run(t, "", "aws", ep, "sts", "get-caller-identity")
	if !strings.Contains(out, `"Account": "000000000000"`) || !strings.Contains(out, `"Arn": "arn:aws:iam::000000000000:root"`) {
		t.Fatalf("sts get-caller-identity: %s", out)
	}
	run(t, "", "aws", ep, "cloudwatch", "put-metric-data", "--namespace", "kcl-app", "--metric-name", "RecordsProcessed", "--value", "42", "--unit", "Count",
		"--dimensions", "ShardId=shardId-000000000000")
	resp, err := http.Get(s.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), `eddy_cloudwatch_metric_last{account="000000000000",namespace="kcl-app",metric="RecordsProcessed",unit="Count",dimensions="ShardId=shardId-000000000000"} 42`) {
		t.Fatalf("/metrics after put-metric-data:\n%s", b)
	}
	s.stop(t)
}

// TestDynamoDBBoto3 drives DynamoDB with boto3's resource and client APIs:
// batch writer, query with Key conditions, scan paging, transactions and
// the error shapes boto3 raises.
func TestDynamoDBBoto3(t *testing.T) {
	s := startServer(t, "")
	script := `
import boto3, sys
from decimal import Decimal
from boto3.dynamodb.conditions import Key, Attr
ep = sys.argv[1]
ddb = boto3.resource("dynamodb", endpoint_url=ep, region_name="us-east-1")
c = boto3.client("dynamodb", endpoint_url=ep, region_name="us-east-1")
t = ddb.create_table(TableName="events",
    KeySchema=[{"AttributeName": "dev", "KeyType": "HASH"}, {"AttributeName": "ts", "KeyType": "RANGE"}],
    AttributeDefinitions=[{"AttributeName": "dev", "AttributeType": "S"}, {"AttributeName": "ts", "AttributeType": "N"}],
    BillingMode="PAY_PER_REQUEST")
t.wait_until_exists()
with t.batch_writer() as bw:
    for d in range(3):
        for ts in range(40):
            bw.put_item(Item={"dev": "d%d" % d, "ts": ts, "v": Decimal("0.5") * ts, "tags": {"a", "b"}})
r = t.query(KeyConditionExpression=Key("dev").eq("d1") & Key("ts").between(10, 19), FilterExpression=Attr("v").gte(Decimal(7)))
assert r["Count"] == 6 and r["ScannedCount"] == 10, r
assert [int(i["ts"]) for i in r["Items"]] == list(range(14, 20)), r["Items"]
seen, start = 0, None
while True:
    kw = {"Limit": 17}
    if start: kw["ExclusiveStartKey"] = start
    p = t.scan(**kw)
    seen += len(p["Items"])
    start = p.get("LastEvaluatedKey")
    if not start: break
assert seen == 120, seen
t.update_item(Key={"dev": "d0", "ts": 1}, UpdateExpression="ADD tags :t REMOVE v", ExpressionAttributeValues={":t": {"c"}})
it = t.get_item(Key={"dev": "d0", "ts": 1})["Item"]
assert it["tags"] == {"a", "b", "c"} and "v" not in it, it
try:
    c.transact_write_items(TransactItems=[
        {"Put": {"TableName": "events", "Item": {"dev": {"S": "x"}, "ts": {"N": "1"}}}},
        {"ConditionCheck": {"TableName": "events", "Key": {"dev": {"S": "d0"}, "ts": {"N": "1"}}, "ConditionExpression": "attribute_not_exists(dev)"}}])
    raise SystemExit("transaction should fail")
except c.exceptions.TransactionCanceledException as e:
    codes = [r["Code"] for r in e.response["CancellationReasons"]]
    assert codes == ["None", "ConditionalCheckFailed"], e.response
try:
    t.put_item(Item={"dev": "d0", "ts": 1}, ConditionExpression=Attr("dev").not_exists())
    raise SystemExit("put should fail")
except c.exceptions.ConditionalCheckFailedException:
    pass
try:
    c.describe_table(TableName="missing")
    raise SystemExit("describe should fail")
except c.exceptions.ResourceNotFoundException as e:
    assert "Table: missing not found" in str(e), e
sts = boto3.client("sts", endpoint_url=ep, region_name="us-east-1")
assert sts.get_caller_identity()["Account"] == "000000000000"
cw = boto3.client("cloudwatch", endpoint_url=ep, region_name="us-east-1")
cw.put_metric_data(Namespace="py", MetricData=[{"MetricName": "m", "Value": 3.0, "Unit": "Count"}])
print("ok")
`
	out := run(t, "", "python3", "-c", script, s.URL)
	if strings.TrimSpace(out) != "ok" {
		t.Fatalf("boto3 script: %s", out)
	}
	resp, err := http.Get(s.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), `namespace="py",metric="m",unit="Count",dimensions=""} 3`) {
		t.Fatalf("/metrics after boto3 put_metric_data:\n%s", b)
	}
	s.stop(t)
}
