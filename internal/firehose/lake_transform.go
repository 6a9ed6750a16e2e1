package firehose

// The Lambda processor in the partitioned loop (lake.go). AWS's order is
// de-aggregation, then Lambda transformation, then MetadataExtraction and
// the partition keys, then format conversion; so here records read from the
// buffer log are de-aggregated and held in lakeState.pending, sent to the
// function in batches of at most BufferSizeInMBs (transform.go's
// callTransform: same event, retries and response checks as for plain
// delivery), and each record the function returns is placed (lakePlace)
// with its new data:
//   - Ok: the returned data is partitioned and converted; its
//     metadata.partitionKeys fill `!{partitionKeyFromLambda:k}` (AWS's
//     response shape, as aws-lambda-go's KinesisFirehoseResponseRecordMetadata
//     has it). A key the prefix uses but the function did not return sends
//     the record to `partitioning-failed`.
//   - Dropped: not delivered.
//   - ProcessingFailed, or the whole batch when every invocation failed:
//     `processing-failed` error output with the untransformed data,
//     attemptsMade and lambdaArn.
// Records are placed in log order whatever order the function answers in.
// A log read is at most 16 MiB then (lakeTransformRead), so the records
// being transformed add at most twice that to the memory bound in lake.go.
// A transformation runs when the records are read, before partitioning, so
// a crash re-reads and re-transforms what no partition delivered yet (at
// least once, as for the rest of the loop).

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sort"

	"github.com/eddy-streams/eddy/internal/storage"
)

// lakeTransformRead bounds one log read when records are transformed: the
// read records and the function's output are both resident until placed.
const lakeTransformRead = 16 << 20

// readLimit is how many bytes one log read may take given room in the
// partitions.
func (p *lakePipeline) readLimit(room int) int {
	if p.lambda != nil {
		return min(room, lakeTransformRead)
	}
	return room
}

// pendingRec is a de-aggregated record waiting for the Lambda processor.
type pendingRec struct {
	rec  lakeRec
	meta []byte // kinesisRecordMetadata of stream sources (the log's partition key)
}

// collect de-aggregates r into ls.pending.
func (ls *lakeState) collect(r storage.StoredRecord) {
	subs, err := ls.pipeline.splitRecord(r.Data)
	if err != nil {
		ls.fail(failedRec{rec: lakeRec{pos: r.Pos, arrival: r.ArrivalMs, data: append([]byte(nil), r.Data...)},
			errType: errTypePartitioning, code: "DynamicPartitioning.DeAggregationFailed", msg: err.Error()})
		return
	}
	var meta []byte
	if len(r.PartitionKey) > 0 {
		meta = append([]byte(nil), r.PartitionKey...)
	}
	for i, sub := range subs {
		ls.pending = append(ls.pending, pendingRec{rec: lakeRec{pos: r.Pos, sub: i, arrival: r.ArrivalMs, data: append([]byte(nil), sub...)}, meta: meta})
	}
}

// lakeTransform runs ls.pending through the Lambda processor and places
// the results; it fails only when ctx ends.
func (s *Service) lakeTransform(ctx context.Context, ls *lakeState, st *stream) error {
	p := ls.pipeline
	lp := *p.lambda
	pending := ls.pending
	ls.pending = nil
	buf := buffer{recs: make([][]byte, len(pending)), arrivals: make([]int64, len(pending)), meta: make([][]byte, len(pending))}
	for i, pr := range pending {
		buf.recs[i], buf.arrivals[i], buf.meta[i] = pr.rec.data, pr.rec.arrival, pr.meta
	}
	for i := 0; i < len(pending); {
		j, size := i, 0
		for j < len(pending) && (j == i || size+len(pending[j].rec.data) <= lp.maxSize) {
			size += len(pending[j].rec.data)
			j++
		}
		outs, attempts, code, msg, err := s.callTransform(ctx, st, &buf, i, j, lp)
		if err != nil {
			return fmt.Errorf("transform: %w", err)
		}
		if code != "" {
			for k := i; k < j; k++ {
				ls.fail(failedRec{rec: pending[k].rec, errType: processingFailedType, code: code, msg: msg, attempts: attempts, lambdaArn: lp.arn})
			}
			i = j
			continue
		}
		sort.Slice(outs, func(a, b int) bool { return outs[a].index < outs[b].index })
		// One JQ deadline per batch, as for a read batch in lakeLoop.
		jctx, cancel := context.WithTimeout(ctx, jqTimeout)
		for _, o := range outs {
			rec := pending[o.index].rec
			switch o.result {
			case "Ok":
				rec.data, rec.lkeys = o.data, o.partitionKeys
				s.lakePlace(jctx, ls, st, rec)
			case "ProcessingFailed":
				ls.fail(failedRec{rec: rec, errType: processingFailedType, code: "Lambda.ProcessingFailedStatus",
					msg: "ProcessingFailed status set for record", attempts: attempts, lambdaArn: lp.arn})
			}
		}
		cancel()
		i = j
	}
	return nil
}

// checkLambdaKeys says which `!{partitionKeyFromLambda:k}` key of the
// prefix the function did not return.
func (p *lakePipeline) checkLambdaKeys(keys map[string]string) error {
	for _, k := range p.prefix.LambdaKeys() {
		if _, ok := keys[k]; !ok {
			return fmt.Errorf("partition key %s is missing from the Lambda function's metadata.partitionKeys", k)
		}
	}
	return nil
}

// keys renders metadata.partitionKeys as strings: strings as they are,
// numbers and booleans as their JSON text; null, objects and arrays count
// as missing.
func (m transformMetadata) keys() map[string]string {
	if len(m.PartitionKeys) == 0 {
		return nil
	}
	out := make(map[string]string, len(m.PartitionKeys))
	for k, raw := range m.PartitionKeys {
		raw = bytes.TrimSpace(raw)
		if len(raw) == 0 {
			continue
		}
		switch c := raw[0]; {
		case c == '"':
			var str string
			if json.Unmarshal(raw, &str) == nil {
				out[k] = str
			}
		case c == 't' || c == 'f' || c == '-' || c >= '0' && c <= '9':
			out[k] = string(raw) // a JSON number or boolean (the response parsed)
		}
	}
	return out
}
