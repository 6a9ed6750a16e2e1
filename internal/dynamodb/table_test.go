package dynamodb

import (
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

func TestTableLifecycle(t *testing.T) {
	e := start(t, "")
	out, err := e.c.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName: aws.String("orders"),
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("sk"), AttributeType: types.ScalarAttributeTypeN},
			{AttributeName: aws.String("owner"), AttributeType: types.ScalarAttributeTypeS},
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String("sk"), KeyType: types.KeyTypeRange},
		},
		BillingMode:           types.BillingModeProvisioned,
		ProvisionedThroughput: &types.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(5), WriteCapacityUnits: aws.Int64(7)},
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{
			IndexName:             aws.String("byOwner"),
			KeySchema:             []types.KeySchemaElement{{AttributeName: aws.String("owner"), KeyType: types.KeyTypeHash}},
			Projection:            &types.Projection{ProjectionType: types.ProjectionTypeKeysOnly},
			ProvisionedThroughput: &types.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(1), WriteCapacityUnits: aws.Int64(1)},
		}},
		Tags:                      []types.Tag{{Key: aws.String("team"), Value: aws.String("kcl")}},
		DeletionProtectionEnabled: aws.Bool(true),
	})
	if err != nil {
		t.Fatal(err)
	}
	d := out.TableDescription
	if d.TableStatus != types.TableStatusActive || *d.TableArn != "arn:aws:dynamodb:us-east-1:000000000000:table/orders" || *d.ProvisionedThroughput.WriteCapacityUnits != 7 {
		t.Fatalf("create: %+v", d)
	}
	if len(d.GlobalSecondaryIndexes) != 1 || d.GlobalSecondaryIndexes[0].IndexStatus != types.IndexStatusActive {
		t.Fatalf("gsi: %+v", d.GlobalSecondaryIndexes)
	}
	_, err = e.c.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String("orders"),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	})
	apiErr(t, err, "ResourceInUseException", "Table already exists: orders")

	for i := 0; i < 3; i++ {
		_, err := e.c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("orders"), Item: map[string]types.AttributeValue{
			"pk": s("a"), "sk": n(fmt.Sprint(i)), "owner": s("w1"), "blob": s("xxxxxxxxxx")}})
		if err != nil {
			t.Fatal(err)
		}
	}
	desc, err := e.c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("orders")})
	if err != nil {
		t.Fatal(err)
	}
	if *desc.Table.ItemCount != 3 || *desc.Table.TableSizeBytes == 0 || !*desc.Table.DeletionProtectionEnabled ||
		desc.Table.BillingModeSummary.BillingMode != types.BillingModeProvisioned || *desc.Table.GlobalSecondaryIndexes[0].ItemCount != 3 {
		t.Fatalf("describe: %+v", desc.Table)
	}
	_, err = e.c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("nope")})
	apiErr(t, err, "ResourceNotFoundException", "Requested resource not found: Table: nope not found")

	_, err = e.c.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String("orders")})
	apiErr(t, err, "ValidationException", "protected against deletion")
	if _, err := e.c.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String("orders"), DeletionProtectionEnabled: aws.Bool(false)}); err != nil {
		t.Fatal(err)
	}
	del, err := e.c.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String("orders")})
	if err != nil || del.TableDescription.TableStatus != types.TableStatusDeleting {
		t.Fatalf("delete: %v %+v", err, del)
	}
	_, err = e.c.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String("orders")})
	apiErr(t, err, "ResourceNotFoundException", "not found")
	// the SDK waiter sees the table gone at once
	if err := dynamodb.NewTableNotExistsWaiter(e.c).Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("orders")}, 5e9); err != nil {
		t.Fatal(err)
	}
}

func TestCreateTableValidation(t *testing.T) {
	e := start(t, "")
	cases := []struct {
		in  *dynamodb.CreateTableInput
		msg string
	}{
		{&dynamodb.CreateTableInput{TableName: aws.String("ab"),
			AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("k"), AttributeType: "S"}},
			KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("k"), KeyType: "HASH"}}, BillingMode: types.BillingModePayPerRequest},
			"Value 'ab' at 'tableName' failed to satisfy constraint: Member must have length greater than or equal to 3"},
		{&dynamodb.CreateTableInput{TableName: aws.String("abc"),
			AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("k"), AttributeType: "S"}},
			KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("k"), KeyType: "HASH"}}},
			"ReadCapacityUnits and WriteCapacityUnits must both be specified"},
		{&dynamodb.CreateTableInput{TableName: aws.String("abc"),
			AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("k"), AttributeType: "S"}, {AttributeName: aws.String("x"), AttributeType: "S"}},
			KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("k"), KeyType: "HASH"}}, BillingMode: types.BillingModePayPerRequest},
			"Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions"},
		{&dynamodb.CreateTableInput{TableName: aws.String("abc"),
			AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("k"), AttributeType: "S"}},
			KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("z"), KeyType: "HASH"}}, BillingMode: types.BillingModePayPerRequest},
			"Some index key attributes are not defined in AttributeDefinitions"},
		{&dynamodb.CreateTableInput{TableName: aws.String("abc"),
			AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("k"), AttributeType: "S"}},
			KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("k"), KeyType: "HASH"}}, BillingMode: types.BillingModePayPerRequest,
			ProvisionedThroughput: &types.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(1), WriteCapacityUnits: aws.Int64(1)}},
			"Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST"},
	}
	for _, c := range cases {
		_, err := e.c.CreateTable(ctx, c.in)
		apiErr(t, err, "ValidationException", c.msg)
	}
}

