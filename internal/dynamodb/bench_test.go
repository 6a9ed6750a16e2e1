package dynamodb

import (
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// BenchmarkLeaseRenew is a KCL lease renewal (UpdateItem with legacy
// Expected + AttributeUpdates, ReturnValues=ALL_NEW) through the SDK and
// the gateway, in memory and with the log fsynced per change.
func BenchmarkLeaseRenew(b *testing.B) {
	for _, mode := range []string{"memory", "log-nosync", "log-fsync"} {
		b.Run(mode, func(b *testing.B) {
			dir := ""
			if mode != "memory" {
				dir = b.TempDir()
			}
			e := start(b, dir)
			if e.svc.wal != nil {
				e.svc.wal.sync = mode == "log-fsync"
			}
			e.leaseTable(b, "app")
			key := map[string]types.AttributeValue{"leaseKey": s("shardId-000000000000")}
			if _, err := e.c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("app"), Item: map[string]types.AttributeValue{
				"leaseKey": s("shardId-000000000000"), "leaseCounter": n("0"), "leaseOwner": s("w1"), "checkpoint": s("TRIM_HORIZON")}}); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				_, err := e.c.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String("app"), Key: key,
					Expected:         map[string]types.ExpectedAttributeValue{"leaseCounter": {Value: n(fmt.Sprint(i))}},
					AttributeUpdates: map[string]types.AttributeValueUpdate{"leaseCounter": {Value: n(fmt.Sprint(i + 1)), Action: types.AttributeActionPut}},
					ReturnValues:     types.ReturnValueAllNew})
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkLeaseRenewServer is the server's share of a renewal: the JSON
// request decoded, the legacy condition and update applied, the change
// logged, the response encoded (no HTTP, no SDK).
func BenchmarkLeaseRenewServer(b *testing.B) {
	for _, mode := range []string{"memory", "log-fsync"} {
		b.Run(mode, func(b *testing.B) {
			o := Options{}
			if mode != "memory" {
				o.Dir, o.Sync = b.TempDir(), true
			}
			svc, err := Open(o)
			if err != nil {
				b.Fatal(err)
			}
			defer svc.Close()
			if _, err := svc.Call("1", "r", "CreateTable", []byte(`{"TableName":"app","AttributeDefinitions":[{"AttributeName":"leaseKey","AttributeType":"S"}],"KeySchema":[{"AttributeName":"leaseKey","KeyType":"HASH"}],"BillingMode":"PAY_PER_REQUEST"}`)); err != nil {
				b.Fatal(err)
			}
			if _, err := svc.Call("1", "r", "PutItem", []byte(`{"TableName":"app","Item":{"leaseKey":{"S":"shardId-000000000000"},"leaseCounter":{"N":"0"},"leaseOwner":{"S":"w1"},"checkpoint":{"S":"TRIM_HORIZON"}}}`)); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				body := fmt.Sprintf(`{"TableName":"app","Key":{"leaseKey":{"S":"shardId-000000000000"}},"Expected":{"leaseCounter":{"Value":{"N":"%d"}}},"AttributeUpdates":{"leaseCounter":{"Value":{"N":"%d"},"Action":"PUT"}},"ReturnValues":"ALL_NEW"}`, i, i+1)
				if _, err := svc.Call("1", "r", "UpdateItem", []byte(body)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkLeaseRenewServerParallel renews 64 leases from 64 goroutines
// with fsync per change: group commit lets one fsync cover many renewals.
func BenchmarkLeaseRenewServerParallel(b *testing.B) {
	svc, err := Open(Options{Dir: b.TempDir(), Sync: true})
	if err != nil {
		b.Fatal(err)
	}
	defer svc.Close()
	if _, err := svc.Call("1", "r", "CreateTable", []byte(`{"TableName":"app","AttributeDefinitions":[{"AttributeName":"leaseKey","AttributeType":"S"}],"KeySchema":[{"AttributeName":"leaseKey","KeyType":"HASH"}],"BillingMode":"PAY_PER_REQUEST"}`)); err != nil {
		b.Fatal(err)
	}
	var next atomic.Int64
	b.SetParallelism(32)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		id := next.Add(1)
		if _, err := svc.Call("1", "r", "PutItem", []byte(fmt.Sprintf(`{"TableName":"app","Item":{"leaseKey":{"S":"shard-%d"},"leaseCounter":{"N":"0"}}}`, id))); err != nil {
			b.Error(err)
			return
		}
		for i := 0; pb.Next(); i++ {
			body := fmt.Sprintf(`{"TableName":"app","Key":{"leaseKey":{"S":"shard-%d"}},"Expected":{"leaseCounter":{"Value":{"N":"%d"}}},"AttributeUpdates":{"leaseCounter":{"Value":{"N":"%d"},"Action":"PUT"}}}`, id, i, i+1)
			if _, err := svc.Call("1", "r", "UpdateItem", []byte(body)); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
