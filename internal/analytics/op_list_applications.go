package analytics

// ListApplications lists the account's applications in the region in name
// order. v1 pages with Limit (1–50, default 50) and
// ExclusiveStartApplicationName, answering HasMoreApplications; v2 pages
// with Limit (1–50) and an opaque NextToken (the last name listed). v1
// lists every application, including those managed through v2 (AWS lists
// them too; only changes are refused).

import (
	"sort"

	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/awsproto"
)

type listApplicationsInput struct {
	Limit                         *int64  `json:"Limit"`
	ExclusiveStartApplicationName *string `json:"ExclusiveStartApplicationName"`
	NextToken                     *string `json:"NextToken"`
}

func init() {
	registerV1("ListApplications", func(s *Service, r *awsproto.Request) (any, error) { return s.listApplications(r, 1) })
	registerV2("ListApplications", func(s *Service, r *awsproto.Request) (any, error) { return s.listApplications(r, 2) })
}

func (s *Service) listApplications(r *awsproto.Request, apiVersion int) (any, error) {
	var in listApplicationsInput
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	var v awserr.Validation
	if in.Limit != nil {
		if *in.Limit < 1 {
			v.Add(*in.Limit, "limit", "Member must have value greater than or equal to 1")
		}
		if *in.Limit > 50 {
			v.Add(*in.Limit, "limit", "Member must have value less than or equal to 50")
		}
	}
	after := ""
	if apiVersion == 1 && in.ExclusiveStartApplicationName != nil {
		requireAppName(&v, in.ExclusiveStartApplicationName, "exclusiveStartApplicationName")
		after = *in.ExclusiveStartApplicationName
	}
	if apiVersion == 2 && in.NextToken != nil {
		checkLen(&v, *in.NextToken, "nextToken", 1, 128)
		after = *in.NextToken
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	limit := 50
	if in.Limit != nil {
		limit = int(*in.Limit)
	}
	s.mu.Lock()
	var apps []*application
	for k, a := range s.apps {
		if k.account == r.Account && k.region == r.Region && a.Name > after {
			apps = append(apps, a)
		}
	}
	sort.Slice(apps, func(i, j int) bool { return apps[i].Name < apps[j].Name })
	more := len(apps) > limit
	if more {
		apps = apps[:limit]
	}
	var out any
	if apiVersion == 1 {
		sums := make([]applicationSummaryV1, 0, len(apps))
		for _, a := range apps {
			sums = append(sums, a.summaryV1())
		}
		out = map[string]any{"ApplicationSummaries": sums, "HasMoreApplications": more}
	} else {
		sums := make([]applicationSummaryV2, 0, len(apps))
		for _, a := range apps {
			sums = append(sums, a.summaryV2())
		}
		m := map[string]any{"ApplicationSummaries": sums}
		if more {
			m["NextToken"] = apps[len(apps)-1].Name
		}
		out = m
	}
	s.mu.Unlock()
	return out, nil
}
