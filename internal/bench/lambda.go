package bench

// --mode lambda: Lambda event source mappings on the server under test.
// The function is this very binary (`eddy bench --noop-function`, an
// aws-lambda-go handler that decodes events.KinesisEvent and does nothing
// else), installed as a local-directory function, so the bench must run on
// the server's machine. The function reports each invocation over a
// loopback TCP connection to the bench: the record count and, for the
// latency phase, each record's put timestamp.
//
//   - lambda-100, lambda-10000: --records records (default 200,000) are put
//     first; then a TRIM_HORIZON mapping with BatchSize 100 or 10,000 is
//     created and timed until the function has seen every record.
//   - lambda-latency: a LATEST mapping (BatchSize 100, window 0); records
//     are put at --rate for --duration; put → invocation latency per record.

import (
	"bufio"
	"context"
	"encoding/binary"

	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/events"
	lambdart "github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	ktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	lambdasdk "github.com/aws/aws-sdk-go-v2/service/lambda"
	ltypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

func init() {
	phases["lambda-100"] = func(ctx context.Context, t *target) (PhaseResult, error) { return runLambdaThroughput(ctx, t, 100) }
	phases["lambda-10000"] = func(ctx context.Context, t *target) (PhaseResult, error) { return runLambdaThroughput(ctx, t, 10000) }
	phases["lambda-latency"] = runLambdaLatency
	modes["lambda"] = []string{"lambda-100", "lambda-10000", "lambda-latency"}
}

// NoopFunction serves the bench's no-op Lambda function (the Runtime API
// client is aws-lambda-go's lambda.Start); it never returns.
func NoopFunction() {
	conn, err := net.Dial("tcp", os.Getenv("EDDY_BENCH_REPORT"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "noop function:", err)
		os.Exit(1)
	}
	w := bufio.NewWriter(conn)
	stamps := os.Getenv("EDDY_BENCH_STAMPS") != ""
	var mu sync.Mutex
	lambdart.Start(func(ev events.KinesisEvent) error {
		mu.Lock()
		defer mu.Unlock()
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], uint64(len(ev.Records)))
		w.Write(b[:])
		if stamps {
			for _, r := range ev.Records {
				var ts uint64
				if len(r.Kinesis.Data) >= 8 {
					ts = binary.LittleEndian.Uint64(r.Kinesis.Data)
				}
				binary.LittleEndian.PutUint64(b[:], ts)
				w.Write(b[:])
			}
		}
		return w.Flush()
	})
}

// reports collects what the function processes send.
type reports struct {
	ln     net.Listener
	seen   atomic.Int64
	stamps bool
	mu     sync.Mutex
	hist   Histogram
	wg     sync.WaitGroup
}

func listenReports(stamps bool) (*reports, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r := &reports{ln: ln, stamps: stamps}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			r.wg.Add(1)
			go r.read(c)
		}
	}()
	return r, nil
}

func (r *reports) read(c net.Conn) {
	defer r.wg.Done()
	defer c.Close()
	br := bufio.NewReader(c)
	var b [8]byte
	for {
		if _, err := io.ReadFull(br, b[:]); err != nil {
			return
		}
		n := int64(binary.LittleEndian.Uint64(b[:]))
		if r.stamps {
			now := time.Now().UnixNano()
			r.mu.Lock()
			for i := int64(0); i < n; i++ {
				if _, err := io.ReadFull(br, b[:]); err != nil {
					r.mu.Unlock()
					return
				}
				r.hist.Record(time.Duration(now - int64(binary.LittleEndian.Uint64(b[:]))))
			}
			r.mu.Unlock()
		}
		r.seen.Add(n)
	}
}

func (r *reports) close() { r.ln.Close() }

