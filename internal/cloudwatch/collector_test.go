package cloudwatch

import (
	"bytes"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
)

// TestCollectorMatchesWriteMetrics: the prometheus.Collector and the
// hand-written exposition give the same series lines, hostile names
// included, so /metrics reads the same through either gateway.
func TestCollectorMatchesWriteMetrics(t *testing.T) {
	svc := New()
	evil := "a\"b\\c\nd} 1\n# TYPE x counter\n\xff" + strings.Repeat("é", 300)
	for _, m := range []map[string]any{
		{"Namespace": "ns", "MetricData": []any{map[string]any{"MetricName": evil[:40], "Value": 1.5, "Unit": "Count",
			"Dimensions": []any{map[string]any{"Name": "k", "Value": evil}, map[string]any{"Name": "a", "Value": "b"}}}}},
		{"Namespace": "ns2", "MetricData": []any{map[string]any{"MetricName": "m", "Values": []any{1.0, 2.0}, "Counts": []any{2.0, 1.0}}}},
	} {
		if err := svc.put("000000000000", m); err != nil {
			t.Fatal(err)
		}
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(svc)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var prom bytes.Buffer
	for _, mf := range mfs {
		if _, err := expfmt.MetricFamilyToText(&prom, mf); err != nil {
			t.Fatal(err)
		}
	}
	var own bytes.Buffer
	svc.WriteMetrics(&own)
	n := 0
	for _, line := range strings.Split(own.String(), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		n++
		if !strings.Contains(prom.String(), line+"\n") {
			t.Fatalf("line %q not in the client_golang exposition:\n%s", line, prom.String())
		}
	}
	if n != 8 {
		t.Fatalf("%d series lines:\n%s", n, own.String())
	}
}
