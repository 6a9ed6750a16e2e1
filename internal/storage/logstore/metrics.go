package logstore

import "github.com/prometheus/client_golang/prometheus"

// Collector exposes the store's Stats as eddy_storage_* metrics; register
// it with a prometheus.Registry (the gateway's /metrics does).
func (st *Store) Collector() prometheus.Collector { return collector{st} }

type collector struct{ st *Store }

type storageMetric struct {
	desc *prometheus.Desc
	typ  prometheus.ValueType
	val  func(Stats) float64
}

func newStorageMetric(name, help string, typ prometheus.ValueType, val func(Stats) float64) storageMetric {
	return storageMetric{prometheus.NewDesc(name, help, nil, nil), typ, val}
}

var storageMetrics = []storageMetric{
	newStorageMetric("eddy_storage_shards", "Shard logs open.", prometheus.GaugeValue, func(s Stats) float64 { return float64(s.Shards) }),
	newStorageMetric("eddy_storage_segments", "Segment files.", prometheus.GaugeValue, func(s Stats) float64 { return float64(s.Segments) }),
	newStorageMetric("eddy_storage_bytes", "Segment bytes on disk.", prometheus.GaugeValue, func(s Stats) float64 { return float64(s.Bytes) }),
	newStorageMetric("eddy_storage_records", "Readable records over all shards.", prometheus.GaugeValue, func(s Stats) float64 { return float64(s.Records) }),
	newStorageMetric("eddy_storage_syncs_total", "fdatasync calls on segments.", prometheus.CounterValue, func(s Stats) float64 { return float64(s.Syncs) }),
	newStorageMetric("eddy_storage_poisoned_shards", "Shards refusing writes after an I/O error.", prometheus.GaugeValue, func(s Stats) float64 { return float64(s.Poisoned) }),
	newStorageMetric("eddy_storage_corrupt_shards", "Shards with corruption found by recovery.", prometheus.GaugeValue, func(s Stats) float64 { return float64(s.Corrupt) }),
	newStorageMetric("eddy_storage_tail_cache_bytes", "Memory held by tail caches.", prometheus.GaugeValue, func(s Stats) float64 { return float64(s.TailCacheBytes) }),
}

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	for _, m := range storageMetrics {
		ch <- m.desc
	}
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	s := c.st.Stats()
	for _, m := range storageMetrics {
		ch <- prometheus.MustNewConstMetric(m.desc, m.typ, m.val(s))
	}
}
