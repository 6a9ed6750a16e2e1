// Command kclworker is the consumer process of the end-to-end failover test
// (e2e/kcl_failover_test.go): one pkg/consumer Worker with its lease table
// in Eddy's DynamoDB. For every user record it appends a line
//
//	<unix nanos> <shard id> <sequence number> <sub-sequence number> <data>
//
// to --out (one write per batch, before the checkpoint, so a record in the
// file was processed even if the process is killed right after). SIGTERM
// and SIGINT shut down gracefully (leases handed over).
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/eddy-streams/eddy/internal/awsclient"
	"github.com/eddy-streams/eddy/pkg/consumer"
)

func main() {
	endpoint := flag.String("endpoint", "http://127.0.0.1:4567", "Eddy endpoint")
	stream := flag.String("stream", "", "stream name")
	app := flag.String("app", "kclworker", "application (lease table) name")
	id := flag.String("id", "", "worker id")
	out := flag.String("out", "", "output file")
	failover := flag.Duration("failover", 4*time.Second, "lease failover time")
	taker := flag.Duration("taker", time.Second, "lease taker interval")
	sync := flag.Duration("sync", 2*time.Second, "shard sync interval")
	efo := flag.Bool("efo", false, "enhanced fan-out")
	flag.Parse()
	if err := run(*endpoint, *stream, *app, *id, *out, *failover, *taker, *sync, *efo); err != nil {
		fmt.Fprintln(os.Stderr, "kclworker:", err)
		os.Exit(1)
	}
}

func run(endpoint, stream, app, id, out string, failover, taker, syncEvery time.Duration, efo bool) error {
	f, err := os.OpenFile(out, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	cfg := aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
		BaseEndpoint: aws.String(endpoint),
		HTTPClient:   awsclient.OwnBody{Next: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 32}}},
	}
	store := consumer.NewDynamoStore(dynamodb.NewFromConfig(cfg), app)
	store.PollInterval = 50 * time.Millisecond
	var mu sync.Mutex
	w, err := consumer.New(consumer.Config{
		StreamName: stream, ApplicationName: app, WorkerID: id,
		Kinesis: kinesis.NewFromConfig(cfg), Leases: store, EnhancedFanOut: efo,
		Processor:    func(shard string) consumer.RecordProcessor { return &proc{f: f, mu: &mu, shard: shard} },
		FailoverTime: failover, TakerInterval: taker, ShardSyncInterval: syncEvery, IdleTimeBetweenReads: 100 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo})),
	})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-sigs
		sctx, scancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer scancel()
		w.Shutdown(sctx)
		cancel()
	}()
	return w.Run(ctx)
}

type proc struct {
	f     *os.File
	mu    *sync.Mutex
	shard string
}

func (p *proc) Initialize(context.Context, consumer.InitializationInput) {}

func (p *proc) ProcessRecords(ctx context.Context, in consumer.ProcessRecordsInput) {
	var b strings.Builder
	now := time.Now().UnixNano()
	for _, r := range in.Records {
		fmt.Fprintf(&b, "%d %s %s %d %s\n", now, p.shard, r.SequenceNumber, r.SubSequenceNumber, r.Data)
	}
	p.mu.Lock()
	_, err := p.f.WriteString(b.String())
	p.mu.Unlock()
	if err != nil {
		fmt.Fprintln(os.Stderr, "write:", err)
		os.Exit(1)
	}
	in.Checkpointer.Checkpoint(ctx)
}

func (p *proc) LeaseLost(context.Context, consumer.LeaseLostInput) {}

func (p *proc) ShardEnded(ctx context.Context, in consumer.ShardEndedInput) {
	in.Checkpointer.Checkpoint(ctx)
}

func (p *proc) ShutdownRequested(ctx context.Context, in consumer.ShutdownRequestedInput) {
	in.Checkpointer.Checkpoint(ctx)
}
