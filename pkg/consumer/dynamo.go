package consumer

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// DynamoAPI is the part of *dynamodb.Client the lease table uses.
type DynamoAPI interface {
	DescribeTable(ctx context.Context, in *dynamodb.DescribeTableInput, opts ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
	CreateTable(ctx context.Context, in *dynamodb.CreateTableInput, opts ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error)
	Scan(ctx context.Context, in *dynamodb.ScanInput, opts ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
}

// DynamoStore is the lease table in DynamoDB (or anything speaking its
// API, such as Eddy), item for item the Java KCL 2.x schema: hash key
// leaseKey (S), billing PAY_PER_REQUEST when created here.
type DynamoStore struct {
	api   DynamoAPI
	table string
	// PollInterval is how often Init re-reads the table status while it
	// is being created (default 1 s).
	PollInterval time.Duration
}

// NewDynamoStore uses table (the Java KCL names it after the application).
func NewDynamoStore(api DynamoAPI, table string) *DynamoStore {
	return &DynamoStore{api: api, table: table, PollInterval: time.Second}
}

// Attribute names of the Java KCL's DynamoDBLeaseSerializer.
const (
	aKey            = "leaseKey"
	aOwner          = "leaseOwner"
	aCounter        = "leaseCounter"
	aCheckpoint     = "checkpoint"
	aSubSeq         = "checkpointSubSequenceNumber"
	aPending        = "pendingCheckpoint"
	aPendingSub     = "pendingCheckpointSubSequenceNumber"
	aPendingState   = "pendingCheckpointState"
	aOwnerSwitches  = "ownerSwitchesSinceCheckpoint"
	aParents        = "parentShardId"
	aChildren       = "childShardIds"
	aStartHash      = "startingHashKey"
	aEndHash        = "endingHashKey"
	aCheckpointOwnr = "checkpointOwner"
)

func (d *DynamoStore) Init(ctx context.Context) error {
	for created := false; ; {
		out, err := d.api.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(d.table)})
		var nf *ddb.ResourceNotFoundException
		switch {
		case errors.As(err, &nf) && !created:
			_, err := d.api.CreateTable(ctx, &dynamodb.CreateTableInput{
				TableName:            aws.String(d.table),
				AttributeDefinitions: []ddb.AttributeDefinition{{AttributeName: aws.String(aKey), AttributeType: ddb.ScalarAttributeTypeS}},
				KeySchema:            []ddb.KeySchemaElement{{AttributeName: aws.String(aKey), KeyType: ddb.KeyTypeHash}},
				BillingMode:          ddb.BillingModePayPerRequest,
			})
			var inUse *ddb.ResourceInUseException
			if err != nil && !errors.As(err, &inUse) {
				return fmt.Errorf("create lease table %s: %w", d.table, err)
			}
			created = true
			continue
		case err != nil && !errors.As(err, &nf):
			return fmt.Errorf("describe lease table %s: %w", d.table, err)
		case err == nil && out.Table.TableStatus == ddb.TableStatusActive:
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(d.PollInterval):
		}
	}
}

func (d *DynamoStore) key(k string) map[string]ddb.AttributeValue {
	return map[string]ddb.AttributeValue{aKey: &ddb.AttributeValueMemberS{Value: k}}
}

func (d *DynamoStore) List(ctx context.Context) ([]Lease, error) {
	var out []Lease
	in := &dynamodb.ScanInput{TableName: aws.String(d.table), ConsistentRead: aws.Bool(true)}
	for {
		res, err := d.api.Scan(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("scan lease table: %w", err)
		}
		for _, it := range res.Items {
			if l, ok := fromItem(it); ok {
				out = append(out, l)
			}
		}
		if len(res.LastEvaluatedKey) == 0 {
			return out, nil
		}
		in.ExclusiveStartKey = res.LastEvaluatedKey
	}
}

func (d *DynamoStore) Get(ctx context.Context, key string) (*Lease, error) {
	res, err := d.api.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(d.table), Key: d.key(key), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, fmt.Errorf("get lease %s: %w", key, err)
	}
	if len(res.Item) == 0 {
		return nil, nil
	}
	l, ok := fromItem(res.Item)
	if !ok {
		return nil, fmt.Errorf("get lease %s: not a lease item", key)
	}
	return &l, nil
}

