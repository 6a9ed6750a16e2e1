package consumer_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/eddy-streams/eddy/internal/app"
	"github.com/eddy-streams/eddy/internal/eddytest"
	"github.com/eddy-streams/eddy/pkg/consumer"
	"github.com/eddy-streams/eddy/pkg/producer"
)

var bg = context.Background()

func dynamoClient(srv *app.Server) *dynamodb.Client {
	return dynamodb.NewFromConfig(eddytest.AWSConfig(srv.URL(), "", ""))
}

// TestDynamoStoreOnEddy drives every lease-table operation through the AWS
// SDK's DynamoDB client against Eddy's DynamoDB, and checks the stored
// item has the Java KCL's attribute names and types.
func TestDynamoStoreOnEddy(t *testing.T) {
	srv := eddytest.Start(t)
	db := dynamoClient(srv)
	st := consumer.NewDynamoStore(db, "app")
	st.PollInterval = 10 * time.Millisecond
	if err := st.Init(bg); err != nil {
		t.Fatal(err)
	}
	if err := st.Init(bg); err != nil { // exists already
		t.Fatal(err)
	}
	l := consumer.Lease{Key: "shardId-000000000002", Checkpoint: consumer.TrimHorizon, ParentShardIDs: []string{"shardId-000000000000"},
		StartingHashKey: "0", EndingHashKey: "170141183460469231731687303715884105727"}
	if ok, err := st.Create(bg, l); !ok || err != nil {
		t.Fatalf("create: %v %v", ok, err)
	}
	if ok, err := st.Create(bg, l); ok || err != nil {
		t.Fatalf("second create: %v %v", ok, err)
	}
	if err := st.Take(bg, &l, "w1"); err != nil || l.Owner != "w1" || l.Counter != 1 || l.OwnerSwitches != 1 {
		t.Fatalf("take: %v %+v", err, l)
	}
	stale := l
	if err := st.Renew(bg, &l); err != nil || l.Counter != 2 {
		t.Fatalf("renew: %v %+v", err, l)
	}
	if err := st.Renew(bg, &stale); !errors.Is(err, consumer.ErrConflict) {
		t.Fatalf("stale renew: %v", err)
	}
	if err := st.Take(bg, &stale, "w2"); !errors.Is(err, consumer.ErrConflict) {
		t.Fatalf("stale take: %v", err)
	}
	if err := st.PrepareCheckpoint(bg, &l, "49590338271490256608559692538361571095921575989136588999", 7); err != nil || l.Counter != 3 {
		t.Fatalf("prepare checkpoint: %v %+v", err, l)
	}
	if got, _ := st.Get(bg, l.Key); got.PendingCheckpoint != "49590338271490256608559692538361571095921575989136588999" || got.PendingSubSequence != 7 {
		t.Fatalf("pending checkpoint not stored: %+v", got)
	}
	if err := st.Checkpoint(bg, &l, "49590338271490256608559692538361571095921575989136588898", 3); err != nil || l.Counter != 4 || l.OwnerSwitches != 0 {
		t.Fatalf("checkpoint: %v %+v", err, l)
	}
	if got, _ := st.Get(bg, l.Key); got.PendingCheckpoint != "" || got.PendingSubSequence != 0 {
		t.Fatalf("checkpoint did not clear the pending one: %+v", got)
	}
	if err := st.SetChildren(bg, l.Key, []string{"shardId-000000000005", "shardId-000000000006"}); err != nil {
		t.Fatal(err)
	}
	got, err := st.Get(bg, l.Key)
	if err != nil || got == nil || got.Owner != "w1" || got.Counter != 4 || got.SubSequence != 3 || len(got.ChildShardIDs) != 2 ||
		got.ParentShardIDs[0] != "shardId-000000000000" || got.EndingHashKey != l.EndingHashKey {
		t.Fatalf("get: %v %+v", err, got)
	}
	raw, err := db.GetItem(bg, &dynamodb.GetItemInput{TableName: aws.String("app"), Key: map[string]ddb.AttributeValue{"leaseKey": &ddb.AttributeValueMemberS{Value: l.Key}}})
	if err != nil {
		t.Fatal(err)
	}
	for name, kind := range map[string]string{"leaseKey": "S", "leaseOwner": "S", "leaseCounter": "N", "checkpoint": "S",
		"checkpointSubSequenceNumber": "N", "ownerSwitchesSinceCheckpoint": "N", "parentShardId": "SS", "childShardIds": "SS",
		"startingHashKey": "S", "endingHashKey": "S"} {
		v, ok := raw.Item[name]
		var k string
		switch v.(type) {
		case *ddb.AttributeValueMemberS:
			k = "S"
		case *ddb.AttributeValueMemberN:
			k = "N"
		case *ddb.AttributeValueMemberSS:
			k = "SS"
		}
		if !ok || k != kind {
			t.Errorf("attribute %s: %T, want %s", name, v, kind)
		}
	}
	if err := st.Evict(bg, &l); err != nil || l.Owner != "" {
		t.Fatalf("evict: %v %+v", err, l)
	}
	ls, err := st.List(bg)
	if err != nil || len(ls) != 1 || ls[0].Owner != "" {
		t.Fatalf("list: %v %+v", err, ls)
	}
	if err := st.Delete(bg, l.Key); err != nil {
		t.Fatal(err)
	}
	if got, err := st.Get(bg, l.Key); got != nil || err != nil {
		t.Fatalf("after delete: %+v %v", got, err)
	}
}

