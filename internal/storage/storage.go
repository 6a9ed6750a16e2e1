// Package storage defines the Backend that keeps shard logs and service
// metadata, and the sentinel errors every backend returns.
//
// A shard log is an append-only sequence of records numbered by a per-shard
// position (uint64, starting at 0, +1 per record, never reused). Each record
// carries the arrival time the backend assigned to its batch (epoch ms,
// clamped so it never goes backwards within a shard), so one index answers
// both "position p" and "first record at or after time t".
//
// Append returns only when the records are as durable as the backend's mode
// promises; readers never see a record before Append could return for it.
// After a crash each shard recovers as a prefix of what was appended: no
// holes, no reordering, no position reused.
//
// Metadata (streams, shards, consumers, tags…) is an opaque blob owned by the
// services (SaveMeta/LoadMeta), written atomically.
package storage

import (
	"context"
	"errors"
)

// Sentinel errors. Backends wrap them with context; test with errors.Is.
var (
	ErrNotFound    = errors.New("storage: shard not found")
	ErrExists      = errors.New("storage: shard exists")
	ErrShardSealed = errors.New("storage: shard sealed")
	ErrTrimmed     = errors.New("storage: position trimmed")
	ErrCorrupt     = errors.New("storage: corrupt data")
	ErrClosed      = errors.New("storage: backend closed")
	ErrPoisoned    = errors.New("storage: shard failed a write or sync; writes refused until reopen")
	ErrNoSpace     = errors.New("storage: no space left on device")
	ErrLocked      = errors.New("storage: data directory in use by another process")
	// ErrUnavailable: a replicated backend cannot reach a quorum (or a
	// leader) right now; nothing was acknowledged, retrying later may work.
	ErrUnavailable = errors.New("storage: backend unavailable (no quorum)")
)

// ShardID names a shard log. Stream is the service's internal stream id (not
// the user-visible name: names are reused after deletion), Index the shard
// index within the stream.
type ShardID struct {
	Stream string
	Index  uint32
}

// Record is what Append takes.
type Record struct {
	PartitionKey string
	Data         []byte
}

// StoredRecord is what Read yields. PartitionKey and Data alias the backend's
// buffers and are valid only during the callback.
type StoredRecord struct {
	Pos          uint64
	ArrivalMs    int64
	PartitionKey []byte
	Data         []byte
}

// AppendResult tells where a batch landed.
type AppendResult struct {
	FirstPos  uint64 // position of the batch's first record; record i is FirstPos+i
	ArrivalMs int64  // arrival time given to every record of the batch
}

// Bounds describes a shard's readable window.
type Bounds struct {
	Trim      uint64 // first readable position (trim horizon)
	Next      uint64 // position the next append gets; readable = [Trim, Next)
	TipMs     int64  // arrival time of the newest record (0 if none ever)
	Sealed    bool
	CreatedMs int64
}

// ReadLimits bound one Read call. Zero means no limit for that dimension.
type ReadLimits struct {
	MaxRecords int
	MaxBytes   int // counts PartitionKey + Data
}

// Backend keeps shard logs and metadata. All methods are safe for concurrent use.
type Backend interface {
	// CreateShard makes an empty log. createdMs is the shard's creation time
	// and the floor for its arrival times.
	CreateShard(ctx context.Context, id ShardID, createdMs int64) error

	// Append adds recs as one batch (len(recs) >= 1) and returns once durable
	// per the backend's mode. ErrShardSealed after SealShard.
	//
	// Append does not keep the caller's buffers: once it returns (with or
	// without an error) the caller may reuse or overwrite recs, every
	// Record.Data and the bytes behind every Record.PartitionKey (which a
	// caller may alias into a pooled request buffer), and later reads still
	// yield the bytes as they were during the call. A backend copies what it
	// keeps, and never reads the caller's buffers after returning.
	Append(ctx context.Context, id ShardID, recs []Record) (AppendResult, error)

	// Read calls fn for records from position from (clamped up to the trim
	// horizon) in order, until fn returns false, the limits are reached or the
	// durable tip is hit. It returns the position after the last record fn
	// saw (from, or the trim horizon, when none). At least one record is
	// yielded when one exists, even if it alone exceeds MaxBytes. A read
	// that meets damaged data (a quarantined shard) after yielding records
	// stops there without error; one that starts at the damage fails with
	// ErrCorrupt.
	Read(ctx context.Context, id ShardID, from uint64, lim ReadLimits, fn func(StoredRecord) bool) (next uint64, err error)

	// PosAtTime returns the first position whose arrival time is >= ms
	// (Bounds.Next if none), never below the trim horizon.
	PosAtTime(ctx context.Context, id ShardID, ms int64) (uint64, error)

	// Bounds reports the readable window.
	Bounds(ctx context.Context, id ShardID) (Bounds, error)

	// Watch returns a channel closed when the shard's durable tip moves
	// beyond next-1 (i.e. once position `next` is readable), or at once if it
	// already has, or when the shard is sealed or deleted or the backend closes.
	Watch(id ShardID, next uint64) <-chan struct{}

	// SealShard refuses further appends (the shard was split or merged).
	SealShard(ctx context.Context, id ShardID) error

	// Trim makes records that arrived before cutoffMs unreadable at once and
	// frees their space when it can (whole segments). Trimming never removes
	// the newest record's position from Bounds.Next.
	Trim(ctx context.Context, id ShardID, cutoffMs int64) error

	// DeleteShard removes a shard log and its data.
	DeleteShard(ctx context.Context, id ShardID) error

	// SaveMeta atomically replaces the metadata blob of a namespace (e.g.
	// "kinesis", "firehose"); LoadMeta returns nil, nil when none was saved.
	SaveMeta(namespace string, blob []byte) error
	LoadMeta(namespace string) ([]byte, error)

	// Close flushes and releases everything. Further calls get ErrClosed.
	Close() error
}