// lambdaSetup creates the no-op function (once per phase) pointing its
// reports at rep.
func lambdaSetup(ctx context.Context, t *target, name string, rep *reports) (*lambdasdk.Client, func(), error) {
	lc := lambdasdk.New(lambdasdk.Options{Region: t.opts.Region, BaseEndpoint: aws.String(t.opts.Endpoint),
		Credentials: credentials.NewStaticCredentialsProvider("eddybench", "eddybench", "")})
	exe, err := os.Executable()
	if err != nil {
		return nil, nil, err
	}
	dir, err := os.MkdirTemp("", "eddy-bench-fn-")
	if err != nil {
		return nil, nil, err
	}
	script := fmt.Sprintf("#!/bin/sh\nexec '%s' bench --noop-function\n", exe)
	if err := os.WriteFile(filepath.Join(dir, "bootstrap"), []byte(script), 0o755); err != nil {
		return nil, nil, err
	}
	env := map[string]string{"EDDY_BENCH_REPORT": rep.ln.Addr().String()}
	if rep.stamps {
		env["EDDY_BENCH_STAMPS"] = "1"
	}
	lc.DeleteFunction(ctx, &lambdasdk.DeleteFunctionInput{FunctionName: aws.String(name)})
	_, err = lc.CreateFunction(ctx, &lambdasdk.CreateFunctionInput{FunctionName: aws.String(name), Runtime: ltypes.RuntimeProvidedal2023,
		Role: aws.String("arn:aws:iam::000000000000:role/eddy-bench"), Handler: aws.String("bootstrap"), Timeout: aws.Int32(60),
		Code: &ltypes.FunctionCode{S3Bucket: aws.String("eddy-local"), S3Key: aws.String(dir)}, Environment: &ltypes.Environment{Variables: env}})
	if err != nil {
		os.RemoveAll(dir)
		return nil, nil, fmt.Errorf("create function (is the endpoint an Eddy server on this machine?): %w", err)
	}
	cleanup := func() {
		c, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		lc.DeleteFunction(c, &lambdasdk.DeleteFunctionInput{FunctionName: aws.String(name)})
		os.RemoveAll(dir)
	}
	return lc, cleanup, nil
}

func streamARNOf(ctx context.Context, c *kinesis.Client, name string) (string, error) {
	out, err := c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(name)})
	if err != nil {
		return "", err
	}
	return aws.ToString(out.StreamDescriptionSummary.StreamARN), nil
}

// putStamped puts n records (or, with rate > 0, records at rate for d)
// whose first 8 bytes are the put time in Unix ns.
func putStamped(ctx context.Context, t *target, n int64, rate int, d time.Duration) (int64, error) {
	size := max(t.opts.RecordSize, 8)
	var sent atomic.Int64
	var firstErr error
	var mu sync.Mutex
	batch := func(k int) error {
		entries := make([]ktypes.PutRecordsRequestEntry, k)
		now := time.Now().UnixNano()
		for i := range entries {
			data := make([]byte, size)
			binary.LittleEndian.PutUint64(data, uint64(now))
			entries[i] = ktypes.PutRecordsRequestEntry{Data: data, PartitionKey: aws.String(fmt.Sprintf("pk-%d", (now+int64(i))%1024))}
		}
		out, err := t.client.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String(t.opts.Stream), Records: entries})
		if err != nil {
			return err
		}
		if f := aws.ToInt32(out.FailedRecordCount); f > 0 {
			return fmt.Errorf("%d records failed", f)
		}
		sent.Add(int64(k))
		return nil
	}
	if rate > 0 {
		// one record every 1/rate, in small bursts each millisecond
		start := time.Now()
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		var due int64
		for time.Since(start) < d {
			select {
			case <-ctx.Done():
				return sent.Load(), ctx.Err()
			case <-tick.C:
			}
			due = int64(time.Since(start).Seconds() * float64(rate))
			if k := due - sent.Load(); k > 0 {
				if err := batch(int(min(k, 500))); err != nil {
					return sent.Load(), err
				}
			}
		}
		return sent.Load(), nil
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for p := 0; p < t.opts.Producers; p++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				k := min(int64(t.opts.BatchSize), n-next.Add(int64(t.opts.BatchSize))+int64(t.opts.BatchSize))
				if k <= 0 || ctx.Err() != nil {
					return
				}
				if err := batch(int(k)); err != nil {
					mu.Lock()
					firstErr = errors.Join(firstErr, err)
					mu.Unlock()
					return
				}
			}
		}()
	}
	wg.Wait()
	return sent.Load(), firstErr
}

func createMapping(ctx context.Context, lc *lambdasdk.Client, fn, arn string, batch int32, pos ltypes.EventSourcePosition) (string, error) {
	m, err := lc.CreateEventSourceMapping(ctx, &lambdasdk.CreateEventSourceMappingInput{FunctionName: aws.String(fn), EventSourceArn: aws.String(arn),
		StartingPosition: pos, BatchSize: aws.Int32(batch), MaximumBatchingWindowInSeconds: aws.Int32(0)})
	if err != nil {
		return "", err
	}
	return aws.ToString(m.UUID), nil
}

