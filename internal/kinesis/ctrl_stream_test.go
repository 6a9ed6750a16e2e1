package kinesis_test

import (
	"bytes"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/eddy-streams/eddy/internal/eddytest"
)

func TestUpdateMaxRecordSize(t *testing.T) {
	srv, c := startCtrl(t)
	createStream(t, c, "big", 1)
	data := bytes.Repeat([]byte("x"), 1536<<10)
	_, err := c.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("big"), PartitionKey: aws.String("k"), Data: data})
	wantErr(t, err, "InvalidArgumentException", "")
	if _, err := c.UpdateMaxRecordSize(ctx, &kinesis.UpdateMaxRecordSizeInput{StreamARN: aws.String(streamARNOf("big")), MaxRecordSizeInKiB: aws.Int32(2048)}); err != nil {
		t.Fatal(err)
	}
	if n := aws.ToInt32(summary(t, c, "big").StreamDescriptionSummary.MaxRecordSizeInKiB); n != 2048 {
		t.Fatalf("MaxRecordSizeInKiB %d", n)
	}
	if _, err := c.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("big"), PartitionKey: aws.String("k"), Data: data}); err != nil {
		t.Fatalf("1.5 MiB record after raising the limit: %v", err)
	}
	cases := []struct {
		name     string
		body     map[string]any
		typ, msg string
	}{
		{"too small", map[string]any{"StreamARN": streamARNOf("big"), "MaxRecordSizeInKiB": 1023}, "ValidationException",
			"1 validation error detected: Value '1023' at 'maxRecordSizeInKiB' failed to satisfy constraint: Member must have value greater than or equal to 1024"},
		{"too big", map[string]any{"StreamARN": streamARNOf("big"), "MaxRecordSizeInKiB": 10241}, "ValidationException",
			"1 validation error detected: Value '10241' at 'maxRecordSizeInKiB' failed to satisfy constraint: Member must have value less than or equal to 10240"},
		{"missing size", map[string]any{"StreamARN": streamARNOf("big")}, "ValidationException",
			"1 validation error detected: Value null at 'maxRecordSizeInKiB' failed to satisfy constraint: Member must not be null"},
		{"missing stream", map[string]any{"MaxRecordSizeInKiB": 2048}, "InvalidArgumentException", ""},
		{"unknown stream", map[string]any{"StreamARN": streamARNOf("nope"), "MaxRecordSizeInKiB": 2048}, "ResourceNotFoundException",
			"Stream nope under account " + testAccount + " not found."},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { wantRaw(t, srv, "UpdateMaxRecordSize", tc.body, tc.typ, tc.msg) })
	}
}

