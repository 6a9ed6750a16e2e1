package kinesis

// DisableEnhancedMonitoring removes shard-level metrics from a stream (ALL
// removes every one), answering the metrics before (Current) and after
// (Desired) the call. Same validation as EnableEnhancedMonitoring.

import (
	"github.com/eddy-streams/eddy/internal/awsproto"
)

func init() { register("DisableEnhancedMonitoring", (*Service).disableEnhancedMonitoring) }

func (s *Service) disableEnhancedMonitoring(r *awsproto.Request) (any, error) {
	return s.updateMetrics(r, false)
}
