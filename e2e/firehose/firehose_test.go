//go:build linux

// Package firehose_test drives the built eddy binary's Firehose as a user
// would: SDK clients against `eddy server --s3-endpoint …`, delivery into a
// versitygw process, a restart in the middle of a buffer, and /metrics.
package firehose_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"flag"
	"fmt"
	"github.com/eddy-streams/eddy/internal/awsclient"
	"go/build"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	fh "github.com/aws/aws-sdk-go-v2/service/firehose"
	fhtypes "github.com/aws/aws-sdk-go-v2/service/firehose/types"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	ktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

var eddyBin string

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() { // the binary-level tests run in the full pass of scripts/test.sh
		fmt.Println("e2e/firehose: skipped with -short")
		os.Exit(0)
	}
	dir, err := os.MkdirTemp("", "eddy-fh-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	eddyBin = filepath.Join(dir, "eddy")
	if out, err := exec.Command("go", "build", "-o", eddyBin, "../../cmd/eddy").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build eddy: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

const (
	s3Key    = "e2ekey"
	s3Secret = "e2esecret"
)

func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// startProcess runs bin with args until the test ends; stop kills it.
func startProcess(t *testing.T, bin string, args ...string) (stop func(sig os.Signal)) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	done := false
	stop = func(sig os.Signal) {
		if done {
			return
		}
		done = true
		_ = cmd.Process.Signal(sig)
		_ = cmd.Wait()
	}
	t.Cleanup(func() {
		stop(os.Kill)
		if t.Failed() {
			t.Logf("%s output:\n%s", filepath.Base(bin), logs.String())
		}
	})
	return stop
}

func versitygw(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("versitygw")
	if err != nil {
		bin = filepath.Join(strings.Split(build.Default.GOPATH, string(os.PathListSeparator))[0], "bin", "versitygw")
		if _, err := os.Stat(bin); err != nil {
			t.Fatalf("versitygw is not installed (run scripts/setup.d/20-versitygw.sh): %v", err)
		}
	}
	addr := freeAddr(t)
	startProcess(t, bin, "--access", s3Key, "--secret", s3Secret, "--port", addr, "--quiet", "posix", t.TempDir())
	waitFor(t, 20*time.Second, "versitygw", func() bool {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	return "http://" + addr
}

func s3Client(url string) *s3.Client {
	return s3.NewFromConfig(aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider(s3Key, s3Secret, "")},
		func(o *s3.Options) { o.BaseEndpoint = aws.String(url); o.UsePathStyle = true })
}

// objects returns the decompressed bodies of every object under prefix.
func objects(t *testing.T, c *s3.Client, bucket, prefix string, gz bool) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	ctx := context.Background()
	l, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	for _, o := range l.Contents {
		g, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: o.Key})
		if err != nil {
			t.Fatalf("get: %v", err)
		}
		var r io.Reader = g.Body
		if gz {
			if r, err = gzip.NewReader(g.Body); err != nil {
				t.Fatalf("%s: %v", *o.Key, err)
			}
		}
		b, err := io.ReadAll(r)
		g.Body.Close()
		if err != nil {
			t.Fatalf("read %s: %v", *o.Key, err)
		}
		out[*o.Key] = b
	}
	return out
}

func startEddy(t *testing.T, dataDir, s3url string) (url string, stop func(os.Signal)) {
	t.Helper()
	addr := freeAddr(t)
	stop = startProcess(t, eddyBin, "server", "--addr", addr, "--data-dir", dataDir,
		"--s3-endpoint", s3url, "--s3-access-key", s3Key, "--s3-secret-key", s3Secret)
	url = "http://" + addr
	waitFor(t, 20*time.Second, "eddy /healthz", func() bool {
		r, err := http.Get(url + "/healthz")
		if err == nil {
			r.Body.Close()
		}
		return err == nil && r.StatusCode == 200
	})
	return url, stop
}

func sdkConfig(url string) aws.Config {
	return aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(url),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
		// aws/aws-sdk-go-v2#2737: without it a fast 200 can come back as "use of
		// closed network connection" and the SDK retries a stored batch.
		HTTPClient: awsclient.OwnBody{Next: &http.Client{}}}
}

func metrics(t *testing.T, url string) string {
	t.Helper()
	r, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	return string(b)
}