func TestUpdateStreamWarmThroughput(t *testing.T) {
	srv, c := startCtrl(t)
	createStream(t, c, "prov", 1)
	if _, err := c.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String("od"), StreamModeDetails: &types.StreamModeDetails{StreamMode: types.StreamModeOnDemand}}); err != nil {
		t.Fatal(err)
	}
	eddytest.WaitActive(t, c, "od")
	warm := func(name string, n int32) (*kinesis.UpdateStreamWarmThroughputOutput, error) {
		return c.UpdateStreamWarmThroughput(ctx, &kinesis.UpdateStreamWarmThroughputInput{StreamName: aws.String(name), WarmThroughputMiBps: aws.Int32(n)})
	}
	_, err := warm("prov", 100)
	wantErr(t, err, "InvalidArgumentException", "")
	_, err = warm("od", 100)
	wantErr(t, err, "InvalidArgumentException", "Warm throughput requires MinimumThroughputBillingCommitment to be enabled for account "+testAccount+".")
	setCommitment(t, c, types.MinimumThroughputBillingCommitmentInputStatusEnabled)
	out, err := warm("od", 100)
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.StreamName) != "od" || aws.ToString(out.StreamARN) != streamARNOf("od") ||
		aws.ToInt32(out.WarmThroughput.TargetMiBps) != 100 || aws.ToInt32(out.WarmThroughput.CurrentMiBps) != 0 {
		t.Fatalf("output %+v %+v", out, out.WarmThroughput)
	}
	out, err = c.UpdateStreamWarmThroughput(ctx, &kinesis.UpdateStreamWarmThroughputInput{StreamARN: aws.String(streamARNOf("od")), WarmThroughputMiBps: aws.Int32(50)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToInt32(out.WarmThroughput.TargetMiBps) != 50 || aws.ToInt32(out.WarmThroughput.CurrentMiBps) != 100 {
		t.Fatalf("second update %+v", out.WarmThroughput)
	}
	if w := summary(t, c, "od").StreamDescriptionSummary.WarmThroughput; w == nil || aws.ToInt32(w.TargetMiBps) != 50 {
		t.Fatalf("summary warm throughput %+v", w)
	}
	wantRaw(t, srv, "UpdateStreamWarmThroughput", map[string]any{"StreamName": "od", "WarmThroughputMiBps": 10241}, "ValidationException",
		"1 validation error detected: Value '10241' at 'warmThroughputMiBps' failed to satisfy constraint: Member must have value less than or equal to 10240")
	wantRaw(t, srv, "UpdateStreamWarmThroughput", map[string]any{"StreamName": "od"}, "ValidationException",
		"1 validation error detected: Value null at 'warmThroughputMiBps' failed to satisfy constraint: Member must not be null")
	wantRaw(t, srv, "UpdateStreamWarmThroughput", map[string]any{"WarmThroughputMiBps": 1}, "InvalidArgumentException", "")
	wantRaw(t, srv, "UpdateStreamWarmThroughput", map[string]any{"StreamName": "nope", "WarmThroughputMiBps": 1}, "ResourceNotFoundException", "")
}

func TestUpdateStreamMode(t *testing.T) {
	clock := newFakeClock()
	srv, c := startCtrl(t, eddytest.WithClock(clock.Now))
	createStream(t, c, "m", 2)
	arn := aws.String(streamARNOf("m"))
	mode := func(m types.StreamMode) error {
		_, err := c.UpdateStreamMode(ctx, &kinesis.UpdateStreamModeInput{StreamARN: arn, StreamModeDetails: &types.StreamModeDetails{StreamMode: m}})
		return err
	}
	wantErr(t, mode(types.StreamModeProvisioned), "InvalidArgumentException", "Stream m under account "+testAccount+" is already in PROVISIONED mode.")
	_, err := c.UpdateStreamMode(ctx, &kinesis.UpdateStreamModeInput{StreamARN: arn, StreamModeDetails: &types.StreamModeDetails{StreamMode: types.StreamModeOnDemand}, WarmThroughputMiBps: aws.Int32(10)})
	wantErr(t, err, "InvalidArgumentException", "Warm throughput requires MinimumThroughputBillingCommitment to be enabled for account "+testAccount+".")
	if err := mode(types.StreamModeOnDemand); err != nil {
		t.Fatal(err)
	}
	s := summary(t, c, "m").StreamDescriptionSummary
	if s.StreamModeDetails.StreamMode != types.StreamModeOnDemand || s.StreamStatus != types.StreamStatusActive || aws.ToInt32(s.OpenShardCount) != 2 {
		t.Fatalf("after switch: %s %s %d shards", s.StreamModeDetails.StreamMode, s.StreamStatus, aws.ToInt32(s.OpenShardCount))
	}
	lim, err := c.DescribeLimits(ctx, &kinesis.DescribeLimitsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToInt32(lim.OnDemandStreamCount) != 1 {
		t.Fatalf("OnDemandStreamCount %d", aws.ToInt32(lim.OnDemandStreamCount))
	}
	// provisioned-only operations are refused now
	_, err = c.UpdateShardCount(ctx, &kinesis.UpdateShardCountInput{StreamName: aws.String("m"), TargetShardCount: aws.Int32(4), ScalingType: types.ScalingTypeUniformScaling})
	wantErr(t, err, "InvalidArgumentException", "")
	if err := mode(types.StreamModeProvisioned); err != nil {
		t.Fatal(err)
	}
	wantErr(t, mode(types.StreamModeOnDemand), "LimitExceededException", "")
	clock.Advance(24 * time.Hour)
	if err := mode(types.StreamModeOnDemand); err != nil {
		t.Fatalf("after 24 h: %v", err)
	}
	// warm throughput may come with the switch once the commitment is on
	clock.Advance(24 * time.Hour)
	if err := mode(types.StreamModeProvisioned); err != nil {
		t.Fatal(err)
	}
	setCommitment(t, c, types.MinimumThroughputBillingCommitmentInputStatusEnabled)
	if _, err := c.UpdateStreamMode(ctx, &kinesis.UpdateStreamModeInput{StreamARN: arn, StreamModeDetails: &types.StreamModeDetails{StreamMode: types.StreamModeOnDemand}, WarmThroughputMiBps: aws.Int32(10)}); err != nil {
		t.Fatal(err)
	}
	if w := summary(t, c, "m").StreamDescriptionSummary.WarmThroughput; w == nil || aws.ToInt32(w.TargetMiBps) != 10 {
		t.Fatalf("warm throughput %+v", w)
	}

	cases := []struct {
		name     string
		body     map[string]any
		typ, msg string
	}{
		{"no details", map[string]any{"StreamARN": *arn}, "ValidationException",
			"1 validation error detected: Value null at 'streamModeDetails' failed to satisfy constraint: Member must not be null"},
		{"bad mode", map[string]any{"StreamARN": *arn, "StreamModeDetails": map[string]string{"StreamMode": "FAST"}}, "ValidationException",
			"1 validation error detected: Value 'FAST' at 'streamModeDetails.streamMode' failed to satisfy constraint: Member must satisfy enum value set: [PROVISIONED, ON_DEMAND]"},
		{"no arn", map[string]any{"StreamModeDetails": map[string]string{"StreamMode": "ON_DEMAND"}}, "ValidationException",
			"1 validation error detected: Value null at 'streamARN' failed to satisfy constraint: Member must not be null"},
		{"unknown", map[string]any{"StreamARN": streamARNOf("nope"), "StreamModeDetails": map[string]string{"StreamMode": "ON_DEMAND"}}, "ResourceNotFoundException", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { wantRaw(t, srv, "UpdateStreamMode", tc.body, tc.typ, tc.msg) })
	}
}

func TestStreamEncryption(t *testing.T) {
	srv, c := startCtrl(t)
	createStream(t, c, "enc", 1)
	put := func() *kinesis.PutRecordOutput {
		out, err := c.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("enc"), PartitionKey: aws.String("k"), Data: []byte("d")})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	if e := put().EncryptionType; e != types.EncryptionTypeNone {
		t.Fatalf("before: %s", e)
	}
	if _, err := c.StartStreamEncryption(ctx, &kinesis.StartStreamEncryptionInput{StreamName: aws.String("enc"), EncryptionType: types.EncryptionTypeKms, KeyId: aws.String("alias/aws/kinesis")}); err != nil {
		t.Fatal(err)
	}
	s := summary(t, c, "enc").StreamDescriptionSummary
	if s.EncryptionType != types.EncryptionTypeKms || aws.ToString(s.KeyId) != "alias/aws/kinesis" {
		t.Fatalf("summary %s %v", s.EncryptionType, s.KeyId)
	}
	if e := put().EncryptionType; e != types.EncryptionTypeKms {
		t.Fatalf("PutRecord after start: %s", e)
	}
	sh, err := c.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String("enc"), ShardId: aws.String("shardId-000000000000"), ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
	if err != nil {
		t.Fatal(err)
	}
	recs, err := c.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: sh.ShardIterator})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(recs.Records); n != 2 || recs.Records[1].EncryptionType != types.EncryptionTypeKms {
		t.Fatalf("records %d, last %+v", n, recs.Records)
	}
	if _, err := c.StopStreamEncryption(ctx, &kinesis.StopStreamEncryptionInput{StreamARN: aws.String(streamARNOf("enc")), EncryptionType: types.EncryptionTypeKms, KeyId: aws.String("alias/aws/kinesis")}); err != nil {
		t.Fatal(err)
	}
	if s := summary(t, c, "enc").StreamDescriptionSummary; s.EncryptionType != types.EncryptionTypeNone || s.KeyId != nil {
		t.Fatalf("after stop %s %v", s.EncryptionType, s.KeyId)
	}
	if e := put().EncryptionType; e != types.EncryptionTypeNone {
		t.Fatalf("PutRecord after stop: %s", e)
	}
	for _, op := range []string{"StartStreamEncryption", "StopStreamEncryption"} {
		cases := []struct {
			name     string
			body     map[string]any
			typ, msg string
		}{
			{"none type", map[string]any{"StreamName": "enc", "EncryptionType": "NONE", "KeyId": "k"}, "InvalidArgumentException", ""},
			{"bad type", map[string]any{"StreamName": "enc", "EncryptionType": "AES", "KeyId": "k"}, "ValidationException",
				"1 validation error detected: Value 'AES' at 'encryptionType' failed to satisfy constraint: Member must satisfy enum value set: [KMS, NONE]"},
			{"empty key", map[string]any{"StreamName": "enc", "EncryptionType": "KMS", "KeyId": ""}, "ValidationException",
				"1 validation error detected: Value '' at 'keyId' failed to satisfy constraint: Member must have length greater than or equal to 1"},
			{"no key", map[string]any{"StreamName": "enc", "EncryptionType": "KMS"}, "ValidationException",
				"1 validation error detected: Value null at 'keyId' failed to satisfy constraint: Member must not be null"},
			{"no stream", map[string]any{"EncryptionType": "KMS", "KeyId": "k"}, "InvalidArgumentException", ""},
			{"unknown", map[string]any{"StreamName": "nope", "EncryptionType": "KMS", "KeyId": "k"}, "ResourceNotFoundException", ""},
		}
		for _, tc := range cases {
			t.Run(op+" "+tc.name, func(t *testing.T) { wantRaw(t, srv, op, tc.body, tc.typ, tc.msg) })
		}
	}
}

