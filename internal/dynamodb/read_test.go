package dynamodb

import (
	"fmt"
	"sort"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// eventsTable: hash "dev" (S), range "ts" (N), GSI "byKind" (kind, ts).
func (e *testEnv) eventsTable(t *testing.T) {
	t.Helper()
	_, err := e.c.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName: aws.String("events"),
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String("dev"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("ts"), AttributeType: types.ScalarAttributeTypeN},
			{AttributeName: aws.String("kind"), AttributeType: types.ScalarAttributeTypeS},
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String("dev"), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String("ts"), KeyType: types.KeyTypeRange},
		},
		BillingMode: types.BillingModePayPerRequest,
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{
			IndexName:  aws.String("byKind"),
			KeySchema:  []types.KeySchemaElement{{AttributeName: aws.String("kind"), KeyType: types.KeyTypeHash}, {AttributeName: aws.String("ts"), KeyType: types.KeyTypeRange}},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeInclude, NonKeyAttributes: []string{"val"}},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	var reqs []types.WriteRequest
	flush := func() {
		if len(reqs) == 0 {
			return
		}
		out, err := e.c.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{"events": reqs}})
		if err != nil || len(out.UnprocessedItems) != 0 {
			t.Fatalf("batch write: %v %v", err, out)
		}
		reqs = nil
	}
	for d := 0; d < 3; d++ {
		for ts := 0; ts < 20; ts++ {
			it := map[string]types.AttributeValue{"dev": s(fmt.Sprintf("d%d", d)), "ts": n(fmt.Sprint(ts * 10)), "val": n(fmt.Sprint(ts)), "other": s("x")}
			if ts%2 == 0 {
				it["kind"] = s("even")
			}
			reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: it}})
			if len(reqs) == 25 {
				flush()
			}
		}
	}
	flush()
}

