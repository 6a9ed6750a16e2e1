package analytics

// DeleteApplicationReferenceDataSource removes the reference table by
// ReferenceId (ResourceNotFoundException when unknown). Code that still
// joins the table fails to compile, so the deletion is refused with
// CodeValidationException until the code changes.

import (
	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/awsproto"
)

type deleteReferenceInput struct {
	ApplicationName             *string `json:"ApplicationName"`
	CurrentApplicationVersionId *int64  `json:"CurrentApplicationVersionId"`
	ReferenceId                 *string `json:"ReferenceId"`
}

func init() {
	registerV1("DeleteApplicationReferenceDataSource", func(s *Service, r *awsproto.Request) (any, error) { return s.deleteReference(r, 1) })
	registerV2("DeleteApplicationReferenceDataSource", func(s *Service, r *awsproto.Request) (any, error) { return s.deleteReference(r, 2) })
}

func (s *Service) deleteReference(r *awsproto.Request, apiVersion int) (any, error) {
	var in deleteReferenceInput
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	var v awserr.Validation
	requireAppName(&v, in.ApplicationName, "applicationName")
	requireVersion(&v, in.CurrentApplicationVersionId, "currentApplicationVersionId")
	requireID(&v, in.ReferenceId, "referenceId")
	if err := v.Err(); err != nil {
		return nil, err
	}
	a, err := s.mutate(r, change{apiVersion: apiVersion, name: *in.ApplicationName, version: in.CurrentApplicationVersionId, recompile: true,
		apply: func(a *application) error {
			for i, x := range a.References {
				if x.ID == *in.ReferenceId {
					a.References = append(a.References[:i:i], a.References[i+1:]...)
					return nil
				}
			}
			return awserr.New(TResourceNotFound, 400, "Reference data source %s does not exist in application %s.", *in.ReferenceId, a.Name)
		}})
	if err != nil {
		return nil, err
	}
	return versionOutput(a, apiVersion), nil
}
