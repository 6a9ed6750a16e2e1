// This file is the contract between the engine (this package and
// internal/analytics/sql) and the runner (internal/analytics/runner), which
// parses source records into Batches and writes emitted rows to outputs.

package exec

// Type is an SQL column type.
type Type uint8

// The KDA SQL types (§1.3 of the analytics reference). INTERVAL exists only
// in expressions.
const (
	TypeVarchar Type = iota + 1
	TypeChar
	TypeBoolean
	TypeTinyint
	TypeSmallint
	TypeInteger
	TypeBigint
	TypeReal
	TypeDouble
	TypeDecimal
	TypeDate
	TypeTime
	TypeTimestamp
	TypeBinary
	TypeVarbinary
)

// Column is a named, typed column of an in-application stream or table.
type Column struct {
	Name  string // as stored: quoted names kept as written, unquoted upper-cased
	Type  Type
	Size  int // VARCHAR(n), CHAR(n), BINARY(n), VARBINARY(n); DECIMAL precision
	Scale int // DECIMAL scale
}

// Vector is one column of a Batch. Exactly one value slice is used, chosen
// by Type:
//
//	I64: TINYINT, SMALLINT, INTEGER, BIGINT, BOOLEAN (0/1), DATE (days since
//	     1970-01-01), TIME (ms since midnight), TIMESTAMP (ms since epoch UTC),
//	     DECIMAL (unscaled value; the column's Scale gives the point)
//	F64: REAL, DOUBLE
//	Str: VARCHAR, CHAR
//	Bin: BINARY, VARBINARY
//
// Null[i] marks SQL NULL; Null is nil when the vector holds no NULL.
type Vector struct {
	Type Type
	Null []bool
	I64  []int64
	F64  []float64
	Str  []string
	Bin  [][]byte
}

// Batch is a run of rows of one stream. The engine may keep Str values (and
// Bin slices) of pushed batches in its state beyond the call (group keys,
// window buffers): build them as ordinary Go strings, never as unsafe views
// of buffers the runner reuses. Cols follow the stream's declared
// columns in order. RowTime is ROWTIME (ms since epoch), non-decreasing
// within a stream. The source metadata slices are set by the runner on input
// batches (nil when the source has no such field) and are empty on emitted
// batches.
type Batch struct {
	Len     int
	RowTime []int64
	Cols    []Vector

	ApproximateArrivalTime []int64  // APPROXIMATE_ARRIVAL_TIME, ms
	PartitionKey           []string // Kinesis sources
	ShardID                []string // Kinesis sources: "shardId-000000000000"
	SequenceNumber         []string
}

// Input declares one source in-application stream (e.g.
// "SOURCE_SQL_STREAM_001") with its user columns; the system columns
// (ROWTIME, APPROXIMATE_ARRIVAL_TIME and, for Kinesis sources, the shard id
// and partition key columns AWS exposes) are added by the engine.
type Input struct {
	Name    string
	Columns []Column
	Kinesis bool // source is a Kinesis stream (adds its metadata columns)
}

// Reference declares an in-application reference table and its rows.
type Reference struct {
	Name    string
	Columns []Column
	Rows    *Batch // RowTime unused
}

// Config is what Compile needs.
type Config struct {
	Code       string
	Inputs     []Input
	References []Reference
}

// StreamInfo describes an in-application stream the code creates.
type StreamInfo struct {
	Name    string
	Columns []Column // without ROWTIME, which every stream has
}

// ErrorStream is the name of the system's error stream. Emitted batches for
// it have the columns ERROR_TIME TIMESTAMP, ERROR_LEVEL VARCHAR(10),
// ERROR_NAME VARCHAR(32), MESSAGE VARCHAR(4096), DATA_ROWTIME TIMESTAMP,
// DATA_ROW VARCHAR(49152), PUMP_NAME VARCHAR(128).
const ErrorStream = "error_stream"

// ErrorRow is one row for the error stream. The runner reports records it
// cannot parse with Program.ReportError; the engine adds rows for evaluation
// errors (type errors, division by zero, out-of-order ROWTIME).
type ErrorRow struct {
	Time        int64 // ms
	Level       string
	Name        string
	Message     string
	DataRowTime int64
	DataRow     string // hex of the raw record, as AWS reports it
	Pump        string
}

// Sink receives emitted rows of an in-application stream (including
// ErrorStream), synchronously, from the goroutine that called Push, Advance
// or ReportError. The batch is only valid during the call.
type Sink func(stream string, b *Batch)
