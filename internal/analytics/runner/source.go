package runner

import (
	"context"

	"github.com/eddy-streams/eddy/internal/kinesis"
	"github.com/eddy-streams/eddy/internal/storage"
)

// Streams is the in-process Data Streams API the runner uses
// (*kinesis.Service).
type Streams interface {
	ResolveARN(arn string) (kinesis.StreamRef, error)
	Shards(ref kinesis.StreamRef) ([]kinesis.ShardInfo, error)
	Bounds(ctx context.Context, ref kinesis.StreamRef, shard uint32) (kinesis.ShardBounds, error)
	Read(ctx context.Context, ref kinesis.StreamRef, shard uint32, from uint64, max int, fn func(kinesis.InprocRecord) bool) (uint64, error)
	Watch(ref kinesis.StreamRef, shard uint32, next uint64) <-chan struct{}
	Put(ctx context.Context, account, region, name string, recs []kinesis.InprocEntry) ([]int, error)
}

// DeliveryStreams is the in-process Firehose API (*firehose.Service).
type DeliveryStreams interface {
	PutBatch(ctx context.Context, account, region, name string, recs [][]byte) error
	BufferLog(account, region, name string) (storage.ShardID, error)
}

// shardDesc is one readable unit of a source.
type shardDesc struct {
	index   uint32
	id      string // "shardId-…" (Kinesis), "" for a delivery stream
	parents []uint32
	open    bool
}

// source abstracts a data stream and a delivery stream's buffer log.
type source interface {
	list() ([]shardDesc, error)
	bounds(ctx context.Context, ix uint32) (trim, next uint64, sealed bool, err error)
	read(ctx context.Context, ix uint32, from uint64, max int, fn func(pos uint64, arrivalMs int64, pk, data []byte)) (uint64, error)
	watch(ix uint32, next uint64) <-chan struct{}
	identity() string
	isKinesis() bool
}

type kinesisSource struct {
	s   Streams
	ref kinesis.StreamRef
	arn string
}

func (k *kinesisSource) list() ([]shardDesc, error) {
	shards, err := k.s.Shards(k.ref)
	if err != nil {
		return nil, err
	}
	byID := map[string]uint32{}
	for _, sh := range shards {
		byID[sh.ID] = sh.Index
	}
	out := make([]shardDesc, 0, len(shards))
	for _, sh := range shards {
		d := shardDesc{index: sh.Index, id: sh.ID, open: sh.Open}
		for _, p := range []string{sh.Parent, sh.AdjacentParent} {
			if ix, ok := byID[p]; ok && p != "" {
				d.parents = append(d.parents, ix)
			}
		}
		out = append(out, d)
	}
	return out, nil
}

func (k *kinesisSource) bounds(ctx context.Context, ix uint32) (uint64, uint64, bool, error) {
	b, err := k.s.Bounds(ctx, k.ref, ix)
	return b.Trim, b.Next, b.Sealed, err
}

func (k *kinesisSource) read(ctx context.Context, ix uint32, from uint64, max int, fn func(uint64, int64, []byte, []byte)) (uint64, error) {
	return k.s.Read(ctx, k.ref, ix, from, max, func(r kinesis.InprocRecord) bool {
		fn(r.Pos, r.ArrivalMs, r.PartitionKey, r.Data)
		return true
	})
}

func (k *kinesisSource) watch(ix uint32, next uint64) <-chan struct{} {
	return k.s.Watch(k.ref, ix, next)
}
func (k *kinesisSource) identity() string {
	return k.arn + "@" + itoa64(k.ref.CreatedMs)
}
func (k *kinesisSource) isKinesis() bool { return true }

// logSource reads a delivery stream's buffer log (one "shard").
type logSource struct {
	be  storage.Backend
	id  storage.ShardID
	arn string
}

func (l *logSource) list() ([]shardDesc, error) { return []shardDesc{{index: 0, open: true}}, nil }
func (l *logSource) bounds(ctx context.Context, _ uint32) (uint64, uint64, bool, error) {
	b, err := l.be.Bounds(ctx, l.id)
	return b.Trim, b.Next, false, err
}
func (l *logSource) read(ctx context.Context, _ uint32, from uint64, max int, fn func(uint64, int64, []byte, []byte)) (uint64, error) {
	return l.be.Read(ctx, l.id, from, storage.ReadLimits{MaxRecords: max}, func(r storage.StoredRecord) bool {
		fn(r.Pos, r.ArrivalMs, nil, r.Data)
		return true
	})
}
func (l *logSource) watch(_ uint32, next uint64) <-chan struct{} { return l.be.Watch(l.id, next) }
func (l *logSource) identity() string                            { return l.arn + "@" + l.id.Stream }
func (l *logSource) isKinesis() bool                             { return false }

func itoa64(n int64) string {
	if n == 0 {
		return "0"
	}
	neg := n < 0
	if neg {
		n = -n
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}
