package analytics

// DescribeApplication returns an application's full detail: v1 shows
// ApplicationCode and the input/output/reference/logging descriptions with
// their ids and InAppStreamNames; v2 nests them under
// ApplicationConfigurationDescription and adds RuntimeEnvironment,
// ServiceExecutionRole, ConditionalToken and the version timestamps.
// IncludeAdditionalDetails (v2) is accepted and changes nothing for SQL
// applications (no job plan).

import (
	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/awsproto"
)

type describeApplicationInput struct {
	ApplicationName          *string `json:"ApplicationName"`
	IncludeAdditionalDetails *bool   `json:"IncludeAdditionalDetails"`
}

func init() {
	registerV1("DescribeApplication", func(s *Service, r *awsproto.Request) (any, error) { return s.describeApplication(r, 1) })
	registerV2("DescribeApplication", func(s *Service, r *awsproto.Request) (any, error) { return s.describeApplication(r, 2) })
}

func (s *Service) describeApplication(r *awsproto.Request, apiVersion int) (any, error) {
	var in describeApplicationInput
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	var v awserr.Validation
	requireAppName(&v, in.ApplicationName, "applicationName")
	if err := v.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a, err := s.lookupLocked(r, apiVersion, *in.ApplicationName)
	if err != nil {
		return nil, err
	}
	if apiVersion == 1 {
		return map[string]any{"ApplicationDetail": a.detailV1()}, nil
	}
	return map[string]any{"ApplicationDetail": a.detailV2()}, nil
}
