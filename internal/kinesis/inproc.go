package kinesis

// In-process access for other services of the same server (the analytics
// runner, Lambda's event source mappings, Firehose's KinesisStreamAsSource
// reader): list a stream's shards with their lineage, read a shard from a
// log position, and put records, all without HTTP, signing or iterators.
// Streams are named by account, region and name; a StreamRef carries the
// stream's creation time so that a deleted and recreated stream of the same
// name is not mistaken for the old one (ErrStreamGone).

import (
	"context"
	"errors"
	"fmt"

	"github.com/eddy-streams/eddy/internal/shardmap"
	"github.com/eddy-streams/eddy/internal/storage"
)

// ErrStreamGone: the stream does not exist (any more), or is not readable.
var ErrStreamGone = errors.New("kinesis: stream not found")

// StreamRef names one incarnation of a stream.
type StreamRef struct {
	Account, Region, Name string
	CreatedMs             int64
	id                    string
}

// ShardInfo describes one shard and its lineage.
type ShardInfo struct {
	ID             string // "shardId-000000000000"
	Index          uint32
	Parent         string // "" when none
	AdjacentParent string
	Open           bool
}

// InprocRecord is one record read in process. PartitionKey and Data alias
// storage buffers: valid only during the callback.
type InprocRecord struct {
	Pos            uint64 // log position; the next read starts at Pos+1
	ArrivalMs      int64
	PartitionKey   []byte
	Data           []byte
	SequenceNumber func() string // formatted on demand
}

// InprocEntry is one record to put.
type InprocEntry struct {
	PartitionKey string
	Data         []byte
}

// Resolve finds a readable stream (ACTIVE, UPDATING or DELETING).
func (s *Service) Resolve(account, region, name string) (StreamRef, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	st := s.streams[nsKey{account, region, name}]
	if st == nil || st.Status == stateCreating {
		return StreamRef{}, fmt.Errorf("%w: %s in %s/%s", ErrStreamGone, name, account, region)
	}
	return StreamRef{Account: account, Region: region, Name: name, CreatedMs: st.CreatedMs, id: st.ID}, nil
}

// ResolveARN is Resolve for "arn:aws:kinesis:REGION:ACCOUNT:stream/NAME".
func (s *Service) ResolveARN(arn string) (StreamRef, error) {
	p, ok := parseARN(arn)
	if !ok || p.consumer != "" {
		return StreamRef{}, fmt.Errorf("%w: %q is not a stream ARN", ErrStreamGone, arn)
	}
	return s.Resolve(p.account, p.region, p.stream)
}

func (s *Service) refLocked(ref StreamRef) (*stream, error) {
	st := s.streams[nsKey{ref.Account, ref.Region, ref.Name}]
	if st == nil || st.CreatedMs != ref.CreatedMs {
		return nil, fmt.Errorf("%w: %s", ErrStreamGone, ref.Name)
	}
	return st, nil
}

// Shards lists the stream's shards (retained ones, open and closed) in
// index order.
func (s *Service) Shards(ref StreamRef) ([]ShardInfo, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	st, err := s.refLocked(ref)
	if err != nil {
		return nil, err
	}
	out := make([]ShardInfo, 0, len(st.Shards))
	for _, sh := range st.Shards {
		out = append(out, ShardInfo{ID: sh.id, Index: sh.Index, Parent: sh.Parent, AdjacentParent: sh.AdjacentParent, Open: sh.open()})
	}
	return out, nil
}

// ShardBounds is a shard's readable window: positions [Trim, Next).
// Sealed is true for a closed shard (no record will follow Next).
type ShardBounds struct {
	Trim, Next uint64
	Sealed     bool
}

