package firehose_test

import (
	"bytes"
	"context"
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	fh "github.com/aws/aws-sdk-go-v2/service/firehose"
	fhtypes "github.com/aws/aws-sdk-go-v2/service/firehose/types"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	ktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/eddy-streams/eddy/pkg/kpl"
)

func waitStreamActive(t testing.TB, c *kinesis.Client, name string) {
	t.Helper()
	waitFor(t, 10*time.Second, "stream "+name+" ACTIVE", func() bool {
		out, err := c.DescribeStreamSummary(context.Background(), &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(name)})
		return err == nil && out.StreamDescriptionSummary.StreamStatus == ktypes.StreamStatusActive
	})
}

func putKinesis(t testing.TB, c *kinesis.Client, stream string, data [][]byte) {
	t.Helper()
	in := &kinesis.PutRecordsInput{StreamName: aws.String(stream)}
	for i, d := range data {
		in.Records = append(in.Records, ktypes.PutRecordsRequestEntry{Data: d, PartitionKey: aws.String(fmt.Sprintf("pk-%d", i))})
	}
	out, err := c.PutRecords(context.Background(), in)
	if err != nil || aws.ToInt32(out.FailedRecordCount) != 0 {
		t.Fatalf("put records: %v (%d failed)", err, aws.ToInt32(out.FailedRecordCount))
	}
}

