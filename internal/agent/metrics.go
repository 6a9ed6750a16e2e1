package agent

import (
	"fmt"
	"io"
	"log/slog"
	"sort"
	"sync/atomic"

	"github.com/eddy-streams/eddy/internal/agent/tail"
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
	ids := make([]string, 0, len(a.flows))
	byID := map[string]*flow{}
	for _, f := range a.flows {
		ids = append(ids, f.id)
		byID[f.id] = f
	}
	sort.Strings(ids)
	for _, m := range metrics {
		if _, err := fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s %s\n", m.name, m.help, m.name, m.kind); err != nil {
			return err
		}
		for _, id := range ids {
			f := byID[id]
			if _, err := fmt.Fprintf(w, "%s{flow=%q,destination=%q} %d\n", m.name, id, f.cfg.Destination(), m.value(f.stats)); err != nil {
				return err
			}
		}
	}
	return nil
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
