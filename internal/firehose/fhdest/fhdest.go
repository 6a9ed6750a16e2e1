// Package fhdest is the small interface between Firehose's delivery loop and
// its destinations beyond S3 (httpdest, opensearch, splunk, warehouse).
//
// The delivery loop (internal/firehose) owns buffering, durability, retries
// within RetryOptions, S3 backup and metrics; a Destination only makes one
// delivery attempt of a batch and says, per record, what failed and whether
// it may be retried. Records stay in the durable buffer until every record of
// the batch is delivered or written to S3, so a destination that is down
// loses nothing.
package fhdest

import "context"

// Record is one buffered record.
type Record struct {
	Data      []byte
	ArrivalMs int64  // approximate arrival (epoch milliseconds)
	Pos       uint64 // position in the stream's buffer log: unique, stable across retries and restarts
}

// Batch is what one delivery attempt sends.
type Batch struct {
	StreamARN  string
	StreamName string
	StreamID   string // Eddy's internal id of the delivery stream
	// RequestID is the same for every attempt of one buffer (HTTP's
	// X-Amz-Firehose-Request-Id is kept across retries).
	RequestID string
	Attempt   int   // 1 for the first attempt
	NowMs     int64 // the delivery clock's time of this attempt
	Records   []Record
	// Objects are the intermediate S3 objects holding Records (Redshift),
	// as s3://bucket/key URLs, and Fetch reads one back.
	Objects []string
	Fetch   func(ctx context.Context, url string) ([]byte, error)
}

// Failure is one record that was not delivered by an attempt.
type Failure struct {
	Index     int    // into Batch.Records
	Code      string // AWS's errorCode (HttpEndpoint.ResponseFailed, Splunk.AckTimeout, …)
	Message   string
	Permanent bool // not worth retrying (HTTP 413, a mapping error)
	// Fields are the destination's own members of the S3 error record
	// (esDocumentId, esIndexName, EventId, …).
	Fields map[string]any
	// ErrorOutputPrefix, when set, replaces the stream's ErrorOutputPrefix
	// for this record (Iceberg's per-table S3ErrorOutputPrefix).
	ErrorOutputPrefix string
}

// Destination delivers batches to one configured destination.
type Destination interface {
	// Deliver makes one attempt and returns the records that failed (nil:
	// all delivered).
	Deliver(ctx context.Context, b *Batch) []Failure
	// Close releases connections.
	Close() error
}

// AllFailed is a helper: every record of b failed with the same error.
func AllFailed(b *Batch, code, msg string, permanent bool) []Failure {
	out := make([]Failure, len(b.Records))
	for i := range out {
		out[i] = Failure{Index: i, Code: code, Message: msg, Permanent: permanent}
	}
	return out
}