func TestQueryKeyConditionsAndPaging(t *testing.T) {
	e := start(t, "")
	e.eventsTable(t)
	q := func(in *dynamodb.QueryInput) *dynamodb.QueryOutput {
		t.Helper()
		in.TableName = aws.String("events")
		out, err := e.c.Query(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	vals := func(kv ...any) map[string]types.AttributeValue {
		m := map[string]types.AttributeValue{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1].(types.AttributeValue)
		}
		return m
	}
	for _, c := range []struct {
		kce   string
		vals  map[string]types.AttributeValue
		count int32
		first string
	}{
		{"dev = :d", vals(":d", s("d1")), 20, "0"},
		{"dev = :d AND ts = :t", vals(":d", s("d1"), ":t", n("50")), 1, "50"},
		{"dev = :d AND ts < :t", vals(":d", s("d1"), ":t", n("50")), 5, "0"},
		{"dev = :d AND ts <= :t", vals(":d", s("d1"), ":t", n("50")), 6, "0"},
		{"dev = :d AND ts > :t", vals(":d", s("d1"), ":t", n("150")), 4, "160"},
		{"dev = :d AND ts >= :t", vals(":d", s("d1"), ":t", n("150")), 5, "150"},
		{"dev = :d AND ts BETWEEN :a AND :b", vals(":d", s("d1"), ":a", n("95"), ":b", n("120")), 3, "100"},
		{":d = dev AND (ts > :t)", vals(":d", s("d2"), ":t", n("185")), 1, "190"},
	} {
		out := q(&dynamodb.QueryInput{KeyConditionExpression: aws.String(c.kce), ExpressionAttributeValues: c.vals})
		if out.Count != c.count || (c.count > 0 && getN(out.Items[0], "ts") != c.first) {
			t.Fatalf("%s: count %d first %v", c.kce, out.Count, out.Items)
		}
	}
	// numeric range order (not string order) and reverse
	out := q(&dynamodb.QueryInput{KeyConditionExpression: aws.String("dev = :d"), ExpressionAttributeValues: vals(":d", s("d0")), ScanIndexForward: aws.Bool(false), Limit: aws.Int32(3)})
	if out.Count != 3 || getN(out.Items[0], "ts") != "190" || getN(out.Items[2], "ts") != "170" || out.LastEvaluatedKey == nil {
		t.Fatalf("reverse: %v", out.Items)
	}
	// paging through a partition with a filter: Count counts matches, ScannedCount what was read
	var got []string
	var start map[string]types.AttributeValue
	scanned := int32(0)
	for {
		out := q(&dynamodb.QueryInput{KeyConditionExpression: aws.String("dev = :d"), FilterExpression: aws.String("val >= :v"),
			ExpressionAttributeValues: vals(":d", s("d0"), ":v", n("15")), Limit: aws.Int32(4), ExclusiveStartKey: start})
		for _, it := range out.Items {
			got = append(got, getN(it, "val"))
		}
		scanned += out.ScannedCount
		if out.LastEvaluatedKey == nil {
			break
		}
		start = out.LastEvaluatedKey
	}
	if fmt.Sprint(got) != "[15 16 17 18 19]" || scanned != 20 {
		t.Fatalf("paged filter: %v scanned %d", got, scanned)
	}
	// GSI query: INCLUDE projection keeps keys and val only; paging carries index and table keys
	out = q(&dynamodb.QueryInput{IndexName: aws.String("byKind"), KeyConditionExpression: aws.String("kind = :k AND ts >= :t"),
		ExpressionAttributeValues: vals(":k", s("even"), ":t", n("180")), Limit: aws.Int32(2)})
	if out.Count != 2 || len(out.Items[0]) != 4 || out.Items[0]["other"] != nil || out.Items[0]["val"] == nil {
		t.Fatalf("gsi page 1: %v", out.Items)
	}
	lek := out.LastEvaluatedKey
	if len(lek) != 3 || lek["kind"] == nil || lek["dev"] == nil || lek["ts"] == nil {
		t.Fatalf("gsi LastEvaluatedKey: %v", lek)
	}
	out2 := q(&dynamodb.QueryInput{IndexName: aws.String("byKind"), KeyConditionExpression: aws.String("kind = :k AND ts >= :t"),
		ExpressionAttributeValues: vals(":k", s("even"), ":t", n("180")), ExclusiveStartKey: lek})
	if out2.Count != 1 || out.Count+out2.Count != 3 {
		t.Fatalf("gsi page 2: %v", out2.Items)
	}
	// Select COUNT
	out = q(&dynamodb.QueryInput{KeyConditionExpression: aws.String("dev = :d"), ExpressionAttributeValues: vals(":d", s("d0")), Select: types.SelectCount})
	if out.Count != 20 || out.Items != nil {
		t.Fatalf("count: %d %v", out.Count, out.Items)
	}
	// legacy KeyConditions + QueryFilter + AttributesToGet
	out = q(&dynamodb.QueryInput{
		KeyConditions: map[string]types.Condition{
			"dev": {ComparisonOperator: types.ComparisonOperatorEq, AttributeValueList: []types.AttributeValue{s("d2")}},
			"ts":  {ComparisonOperator: types.ComparisonOperatorBetween, AttributeValueList: []types.AttributeValue{n("0"), n("50")}},
		},
		QueryFilter:     map[string]types.Condition{"val": {ComparisonOperator: types.ComparisonOperatorGt, AttributeValueList: []types.AttributeValue{n("2")}}},
		AttributesToGet: []string{"val"},
	})
	if out.Count != 3 || out.ScannedCount != 6 || len(out.Items[0]) != 1 || getN(out.Items[0], "val") != "3" {
		t.Fatalf("legacy query: %d/%d %v", out.Count, out.ScannedCount, out.Items)
	}
	// errors
	for kce, msg := range map[string]string{
		"ts = :t":                           "Query condition missed key schema element: dev",
		"dev = :d OR ts = :t":               "Invalid operator used in KeyConditionExpression: OR",
		"dev < :d":                          "Query key condition not supported",
		"dev = :d AND val = :t":             "Query condition missed key schema element: dev",
		"dev = :t":                          "Condition parameter type does not match schema type",
		"dev = :d AND ts BETWEEN :u AND :t": "The BETWEEN operator requires upper bound to be greater than or equal to lower bound",
	} {
		v := vals(":d", s("d1"), ":t", n("5"))
		if containsToken(kce, ":u") {
			v[":u"] = n("9")
		}
		for k := range v {
			if !containsToken(kce, k) {
				delete(v, k)
			}
		}
		_, err := e.c.Query(ctx, &dynamodb.QueryInput{TableName: aws.String("events"), KeyConditionExpression: aws.String(kce), ExpressionAttributeValues: v})
		apiErr(t, err, "ValidationException", msg)
	}
	_, err := e.c.Query(ctx, &dynamodb.QueryInput{TableName: aws.String("events"), KeyConditionExpression: aws.String("dev = :d"), FilterExpression: aws.String("ts > :t"), ExpressionAttributeValues: vals(":d", s("d1"), ":t", n("5"))})
	apiErr(t, err, "ValidationException", "Filter Expression can only contain non-primary key attributes: Primary key attribute: ts")
}

func TestScanPagingSegmentsAndFilters(t *testing.T) {
	e := start(t, "")
	e.eventsTable(t)
	// paging: every item exactly once
	seen := map[string]bool{}
	var start map[string]types.AttributeValue
	pages := 0
	for {
		out, err := e.c.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String("events"), Limit: aws.Int32(7), ExclusiveStartKey: start})
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, it := range out.Items {
			k := getS(it, "dev") + "/" + getN(it, "ts")
			if seen[k] {
				t.Fatalf("item %s twice", k)
			}
			seen[k] = true
		}
		if out.LastEvaluatedKey == nil {
			break
		}
		start = out.LastEvaluatedKey
	}
	if len(seen) != 60 || pages != 9 {
		t.Fatalf("scan saw %d items in %d pages", len(seen), pages)
	}
	// the paginator of the SDK agrees
	p := dynamodb.NewScanPaginator(e.c, &dynamodb.ScanInput{TableName: aws.String("events"), Limit: aws.Int32(25)})
	total := 0
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		total += len(out.Items)
	}
	if total != 60 {
		t.Fatalf("paginator: %d", total)
	}
	// parallel scan: segments partition the table, one partition key per segment
	union := map[string]int{}
	for seg := int32(0); seg < 4; seg++ {
		out, err := e.c.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String("events"), Segment: aws.Int32(seg), TotalSegments: aws.Int32(4)})
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range out.Items {
			union[getS(it, "dev")+"/"+getN(it, "ts")]++
		}
	}
	if len(union) != 60 {
		t.Fatalf("segments cover %d items", len(union))
	}
	_, err := e.c.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String("events"), Segment: aws.Int32(4), TotalSegments: aws.Int32(4)})
	apiErr(t, err, "ValidationException", "The Segment parameter is zero-based and must be less than parameter TotalSegments: Segment: 4 is not less than TotalSegments: 4")
	_, err = e.c.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String("events"), Segment: aws.Int32(1)})
	apiErr(t, err, "ValidationException", "The TotalSegments parameter is required but was not present in the request when Segment parameter is present")
	// filter + projection
	out, err := e.c.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String("events"), FilterExpression: aws.String("dev = :d AND val < :v"),
		ProjectionExpression: aws.String("ts, val"), ExpressionAttributeValues: map[string]types.AttributeValue{":d": s("d1"), ":v": n("3")}})
	if err != nil {
		t.Fatal(err)
	}
	var tss []string
	for _, it := range out.Items {
		if len(it) != 2 {
			t.Fatalf("projection: %v", it)
		}
		tss = append(tss, getN(it, "ts"))
	}
	sort.Strings(tss)
	if out.Count != 3 || out.ScannedCount != 60 || fmt.Sprint(tss) != "[0 10 20]" {
		t.Fatalf("filter: %d/%d %v", out.Count, out.ScannedCount, tss)
	}
	// legacy ScanFilter with OR
	out, err = e.c.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String("events"), ConditionalOperator: types.ConditionalOperatorOr,
		ScanFilter: map[string]types.Condition{
			"val":  {ComparisonOperator: types.ComparisonOperatorEq, AttributeValueList: []types.AttributeValue{n("19")}},
			"kind": {ComparisonOperator: types.ComparisonOperatorNull},
		}})
	if err != nil || out.Count != 30 {
		t.Fatalf("legacy scan filter: %v %v", out.Count, err)
	}
	_, err = e.c.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String("events"), IndexName: aws.String("byKind"), ConsistentRead: aws.Bool(true)})
	apiErr(t, err, "ValidationException", "Consistent reads are not supported on global secondary indexes")
	// index scan holds only items with the index keys
	out, err = e.c.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String("events"), IndexName: aws.String("byKind"), Select: types.SelectCount})
	if err != nil || out.Count != 30 {
		t.Fatalf("index scan: %v %v", out.Count, err)
	}
}

