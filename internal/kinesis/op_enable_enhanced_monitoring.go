package kinesis

// EnableEnhancedMonitoring adds shard-level metrics to a stream: 1..7 of
// IncomingBytes, IncomingRecords, OutgoingBytes, OutgoingRecords,
// WriteProvisionedThroughputExceeded, ReadProvisionedThroughputExceeded,
// IteratorAgeMilliseconds, or ALL (all seven). Answers the metrics before
// (Current) and after (Desired) the call, always listed by name in that
// order, never as ALL. Takes effect at once. The stream must be ACTIVE.
// Difference: the setting is recorded and reported, no metrics are published.

import (
	"fmt"
	"strings"

	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/awsproto"
)

var shardMetricNames = []string{"IncomingBytes", "IncomingRecords", "OutgoingBytes", "OutgoingRecords",
	"WriteProvisionedThroughputExceeded", "ReadProvisionedThroughputExceeded", "IteratorAgeMilliseconds"}

type enhancedMonitoringInput struct {
	StreamName        *string   `json:"StreamName"`
	StreamARN         *string   `json:"StreamARN"`
	ShardLevelMetrics *[]string `json:"ShardLevelMetrics"`
}

type enhancedMonitoringOutput struct {
	StreamName               string   `json:"StreamName"`
	StreamARN                string   `json:"StreamARN"`
	CurrentShardLevelMetrics []string `json:"CurrentShardLevelMetrics"`
	DesiredShardLevelMetrics []string `json:"DesiredShardLevelMetrics"`
}

func init() { register("EnableEnhancedMonitoring", (*Service).enableEnhancedMonitoring) }

// metricSet validates the request and returns the named metrics (ALL
// expanded).
func (in *enhancedMonitoringInput) metricSet() (map[string]bool, error) {
	var v awserr.Validation
	if in.ShardLevelMetrics == nil {
		v.Add(nil, "shardLevelMetrics", "Member must not be null")
	} else {
		l := *in.ShardLevelMetrics
		shown := javaList(l)
		if len(l) < 1 {
			v.Add(shown, "shardLevelMetrics", "Member must have length greater than or equal to 1")
		} else if len(l) > 7 {
			v.Add(shown, "shardLevelMetrics", "Member must have length less than or equal to 7")
		}
		for _, m := range l {
			if m != "ALL" && !knownMetric(m) {
				v.Add(shown, "shardLevelMetrics", fmt.Sprintf("Member must satisfy constraint: [Member must satisfy enum value set: [%s, ALL]]", strings.Join(shardMetricNames, ", ")))
				break
			}
		}
	}
	if err := requireStreamRef(&v, in.StreamName, in.StreamARN); err != nil {
		return nil, err
	}
	set := map[string]bool{}
	for _, m := range *in.ShardLevelMetrics {
		if m == "ALL" {
			for _, n := range shardMetricNames {
				set[n] = true
			}
		} else {
			set[m] = true
		}
	}
	return set, nil
}

func knownMetric(m string) bool {
	for _, n := range shardMetricNames {
		if n == m {
			return true
		}
	}
	return false
}

// updateMetrics applies add or remove to the stream's metrics.
func (s *Service) updateMetrics(r *awsproto.Request, add bool) (any, error) {
	var in enhancedMonitoringInput
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	set, err := in.metricSet()
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st, err := s.activeLocked(r, in.StreamName, in.StreamARN)
	if err != nil {
		return nil, err
	}
	cur := map[string]bool{}
	for _, m := range st.ShardMetrics {
		cur[m] = true
	}
	out := enhancedMonitoringOutput{StreamName: st.Name, StreamARN: st.arn(), CurrentShardLevelMetrics: []string{}, DesiredShardLevelMetrics: []string{}}
	var next []string
	for _, n := range shardMetricNames {
		if cur[n] {
			out.CurrentShardLevelMetrics = append(out.CurrentShardLevelMetrics, n)
		}
		if (add && (cur[n] || set[n])) || (!add && cur[n] && !set[n]) {
			next = append(next, n)
			out.DesiredShardLevelMetrics = append(out.DesiredShardLevelMetrics, n)
		}
	}
	st.ShardMetrics = next
	if err := s.commitLocked(); err != nil {
		return nil, err
	}
	return out, nil
}

func (s *Service) enableEnhancedMonitoring(r *awsproto.Request) (any, error) {
	return s.updateMetrics(r, true)
}
