package producer

import (
	"context"
	"strconv"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// okKinesis accepts every entry on the predicted shard without storing it:
// the library's own cost, without HTTP or a server.
type okKinesis struct{ *fakeKinesis }

func (o okKinesis) PutRecords(ctx context.Context, in *kinesis.PutRecordsInput, _ ...func(*kinesis.Options)) (*kinesis.PutRecordsOutput, error) {
	out := &kinesis.PutRecordsOutput{Records: make([]types.PutRecordsResultEntry, len(in.Records))}
	for i, e := range in.Records {
		hk := o.hashOf(aws.ToString(e.PartitionKey), aws.ToString(e.ExplicitHashKey))
		for _, s := range o.shards {
			if s.rng.Contains(hk) {
				out.Records[i].ShardId = aws.String(s.id)
			}
		}
	}
	return out, nil
}

// BenchmarkPut: one aggregated 100-byte user record per op, 4 shards.
func BenchmarkPut(b *testing.B) {
	p, err := New(context.Background(), Config{StreamName: "s", Client: okKinesis{newFake(4)}, RateLimit: -1})
	if err != nil {
		b.Fatal(err)
	}
	keys := make([]string, 100000)
	for i := range keys {
		keys[i] = "key-" + strconv.Itoa(i*7919)
	}
	data := make([]byte, 100)
	b.SetBytes(100)
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		p.Put(context.Background(), keys[i%len(keys)], data)
	}
	p.Close(context.Background())
}
