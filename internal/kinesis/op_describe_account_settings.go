package kinesis

// DescribeAccountSettings reports the account's
// MinimumThroughputBillingCommitment ("On-demand Advantage"): DISABLED until
// UpdateAccountSettings enables it. Settings are per account (all regions).

import (
	"github.com/eddy-streams/eddy/internal/awsproto"
)

type commitmentShape struct {
	Status               string              `json:"Status"`
	StartedAt            *awsproto.Timestamp `json:"StartedAt,omitempty"`
	EndedAt              *awsproto.Timestamp `json:"EndedAt,omitempty"`
	EarliestAllowedEndAt *awsproto.Timestamp `json:"EarliestAllowedEndAt,omitempty"`
}

type accountSettingsOutput struct {
	MinimumThroughputBillingCommitment commitmentShape `json:"MinimumThroughputBillingCommitment"`
}

func init() { register("DescribeAccountSettings", (*Service).describeAccountSettings) }

func (s *Service) describeAccountSettings(r *awsproto.Request) (any, error) {
	var in struct{}
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.accountSettingsLocked(r.Account), nil
}

func tsOrNil(ms int64) *awsproto.Timestamp {
	if ms == 0 {
		return nil
	}
	return awsproto.TSMillis(ms)
}

func (s *Service) accountSettingsLocked(account string) accountSettingsOutput {
	a := s.accounts[account]
	if a == nil || a.CommitmentStatus == "" {
		return accountSettingsOutput{commitmentShape{Status: commitDisabled}}
	}
	status := a.CommitmentStatus
	if status == commitUntilEarlier && s.nowMs() >= a.EndedMs {
		status = commitDisabled
	}
	return accountSettingsOutput{commitmentShape{
		Status: status, StartedAt: tsOrNil(a.StartedMs), EndedAt: tsOrNil(a.EndedMs),
		EarliestAllowedEndAt: tsOrNil(a.EarliestEndMs),
	}}
}