func (d *DynamoStore) Create(ctx context.Context, l Lease) (bool, error) {
	_, err := d.api.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(d.table), Item: toItem(l),
		ConditionExpression:      aws.String("attribute_not_exists(#k)"),
		ExpressionAttributeNames: map[string]string{"#k": aKey},
	})
	if isConditionFailed(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("create lease %s: %w", l.Key, err)
	}
	return true, nil
}

// update runs a conditional UpdateItem and decodes the new item into l.
func (d *DynamoStore) update(ctx context.Context, op string, l *Lease, cond, expr string, names map[string]string, vals map[string]ddb.AttributeValue) error {
	res, err := d.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(d.table), Key: d.key(l.Key),
		ConditionExpression: aws.String(cond), UpdateExpression: aws.String(expr),
		ExpressionAttributeNames: names, ExpressionAttributeValues: vals,
		ReturnValues: ddb.ReturnValueAllNew,
	})
	if isConditionFailed(err) {
		return ErrConflict
	}
	if err != nil {
		return fmt.Errorf("%s lease %s: %w", op, l.Key, err)
	}
	if nl, ok := fromItem(res.Attributes); ok {
		*l = nl
	}
	return nil
}

func num(n int64) ddb.AttributeValue {
	return &ddb.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}
func str(s string) ddb.AttributeValue { return &ddb.AttributeValueMemberS{Value: s} }

func (d *DynamoStore) Renew(ctx context.Context, l *Lease) error {
	return d.update(ctx, "renew", l, "#c = :c AND #o = :o", "SET #c = :n",
		map[string]string{"#c": aCounter, "#o": aOwner},
		map[string]ddb.AttributeValue{":c": num(l.Counter), ":o": str(l.Owner), ":n": num(l.Counter + 1)})
}

func (d *DynamoStore) Take(ctx context.Context, l *Lease, owner string) error {
	return d.update(ctx, "take", l, "#c = :c", "SET #c = :n, #o = :me ADD #sw :one REMOVE #co",
		map[string]string{"#c": aCounter, "#o": aOwner, "#sw": aOwnerSwitches, "#co": aCheckpointOwnr},
		map[string]ddb.AttributeValue{":c": num(l.Counter), ":n": num(l.Counter + 1), ":me": str(owner), ":one": num(1)})
}

func (d *DynamoStore) Evict(ctx context.Context, l *Lease) error {
	return d.update(ctx, "evict", l, "#o = :o", "SET #c = #c + :one REMOVE #o",
		map[string]string{"#c": aCounter, "#o": aOwner},
		map[string]ddb.AttributeValue{":o": str(l.Owner), ":one": num(1)})
}

func (d *DynamoStore) Checkpoint(ctx context.Context, l *Lease, seq string, sub int64) error {
	return d.update(ctx, "checkpoint", l, "#c = :c AND #o = :o",
		"SET #c = :n, #cp = :cp, #sub = :sub, #sw = :zero REMOVE #p, #ps, #pst",
		map[string]string{"#c": aCounter, "#o": aOwner, "#cp": aCheckpoint, "#sub": aSubSeq, "#sw": aOwnerSwitches,
			"#p": aPending, "#ps": aPendingSub, "#pst": aPendingState},
		map[string]ddb.AttributeValue{":c": num(l.Counter), ":o": str(l.Owner), ":n": num(l.Counter + 1),
			":cp": str(seq), ":sub": num(sub), ":zero": num(0)})
}

func (d *DynamoStore) PrepareCheckpoint(ctx context.Context, l *Lease, seq string, sub int64) error {
	return d.update(ctx, "prepare checkpoint", l, "#c = :c AND #o = :o", "SET #c = :n, #p = :p, #ps = :ps",
		map[string]string{"#c": aCounter, "#o": aOwner, "#p": aPending, "#ps": aPendingSub},
		map[string]ddb.AttributeValue{":c": num(l.Counter), ":o": str(l.Owner), ":n": num(l.Counter + 1),
			":p": str(seq), ":ps": num(sub)})
}