// TestKinesisSource reads an Eddy data stream in process: it starts at the
// delivery stream's creation, splits KPL aggregates, follows a split and a
// merge, and refuses direct puts.
func TestKinesisSource(t *testing.T) {
	v := startVersity(t, "kds-bucket")
	srv := startServer(t, nil, v.URL)
	kc, fc := srv.Kinesis(), srv.Firehose()
	ctx := context.Background()
	if _, err := kc.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String("src"), ShardCount: aws.Int32(2)}); err != nil {
		t.Fatal(err)
	}
	waitStreamActive(t, kc, "src")
	putKinesis(t, kc, "src", [][]byte{[]byte("old-1"), []byte("old-2")})
	created := time.Now()
	for time.Since(created) < 5*time.Millisecond { // the next millisecond tick, so "old" records precede the start
	}

	_, err := fc.CreateDeliveryStream(ctx, &fh.CreateDeliveryStreamInput{
		DeliveryStreamName: aws.String("fromkds"),
		DeliveryStreamType: fhtypes.DeliveryStreamTypeKinesisStreamAsSource,
		KinesisStreamSourceConfiguration: &fhtypes.KinesisStreamSourceConfiguration{
			KinesisStreamARN: aws.String("arn:aws:kinesis:us-east-1:000000000000:stream/src"),
			RoleARN:          aws.String("arn:aws:iam::000000000000:role/r"),
		},
		ExtendedS3DestinationConfiguration: &fhtypes.ExtendedS3DestinationConfiguration{
			BucketARN: aws.String("arn:aws:s3:::kds-bucket"), RoleARN: aws.String("arn:aws:iam::000000000000:role/r"),
			Prefix:         aws.String("k/"),
			BufferingHints: &fhtypes.BufferingHints{SizeInMBs: aws.Int32(1), IntervalInSeconds: aws.Int32(0)},
			ProcessingConfiguration: &fhtypes.ProcessingConfiguration{Enabled: aws.Bool(true),
				Processors: []fhtypes.Processor{{Type: fhtypes.ProcessorTypeAppendDelimiterToRecord}}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = fc.PutRecord(ctx, &fh.PutRecordInput{DeliveryStreamName: aws.String("fromkds"), Record: &fhtypes.Record{Data: []byte("x")}})
	if apiCode(err) != "InvalidArgumentException" || apiMessage(err) != "This operation is not permitted on KinesisStreamAsSource delivery stream type." {
		t.Fatalf("direct put: %v", err)
	}
	d, err := fc.DescribeDeliveryStream(ctx, &fh.DescribeDeliveryStreamInput{DeliveryStreamName: aws.String("fromkds")})
	if err != nil || d.DeliveryStreamDescription.Source == nil || d.DeliveryStreamDescription.Source.KinesisStreamSourceDescription == nil ||
		d.DeliveryStreamDescription.Source.KinesisStreamSourceDescription.DeliveryStartTimestamp == nil {
		t.Fatalf("describe source: %+v %v", d, err)
	}

	want := map[string]bool{}
	var batch [][]byte
	for i := 0; i < 200; i++ {
		s := fmt.Sprintf("plain-%04d", i)
		want[s] = true
		batch = append(batch, []byte(s))
	}
	agg := kpl.Aggregate([]kpl.Record{{PartitionKey: "a", Data: []byte("kpl-0")}, {PartitionKey: "b", Data: []byte("kpl-1")}, {PartitionKey: "a", Data: []byte("kpl-2")}})
	want["kpl-0"], want["kpl-1"], want["kpl-2"] = true, true, true
	batch = append(batch, agg)
	putKinesis(t, kc, "src", batch)

	// Split the first shard; records written afterwards land in its children.
	ls, err := kc.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String("src")})
	if err != nil {
		t.Fatal(err)
	}
	sh := ls.Shards[0]
	lo, _ := new(big.Int).SetString(aws.ToString(sh.HashKeyRange.StartingHashKey), 10)
	hi, _ := new(big.Int).SetString(aws.ToString(sh.HashKeyRange.EndingHashKey), 10)
	mid := new(big.Int).Rsh(new(big.Int).Add(lo, hi), 1)
	if _, err := kc.SplitShard(ctx, &kinesis.SplitShardInput{StreamName: aws.String("src"), ShardToSplit: sh.ShardId, NewStartingHashKey: aws.String(mid.String())}); err != nil {
		t.Fatal(err)
	}
	waitStreamActive(t, kc, "src")
	batch = nil
	for i := 0; i < 200; i++ {
		s := fmt.Sprintf("after-split-%04d", i)
		want[s] = true
		batch = append(batch, []byte(s))
	}
	putKinesis(t, kc, "src", batch)

	// Merge the upper child of the split with its neighbour; records after
	// that land in a shard with two parents.
	ls, err = kc.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String("src"),
		ShardFilter: &ktypes.ShardFilter{Type: ktypes.ShardFilterTypeAtLatest}})
	if err != nil {
		t.Fatal(err)
	}
	var upperChild, neighbour *string
	for _, s := range ls.Shards {
		start, _ := new(big.Int).SetString(aws.ToString(s.HashKeyRange.StartingHashKey), 10)
		if start.Cmp(mid) == 0 {
			upperChild = s.ShardId
		}
		if start.Cmp(new(big.Int).Add(hi, big.NewInt(1))) == 0 {
			neighbour = s.ShardId
		}
	}
	if upperChild == nil || neighbour == nil {
		t.Fatalf("shards after split: %+v", ls.Shards)
	}
	if _, err := kc.MergeShards(ctx, &kinesis.MergeShardsInput{StreamName: aws.String("src"), ShardToMerge: upperChild, AdjacentShardToMerge: neighbour}); err != nil {
		t.Fatal(err)
	}
	waitStreamActive(t, kc, "src")
	batch = nil
	for i := 0; i < 200; i++ {
		s := fmt.Sprintf("after-merge-%04d", i)
		want[s] = true
		batch = append(batch, []byte(s))
	}
	putKinesis(t, kc, "src", batch)

	got := map[string]int{}
	waitFor(t, 30*time.Second, "every source record delivered", func() bool {
		got = map[string]int{}
		for _, o := range v.listObjects(t, "kds-bucket", "k/") {
			for _, line := range bytes.Split(bytes.TrimSuffix(o.Body, []byte("\n")), []byte("\n")) {
				got[string(line)]++
			}
		}
		n := 0
		for k := range want {
			if got[k] > 0 {
				n++
			}
		}
		return n == len(want)
	})
	for k := range got {
		if strings.HasPrefix(k, "old-") {
			t.Errorf("record %s from before the delivery stream was created was delivered", k)
		}
		if !want[k] {
			t.Errorf("unexpected record %q", k)
		}
	}
}
