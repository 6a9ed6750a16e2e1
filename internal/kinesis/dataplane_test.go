package kinesis_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/eddy-streams/eddy/internal/config"
	"github.com/eddy-streams/eddy/internal/eddytest"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func iterator(t *testing.T, c *kinesis.Client, in *kinesis.GetShardIteratorInput) *string {
	t.Helper()
	out, err := c.GetShardIterator(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	return out.ShardIterator
}

func TestIteratorsExpireAndAreBound(t *testing.T) {
	clk := &clock{t: time.Now()}
	srv := eddytest.Start(t, eddytest.WithClock(clk.now))
	c := eddytest.Kinesis(srv)
	createStream(t, c, "it", 2)
	put, err := c.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("it"), PartitionKey: aws.String("a"), Data: []byte("1")})
	if err != nil {
		t.Fatal(err)
	}
	trim := &kinesis.GetShardIteratorInput{StreamName: aws.String("it"), ShardId: put.ShardId, ShardIteratorType: types.ShardIteratorTypeTrimHorizon}
	it := iterator(t, c, trim)
	// quoted iterators are accepted, as AWS does
	if out, err := c.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: aws.String(`"` + *it + `"`)}); err != nil || len(out.Records) != 1 {
		t.Fatalf("quoted iterator: %v %v", out, err)
	}
	// LATEST is pinned when issued
	latest := iterator(t, c, &kinesis.GetShardIteratorInput{StreamName: aws.String("it"), ShardId: put.ShardId, ShardIteratorType: types.ShardIteratorTypeLatest})
	if _, err := c.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("it"), PartitionKey: aws.String("a"), Data: []byte("2")}); err != nil {
		t.Fatal(err)
	}
	out, err := c.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: latest})
	if err != nil || len(out.Records) != 1 || string(out.Records[0].Data) != "2" {
		t.Fatalf("LATEST: %+v %v", out, err)
	}
	// an empty read still hands out a fresh iterator
	again, err := c.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: out.NextShardIterator})
	if err != nil || len(again.Records) != 0 || again.NextShardIterator == nil || *again.NextShardIterator == *out.NextShardIterator {
		t.Fatalf("empty read: %+v %v", again, err)
	}
	// five minutes later the iterator is expired, with AWS's message
	clk.add(5*time.Minute + time.Second)
	_, err = c.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: it})
	msg := apiErr(t, err, "ExpiredIteratorException")
	if !strings.HasPrefix(msg, "Iterator expired. The iterator was created at time ") || !strings.HasSuffix(msg, "which is further in the future than the tolerated delay of 300000 milliseconds.") {
		t.Fatalf("message %q", msg)
	}
	// forged and foreign iterators
	_, err = c.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: aws.String("AAAAAAAAAAEforged")})
	if m := apiErr(t, err, "InvalidArgumentException"); m != "Invalid ShardIterator." {
		t.Fatalf("message %q", m)
	}
	// a re-created stream refuses the old incarnation's iterators and numbers
	it = iterator(t, c, trim)
	if _, err := c.DeleteStream(ctx, &kinesis.DeleteStreamInput{StreamName: aws.String("it")}); err != nil {
		t.Fatal(err)
	}
	clk.add(2 * time.Second)
	createStream(t, c, "it", 2)
	_, err = c.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: it})
	apiErr(t, err, "ResourceNotFoundException")
	_, err = c.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String("it"), ShardId: put.ShardId,
		ShardIteratorType: types.ShardIteratorTypeAtSequenceNumber, StartingSequenceNumber: put.SequenceNumber})
	if m := apiErr(t, err, "InvalidArgumentException"); !strings.HasSuffix(m, "is invalid because it did not come from this stream.") {
		t.Fatalf("message %q", m)
	}
}

