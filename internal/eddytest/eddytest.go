// Package eddytest starts an in-process Eddy server for tests and builds AWS
// SDK clients pointed at it.
package eddytest

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/eddy-streams/eddy/internal/app"
	"github.com/eddy-streams/eddy/internal/awsclient"
	"github.com/eddy-streams/eddy/internal/config"
	"github.com/eddy-streams/eddy/internal/storage"
)

// Option changes the test server's config or start options.
type Option func(*config.Config, *app.Options)

// WithConfig edits the config.
func WithConfig(f func(*config.Config)) Option {
	return func(c *config.Config, _ *app.Options) { f(c) }
}

// WithDataDir makes the server durable in dir (default: a fresh temp dir).
func WithDataDir(dir string) Option {
	return func(c *config.Config, _ *app.Options) { c.DataDir = dir }
}

// WithBackend makes the server use be (e.g. a fault-injecting wrapper)
// instead of opening its data directory.
func WithBackend(be storage.Backend) Option {
	return func(_ *config.Config, o *app.Options) { o.Backend = be }
}

// WithClock injects a clock.
func WithClock(now func() time.Time) Option {
	return func(_ *config.Config, o *app.Options) { o.Now = now }
}

// Start runs a server on a free loopback port until the test ends. By
// default it stores data in t.TempDir() with durability "none".
func Start(t testing.TB, opts ...Option) *app.Server {
	t.Helper()
	cfg := config.Default()
	cfg.Addr = "127.0.0.1:0"
	cfg.DataDir = t.TempDir()
	cfg.Durability = "none"
	o := app.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if testing.Verbose() {
		o.Logger = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	if os.Getenv("EDDY_TEST_BACKEND") == "nats" {
		// the same tests on natsstore: an embedded single-node JetStream
		// in the data directory (docs/cluster.md)
		cfg.Cluster.NodeName = "test"
	}
	for _, f := range opts {
		f(&cfg, &o)
	}
	l, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		t.Fatal(err)
	}
	o.Listener = l
	srv, err := app.Start(cfg, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Errorf("closing eddy: %v", err)
		}
	})
	return srv
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) { w.t.Log(string(p)); return len(p), nil }

// AWSConfig is an SDK config for endpoint with static test credentials.
// accessKey may be "" for the default "AKIDEXAMPLE".
func AWSConfig(endpoint, region, accessKey string) aws.Config {
	if region == "" {
		region = "us-east-1"
	}
	if accessKey == "" {
		accessKey = "AKIDEXAMPLE"
	}
	return aws.Config{
		Region:       region,
		Credentials:  credentials.NewStaticCredentialsProvider(accessKey, "secret", ""),
		BaseEndpoint: aws.String(endpoint),
		HTTPClient:   awsclient.OwnBody{Next: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}},
	}
}

// Kinesis returns a Data Streams client for srv.
func Kinesis(srv *app.Server) *kinesis.Client {
	return kinesis.NewFromConfig(AWSConfig(srv.URL(), "", ""))
}

// WaitActive polls DescribeStreamSummary until the stream is ACTIVE.
func WaitActive(t testing.TB, c *kinesis.Client, name string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		out, err := c.DescribeStreamSummary(context.Background(), &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(name)})
		if err == nil && out.StreamDescriptionSummary.StreamStatus == "ACTIVE" {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("stream %s not ACTIVE in time", name)
}