func runLambdaThroughput(ctx context.Context, t *target, batchSize int32) (PhaseResult, error) {
	var res PhaseResult
	n := t.opts.TotalRecords
	if n <= 0 {
		n = 200000
	}
	name := fmt.Sprintf("%s-%d", t.opts.Stream, batchSize)
	rep, err := listenReports(false)
	if err != nil {
		return res, err
	}
	defer rep.close()
	lc, cleanup, err := lambdaSetup(ctx, t, "eddy-bench-noop", rep)
	if err != nil {
		return res, err
	}
	defer cleanup()
	// a fresh stream per phase, so TRIM_HORIZON sees exactly these records
	if _, _, err := ensureStream(ctx, t.client, name, t.opts.Shards, t.opts.Logger); err != nil {
		return res, err
	}
	defer deleteStream(context.WithoutCancel(ctx), t.client, name)
	tt := *t
	tt.opts.Stream = name
	t.opts.Logger.Info("filling the stream", "records", n)
	sent, err := putStamped(ctx, &tt, n, 0, 0)
	if err != nil {
		return res, err
	}
	arn, err := streamARNOf(ctx, t.client, name)
	if err != nil {
		return res, err
	}
	start := time.Now()
	uuid, err := createMapping(ctx, lc, "eddy-bench-noop", arn, batchSize, ltypes.EventSourcePositionTrimHorizon)
	if err != nil {
		return res, err
	}
	defer lc.DeleteEventSourceMapping(context.WithoutCancel(ctx), &lambdasdk.DeleteEventSourceMappingInput{UUID: aws.String(uuid)})
	for rep.seen.Load() < sent {
		if err := pause(ctx, time.Millisecond); err != nil {
			return res, err
		}
		if time.Since(start) > 5*time.Minute {
			return res, fmt.Errorf("the function saw %d of %d records in 5 minutes", rep.seen.Load(), sent)
		}
	}
	elapsed := time.Since(start)
	res.Records = rep.seen.Load()
	res.Bytes = res.Records * int64(max(t.opts.RecordSize, 8))
	rates(&res, elapsed)
	return res, nil
}

func runLambdaLatency(ctx context.Context, t *target) (PhaseResult, error) {
	var res PhaseResult
	rep, err := listenReports(true)
	if err != nil {
		return res, err
	}
	defer rep.close()
	lc, cleanup, err := lambdaSetup(ctx, t, "eddy-bench-latency", rep)
	if err != nil {
		return res, err
	}
	defer cleanup()
	arn, err := streamARNOf(ctx, t.client, t.opts.Stream)
	if err != nil {
		return res, err
	}
	uuid, err := createMapping(ctx, lc, "eddy-bench-latency", arn, 100, ltypes.EventSourcePositionLatest)
	if err != nil {
		return res, err
	}
	defer lc.DeleteEventSourceMapping(context.WithoutCancel(ctx), &lambdasdk.DeleteEventSourceMappingInput{UUID: aws.String(uuid)})
	// warm the function processes (one per shard) before measuring
	if _, err := putStamped(ctx, t, 0, t.opts.Rate, 2*time.Second); err != nil {
		return res, err
	}
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		if err := pause(ctx, 10*time.Millisecond); err != nil {
			return res, err
		}
	}
	rep.mu.Lock()
	rep.hist = Histogram{}
	rep.mu.Unlock()
	base := rep.seen.Load()
	start := time.Now()
	sent, err := putStamped(ctx, t, 0, t.opts.Rate, t.opts.Duration)
	if err != nil {
		return res, err
	}
	for deadline := time.Now().Add(30 * time.Second); rep.seen.Load()-base < sent && time.Now().Before(deadline); {
		if err := pause(ctx, time.Millisecond); err != nil {
			return res, err
		}
	}
	elapsed := time.Since(start)
	rep.mu.Lock()
	l := rep.hist.Summary()
	rep.mu.Unlock()
	res.EndToEnd = &l
	res.Records = rep.seen.Load() - base
	rates(&res, elapsed)
	if res.Records < sent {
		return res, fmt.Errorf("the function saw %d of %d records", res.Records, sent)
	}
	return res, nil
}
