package firehose

// Data transformation with a Lambda processor (ProcessingConfiguration
// with a processor of Type "Lambda"). Before a buffer is delivered, its
// records are sent to the function in batches of at most BufferSizeInMBs
// (default 1, at most 3) with Firehose's transformation event
// (invocationId, deliveryStreamArn, region, records[] of recordId,
// approximateArrivalTimestamp in ms, base64 data; sourceKinesisStreamArn
// for stream sources). The response must name every recordId exactly once
// with result Ok (its data is delivered), Dropped (not delivered) or
// ProcessingFailed; a function error, a throttle, a response that is not
// JSON, or one with missing, duplicated or unknown record ids fails the
// whole batch, which is retried NumberOfRetries times (default 3). Failed
// records go to the error prefix with error-output-type
// "processing-failed", one JSON line each in AWS's format (attemptsMade,
// arrivalTimestamp, errorCode, errorMessage, attemptEndingTimestamp,
// rawData, lambdaArn). The function runs in process through
// lambda.Invoker. The source-record backup keeps the untransformed data.
// BufferIntervalInSeconds is accepted; the delivery buffer's own hints
// decide when a buffer is transformed. RoleArn is accepted and not used.
// With dynamic partitioning or format conversion the partitioned loop
// calls callTransform itself (lake_transform.go), before partitioning, and
// takes `!{partitionKeyFromLambda:k}` from each record's
// metadata.partitionKeys.

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/firehose/s3dest"
	"github.com/eddy-streams/eddy/internal/lambda"
)

const (
	lambdaProcessor         = "Lambda"
	processingFailedType    = "processing-failed"
	defaultTransformRetries = 3
)

type lambdaParams struct {
	arn     string
	retries int
	maxSize int
}

// lambdaProcessorOf returns the Lambda processor's parameters, if any.
func lambdaProcessorOf(c *S3Config) (lambdaParams, bool) {
	p := c.ProcessingConfiguration
	if p == nil || !deref(p.Enabled) {
		return lambdaParams{}, false
	}
	for _, pr := range p.Processors {
		if deref(pr.Type) != lambdaProcessor {
			continue
		}
		lp := lambdaParams{retries: defaultTransformRetries, maxSize: 1 << 20}
		for _, kv := range pr.Parameters {
			v := deref(kv.ParameterValue)
			switch deref(kv.ParameterName) {
			case "LambdaArn":
				lp.arn = v
			case "NumberOfRetries":
				if n, err := strconv.Atoi(v); err == nil && n >= 0 {
					lp.retries = n
				}
			case "BufferSizeInMBs":
				if f, err := strconv.ParseFloat(v, 64); err == nil && f > 0 && f <= 3 {
					lp.maxSize = int(f * (1 << 20))
				}
			}
		}
		return lp, true
	}
	return lambdaParams{}, false
}

// checkLambdaProcessor validates a Lambda processor's parameters.
func checkLambdaProcessor(pr Processor) error {
	hasArn := false
	for _, kv := range pr.Parameters {
		v := deref(kv.ParameterValue)
		switch n := deref(kv.ParameterName); n {
		case "LambdaArn":
			hasArn = v != ""
		case "NumberOfRetries":
			if x, err := strconv.Atoi(v); err != nil || x < 0 || x > 300 {
				return awserr.InvalidArgument("NumberOfRetries must be an integer between 0 and 300.")
			}
		case "BufferSizeInMBs":
			if x, err := strconv.ParseFloat(v, 64); err != nil || x < 0.2 || x > 3 {
				return awserr.InvalidArgument("BufferSizeInMBs must be between 0.2 and 3.")
			}
		case "BufferIntervalInSeconds":
			if x, err := strconv.Atoi(v); err != nil || x < 0 || x > 900 {
				return awserr.InvalidArgument("BufferIntervalInSeconds must be between 0 and 900.")
			}
		case "RoleArn":
		default:
			return awserr.InvalidArgument("Processor parameter %s is not valid for the Lambda processor.", n)
		}
	}
	if !hasArn {
		return awserr.InvalidArgument("LambdaArn is a required parameter for the Lambda processor.")
	}
	return nil
}

type transformEvent struct {
	InvocationID           string            `json:"invocationId"`
	DeliveryStreamArn      string            `json:"deliveryStreamArn"`
	SourceKinesisStreamArn string            `json:"sourceKinesisStreamArn,omitempty"`
	Region                 string            `json:"region"`
	Records                []transformRecord `json:"records"`
}

