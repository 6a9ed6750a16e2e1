package app_test

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/eddy-streams/eddy/internal/config"
	"github.com/eddy-streams/eddy/internal/eddytest"
	"github.com/eddy-streams/eddy/internal/storage/natsstore"
)

// TestExternalNATS: two Eddy nodes on one existing NATS server (--nats-url)
// share streams, records and iterators.
func TestExternalNATS(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	srv, err := natsstore.StartServer(natsstore.ServerConfig{Name: "external", StoreDir: t.TempDir(), ClientAddr: addr})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	node := func(name string) *kinesis.Client {
		return eddytest.Kinesis(eddytest.Start(t, eddytest.WithConfig(func(c *config.Config) {
			c.Cluster = config.Cluster{NodeName: name, NATSURL: "nats://" + addr, Replicas: 1}
		})))
	}
	a, b := node("a"), node("b")
	ctx := context.Background()
	if _, err := a.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String("ext"), ShardCount: aws.Int32(2)}); err != nil {
		t.Fatal(err)
	}
	eddytest.WaitActive(t, b, "ext")
	put, err := b.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("ext"), PartitionKey: aws.String("k"), Data: []byte("hello")})
	if err != nil {
		t.Fatal(err)
	}
	it, err := b.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String("ext"), ShardId: put.ShardId, ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
	if err != nil {
		t.Fatal(err)
	}
	out, err := a.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: it.ShardIterator})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Records) != 1 || string(out.Records[0].Data) != "hello" || aws.ToString(out.Records[0].SequenceNumber) != aws.ToString(put.SequenceNumber) {
		t.Fatalf("node a read %+v, want the record node b put (%s)", out.Records, aws.ToString(put.SequenceNumber))
	}
	// a control-plane change on one node is seen by the other
	if _, err := b.AddTagsToStream(ctx, &kinesis.AddTagsToStreamInput{StreamName: aws.String("ext"), Tags: map[string]string{"team": "x"}}); err != nil {
		t.Fatal(err)
	}
	// (the watch delivers node b's revision to node a asynchronously)
	for deadline := time.Now().Add(10 * time.Second); ; {
		tags, err := a.ListTagsForStream(ctx, &kinesis.ListTagsForStreamInput{StreamName: aws.String("ext")})
		if err == nil && len(tags.Tags) == 1 && aws.ToString(tags.Tags[0].Value) == "x" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("node a never saw node b's tag: %+v, %v", tags, err)
		}
		time.Sleep(20 * time.Millisecond) // polling another node's view; the condition is re-checked
	}
}
