package kinesis_test

import (
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"

	"github.com/eddy-streams/eddy/internal/eddytest"
)

// tagMillis asserts raw is tag 1 around an unsigned integer of epoch
// milliseconds within [lo, hi] and returns it.
func tagMillis(t *testing.T, what string, raw cbor.RawTag, lo, hi int64) int64 {
	t.Helper()
	var ms int64
	if raw.Number != 1 || len(raw.Content) == 0 || raw.Content[0]>>5 != 0 || cbor.Unmarshal(raw.Content, &ms) != nil {
		t.Fatalf("%s: tag %d content %x, want tag 1 around an unsigned integer", what, raw.Number, []byte(raw.Content))
	}
	if ms < lo || ms > hi {
		t.Fatalf("%s: %d ms not in [%d, %d]", what, ms, lo, hi)
	}
	return ms
}

// TestCBORControl speaks CBOR, as the KCL (Java SDK) does, to the consumer
// and account-settings operations, whose outputs carry timestamps.
func TestCBORControl(t *testing.T) {
	srv := eddytest.Start(t)
	url := srv.URL()
	before := time.Now().Add(-time.Second).UnixMilli()
	if code, out, _ := cborCall(t, url, "CreateStream", map[string]any{"StreamName": "cbc", "ShardCount": 1}); code != 200 {
		t.Fatalf("CreateStream: %d %v", code, out)
	}
	sarn := streamARNOf("cbc")
	code, out, raw := cborCall(t, url, "RegisterStreamConsumer", map[string]any{"StreamARN": sarn, "ConsumerName": "kcl"})
	if code != 200 {
		t.Fatalf("RegisterStreamConsumer: %d %v", code, out)
	}
	var reg struct {
		Consumer struct {
			ConsumerARN               string
			ConsumerStatus            string
			ConsumerCreationTimestamp cbor.RawTag
		}
	}
	if err := cbor.Unmarshal(raw, &reg); err != nil {
		t.Fatal(err)
	}
	after := time.Now().Add(time.Second).UnixMilli()
	created := tagMillis(t, "ConsumerCreationTimestamp", reg.Consumer.ConsumerCreationTimestamp, before, after)
	if reg.Consumer.ConsumerStatus != "ACTIVE" || reg.Consumer.ConsumerARN == "" {
		t.Fatalf("consumer %+v", reg.Consumer)
	}

	code, out, raw = cborCall(t, url, "DescribeStreamConsumer", map[string]any{"ConsumerARN": reg.Consumer.ConsumerARN})
	if code != 200 {
		t.Fatalf("DescribeStreamConsumer: %d %v", code, out)
	}
	var desc struct {
		ConsumerDescription struct {
			StreamARN                 string
			ConsumerCreationTimestamp cbor.RawTag
		}
	}
	if err := cbor.Unmarshal(raw, &desc); err != nil {
		t.Fatal(err)
	}
	if ms := tagMillis(t, "described ConsumerCreationTimestamp", desc.ConsumerDescription.ConsumerCreationTimestamp, before, after); ms != created || desc.ConsumerDescription.StreamARN != sarn {
		t.Fatalf("description %d %q", ms, desc.ConsumerDescription.StreamARN)
	}

	// a StreamCreationTimestamp input in CBOR (tag 1, milliseconds)
	code, out, raw = cborCall(t, url, "DescribeStreamSummary", map[string]any{"StreamName": "cbc"})
	if code != 200 {
		t.Fatalf("DescribeStreamSummary: %d %v", code, out)
	}
	var sum struct {
		StreamDescriptionSummary struct{ StreamCreationTimestamp cbor.RawTag }
	}
	if err := cbor.Unmarshal(raw, &sum); err != nil {
		t.Fatal(err)
	}
	streamMs := tagMillis(t, "StreamCreationTimestamp", sum.StreamDescriptionSummary.StreamCreationTimestamp, before, after)
	code, out, _ = cborCall(t, url, "ListStreamConsumers", map[string]any{"StreamARN": sarn, "StreamCreationTimestamp": cbor.Tag{Number: 1, Content: streamMs}})
	if cons, _ := out["Consumers"].([]any); code != 200 || len(cons) != 1 {
		t.Fatalf("ListStreamConsumers: %d %v", code, out)
	}

	code, out, raw = cborCall(t, url, "UpdateAccountSettings", map[string]any{"MinimumThroughputBillingCommitment": map[string]any{"Status": "ENABLED"}})
	if code != 200 {
		t.Fatalf("UpdateAccountSettings: %d %v", code, out)
	}
	var acct struct {
		MinimumThroughputBillingCommitment struct {
			Status               string
			StartedAt            cbor.RawTag
			EarliestAllowedEndAt cbor.RawTag
		}
	}
	if err := cbor.Unmarshal(raw, &acct); err != nil {
		t.Fatal(err)
	}
	m := acct.MinimumThroughputBillingCommitment
	start := tagMillis(t, "StartedAt", m.StartedAt, before, after)
	if end := tagMillis(t, "EarliestAllowedEndAt", m.EarliestAllowedEndAt, before, after+25*3600_000); m.Status != "ENABLED" || end-start != 24*3600_000 {
		t.Fatalf("commitment %s %d..%d", m.Status, start, end)
	}

	// errors from these operations are CBOR too
	code, out, _ = cborCall(t, url, "DescribeStreamConsumer", map[string]any{"StreamARN": sarn, "ConsumerName": "ghost"})
	if code != 400 || out["__type"] != "ResourceNotFoundException" {
		t.Fatalf("error: %d %v", code, out)
	}
}
