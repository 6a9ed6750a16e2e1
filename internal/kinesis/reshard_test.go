package kinesis_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// putN writes n records "key:counter" over keys, returning nothing; the
// counter per key increases so order per key can be checked.
func putBatch(t *testing.T, c *kinesis.Client, stream string, keys int, from, n int, counters map[string]int) {
	t.Helper()
	var entries []types.PutRecordsRequestEntry
	for i := 0; i < n; i++ {
		k := fmt.Sprintf("key-%d", (from+i)%keys)
		counters[k]++
		entries = append(entries, types.PutRecordsRequestEntry{PartitionKey: aws.String(k), Data: []byte(fmt.Sprintf("%s:%d", k, counters[k]))})
	}
	out, err := c.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String(stream), Records: entries})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToInt32(out.FailedRecordCount) != 0 {
		t.Fatalf("%d failed", aws.ToInt32(out.FailedRecordCount))
	}
}

// readLineage reads the whole stream as a KCL would: start from the shards
// open at the trim horizon, read each to its end, and only start a child once
// all its parents are done. It returns per-key data in read order.
func readLineage(t *testing.T, c *kinesis.Client, stream string) map[string][]string {
	t.Helper()
	ls, err := c.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String(stream), ShardFilter: &types.ShardFilter{Type: types.ShardFilterTypeAtTrimHorizon}})
	if err != nil {
		t.Fatal(err)
	}
	all, err := c.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String(stream)})
	if err != nil {
		t.Fatal(err)
	}
	parents := map[string][]string{}
	for _, sh := range all.Shards {
		if sh.ParentShardId != nil {
			parents[*sh.ShardId] = append(parents[*sh.ShardId], *sh.ParentShardId)
		}
		if sh.AdjacentParentShardId != nil {
			parents[*sh.ShardId] = append(parents[*sh.ShardId], *sh.AdjacentParentShardId)
		}
	}
	done := map[string]bool{}
	queued := map[string]bool{}
	var queue []string
	for _, sh := range ls.Shards {
		queue = append(queue, *sh.ShardId)
		queued[*sh.ShardId] = true
	}
	got := map[string][]string{}
	for len(queue) > 0 {
		// pick a shard whose parents are all done
		pick := -1
		for i, id := range queue {
			ok := true
			for _, p := range parents[id] {
				if !done[p] && queued[p] {
					ok = false
				}
			}
			if ok {
				pick = i
				break
			}
		}
		if pick < 0 {
			t.Fatalf("no shard ready in %v", queue)
		}
		id := queue[pick]
		queue = append(queue[:pick], queue[pick+1:]...)
		it, err := c.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String(stream), ShardId: aws.String(id), ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
		if err != nil {
			t.Fatal(err)
		}
		iter := it.ShardIterator
		for steps := 0; ; steps++ {
			if steps > 1000 {
				t.Fatalf("shard %s never ended", id)
			}
			res, err := c.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: iter, Limit: aws.Int32(37)})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range res.Records {
				k, _, _ := strings.Cut(string(r.Data), ":")
				if aws.ToString(r.PartitionKey) != k {
					t.Fatalf("record %q under key %q", r.Data, aws.ToString(r.PartitionKey))
				}
				got[k] = append(got[k], string(r.Data))
			}
			if res.NextShardIterator == nil {
				if len(res.ChildShards) == 0 {
					t.Fatalf("shard %s ended without ChildShards", id)
				}
				for _, ch := range res.ChildShards {
					if len(ch.ParentShards) == 0 {
						t.Fatalf("child %s lists no parents", aws.ToString(ch.ShardId))
					}
					if !queued[*ch.ShardId] {
						queued[*ch.ShardId] = true
						queue = append(queue, *ch.ShardId)
					}
				}
				break
			}
			if len(res.ChildShards) > 0 {
				t.Fatalf("ChildShards with a non-null iterator on %s", id)
			}
			if len(res.Records) == 0 {
				// open shard caught up
				break
			}
			iter = res.NextShardIterator
		}
		done[id] = true
	}
	return got
}

func checkExactlyOnceInOrder(t *testing.T, got map[string][]string, counters map[string]int) {
	t.Helper()
	for k, n := range counters {
		if len(got[k]) != n {
			t.Fatalf("key %s: read %d records, wrote %d", k, len(got[k]), n)
		}
		for i, d := range got[k] {
			_, num, _ := strings.Cut(d, ":")
			if v, _ := strconv.Atoi(num); v != i+1 {
				t.Fatalf("key %s: record %d is %q (order broken or duplicate)", k, i, d)
			}
		}
	}
}

