package kinesis

// PutResourcePolicy attaches (or replaces) a resource policy on a stream or
// consumer named by ResourceARN. The policy must be a JSON object; it is
// stored and returned by GetResourcePolicy but not enforced (Eddy has no
// IAM). A stream must be ACTIVE; a consumer must be ACTIVE (AWS's message).
// Unverified: the text for a policy that is not JSON.

import (
	"encoding/json"
	"strings"

	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/awsproto"
)

type putResourcePolicyInput struct {
	ResourceARN *string `json:"ResourceARN"`
	Policy      *string `json:"Policy"`
}

func init() { register("PutResourcePolicy", (*Service).putResourcePolicy) }

func (s *Service) putResourcePolicy(r *awsproto.Request) (any, error) {
	var in putResourcePolicyInput
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	var v awserr.Validation
	if in.Policy == nil {
		v.Add(nil, "policy", "Member must not be null")
	}
	checkResourceARN(&v, in.ResourceARN, "resourceARN")
	if err := v.Err(); err != nil {
		return nil, err
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(*in.Policy), &doc); err != nil || !strings.HasPrefix(strings.TrimSpace(*in.Policy), "{") {
		return nil, awserr.InvalidArgument("Policy is not a valid JSON policy document.")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st, c, err := s.resourceLocked(*in.ResourceARN)
	if err != nil {
		return nil, err
	}
	if c != nil {
		if c.Status != stateActive {
			return nil, consumerNotActive(st, c)
		}
		c.Policy = *in.Policy
	} else {
		if err := requireActive(st); err != nil {
			return nil, err
		}
		st.Policy = *in.Policy
	}
	return nil, s.commitLocked()
}
