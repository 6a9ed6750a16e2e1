package analytics

// DeleteApplicationInputProcessingConfiguration removes an input's
// preprocessor. Eddy stores none (Lambda preprocessing is refused when
// added), so for an existing input it answers ResourceNotFoundException
// naming the missing configuration.

import (
	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/awsproto"
)

type deleteProcessingInput struct {
	ApplicationName             *string `json:"ApplicationName"`
	CurrentApplicationVersionId *int64  `json:"CurrentApplicationVersionId"`
	InputId                     *string `json:"InputId"`
}

func init() {
	registerV1("DeleteApplicationInputProcessingConfiguration", func(s *Service, r *awsproto.Request) (any, error) { return s.deleteProcessing(r, 1) })
	registerV2("DeleteApplicationInputProcessingConfiguration", func(s *Service, r *awsproto.Request) (any, error) { return s.deleteProcessing(r, 2) })
}

func (s *Service) deleteProcessing(r *awsproto.Request, apiVersion int) (any, error) {
	var in deleteProcessingInput
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	var v awserr.Validation
	requireAppName(&v, in.ApplicationName, "applicationName")
	requireVersion(&v, in.CurrentApplicationVersionId, "currentApplicationVersionId")
	requireID(&v, in.InputId, "inputId")
	if err := v.Err(); err != nil {
		return nil, err
	}
	a, err := s.mutate(r, change{apiVersion: apiVersion, name: *in.ApplicationName, version: in.CurrentApplicationVersionId,
		apply: func(a *application) error {
			in2 := findInput(a, *in.InputId)
			if in2 == nil {
				return awserr.New(TResourceNotFound, 400, "Input %s does not exist in application %s.", *in.InputId, a.Name)
			}
			if in2.Input.InputProcessingConfiguration == nil {
				return awserr.New(TResourceNotFound, 400, "Input %s of application %s has no input processing configuration.", *in.InputId, a.Name)
			}
			in2.Input.InputProcessingConfiguration = nil
			return nil
		}})
	if err != nil {
		return nil, err
	}
	return versionOutput(a, apiVersion), nil
}
