package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// Write prints rep: indented JSON when asJSON, else a table with one row
// per phase, a put→get latency line for the latency phase and the baseline
// ratio line.
func Write(w io.Writer, rep Report, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return fmt.Errorf("encode report: %w", err)
		}
		return nil
	}
	fmt.Fprintf(w, "endpoint %s, stream %s (%d shards), mode %s: %d producers × %d records × %d bytes; latency rate %d records/s\n",
		rep.Endpoint, rep.Stream, rep.Shards, rep.Mode, rep.Producers, rep.BatchSize, rep.RecordSize, rep.Rate)
	fmt.Fprintf(w, "host: %d CPUs, GOMAXPROCS %d, load average at start %s\n\n", rep.Host.CPUs, rep.Host.GOMAXPROCS, rep.Host.LoadAvg)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "phase\ttarget\tseconds\trecords\trecords/s\tMB/s\tcalls/s\tp50 ms\tp99 ms\tmax ms\terrors\tthrottles\tclient CPU s\t")
	for _, p := range rep.Phases {
		l := p.CallLatency
		fmt.Fprintf(tw, "%s\t%s\t%.2f\t%d\t%.0f\t%.2f\t%.1f\t%.3f\t%.3f\t%.3f\t%d\t%d\t%.2f\t\n",
			p.Phase, p.Target, p.Seconds, p.Records, p.RecordsPerSec, p.MBPerSec, p.CallsPerSec,
			l.P50, l.P99, l.Max, p.Errors, p.Throttles, p.ClientCPU)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	fmt.Fprintln(w, "(latencies are per API call: PutRecords in put, GetRecords in get, the producer's PutRecord(s) in latency)")
	for _, p := range rep.Phases {
		if p.Retries > 0 {
			fmt.Fprintf(w, "%s/%s: the SDK retried %d attempts: %v\n", p.Phase, p.Target, p.Retries, p.RetryCauses)
		}
	}
	for _, p := range rep.Phases {
		if p.EndToEnd == nil {
			continue
		}
		e := p.EndToEnd
		what, calls := "put→get", "polls"
		if strings.HasPrefix(p.Phase, "fanout") {
			what, calls = "put→delivered", "events"
		}
		fmt.Fprintf(w, "%s latency (%s %s, %.0f records/s, %d samples, %d %s): p50 %.3f ms  p90 %.3f ms  p99 %.3f ms  max %.3f ms\n",
			what, p.Phase, p.Target, p.RecordsPerSec, e.Count, p.ConsumerCalls, calls, e.P50, e.P90, e.P99, e.Max)
	}
	for _, p := range rep.Phases {
		if p.Records == 0 {
			continue
		}
		perRec := func(sec float64) float64 { return sec / float64(p.Records) * 1e6 }
		if p.ServerCPU > 0 {
			fmt.Fprintf(w, "%s/%s CPU per record: client %.2f µs, server %.2f µs\n", p.Phase, p.Target, perRec(p.ClientCPU), perRec(p.ServerCPU))
		} else if p.ClientCPU > 0 {
			fmt.Fprintf(w, "%s/%s CPU per record: client %.2f µs\n", p.Phase, p.Target, perRec(p.ClientCPU))
		}
	}
	if err := writeRate(w, rep); err != nil {
		return err
	}
	if rep.AggregationRatio != nil {
		fmt.Fprintf(w, "ratio = producer-agg/producer-raw user records/s = %.2f\n", *rep.AggregationRatio)
	}
	if rep.Ratio != nil {
		fmt.Fprintf(w, "ratio = endpoint/baseline put records/s = %.3f (%d alternating rounds)\n", *rep.Ratio, rep.Rounds)
	}
	return nil
}