var allMetrics = []string{"IncomingBytes", "IncomingRecords", "OutgoingBytes", "OutgoingRecords",
	"WriteProvisionedThroughputExceeded", "ReadProvisionedThroughputExceeded", "IteratorAgeMilliseconds"}

func metricNames(m []types.MetricsName) []string {
	out := []string{}
	for _, x := range m {
		out = append(out, string(x))
	}
	return out
}

func TestEnhancedMonitoring(t *testing.T) {
	srv, c := startCtrl(t)
	createStream(t, c, "mon", 1)
	step := func(enable bool, in []types.MetricsName, cur, want []string) {
		t.Helper()
		var gotCur, gotWant []string
		var name, arn string
		if enable {
			out, err := c.EnableEnhancedMonitoring(ctx, &kinesis.EnableEnhancedMonitoringInput{StreamName: aws.String("mon"), ShardLevelMetrics: in})
			if err != nil {
				t.Fatal(err)
			}
			gotCur, gotWant, name, arn = metricNames(out.CurrentShardLevelMetrics), metricNames(out.DesiredShardLevelMetrics), aws.ToString(out.StreamName), aws.ToString(out.StreamARN)
		} else {
			out, err := c.DisableEnhancedMonitoring(ctx, &kinesis.DisableEnhancedMonitoringInput{StreamARN: aws.String(streamARNOf("mon")), ShardLevelMetrics: in})
			if err != nil {
				t.Fatal(err)
			}
			gotCur, gotWant, name, arn = metricNames(out.CurrentShardLevelMetrics), metricNames(out.DesiredShardLevelMetrics), aws.ToString(out.StreamName), aws.ToString(out.StreamARN)
		}
		if !reflect.DeepEqual(gotCur, cur) || !reflect.DeepEqual(gotWant, want) || name != "mon" || arn != streamARNOf("mon") {
			t.Fatalf("enable=%v %v: current %v desired %v (%s %s), want %v %v", enable, in, gotCur, gotWant, name, arn, cur, want)
		}
		d, err := c.DescribeStream(ctx, &kinesis.DescribeStreamInput{StreamName: aws.String("mon")})
		if err != nil {
			t.Fatal(err)
		}
		if em := d.StreamDescription.EnhancedMonitoring; len(em) != 1 || !reflect.DeepEqual(metricNames(em[0].ShardLevelMetrics), want) {
			t.Fatalf("DescribeStream EnhancedMonitoring %+v, want %v", em, want)
		}
	}
	step(true, []types.MetricsName{types.MetricsNameIncomingBytes}, []string{}, []string{"IncomingBytes"})
	step(true, []types.MetricsName{types.MetricsNameIteratorAgeMilliseconds, types.MetricsNameIncomingBytes}, []string{"IncomingBytes"}, []string{"IncomingBytes", "IteratorAgeMilliseconds"})
	step(true, []types.MetricsName{types.MetricsNameAll}, []string{"IncomingBytes", "IteratorAgeMilliseconds"}, allMetrics)
	step(false, []types.MetricsName{types.MetricsNameIncomingBytes, types.MetricsNameOutgoingBytes}, allMetrics,
		[]string{"IncomingRecords", "OutgoingRecords", "WriteProvisionedThroughputExceeded", "ReadProvisionedThroughputExceeded", "IteratorAgeMilliseconds"})
	step(false, []types.MetricsName{types.MetricsNameAll}, []string{"IncomingRecords", "OutgoingRecords", "WriteProvisionedThroughputExceeded", "ReadProvisionedThroughputExceeded", "IteratorAgeMilliseconds"}, []string{})

	enumMsg := "Member must satisfy constraint: [Member must satisfy enum value set: [" + strings.Join(allMetrics, ", ") + ", ALL]]"
	for _, op := range []string{"EnableEnhancedMonitoring", "DisableEnhancedMonitoring"} {
		cases := []struct {
			name     string
			body     map[string]any
			typ, msg string
		}{
			{"no metrics", map[string]any{"StreamName": "mon"}, "ValidationException",
				"1 validation error detected: Value null at 'shardLevelMetrics' failed to satisfy constraint: Member must not be null"},
			{"empty", map[string]any{"StreamName": "mon", "ShardLevelMetrics": []string{}}, "ValidationException",
				"1 validation error detected: Value '[]' at 'shardLevelMetrics' failed to satisfy constraint: Member must have length greater than or equal to 1"},
			{"unknown metric", map[string]any{"StreamName": "mon", "ShardLevelMetrics": []string{"IncomingBytes", "Latency"}}, "ValidationException",
				"1 validation error detected: Value '[IncomingBytes, Latency]' at 'shardLevelMetrics' failed to satisfy constraint: " + enumMsg},
			{"too many", map[string]any{"StreamName": "mon", "ShardLevelMetrics": append(append([]string{}, allMetrics...), "ALL")}, "ValidationException", ""},
			{"no stream", map[string]any{"ShardLevelMetrics": []string{"ALL"}}, "InvalidArgumentException", ""},
			{"unknown stream", map[string]any{"StreamName": "nope", "ShardLevelMetrics": []string{"ALL"}}, "ResourceNotFoundException", ""},
		}
		for _, tc := range cases {
			t.Run(op+" "+tc.name, func(t *testing.T) { wantRaw(t, srv, op, tc.body, tc.typ, tc.msg) })
		}
	}
}

