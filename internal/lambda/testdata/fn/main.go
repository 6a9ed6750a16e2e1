// Command fn is a test function built with aws-lambda-go. Its behaviour is
// chosen by the event:
//   - {"op": "echo" | "env" | "crash" | "hang" | "big" | "error" | "notjson", …}
//   - a Kinesis event ("Records" with "kinesis"): decoded with
//     events.KinesisEvent; every record is appended to $OUT as
//     "shard seq pk data" and every invocation as "INVOKE n first last".
//     Records whose data equals $FAIL_DATA fail: with $RBIF set the function
//     answers events.KinesisEventResponse naming them, else it returns an
//     error.
//   - a Firehose event ("records" with "recordId"): decoded with
//     events.KinesisFirehoseEvent; data is upper-cased, "drop…" records are
//     Dropped, "fail…" records ProcessingFailed; a JSON record's "customer"
//     field is returned as metadata.partitionKeys.customer.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

var outMu sync.Mutex

func appendOut(lines []string) {
	path := os.Getenv("OUT")
	if path == "" {
		return
	}
	outMu.Lock()
	defer outMu.Unlock()
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		panic(err)
	}
	f.WriteString(strings.Join(lines, "\n") + "\n")
	f.Sync()
	f.Close()
}

func handle(ctx context.Context, raw json.RawMessage) (any, error) {
	var probe struct {
		Op      string            `json:"op"`
		Records []json.RawMessage `json:"Records"`
		Recs    []json.RawMessage `json:"records"`
		Sleep   int               `json:"sleep"`
		Window  *events.Window    `json:"window"`
	}
	if err := json.Unmarshal(raw, &probe); err != nil {
		return nil, err
	}
	switch {
	case probe.Window != nil:
		return windowHandler(raw)
	case len(probe.Records) > 0:
		return kinesisHandler(raw)
	case len(probe.Recs) > 0:
		return firehoseHandler(raw)
	}
	switch probe.Op {
	case "echo":
		return raw, nil
	case "env":
		lc, _ := lambdacontext.FromContext(ctx)
		dl, _ := ctx.Deadline()
		return map[string]any{
			"name": os.Getenv("AWS_LAMBDA_FUNCTION_NAME"), "memory": os.Getenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE"),
			"region": os.Getenv("AWS_REGION"), "handler": os.Getenv("_HANDLER"), "root": os.Getenv("LAMBDA_TASK_ROOT"),
			"custom": os.Getenv("CUSTOM"), "arn": lc.InvokedFunctionArn, "requestId": lc.AwsRequestID,
			"deadlineIn": time.Until(dl).Seconds(), "pid": os.Getpid(),
		}, nil
	case "crash":
		os.Exit(3)
	case "hang":
		time.Sleep(time.Hour)
	case "sleep":
		time.Sleep(time.Duration(probe.Sleep) * time.Millisecond)
		return map[string]int{"pid": os.Getpid()}, nil
	case "big":
		return strings.Repeat("x", 7<<20), nil
	case "error":
		return nil, errors.New("boom")
	}
	return nil, fmt.Errorf("unknown op %q", probe.Op)
}