type transformRecord struct {
	RecordID                    string          `json:"recordId"`
	ApproximateArrivalTimestamp int64           `json:"approximateArrivalTimestamp"`
	Data                        []byte          `json:"data"`
	KinesisRecordMetadata       json.RawMessage `json:"kinesisRecordMetadata,omitempty"`
}

// sourceMetadata renders a stream-source record's kinesisRecordMetadata
// (stored as the buffered record's partition key).
func sourceMetadata(shardID, partitionKey, seq string, sub int, arrivalMs int64) []byte {
	b, _ := json.Marshal(struct {
		ShardID                     string `json:"shardId"`
		PartitionKey                string `json:"partitionKey"`
		SequenceNumber              string `json:"sequenceNumber"`
		SubsequenceNumber           int    `json:"subsequenceNumber"`
		ApproximateArrivalTimestamp int64  `json:"approximateArrivalTimestamp"`
	}{shardID, partitionKey, seq, sub, arrivalMs})
	return b
}

type transformResponse struct {
	Records []struct {
		RecordID string            `json:"recordId"`
		Result   string            `json:"result"`
		Data     []byte            `json:"data"`
		Metadata transformMetadata `json:"metadata"`
	} `json:"records"`
}

// transformMetadata is a returned record's metadata; partitionKeys feed
// `!{partitionKeyFromLambda:k}` (lake_transform.go).
type transformMetadata struct {
	PartitionKeys map[string]json.RawMessage `json:"partitionKeys"`
}

type failedRecord struct {
	errorRecord
	LambdaArn string `json:"lambdaArn"`
}

// transform runs buf's records through the function, keeping the output in
// buf.out and writing failed records under the processing-failed prefix.
func (s *Service) transform(ctx context.Context, st *stream, cfg deliveryConfig, buf *buffer, lp lambdaParams) error {
	var out [][]byte
	var outIdx []int
	var failed []failedRecord
	for i := 0; i < len(buf.recs); {
		j, size := i, 0
		for j < len(buf.recs) && (j == i || size+len(buf.recs[j]) <= lp.maxSize) {
			size += len(buf.recs[j])
			j++
		}
		ok, okIdx, bad, err := s.transformBatch(ctx, st, buf, i, j, lp)
		if err != nil {
			return err
		}
		out = append(out, ok...)
		outIdx = append(outIdx, okIdx...)
		failed = append(failed, bad...)
		i = j
	}
	if len(failed) > 0 {
		if err := s.writeProcessingFailed(ctx, cfg, buf.arrivals[0], failed); err != nil {
			return err
		}
		st.m.errorOutputRecords.Add(int64(len(failed)))
	}
	buf.out, buf.outIdx, buf.transformDone = out, outIdx, true
	return nil
}

func (s *Service) transformBatch(ctx context.Context, st *stream, buf *buffer, from, to int, lp lambdaParams) (ok [][]byte, okIdx []int, failed []failedRecord, err error) {
	outs, attempts, code, msg, err := s.callTransform(ctx, st, buf, from, to, lp)
	if err != nil {
		return nil, nil, nil, err
	}
	if code != "" {
		for i := from; i < to; i++ {
			failed = append(failed, s.failedRecord(buf, i, attempts, code, msg, lp.arn))
		}
		return nil, nil, failed, nil
	}
	for _, o := range outs {
		switch o.result {
		case "Ok":
			ok = append(ok, o.data)
			okIdx = append(okIdx, o.index)
		case "ProcessingFailed":
			failed = append(failed, s.failedRecord(buf, o.index, attempts, "Lambda.ProcessingFailedStatus", "ProcessingFailed status set for record", lp.arn))
		}
	}
	return ok, okIdx, failed, nil
}

// transformOut is the function's answer for one record of a batch.
type transformOut struct {
	index  int    // the record's index in the buffer
	result string // Ok, Dropped or ProcessingFailed
	data   []byte
	// partitionKeys is metadata.partitionKeys (scalars as strings).
	partitionKeys map[string]string
}

