package app_test

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/nats-io/nats-server/v2/server"

	"github.com/eddy-streams/eddy/internal/app"
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

// TestExternalNATSAuth: with --nats-user/--nats-password (or --nats-token)
// a node joins a NATS server that demands them; with the wrong password it
// does not start, and says why.
func TestExternalNATSAuth(t *testing.T) {
	for _, c := range []struct {
		name       string
		srv        func(*server.Options)
		good, bad  func(*config.Cluster)
		wantRefuse string
	}{
		{"user and password",
			func(o *server.Options) { o.Username, o.Password = "eddy", "pw" },
			func(c *config.Cluster) { c.NATSUser, c.NATSPassword = "eddy", "pw" },
			func(c *config.Cluster) { c.NATSUser, c.NATSPassword = "eddy", "guess" },
			"authorization"},
		{"token",
			func(o *server.Options) { o.Authorization = "tok" },
			func(c *config.Cluster) { c.NATSToken = "tok" },
			func(c *config.Cluster) {},
			"authorization"},
	} {
		t.Run(c.name, func(t *testing.T) {
			opts := &server.Options{ServerName: "ext", JetStream: true, StoreDir: t.TempDir(), Host: "127.0.0.1", Port: -1,
				NoLog: true, NoSigs: true, MaxPayload: natsstore.MaxPayload}
			c.srv(opts)
			srv, err := server.NewServer(opts)
			if err != nil {
				t.Fatal(err)
			}
			go srv.Start()
			if !srv.ReadyForConnections(10 * time.Second) {
				t.Fatal("nats server not ready")
			}
			t.Cleanup(srv.Shutdown)
			url := srv.ClientURL()
			node := eddytest.Start(t, eddytest.WithConfig(func(cfg *config.Config) {
				cfg.Cluster = config.Cluster{NodeName: "a", NATSURL: url, Replicas: 1}
				c.good(&cfg.Cluster)
			}))
			k := eddytest.Kinesis(node)
			if _, err := k.CreateStream(context.Background(), &kinesis.CreateStreamInput{StreamName: aws.String("auth"), ShardCount: aws.Int32(1)}); err != nil {
				t.Fatal(err)
			}
			cfg := config.Default()
			cfg.Addr, cfg.DataDir = "127.0.0.1:0", t.TempDir()
			cfg.Cluster = config.Cluster{NodeName: "b", NATSURL: url, Replicas: 1}
			c.bad(&cfg.Cluster)
			bad, err := app.Start(cfg, app.Options{})
			if err == nil {
				bad.Close()
				t.Fatal("a node with the wrong credentials started")
			}
			if !strings.Contains(strings.ToLower(err.Error()), c.wantRefuse) {
				t.Errorf("start with the wrong credentials: %v, want an error about %s", err, c.wantRefuse)
			}
		})
	}
}
