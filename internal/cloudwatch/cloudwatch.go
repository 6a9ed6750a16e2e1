// Package cloudwatch accepts CloudWatch PutMetricData in all three
// protocols the SDKs send and exposes what it received at /metrics.
//
//   - smithy rpc-v2-cbor: POST /service/GraniteServiceVersion20100801/operation/PutMetricData
//     with "Smithy-Protocol: rpc-v2-cbor" (aws-sdk-go-v2's CloudWatch client
//     and botocore's first choice today);
//   - JSON 1.0 with X-Amz-Target GraniteServiceVersion20100801.PutMetricData;
//   - the query protocol (form-encoded Action=PutMetricData&Version=2010-08-01,
//     answered in XML; older SDKs and the AWS CLI v1 on older botocore).
//
// Bodies compressed with gzip (the SDKs compress PutMetricData above
// 10 KB) are inflated. Other CloudWatch operations answer
// UnknownOperationException (JSON, CBOR) or InvalidAction (query).
//
// Exposure: one series per (account, namespace, metric, unit, dimensions)
// with the samples' count and sum (counters) and the last value (gauge),
// named eddy_cloudwatch_metric_{samples_total,sum,last}. Names and label
// values are user data: label values are escaped, truncated to 256 bytes
// and made valid UTF-8; dimensions become one sorted "Name=Value,…" label;
// at most MaxSeries series are kept (later new series are dropped and
// counted in eddy_cloudwatch_series_dropped_total).
package cloudwatch

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/fxamacker/cbor/v2"

	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/awsproto"
	"github.com/eddy-streams/eddy/internal/query"
)

// TargetPrefix is CloudWatch's JSON target prefix and rpc-v2 service name.
const TargetPrefix = "GraniteServiceVersion20100801"

const (
	version  = "2010-08-01"
	xmlns    = "http://monitoring.amazonaws.com/doc/2010-08-01/"
	rpcPath  = "/service/" + TargetPrefix + "/operation/"
	maxLabel = 256
)

// MaxSeries bounds the series kept for /metrics.
const MaxSeries = 1000

type seriesKey struct {
	account, namespace, metric, unit, dims string
}

type series struct {
	samples float64
	sum     float64
	last    float64
}

// Service is the CloudWatch subset.
type Service struct {
	mu      sync.Mutex
	series  map[seriesKey]*series // guarded by mu
	dropped int64                 // guarded by mu
	datums  int64                 // guarded by mu
	max     int
}

// New returns the service keeping at most MaxSeries series.
func New() *Service { return &Service{series: map[seriesKey]*series{}, max: MaxSeries} }

// TargetPrefix implements awsproto.Service.
func (*Service) TargetPrefix() string { return TargetPrefix }

// Handle implements awsproto.Service (JSON 1.0 through the plain path;
// the gateway sends CloudWatch requests to ServeAWS instead).
func (s *Service) Handle(req *awsproto.Request) (any, error) {
	if req.Operation != "PutMetricData" {
		return nil, awserr.UnknownOperation()
	}
	var m map[string]any
	if err := json.Unmarshal(req.Body, &m); err != nil {
		return nil, awserr.Serialization("Unable to parse JSON request body")
	}
	return struct{}{}, s.put(req.Account, m)
}

type proto int

const (
	pQuery proto = iota
	pJSON
	pCBOR
)

// Claims takes rpc-v2 requests for CloudWatch, JSON requests with its
// target, and query-protocol forms of its version.
func (*Service) Claims(r *http.Request, body []byte) (string, bool) {
	if strings.HasPrefix(r.URL.Path, rpcPath) {
		return strings.TrimPrefix(r.URL.Path, rpcPath), true
	}
	if t := r.Header.Get("X-Amz-Target"); t != "" {
		p, op, ok := strings.Cut(t, ".")
		return op, ok && p == TargetPrefix
	}
	if !query.IsForm(r) {
		return "", false
	}
	b, err := query.Body(r, body)
	if err != nil {
		return "", false
	}
	v, err := query.Params(b)
	if err != nil || v.Get("Version") != version {
		return "", false
	}
	op := v.Get("Action")
	if op == "" {
		op = "unknown"
	}
	return op, true
}

func protoOf(r *http.Request) proto {
	switch {
	case strings.HasPrefix(r.URL.Path, rpcPath):
		return pCBOR
	case r.Header.Get("X-Amz-Target") != "":
		return pJSON
	}
	return pQuery
}

