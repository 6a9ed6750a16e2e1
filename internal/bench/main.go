package bench

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Main is the `eddy bench` subcommand: it parses args, runs, and prints the
// report on stdout (progress on stderr). SIGINT/SIGTERM cancel the run.
func Main(args []string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return run(ctx, args, os.Stdout, os.Stderr)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("eddy bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o Options
	var quiet bool
	fs.StringVar(&o.Endpoint, "endpoint", "http://127.0.0.1:4567", "Kinesis endpoint URL")
	fs.StringVar(&o.Region, "region", "us-east-1", "signing region")
	fs.StringVar(&o.Mode, "mode", "put", "phases to run: "+strings.Join(ModeNames(), ", ")+" (get runs put first; all = put, get, latency)")
	fs.StringVar(&o.Stream, "stream", "eddy-bench", "stream name; created if missing and then deleted at the end unless --keep (a stream that already existed is never deleted)")
	fs.IntVar(&o.Shards, "shards", 4, "shard count when creating the stream")
	fs.IntVar(&o.Producers, "producers", 8, "concurrent producers in the put phase")
	fs.IntVar(&o.BatchSize, "batch", 500, "records per PutRecords call (1-500)")
	fs.IntVar(&o.RecordSize, "record-size", 100, "bytes of data per record (>= 16)")
	fs.DurationVar(&o.Duration, "duration", 10*time.Second, "length of the put and latency phases")
	fs.Int64Var(&o.TotalRecords, "records", 0, "if > 0, the put phase sends this many records instead of running for --duration")
	fs.IntVar(&o.Rate, "rate", 1000, "records/s written in the latency phase")
	fs.BoolVar(&o.Baseline, "baseline", false, "also run the put phase against an in-process no-op endpoint and print the ratio")
	fs.StringVar(&o.BaselineEndpoint, "baseline-endpoint", "", "use this endpoint (e.g. a server with --durability none) as the baseline instead of the in-process no-op one")
	fs.StringVar(&o.ReadEndpoint, "read-endpoint", "", "latency phase: consumers read through this endpoint (another node of a cluster) while the producer writes to --endpoint")
	fs.IntVar(&o.Rounds, "rounds", 1, "with --baseline: alternate baseline and endpoint put rounds this many times, each --duration/rounds long")
	fs.IntVar(&o.ServerPID, "server-pid", 0, "PID of a server on this machine: report its CPU time per phase (Linux /proc)")
	fs.BoolVar(&o.JSON, "json", false, "print the report as JSON")
	fs.BoolVar(&o.Keep, "keep", false, "keep the stream this run created")
	fs.BoolVar(&quiet, "quiet", false, "no progress messages on stderr")
	cpuprofile := fs.String("cpuprofile", "", "write the bench process's CPU profile to this file")
	subs := fs.String("subscribers", "0,5,20", "with --mode fanout: subscriber counts of the fanout-put phases, comma-separated (empty: the latency phase only)")
	rate := fs.String("rate-bytes-per-shard", "", "with --mode fanout: run the fixed-rate fan-out phases instead, producing this many bytes of record data per second into every shard (e.g. 1MiB); --subscribers then defaults to 0,20")
	protos := fs.String("subscribe-proto", "h1", "fixed-rate fan-out: the subscribers' protocols, comma-separated, one phase per protocol and subscriber count: h1, h2c (HTTP/2 with prior knowledge), h1tls, h2 (TLS; need --tls-endpoint)")
	fs.StringVar(&o.SubscribeConns, "subscribe-conns", "consumer", "fixed-rate fan-out over HTTP/2: consumer (a consumer's subscriptions share one connection, as in one SDK client) or subscription (one connection each)")
	fs.DurationVar(&o.PutInterval, "put-interval", 0, "fixed-rate fan-out: each shard's producer sends what is due once per interval (0: as soon as a record is due)")
	fs.StringVar(&o.H2Client, "h2-client", "lean", "fixed-rate fan-out over HTTP/2: lean (a minimal client with the Node.js SDK's flow control: 64 KiB windows returned at half) or go (Go's transport, which returns window every 4 KiB)")
	h2win := fs.String("h2-window", "65535", "fixed-rate fan-out, lean HTTP/2 client: receive window per stream and per connection, returned at half (65535 as the Node.js SDK; 1MiB as the Java SDK)")
	fs.StringVar(&o.TLSEndpoint, "tls-endpoint", "", "an https:// Kinesis endpoint (a server with --tls-cert) for the h1tls and h2 subscribers; its certificate is not verified")
	fs.IntVar(&o.TLSServerPID, "tls-server-pid", 0, "PID of the --tls-endpoint server: report its CPU time per phase (Linux /proc)")
	anKeys := fs.Int("keys", 20, "with --mode analytics: distinct keys of the tumbling, sliding and join scenarios")
	anBigKeys := fs.Int("big-keys", 1_000_000, "with --mode analytics: distinct keys of the memory scenario (0 skips it)")
	anScenarios := fs.String("scenarios", "", "with --mode analytics: comma-separated subset of tumbling,sliding,join,keys")
	noopFunction := fs.Bool("noop-function", false, "run as the no-op Lambda function of --mode lambda (started by the server, not by hand)")
	vStreams := fs.Int("video-streams", 100, "with --mode video: concurrent PutMedia streams")
	vBitrate := fs.Int("video-bitrate", 2000000, "with --mode video: bits/s per stream")
	serveNoop := fs.String("serve-noop", "", "only serve the no-op endpoint on this address until interrupted (an out-of-process baseline for --baseline-endpoint)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("bench: unexpected arguments %q", fs.Args())
	}
	counts, err := parseCounts(*subs)
	if err != nil {
		return fmt.Errorf("bench: --subscribers: %w", err)
	}
	o.Subscribers = counts
	if *noopFunction {
		NoopFunction()
		return nil
	}
	if *rate != "" {
		if o.RateBytesPerShard, err = parseSize(*rate); err != nil {
			return fmt.Errorf("bench: --rate-bytes-per-shard: %w", err)
		}
		subsSet := false
		fs.Visit(func(f *flag.Flag) { subsSet = subsSet || f.Name == "subscribers" })
		if !subsSet {
			o.Subscribers = []int{0, 20}
		}
	}
	w, err := parseSize(*h2win)
	if err != nil || w > 1<<31-1 {
		return fmt.Errorf("bench: --h2-window %q: a size up to 2 GiB", *h2win)
	}
	o.H2Window = int(w)
	for p := range strings.SplitSeq(*protos, ",") {
		if p = strings.TrimSpace(p); p != "" {
			o.SubscribeProtos = append(o.SubscribeProtos, p)
		}
	}
	if *serveNoop != "" {
		n, err := NoopServerAt(*serveNoop)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "no-op Kinesis endpoint at %s\n", n.URL)
		<-ctx.Done()
		return n.Close()
	}
	if o.Mode == "analytics" {
		ao := AnalyticsOptions{Records: int(o.TotalRecords), Keys: *anKeys, BigKeys: *anBigKeys, Scenarios: *anScenarios}
		if !quiet {
			ao.Logger = slog.New(slog.NewTextHandler(stderr, nil))
		}
		if *cpuprofile != "" {
			f, err := os.Create(*cpuprofile)
			if err != nil {
				return fmt.Errorf("bench: %w", err)
			}
			defer f.Close()
			if err := pprof.StartCPUProfile(f); err != nil {
				return fmt.Errorf("bench: %w", err)
			}
			defer pprof.StopCPUProfile()
		}
		_, err := RunAnalytics(ctx, ao, stdout, o.JSON)
		return err
	}
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			return fmt.Errorf("bench: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("bench: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	if !quiet {
		o.Logger = slog.New(slog.NewTextHandler(stderr, nil))
	}
	if o.Mode == "video" {
		vr, err := RunVideo(ctx, VideoOptions{Endpoint: o.Endpoint, Region: o.Region, Streams: *vStreams, Bitrate: *vBitrate, Duration: o.Duration, Keep: o.Keep})
		if err != nil {
			return err
		}
		return WriteVideo(stdout, vr, o.JSON)
	}
	rep, err := Run(ctx, o)
	if len(rep.Phases) > 0 {
		if werr := Write(stdout, rep, o.JSON); werr != nil && err == nil {
			err = werr
		}
	}
	return err
}

// parseCounts parses a comma-separated list of counts >= 0.
func parseCounts(s string) ([]int, error) {
	out := []int{}
	for f := range strings.SplitSeq(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("%q is not a count", f)
		}
		out = append(out, n)
	}
	return out, nil
}
