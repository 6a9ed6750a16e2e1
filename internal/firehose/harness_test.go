package firehose_test

import (
	"context"
	"fmt"
	"github.com/eddy-streams/eddy/internal/awsclient"
	"go/build"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	fh "github.com/aws/aws-sdk-go-v2/service/firehose"
	fhtypes "github.com/aws/aws-sdk-go-v2/service/firehose/types"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/eddy-streams/eddy/internal/awsproto"
	"github.com/eddy-streams/eddy/internal/firehose"
	"github.com/eddy-streams/eddy/internal/firehose/s3dest"
	"github.com/eddy-streams/eddy/internal/gateway"
	ks "github.com/eddy-streams/eddy/internal/kinesis"
	"github.com/eddy-streams/eddy/internal/storage"
	"github.com/eddy-streams/eddy/internal/storage/memstore"
)

const (
	s3Key    = "eddytestkey"
	s3Secret = "eddytestsecret"
)

func quietLogger(t testing.TB) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(tlogWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

type tlogWriter struct{ t testing.TB }

func (w tlogWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// versity is a versitygw process serving a posix directory on loopback.
type versity struct {
	t    testing.TB
	bin  string
	dir  string
	addr string
	cmd  *exec.Cmd
	URL  string
	// keepAlive starts versitygw with --keep-alive (its default closes
	// every connection after one request); the benchmarks use it.
	keepAlive bool
}

func versitygwBinary(t testing.TB) string {
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p
	}
	gopath := os.Getenv("GOPATH")
	if gopath == "" {
		gopath = build.Default.GOPATH
	}
	p := filepath.Join(strings.Split(gopath, string(os.PathListSeparator))[0], "bin", "versitygw")
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("versitygw is not installed (run scripts/setup.d/20-versitygw.sh): %v", err)
	}
	return p
}

func freeAddr(t testing.TB) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// startVersity starts versitygw with a fresh posix root and the given buckets.
func startVersity(t testing.TB, buckets ...string) *versity {
	t.Helper()
	return startVersityWith(t, false, buckets...)
}

// startVersityWith is startVersity, with HTTP keep-alive when asked.
func startVersityWith(t testing.TB, keepAlive bool, buckets ...string) *versity {
	t.Helper()
	v := &versity{t: t, bin: versitygwBinary(t), dir: t.TempDir(), addr: freeAddr(t), keepAlive: keepAlive}
	v.URL = "http://" + v.addr
	v.Start()
	t.Cleanup(v.Stop)
	c := v.Client()
	for _, b := range buckets {
		if _, err := c.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(b)}); err != nil {
			t.Fatalf("create bucket %s: %v", b, err)
		}
	}
	return v
}

// Start (re)starts the process on the same address and directory.
func (v *versity) Start() {
	v.t.Helper()
	args := []string{"--access", s3Key, "--secret", s3Secret, "--port", v.addr, "--quiet"}
	if v.keepAlive {
		args = append(args, "--keep-alive")
	}
	cmd := exec.Command(v.bin, append(args, "posix", v.dir)...)
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	cmd.SysProcAttr = childAttr() // never outlive the test binary
	if err := cmd.Start(); err != nil {
		v.t.Fatalf("start versitygw: %v", err)
	}
	v.cmd = cmd
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.DialTimeout("tcp", v.addr, 200*time.Millisecond); err == nil {
			c.Close()
			return
		}
		time.Sleep(20 * time.Millisecond) // polling a port until it opens; no state to wait on otherwise
	}
	v.t.Fatalf("versitygw did not open %s", v.addr)
}

// Stop kills the process.
func (v *versity) Stop() {
	if v.cmd == nil {
		return
	}
	_ = v.cmd.Process.Kill()
	_ = v.cmd.Wait()
	v.cmd = nil
}

func (v *versity) Client() *s3.Client {
	return s3dest.NewUploader(s3dest.Endpoint{URL: v.URL, AccessKey: s3Key, SecretKey: s3Secret}).Client()
}

// object is one delivered object.
type object struct {
	Key             string
	Body            []byte
	ContentEncoding string
}

// listObjects returns every object under prefix, sorted by key.
func (v *versity) listObjects(t testing.TB, bucket, prefix string) []object {
	t.Helper()
	c := v.Client()
	ctx := context.Background()
	var out []object
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("list objects: %v", err)
		}
		for _, o := range page.Contents {
			g, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: o.Key})
			if err != nil {
				t.Fatalf("get %s: %v", *o.Key, err)
			}
			b, err := io.ReadAll(g.Body)
			g.Body.Close()
			if err != nil {
				t.Fatalf("read %s: %v", *o.Key, err)
			}
			out = append(out, object{Key: *o.Key, Body: b, ContentEncoding: aws.ToString(g.ContentEncoding)})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

