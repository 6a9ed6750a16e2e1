package kinesis

// DescribeLimits reports the caller's shard quota (Options.ShardLimit), its
// open shards in the region, and its on-demand stream count and quota
// (Options.OnDemandStreamLimit). All four fields are always present.

import (
	"github.com/eddy-streams/eddy/internal/awsproto"
)

type describeLimitsOutput struct {
	ShardLimit               int `json:"ShardLimit"`
	OpenShardCount           int `json:"OpenShardCount"`
	OnDemandStreamCount      int `json:"OnDemandStreamCount"`
	OnDemandStreamCountLimit int `json:"OnDemandStreamCountLimit"`
}

func init() { register("DescribeLimits", (*Service).describeLimits) }

func (s *Service) describeLimits(r *awsproto.Request) (any, error) {
	var in struct{}
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return describeLimitsOutput{
		ShardLimit:               s.opt.ShardLimit,
		OpenShardCount:           s.accountShardsLocked(r.Account, r.Region),
		OnDemandStreamCount:      s.onDemandCountLocked(r.Account, r.Region),
		OnDemandStreamCountLimit: s.opt.OnDemandStreamLimit,
	}, nil
}