func TestRetentionPeriod(t *testing.T) {
	srv, c := startCtrl(t)
	createStream(t, c, "ret", 1)
	inc := func(h int32) error {
		_, err := c.IncreaseStreamRetentionPeriod(ctx, &kinesis.IncreaseStreamRetentionPeriodInput{StreamName: aws.String("ret"), RetentionPeriodHours: aws.Int32(h)})
		return err
	}
	dec := func(h int32) error {
		_, err := c.DecreaseStreamRetentionPeriod(ctx, &kinesis.DecreaseStreamRetentionPeriodInput{StreamARN: aws.String(streamARNOf("ret")), RetentionPeriodHours: aws.Int32(h)})
		return err
	}
	hours := func() int32 { return aws.ToInt32(summary(t, c, "ret").StreamDescriptionSummary.RetentionPeriodHours) }
	for _, step := range []struct {
		f     func(int32) error
		h     int32
		after int32
	}{{inc, 48, 48}, {inc, 48, 48}, {inc, 8760, 8760}, {dec, 100, 100}, {dec, 100, 100}, {dec, 24, 24}} {
		if err := step.f(step.h); err != nil {
			t.Fatalf("to %d: %v", step.h, err)
		}
		if got := hours(); got != step.after {
			t.Fatalf("retention %d, want %d", got, step.after)
		}
	}
	if err := inc(30); err != nil {
		t.Fatal(err)
	}
	wantErr(t, inc(29), "InvalidArgumentException", "Requested retention period (29 hours) for stream ret can not be shorter than existing retention period (30 hours). Use DecreaseRetentionPeriod API.")
	wantErr(t, dec(31), "InvalidArgumentException", "Requested retention period (31 hours) for stream ret can not be longer than existing retention period (30 hours). Use IncreaseRetentionPeriod API.")
	for _, f := range []func(int32) error{inc, dec} {
		wantErr(t, f(23), "InvalidArgumentException", "Minimum allowed retention period is 24 hours. Requested retention period (23 hours) is too short.")
		wantErr(t, f(8761), "InvalidArgumentException", "Maximum allowed retention period is 8760 hours. Requested retention period (8761 hours) is too long.")
	}
	for _, op := range []string{"IncreaseStreamRetentionPeriod", "DecreaseStreamRetentionPeriod"} {
		wantRaw(t, srv, op, map[string]any{"StreamName": "ret", "RetentionPeriodHours": 0}, "ValidationException",
			"1 validation error detected: Value '0' at 'retentionPeriodHours' failed to satisfy constraint: Member must have value greater than or equal to 1")
		wantRaw(t, srv, op, map[string]any{"StreamName": "ret"}, "ValidationException",
			"1 validation error detected: Value null at 'retentionPeriodHours' failed to satisfy constraint: Member must not be null")
		wantRaw(t, srv, op, map[string]any{"StreamName": "nope", "RetentionPeriodHours": 48}, "ResourceNotFoundException",
			"Stream nope under account "+testAccount+" not found.")
		wantRaw(t, srv, op, map[string]any{"RetentionPeriodHours": 48}, "InvalidArgumentException", "")
	}
}