// server is an in-process Eddy with Data Streams and Firehose behind the
// real gateway.
type server struct {
	t       testing.TB
	backend storage.Backend
	fh      *firehose.Service
	kin     *ks.Service
	http    *httptest.Server
	opts    firehose.Options
}

type serverOpt func(*firehose.Options)

// startServer runs Eddy on backend (a fresh memstore when nil).
func startServer(t testing.TB, backend storage.Backend, s3url string, opts ...serverOpt) *server {
	t.Helper()
	if backend == nil {
		backend = memstore.New(nil)
	}
	srv := &server{t: t, backend: backend}
	kin, err := ks.New(ks.Options{Backend: backend, Logger: quietLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	srv.kin = kin
	mux := http.NewServeMux()
	srv.http = httptest.NewServer(mux)
	o := firehose.Options{
		Backend: backend, Logger: quietLogger(t), S3Endpoint: s3url, S3AccessKey: s3Key, S3SecretKey: s3Secret,
		Streams: kin, RetryBase: 50 * time.Millisecond, RetryMax: 500 * time.Millisecond,
		KinesisPollInterval: 50 * time.Millisecond,
	}
	for _, f := range opts {
		f(&o)
	}
	srv.opts = o
	srv.fh, err = firehose.New(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.fh.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	gw := gateway.New(gateway.Options{Auth: gateway.ScopeAuth("000000000000", "us-east-1"), Logger: quietLogger(t),
		Services: []awsproto.Service{kin, srv.fh}})
	gw.SetReady(true)
	mux.Handle("/", gw)
	t.Cleanup(srv.Close)
	return srv
}

// Close stops the server but leaves the backend open (a restart reuses it).
func (s *server) Close() {
	if s.http == nil {
		return
	}
	s.http.Close()
	s.fh.Close()
	s.kin.Close()
	s.http = nil
}

func (s *server) awsConfig() aws.Config {
	return aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
		BaseEndpoint: aws.String(s.http.URL),
		// No silent SDK retries: a retried PutRecordBatch whose first attempt
		// was stored duplicates records (at least once), which would blur the
		// exact-content checks; a failed attempt must fail the test instead.
		RetryMaxAttempts: 1,
		// Without this, aws/aws-sdk-go-v2#2737 fails ~1 in 500 fast loopback
		// calls with "use of closed network connection" under a 200.
		HTTPClient: awsclient.OwnBody{Next: &http.Client{}},
	}
}

func (s *server) Firehose() *fh.Client { return fh.NewFromConfig(s.awsConfig()) }
func (s *server) Kinesis() *kinesis.Client {
	return kinesis.NewFromConfig(s.awsConfig())
}

func (s *server) flush(name string) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.fh.Flush(ctx, "000000000000", "us-east-1", name); err != nil {
		s.t.Fatalf("flush %s: %v", name, err)
	}
}

// s3Stream creates a DirectPut stream with an ExtendedS3 destination.
func s3Stream(t testing.TB, c *fh.Client, name string, dest fhtypes.ExtendedS3DestinationConfiguration) {
	t.Helper()
	if dest.RoleARN == nil {
		dest.RoleARN = aws.String("arn:aws:iam::000000000000:role/firehose")
	}
	_, err := c.CreateDeliveryStream(context.Background(), &fh.CreateDeliveryStreamInput{
		DeliveryStreamName:                 aws.String(name),
		ExtendedS3DestinationConfiguration: &dest,
	})
	if err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
}

func putBatch(t testing.TB, c *fh.Client, name string, recs [][]byte) {
	t.Helper()
	in := &fh.PutRecordBatchInput{DeliveryStreamName: aws.String(name)}
	for _, r := range recs {
		in.Records = append(in.Records, fhtypes.Record{Data: r})
	}
	out, err := c.PutRecordBatch(context.Background(), in)
	if err != nil {
		t.Fatalf("put batch: %v", err)
	}
	if aws.ToInt32(out.FailedPutCount) != 0 {
		t.Fatalf("put batch: %d failed", aws.ToInt32(out.FailedPutCount))
	}
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func recs(prefix string, n, size int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		s := fmt.Sprintf("%s-%06d|", prefix, i)
		if len(s) < size {
			s += strings.Repeat("x", size-len(s))
		}
		out[i] = []byte(s)
	}
	return out
}

type firehoseOptions = firehose.Options

func decompressGzip(b []byte) ([]byte, error) { return s3dest.Decompress(s3dest.GZIP, b) }

func listInput(bucket, prefix string) *s3.ListObjectsV2Input {
	return &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)}
}
