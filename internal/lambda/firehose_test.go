//go:build linux

package lambda_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"go/build"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	fh "github.com/aws/aws-sdk-go-v2/service/firehose"
	fhtypes "github.com/aws/aws-sdk-go-v2/service/firehose/types"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	lambdasdk "github.com/aws/aws-sdk-go-v2/service/lambda"
	ltypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/eddy-streams/eddy/internal/config"
	"github.com/eddy-streams/eddy/internal/eddytest"
	"github.com/eddy-streams/eddy/internal/firehose/s3dest"
)

// startVersitygw runs versitygw on a posix root and creates bucket; the
// objects are then files under root/bucket.
func startVersitygw(t *testing.T, bucket string) (url, root string) {
	t.Helper()
	bin, err := exec.LookPath("versitygw")
	if err != nil {
		bin = filepath.Join(strings.Split(build.Default.GOPATH, string(os.PathListSeparator))[0], "bin", "versitygw")
		if _, err := os.Stat(bin); err != nil {
			t.Fatalf("versitygw is not installed (run scripts/setup.d/20-versitygw.sh): %v", err)
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	root = t.TempDir()
	cmd := exec.Command(bin, "--access", "lkey", "--secret", "lsecret", "--port", addr, "--quiet", "posix", root)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	url = "http://" + addr
	waitFor(t, "versitygw", 20*time.Second, func() bool {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	c := s3dest.NewUploader(s3dest.Endpoint{URL: url, AccessKey: "lkey", SecretKey: "lsecret"}).Client()
	if _, err := c.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	return url, root
}

// objectsUnder returns the bodies of the files under dir, by name.
func objectsUnder(root string) []string {
	var out []string
	filepath.Walk(root, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			b, _ := os.ReadFile(p)
			out = append(out, string(b))
		}
		return nil
	})
	return out
}

// Records pass through a Go transformation function (aws-lambda-go,
// events.KinesisFirehoseEvent): upper-cased ones arrive, dropped ones do
// not, failed ones land under the processing-failed error prefix.
func TestFirehoseLambdaTransformation(t *testing.T) {
	url, root := startVersitygw(t, "bkt")
	e := start(t, eddytest.WithConfig(func(c *config.Config) {
		c.S3Endpoint, c.S3AccessKey, c.S3SecretKey, c.S3Region = url, "lkey", "lsecret", "us-east-1"
	}))
	ctx := context.Background()
	cf := e.create(t, "upper", nil, 10)
	fc := fh.NewFromConfig(eddytest.AWSConfig(e.srv.URL(), "", ""))
	param := func(k, v string) fhtypes.ProcessorParameter {
		return fhtypes.ProcessorParameter{ParameterName: fhtypes.ProcessorParameterName(k), ParameterValue: aws.String(v)}
	}
	_, err := fc.CreateDeliveryStream(ctx, &fh.CreateDeliveryStreamInput{DeliveryStreamName: aws.String("tx"),
		ExtendedS3DestinationConfiguration: &fhtypes.ExtendedS3DestinationConfiguration{
			BucketARN: aws.String("arn:aws:s3:::bkt"), RoleARN: aws.String("arn:aws:iam::000000000000:role/fh"),
			Prefix: aws.String("ok/"), ErrorOutputPrefix: aws.String("err/!{firehose:error-output-type}/"),
			ProcessingConfiguration: &fhtypes.ProcessingConfiguration{Enabled: aws.Bool(true), Processors: []fhtypes.Processor{{
				Type: fhtypes.ProcessorTypeLambda, Parameters: []fhtypes.ProcessorParameter{
					param("LambdaArn", *cf.FunctionArn), param("NumberOfRetries", "1"), param("BufferSizeInMBs", "1")}}}},
		}})
	if err != nil {
		t.Fatal(err)
	}
	var recs []fhtypes.Record
	for i := 0; i < 30; i++ {
		kind := []string{"rec", "drop", "fail"}[i%3]
		recs = append(recs, fhtypes.Record{Data: []byte(fmt.Sprintf("%s-%d\n", kind, i))})
	}
	if out, err := fc.PutRecordBatch(ctx, &fh.PutRecordBatchInput{DeliveryStreamName: aws.String("tx"), Records: recs}); err != nil || *out.FailedPutCount != 0 {
		t.Fatalf("put: %v", err)
	}
	if err := e.srv.Firehose.Flush(ctx, "000000000000", "us-east-1", "tx"); err != nil {
		t.Fatal(err)
	}
	ok := strings.Join(objectsUnder(filepath.Join(root, "bkt", "ok")), "")
	var want []string
	for i := 0; i < 30; i += 3 {
		want = append(want, fmt.Sprintf("REC-%d\n", i))
	}
	if ok != strings.Join(want, "") {
		t.Fatalf("delivered %q, want %q", ok, strings.Join(want, ""))
	}
	var failed []string
	for _, body := range objectsUnder(filepath.Join(root, "bkt", "err", "processing-failed")) {
		for _, line := range bytes.Split(bytes.TrimSpace([]byte(body)), []byte("\n")) {
			var r struct {
				AttemptsMade                             int
				ArrivalTimestamp, AttemptEndingTimestamp int64
				ErrorCode, ErrorMessage, LambdaArn       string
				RawData                                  []byte
			}
			if err := json.Unmarshal(line, &r); err != nil {
				t.Fatalf("error record %s: %v", line, err)
			}
			if r.ErrorCode != "Lambda.ProcessingFailedStatus" || r.LambdaArn != *cf.FunctionArn || r.AttemptsMade != 1 || r.ArrivalTimestamp == 0 {
				t.Fatalf("error record %s", line)
			}
			failed = append(failed, string(r.RawData))
		}
	}
	sort.Strings(failed)
	if len(failed) != 10 || !strings.HasPrefix(failed[0], "fail-") {
		t.Fatalf("failed records %q", failed)
	}
	for _, body := range objectsUnder(filepath.Join(root, "bkt")) {
		if strings.Contains(body, "drop-") || strings.Contains(body, "DROP-") {
			t.Fatalf("a dropped record was delivered: %q", body)
		}
	}
}

// A function that errors on every call: after 1+NumberOfRetries attempts
// the whole batch goes to processing-failed with Lambda.FunctionError.
func TestFirehoseLambdaFunctionError(t *testing.T) {
	url, root := startVersitygw(t, "bkt")
	e := start(t, eddytest.WithConfig(func(c *config.Config) {
		c.S3Endpoint, c.S3AccessKey, c.S3SecretKey, c.S3Region = url, "lkey", "lsecret", "us-east-1"
	}))
	ctx := context.Background()
	// the test function fails Kinesis-shaped events only; this one crashes on init
	cf := e.create(t, "broken", map[string]string{"INIT_FAIL": "1"}, 3)
	fc := fh.NewFromConfig(eddytest.AWSConfig(e.srv.URL(), "", ""))
	_, err := fc.CreateDeliveryStream(ctx, &fh.CreateDeliveryStreamInput{DeliveryStreamName: aws.String("tx2"),
		ExtendedS3DestinationConfiguration: &fhtypes.ExtendedS3DestinationConfiguration{
			BucketARN: aws.String("arn:aws:s3:::bkt"), RoleARN: aws.String("arn:aws:iam::000000000000:role/fh"), Prefix: aws.String("ok/"),
			ProcessingConfiguration: &fhtypes.ProcessingConfiguration{Enabled: aws.Bool(true), Processors: []fhtypes.Processor{{
				Type: fhtypes.ProcessorTypeLambda, Parameters: []fhtypes.ProcessorParameter{
					{ParameterName: "LambdaArn", ParameterValue: cf.FunctionArn}, {ParameterName: "NumberOfRetries", ParameterValue: aws.String("2")}}}}},
		}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fc.PutRecord(ctx, &fh.PutRecordInput{DeliveryStreamName: aws.String("tx2"), Record: &fhtypes.Record{Data: []byte("x\n")}}); err != nil {
		t.Fatal(err)
	}
	if err := e.srv.Firehose.Flush(ctx, "000000000000", "us-east-1", "tx2"); err != nil {
		t.Fatal(err)
	}
	if ok := objectsUnder(filepath.Join(root, "bkt", "ok")); len(ok) != 0 && !strings.Contains(strings.Join(ok, ""), "Lambda.FunctionError") {
		t.Fatalf("delivered %q", ok)
	}
	errs := strings.Join(objectsUnder(filepath.Join(root, "bkt", "ok", "processing-failed")), "")
	if !strings.Contains(errs, `"errorCode":"Lambda.FunctionError"`) || !strings.Contains(errs, `"attemptsMade":3`) || !strings.Contains(errs, `"rawData":"eAo="`) {
		t.Fatalf("processing-failed output %q", errs)
	}
	// a Lambda processor without LambdaArn is refused
	_, err = fc.CreateDeliveryStream(ctx, &fh.CreateDeliveryStreamInput{DeliveryStreamName: aws.String("tx3"),
		ExtendedS3DestinationConfiguration: &fhtypes.ExtendedS3DestinationConfiguration{
			BucketARN: aws.String("arn:aws:s3:::bkt"), RoleARN: aws.String("arn:aws:iam::000000000000:role/fh"),
			ProcessingConfiguration: &fhtypes.ProcessingConfiguration{Enabled: aws.Bool(true), Processors: []fhtypes.Processor{{Type: fhtypes.ProcessorTypeLambda}}}}})
	if err == nil || !strings.Contains(err.Error(), "LambdaArn") {
		t.Fatalf("missing LambdaArn: %v", err)
	}
}

// An S3 on-failure destination gets AWS's invocation record plus the
// failed batch as "payload", under aws/lambda/UUID/SHARD/YYYY/MM/DD/.
func TestMappingS3OnFailureDestination(t *testing.T) {
	url, root := startVersitygw(t, "dlqb")
	e := start(t, eddytest.WithConfig(func(c *config.Config) {
		c.S3Endpoint, c.S3AccessKey, c.S3SecretKey, c.S3Region = url, "lkey", "lsecret", "us-east-1"
	}))
	kc := eddytest.Kinesis(e.srv)
	ctx := context.Background()
	createStream(t, kc, "s3src", 1)
	out := filepath.Join(t.TempDir(), "out")
	e.create(t, "s3fail", map[string]string{"OUT": out, "FAIL_DATA": "r1"}, 10)
	putN(t, kc, "s3src", 0, 3, 1)
	m, err := e.lc.CreateEventSourceMapping(ctx, &lambdasdk.CreateEventSourceMappingInput{FunctionName: aws.String("s3fail"),
		EventSourceArn: aws.String(streamARN("s3src")), StartingPosition: ltypes.EventSourcePositionTrimHorizon, BatchSize: aws.Int32(1),
		MaximumRetryAttempts: aws.Int32(0),
		DestinationConfig:    &ltypes.DestinationConfig{OnFailure: &ltypes.OnFailure{Destination: aws.String("arn:aws:s3:::dlqb")}}})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "r2 after the failure", 20*time.Second, func() bool { r, _ := delivered(out); return len(r) == 2 })
	dir := filepath.Join(root, "dlqb", "aws", "lambda", *m.UUID, "shardId-000000000000")
	var objs []string
	waitFor(t, "the failure object", 10*time.Second, func() bool { objs = objectsUnder(dir); return len(objs) == 1 })
	var rec struct {
		RequestContext   struct{ Condition string }
		KinesisBatchInfo struct{ BatchSize int }
		Payload          events.KinesisEvent
	}
	if err := json.Unmarshal([]byte(objs[0]), &rec); err != nil {
		t.Fatal(err)
	}
	if rec.RequestContext.Condition != "RetryAttemptsExhausted" || rec.KinesisBatchInfo.BatchSize != 1 ||
		len(rec.Payload.Records) != 1 || string(rec.Payload.Records[0].Kinesis.Data) != "r1" {
		t.Fatalf("failure object %s", objs[0])
	}
}

// A Kinesis-stream source: the transformation event carries each record's
// kinesisRecordMetadata (shard, partition key, sequence number, arrival).
func TestFirehoseLambdaTransformationStreamSource(t *testing.T) {
	url, root := startVersitygw(t, "bkt")
	e := start(t, eddytest.WithConfig(func(c *config.Config) {
		c.S3Endpoint, c.S3AccessKey, c.S3SecretKey, c.S3Region = url, "lkey", "lsecret", "us-east-1"
	}))
	ctx := context.Background()
	kc := eddytest.Kinesis(e.srv)
	createStream(t, kc, "fhsrc", 1)
	cf := e.create(t, "upper2", nil, 10)
	fc := fh.NewFromConfig(eddytest.AWSConfig(e.srv.URL(), "", ""))
	_, err := fc.CreateDeliveryStream(ctx, &fh.CreateDeliveryStreamInput{DeliveryStreamName: aws.String("tx4"),
		DeliveryStreamType: fhtypes.DeliveryStreamTypeKinesisStreamAsSource,
		KinesisStreamSourceConfiguration: &fhtypes.KinesisStreamSourceConfiguration{KinesisStreamARN: aws.String(streamARN("fhsrc")),
			RoleARN: aws.String("arn:aws:iam::000000000000:role/fh")},
		ExtendedS3DestinationConfiguration: &fhtypes.ExtendedS3DestinationConfiguration{
			BucketARN: aws.String("arn:aws:s3:::bkt"), RoleARN: aws.String("arn:aws:iam::000000000000:role/fh"), Prefix: aws.String("ok/"),
			ProcessingConfiguration: &fhtypes.ProcessingConfiguration{Enabled: aws.Bool(true), Processors: []fhtypes.Processor{{
				Type: fhtypes.ProcessorTypeLambda, Parameters: []fhtypes.ProcessorParameter{{ParameterName: "LambdaArn", ParameterValue: cf.FunctionArn}}}}},
		}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kc.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("fhsrc"), PartitionKey: aws.String("p1"), Data: []byte("a-1\n")}); err != nil {
		t.Fatal(err)
	}
	var got string
	waitFor(t, "the transformed record", 30*time.Second, func() bool {
		e.srv.Firehose.Flush(ctx, "000000000000", "us-east-1", "tx4")
		got = strings.Join(objectsUnder(filepath.Join(root, "bkt", "ok")), "")
		return got != ""
	})
	if got != "A-1|shardId-000000000000|p1|true\n" {
		t.Fatalf("delivered %q", got)
	}
}

// Dynamic partitioning with keys from the function: the records are
// transformed by the built aws-lambda-go function (upper-cased), keyed by
// the "customer" it returns in metadata.partitionKeys and by a JQ query on
// the transformed JSON, and land under exactly those prefixes; dropped
// records are nowhere, failed ones are under processing-failed, and a
// record the function returns without the key is under
// partitioning-failed.
func TestFirehoseLambdaPartitionKeys(t *testing.T) {
	url, root := startVersitygw(t, "bkt")
	e := start(t, eddytest.WithConfig(func(c *config.Config) {
		c.S3Endpoint, c.S3AccessKey, c.S3SecretKey, c.S3Region = url, "lkey", "lsecret", "us-east-1"
	}))
	ctx := context.Background()
	cf := e.create(t, "keys", nil, 10)
	fc := fh.NewFromConfig(eddytest.AWSConfig(e.srv.URL(), "", ""))
	param := func(k, v string) fhtypes.ProcessorParameter {
		return fhtypes.ProcessorParameter{ParameterName: fhtypes.ProcessorParameterName(k), ParameterValue: aws.String(v)}
	}
	_, err := fc.CreateDeliveryStream(ctx, &fh.CreateDeliveryStreamInput{DeliveryStreamName: aws.String("dp"),
		ExtendedS3DestinationConfiguration: &fhtypes.ExtendedS3DestinationConfiguration{
			BucketARN: aws.String("arn:aws:s3:::bkt"), RoleARN: aws.String("arn:aws:iam::000000000000:role/fh"),
			Prefix:                           aws.String("lake/customer=!{partitionKeyFromLambda:customer}/device=!{partitionKeyFromQuery:device}/"),
			ErrorOutputPrefix:                aws.String("err/!{firehose:error-output-type}/"),
			BufferingHints:                   &fhtypes.BufferingHints{SizeInMBs: aws.Int32(64), IntervalInSeconds: aws.Int32(900)},
			DynamicPartitioningConfiguration: &fhtypes.DynamicPartitioningConfiguration{Enabled: aws.Bool(true)},
			ProcessingConfiguration: &fhtypes.ProcessingConfiguration{Enabled: aws.Bool(true), Processors: []fhtypes.Processor{
				{Type: fhtypes.ProcessorTypeLambda, Parameters: []fhtypes.ProcessorParameter{param("LambdaArn", *cf.FunctionArn)}},
				{Type: fhtypes.ProcessorTypeMetadataExtraction, Parameters: []fhtypes.ProcessorParameter{
					param("MetadataExtractionQuery", "{device: .DEVICE}"), param("JsonParsingEngine", "JQ-1.6")}},
				{Type: fhtypes.ProcessorTypeAppendDelimiterToRecord}}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{}
	var recs []fhtypes.Record
	for i := 0; i < 12; i++ {
		cust, dev := fmt.Sprintf("c%d", i%3), []string{"ios", "web"}[i%2]
		data := fmt.Sprintf(`{"customer":"%s","device":"%s","n":%d}`, cust, dev, i)
		recs = append(recs, fhtypes.Record{Data: []byte(data)})
		dir := filepath.Join("customer="+cust, "device="+strings.ToUpper(dev))
		want[dir] = append(want[dir], strings.ToUpper(data)+"\n")
	}
	recs = append(recs, fhtypes.Record{Data: []byte("drop-me")}, fhtypes.Record{Data: []byte("fail-me")}, fhtypes.Record{Data: []byte(`{"device":"ios"}`)})
	if out, err := fc.PutRecordBatch(ctx, &fh.PutRecordBatchInput{DeliveryStreamName: aws.String("dp"), Records: recs}); err != nil || *out.FailedPutCount != 0 {
		t.Fatalf("put: %v", err)
	}
	if err := e.srv.Firehose.Flush(ctx, "000000000000", "us-east-1", "dp"); err != nil {
		t.Fatal(err)
	}
	for dir, lines := range want {
		objs := objectsUnder(filepath.Join(root, "bkt", "lake", dir))
		if len(objs) != 1 || objs[0] != strings.Join(lines, "") {
			t.Fatalf("%s: %q, want %q", dir, objs, strings.Join(lines, ""))
		}
	}
	var all int
	filepath.Walk(filepath.Join(root, "bkt", "lake"), func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			all++
		}
		return nil
	})
	if all != len(want) {
		t.Fatalf("%d objects under lake/, want %d", all, len(want))
	}
	pf := strings.Join(objectsUnder(filepath.Join(root, "bkt", "err", "processing-failed")), "")
	if !strings.Contains(pf, `"errorCode":"Lambda.ProcessingFailedStatus"`) || !strings.Contains(pf, `"rawData":"ZmFpbC1tZQ=="`) || strings.Count(pf, "\n") != 1 {
		t.Fatalf("processing-failed %q", pf)
	}
	part := strings.Join(objectsUnder(filepath.Join(root, "bkt", "err", "partitioning-failed")), "")
	if !strings.Contains(part, `"errorCode":"DynamicPartitioning.LambdaPartitionKeyMissing"`) || strings.Count(part, "\n") != 1 {
		t.Fatalf("partitioning-failed %q", part)
	}
	for _, body := range objectsUnder(filepath.Join(root, "bkt")) {
		if strings.Contains(body, "DROP-ME") || strings.Contains(body, "drop-me") {
			t.Fatalf("a dropped record was delivered: %q", body)
		}
	}
}