// readAll reads a shard from TRIM_HORIZON and returns the records' data.
func readAll(t *testing.T, c *kinesis.Client, stream string) []string {
	t.Helper()
	it, err := c.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String(stream), ShardId: aws.String("shardId-000000000000"), ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: it.ShardIterator})
	if err != nil {
		t.Fatal(err)
	}
	got := []string{}
	for _, r := range out.Records {
		got = append(got, string(r.Data))
	}
	return got
}

func TestDecreaseRetentionHidesOldRecords(t *testing.T) {
	clock := newFakeClock()
	_, c := startCtrl(t, eddytest.WithClock(clock.Now))
	createStream(t, c, "old", 1)
	if _, err := c.IncreaseStreamRetentionPeriod(ctx, &kinesis.IncreaseStreamRetentionPeriodInput{StreamName: aws.String("old"), RetentionPeriodHours: aws.Int32(72)}); err != nil {
		t.Fatal(err)
	}
	putAt := func(data string) {
		if _, err := c.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("old"), PartitionKey: aws.String("k"), Data: []byte(data)}); err != nil {
			t.Fatal(err)
		}
	}
	putAt("r0") // t0
	clock.Advance(20 * time.Hour)
	putAt("r20") // t0+20h
	clock.Advance(30 * time.Hour)
	putAt("r50") // t0+50h
	if got := readAll(t, c, "old"); fmt.Sprint(got) != "[r0 r20 r50]" {
		t.Fatalf("before decrease: %v", got)
	}
	// now t0+50h: a 48 h retention keeps r20 and r50, 24 h keeps r50
	if _, err := c.DecreaseStreamRetentionPeriod(ctx, &kinesis.DecreaseStreamRetentionPeriodInput{StreamName: aws.String("old"), RetentionPeriodHours: aws.Int32(48)}); err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, c, "old"); fmt.Sprint(got) != "[r20 r50]" {
		t.Fatalf("after decrease to 48 h: %v", got)
	}
	if _, err := c.DecreaseStreamRetentionPeriod(ctx, &kinesis.DecreaseStreamRetentionPeriodInput{StreamName: aws.String("old"), RetentionPeriodHours: aws.Int32(24)}); err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, c, "old"); fmt.Sprint(got) != "[r50]" {
		t.Fatalf("after decrease to 24 h: %v", got)
	}
	// increasing does not bring trimmed records back
	if _, err := c.IncreaseStreamRetentionPeriod(ctx, &kinesis.IncreaseStreamRetentionPeriodInput{StreamName: aws.String("old"), RetentionPeriodHours: aws.Int32(100)}); err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, c, "old"); fmt.Sprint(got) != "[r50]" {
		t.Fatalf("after increase: %v", got)
	}
}