func TestListTablesPaging(t *testing.T) {
	e := start(t, "")
	for _, name := range []string{"ccc", "aaa", "bbb"} {
		e.leaseTable(t, name)
	}
	var got []string
	var start *string
	pages := 0
	for {
		out, err := e.c.ListTables(ctx, &dynamodb.ListTablesInput{Limit: aws.Int32(2), ExclusiveStartTableName: start})
		if err != nil {
			t.Fatal(err)
		}
		pages++
		got = append(got, out.TableNames...)
		if out.LastEvaluatedTableName == nil {
			break
		}
		start = out.LastEvaluatedTableName
	}
	if fmt.Sprint(got) != "[aaa bbb ccc]" || pages != 2 {
		t.Fatalf("tables %v in %d pages", got, pages)
	}
	// another region sees none
	out, err := e.c.ListTables(ctx, &dynamodb.ListTablesInput{}, func(o *dynamodb.Options) { o.Region = "eu-west-1" })
	if err != nil || len(out.TableNames) != 0 {
		t.Fatalf("eu-west-1: %v %v", out.TableNames, err)
	}
}

func TestUpdateTableAddsIndex(t *testing.T) {
	e := start(t, "")
	e.leaseTable(t, "app")
	for i, owner := range []string{"w1", "w2", "w1"} {
		_, err := e.c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("app"), Item: map[string]types.AttributeValue{
			"leaseKey": s(fmt.Sprintf("shardId-%012d", i)), "leaseOwner": s(owner), "leaseCounter": n("1")}})
		if err != nil {
			t.Fatal(err)
		}
	}
	out, err := e.c.UpdateTable(ctx, &dynamodb.UpdateTableInput{
		TableName:            aws.String("app"),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("leaseOwner"), AttributeType: types.ScalarAttributeTypeS}},
		GlobalSecondaryIndexUpdates: []types.GlobalSecondaryIndexUpdate{{Create: &types.CreateGlobalSecondaryIndexAction{
			IndexName:  aws.String("LeaseOwnerToLeaseKeyIndex"),
			KeySchema:  []types.KeySchemaElement{{AttributeName: aws.String("leaseOwner"), KeyType: types.KeyTypeHash}},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeKeysOnly},
		}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	g := out.TableDescription.GlobalSecondaryIndexes
	if len(g) != 1 || g[0].IndexStatus != types.IndexStatusActive || *g[0].ItemCount != 3 {
		t.Fatalf("gsi after update: %+v", g)
	}
	q, err := e.c.Query(ctx, &dynamodb.QueryInput{
		TableName: aws.String("app"), IndexName: aws.String("LeaseOwnerToLeaseKeyIndex"),
		KeyConditionExpression:    aws.String("leaseOwner = :o"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":o": s("w1")},
	})
	if err != nil {
		t.Fatal(err)
	}
	if q.Count != 2 || getS(q.Items[0], "leaseKey") != "shardId-000000000000" || getS(q.Items[1], "leaseKey") != "shardId-000000000002" {
		t.Fatalf("query: %+v", q.Items)
	}
	// KEYS_ONLY: leaseCounter is not projected
	if _, ok := q.Items[0]["leaseCounter"]; ok || getS(q.Items[0], "leaseOwner") != "w1" {
		t.Fatalf("projection: %+v", q.Items[0])
	}
	_, err = e.c.UpdateTable(ctx, &dynamodb.UpdateTableInput{
		TableName: aws.String("app"),
		GlobalSecondaryIndexUpdates: []types.GlobalSecondaryIndexUpdate{{Create: &types.CreateGlobalSecondaryIndexAction{
			IndexName:  aws.String("LeaseOwnerToLeaseKeyIndex"),
			KeySchema:  []types.KeySchemaElement{{AttributeName: aws.String("leaseOwner"), KeyType: types.KeyTypeHash}},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeKeysOnly},
		}}},
	})
	apiErr(t, err, "ValidationException", "Attempting to create an index which already exists")
	if _, err := e.c.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String("app"),
		GlobalSecondaryIndexUpdates: []types.GlobalSecondaryIndexUpdate{{Delete: &types.DeleteGlobalSecondaryIndexAction{IndexName: aws.String("LeaseOwnerToLeaseKeyIndex")}}}}); err != nil {
		t.Fatal(err)
	}
	_, err = e.c.Query(ctx, &dynamodb.QueryInput{
		TableName: aws.String("app"), IndexName: aws.String("LeaseOwnerToLeaseKeyIndex"),
		KeyConditionExpression:    aws.String("leaseOwner = :o"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":o": s("w1")},
	})
	apiErr(t, err, "ValidationException", "The table does not have the specified index: LeaseOwnerToLeaseKeyIndex")
}
