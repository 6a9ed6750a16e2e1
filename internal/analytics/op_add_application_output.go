package analytics

// AddApplicationOutput routes an in-application stream (case-sensitive
// name; error_stream is allowed) to a data stream or delivery stream, in
// JSON or CSV. Up to three outputs (LimitExceededException). Lambda
// outputs are stored but the runner refuses them at start until Eddy has
// Lambda. A running application restarts with the new output.

import (
	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/awsproto"
)

type addApplicationOutputInput struct {
	ApplicationName             *string `json:"ApplicationName"`
	CurrentApplicationVersionId *int64  `json:"CurrentApplicationVersionId"`
	Output                      *Output `json:"Output"`
}

func init() {
	registerV1("AddApplicationOutput", func(s *Service, r *awsproto.Request) (any, error) { return s.addApplicationOutput(r, 1) })
	registerV2("AddApplicationOutput", func(s *Service, r *awsproto.Request) (any, error) { return s.addApplicationOutput(r, 2) })
}

func (s *Service) addApplicationOutput(r *awsproto.Request, apiVersion int) (any, error) {
	var in addApplicationOutputInput
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	var v awserr.Validation
	requireAppName(&v, in.ApplicationName, "applicationName")
	requireVersion(&v, in.CurrentApplicationVersionId, "currentApplicationVersionId")
	if in.Output == nil {
		v.Add(nil, "output", "Member must not be null")
	} else {
		checkOutput(&v, in.Output, "output", apiVersion == 2)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if err := outputSemantics(in.Output); err != nil {
		return nil, err
	}
	var desc []OutputDescription
	a, err := s.mutate(r, change{apiVersion: apiVersion, name: *in.ApplicationName, version: in.CurrentApplicationVersionId,
		apply: func(a *application) error {
			if !a.isSQL() {
				return errInvalidArg("Outputs can only be added to SQL applications.")
			}
			if len(a.Outputs) >= maxOutputs {
				return awserr.New(TLimitExceeded, 400, "Application %s already has %d outputs, the maximum.", a.Name, maxOutputs)
			}
			for _, o := range a.Outputs {
				if o.Output.Name != nil && *o.Output.Name == *in.Output.Name && sameDestination(&o.Output, in.Output) {
					return errInvalidArg("Application %s already sends %s to this destination.", a.Name, *in.Output.Name)
				}
			}
			a.Outputs = append(a.Outputs, &outputState{ID: a.newID(), Output: *in.Output})
			desc = a.outputDescriptions()
			return nil
		}})
	if err != nil {
		return nil, err
	}
	if apiVersion == 1 {
		return struct{}{}, nil
	}
	return map[string]any{"ApplicationARN": a.arn(), "ApplicationVersionId": a.Version, "OutputDescriptions": desc}, nil
}

func sameDestination(a, b *Output) bool {
	arn := func(o *Output) string {
		for _, x := range []*ResourceRole{o.KinesisStreamsOutput, o.KinesisFirehoseOutput, o.LambdaOutput} {
			if x != nil {
				return x.ResourceARN
			}
		}
		return ""
	}
	return arn(a) == arn(b)
}
