package consumer

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// syncShards creates the leases missing for the stream's shards. A shard
// gets a lease when it has none and
//   - the initial position is TRIM_HORIZON (every shard in retention is
//     read, parents before children), or
//   - it is open (LATEST: start at the tip), or
//   - one of its parents has a lease (it was born after we started; a
//     child always starts at TRIM_HORIZON).
//
// Finished leases are kept (not cleaned up), so a finished shard is never
// leased again. Several workers may sync at once: creation is conditional.
func (w *Worker) syncShards(ctx context.Context) error {
	shards, err := w.listAllShards(ctx)
	if err != nil {
		return err
	}
	leases, err := w.cfg.Leases.List(ctx)
	if err != nil {
		return fmt.Errorf("list leases: %w", err)
	}
	have := map[string]bool{}
	for _, l := range leases {
		have[l.Key] = true
	}
	// shards come in creation order, so a parent's lease is decided first
	for _, s := range shards {
		id := aws.ToString(s.ShardId)
		if have[id] {
			continue
		}
		var parents []string
		for _, p := range []*string{s.ParentShardId, s.AdjacentParentShardId} {
			if p != nil {
				parents = append(parents, *p)
			}
		}
		parentLeased := false
		for _, p := range parents {
			parentLeased = parentLeased || have[p]
		}
		open := s.SequenceNumberRange == nil || s.SequenceNumberRange.EndingSequenceNumber == nil
		cp := w.cfg.InitialPosition
		switch {
		case parentLeased:
			cp = TrimHorizon
		case cp == TrimHorizon:
		case open:
		default:
			continue
		}
		l := Lease{Key: id, Checkpoint: cp, ParentShardIDs: parents}
		if s.HashKeyRange != nil {
			l.StartingHashKey, l.EndingHashKey = aws.ToString(s.HashKeyRange.StartingHashKey), aws.ToString(s.HashKeyRange.EndingHashKey)
		}
		if _, err := w.cfg.Leases.Create(ctx, l); err != nil {
			return fmt.Errorf("create lease %s: %w", id, err)
		}
		have[id] = true
	}
	return nil
}

func (w *Worker) listAllShards(ctx context.Context) ([]types.Shard, error) {
	in := &kinesis.ListShardsInput{}
	if w.cfg.StreamARN != "" {
		in.StreamARN = aws.String(w.cfg.StreamARN)
	} else {
		in.StreamName = aws.String(w.cfg.StreamName)
	}
	var out []types.Shard
	for {
		res, err := w.cfg.Kinesis.ListShards(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("list shards: %w", err)
		}
		out = append(out, res.Shards...)
		if res.NextToken == nil {
			return out, nil
		}
		in = &kinesis.ListShardsInput{NextToken: res.NextToken}
	}
}
