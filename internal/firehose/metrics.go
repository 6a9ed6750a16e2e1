package firehose

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
)

// streamMetrics are the counters of one delivery stream, named after
// Firehose's CloudWatch metrics.
type streamMetrics struct {
	account, region, name string

	incomingRecords    atomic.Int64 // IncomingRecords
	incomingBytes      atomic.Int64 // IncomingBytes
	putRequests        atomic.Int64 // IncomingPutRequests
	deliveredRecords   atomic.Int64 // DeliveryToS3.Records
	deliveredBytes     atomic.Int64 // DeliveryToS3.Bytes
	objects            atomic.Int64 // DeliveryToS3.ObjectCount
	success            atomic.Int64 // DeliveryToS3.Success (attempts that succeeded)
	failures           atomic.Int64 // failed attempts
	backupRecords      atomic.Int64 // BackupToS3.Records
	expiredRecords     atomic.Int64 // records dropped after 24 h undelivered
	errorOutputRecords atomic.Int64 // records written to the error output
	kdsRecords         atomic.Int64 // DataReadFromKinesisStream.Records
	kdsBytes           atomic.Int64 // DataReadFromKinesisStream.Bytes
	kdsBehindMs        atomic.Int64 // KinesisMillisBehindLatest (largest over the shards of the last poll)
	oldestPendingMs    atomic.Int64 // arrival of the oldest undelivered record; 0 when none
}

func (m *streamMetrics) incoming(records, bytes int) {
	m.incomingRecords.Add(int64(records))
	m.incomingBytes.Add(int64(bytes))
	m.putRequests.Add(1)
}

type metricsSet struct {
	mu sync.Mutex
	m  map[string]*streamMetrics
}

func (ms *metricsSet) get(account, region, name string) *streamMetrics {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	if ms.m == nil {
		ms.m = map[string]*streamMetrics{}
	}
	k := streamKey(account, region, name)
	if m := ms.m[k]; m != nil {
		return m
	}
	m := &streamMetrics{account: account, region: region, name: name}
	ms.m[k] = m
	return m
}

func (ms *metricsSet) drop(account, region, name string) {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	delete(ms.m, streamKey(account, region, name))
}

func escapeLabel(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s)
}

// WriteMetrics writes every delivery stream's metrics in the Prometheus text
// exposition format, labelled by account, region and delivery_stream. It
// satisfies gateway.MetricsWriter, so the gateway's /metrics includes them.
func (s *Service) WriteMetrics(w io.Writer) {
	s.metrics.mu.Lock()
	all := make([]*streamMetrics, 0, len(s.metrics.m))
	for _, m := range s.metrics.m {
		all = append(all, m)
	}
	s.metrics.mu.Unlock()
	sort.Slice(all, func(i, j int) bool {
		return streamKey(all[i].account, all[i].region, all[i].name) < streamKey(all[j].account, all[j].region, all[j].name)
	})
	nowMs := s.now().UnixMilli()
	type family struct {
		name, typ, help string
		val             func(*streamMetrics) float64
	}
	fams := []family{
		{"eddy_firehose_incoming_records_total", "counter", "Records accepted by PutRecord/PutRecordBatch or read from the source stream (IncomingRecords).", func(m *streamMetrics) float64 { return float64(m.incomingRecords.Load()) }},
		{"eddy_firehose_incoming_bytes_total", "counter", "Bytes accepted (IncomingBytes).", func(m *streamMetrics) float64 { return float64(m.incomingBytes.Load()) }},
		{"eddy_firehose_incoming_put_requests_total", "counter", "Successful put requests (IncomingPutRequests).", func(m *streamMetrics) float64 { return float64(m.putRequests.Load()) }},
		{"eddy_firehose_delivery_to_s3_records_total", "counter", "Records delivered to S3 (DeliveryToS3.Records).", func(m *streamMetrics) float64 { return float64(m.deliveredRecords.Load()) }},
		{"eddy_firehose_delivery_to_s3_bytes_total", "counter", "Uncompressed bytes delivered to S3 (DeliveryToS3.Bytes).", func(m *streamMetrics) float64 { return float64(m.deliveredBytes.Load()) }},
		{"eddy_firehose_delivery_to_s3_objects_total", "counter", "Objects written to S3 (DeliveryToS3.ObjectCount).", func(m *streamMetrics) float64 { return float64(m.objects.Load()) }},
		{"eddy_firehose_delivery_to_s3_success_total", "counter", "Successful S3 put attempts (DeliveryToS3.Success numerator).", func(m *streamMetrics) float64 { return float64(m.success.Load()) }},
		{"eddy_firehose_delivery_to_s3_failures_total", "counter", "Failed S3 put attempts (retried).", func(m *streamMetrics) float64 { return float64(m.failures.Load()) }},
		{"eddy_firehose_backup_to_s3_records_total", "counter", "Records written to the S3 backup (BackupToS3.Records).", func(m *streamMetrics) float64 { return float64(m.backupRecords.Load()) }},
		{"eddy_firehose_delivery_to_s3_error_output_records_total", "counter", "Records written under the ErrorOutputPrefix after RetryOptions.DurationInSeconds of failures.", func(m *streamMetrics) float64 { return float64(m.errorOutputRecords.Load()) }},
		{"eddy_firehose_expired_records_total", "counter", "Records dropped after 24 hours without successful delivery.", func(m *streamMetrics) float64 { return float64(m.expiredRecords.Load()) }},
		{"eddy_firehose_data_read_from_kinesis_stream_records_total", "counter", "Records read from the source data stream (DataReadFromKinesisStream.Records).", func(m *streamMetrics) float64 { return float64(m.kdsRecords.Load()) }},
		{"eddy_firehose_data_read_from_kinesis_stream_bytes_total", "counter", "Bytes read from the source data stream (DataReadFromKinesisStream.Bytes).", func(m *streamMetrics) float64 { return float64(m.kdsBytes.Load()) }},
		{"eddy_firehose_kinesis_millis_behind_latest", "gauge", "How far the source reader is behind the tip of the data stream (KinesisMillisBehindLatest), largest over its shards.", func(m *streamMetrics) float64 { return float64(m.kdsBehindMs.Load()) }},
		{"eddy_firehose_delivery_to_s3_data_freshness_seconds", "gauge", "Age of the oldest record not yet delivered to S3 (DeliveryToS3.DataFreshness); 0 when none is pending.", func(m *streamMetrics) float64 {
			o := m.oldestPendingMs.Load()
			if o == 0 || nowMs < o {
				return 0
			}
			return float64(nowMs-o) / 1000
		}},
	}
	for _, f := range fams {
		if _, err := fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s %s\n", f.name, f.help, f.name, f.typ); err != nil {
			return
		}
		for _, m := range all {
			if _, err := fmt.Fprintf(w, "%s{account=\"%s\",region=\"%s\",delivery_stream=\"%s\"} %g\n", f.name,
				escapeLabel(m.account), escapeLabel(m.region), escapeLabel(m.name), f.val(m)); err != nil {
				return
			}
		}
	}
}
