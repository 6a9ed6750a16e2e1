package kinesis

// UpdateAccountSettings turns the account's MinimumThroughputBillingCommitment
// on (ENABLED, with a 24-hour minimum window ending at EarliestAllowedEndAt)
// or off. Turning it off inside the window gives
// ENABLED_UNTIL_EARLIEST_ALLOWED_END, which lapses to DISABLED at the window's
// end; after it, DISABLED at once. Synchronous; answers the new settings.
// While in force, streams may have 50 consumers and on-demand streams warm
// throughput. Unverified: the window length and the errors for enabling an
// already enabled commitment (accepted here, keeping the original window).

import (
	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/awsproto"
)

type updateAccountSettingsInput struct {
	MinimumThroughputBillingCommitment *struct {
		Status *string `json:"Status"`
	} `json:"MinimumThroughputBillingCommitment"`
}

func init() { register("UpdateAccountSettings", (*Service).updateAccountSettings) }

func (s *Service) updateAccountSettings(r *awsproto.Request) (any, error) {
	var in updateAccountSettingsInput
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	var v awserr.Validation
	m := in.MinimumThroughputBillingCommitment
	switch {
	case m == nil:
		v.Add(nil, "minimumThroughputBillingCommitment", "Member must not be null")
	case m.Status == nil:
		v.Add(nil, "minimumThroughputBillingCommitment.status", "Member must not be null")
	case *m.Status != commitEnabled && *m.Status != commitDisabled:
		v.Add(*m.Status, "minimumThroughputBillingCommitment.status", "Member must satisfy enum value set: [ENABLED, DISABLED]")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.accounts[r.Account]
	if a == nil {
		a = &accountSettings{}
	}
	prev := *a
	s.settleCommitmentLocked(a)
	now := s.nowMs()
	switch *m.Status {
	case commitEnabled:
		if a.CommitmentStatus == commitUntilEarlier {
			a.CommitmentStatus, a.EndedMs = commitEnabled, 0
		} else if a.CommitmentStatus != commitEnabled {
			*a = accountSettings{CommitmentStatus: commitEnabled, StartedMs: now, EarliestEndMs: now + commitMinMs}
		}
	case commitDisabled:
		if a.CommitmentStatus == commitEnabled {
			if now < a.EarliestEndMs {
				a.CommitmentStatus, a.EndedMs = commitUntilEarlier, a.EarliestEndMs
			} else {
				a.CommitmentStatus, a.EndedMs = commitDisabled, now
			}
		}
	}
	_, existed := s.accounts[r.Account]
	s.accounts[r.Account] = a
	if err := s.commitLocked(); err != nil {
		if existed {
			*a = prev
		} else {
			delete(s.accounts, r.Account)
		}
		return nil, err
	}
	return s.accountSettingsLocked(r.Account), nil
}
