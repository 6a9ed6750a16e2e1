package analytics

// AddApplicationInputProcessingConfiguration would attach a Lambda
// preprocessor to an input. Eddy has no Lambda service yet, so after the
// usual checks (application, version, input id) it answers
// InvalidArgumentException saying so, and stores nothing.

import (
	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/awsproto"
)

type addProcessingInput struct {
	ApplicationName              *string                       `json:"ApplicationName"`
	CurrentApplicationVersionId  *int64                        `json:"CurrentApplicationVersionId"`
	InputId                      *string                       `json:"InputId"`
	InputProcessingConfiguration *InputProcessingConfiguration `json:"InputProcessingConfiguration"`
}

func init() {
	registerV1("AddApplicationInputProcessingConfiguration", func(s *Service, r *awsproto.Request) (any, error) { return s.addProcessing(r, 1) })
	registerV2("AddApplicationInputProcessingConfiguration", func(s *Service, r *awsproto.Request) (any, error) { return s.addProcessing(r, 2) })
}

func (s *Service) addProcessing(r *awsproto.Request, apiVersion int) (any, error) {
	var in addProcessingInput
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	var v awserr.Validation
	requireAppName(&v, in.ApplicationName, "applicationName")
	requireVersion(&v, in.CurrentApplicationVersionId, "currentApplicationVersionId")
	requireID(&v, in.InputId, "inputId")
	if in.InputProcessingConfiguration == nil {
		v.Add(nil, "inputProcessingConfiguration", "Member must not be null")
	} else if in.InputProcessingConfiguration.InputLambdaProcessor == nil {
		v.Add(nil, "inputProcessingConfiguration.inputLambdaProcessor", "Member must not be null")
	} else {
		checkResourceRole(&v, in.InputProcessingConfiguration.InputLambdaProcessor, "inputProcessingConfiguration.inputLambdaProcessor", apiVersion == 1)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	_, err := s.mutate(r, change{apiVersion: apiVersion, name: *in.ApplicationName, version: in.CurrentApplicationVersionId,
		apply: func(a *application) error {
			if findInput(a, *in.InputId) == nil {
				return awserr.New(TResourceNotFound, 400, "Input %s does not exist in application %s.", *in.InputId, a.Name)
			}
			return errLambdaUnsupported()
		}})
	return nil, err
}

func findInput(a *application, id string) *inputState {
	for _, in := range a.Inputs {
		if in.ID == id {
			return in
		}
	}
	return nil
}
