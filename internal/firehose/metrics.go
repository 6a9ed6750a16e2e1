package firehose

import (
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
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
	// lake.go
	partitionCountExceeded atomic.Int64 // records refused past 500 active partitions
	conversionFailed       atomic.Int64 // records that did not fit the Glue schema
	kdsRecords             atomic.Int64 // DataReadFromKinesisStream.Records
	kdsBytes               atomic.Int64 // DataReadFromKinesisStream.Bytes
	kdsBehindMs            atomic.Int64 // KinesisMillisBehindLatest (largest over the shards of the last poll)
	oldestPendingMs        atomic.Int64 // arrival of the oldest undelivered record; 0 when none
	dest                   destCounters // DeliveryTo<X>.* of destinations beyond S3 (metrics_dest.go)
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

// family is one metric family of a delivery stream.
type family struct {
	desc *prometheus.Desc
	typ  prometheus.ValueType
	val  func(m *streamMetrics, nowMs int64) float64
}

var streamLabels = []string{"account", "region", "delivery_stream"}

func newFamily(name, help string, typ prometheus.ValueType, val func(*streamMetrics, int64) float64) family {
	return family{desc: prometheus.NewDesc(name, help, streamLabels, nil), typ: typ, val: val}
}

func count(f func(*streamMetrics) *atomic.Int64) func(*streamMetrics, int64) float64 {
	return func(m *streamMetrics, _ int64) float64 { return float64(f(m).Load()) }
}

// families are the per-stream metrics, named after Firehose's CloudWatch
// metrics (docs/compat/firehose.md maps them).
var families = []family{
	newFamily("eddy_firehose_incoming_records_total", "Records accepted by PutRecord/PutRecordBatch or read from the source stream (IncomingRecords).", prometheus.CounterValue, count(func(m *streamMetrics) *atomic.Int64 { return &m.incomingRecords })),
	newFamily("eddy_firehose_incoming_bytes_total", "Bytes accepted (IncomingBytes).", prometheus.CounterValue, count(func(m *streamMetrics) *atomic.Int64 { return &m.incomingBytes })),
	newFamily("eddy_firehose_incoming_put_requests_total", "Successful put requests (IncomingPutRequests).", prometheus.CounterValue, count(func(m *streamMetrics) *atomic.Int64 { return &m.putRequests })),
	newFamily("eddy_firehose_delivery_to_s3_records_total", "Records delivered to S3 (DeliveryToS3.Records).", prometheus.CounterValue, count(func(m *streamMetrics) *atomic.Int64 { return &m.deliveredRecords })),
	newFamily("eddy_firehose_delivery_to_s3_bytes_total", "Uncompressed bytes delivered to S3 (DeliveryToS3.Bytes).", prometheus.CounterValue, count(func(m *streamMetrics) *atomic.Int64 { return &m.deliveredBytes })),
	newFamily("eddy_firehose_delivery_to_s3_objects_total", "Objects written to S3 (DeliveryToS3.ObjectCount).", prometheus.CounterValue, count(func(m *streamMetrics) *atomic.Int64 { return &m.objects })),
	newFamily("eddy_firehose_delivery_to_s3_success_total", "Successful S3 put attempts (DeliveryToS3.Success numerator).", prometheus.CounterValue, count(func(m *streamMetrics) *atomic.Int64 { return &m.success })),
	newFamily("eddy_firehose_delivery_to_s3_failures_total", "Failed S3 put attempts (retried).", prometheus.CounterValue, count(func(m *streamMetrics) *atomic.Int64 { return &m.failures })),
	newFamily("eddy_firehose_backup_to_s3_records_total", "Records written to the S3 backup (BackupToS3.Records).", prometheus.CounterValue, count(func(m *streamMetrics) *atomic.Int64 { return &m.backupRecords })),
	newFamily("eddy_firehose_partition_count_exceeded_records_total", "Records sent to partitioning-failed because 500 partitions were active (PartitionCountExceeded).", prometheus.CounterValue, count(func(m *streamMetrics) *atomic.Int64 { return &m.partitionCountExceeded })),
	newFamily("eddy_firehose_failed_conversion_records_total", "Records that did not fit the Glue schema (FailedConversion.Records).", prometheus.CounterValue, count(func(m *streamMetrics) *atomic.Int64 { return &m.conversionFailed })),
	newFamily("eddy_firehose_delivery_to_s3_error_output_records_total", "Records written under the ErrorOutputPrefix after RetryOptions.DurationInSeconds of failures.", prometheus.CounterValue, count(func(m *streamMetrics) *atomic.Int64 { return &m.errorOutputRecords })),
	newFamily("eddy_firehose_expired_records_total", "Records dropped after 24 hours without successful delivery.", prometheus.CounterValue, count(func(m *streamMetrics) *atomic.Int64 { return &m.expiredRecords })),
	newFamily("eddy_firehose_data_read_from_kinesis_stream_records_total", "Records read from the source data stream (DataReadFromKinesisStream.Records).", prometheus.CounterValue, count(func(m *streamMetrics) *atomic.Int64 { return &m.kdsRecords })),
	newFamily("eddy_firehose_data_read_from_kinesis_stream_bytes_total", "Bytes read from the source data stream (DataReadFromKinesisStream.Bytes).", prometheus.CounterValue, count(func(m *streamMetrics) *atomic.Int64 { return &m.kdsBytes })),
	newFamily("eddy_firehose_kinesis_millis_behind_latest", "How far the source reader is behind the tip of the data stream (KinesisMillisBehindLatest), largest over its shards.", prometheus.GaugeValue, count(func(m *streamMetrics) *atomic.Int64 { return &m.kdsBehindMs })),
	newFamily("eddy_firehose_delivery_to_s3_data_freshness_seconds", "Age of the oldest record not yet delivered to S3 (DeliveryToS3.DataFreshness); 0 when none is pending.", prometheus.GaugeValue, func(m *streamMetrics, nowMs int64) float64 {
		o := m.oldestPendingMs.Load()
		if o == 0 || nowMs < o {
			return 0
		}
		return float64(nowMs-o) / 1000
	}),
}

// Describe implements prometheus.Collector, so the gateway's /metrics
// includes every delivery stream's metrics.
func (s *Service) Describe(ch chan<- *prometheus.Desc) {
	for _, f := range families {
		ch <- f.desc
	}
}

// Collect implements prometheus.Collector: one sample per family and
// delivery stream, labelled by account, region and delivery_stream. A
// stream whose labels are not valid UTF-8 (a region taken from a client's
// credential scope) is left out rather than breaking the exposition.
func (s *Service) Collect(ch chan<- prometheus.Metric) {
	s.metrics.mu.Lock()
	all := make([]*streamMetrics, 0, len(s.metrics.m))
	for _, m := range s.metrics.m {
		all = append(all, m)
	}
	s.metrics.mu.Unlock()
	nowMs := s.now().UnixMilli()
	for _, f := range families {
		for _, m := range all {
			pm, err := prometheus.NewConstMetric(f.desc, f.typ, f.val(m, nowMs), m.account, m.region, m.name)
			if err != nil {
				continue
			}
			ch <- pm
		}
	}
}
