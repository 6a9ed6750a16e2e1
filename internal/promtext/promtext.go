// Package promtext writes a Prometheus registry in the text exposition
// format (version 0.0.4) with client_golang's encoder: the one metrics
// writer behind the server's and the agent's /metrics.
package promtext

import (
	"fmt"
	"io"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
)

// ContentType is the Content-Type of what Write writes.
const ContentType = "text/plain; version=0.0.4; charset=utf-8"

// Write gathers g and writes every metric family to w. A collector that
// fails is left out and its error returned after the others are written
// (client_golang's Gather returns what it could gather beside the error).
func Write(w io.Writer, g prometheus.Gatherer) error {
	mfs, gerr := g.Gather()
	enc := expfmt.NewEncoder(w, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			return fmt.Errorf("write metrics: %w", err)
		}
	}
	if gerr != nil {
		return fmt.Errorf("gather metrics: %w", gerr)
	}
	return nil
}
