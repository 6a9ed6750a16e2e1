package analytics

// DeleteApplicationOutput removes an output by OutputId
// (ResourceNotFoundException when unknown). A running application stops
// writing to it (it restarts from its checkpoint without the output).

import (
	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/awsproto"
)

type deleteOutputInput struct {
	ApplicationName             *string `json:"ApplicationName"`
	CurrentApplicationVersionId *int64  `json:"CurrentApplicationVersionId"`
	OutputId                    *string `json:"OutputId"`
}

func init() {
	registerV1("DeleteApplicationOutput", func(s *Service, r *awsproto.Request) (any, error) { return s.deleteOutput(r, 1) })
	registerV2("DeleteApplicationOutput", func(s *Service, r *awsproto.Request) (any, error) { return s.deleteOutput(r, 2) })
}

func (s *Service) deleteOutput(r *awsproto.Request, apiVersion int) (any, error) {
	var in deleteOutputInput
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	var v awserr.Validation
	requireAppName(&v, in.ApplicationName, "applicationName")
	requireVersion(&v, in.CurrentApplicationVersionId, "currentApplicationVersionId")
	requireID(&v, in.OutputId, "outputId")
	if err := v.Err(); err != nil {
		return nil, err
	}
	a, err := s.mutate(r, change{apiVersion: apiVersion, name: *in.ApplicationName, version: in.CurrentApplicationVersionId,
		apply: func(a *application) error {
			for i, o := range a.Outputs {
				if o.ID == *in.OutputId {
					a.Outputs = append(a.Outputs[:i:i], a.Outputs[i+1:]...)
					return nil
				}
			}
			return awserr.New(TResourceNotFound, 400, "Output %s does not exist in application %s.", *in.OutputId, a.Name)
		}})
	if err != nil {
		return nil, err
	}
	return versionOutput(a, apiVersion), nil
}

// versionOutput is the v2 answer of the delete operations.
func versionOutput(a *application, apiVersion int) any {
	if apiVersion == 1 {
		return struct{}{}
	}
	return map[string]any{"ApplicationARN": a.arn(), "ApplicationVersionId": a.Version}
}