func TestBatchAndTransactions(t *testing.T) {
	e := start(t, "")
	e.docTable(t)
	e.leaseTable(t, "leases")
	_, err := e.c.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{
		"docs":   {{PutRequest: &types.PutRequest{Item: map[string]types.AttributeValue{"id": s("1"), "v": n("1")}}}, {PutRequest: &types.PutRequest{Item: map[string]types.AttributeValue{"id": s("2")}}}},
		"leases": {{PutRequest: &types.PutRequest{Item: map[string]types.AttributeValue{"leaseKey": s("a")}}}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.c.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{
		"docs": {{PutRequest: &types.PutRequest{Item: map[string]types.AttributeValue{"id": s("1")}}}, {DeleteRequest: &types.DeleteRequest{Key: map[string]types.AttributeValue{"id": s("1")}}}}}})
	apiErr(t, err, "ValidationException", "Provided list of item keys contains duplicates")
	bg, err := e.c.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{
		"docs":   {Keys: []map[string]types.AttributeValue{{"id": s("1")}, {"id": s("2")}, {"id": s("nope")}}, ProjectionExpression: aws.String("id")},
		"leases": {Keys: []map[string]types.AttributeValue{{"leaseKey": s("a")}}},
	}})
	if err != nil || len(bg.Responses["docs"]) != 2 || len(bg.Responses["leases"]) != 1 || len(bg.UnprocessedKeys) != 0 {
		t.Fatalf("batch get: %v %v", bg, err)
	}
	for _, it := range bg.Responses["docs"] {
		if len(it) != 1 {
			t.Fatalf("batch get projection: %v", it)
		}
	}
	// a transaction that fails changes nothing and names the failing action
	_, err = e.c.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Put: &types.Put{TableName: aws.String("docs"), Item: map[string]types.AttributeValue{"id": s("3")}}},
		{Update: &types.Update{TableName: aws.String("docs"), Key: map[string]types.AttributeValue{"id": s("1")}, UpdateExpression: aws.String("SET v = v + :one"), ExpressionAttributeValues: map[string]types.AttributeValue{":one": n("1")}}},
		{ConditionCheck: &types.ConditionCheck{TableName: aws.String("leases"), Key: map[string]types.AttributeValue{"leaseKey": s("a")}, ConditionExpression: aws.String("attribute_exists(leaseOwner)"), ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld}},
	}})
	var tce *types.TransactionCanceledException
	if !errorsAs(err, &tce) || len(tce.CancellationReasons) != 3 || *tce.CancellationReasons[2].Code != "ConditionalCheckFailed" || *tce.CancellationReasons[0].Code != "None" || getS(tce.CancellationReasons[2].Item, "leaseKey") != "a" {
		t.Fatalf("transaction cancel: %v", err)
	}
	apiErr(t, err, "TransactionCanceledException", "Transaction cancelled, please refer cancellation reasons for specific reasons [None, None, ConditionalCheckFailed]")
	if it := e.get(t, "3"); it != nil {
		t.Fatalf("cancelled put landed: %v", it)
	}
	if v := getN(e.get(t, "1"), "v"); v != "1" {
		t.Fatalf("cancelled update landed: %s", v)
	}
	_, err = e.c.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Put: &types.Put{TableName: aws.String("docs"), Item: map[string]types.AttributeValue{"id": s("3")}, ConditionExpression: aws.String("attribute_not_exists(id)")}},
		{Update: &types.Update{TableName: aws.String("docs"), Key: map[string]types.AttributeValue{"id": s("1")}, UpdateExpression: aws.String("SET v = v + :one"), ExpressionAttributeValues: map[string]types.AttributeValue{":one": n("1")}}},
		{Delete: &types.Delete{TableName: aws.String("docs"), Key: map[string]types.AttributeValue{"id": s("2")}}},
		{ConditionCheck: &types.ConditionCheck{TableName: aws.String("leases"), Key: map[string]types.AttributeValue{"leaseKey": s("a")}, ConditionExpression: aws.String("attribute_not_exists(leaseOwner)")}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if e.get(t, "3") == nil || getN(e.get(t, "1"), "v") != "2" || e.get(t, "2") != nil {
		t.Fatal("transaction did not apply")
	}
	_, err = e.c.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Put: &types.Put{TableName: aws.String("docs"), Item: map[string]types.AttributeValue{"id": s("3")}}},
		{Delete: &types.Delete{TableName: aws.String("docs"), Key: map[string]types.AttributeValue{"id": s("3")}}},
	}})
	apiErr(t, err, "ValidationException", "Transaction request cannot include multiple operations on one item")
	tg, err := e.c.TransactGetItems(ctx, &dynamodb.TransactGetItemsInput{TransactItems: []types.TransactGetItem{
		{Get: &types.Get{TableName: aws.String("docs"), Key: map[string]types.AttributeValue{"id": s("1")}}},
		{Get: &types.Get{TableName: aws.String("docs"), Key: map[string]types.AttributeValue{"id": s("gone")}}},
	}})
	if err != nil || len(tg.Responses) != 2 || getN(tg.Responses[0].Item, "v") != "2" || tg.Responses[1].Item != nil {
		t.Fatalf("transact get: %v %v", tg, err)
	}
}

