package firehose

import (
	"strings"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// destCounters are DeliveryTo<X>.Records/.Bytes/.Success of a stream whose
// destination is beyond S3 (X is the stream's kind; its DataFreshness is the
// stream's oldest pending record, as DeliveryToS3's).
type destCounters struct {
	records  atomic.Int64
	bytes    atomic.Int64
	success  atomic.Int64 // attempts that delivered every record sent
	attempts atomic.Int64
	kind     atomic.Pointer[string]
}

func (c *destCounters) add(records, bytes int64, ok bool) {
	c.records.Add(records)
	c.bytes.Add(bytes)
	c.attempts.Add(1)
	if ok {
		c.success.Add(1)
	}
}

// destMetricNames are the CloudWatch names of each destination kind.
var destMetricNames = map[string]string{
	"HttpEndpoint":               "HttpEndpoint",
	"Redshift":                   "Redshift",
	"Amazonopensearchservice":    "AmazonOpenSearchService",
	"Elasticsearch":              "Elasticsearch",
	"AmazonOpenSearchServerless": "AmazonOpenSearchServerless",
	"Splunk":                     "Splunk",
	"Iceberg":                    "Iceberg",
}

// snake turns a CloudWatch name into a Prometheus one (HttpEndpoint → http_endpoint).
func snake(s string) string {
	var b strings.Builder
	for i, r := range s {
		if r >= 'A' && r <= 'Z' {
			if i > 0 && !(s[i-1] >= 'A' && s[i-1] <= 'Z') {
				b.WriteByte('_')
			}
			b.WriteRune(r + 'a' - 'A')
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func init() {
	kinds := []string{"HttpEndpoint", "Redshift", "Amazonopensearchservice", "Elasticsearch", "AmazonOpenSearchServerless", "Splunk", "Iceberg"}
	for _, kind := range kinds {
		kind := kind
		name := destMetricNames[kind]
		base := "eddy_firehose_delivery_to_" + snake(name)
		mine := func(m *streamMetrics) bool { k := m.dest.kind.Load(); return k != nil && *k == kind }
		val := func(f func(*destCounters) int64) func(*streamMetrics, int64) float64 {
			return func(m *streamMetrics, _ int64) float64 {
				if !mine(m) {
					return 0
				}
				return float64(f(&m.dest))
			}
		}
		families = append(families,
			newFamily(base+"_records_total", "Records delivered (DeliveryTo"+name+".Records).", prometheus.CounterValue, val(func(c *destCounters) int64 { return c.records.Load() })),
			newFamily(base+"_bytes_total", "Bytes delivered (DeliveryTo"+name+".Bytes).", prometheus.CounterValue, val(func(c *destCounters) int64 { return c.bytes.Load() })),
			newFamily(base+"_success_total", "Delivery attempts that delivered every record sent (DeliveryTo"+name+".Success numerator).", prometheus.CounterValue, val(func(c *destCounters) int64 { return c.success.Load() })),
			newFamily(base+"_attempts_total", "Delivery attempts (DeliveryTo"+name+".Success denominator).", prometheus.CounterValue, val(func(c *destCounters) int64 { return c.attempts.Load() })),
			newFamily(base+"_data_freshness_seconds", "Age of the oldest record not yet delivered (DeliveryTo"+name+".DataFreshness); 0 when none is pending.", prometheus.GaugeValue, func(m *streamMetrics, nowMs int64) float64 {
				o := m.oldestPendingMs.Load()
				if !mine(m) || o == 0 || nowMs < o {
					return 0
				}
				return float64(nowMs-o) / 1000
			}),
		)
	}
}
