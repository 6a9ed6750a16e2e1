package cloudwatch

import (
	"encoding/json"
	"testing"

	"github.com/eddy-streams/eddy/internal/query"
)

// FuzzPutMetricData feeds arbitrary bodies through the three decoders and
// the validation: no panic, and the exposition stays well formed.
func FuzzPutMetricData(f *testing.F) {
	f.Add([]byte(`{"Namespace":"n","MetricData":[{"MetricName":"m","Value":1,"Dimensions":[{"Name":"a","Value":"b"}]}]}`))
	f.Add([]byte("Namespace=n&MetricData.member.1.MetricName=m&MetricData.member.1.Values.member.1=3&MetricData.member.1.Counts.member.1=2"))
	f.Add([]byte{0xa2, 0x69, 'N', 'a', 'm', 'e', 's', 'p', 'a', 'c', 'e', 0x61, 'n', 0x6a, 'M', 'e', 't', 'r', 'i', 'c', 'D', 'a', 't', 'a', 0x80})
	svc := New()
	svc.max = 50
	f.Fuzz(func(t *testing.T, b []byte) {
		var m map[string]any
		if json.Unmarshal(b, &m) == nil && m != nil {
			svc.put("1", m)
		}
		if v, err := query.Params(b); err == nil {
			svc.put("1", query.Tree(v))
		}
		var c map[string]any
		if cborDec.Unmarshal(b, &c) == nil && c != nil {
			svc.put("1", c)
		}
		var out bytesWriter
		svc.WriteMetrics(&out)
	})
}

type bytesWriter struct{ n int }

func (w *bytesWriter) Write(p []byte) (int, error) { w.n += len(p); return len(p), nil }