func TestTTLBackupsAndTags(t *testing.T) {
	e := start(t, "")
	e.leaseTable(t, "app")
	d, err := e.c.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String("app")})
	if err != nil || d.TimeToLiveDescription.TimeToLiveStatus != types.TimeToLiveStatusDisabled {
		t.Fatalf("ttl before: %v %v", d, err)
	}
	spec := &types.TimeToLiveSpecification{AttributeName: aws.String("expires"), Enabled: aws.Bool(true)}
	if _, err := e.c.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{TableName: aws.String("app"), TimeToLiveSpecification: spec}); err != nil {
		t.Fatal(err)
	}
	_, err = e.c.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{TableName: aws.String("app"), TimeToLiveSpecification: spec})
	apiErr(t, err, "ValidationException", "TimeToLive is already enabled")
	d, _ = e.c.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String("app")})
	if d.TimeToLiveDescription.TimeToLiveStatus != types.TimeToLiveStatusEnabled || *d.TimeToLiveDescription.AttributeName != "expires" {
		t.Fatalf("ttl after: %+v", d.TimeToLiveDescription)
	}
	b, err := e.c.UpdateContinuousBackups(ctx, &dynamodb.UpdateContinuousBackupsInput{TableName: aws.String("app"),
		PointInTimeRecoverySpecification: &types.PointInTimeRecoverySpecification{PointInTimeRecoveryEnabled: aws.Bool(true)}})
	if err != nil || b.ContinuousBackupsDescription.PointInTimeRecoveryDescription.PointInTimeRecoveryStatus != types.PointInTimeRecoveryStatusEnabled {
		t.Fatalf("pitr: %v %v", b, err)
	}
	db, err := e.c.DescribeContinuousBackups(ctx, &dynamodb.DescribeContinuousBackupsInput{TableName: aws.String("app")})
	if err != nil || *db.ContinuousBackupsDescription.PointInTimeRecoveryDescription.RecoveryPeriodInDays != 35 {
		t.Fatalf("describe pitr: %v %v", db, err)
	}
	_, err = e.c.UpdateContinuousBackups(ctx, &dynamodb.UpdateContinuousBackupsInput{TableName: aws.String("nope"),
		PointInTimeRecoverySpecification: &types.PointInTimeRecoverySpecification{PointInTimeRecoveryEnabled: aws.Bool(true)}})
	apiErr(t, err, "TableNotFoundException", "Table not found: nope")
	arn := aws.String("arn:aws:dynamodb:us-east-1:000000000000:table/app")
	if _, err := e.c.TagResource(ctx, &dynamodb.TagResourceInput{ResourceArn: arn, Tags: []types.Tag{{Key: aws.String("a"), Value: aws.String("1")}, {Key: aws.String("b"), Value: aws.String("2")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.c.UntagResource(ctx, &dynamodb.UntagResourceInput{ResourceArn: arn, TagKeys: []string{"a"}}); err != nil {
		t.Fatal(err)
	}
	lt, err := e.c.ListTagsOfResource(ctx, &dynamodb.ListTagsOfResourceInput{ResourceArn: arn})
	if err != nil || len(lt.Tags) != 1 || *lt.Tags[0].Key != "b" {
		t.Fatalf("tags: %v %v", lt, err)
	}
}

func TestUnknownOperation(t *testing.T) {
	e := start(t, "")
	status, body, _ := rawCall(t, e.srv.URL, "ExecuteStatement", `{"Statement":"SELECT * FROM t"}`)
	if status != 400 || string(body) != `{"__type":"com.amazon.coral.service#UnknownOperationException"}` {
		t.Fatalf("unknown op: %d %s", status, body)
	}
	status, body, _ = rawCall(t, e.srv.URL, "ListTables", `{"Limit":`)
	if status != 400 || !containsToken(string(body), "SerializationException") {
		t.Fatalf("bad json: %d %s", status, body)
	}
}
