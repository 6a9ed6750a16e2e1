package analytics

// ListApplicationVersions and DescribeApplicationVersion (v2) serve the
// last 50 versions of an application from its history, newest first in the
// list. AWS documents these for Flink applications; Eddy answers them for
// every runtime.

import (
	"encoding/json"
	"strconv"

	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/awsproto"
)

func init() {
	registerV2("ListApplicationVersions", (*Service).listApplicationVersions)
	registerV2("DescribeApplicationVersion", (*Service).describeApplicationVersion)
}

func (s *Service) listApplicationVersions(r *awsproto.Request) (any, error) {
	var in struct {
		ApplicationName *string `json:"ApplicationName"`
		Limit           *int64  `json:"Limit"`
		NextToken       *string `json:"NextToken"`
	}
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	var v awserr.Validation
	requireAppName(&v, in.ApplicationName, "applicationName")
	if in.Limit != nil && (*in.Limit < 1 || *in.Limit > 50) {
		v.Add(*in.Limit, "limit", "Member must have value between 1 and 50")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	limit := 50
	if in.Limit != nil {
		limit = int(*in.Limit)
	}
	skip := 0
	if in.NextToken != nil {
		n, err := strconv.Atoi(*in.NextToken)
		if err != nil || n < 0 {
			return nil, errInvalidArg("Invalid NextToken.")
		}
		skip = n
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a, err := s.lookupLocked(r, 2, *in.ApplicationName)
	if err != nil {
		return nil, err
	}
	sums := []map[string]any{}
	for i := len(a.History) - 1 - skip; i >= 0 && len(sums) < limit; i-- {
		sums = append(sums, map[string]any{"ApplicationVersionId": a.History[i].Version, "ApplicationStatus": a.History[i].Status})
	}
	out := map[string]any{"ApplicationVersionSummaries": sums}
	if skip+len(sums) < len(a.History) {
		out["NextToken"] = strconv.Itoa(skip + len(sums))
	}
	return out, nil
}

func (s *Service) describeApplicationVersion(r *awsproto.Request) (any, error) {
	var in struct {
		ApplicationName      *string `json:"ApplicationName"`
		ApplicationVersionId *int64  `json:"ApplicationVersionId"`
	}
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	var v awserr.Validation
	requireAppName(&v, in.ApplicationName, "applicationName")
	requireVersion(&v, in.ApplicationVersionId, "applicationVersionId")
	if err := v.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a, err := s.lookupLocked(r, 2, *in.ApplicationName)
	if err != nil {
		return nil, err
	}
	for _, h := range a.History {
		if h.Version == *in.ApplicationVersionId {
			return map[string]json.RawMessage{"ApplicationVersionDetail": h.Detail}, nil
		}
	}
	return nil, awserr.New(TResourceNotFound, 400, "Version %d of application %s is not found.", *in.ApplicationVersionId, a.Name)
}