var cborDec, _ = cbor.DecOptions{DefaultMapType: reflectMapStringAny, MaxNestedLevels: 16, MaxArrayElements: 1 << 16, MaxMapPairs: 1 << 16}.DecMode()

// ServeAWS answers a claimed request in its protocol.
func (s *Service) ServeAWS(w http.ResponseWriter, r *http.Request, req *awsproto.Request, authErr error) string {
	p := protoOf(r)
	fail := func(e *awserr.Error) string {
		s.writeError(w, p, req.RequestID, e)
		return e.Type
	}
	if authErr != nil {
		ae, ok := awserr.As(authErr)
		if !ok {
			ae = awserr.Internal()
		}
		return fail(ae)
	}
	if req.Operation != "PutMetricData" {
		if p == pQuery {
			return fail(&awserr.Error{Type: "InvalidAction", Status: 400, Message: "Could not find operation " + req.Operation + " for version " + version})
		}
		return fail(&awserr.Error{Type: awserr.TUnknownOperation, Status: 400, Message: "Eddy serves only PutMetricData of CloudWatch"})
	}
	body, err := query.Body(r, req.Body)
	if err != nil {
		return fail(&awserr.Error{Type: "InvalidParameterValue", Status: 400, Message: "Unable to decompress the request body"})
	}
	var m map[string]any
	switch p {
	case pCBOR:
		if len(body) > 0 {
			if err := cborDec.Unmarshal(body, &m); err != nil {
				return fail(awserr.Serialization("Unable to parse CBOR request body"))
			}
		}
	case pJSON:
		if len(bytes.TrimSpace(body)) > 0 {
			if err := json.Unmarshal(body, &m); err != nil {
				return fail(awserr.Serialization("Unable to parse JSON request body"))
			}
		}
	default:
		v, err := query.Params(body)
		if err != nil {
			return fail(&awserr.Error{Type: "MalformedQueryString", Status: 400, Message: "Unable to parse the request"})
		}
		m = query.Tree(v)
	}
	if m == nil {
		m = map[string]any{}
	}
	if err := s.put(req.Account, m); err != nil {
		ae, _ := awserr.As(err)
		return fail(ae)
	}
	switch p {
	case pCBOR:
		h := w.Header()
		h.Set("Smithy-Protocol", "rpc-v2-cbor")
		h.Set("Content-Type", "application/cbor")
		h.Set("Content-Length", "1")
		w.WriteHeader(http.StatusOK)
		w.Write([]byte{0xa0})
	case pJSON:
		h := w.Header()
		h.Set("Content-Type", "application/x-amz-json-1.0")
		h.Set("Content-Length", "2")
		w.WriteHeader(http.StatusOK)
		io.WriteString(w, "{}")
	default:
		query.WriteXML(w, []byte(`<PutMetricDataResponse xmlns="`+xmlns+`"><ResponseMetadata><RequestId>`+req.RequestID+`</RequestId></ResponseMetadata></PutMetricDataResponse>`))
	}
	return "200"
}

func (s *Service) writeError(w http.ResponseWriter, p proto, reqID string, e *awserr.Error) {
	h := w.Header()
	h.Set("x-amzn-ErrorType", e.Type)
	switch p {
	case pQuery:
		query.WriteError(w, xmlns, reqID, &query.Error{Status: e.Status, Code: e.Type, Message: e.Message})
	case pCBOR:
		b, _ := cbor.Marshal(map[string]string{"__type": "com.amazonaws.cloudwatch#" + e.Type, "message": e.Message})
		h.Set("Smithy-Protocol", "rpc-v2-cbor")
		h.Set("Content-Type", "application/cbor")
		h.Set("Content-Length", strconv.Itoa(len(b)))
		w.WriteHeader(e.Status)
		w.Write(b)
	default:
		b, _ := json.Marshal(map[string]string{"__type": "com.amazonaws.cloudwatch#" + e.Type, "message": e.Message})
		h.Set("Content-Type", "application/x-amz-json-1.0")
		h.Set("Content-Length", strconv.Itoa(len(b)))
		w.WriteHeader(e.Status)
		w.Write(b)
	}
}

func invalidParam(format string, a ...any) error {
	return &awserr.Error{Type: "InvalidParameterValue", Status: 400, Message: fmt.Sprintf(format, a...)}
}

func missingParam(name string) error {
	return &awserr.Error{Type: "MissingParameter", Status: 400, Message: "The parameter " + name + " is required."}
}

type datum struct {
	key     seriesKey
	samples float64
	sum     float64
	last    float64
}

