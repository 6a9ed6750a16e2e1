package kinesis_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/awsproto"
	"github.com/eddy-streams/eddy/internal/kinesis"
	"github.com/eddy-streams/eddy/internal/storage/memstore"
)

// ctrlOps are the operations FuzzControlOps drives.
var ctrlOps = []string{
	"AddTagsToStream", "RemoveTagsFromStream", "ListTagsForStream", "TagResource", "UntagResource", "ListTagsForResource",
	"RegisterStreamConsumer", "DeregisterStreamConsumer", "DescribeStreamConsumer", "ListStreamConsumers",
	"PutResourcePolicy", "GetResourcePolicy", "DeleteResourcePolicy", "DescribeLimits", "DescribeAccountSettings",
	"UpdateAccountSettings", "UpdateMaxRecordSize", "UpdateStreamWarmThroughput", "UpdateStreamMode",
	"StartStreamEncryption", "StopStreamEncryption", "EnableEnhancedMonitoring", "DisableEnhancedMonitoring",
	"IncreaseStreamRetentionPeriod", "DecreaseStreamRetentionPeriod",
}

// FuzzControlOps feeds arbitrary JSON and CBOR bodies to the control-plane
// operations: none may panic, and every failure must be an AWS error.
func FuzzControlOps(f *testing.F) {
	sarn := "arn:aws:kinesis:us-east-1:000000000000:stream/s"
	seeds := map[string]string{
		"AddTagsToStream":               `{"StreamName":"s","Tags":{"a":"b"}}`,
		"RemoveTagsFromStream":          `{"StreamName":"s","TagKeys":["a"]}`,
		"ListTagsForStream":             `{"StreamName":"s","Limit":1,"ExclusiveStartTagKey":"a"}`,
		"TagResource":                   `{"ResourceARN":"` + sarn + `","Tags":{"a":"b"}}`,
		"UntagResource":                 `{"ResourceARN":"` + sarn + `/consumer/c:1","TagKeys":["a"]}`,
		"ListTagsForResource":           `{"ResourceARN":"` + sarn + `"}`,
		"RegisterStreamConsumer":        `{"StreamARN":"` + sarn + `","ConsumerName":"d","Tags":{"x":"y"}}`,
		"DeregisterStreamConsumer":      `{"StreamARN":"` + sarn + `","ConsumerName":"d"}`,
		"DescribeStreamConsumer":        `{"StreamARN":"` + sarn + `","ConsumerName":"c"}`,
		"ListStreamConsumers":           `{"StreamARN":"` + sarn + `","MaxResults":1,"NextToken":"AAAAAAAAAAE"}`,
		"PutResourcePolicy":             `{"ResourceARN":"` + sarn + `","Policy":"{}"}`,
		"GetResourcePolicy":             `{"ResourceARN":"` + sarn + `"}`,
		"DeleteResourcePolicy":          `{"ResourceARN":"` + sarn + `"}`,
		"DescribeLimits":                `{}`,
		"DescribeAccountSettings":       `{}`,
		"UpdateAccountSettings":         `{"MinimumThroughputBillingCommitment":{"Status":"ENABLED"}}`,
		"UpdateMaxRecordSize":           `{"StreamARN":"` + sarn + `","MaxRecordSizeInKiB":2048}`,
		"UpdateStreamWarmThroughput":    `{"StreamName":"s","WarmThroughputMiBps":5}`,
		"UpdateStreamMode":              `{"StreamARN":"` + sarn + `","StreamModeDetails":{"StreamMode":"ON_DEMAND"},"WarmThroughputMiBps":1}`,
		"StartStreamEncryption":         `{"StreamName":"s","EncryptionType":"KMS","KeyId":"k"}`,
		"StopStreamEncryption":          `{"StreamName":"s","EncryptionType":"KMS","KeyId":"k"}`,
		"EnableEnhancedMonitoring":      `{"StreamName":"s","ShardLevelMetrics":["ALL"]}`,
		"DisableEnhancedMonitoring":     `{"StreamName":"s","ShardLevelMetrics":["IncomingBytes"]}`,
		"IncreaseStreamRetentionPeriod": `{"StreamName":"s","RetentionPeriodHours":48}`,
		"DecreaseStreamRetentionPeriod": `{"StreamName":"s","RetentionPeriodHours":24}`,
	}
	for i, op := range ctrlOps {
		f.Add(uint8(i), false, []byte(seeds[op]))
	}
	f.Add(uint8(0), true, []byte{0xbf, 0x6a, 'S', 't', 'r', 'e', 'a', 'm', 'N', 'a', 'm', 'e', 0x61, 's', 0xff})
	f.Add(uint8(3), false, []byte(`{"ResourceARN":null,"Tags":{"":"x"}}`))
	f.Add(uint8(8), false, []byte(`{"ConsumerARN":"arn:aws:kinesis:us-east-1:000000000000:stream/s/consumer/c:99999999999999999999"}`))

	svc, err := kinesis.New(kinesis.Options{Backend: memstore.New(time.Now), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(svc.Close)
	call := func(op string, codec awsproto.Codec, body []byte) (any, error) {
		return svc.Handle(&awsproto.Request{Ctx: context.Background(), Operation: op, Codec: codec, Body: body, Account: "000000000000", Region: "us-east-1"})
	}
	if _, err := call("CreateStream", awsproto.JSON, []byte(`{"StreamName":"s","ShardCount":2}`)); err != nil {
		f.Fatal(err)
	}
	if _, err := call("RegisterStreamConsumer", awsproto.JSON, []byte(`{"StreamARN":"`+sarn+`","ConsumerName":"c"}`)); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, op uint8, cbor bool, body []byte) {
		codec := awsproto.JSON
		if cbor {
			codec = awsproto.CBOR
		}
		name := ctrlOps[int(op)%len(ctrlOps)]
		out, err := call(name, codec, body)
		if err != nil {
			if _, ok := awserr.As(err); !ok {
				t.Fatalf("%s %q: non-AWS error %v", name, body, err)
			}
			return
		}
		if out != nil {
			if _, err := json.Marshal(out); err != nil {
				t.Fatalf("%s: output does not encode: %v", name, err)
			}
		}
	})
}