func TestFirehoseBinary(t *testing.T) {
	s3url := versitygw(t)
	sc := s3Client(s3url)
	ctx := context.Background()
	if _, err := sc.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("e2e-bucket")}); err != nil {
		t.Fatal(err)
	}
	dataDir := t.TempDir()
	url, stop := startEddy(t, dataDir, s3url)
	fc, kc := fh.NewFromConfig(sdkConfig(url)), kinesis.NewFromConfig(sdkConfig(url))

	// DirectPut, GZIP, a 60 s interval: records stay buffered.
	_, err := fc.CreateDeliveryStream(ctx, &fh.CreateDeliveryStreamInput{
		DeliveryStreamName: aws.String("direct"),
		ExtendedS3DestinationConfiguration: &fhtypes.ExtendedS3DestinationConfiguration{
			BucketARN: aws.String("arn:aws:s3:::e2e-bucket"), RoleARN: aws.String("arn:aws:iam::000000000000:role/r"),
			Prefix: aws.String("direct/"), CompressionFormat: fhtypes.CompressionFormatGzip,
			BufferingHints: &fhtypes.BufferingHints{SizeInMBs: aws.Int32(5), IntervalInSeconds: aws.Int32(60)},
			ProcessingConfiguration: &fhtypes.ProcessingConfiguration{Enabled: aws.Bool(true),
				Processors: []fhtypes.Processor{{Type: fhtypes.ProcessorTypeAppendDelimiterToRecord}}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	in := &fh.PutRecordBatchInput{DeliveryStreamName: aws.String("direct")}
	for i := 0; i < 300; i++ {
		s := fmt.Sprintf("direct-%04d", i)
		want = append(want, s)
		in.Records = append(in.Records, fhtypes.Record{Data: []byte(s)})
	}
	out, err := fc.PutRecordBatch(ctx, in)
	if err != nil || aws.ToInt32(out.FailedPutCount) != 0 {
		t.Fatalf("put: %v %+v", err, out)
	}

	// A data stream feeding a KinesisStreamAsSource delivery stream.
	if _, err := kc.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String("src"), ShardCount: aws.Int32(2)}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "src ACTIVE", func() bool {
		d, err := kc.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String("src")})
		return err == nil && d.StreamDescriptionSummary.StreamStatus == ktypes.StreamStatusActive
	})
	_, err = fc.CreateDeliveryStream(ctx, &fh.CreateDeliveryStreamInput{
		DeliveryStreamName: aws.String("fromkds"), DeliveryStreamType: fhtypes.DeliveryStreamTypeKinesisStreamAsSource,
		KinesisStreamSourceConfiguration: &fhtypes.KinesisStreamSourceConfiguration{
			KinesisStreamARN: aws.String("arn:aws:kinesis:us-east-1:000000000000:stream/src"), RoleARN: aws.String("arn:aws:iam::000000000000:role/r")},
		ExtendedS3DestinationConfiguration: &fhtypes.ExtendedS3DestinationConfiguration{
			BucketARN: aws.String("arn:aws:s3:::e2e-bucket"), RoleARN: aws.String("arn:aws:iam::000000000000:role/r"), Prefix: aws.String("kds/"),
			BufferingHints: &fhtypes.BufferingHints{SizeInMBs: aws.Int32(1), IntervalInSeconds: aws.Int32(0)},
			ProcessingConfiguration: &fhtypes.ProcessingConfiguration{Enabled: aws.Bool(true),
				Processors: []fhtypes.Processor{{Type: fhtypes.ProcessorTypeAppendDelimiterToRecord}}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	kin := &kinesis.PutRecordsInput{StreamName: aws.String("src")}
	for i := 0; i < 100; i++ {
		kin.Records = append(kin.Records, ktypes.PutRecordsRequestEntry{Data: []byte(fmt.Sprintf("kds-%04d", i)), PartitionKey: aws.String(fmt.Sprint(i))})
	}
	if out, err := kc.PutRecords(ctx, kin); err != nil || aws.ToInt32(out.FailedRecordCount) != 0 {
		t.Fatalf("put records: %v", err)
	}
	kdsLines := func() int {
		n := 0
		for _, b := range objects(t, sc, "e2e-bucket", "kds/", false) {
			n += bytes.Count(b, []byte("\n"))
		}
		return n
	}
	waitFor(t, 20*time.Second, "the data stream's records in S3", func() bool { return kdsLines() >= 100 })

	m := metrics(t, url)
	if !strings.Contains(m, `eddy_firehose_incoming_records_total{account="000000000000",delivery_stream="direct",region="us-east-1"} 300`) {
		t.Fatalf("/metrics lacks the direct stream's incoming records:\n%s", m)
	}
	if len(objects(t, sc, "e2e-bucket", "direct/", true)) != 0 {
		t.Fatal("direct stream delivered before its 60 s interval")
	}

	// Restart with the DirectPut buffer full and undelivered.
	stop(syscall.SIGTERM)
	url, _ = startEddy(t, dataDir, s3url)
	fc = fh.NewFromConfig(sdkConfig(url))
	if _, err := fc.UpdateDestination(ctx, &fh.UpdateDestinationInput{DeliveryStreamName: aws.String("direct"),
		CurrentDeliveryStreamVersionId: aws.String("1"), DestinationId: aws.String("destinationId-000000000001"),
		ExtendedS3DestinationUpdate: &fhtypes.ExtendedS3DestinationUpdate{BufferingHints: &fhtypes.BufferingHints{IntervalInSeconds: aws.Int32(0)}}}); err != nil {
		t.Fatal(err)
	}
	var objs map[string][]byte
	waitFor(t, 20*time.Second, "the buffered records after the restart", func() bool {
		objs = objects(t, sc, "e2e-bucket", "direct/", true)
		return len(objs) > 0
	})
	var all []byte
	for k, b := range objs {
		if !strings.Contains(k, "/direct-2-") || !strings.HasSuffix(k, ".gz") {
			t.Errorf("key %s: want version 2 and .gz", k)
		}
		all = append(all, b...)
	}
	if string(all) != strings.Join(want, "\n")+"\n" {
		t.Fatalf("delivered after restart: %q…", all[:min(len(all), 80)])
	}
	if kdsLines() != 100 {
		t.Fatalf("the data stream's records were delivered again after the restart: %d lines", kdsLines())
	}
	if m := metrics(t, url); !strings.Contains(m, `eddy_firehose_delivery_to_s3_records_total{account="000000000000",delivery_stream="direct",region="us-east-1"} 300`) {
		t.Fatalf("/metrics after delivery:\n%s", m)
	}
}