func TestGetShardIteratorErrors(t *testing.T) {
	c := newClient(t)
	createStream(t, c, "gi", 2)
	put, err := c.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("gi"), PartitionKey: aws.String("a"), Data: []byte("1")})
	if err != nil {
		t.Fatal(err)
	}
	other := "shardId-000000000000"
	if aws.ToString(put.ShardId) == other {
		other = "shardId-000000000001"
	}
	cases := []struct {
		name string
		in   kinesis.GetShardIteratorInput
		code string
		msg  string
	}{
		{"unknown shard", kinesis.GetShardIteratorInput{ShardId: aws.String("shardId-000000000007"), ShardIteratorType: types.ShardIteratorTypeLatest},
			"ResourceNotFoundException", "Shard shardId-000000000007 in stream gi under account 000000000000 does not exist"},
		{"sequence type without number", kinesis.GetShardIteratorInput{ShardId: put.ShardId, ShardIteratorType: types.ShardIteratorTypeAtSequenceNumber},
			"InvalidArgumentException", "Request specified AT_SEQUENCE_NUMBER and no StartingSequenceNumber."},
		{"number with TRIM_HORIZON", kinesis.GetShardIteratorInput{ShardId: put.ShardId, ShardIteratorType: types.ShardIteratorTypeTrimHorizon, StartingSequenceNumber: put.SequenceNumber},
			"InvalidArgumentException", "Request specified TRIM_HORIZON and also StartingSequenceNumber."},
		{"number of another shard", kinesis.GetShardIteratorInput{ShardId: aws.String(other), ShardIteratorType: types.ShardIteratorTypeAfterSequenceNumber, StartingSequenceNumber: put.SequenceNumber},
			"InvalidArgumentException", fmt.Sprintf("Invalid StartingSequenceNumber. It encodes %s, while it was used in a call to a shard with %s", aws.ToString(put.ShardId), other)},
		{"not a number of ours", kinesis.GetShardIteratorInput{ShardId: put.ShardId, ShardIteratorType: types.ShardIteratorTypeAtSequenceNumber, StartingSequenceNumber: aws.String("12345")},
			"InvalidArgumentException", "is invalid."},
		{"timestamp missing", kinesis.GetShardIteratorInput{ShardId: put.ShardId, ShardIteratorType: types.ShardIteratorTypeAtTimestamp},
			"InvalidArgumentException", "Must specify timestampInMillis parameter for iterator of type AT_TIMESTAMP."},
		{"timestamp in the future", kinesis.GetShardIteratorInput{ShardId: put.ShardId, ShardIteratorType: types.ShardIteratorTypeAtTimestamp, Timestamp: aws.Time(time.Now().Add(time.Hour))},
			"InvalidArgumentException", "The timestampInMillis parameter cannot be greater than the currentTimestampInMillis."},
		{"bad type", kinesis.GetShardIteratorInput{ShardId: put.ShardId, ShardIteratorType: "SOMEWHERE"},
			"ValidationException", "Member must satisfy enum value set"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			in.StreamName = aws.String("gi")
			_, err := c.GetShardIterator(ctx, &in)
			if m := apiErr(t, err, tc.code); !strings.Contains(m, tc.msg) {
				t.Fatalf("message %q lacks %q", m, tc.msg)
			}
		})
	}
	// AT_TIMESTAMP reads from the first record that arrived at or after it
	before := time.Now().Add(-time.Minute)
	it := iterator(t, c, &kinesis.GetShardIteratorInput{StreamName: aws.String("gi"), ShardId: put.ShardId, ShardIteratorType: types.ShardIteratorTypeAtTimestamp, Timestamp: &before})
	out, err := c.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: it})
	if err != nil || len(out.Records) != 1 {
		t.Fatalf("AT_TIMESTAMP: %+v %v", out, err)
	}
	// GetRecords Limit bounds
	_, err = c.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: it, Limit: aws.Int32(10001)})
	apiErr(t, err, "ValidationException")
}

