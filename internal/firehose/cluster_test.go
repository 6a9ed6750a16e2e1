package firehose_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	fh "github.com/aws/aws-sdk-go-v2/service/firehose"
	fhtypes "github.com/aws/aws-sdk-go-v2/service/firehose/types"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/eddy-streams/eddy/internal/app"
	"github.com/eddy-streams/eddy/internal/config"
	"github.com/eddy-streams/eddy/internal/eddytest"
	"github.com/eddy-streams/eddy/internal/storage/natsstore/natstest"
)

type lineLog struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lineLog) Write(p []byte) (int, error) { l.mu.Lock(); defer l.mu.Unlock(); return l.b.Write(p) }

// leases lists the Firehose leases this node acquired.
func (l *lineLog) leases() map[string]bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[string]bool{}
	for _, line := range strings.Split(l.b.String(), "\n") {
		if !strings.Contains(line, `msg="lease acquired: starting"`) {
			continue
		}
		for _, f := range strings.Fields(line) {
			if strings.HasPrefix(f, "lease=firehose.") {
				out[f] = true
			}
		}
	}
	return out
}

// TestClusterSharedStreams runs two Eddy nodes over an in-process 3-node
// NATS cluster. Delivery streams created through either node appear on
// both; each (a DirectPut and a KinesisStreamAsSource stream) is delivered
// by exactly one node; a destination update through the node that does not
// deliver reaches the one that does; when a node shuts down the other
// delivers everything it held from the replicated checkpoints; a delete
// through the survivor removes the stream everywhere.
func TestClusterSharedStreams(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a 3-node NATS cluster")
	}
	stores, _ := natstest.StartCluster(t, 3)
	logs := []*lineLog{{}, {}}
	nodes := make([]*app.Server, 2)
	fcs := make([]*fh.Client, 2)
	for i := range nodes {
		nodes[i] = eddytest.Start(t, eddytest.WithBackend(stores[i]),
			eddytest.WithConfig(func(c *config.Config) {
				c.Cluster.NodeName = fmt.Sprint("n", i)
				c.Cluster.LeaseTTL = 1500 * time.Millisecond
			}),
			func(_ *config.Config, o *app.Options) { o.Logger = slog.New(slog.NewTextHandler(logs[i], nil)) })
		fcs[i] = fh.NewFromConfig(eddytest.AWSConfig(nodes[i].URL(), "", ""))
	}
	ctx := context.Background()
	kc := eddytest.Kinesis(nodes[0])
	if _, err := kc.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String("src"), ShardCount: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	eddytest.WaitActive(t, kc, "src")
	r1, r2, r3, r4 := newHTTPReceiver(t), newHTTPReceiver(t), newHTTPReceiver(t), newHTTPReceiver(t)
	httpDest := func(url string) *fhtypes.HttpEndpointDestinationConfiguration {
		return &fhtypes.HttpEndpointDestinationConfiguration{
			EndpointConfiguration: &fhtypes.HttpEndpointConfiguration{Url: aws.String(url), Name: aws.String("recv")},
			BufferingHints:        &fhtypes.HttpEndpointBufferingHints{SizeInMBs: aws.Int32(1), IntervalInSeconds: aws.Int32(0)},
			S3Configuration:       &fhtypes.S3DestinationConfiguration{BucketARN: aws.String("arn:aws:s3:::unused"), RoleARN: aws.String("arn:aws:iam::000000000000:role/x")},
		}
	}
	if _, err := fcs[0].CreateDeliveryStream(ctx, &fh.CreateDeliveryStreamInput{DeliveryStreamName: aws.String("direct"),
		HttpEndpointDestinationConfiguration: httpDest(r1.srv.URL)}); err != nil {
		t.Fatal(err)
	}
	if _, err := fcs[1].CreateDeliveryStream(ctx, &fh.CreateDeliveryStreamInput{DeliveryStreamName: aws.String("fromkds"),
		DeliveryStreamType: fhtypes.DeliveryStreamTypeKinesisStreamAsSource,
		KinesisStreamSourceConfiguration: &fhtypes.KinesisStreamSourceConfiguration{
			KinesisStreamARN: aws.String("arn:aws:kinesis:us-east-1:000000000000:stream/src"), RoleARN: aws.String("arn:aws:iam::000000000000:role/r")},
		HttpEndpointDestinationConfiguration: httpDest(r2.srv.URL)}); err != nil {
		t.Fatal(err)
	}
	for i, c := range fcs {
		waitFor(t, 10*time.Second, fmt.Sprint("both streams on node ", i), func() bool {
			out, err := c.ListDeliveryStreams(ctx, &fh.ListDeliveryStreamsInput{})
			return err == nil && len(out.DeliveryStreamNames) == 2
		})
	}
	distinct := func(r *httpReceiver) map[string]int {
		recs, _ := r.got()
		m := map[string]int{}
		for _, b := range recs {
			m[string(b)]++
		}
		return m
	}
	putDirect := func(c *fh.Client, from, to int) {
		t.Helper()
		var recs []fhtypes.Record
		for i := from; i < to; i++ {
			recs = append(recs, fhtypes.Record{Data: []byte(fmt.Sprintf("d%03d", i))})
		}
		out, err := c.PutRecordBatch(ctx, &fh.PutRecordBatchInput{DeliveryStreamName: aws.String("direct"), Records: recs})
		if err != nil || aws.ToInt32(out.FailedPutCount) != 0 {
			t.Fatalf("put: %v", err)
		}
	}
	putKDS := func(c *kinesis.Client, from, to int) {
		t.Helper()
		for i := from; i < to; i++ {
			if _, err := c.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("src"), PartitionKey: aws.String("k"), Data: []byte(fmt.Sprintf("k%03d", i))}); err != nil {
				t.Fatal(err)
			}
		}
	}
	putDirect(fcs[1], 0, 30)
	putKDS(eddytest.Kinesis(nodes[1]), 0, 30)
	waitFor(t, 20*time.Second, "the first records at both endpoints", func() bool {
		return len(distinct(r1)) == 30 && len(distinct(r2)) == 30
	})
	l0, l1 := logs[0].leases(), logs[1].leases()
	if len(l0)+len(l1) != 2 {
		t.Fatalf("leases taken: node 0 %v, node 1 %v; want each of the 2 streams on exactly one node", l0, l1)
	}
	for l := range l0 {
		if l1[l] {
			t.Fatalf("%s started on both nodes", l)
		}
	}

	// the endpoint changes through node 0 and then through node 1: one of
	// the two is the node not delivering the stream, and the delivering
	// node follows both
	update := func(via int, url string, version string) {
		t.Helper()
		desc, err := fcs[via].DescribeDeliveryStream(ctx, &fh.DescribeDeliveryStreamInput{DeliveryStreamName: aws.String("direct")})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := fcs[via].UpdateDestination(ctx, &fh.UpdateDestinationInput{DeliveryStreamName: aws.String("direct"),
			CurrentDeliveryStreamVersionId: desc.DeliveryStreamDescription.VersionId, DestinationId: aws.String("destinationId-000000000001"),
			HttpEndpointDestinationUpdate: &fhtypes.HttpEndpointDestinationUpdate{EndpointConfiguration: &fhtypes.HttpEndpointConfiguration{Url: aws.String(url), Name: aws.String("recv")}}}); err != nil {
			t.Fatal(err)
		}
		for _, c := range fcs {
			waitFor(t, 10*time.Second, "the update on both nodes", func() bool {
				d, err := c.DescribeDeliveryStream(ctx, &fh.DescribeDeliveryStreamInput{DeliveryStreamName: aws.String("direct")})
				return err == nil && aws.ToString(d.DeliveryStreamDescription.VersionId) == version
			})
		}
	}
	update(0, r4.srv.URL, "2")
	putDirect(fcs[1], 30, 40)
	waitFor(t, 20*time.Second, "records after the first update at its endpoint", func() bool { return len(distinct(r4)) == 10 })
	update(1, r3.srv.URL, "3")
	putDirect(fcs[0], 40, 50)
	waitFor(t, 20*time.Second, "records after the second update at its endpoint", func() bool { return len(distinct(r3)) == 10 })

	// node 0 shuts down: node 1 delivers everything
	nodes[0].Close()
	putDirect(fcs[1], 50, 70)
	putKDS(eddytest.Kinesis(nodes[1]), 30, 60)
	waitFor(t, 30*time.Second, "every record after node 0 stopped", func() bool {
		return len(distinct(r2)) == 60 && len(distinct(r3)) == 30
	})
	if l := logs[1].leases(); len(l) != 2 {
		t.Fatalf("node 1 holds %v, want both streams", l)
	}
	for i := range 60 {
		if distinct(r2)[fmt.Sprintf("k%03d", i)] == 0 {
			t.Fatalf("source record k%03d lost", i)
		}
	}
	dups := 0
	for _, r := range []*httpReceiver{r1, r2, r3, r4} {
		for _, n := range distinct(r) {
			dups += n - 1
		}
	}
	t.Logf("all records delivered across the handover; %d duplicates", dups)

	if _, err := fcs[1].DeleteDeliveryStream(ctx, &fh.DeleteDeliveryStreamInput{DeliveryStreamName: aws.String("direct")}); err != nil {
		t.Fatal(err)
	}
	out, err := fcs[1].ListDeliveryStreams(ctx, &fh.ListDeliveryStreamsInput{})
	if err != nil || len(out.DeliveryStreamNames) != 1 || out.DeliveryStreamNames[0] != "fromkds" {
		t.Fatalf("after delete: %v %v", out, err)
	}
}
