package consumer

import (
	"context"
	"errors"
	"math/big"
	"time"
)

// Record is one user record: a plain Kinesis record (SubSequenceNumber 0,
// Aggregated false) or one record inside a KPL aggregate.
type Record struct {
	SequenceNumber              string
	SubSequenceNumber           int64
	Aggregated                  bool
	PartitionKey                string
	ExplicitHashKey             string
	Data                        []byte
	ApproximateArrivalTimestamp time.Time
}

// RecordProcessor handles one shard at a time, as the Java KCL's
// ShardRecordProcessor does. A Worker calls it from one goroutine per
// shard: Initialize, then ProcessRecords any number of times, then exactly
// one of LeaseLost, ShardEnded or ShutdownRequested.
type RecordProcessor interface {
	Initialize(ctx context.Context, in InitializationInput)
	ProcessRecords(ctx context.Context, in ProcessRecordsInput)
	// LeaseLost: another worker owns the shard now; checkpointing is no
	// longer possible.
	LeaseLost(ctx context.Context, in LeaseLostInput)
	// ShardEnded: every record of the shard was delivered. The processor
	// must call in.Checkpointer.Checkpoint so children can start; until it
	// does, ShardEnded is called again.
	ShardEnded(ctx context.Context, in ShardEndedInput)
	// ShutdownRequested: the worker is shutting down gracefully; checkpoint
	// now, the lease is then handed over.
	ShutdownRequested(ctx context.Context, in ShutdownRequestedInput)
}

// ProcessorFactory makes a RecordProcessor per shard.
type ProcessorFactory func(shardID string) RecordProcessor

type InitializationInput struct {
	ShardID           string
	Checkpoint        string // sequence number or sentinel
	SubSequenceNumber int64
	// PendingCheckpoint is a position prepared (PrepareCheckpoint) but
	// not committed by a previous owner, "" when none.
	PendingCheckpoint        string
	PendingSubSequenceNumber int64
}

type ProcessRecordsInput struct {
	ShardID            string
	Records            []Record
	MillisBehindLatest int64
	Checkpointer       *Checkpointer
}

type LeaseLostInput struct{ ShardID string }

type ShardEndedInput struct {
	ShardID      string
	Checkpointer *Checkpointer
}

type ShutdownRequestedInput struct {
	ShardID      string
	Checkpointer *Checkpointer
}

// Checkpointer records progress in the lease table for one shard.
type Checkpointer struct {
	sc *shardConsumer
	// the largest position delivered so far (ProcessRecords), or SHARD_END
	lastSeq string
	lastSub int64
	atEnd   bool
}

// ErrLeaseLost: the lease is no longer ours; the checkpoint was not stored.
var ErrLeaseLost = errors.New("consumer: lease lost")

// Checkpoint stores the position of the last record delivered (or
// SHARD_END in ShardEnded).
func (c *Checkpointer) Checkpoint(ctx context.Context) error {
	if c.atEnd {
		return c.sc.checkpoint(ctx, ShardEnd, 0)
	}
	if c.lastSeq == "" {
		return nil
	}
	return c.sc.checkpoint(ctx, c.lastSeq, c.lastSub)
}

// CheckpointRecord stores the position of r: processing resumes after it.
func (c *Checkpointer) CheckpointRecord(ctx context.Context, r Record) error {
	return c.CheckpointAt(ctx, r.SequenceNumber, r.SubSequenceNumber)
}

// CheckpointAt stores a sequence and sub-sequence number.
func (c *Checkpointer) CheckpointAt(ctx context.Context, seq string, sub int64) error {
	if _, ok := new(big.Int).SetString(seq, 10); !ok {
		return errors.New("consumer: checkpoint: not a sequence number")
	}
	return c.sc.checkpoint(ctx, seq, sub)
}

// PrepareCheckpoint records a pending checkpoint (seq, sub) without moving
// the checkpoint: the first phase of the KCL's two-phase checkpoint. The
// next owner of the shard sees it in InitializationInput. Checkpoint or
// CheckpointAt commits (and clears it).
func (c *Checkpointer) PrepareCheckpoint(ctx context.Context, seq string, sub int64) error {
	if !isSequence(seq) {
		return errors.New("consumer: prepare checkpoint: not a sequence number")
	}
	return c.sc.prepare(ctx, seq, sub)
}

// cmpExtended compares extended sequence numbers (seq, sub).
func cmpExtended(aSeq string, aSub int64, bSeq string, bSub int64) int {
	if c := cmpSeq(aSeq, bSeq); c != 0 {
		return c
	}
	switch {
	case aSub < bSub:
		return -1
	case aSub > bSub:
		return 1
	}
	return 0
}

// cmpSeq compares decimal sequence numbers without leading zeros.
func cmpSeq(a, b string) int {
	if len(a) != len(b) {
		if len(a) < len(b) {
			return -1
		}
		return 1
	}
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func isSequence(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