func TestListingAndPaging(t *testing.T) {
	c := newClient(t)
	for i := 0; i < 5; i++ {
		createStream(t, c, fmt.Sprintf("s%d", i), 3)
	}
	// ListStreams pages with NextToken and with ExclusiveStartStreamName
	var names []string
	in := &kinesis.ListStreamsInput{Limit: aws.Int32(2)}
	for {
		out, err := c.ListStreams(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, out.StreamNames...)
		if len(out.StreamSummaries) != len(out.StreamNames) {
			t.Fatal("summaries and names differ")
		}
		if !aws.ToBool(out.HasMoreStreams) {
			if out.NextToken != nil {
				t.Fatal("NextToken on the last page")
			}
			break
		}
		in = &kinesis.ListStreamsInput{Limit: aws.Int32(2), NextToken: out.NextToken}
	}
	if strings.Join(names, ",") != "s0,s1,s2,s3,s4" {
		t.Fatalf("names %v", names)
	}
	out, err := c.ListStreams(ctx, &kinesis.ListStreamsInput{ExclusiveStartStreamName: aws.String("s2")})
	if err != nil || strings.Join(out.StreamNames, ",") != "s3,s4" {
		t.Fatalf("ExclusiveStartStreamName: %v %v", out, err)
	}
	// another region sees none of them
	other := kinesis.NewFromConfig(eddytest.AWSConfig(*c.Options().BaseEndpoint, "ap-south-1", ""))
	if out, err := other.ListStreams(ctx, &kinesis.ListStreamsInput{}); err != nil || len(out.StreamNames) != 0 {
		t.Fatalf("other region: %v %v", out, err)
	}
	// DescribeStream pages shards
	d, err := c.DescribeStream(ctx, &kinesis.DescribeStreamInput{StreamName: aws.String("s0"), Limit: aws.Int32(2)})
	if err != nil || len(d.StreamDescription.Shards) != 2 || !aws.ToBool(d.StreamDescription.HasMoreShards) {
		t.Fatalf("DescribeStream page 1: %v %v", d, err)
	}
	d, err = c.DescribeStream(ctx, &kinesis.DescribeStreamInput{StreamName: aws.String("s0"), ExclusiveStartShardId: aws.String("shardId-000000000001")})
	if err != nil || len(d.StreamDescription.Shards) != 1 || aws.ToBool(d.StreamDescription.HasMoreShards) {
		t.Fatalf("DescribeStream page 2: %v %v", d, err)
	}
	// ListShards: NextToken cannot come with StreamName
	ls, err := c.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String("s0"), MaxResults: aws.Int32(1)})
	if err != nil || ls.NextToken == nil {
		t.Fatalf("ListShards: %v %v", ls, err)
	}
	_, err = c.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String("s0"), NextToken: ls.NextToken})
	apiErr(t, err, "InvalidArgumentException")
	_, err = c.ListShards(ctx, &kinesis.ListShardsInput{NextToken: aws.String("garbage")})
	apiErr(t, err, "InvalidArgumentException")
	// ShardFilter types after a split of shard 0
	if _, err := c.SplitShard(ctx, &kinesis.SplitShardInput{StreamName: aws.String("s0"), ShardToSplit: aws.String("shardId-000000000000"), NewStartingHashKey: aws.String("1000")}); err != nil {
		t.Fatal(err)
	}
	ids := func(f *types.ShardFilter) string {
		t.Helper()
		out, err := c.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String("s0"), ShardFilter: f})
		if err != nil {
			t.Fatal(err)
		}
		var s []string
		for _, sh := range out.Shards {
			s = append(s, strings.TrimPrefix(aws.ToString(sh.ShardId), "shardId-00000000000"))
		}
		return strings.Join(s, ",")
	}
	for _, tc := range []struct {
		f    *types.ShardFilter
		want string
	}{
		{nil, "0,1,2,3,4"},
		{&types.ShardFilter{Type: types.ShardFilterTypeFromTrimHorizon}, "0,1,2,3,4"},
		{&types.ShardFilter{Type: types.ShardFilterTypeAtTrimHorizon}, "0,1,2"},
		{&types.ShardFilter{Type: types.ShardFilterTypeAtLatest}, "1,2,3,4"},
		{&types.ShardFilter{Type: types.ShardFilterTypeAfterShardId, ShardId: aws.String("shardId-000000000002")}, "3,4"},
		{&types.ShardFilter{Type: types.ShardFilterTypeAtTimestamp, Timestamp: aws.Time(time.Now().Add(time.Hour))}, "1,2,3,4"},
		{&types.ShardFilter{Type: types.ShardFilterTypeFromTimestamp, Timestamp: aws.Time(time.Now().Add(-time.Hour))}, "0,1,2,3,4"},
	} {
		if got := ids(tc.f); got != tc.want {
			t.Errorf("filter %+v: %s, want %s", tc.f, got, tc.want)
		}
	}
}