// put validates a whole PutMetricData request, then records it.
func (s *Service) put(account string, m map[string]any) error {
	ns, _ := m["Namespace"].(string)
	if ns == "" {
		return missingParam("Namespace")
	}
	if len(ns) > 255 {
		return invalidParam("The parameter Namespace must be at most 255 characters long.")
	}
	if strings.HasPrefix(ns, "AWS/") {
		return invalidParam("The value AWS/ for parameter Namespace is invalid.")
	}
	list := asList(m["MetricData"])
	if len(list) == 0 {
		if len(asList(m["EntityMetricData"])) > 0 {
			for _, e := range asList(m["EntityMetricData"]) {
				em, _ := e.(map[string]any)
				list = append(list, asList(em["MetricData"])...)
			}
		}
		if len(list) == 0 {
			return missingParam("MetricData")
		}
	}
	if len(list) > 1000 {
		return invalidParam("The collection MetricData must not have a size greater than 1000.")
	}
	ds := make([]datum, 0, len(list))
	for i, x := range list {
		md, ok := x.(map[string]any)
		if !ok {
			return invalidParam("The parameter MetricData.member.%d is invalid.", i+1)
		}
		d, err := toDatum(account, ns, md, i+1)
		if err != nil {
			return err
		}
		ds = append(ds, d)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, d := range ds {
		s.datums++
		sr := s.series[d.key]
		if sr == nil {
			if len(s.series) >= s.max {
				s.dropped++
				continue
			}
			sr = &series{}
			s.series[d.key] = sr
		}
		sr.samples += d.samples
		sr.sum += d.sum
		sr.last = d.last
	}
	return nil
}

func toDatum(account, ns string, md map[string]any, n int) (datum, error) {
	name, _ := md["MetricName"].(string)
	if name == "" {
		return datum{}, missingParam(fmt.Sprintf("MetricData.member.%d.MetricName", n))
	}
	if len(name) > 255 {
		return datum{}, invalidParam("The parameter MetricData.member.%d.MetricName must be at most 255 characters long.", n)
	}
	unit, _ := md["Unit"].(string)
	if unit == "" {
		unit = "None"
	}
	dims := asList(md["Dimensions"])
	if len(dims) > 30 {
		return datum{}, invalidParam("The collection MetricData.member.%d.Dimensions must not have a size greater than 30.", n)
	}
	pairs := make([]string, 0, len(dims))
	for j, x := range dims {
		dm, _ := x.(map[string]any)
		dn, _ := dm["Name"].(string)
		dv, _ := dm["Value"].(string)
		if dn == "" || dv == "" {
			return datum{}, missingParam(fmt.Sprintf("MetricData.member.%d.Dimensions.member.%d.Name/Value", n, j+1))
		}
		pairs = append(pairs, dn+"="+dv)
	}
	sort.Strings(pairs)
	d := datum{key: seriesKey{account: account, namespace: ns, metric: name, unit: unit, dims: strings.Join(pairs, ",")}}
	value, hasValue := asFloat(md["Value"])
	stats, hasStats := md["StatisticValues"].(map[string]any)
	values := asList(md["Values"])
	counts := asList(md["Counts"])
	set := 0
	for _, ok := range []bool{hasValue, hasStats, len(values) > 0} {
		if ok {
			set++
		}
	}
	if set > 1 {
		return datum{}, &awserr.Error{Type: "InvalidParameterCombination", Status: 400, Message: fmt.Sprintf("The parameters MetricData.member.%d.Value, MetricData.member.%d.StatisticValues and MetricData.member.%d.Values are mutually exclusive and you have specified more than one.", n, n, n)}
	}
	bad := func(f float64) bool { return math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > 1.174271e+108 }
	switch {
	case hasValue:
		if bad(value) {
			return datum{}, invalidParam("The value %v for parameter MetricData.member.%d.Value is invalid.", value, n)
		}
		d.samples, d.sum, d.last = 1, value, value
	case hasStats:
		sc, ok1 := asFloat(stats["SampleCount"])
		sum, ok2 := asFloat(stats["Sum"])
		mn, ok3 := asFloat(stats["Minimum"])
		mx, ok4 := asFloat(stats["Maximum"])
		if !ok1 || !ok2 || !ok3 || !ok4 {
			return datum{}, missingParam(fmt.Sprintf("MetricData.member.%d.StatisticValues", n))
		}
		if bad(sc) || bad(sum) || bad(mn) || bad(mx) || sc <= 0 || mn > mx {
			return datum{}, invalidParam("The parameter MetricData.member.%d.StatisticValues is invalid.", n)
		}
		d.samples, d.sum, d.last = sc, sum, mx
	case len(values) > 0:
		if len(values) > 150 {
			return datum{}, invalidParam("The collection MetricData.member.%d.Values must not have a size greater than 150.", n)
		}
		if len(counts) > 0 && len(counts) != len(values) {
			return datum{}, invalidParam("The parameters MetricData.member.%d.Values and MetricData.member.%d.Counts must be of the same size.", n, n)
		}
		for j, x := range values {
			v, ok := asFloat(x)
			if !ok || bad(v) {
				return datum{}, invalidParam("The parameter MetricData.member.%d.Values.member.%d is invalid.", n, j+1)
			}
			c := 1.0
			if len(counts) > 0 {
				c, ok = asFloat(counts[j])
				if !ok || bad(c) || c < 0 {
					return datum{}, invalidParam("The parameter MetricData.member.%d.Counts.member.%d is invalid.", n, j+1)
				}
			}
			d.samples += c
			d.sum += v * c
			d.last = v
		}
	default:
		return datum{}, missingParam(fmt.Sprintf("MetricData.member.%d.Value", n))
	}
	return d, nil
}

func asList(v any) []any {
	switch x := v.(type) {
	case []any:
		return x
	case map[string]any: // a query list with a single "member" level already flattened
		return nil
	}
	return nil
}

func asFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case float32:
		return float64(x), true
	case uint64:
		return float64(x), true
	case int64:
		return float64(x), true
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	case string:
		f, err := strconv.ParseFloat(x, 64)
		return f, err == nil
	}
	return 0, false
}

