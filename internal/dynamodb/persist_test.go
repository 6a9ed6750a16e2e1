package dynamodb

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// TestRestartKeepsTablesAndItems writes, closes, reopens: tables, items,
// indexes and settings survive; a torn tail is cut off without losing what
// came before it.
func TestRestartKeepsTablesAndItems(t *testing.T) {
	dir := t.TempDir()
	e := start(t, dir)
	e.leaseTable(t, "app")
	for i := 0; i < 10; i++ {
		if _, err := e.c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("app"), Item: map[string]types.AttributeValue{
			"leaseKey": s(fmt.Sprintf("shardId-%012d", i)), "leaseCounter": n("1"), "leaseOwner": s("w1")}}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.c.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String("app"), Key: map[string]types.AttributeValue{"leaseKey": s("shardId-000000000009")}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.c.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String("app"), Key: map[string]types.AttributeValue{"leaseKey": s("shardId-000000000000")},
		UpdateExpression: aws.String("ADD leaseCounter :one"), ExpressionAttributeValues: map[string]types.AttributeValue{":one": n("1")}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.c.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String("app"),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("leaseOwner"), AttributeType: types.ScalarAttributeTypeS}},
		GlobalSecondaryIndexUpdates: []types.GlobalSecondaryIndexUpdate{{Create: &types.CreateGlobalSecondaryIndexAction{IndexName: aws.String("LeaseOwnerToLeaseKeyIndex"),
			KeySchema: []types.KeySchemaElement{{AttributeName: aws.String("leaseOwner"), KeyType: types.KeyTypeHash}}, Projection: &types.Projection{ProjectionType: types.ProjectionTypeKeysOnly}}}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.c.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{TableName: aws.String("app"), TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: aws.String("exp"), Enabled: aws.Bool(true)}}); err != nil {
		t.Fatal(err)
	}
	e.leaseTable(t, "dropped")
	if _, err := e.c.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String("dropped")}); err != nil {
		t.Fatal(err)
	}
	e.close()

	// a torn frame at the tail (a crash mid-append)
	f, err := os.OpenFile(filepath.Join(dir, walName), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte{200, 0, 0, 0, 1, 2, 3, 4, '{', '"'})
	f.Close()

	e = start(t, dir)
	check := func(e *testEnv) {
		t.Helper()
		d, err := e.c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("app")})
		if err != nil {
			t.Fatal(err)
		}
		if *d.Table.ItemCount != 9 || len(d.Table.GlobalSecondaryIndexes) != 1 {
			t.Fatalf("after restart: items %d, gsis %d", *d.Table.ItemCount, len(d.Table.GlobalSecondaryIndexes))
		}
		g, err := e.c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("app"), Key: map[string]types.AttributeValue{"leaseKey": s("shardId-000000000000")}})
		if err != nil || getN(g.Item, "leaseCounter") != "2" {
			t.Fatalf("updated item after restart: %v %v", g.Item, err)
		}
		q, err := e.c.Query(ctx, &dynamodb.QueryInput{TableName: aws.String("app"), IndexName: aws.String("LeaseOwnerToLeaseKeyIndex"),
			KeyConditionExpression: aws.String("leaseOwner = :o"), ExpressionAttributeValues: map[string]types.AttributeValue{":o": s("w1")}})
		if err != nil || q.Count != 9 {
			t.Fatalf("gsi query after restart: %v %v", q, err)
		}
		ttl, err := e.c.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String("app")})
		if err != nil || ttl.TimeToLiveDescription.TimeToLiveStatus != types.TimeToLiveStatusEnabled {
			t.Fatalf("ttl after restart: %v %v", ttl, err)
		}
		lt, _ := e.c.ListTables(ctx, &dynamodb.ListTablesInput{})
		if len(lt.TableNames) != 1 {
			t.Fatalf("tables after restart: %v", lt.TableNames)
		}
	}
	check(e)
	// writes after the cut land after the good prefix
	if _, err := e.c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("app"), Item: map[string]types.AttributeValue{"leaseKey": s("late"), "leaseOwner": s("w2")}}); err != nil {
		t.Fatal(err)
	}
	e.close()
	e = start(t, dir)
	if g, _ := e.c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("app"), Key: map[string]types.AttributeValue{"leaseKey": s("late")}}); g.Item == nil {
		t.Fatal("write after a cut tail lost")
	}
	e.close()
}