func (d *DynamoStore) SetChildren(ctx context.Context, key string, children []string) error {
	l := Lease{Key: key}
	err := d.update(ctx, "set children of", &l, "attribute_exists(#k)", "SET #ch = :ch",
		map[string]string{"#k": aKey, "#ch": aChildren},
		map[string]ddb.AttributeValue{":ch": &ddb.AttributeValueMemberSS{Value: children}})
	if errors.Is(err, ErrConflict) {
		return nil // the lease is gone: nothing to record
	}
	return err
}

func (d *DynamoStore) Delete(ctx context.Context, key string) error {
	if _, err := d.api.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(d.table), Key: d.key(key)}); err != nil {
		return fmt.Errorf("delete lease %s: %w", key, err)
	}
	return nil
}

func isConditionFailed(err error) bool {
	var cf *ddb.ConditionalCheckFailedException
	return errors.As(err, &cf)
}

// toItem is the Java KCL's item for l (absent fields are left out).
func toItem(l Lease) map[string]ddb.AttributeValue {
	it := map[string]ddb.AttributeValue{aKey: str(l.Key), aCounter: num(l.Counter), aOwnerSwitches: num(l.OwnerSwitches)}
	if l.Owner != "" {
		it[aOwner] = str(l.Owner)
	}
	if l.Checkpoint != "" {
		it[aCheckpoint] = str(l.Checkpoint)
		it[aSubSeq] = num(l.SubSequence)
	}
	if l.PendingCheckpoint != "" {
		it[aPending] = str(l.PendingCheckpoint)
		it[aPendingSub] = num(l.PendingSubSequence)
	}
	if len(l.PendingState) > 0 {
		it[aPendingState] = &ddb.AttributeValueMemberB{Value: l.PendingState}
	}
	if len(l.ParentShardIDs) > 0 {
		it[aParents] = &ddb.AttributeValueMemberSS{Value: l.ParentShardIDs}
	}
	if len(l.ChildShardIDs) > 0 {
		it[aChildren] = &ddb.AttributeValueMemberSS{Value: l.ChildShardIDs}
	}
	if l.StartingHashKey != "" {
		it[aStartHash] = str(l.StartingHashKey)
		it[aEndHash] = str(l.EndingHashKey)
	}
	if l.CheckpointOwner != "" {
		it[aCheckpointOwnr] = str(l.CheckpointOwner)
	}
	return it
}

// fromItem reads a lease item; false for items of other kinds (the KCL
// 3.x entityType rows other than leases).
func fromItem(it map[string]ddb.AttributeValue) (Lease, bool) {
	var l Lease
	s := func(name string) string {
		if v, ok := it[name].(*ddb.AttributeValueMemberS); ok {
			return v.Value
		}
		return ""
	}
	n := func(name string) int64 {
		if v, ok := it[name].(*ddb.AttributeValueMemberN); ok {
			x, _ := strconv.ParseInt(v.Value, 10, 64)
			return x
		}
		return 0
	}
	ss := func(name string) []string {
		if v, ok := it[name].(*ddb.AttributeValueMemberSS); ok {
			return v.Value
		}
		return nil
	}
	l.Key = s(aKey)
	if l.Key == "" {
		return l, false
	}
	if e := s("entityType"); e != "" && e != "LEASE" {
		return l, false
	}
	l.Owner, l.Counter = s(aOwner), n(aCounter)
	l.Checkpoint, l.SubSequence = s(aCheckpoint), n(aSubSeq)
	l.PendingCheckpoint, l.PendingSubSequence = s(aPending), n(aPendingSub)
	if v, ok := it[aPendingState].(*ddb.AttributeValueMemberB); ok {
		l.PendingState = v.Value
	}
	l.OwnerSwitches = n(aOwnerSwitches)
	l.ParentShardIDs, l.ChildShardIDs = ss(aParents), ss(aChildren)
	l.StartingHashKey, l.EndingHashKey = s(aStartHash), s(aEndHash)
	l.CheckpointOwner = s(aCheckpointOwnr)
	return l, true
}
