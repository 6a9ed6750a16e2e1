package cloudwatch

import (
	"github.com/prometheus/client_golang/prometheus"
)

// The same series as WriteMetrics, as a prometheus.Collector for gateways
// that keep a client_golang registry. Label names are fixed; label values
// are the sanitised user data (see label).

var (
	labelNames = []string{"account", "dimensions", "metric", "namespace", "unit"}
	descDatums = prometheus.NewDesc("eddy_cloudwatch_datums_total", "Metric datums accepted by CloudWatch PutMetricData.", nil, nil)
	descDrop   = prometheus.NewDesc("eddy_cloudwatch_series_dropped_total", "Datums not exposed because the series cap was reached.", nil, nil)
	descCount  = prometheus.NewDesc("eddy_cloudwatch_metric_samples_total", "Samples received per CloudWatch metric (SampleCount and Counts included).", labelNames, nil)
	descSum    = prometheus.NewDesc("eddy_cloudwatch_metric_sum", "Sum of the values received per CloudWatch metric.", labelNames, nil)
	descLast   = prometheus.NewDesc("eddy_cloudwatch_metric_last", "Last value received per CloudWatch metric (Maximum for statistic sets).", labelNames, nil)
)

// Describe implements prometheus.Collector.
func (s *Service) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descDatums, descDrop, descCount, descSum, descLast} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (s *Service) Collect(ch chan<- prometheus.Metric) {
	s.mu.Lock()
	type kv struct {
		k seriesKey
		v series
	}
	all := make([]kv, 0, len(s.series))
	for k, v := range s.series {
		all = append(all, kv{k, *v})
	}
	datums, dropped := s.datums, s.dropped
	s.mu.Unlock()
	ch <- prometheus.MustNewConstMetric(descDatums, prometheus.CounterValue, float64(datums))
	ch <- prometheus.MustNewConstMetric(descDrop, prometheus.CounterValue, float64(dropped))
	for _, e := range all {
		lv := []string{clean(e.k.account), clean(e.k.dims), clean(e.k.metric), clean(e.k.namespace), clean(e.k.unit)}
		ch <- prometheus.MustNewConstMetric(descCount, prometheus.CounterValue, e.v.samples, lv...)
		ch <- prometheus.MustNewConstMetric(descSum, prometheus.CounterValue, e.v.sum, lv...)
		ch <- prometheus.MustNewConstMetric(descLast, prometheus.GaugeValue, e.v.last, lv...)
	}
}

// Operations implements the gateway's OperationLister.
func (*Service) Operations() []string { return []string{"PutMetricData"} }