func TestReshardLineageExactlyOnceInOrder(t *testing.T) {
	c := newClient(t)
	createStream(t, c, "rs", 2)
	counters := map[string]int{}
	putBatch(t, c, "rs", 50, 0, 400, counters)
	// split shard 0 in the middle of its range
	if _, err := c.SplitShard(ctx, &kinesis.SplitShardInput{StreamName: aws.String("rs"), ShardToSplit: aws.String("shardId-000000000000"), NewStartingHashKey: aws.String("85070591730234615865843651857942052864")}); err != nil {
		t.Fatal(err)
	}
	eddytest_wait(t, c, "rs")
	putBatch(t, c, "rs", 50, 400, 400, counters)
	// merge the two children (2 and 3)
	if _, err := c.MergeShards(ctx, &kinesis.MergeShardsInput{StreamName: aws.String("rs"), ShardToMerge: aws.String("shardId-000000000002"), AdjacentShardToMerge: aws.String("shardId-000000000003")}); err != nil {
		t.Fatal(err)
	}
	eddytest_wait(t, c, "rs")
	putBatch(t, c, "rs", 50, 800, 400, counters)
	// scale up and down
	if _, err := c.UpdateShardCount(ctx, &kinesis.UpdateShardCountInput{StreamName: aws.String("rs"), TargetShardCount: aws.Int32(3), ScalingType: types.ScalingTypeUniformScaling}); err != nil {
		t.Fatal(err)
	}
	eddytest_wait(t, c, "rs")
	putBatch(t, c, "rs", 50, 1200, 400, counters)
	got := readLineage(t, c, "rs")
	checkExactlyOnceInOrder(t, got, counters)

	// the split parent refuses a second split
	_, err := c.SplitShard(ctx, &kinesis.SplitShardInput{StreamName: aws.String("rs"), ShardToSplit: aws.String("shardId-000000000000"), NewStartingHashKey: aws.String("1000")})
	msg := apiErr(t, err, "InvalidArgumentException")
	if !strings.Contains(msg, "has already been merged or split") {
		t.Fatalf("message %q", msg)
	}
}

func eddytest_wait(t *testing.T, c *kinesis.Client, name string) {
	t.Helper()
	out, err := c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	if out.StreamDescriptionSummary.StreamStatus != types.StreamStatusActive {
		t.Fatalf("status %s", out.StreamDescriptionSummary.StreamStatus)
	}
}

func TestUpdateShardCountTotalsMatchAWS(t *testing.T) {
	// Shard totals AWS reports after UpdateShardCount (initial, target, total
	// shards in the lineage), as recorded by moto's AWS-verified tests.
	cases := []struct{ initial, target, total int }{{2, 4, 6}, {4, 5, 15}, {10, 13, 37}, {4, 2, 6}, {5, 3, 7}, {10, 3, 17}}
	c := newClient(t)
	for i, tc := range cases {
		name := fmt.Sprintf("usc-%d", i)
		createStream(t, c, name, int32(tc.initial))
		out, err := c.UpdateShardCount(ctx, &kinesis.UpdateShardCountInput{StreamName: aws.String(name), TargetShardCount: aws.Int32(int32(tc.target)), ScalingType: types.ScalingTypeUniformScaling})
		if tc.target < (tc.initial+1)/2 {
			apiErr(t, err, "InvalidArgumentException")
			continue
		}
		if err != nil {
			t.Fatalf("%+v: %v", tc, err)
		}
		if aws.ToInt32(out.CurrentShardCount) != int32(tc.initial) || aws.ToInt32(out.TargetShardCount) != int32(tc.target) {
			t.Fatalf("%+v: output %d -> %d", tc, aws.ToInt32(out.CurrentShardCount), aws.ToInt32(out.TargetShardCount))
		}
		ls, err := c.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String(name)})
		if err != nil {
			t.Fatal(err)
		}
		open := 0
		for _, sh := range ls.Shards {
			if sh.SequenceNumberRange.EndingSequenceNumber == nil {
				open++
			}
		}
		if len(ls.Shards) != tc.total || open != tc.target {
			t.Fatalf("%+v: %d shards in lineage (%d open)", tc, len(ls.Shards), open)
		}
	}
}