func kinesisHandler(raw json.RawMessage) (any, error) {
	var ev events.KinesisEvent
	if err := json.Unmarshal(raw, &ev); err != nil {
		return nil, err
	}
	fail := os.Getenv("FAIL_DATA")
	var lines []string
	var resp events.KinesisEventResponse
	failed := false
	for _, r := range ev.Records {
		shard, _, _ := strings.Cut(r.EventID, ":")
		if r.EventSource != "aws:kinesis" || r.EventName != "aws:kinesis:record" || r.Kinesis.KinesisSchemaVersion != "1.0" || r.EventSourceArn == "" || r.AwsRegion == "" || r.Kinesis.ApproximateArrivalTimestamp.IsZero() {
			return nil, fmt.Errorf("bad event record %+v", r)
		}
		if fail != "" && string(r.Kinesis.Data) == fail {
			failed = true
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.KinesisBatchItemFailure{ItemIdentifier: r.Kinesis.SequenceNumber})
			continue
		}
		lines = append(lines, fmt.Sprintf("%s %s %s %s", shard, r.Kinesis.SequenceNumber, r.Kinesis.PartitionKey, bytes.TrimSpace(r.Kinesis.Data)))
	}
	first, last := ev.Records[0].Kinesis.SequenceNumber, ev.Records[len(ev.Records)-1].Kinesis.SequenceNumber
	inv := fmt.Sprintf("INVOKE %d %s %s", len(ev.Records), first, last)
	if failed && os.Getenv("RBIF") == "" {
		appendOut([]string{inv + " ERROR"})
		return nil, errors.New("record failed")
	}
	if os.Getenv("RBIF") != "" && failed {
		// records after the first failure will be retried: do not count them
		lines = lines[:0]
		firstFail := resp.BatchItemFailures[0].ItemIdentifier
		for _, r := range ev.Records {
			if r.Kinesis.SequenceNumber == firstFail {
				break
			}
			shard, _, _ := strings.Cut(r.EventID, ":")
			lines = append(lines, fmt.Sprintf("%s %s %s %s", shard, r.Kinesis.SequenceNumber, r.Kinesis.PartitionKey, bytes.TrimSpace(r.Kinesis.Data)))
		}
		inv += " PARTIAL"
	}
	appendOut(append([]string{inv}, lines...))
	return resp, nil
}

// windowHandler counts records per tumbling window in the state and
// writes "WINDOW start count" on the final invocation.
func windowHandler(raw json.RawMessage) (any, error) {
	var ev events.KinesisTimeWindowEvent
	if err := json.Unmarshal(raw, &ev); err != nil {
		return nil, err
	}
	n := 0
	fmt.Sscan(ev.State["count"], &n)
	var lines []string
	for _, r := range ev.Records {
		n++
		lines = append(lines, fmt.Sprintf("%s %s %s %s", ev.ShardID, r.Kinesis.SequenceNumber, r.Kinesis.PartitionKey, bytes.TrimSpace(r.Kinesis.Data)))
	}
	if ev.IsFinalInvokeForWindow {
		if len(ev.Records) != 0 {
			return nil, errors.New("final invocation with records")
		}
		lines = append(lines, fmt.Sprintf("WINDOW %s %d", ev.Window.Start.UTC().Format(time.RFC3339), n))
	}
	appendOut(lines)
	resp := events.KinesisTimeWindowEventResponse{}
	resp.State = map[string]string{"count": fmt.Sprint(n)}
	return resp, nil
}

func firehoseHandler(raw json.RawMessage) (any, error) {
	var ev events.KinesisFirehoseEvent
	if err := json.Unmarshal(raw, &ev); err != nil {
		return nil, err
	}
	var out events.KinesisFirehoseResponse
	for _, r := range ev.Records {
		data := bytes.ToUpper(r.Data)
		if md := r.KinesisFirehoseRecordMetadata; md.ShardID != "" {
			// stream sources: show the metadata Firehose passed
			data = fmt.Appendf(bytes.TrimRight(data, "\n"), "|%s|%s|%t\n", md.ShardID, md.PartitionKey, md.SequenceNumber != "" && !md.ApproximateArrivalTimestamp.IsZero())
		}
		res := events.KinesisFirehoseResponseRecord{RecordID: r.RecordID, Result: events.KinesisFirehoseTransformedStateOk, Data: data}
		var obj struct {
			Customer *string `json:"customer"`
		}
		if json.Unmarshal(r.Data, &obj) == nil && obj.Customer != nil {
			// JSON records with a "customer" field: it is the partition key
			res.Metadata.PartitionKeys = map[string]string{"customer": *obj.Customer}
		}
		switch {
		case bytes.HasPrefix(r.Data, []byte("drop")):
			res = events.KinesisFirehoseResponseRecord{RecordID: r.RecordID, Result: events.KinesisFirehoseTransformedStateDropped}
		case bytes.HasPrefix(r.Data, []byte("fail")):
			res = events.KinesisFirehoseResponseRecord{RecordID: r.RecordID, Result: events.KinesisFirehoseTransformedStateProcessingFailed, Data: r.Data}
		}
		out.Records = append(out.Records, res)
	}
	return out, nil
}

func main() {
	if os.Getenv("INIT_FAIL") != "" {
		panic("init failed on purpose")
	}
	lambda.Start(handle)
}
