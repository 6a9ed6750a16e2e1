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
	if *serveNoop != "" {
		n, err := NoopServerAt(*serveNoop)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "no-op Kinesis endpoint at %s\n", n.URL)
		<-ctx.Done()
		return n.Close()
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
