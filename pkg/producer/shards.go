package producer

import (
	"context"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/eddy-streams/eddy/internal/shardmap"
	"github.com/eddy-streams/eddy/pkg/kpl"
)

type shardInfo struct {
	id  string
	rng shardmap.Range
}

// listShards reads the open shards (ShardFilter AT_LATEST), sorted by
// hash range.
func (p *Producer) listShards(ctx context.Context) ([]shardInfo, error) {
	var out []shardInfo
	name, arn := p.streamRef()
	in := &kinesis.ListShardsInput{StreamName: name, StreamARN: arn, ShardFilter: &types.ShardFilter{Type: types.ShardFilterTypeAtLatest}}
	for {
		res, err := p.cfg.Client.ListShards(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("producer: list shards: %w", err)
		}
		for _, s := range res.Shards {
			if s.SequenceNumberRange != nil && s.SequenceNumberRange.EndingSequenceNumber != nil {
				continue // closed
			}
			if s.HashKeyRange == nil {
				continue
			}
			lo, err1 := shardmap.ParseHashKey(aws.ToString(s.HashKeyRange.StartingHashKey))
			hi, err2 := shardmap.ParseHashKey(aws.ToString(s.HashKeyRange.EndingHashKey))
			if err1 != nil || err2 != nil {
				return nil, fmt.Errorf("producer: list shards: bad hash range of %s", aws.ToString(s.ShardId))
			}
			out = append(out, shardInfo{aws.ToString(s.ShardId), shardmap.Range{Start: lo, End: hi}})
		}
		if res.NextToken == nil {
			break
		}
		in = &kinesis.ListShardsInput{NextToken: res.NextToken}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("producer: stream has no open shards")
	}
	slices.SortFunc(out, func(a, b shardInfo) int { return a.rng.Start.Cmp(b.rng.Start) })
	return out, nil
}

// installLocked makes infos the shard map. Shards that stay keep their
// buffers; what was buffered for a shard that closed is routed again, in
// order, into the new shards (which start empty, so order is kept).
func (p *Producer) installLocked(infos []shardInfo) {
	old := map[string]*shard{}
	for _, s := range p.shards {
		old[s.id] = s
	}
	now := p.cfg.Now()
	next := make([]*shard, 0, len(infos))
	for _, in := range infos {
		if s, ok := old[in.id]; ok && s.rng == in.rng {
			next = append(next, s)
			delete(old, in.id)
			continue
		}
		next = append(next, &shard{id: in.id, rng: in.rng, refill: now,
			recTokens: p.recRate(), byteTokens: p.byteRate()})
	}
	p.shards = next
	p.lastMap = now
	p.needMap = false
	for _, s := range p.shardsInOrder(old) {
		p.sealLocked(s)
		q := s.queue
		s.queue = nil
		for _, k := range q {
			p.requeueLocked([]*krec{k}, false)
		}
	}
}

func (p *Producer) shardsInOrder(m map[string]*shard) []*shard {
	out := make([]*shard, 0, len(m))
	for _, s := range m {
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b *shard) int { return a.rng.Start.Cmp(b.rng.Start) })
	return out
}

// requeueLocked puts Kinesis records (in their original order) back on the
// queues of the shards they now map to, at the front (retries) or the back.
// An aggregate whose user records now span several shards is split.
func (p *Producer) requeueLocked(ks []*krec, front bool) {
	per := map[*shard][]*krec{}
	var order []*shard
	add := func(s *shard, k *krec) {
		if _, ok := per[s]; !ok {
			order = append(order, s)
		}
		k.shard = s
		per[s] = append(per[s], k)
	}
	for _, k := range ks {
		s := p.shardForLocked(k.lo)
		if !k.aggregated || s.rng.Contains(k.hi) {
			add(s, k)
			continue
		}
		for _, nk := range p.splitLocked(k) {
			add(nk.shard, nk)
		}
	}
	for _, s := range order {
		if front {
			s.queue = append(per[s], s.queue...)
		} else {
			s.queue = append(s.queue, per[s]...)
		}
	}
}

// splitLocked re-aggregates an aggregate's user records by the shard each
// now maps to.
func (p *Producer) splitLocked(k *krec) []*krec {
	recs, ok := kpl.Deaggregate(k.data)
	if !ok {
		return []*krec{k}
	}
	p.c.resplits.Add(1)
	type part struct {
		b      kpl.Builder
		lo, hi shardmap.HashKey
		bytes  int64
	}
	var parts []*part
	var shards []*shard
	idx := map[*shard]int{}
	for _, r := range recs {
		hk := shardmap.HashPartitionKey(r.PartitionKey)
		if r.ExplicitHashKey != "" {
			hk, _ = shardmap.ParseHashKey(r.ExplicitHashKey)
		}
		s := p.shardForLocked(hk)
		i, ok := idx[s]
		if !ok {
			i = len(parts)
			idx[s] = i
			parts = append(parts, &part{lo: hk, hi: hk})
			shards = append(shards, s)
		}
		pt := parts[i]
		pt.b.Add(r.PartitionKey, r.ExplicitHashKey, r.Data)
		pt.bytes += int64(len(r.Data))
		if hk.Cmp(pt.lo) < 0 {
			pt.lo = hk
		}
		if hk.Cmp(pt.hi) > 0 {
			pt.hi = hk
		}
	}
	out := make([]*krec, 0, len(parts))
	for i, pt := range parts {
		nk := &krec{shard: shards[i], lo: pt.lo, hi: pt.hi, users: pt.b.Len(), userBytes: pt.bytes,
			deadline: k.deadline, attempts: k.attempts, lastCode: k.lastCode}
		if pt.b.Len() == 1 {
			pk, ehk, data := pt.b.First()
			nk.pk, nk.ehk, nk.data = pk, ehk, data
		} else {
			pk, ehk, _ := pt.b.First()
			if ehk == "" {
				ehk = shardmap.HashPartitionKey(pk).String()
			}
			nk.pk, nk.ehk, nk.data, nk.aggregated = "a", ehk, pt.b.Bytes(), true
		}
		out = append(out, nk)
	}
	return out
}

func (p *Producer) recRate() float64 {
	return shardRecordsRate * p.cfg.RateLimit / 100
}

func (p *Producer) byteRate() float64 {
	return shardBytesRate * p.cfg.RateLimit / 100
}