// callTransform invokes the function on buf.recs[from:to], retrying up to
// lp.retries times, and returns its answer in response order. When every
// attempt failed, code and msg say why (the whole batch failed) and outs is
// nil. err is set only when ctx ends or the event cannot be encoded.
func (s *Service) callTransform(ctx context.Context, st *stream, buf *buffer, from, to int, lp lambdaParams) (outs []transformOut, attempts int, code, msg string, err error) {
	ev := transformEvent{InvocationID: s3dest.NewUUID(), DeliveryStreamArn: st.meta.arn(), Region: st.meta.Region}
	if ks := st.meta.KinesisSource; ks != nil {
		ev.SourceKinesisStreamArn = deref(ks.KinesisStreamARN)
	}
	ids := map[string]int{}
	for i := from; i < to; i++ {
		id := strconv.FormatUint(buf.start+uint64(i), 10)
		ids[id] = i
		tr := transformRecord{RecordID: id, ApproximateArrivalTimestamp: buf.arrivals[i], Data: buf.recs[i]}
		if i < len(buf.meta) && json.Valid(buf.meta[i]) {
			tr.KinesisRecordMetadata = buf.meta[i]
		}
		ev.Records = append(ev.Records, tr)
	}
	payload, err := json.Marshal(ev)
	if err != nil {
		return nil, 0, "", "", fmt.Errorf("transformation event: %w", err)
	}
	for attempts <= lp.retries {
		attempts++
		if ctx.Err() != nil {
			return nil, attempts, "", "", ctx.Err()
		}
		var res lambda.Result
		var ierr error
		if s.opts.Lambda == nil {
			ierr = fmt.Errorf("no Lambda service on this server")
		} else {
			res, ierr = s.opts.Lambda.Invoke(ctx, st.meta.Account, st.meta.Region, lp.arn, payload)
		}
		switch {
		case ierr != nil:
			code, msg = "Lambda.InvokeError", ierr.Error()
			continue
		case res.FunctionError != "":
			code, msg = "Lambda.FunctionError", "The Lambda function was successfully invoked but it returned an error result."
			continue
		}
		var resp transformResponse
		if err := json.Unmarshal(res.Payload, &resp); err != nil {
			code, msg = "Lambda.JsonProcessingException", "The response from the Lambda function is not valid JSON: "+err.Error()
			continue
		}
		seen := map[string]bool{}
		outs, code = nil, ""
		for _, r := range resp.Records {
			i, known := ids[r.RecordID]
			switch {
			case !known:
				code, msg = "Lambda.InvalidRecordId", "The Lambda function returned a record id that was not in its input: "+r.RecordID
			case seen[r.RecordID]:
				code, msg = "Lambda.DuplicatedRecordId", "The Lambda function returned record id "+r.RecordID+" more than once."
			case r.Result == "Ok" || r.Result == "Dropped" || r.Result == "ProcessingFailed":
				outs = append(outs, transformOut{index: i, result: r.Result, data: r.Data, partitionKeys: r.Metadata.keys()})
			default:
				code, msg = "Lambda.InvalidResult", "The Lambda function returned result "+strconv.Quote(r.Result)+" for record "+r.RecordID
			}
			if code != "" {
				break
			}
			seen[r.RecordID] = true
		}
		if code == "" && len(seen) != len(ids) {
			code, msg = "Lambda.MissingRecordId", "The Lambda function did not return every record id of its input."
		}
		if code == "" {
			return outs, attempts, "", "", nil
		}
	}
	// every attempt failed: the whole batch is unsuccessfully processed
	s.log.Warn("data transformation failed", "stream", st.meta.Name, "lambda", lp.arn, "records", to-from, "code", code, "err", msg)
	return nil, attempts, code, msg, nil
}

func (s *Service) failedRecord(buf *buffer, i, attempts int, code, msg, arn string) failedRecord {
	return failedRecord{errorRecord: errorRecord{AttemptsMade: attempts, ArrivalTimestamp: buf.arrivals[i], ErrorCode: code, ErrorMessage: msg,
		AttemptEndingTimestamp: s.now().UnixMilli(), RawData: buf.recs[i]}, LambdaArn: arn}
}

// writeProcessingFailed uploads failed records under the ErrorOutputPrefix
// (or `<Prefix>processing-failed/`) with error-output-type processing-failed.
func (s *Service) writeProcessingFailed(ctx context.Context, cfg deliveryConfig, oldestMs int64, recs []failedRecord) error {
	var body []byte
	for _, r := range recs {
		line, err := json.Marshal(r)
		if err != nil {
			return fmt.Errorf("processing-failed record: %w", err)
		}
		body = append(append(body, line...), '\n')
	}
	prefix := deref(cfg.dest.ErrorOutputPrefix)
	if prefix == "" {
		prefix = deref(cfg.dest.Prefix) + processingFailedType + "/"
	}
	key, data, err := encodeObjectAt(cfg.dest, prefix, processingFailedType, cfg.name, cfg.version, oldestMs, body)
	if err != nil {
		return err
	}
	bucket, _ := s3dest.BucketFromARN(deref(cfg.dest.BucketARN))
	if err := s.uploader(cfg.endpoint).Put(ctx, bucket, key, data, s3dest.ContentEncoding(deref(cfg.dest.CompressionFormat))); err != nil {
		return fmt.Errorf("processing-failed output: %w", err)
	}
	return nil
}
