package analytics

// AddApplicationCloudWatchLoggingOption stores a CloudWatch log stream for
// configuration errors (one per application). Eddy has no CloudWatch Logs:
// the option is kept and described, and errors go to the server log.
// v2 takes no RoleARN and also accepts ConditionalToken.

import (
	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/awsproto"
)

type addLoggingInput struct {
	ApplicationName             *string                  `json:"ApplicationName"`
	CurrentApplicationVersionId *int64                   `json:"CurrentApplicationVersionId"`
	ConditionalToken            *string                  `json:"ConditionalToken"`
	CloudWatchLoggingOption     *CloudWatchLoggingOption `json:"CloudWatchLoggingOption"`
}

func init() {
	registerV1("AddApplicationCloudWatchLoggingOption", func(s *Service, r *awsproto.Request) (any, error) { return s.addLogging(r, 1) })
	registerV2("AddApplicationCloudWatchLoggingOption", func(s *Service, r *awsproto.Request) (any, error) { return s.addLogging(r, 2) })
}

func (s *Service) addLogging(r *awsproto.Request, apiVersion int) (any, error) {
	var in addLoggingInput
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	var v awserr.Validation
	requireAppName(&v, in.ApplicationName, "applicationName")
	if apiVersion == 1 {
		requireVersion(&v, in.CurrentApplicationVersionId, "currentApplicationVersionId")
	}
	if in.CloudWatchLoggingOption == nil {
		v.Add(nil, "cloudWatchLoggingOption", "Member must not be null")
	} else {
		checkLogging(&v, in.CloudWatchLoggingOption, "cloudWatchLoggingOption", apiVersion == 2)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	var desc []CloudWatchLoggingOptionDescription
	a, err := s.mutate(r, change{apiVersion: apiVersion, name: *in.ApplicationName, version: in.CurrentApplicationVersionId, token: in.ConditionalToken,
		apply: func(a *application) error {
			if len(a.Logging) > 0 {
				return errInvalidArg("Application %s already has a CloudWatch logging option.", a.Name)
			}
			a.Logging = append(a.Logging, &loggingState{ID: a.newID(), Opt: *in.CloudWatchLoggingOption})
			desc = a.loggingDescriptions()
			return nil
		}})
	if err != nil {
		return nil, err
	}
	if apiVersion == 1 {
		return struct{}{}, nil
	}
	return map[string]any{"ApplicationARN": a.arn(), "ApplicationVersionId": a.Version, "CloudWatchLoggingOptionDescriptions": desc, "OperationId": newOperationID()}, nil
}