// WriteMetrics implements gateway.MetricsWriter.
func (s *Service) WriteMetrics(w io.Writer) {
	s.mu.Lock()
	keys := make([]seriesKey, 0, len(s.series))
	for k := range s.series {
		keys = append(keys, k)
	}
	vals := make(map[seriesKey]series, len(keys))
	for _, k := range keys {
		vals[k] = *s.series[k]
	}
	dropped, datums := s.dropped, s.datums
	s.mu.Unlock()
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		return a.account+"\x00"+a.namespace+"\x00"+a.metric+"\x00"+a.unit+"\x00"+a.dims < b.account+"\x00"+b.namespace+"\x00"+b.metric+"\x00"+b.unit+"\x00"+b.dims
	})
	var b bytes.Buffer
	b.WriteString("# HELP eddy_cloudwatch_datums_total Metric datums accepted by CloudWatch PutMetricData.\n# TYPE eddy_cloudwatch_datums_total counter\n")
	fmt.Fprintf(&b, "eddy_cloudwatch_datums_total %d\n", datums)
	fmt.Fprintf(&b, "# HELP eddy_cloudwatch_series_dropped_total Datums not exposed because the %d-series cap was reached.\n# TYPE eddy_cloudwatch_series_dropped_total counter\n", MaxSeries)
	fmt.Fprintf(&b, "eddy_cloudwatch_series_dropped_total %d\n", dropped)
	for _, m := range []struct{ name, typ, help string }{
		{"eddy_cloudwatch_metric_samples_total", "counter", "Samples received per CloudWatch metric (SampleCount and Counts included)."},
		{"eddy_cloudwatch_metric_sum", "counter", "Sum of the values received per CloudWatch metric."},
		{"eddy_cloudwatch_metric_last", "gauge", "Last value received per CloudWatch metric (Maximum for statistic sets)."},
	} {
		if len(keys) == 0 {
			break
		}
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s %s\n", m.name, m.help, m.name, m.typ)
		for _, k := range keys {
			v := vals[k]
			x := v.samples
			switch m.name {
			case "eddy_cloudwatch_metric_sum":
				x = v.sum
			case "eddy_cloudwatch_metric_last":
				x = v.last
			}
			fmt.Fprintf(&b, "%s{account=%s,namespace=%s,metric=%s,unit=%s,dimensions=%s} %s\n", m.name,
				label(k.account), label(k.namespace), label(k.metric), label(k.unit), label(k.dims), strconv.FormatFloat(x, 'g', -1, 64))
		}
	}
	w.Write(b.Bytes())
}

// label quotes a user-supplied label value for the text exposition format:
// valid UTF-8, at most maxLabel bytes, with \, " and newline escaped.
func label(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if len(s) > maxLabel {
		cut := maxLabel
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut]
	}
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			b.WriteString(`\\`)
		case '"':
			b.WriteString(`\"`)
		case '\n':
			b.WriteString(`\n`)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}
