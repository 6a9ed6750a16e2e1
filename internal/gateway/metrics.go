package gateway

// /metrics: one Prometheus registry per gateway, written by client_golang's
// text encoder. The gateway counts API requests itself; every service that
// implements prometheus.Collector (firehose) and every collector in
// Options.Metrics (storage) is registered beside it.
//
// Label values that come from requests are bounded, so no client can add
// series or break the exposition format:
//   - service is a registered X-Amz-Target prefix, else "unknown";
//   - operation is one the service lists (OperationLister), else "unknown";
//   - code is "200" or an AWS error type, which comes from internal/awserr
//     (constants in our code, never request data); anything that is not a
//     short ASCII word still counts as "unknown".
// Service and operation are trusted only once a request is authenticated:
// a request refused by authentication (a missing, malformed or wrong
// signature, an unknown key) counts as service="unknown",
// operation="unknown" with its error type. Other refusals before
// authentication (unknown target or content type, unreadable body) carry
// only the bounded names above. So an unauthenticated client moves
// counters but creates no series beyond a small fixed set.

import (
	"io"
	"sync"

	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/promtext"
	"github.com/prometheus/client_golang/prometheus"
)

// OperationLister is implemented by services that name their operations;
// the gateway's request counter labels only these (others count as
// "unknown").
type OperationLister interface{ Operations() []string }

// unknownLabel stands for a label value the gateway does not know.
const unknownLabel = "unknown"

// authFailures are the error types of requests refused by authentication.
var authFailures = map[string]bool{
	awserr.TMissingAuthenticationToken: true,
	awserr.TIncompleteSignature:        true,
	awserr.TInvalidSignature:           true,
	awserr.TUnrecognizedClient:         true,
}

type counterKey struct{ service, op, code string }

type gatewayMetrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	ops      map[string]map[string]bool // target prefix -> operations
	counters sync.Map                   // counterKey -> prometheus.Counter (keys are bounded)
}

func (g *Gateway) initMetrics(o Options) {
	m := &g.metrics
	m.reg = prometheus.NewRegistry()
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "eddy_gateway_requests_total",
		Help: "API requests by service (X-Amz-Target prefix), operation and result (200 or the AWS error type); unknown names count as unknown.",
	}, []string{"service", "operation", "code"})
	m.reg.MustRegister(m.requests)
	m.ops = map[string]map[string]bool{}
	for prefix, s := range g.services {
		set := map[string]bool{}
		if l, ok := s.(OperationLister); ok {
			for _, op := range l.Operations() {
				set[op] = true
			}
		}
		m.ops[prefix] = set
		if c, ok := s.(prometheus.Collector); ok {
			g.register(prefix, c)
		}
	}
	for _, c := range o.Metrics {
		g.register("extra", c)
	}
}

func (g *Gateway) register(what string, c prometheus.Collector) {
	if err := g.metrics.reg.Register(c); err != nil {
		// a programming error (two collectors with one metric name)
		g.log.Error("register metrics", "source", what, "err", err)
	}
}

// Registry is the registry behind /metrics (for tests and for sources
// added after New).
func (g *Gateway) Registry() *prometheus.Registry { return g.metrics.reg }

// count adds one request to eddy_gateway_requests_total, bounding every
// label (see the file comment).
func (g *Gateway) count(service, op, code string) {
	m := &g.metrics
	if authFailures[code] {
		service, op = unknownLabel, unknownLabel
	} else if ops, ok := m.ops[service]; !ok {
		service, op = unknownLabel, unknownLabel
	} else if !ops[op] {
		op = unknownLabel
	}
	if !isCode(code) {
		code = unknownLabel
	}
	k := counterKey{service, op, code}
	c, ok := m.counters.Load(k)
	if !ok {
		c, _ = m.counters.LoadOrStore(k, m.requests.WithLabelValues(service, op, code))
	}
	c.(prometheus.Counter).Inc()
}

// isCode reports whether s looks like an HTTP status or an AWS error type.
func isCode(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

// writeMetrics writes the registry in the Prometheus text format. A source
// that fails to collect is logged and left out; the others are written.
func (g *Gateway) writeMetrics(w io.Writer) {
	if err := promtext.Write(w, g.metrics.reg); err != nil {
		g.log.Warn("metrics", "err", err)
	}
}
