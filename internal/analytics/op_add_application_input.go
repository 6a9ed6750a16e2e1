package analytics

// AddApplicationInput adds the application's streaming source (a data
// stream or a delivery stream) with its schema. An application has at most
// one input (a second is InvalidArgumentException). The version must be
// current (ConcurrentModificationException); the change makes a new
// version, and the code is compiled against the new input
// (CodeValidationException). A running application restarts with it.

import (
	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/awsproto"
)

type addApplicationInputInput struct {
	ApplicationName             *string `json:"ApplicationName"`
	CurrentApplicationVersionId *int64  `json:"CurrentApplicationVersionId"`
	Input                       *Input  `json:"Input"`
}

func init() {
	registerV1("AddApplicationInput", func(s *Service, r *awsproto.Request) (any, error) { return s.addApplicationInput(r, 1) })
	registerV2("AddApplicationInput", func(s *Service, r *awsproto.Request) (any, error) { return s.addApplicationInput(r, 2) })
}

func (s *Service) addApplicationInput(r *awsproto.Request, apiVersion int) (any, error) {
	var in addApplicationInputInput
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	var v awserr.Validation
	requireAppName(&v, in.ApplicationName, "applicationName")
	requireVersion(&v, in.CurrentApplicationVersionId, "currentApplicationVersionId")
	if in.Input == nil {
		v.Add(nil, "input", "Member must not be null")
	} else {
		checkInput(&v, in.Input, "input", apiVersion == 2)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if err := inputSemantics(in.Input); err != nil {
		return nil, err
	}
	var desc []InputDescription
	a, err := s.mutate(r, change{apiVersion: apiVersion, name: *in.ApplicationName, version: in.CurrentApplicationVersionId, recompile: true,
		apply: func(a *application) error {
			if !a.isSQL() {
				return errInvalidArg("Inputs can only be added to SQL applications.")
			}
			if len(a.Inputs) > 0 {
				return errInvalidArg("Application %s already has an input; an application has exactly one streaming source.", a.Name)
			}
			a.Inputs = append(a.Inputs, &inputState{ID: a.newID(), Input: *in.Input})
			desc = a.inputDescriptions()
			return nil
		}})
	if err != nil {
		return nil, err
	}
	if apiVersion == 1 {
		return struct{}{}, nil
	}
	return map[string]any{"ApplicationARN": a.arn(), "ApplicationVersionId": a.Version, "InputDescriptions": desc}, nil
}