// TestControlNeedsActiveStream runs every stream-changing control operation
// on a CREATING stream.
func TestControlNeedsActiveStream(t *testing.T) {
	t.Parallel()
	srv, c := startCtrl(t, withDelay(time.Hour))
	if _, err := c.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String("cr"), StreamModeDetails: &types.StreamModeDetails{StreamMode: types.StreamModeOnDemand}}); err != nil {
		t.Fatal(err)
	}
	setCommitment(t, c, types.MinimumThroughputBillingCommitmentInputStatusEnabled)
	arn := streamARNOf("cr")
	msg := "Stream cr under account " + testAccount + " not ACTIVE, instead in state CREATING"
	calls := []struct {
		op   string
		body map[string]any
	}{
		{"AddTagsToStream", map[string]any{"StreamName": "cr", "Tags": map[string]string{"a": "b"}}},
		{"RemoveTagsFromStream", map[string]any{"StreamName": "cr", "TagKeys": []string{"a"}}},
		{"TagResource", map[string]any{"ResourceARN": arn, "Tags": map[string]string{"a": "b"}}},
		{"UntagResource", map[string]any{"ResourceARN": arn, "TagKeys": []string{"a"}}},
		{"RegisterStreamConsumer", map[string]any{"StreamARN": arn, "ConsumerName": "x"}},
		{"PutResourcePolicy", map[string]any{"ResourceARN": arn, "Policy": testPolicy}},
		{"UpdateMaxRecordSize", map[string]any{"StreamARN": arn, "MaxRecordSizeInKiB": 2048}},
		{"UpdateStreamWarmThroughput", map[string]any{"StreamName": "cr", "WarmThroughputMiBps": 10}},
		{"UpdateStreamMode", map[string]any{"StreamARN": arn, "StreamModeDetails": map[string]string{"StreamMode": "PROVISIONED"}}},
		{"StartStreamEncryption", map[string]any{"StreamName": "cr", "EncryptionType": "KMS", "KeyId": "k"}},
		{"StopStreamEncryption", map[string]any{"StreamName": "cr", "EncryptionType": "KMS", "KeyId": "k"}},
		{"EnableEnhancedMonitoring", map[string]any{"StreamName": "cr", "ShardLevelMetrics": []string{"ALL"}}},
		{"DisableEnhancedMonitoring", map[string]any{"StreamName": "cr", "ShardLevelMetrics": []string{"ALL"}}},
		{"IncreaseStreamRetentionPeriod", map[string]any{"StreamName": "cr", "RetentionPeriodHours": 48}},
		{"DecreaseStreamRetentionPeriod", map[string]any{"StreamName": "cr", "RetentionPeriodHours": 24}},
	}
	for _, tc := range calls {
		t.Run(tc.op, func(t *testing.T) { wantRaw(t, srv, tc.op, tc.body, "ResourceInUseException", msg) })
	}
	// read-only calls work in any state
	for _, tc := range []struct {
		op   string
		body map[string]any
	}{
		{"ListTagsForStream", map[string]any{"StreamName": "cr"}},
		{"ListTagsForResource", map[string]any{"ResourceARN": arn}},
		{"GetResourcePolicy", map[string]any{"ResourceARN": arn}},
		{"ListStreamConsumers", map[string]any{"StreamARN": arn}},
	} {
		if st, typ, m := rawCall(t, srv, tc.op, tc.body); st != 200 {
			t.Fatalf("%s on a CREATING stream: %d %s %s", tc.op, st, typ, m)
		}
	}
}