// TestCompaction rewrites the log into the live state; reopening gives the
// same tables and items from a smaller file.
func TestCompaction(t *testing.T) {
	old := compactMin
	compactMin = 4 << 10
	defer func() { compactMin = old }()
	dir := t.TempDir()
	e := start(t, dir)
	e.leaseTable(t, "app")
	for i := 0; i < 300; i++ {
		if _, err := e.c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("app"), Item: map[string]types.AttributeValue{
			"leaseKey": s(fmt.Sprintf("k%d", i%5)), "leaseCounter": n(fmt.Sprint(i))}}); err != nil {
			t.Fatal(err)
		}
	}
	st, err := os.Stat(filepath.Join(dir, walName))
	if err != nil {
		t.Fatal(err)
	}
	if st.Size() > 8<<10 {
		t.Fatalf("log not compacted: %d bytes", st.Size())
	}
	e.close()
	e = start(t, dir)
	out, err := e.c.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String("app")})
	if err != nil || out.Count != 5 {
		t.Fatalf("after compaction: %v %v", out, err)
	}
	for _, it := range out.Items {
		k := getS(it, "leaseKey")
		var i int
		fmt.Sscanf(k, "k%d", &i)
		if getN(it, "leaseCounter") != fmt.Sprint(295+i) {
			t.Fatalf("%s: counter %s", k, getN(it, "leaseCounter"))
		}
	}
}

// TestConcurrentConditionalWritesDurable: workers race to bump one lease
// counter with the KCL's legacy conditional update, with fsync group
// commit; every acknowledged bump is there after a restart, and no two
// workers won the same counter value.
func TestConcurrentConditionalWritesDurable(t *testing.T) {
	dir := t.TempDir()
	e := start(t, dir)
	e.svc.wal.sync = true
	e.leaseTable(t, "app")
	key := map[string]types.AttributeValue{"leaseKey": s("shardId-000000000000")}
	if _, err := e.c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("app"), Item: map[string]types.AttributeValue{"leaseKey": s("shardId-000000000000"), "leaseCounter": n("0")}}); err != nil {
		t.Fatal(err)
	}
	const workers, tries = 4, 40
	wins := make(chan string, workers*tries)
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		go func(w int) {
			for i := 0; i < tries; i++ {
				g, err := e.c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("app"), Key: key, ConsistentRead: aws.Bool(true)})
				if err != nil {
					errs <- err
					return
				}
				cur := getN(g.Item, "leaseCounter")
				var c int
				fmt.Sscan(cur, &c)
				_, err = e.c.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String("app"), Key: key,
					Expected:         map[string]types.ExpectedAttributeValue{"leaseCounter": {Value: n(cur)}},
					AttributeUpdates: map[string]types.AttributeValueUpdate{"leaseCounter": {Value: n(fmt.Sprint(c + 1)), Action: types.AttributeActionPut}, "leaseOwner": {Value: s(fmt.Sprint("w", w)), Action: types.AttributeActionPut}}})
				var ccf *types.ConditionalCheckFailedException
				switch {
				case err == nil:
					wins <- fmt.Sprint(c + 1)
				case errorsAs(err, &ccf):
				default:
					errs <- err
					return
				}
			}
			errs <- nil
		}(w)
	}
	for w := 0; w < workers; w++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	close(wins)
	seen := map[string]bool{}
	for v := range wins {
		if seen[v] {
			t.Fatalf("counter value %s won twice", v)
		}
		seen[v] = true
	}
	e.close()
	e = start(t, dir)
	g, err := e.c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("app"), Key: key})
	if err != nil {
		t.Fatal(err)
	}
	if got := getN(g.Item, "leaseCounter"); got != fmt.Sprint(len(seen)) || len(seen) == 0 {
		t.Fatalf("counter %s after restart, %d acknowledged bumps", got, len(seen))
	}
}

// TestTTLSweep deletes expired items of TTL-enabled tables only, durably.
func TestTTLSweep(t *testing.T) {
	dir := t.TempDir()
	e := start(t, dir)
	e.leaseTable(t, "ttl")
	e.leaseTable(t, "nottl")
	for _, tbl := range []string{"ttl", "nottl"} {
		for i, exp := range []types.AttributeValue{n("1699999999"), n("1700000001"), s("1"), nil} {
			it := map[string]types.AttributeValue{"leaseKey": s(fmt.Sprint(i))}
			if exp != nil {
				it["exp"] = exp
			}
			if _, err := e.c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(tbl), Item: it}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := e.c.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{TableName: aws.String("ttl"), TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: aws.String("exp"), Enabled: aws.Bool(true)}}); err != nil {
		t.Fatal(err)
	}
	// the test clock is 1,700,000,000 s
	deleted, err := e.svc.SweepTTL(e.svc.now())
	if err != nil || deleted != 1 {
		t.Fatalf("sweep deleted %d: %v", deleted, err)
	}
	e.close()
	e = start(t, dir)
	for tbl, want := range map[string]int32{"ttl": 3, "nottl": 4} {
		out, err := e.c.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(tbl)})
		if err != nil || out.Count != want {
			t.Fatalf("%s after sweep and restart: %d %v", tbl, out.Count, err)
		}
	}
	g, _ := e.c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("ttl"), Key: map[string]types.AttributeValue{"leaseKey": s("0")}})
	if g.Item != nil {
		t.Fatal("expired item still there")
	}
}
