package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// acked is a record the server acknowledged.
type acked struct{ shard, data string }

// TestKill9LosesNoAcknowledgedRecord runs the real server under write load,
// kills it with SIGKILL at a random moment, restarts it on the same data
// directory, and checks through the SDK that every acknowledged record is
// there, unchanged, under the sequence number it was acknowledged with, and
// that each shard reads back in increasing order with no duplicates.
func TestKill9LosesNoAcknowledgedRecord(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	ackedBySeq := map[string]acked{}
	var mu sync.Mutex
	const cycles = 8
	for cycle := 0; cycle < cycles; cycle++ {
		s := startServer(t, dir, "--durability", "always")
		c := kinesisClient(s.URL, nil)
		if cycle == 0 {
			if _, err := c.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String("crash"), ShardCount: aws.Int32(4)}); err != nil {
				t.Fatal(err)
			}
		}
		verify(t, c, ackedBySeq)
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for p := 0; p < 6; p++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for n := 0; ; n++ {
					select {
					case <-stop:
						return
					default:
					}
					var entries []types.PutRecordsRequestEntry
					size := 1 + rand.IntN(100)
					for i := 0; i < size; i++ {
						entries = append(entries, types.PutRecordsRequestEntry{
							PartitionKey: aws.String(fmt.Sprintf("k%d", rand.IntN(1000))),
							Data:         []byte(fmt.Sprintf("c%d-p%d-n%d-i%d-%x", cycle, p, n, i, rand.Uint64())),
						})
					}
					out, err := c.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String("crash"), Records: entries})
					if err != nil {
						return // the server died under us: nothing of this call was acknowledged
					}
					mu.Lock()
					for i, r := range out.Records {
						if r.ErrorCode == nil {
							ackedBySeq[aws.ToString(r.SequenceNumber)] = acked{aws.ToString(r.ShardId), string(entries[i].Data)}
						}
					}
					mu.Unlock()
				}
			}()
		}
		time.Sleep(time.Duration(150+rand.IntN(600)) * time.Millisecond)
		s.cmd.Process.Signal(syscall.SIGKILL)
		s.cmd.Wait()
		close(stop)
		wg.Wait()
	}
	s := startServer(t, dir, "--durability", "always")
	verify(t, kinesisClient(s.URL, nil), ackedBySeq)
	if len(ackedBySeq) < 1000 {
		t.Fatalf("only %d records acknowledged over %d cycles: load too light to mean anything", len(ackedBySeq), cycles)
	}
	t.Logf("%d acknowledged records survived %d SIGKILLs", len(ackedBySeq), cycles)
}

// verify reads every shard and checks the acknowledged records.
func verify(t *testing.T, c *kinesis.Client, want map[string]acked) {
	t.Helper()
	ctx := context.Background()
	seen := map[string]string{}
	for ix := 0; ix < 4; ix++ {
		shard := fmt.Sprintf("shardId-%012d", ix)
		it, err := c.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String("crash"), ShardId: aws.String(shard), ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
		if err != nil {
			t.Fatal(err)
		}
		iter := it.ShardIterator
		prev := ""
		for {
			out, err := c.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: iter})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range out.Records {
				seq := aws.ToString(r.SequenceNumber)
				if _, dup := seen[seq]; dup {
					t.Fatalf("sequence number %s read twice", seq)
				}
				if prev != "" && !(len(seq) > len(prev) || (len(seq) == len(prev) && seq > prev)) {
					t.Fatalf("shard %s out of order: %s after %s", shard, seq, prev)
				}
				prev = seq
				seen[seq] = string(r.Data)
			}
			if len(out.Records) == 0 {
				break
			}
			iter = out.NextShardIterator
		}
	}
	for seq, a := range want {
		got, ok := seen[seq]
		if !ok {
			t.Fatalf("acknowledged record %s (%s) lost", seq, a.data)
		}
		if got != a.data {
			t.Fatalf("record %s changed: %q, acknowledged %q", seq, got, a.data)
		}
	}
}