// TestUpdatesPassThroughUpdating checks that the asynchronous changes put
// the stream in UPDATING until the transition delay has passed.
func TestUpdatesPassThroughUpdating(t *testing.T) {
	t.Parallel()
	_, c := startCtrl(t, withDelay(300*time.Millisecond))
	createStream(t, c, "up", 1)
	steps := []struct {
		name string
		call func() error
	}{
		{"StartStreamEncryption", func() error {
			_, err := c.StartStreamEncryption(ctx, &kinesis.StartStreamEncryptionInput{StreamName: aws.String("up"), EncryptionType: types.EncryptionTypeKms, KeyId: aws.String("k")})
			return err
		}},
		{"StopStreamEncryption", func() error {
			_, err := c.StopStreamEncryption(ctx, &kinesis.StopStreamEncryptionInput{StreamName: aws.String("up"), EncryptionType: types.EncryptionTypeKms, KeyId: aws.String("k")})
			return err
		}},
		{"UpdateStreamMode", func() error {
			_, err := c.UpdateStreamMode(ctx, &kinesis.UpdateStreamModeInput{StreamARN: aws.String(streamARNOf("up")), StreamModeDetails: &types.StreamModeDetails{StreamMode: types.StreamModeOnDemand}})
			return err
		}},
	}
	for _, s := range steps {
		if err := s.call(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if st := summary(t, c, "up").StreamDescriptionSummary.StreamStatus; st != types.StreamStatusUpdating {
			t.Fatalf("%s: status %s right after the call, want UPDATING", s.name, st)
		}
		eddytest.WaitActive(t, c, "up")
	}
}
