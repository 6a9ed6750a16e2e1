package agent

import (
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"

	"github.com/eddy-streams/eddy/internal/agent/tail"
	"github.com/eddy-streams/eddy/internal/promtext"
	"github.com/prometheus/client_golang/prometheus"
)

// FlowStats are one flow's counters and gauges.
type FlowStats struct {
	Tail               tail.Stats
	RecordsParsed      atomic.Int64
	RecordsUnparsed    atomic.Int64
	RecordsSkipped     atomic.Int64
	RecordSendAttempts atomic.Int64
	RecordSendErrors   atomic.Int64
	RecordsSent        atomic.Int64
	BytesSent          atomic.Int64
	BatchesSent        atomic.Int64
	ServiceErrors      atomic.Int64
	CheckpointWrites   atomic.Int64
	CheckpointErrors   atomic.Int64
	BytesBehind        atomic.Int64
	FilesBehind        atomic.Int64
}

type metric struct {
	name, help, kind string
	value            func(*FlowStats) int64
}

// metrics lists what /metrics exposes per flow and what the status log
// line reports.
var metrics = []metric{
	{"eddy_agent_lines_read_total", "Lines read from files.", "counter", func(s *FlowStats) int64 { return s.Tail.Lines.Load() }},
	{"eddy_agent_file_bytes_read_total", "Bytes read from files.", "counter", func(s *FlowStats) int64 { return s.Tail.Bytes.Load() }},
	{"eddy_agent_records_parsed_total", "Records converted by the converter chain.", "counter", func(s *FlowStats) int64 { return s.RecordsParsed.Load() }},
	{"eddy_agent_records_unparsed_total", "Records a converter could not parse (sent raw or skipped).", "counter", func(s *FlowStats) int64 { return s.RecordsUnparsed.Load() }},
	{"eddy_agent_records_skipped_total", "Unparsed records skipped (onParseError SKIP).", "counter", func(s *FlowStats) int64 { return s.RecordsSkipped.Load() }},
	{"eddy_agent_records_truncated_total", "Records truncated to the service limit.", "counter", func(s *FlowStats) int64 { return s.Tail.Truncated.Load() }},
	{"eddy_agent_records_split_total", "Record pieces cut at the service limit.", "counter", func(s *FlowStats) int64 { return s.Tail.Split.Load() }},
	{"eddy_agent_header_lines_skipped_total", "Header lines skipped (skipHeaderLines).", "counter", func(s *FlowStats) int64 { return s.Tail.HeadersSkipped.Load() }},
	{"eddy_agent_record_send_attempts_total", "Records put in a send call, retries included.", "counter", func(s *FlowStats) int64 { return s.RecordSendAttempts.Load() }},
	{"eddy_agent_record_send_errors_total", "Records rejected in a partially failed call.", "counter", func(s *FlowStats) int64 { return s.RecordSendErrors.Load() }},
	{"eddy_agent_service_errors_total", "Send calls that failed as a whole.", "counter", func(s *FlowStats) int64 { return s.ServiceErrors.Load() }},
	{"eddy_agent_records_sent_total", "Records acknowledged by the destination.", "counter", func(s *FlowStats) int64 { return s.RecordsSent.Load() }},
	{"eddy_agent_sent_bytes_total", "Bytes (data and partition keys) acknowledged.", "counter", func(s *FlowStats) int64 { return s.BytesSent.Load() }},
	{"eddy_agent_batches_sent_total", "Batches fully acknowledged.", "counter", func(s *FlowStats) int64 { return s.BatchesSent.Load() }},
	{"eddy_agent_checkpoint_writes_total", "Checkpoint writes.", "counter", func(s *FlowStats) int64 { return s.CheckpointWrites.Load() }},
	{"eddy_agent_checkpoint_errors_total", "Failed checkpoint writes.", "counter", func(s *FlowStats) int64 { return s.CheckpointErrors.Load() }},
	{"eddy_agent_file_rotations_total", "Files let go after rotation.", "counter", func(s *FlowStats) int64 { return s.Tail.Rotations.Load() }},
	{"eddy_agent_copytruncates_total", "Truncations resolved by reading the copy.", "counter", func(s *FlowStats) int64 { return s.Tail.Copytruncates.Load() }},
	{"eddy_agent_truncations_without_copy_total", "Truncations with no copy found (lines may be missing).", "counter", func(s *FlowStats) int64 { return s.Tail.TruncatedNoCopy.Load() }},
	{"eddy_agent_behind_bytes", "Bytes in the files not read yet.", "gauge", func(s *FlowStats) int64 { return s.BytesBehind.Load() }},
	{"eddy_agent_behind_files", "Files waiting to be read.", "gauge", func(s *FlowStats) int64 { return s.FilesBehind.Load() }},
}

// WriteMetrics writes the Prometheus text exposition of every flow.
func (a *Agent) WriteMetrics(w io.Writer) error {
	reg := prometheus.NewRegistry()
	if err := reg.Register(flowCollector{a}); err != nil {
		return fmt.Errorf("agent metrics: %w", err)
	}
	return promtext.Write(w, reg)
}

// flowCollector exposes every flow's FlowStats, labelled by flow and
// destination (both from the agent's own configuration).
type flowCollector struct{ a *Agent }

var flowLabels = []string{"flow", "destination"}

var metricDescs = func() []*prometheus.Desc {
	d := make([]*prometheus.Desc, len(metrics))
	for i, m := range metrics {
		d[i] = prometheus.NewDesc(m.name, m.help, flowLabels, nil)
	}
	return d
}()

func (c flowCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range metricDescs {
		ch <- d
	}
}

func (c flowCollector) Collect(ch chan<- prometheus.Metric) {
	for i, m := range metrics {
		typ := prometheus.CounterValue
		if m.kind == "gauge" {
			typ = prometheus.GaugeValue
		}
		for _, f := range c.a.flows {
			pm, err := prometheus.NewConstMetric(metricDescs[i], typ, float64(m.value(f.stats)), f.id, f.cfg.Destination())
			if err != nil {
				ch <- prometheus.NewInvalidMetric(metricDescs[i], err)
				continue
			}
			ch <- pm
		}
	}
}

// logStatus writes one progress line per flow.
func (f *flow) logStatus(log *slog.Logger) {
	s := f.stats
	log.Info("agent progress",
		"flow", f.id,
		"lines_read", s.Tail.Lines.Load(),
		"file_bytes_read", s.Tail.Bytes.Load(),
		"records_sent", s.RecordsSent.Load(),
		"bytes_sent", s.BytesSent.Load(),
		"records_unparsed", s.RecordsUnparsed.Load(),
		"record_send_errors", s.RecordSendErrors.Load(),
		"service_errors", s.ServiceErrors.Load(),
		"bytes_behind", s.BytesBehind.Load(),
		"files_behind", s.FilesBehind.Load(),
	)
}