// Bounds reports a shard's readable window.
func (s *Service) Bounds(ctx context.Context, ref StreamRef, shard uint32) (ShardBounds, error) {
	b, err := s.backend.Bounds(ctx, storage.ShardID{Stream: ref.id, Index: shard})
	if err != nil {
		return ShardBounds{}, fmt.Errorf("kinesis: bounds of %s/%d: %w", ref.Name, shard, err)
	}
	return ShardBounds{Trim: b.Trim, Next: b.Next, Sealed: b.Sealed}, nil
}

// PosAtTime is the first position that arrived at or after ms.
func (s *Service) PosAtTime(ctx context.Context, ref StreamRef, shard uint32, ms int64) (uint64, error) {
	return s.backend.PosAtTime(ctx, storage.ShardID{Stream: ref.id, Index: shard}, ms)
}

// Read calls fn for up to max records from position from (clamped up to the
// trim horizon), in order, and returns the position after the last one.
func (s *Service) Read(ctx context.Context, ref StreamRef, shardIx uint32, from uint64, max int, fn func(InprocRecord) bool) (uint64, error) {
	s.mu.RLock()
	st, err := s.refLocked(ref)
	var sh *shard
	if err == nil {
		sh = st.shard(shardIx)
	}
	s.mu.RUnlock()
	if err != nil {
		return from, err
	}
	if sh == nil {
		return from, fmt.Errorf("%w: shard %d of %s", ErrStreamGone, shardIx, ref.Name)
	}
	return s.backend.Read(ctx, storage.ShardID{Stream: ref.id, Index: shardIx}, from, storage.ReadLimits{MaxRecords: max}, func(r storage.StoredRecord) bool {
		pos, arr := r.Pos, r.ArrivalMs
		return fn(InprocRecord{Pos: pos, ArrivalMs: arr, PartitionKey: r.PartitionKey, Data: r.Data,
			SequenceNumber: func() string { return shardmap.EncodeSeq(recordSeqFields(sh, pos, arr)) }})
	})
}

// Watch returns a channel closed once position next of the shard is
// readable (or the shard is sealed or deleted, or the backend closes).
func (s *Service) Watch(ref StreamRef, shard uint32, next uint64) <-chan struct{} {
	return s.backend.Watch(storage.ShardID{Stream: ref.id, Index: shard}, next)
}

// Put appends records, routed by partition key as PutRecords does (with
// the quota when --enforce-limits is on). When some records fail it
// returns their indexes and an error; the others are stored.
func (s *Service) Put(ctx context.Context, account, region, name string, recs []InprocEntry) (failed []int, err error) {
	s.mu.RLock()
	st := s.streams[nsKey{account, region, name}]
	var routes []*shard
	var maxRec int
	if st != nil && st.Status != stateCreating {
		routes, maxRec = st.routes, st.MaxRecordKiB<<10
	}
	s.mu.RUnlock()
	if routes == nil {
		return nil, fmt.Errorf("%w: %s in %s/%s", ErrStreamGone, name, account, region)
	}
	entries := make([]putRecordsEntry, len(recs))
	keys := make([]shardmap.HashKey, len(recs))
	for i := range recs {
		if recs[i].PartitionKey == "" || len(recs[i].Data)+len(recs[i].PartitionKey) > maxRec {
			return nil, fmt.Errorf("kinesis: put to %s: record %d has no partition key or exceeds %d bytes", name, i, maxRec)
		}
		pk := recs[i].PartitionKey
		entries[i] = putRecordsEntry{Data: recs[i].Data, PartitionKey: &pk}
		keys[i] = shardmap.HashPartitionKey(pk)
	}
	res := make([]putRecordsResultEntry, len(recs))
	s.appendRouted(ctx, st, routes, entries, keys, res)
	for i, r := range res {
		if r.ErrorCode != nil {
			failed = append(failed, i)
		}
	}
	if len(failed) > 0 {
		return failed, fmt.Errorf("kinesis: put to %s: %d of %d records failed (%s)", name, len(failed), len(recs), *res[failed[0]].ErrorMessage)
	}
	return nil, nil
}