func TestTransitionsAndResourceInUse(t *testing.T) {
	c := newClient(t, eddytest.WithConfig(func(cfg *config.Config) { cfg.TransitionDelay = 300 * time.Millisecond }))
	if _, err := c.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String("tr"), ShardCount: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	d, err := c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String("tr")})
	if err != nil || d.StreamDescriptionSummary.StreamStatus != types.StreamStatusCreating {
		t.Fatalf("status %v %v", d, err)
	}
	_, err = c.SplitShard(ctx, &kinesis.SplitShardInput{StreamName: aws.String("tr"), ShardToSplit: aws.String("shardId-000000000000"), NewStartingHashKey: aws.String("1000")})
	if m := apiErr(t, err, "ResourceInUseException"); m != "Stream tr under account 000000000000 not ACTIVE, instead in state CREATING" {
		t.Fatalf("message %q", m)
	}
	_, err = c.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String("tr"), ShardCount: aws.Int32(1)})
	if m := apiErr(t, err, "ResourceInUseException"); m != "Stream tr under account 000000000000 already exists." {
		t.Fatalf("message %q", m)
	}
	eddytest.WaitActive(t, c, "tr")
}

func TestEnforcedWriteQuota(t *testing.T) {
	c := newClient(t, eddytest.WithConfig(func(cfg *config.Config) { cfg.EnforceLimits = true }))
	createStream(t, c, "q", 1)
	throttled := 0
	for round := 0; round < 4 && throttled == 0; round++ {
		var entries []types.PutRecordsRequestEntry
		for i := 0; i < 500; i++ {
			entries = append(entries, types.PutRecordsRequestEntry{PartitionKey: aws.String("k"), Data: []byte("x")})
		}
		out, err := c.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String("q"), Records: entries})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range out.Records {
			if r.ErrorCode != nil {
				throttled++
				if aws.ToString(r.ErrorCode) != "ProvisionedThroughputExceededException" ||
					aws.ToString(r.ErrorMessage) != "Rate exceeded for shard shardId-000000000000 in stream q under account 000000000000." {
					t.Fatalf("entry %+v", r)
				}
			}
		}
	}
	if throttled == 0 {
		t.Fatal("2,000 records in a burst on one shard were all accepted (quota 1,000/s)")
	}
}

// Records older than the retention period are trimmed; a closed shard
// whose records have all expired leaves the lineage.
func TestRetentionTrimsAndDropsClosedShards(t *testing.T) {
	clk := &clock{t: time.Now()}
	srv := eddytest.Start(t, eddytest.WithClock(clk.now))
	c := eddytest.Kinesis(srv)
	createStream(t, c, "ret", 1)
	if _, err := c.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("ret"), PartitionKey: aws.String("a"), Data: []byte("old")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.SplitShard(ctx, &kinesis.SplitShardInput{StreamName: aws.String("ret"), ShardToSplit: aws.String("shardId-000000000000"), NewStartingHashKey: aws.String("1000")}); err != nil {
		t.Fatal(err)
	}
	clk.add(23 * time.Hour)
	if _, err := c.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("ret"), PartitionKey: aws.String("a"), Data: []byte("new")}); err != nil {
		t.Fatal(err)
	}
	clk.add(2 * time.Hour) // "old" is 25 h old, "new" 2 h
	srv.Kinesis.EnforceRetention()
	ls, err := c.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String("ret")})
	if err != nil {
		t.Fatal(err)
	}
	if len(ls.Shards) != 2 || aws.ToString(ls.Shards[0].ShardId) == "shardId-000000000000" {
		t.Fatalf("expired closed parent still listed: %+v", ls.Shards)
	}
	got := 0
	for _, sh := range ls.Shards {
		it := iterator(t, c, &kinesis.GetShardIteratorInput{StreamName: aws.String("ret"), ShardId: sh.ShardId, ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
		out, err := c.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: it})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range out.Records {
			if string(r.Data) != "new" {
				t.Fatalf("expired record %q still readable", r.Data)
			}
			got++
		}
	}
	if got != 1 {
		t.Fatalf("%d records readable, want the 1 within retention", got)
	}
}
