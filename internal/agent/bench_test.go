package agent

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/eddy-streams/eddy/internal/agent/send"
	"github.com/eddy-streams/eddy/internal/eddytest"
)

type noopSender struct{}

func (noopSender) Send(context.Context, []send.Entry) (send.Result, error) { return send.Result{}, nil }

func benchLog(b *testing.B, n int) (string, int64) {
	b.Helper()
	dir := b.TempDir()
	path := filepath.Join(dir, "access.log")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	for i := 0; i < n; i++ {
		fmt.Fprintf(w, `10.%d.%d.%d - - [25/Nov/2026:19:%02d:%02d +0000] "GET /shop/item/%d?ref=home HTTP/1.1" 200 %d "https://example.com/shop" "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"`+"\n",
			i%200, (i/200)%250, i%250, (i/60)%60, i%60, i, 512+i%4096)
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	fi, _ := f.Stat()
	f.Close()
	return path, fi.Size()
}

// benchAgent ships a whole file and reports lines/s and MB/s (of file
// bytes) from start to the last acknowledged record.
func benchAgent(b *testing.B, n int, endpoint string, sender send.Sender, extra string) {
	path, size := benchLog(b, n)
	b.SetBytes(size)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		dir := b.TempDir()
		doc := fmt.Sprintf(`{"checkpointFile": %q, "kinesis.endpoint": %q, "kinesis.region": "us-east-1",
			"awsAccessKeyId": "AKIDEXAMPLE", "awsSecretAccessKey": "secret",
			"flows": [{"filePattern": %q, "kinesisStream": "bench", "initialPosition": "START_OF_FILE",
			"minTimeBetweenFilePollsMillis": 1, "maxBufferAgeMillis": 1000 %s}]}`,
			filepath.Join(dir, "cp"), endpoint, path, extra)
		cfg, err := ParseConfig([]byte(doc))
		if err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		opt := Options{Logger: quietLog()}
		if sender != nil {
			opt.NewSender = func(context.Context, Flow) (send.Sender, error) { return sender, nil }
		}
		a, err := New(ctx, cfg, opt)
		if err != nil {
			b.Fatal(err)
		}
		done := make(chan error, 1)
		b.StartTimer()
		go func() { done <- a.Run(ctx) }()
		st := a.flows[0].stats
		for st.RecordsSent.Load() < int64(n) {
			time.Sleep(200 * time.Microsecond)
		}
		b.StopTimer()
		b.ReportMetric(float64(st.CheckpointWrites.Load()), "checkpoints")
		cancel()
		if err := <-done; err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "lines/s")
}

const logToJSON = `,"dataProcessingOptions":[{"optionName":"LOGTOJSON","logFormat":"COMBINEDAPACHELOG"}]`

// Agent CPU alone: tail, convert, batch, partition keys, checkpoints; the
// sender accepts everything at once.
func BenchmarkPipelinePlain(b *testing.B)     { benchAgent(b, 200000, "", noopSender{}, "") }
func BenchmarkPipelineLogToJSON(b *testing.B) { benchAgent(b, 200000, "", noopSender{}, logToJSON) }

// End to end into an in-process Eddy server (durability none, 4 shards),
// through the AWS SDK and HTTP on loopback; server and agent share the CPUs.
func benchEddy(b *testing.B, extra string) {
	srv := eddytest.Start(b)
	kc := eddytest.Kinesis(srv)
	if _, err := kc.CreateStream(context.Background(), &kinesis.CreateStreamInput{StreamName: aws.String("bench"), ShardCount: aws.Int32(4)}); err != nil {
		b.Fatal(err)
	}
	eddytest.WaitActive(b, kc, "bench")
	benchAgent(b, 100000, srv.URL(), nil, extra)
}

func BenchmarkEndToEndEddyPlain(b *testing.B)     { benchEddy(b, "") }
func BenchmarkEndToEndEddyLogToJSON(b *testing.B) { benchEddy(b, logToJSON) }