// countProc counts deliveries per data and checkpoints after each batch.
type countProc struct {
	mu   *sync.Mutex
	seen map[string]int
}

func (p countProc) Initialize(context.Context, consumer.InitializationInput) {}
func (p countProc) ProcessRecords(ctx context.Context, in consumer.ProcessRecordsInput) {
	p.mu.Lock()
	for _, r := range in.Records {
		p.seen[string(r.Data)]++
	}
	p.mu.Unlock()
	in.Checkpointer.Checkpoint(ctx)
}
func (p countProc) LeaseLost(context.Context, consumer.LeaseLostInput) {}
func (p countProc) ShardEnded(ctx context.Context, in consumer.ShardEndedInput) {
	in.Checkpointer.Checkpoint(ctx)
}
func (p countProc) ShutdownRequested(ctx context.Context, in consumer.ShutdownRequestedInput) {
	in.Checkpointer.Checkpoint(ctx)
}

// TestConsumeEddy: two workers (polling, then enhanced fan-out) share a
// 4-shard stream on Eddy through a lease table in Eddy's DynamoDB, while
// pkg/producer writes aggregated records and one shard is split; every
// user record is processed, and every closed shard's lease ends at
// SHARD_END.
func TestConsumeEddy(t *testing.T) {
	for _, efo := range []bool{false, true} {
		t.Run(fmt.Sprint("efo=", efo), func(t *testing.T) {
			srv := eddytest.Start(t)
			kc := eddytest.Kinesis(srv)
			if _, err := kc.CreateStream(bg, &kinesis.CreateStreamInput{StreamName: aws.String("s"), ShardCount: aws.Int32(4)}); err != nil {
				t.Fatal(err)
			}
			eddytest.WaitActive(t, kc, "s")
			p, err := producer.New(bg, producer.Config{StreamName: "s", Client: kc, RateLimit: -1, MaxBufferedTime: 20 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			var mu sync.Mutex
			seen := map[string]int{}
			ctx, cancel := context.WithCancel(bg)
			defer cancel()
			var wg sync.WaitGroup
			var workers []*consumer.Worker
			for i := range 2 {
				store := consumer.NewDynamoStore(dynamoClient(srv), "app")
				store.PollInterval = 10 * time.Millisecond
				w, err := consumer.New(consumer.Config{StreamName: "s", ApplicationName: "app", WorkerID: fmt.Sprint("w", i),
					Kinesis: kc, Leases: store, EnhancedFanOut: efo,
					Processor:    func(string) consumer.RecordProcessor { return countProc{&mu, seen} },
					FailoverTime: 2 * time.Second, ShardSyncInterval: time.Second, IdleTimeBetweenReads: 50 * time.Millisecond})
				if err != nil {
					t.Fatal(err)
				}
				workers = append(workers, w)
				wg.Add(1)
				go func() { defer wg.Done(); w.Run(ctx) }()
			}
			const n = 4000
			put := func(from, to int) {
				for i := from; i < to; i++ {
					if err := p.Put(bg, fmt.Sprint("key-", i%101), []byte(fmt.Sprint("rec-", i))); err != nil {
						t.Fatal(err)
					}
				}
				if err := p.Flush(bg); err != nil {
					t.Fatal(err)
				}
			}
			put(0, n/2)
			ls, _ := kc.ListShards(bg, &kinesis.ListShardsInput{StreamName: aws.String("s")})
			sh := ls.Shards[1]
			if _, err := kc.SplitShard(bg, &kinesis.SplitShardInput{StreamName: aws.String("s"), ShardToSplit: sh.ShardId,
				NewStartingHashKey: aws.String("127605887595351923798765477786913079296")}); err != nil {
				t.Fatal(err)
			}
			eddytest.WaitActive(t, kc, "s")
			put(n/2, n)
			p.Close(bg)
			deadline := time.Now().Add(60 * time.Second)
			for {
				mu.Lock()
				got := len(seen)
				mu.Unlock()
				if got == n {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("%d of %d records processed", got, n)
				}
				time.Sleep(20 * time.Millisecond)
			}
			// the split parent ends at SHARD_END once its children started
			st := consumer.NewDynamoStore(dynamoClient(srv), "app")
			deadline = time.Now().Add(30 * time.Second)
			for {
				l, err := st.Get(bg, aws.ToString(sh.ShardId))
				if err == nil && l != nil && l.Done() && len(l.ChildShardIDs) == 2 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("parent lease %+v, %v", l, err)
				}
				time.Sleep(20 * time.Millisecond)
			}
			sctx, scancel := context.WithTimeout(bg, 20*time.Second)
			for _, w := range workers {
				if err := w.Shutdown(sctx); err != nil {
					t.Error(err)
				}
			}
			scancel()
			cancel()
			wg.Wait()
			all, _ := st.List(bg)
			if len(all) != 6 {
				t.Errorf("%d leases, want 6", len(all))
			}
			for _, l := range all {
				if l.Owner != "" && !l.Done() {
					t.Errorf("lease %s still owned by %s after shutdown", l.Key, l.Owner)
				}
			}
			_ = types.ShardIteratorTypeAtSequenceNumber
		})
	}
}

// TestJavaKCLSharesTable: a lease written and updated with the Java KCL's
// request shapes (legacy Expected/AttributeUpdates, as DynamoDBLeaseRefresher
// sends them) is read, taken and lost by DynamoStore, and the other way
// round, on Eddy's DynamoDB: Go and Java workers can share one table.
func TestJavaKCLSharesTable(t *testing.T) {
	srv := eddytest.Start(t)
	db := dynamoClient(srv)
	st := consumer.NewDynamoStore(db, "shared")
	st.PollInterval = 10 * time.Millisecond
	if err := st.Init(bg); err != nil {
		t.Fatal(err)
	}
	S := func(v string) ddb.AttributeValue { return &ddb.AttributeValueMemberS{Value: v} }
	N := func(v string) ddb.AttributeValue { return &ddb.AttributeValueMemberN{Value: v} }
	key := map[string]ddb.AttributeValue{"leaseKey": S("shardId-000000000000")}
	// createLeaseIfNotExists
	_, err := db.PutItem(bg, &dynamodb.PutItemInput{TableName: aws.String("shared"),
		Item: map[string]ddb.AttributeValue{"leaseKey": S("shardId-000000000000"), "leaseCounter": N("0"),
			"ownerSwitchesSinceCheckpoint": N("0"), "checkpoint": S("TRIM_HORIZON"), "checkpointSubSequenceNumber": N("0"),
			"startingHashKey": S("0"), "endingHashKey": S("340282366920938463463374607431768211455")},
		Expected: map[string]ddb.ExpectedAttributeValue{"leaseKey": {Exists: aws.Bool(false)}}})
	if err != nil {
		t.Fatal(err)
	}
	ls, err := st.List(bg)
	if err != nil || len(ls) != 1 || ls[0].Checkpoint != consumer.TrimHorizon || ls[0].EndingHashKey == "" {
		t.Fatalf("Go reads the Java lease: %v %+v", err, ls)
	}
	goLease := ls[0]
	if err := st.Take(bg, &goLease, "go-worker"); err != nil {
		t.Fatal(err)
	}
	// the Java taker, with the counter it saw before: refused
	javaTake := func(counter, next string) error {
		_, err := db.UpdateItem(bg, &dynamodb.UpdateItemInput{TableName: aws.String("shared"), Key: key,
			Expected: map[string]ddb.ExpectedAttributeValue{"leaseCounter": {Value: N(counter)}},
			AttributeUpdates: map[string]ddb.AttributeValueUpdate{
				"leaseOwner":                   {Action: ddb.AttributeActionPut, Value: S("java-worker")},
				"leaseCounter":                 {Action: ddb.AttributeActionPut, Value: N(next)},
				"ownerSwitchesSinceCheckpoint": {Action: ddb.AttributeActionAdd, Value: N("1")},
				"checkpointOwner":              {Action: ddb.AttributeActionDelete},
			},
			ReturnValues: ddb.ReturnValueAllNew, ReturnValuesOnConditionCheckFailure: ddb.ReturnValuesOnConditionCheckFailureAllOld})
		return err
	}
	var cf *ddb.ConditionalCheckFailedException
	if err := javaTake("0", "1"); !errors.As(err, &cf) {
		t.Fatalf("stale Java take: %v", err)
	}
	// with the current counter: the Java worker steals it, the Go worker loses it
	if err := javaTake("1", "2"); err != nil {
		t.Fatal(err)
	}
	if err := st.Renew(bg, &goLease); !errors.Is(err, consumer.ErrConflict) {
		t.Fatalf("Go renew after the Java take: %v", err)
	}
	// Java checkpoint at a sub-sequence number
	_, err = db.UpdateItem(bg, &dynamodb.UpdateItemInput{TableName: aws.String("shared"), Key: key,
		Expected: map[string]ddb.ExpectedAttributeValue{"leaseCounter": {Value: N("2")}, "leaseOwner": {Value: S("java-worker")}},
		AttributeUpdates: map[string]ddb.AttributeValueUpdate{
			"checkpoint":                         {Action: ddb.AttributeActionPut, Value: S("49590338271490256608559692538361571095921575989136588898")},
			"checkpointSubSequenceNumber":        {Action: ddb.AttributeActionPut, Value: N("5")},
			"ownerSwitchesSinceCheckpoint":       {Action: ddb.AttributeActionPut, Value: N("0")},
			"leaseCounter":                       {Action: ddb.AttributeActionPut, Value: N("3")},
			"pendingCheckpoint":                  {Action: ddb.AttributeActionDelete},
			"pendingCheckpointSubSequenceNumber": {Action: ddb.AttributeActionDelete},
		}})
	if err != nil {
		t.Fatal(err)
	}
	l, err := st.Get(bg, "shardId-000000000000")
	if err != nil || l.Owner != "java-worker" || l.Counter != 3 || l.SubSequence != 5 || l.OwnerSwitches != 0 ||
		l.Checkpoint != "49590338271490256608559692538361571095921575989136588898" {
		t.Fatalf("Go reads the Java checkpoint: %v %+v", err, l)
	}
	// the Java worker dies; a Go worker takes the lease back with the counter it saw
	if err := st.Take(bg, l, "go-worker"); err != nil || l.Owner != "go-worker" || l.Counter != 4 || l.OwnerSwitches != 1 {
		t.Fatalf("Go take back: %v %+v", err, l)
	}
}
