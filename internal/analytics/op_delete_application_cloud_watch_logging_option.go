package analytics

// DeleteApplicationCloudWatchLoggingOption removes a logging option by id
// (ResourceNotFoundException when unknown).

import (
	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/awsproto"
)

type deleteLoggingInput struct {
	ApplicationName             *string `json:"ApplicationName"`
	CurrentApplicationVersionId *int64  `json:"CurrentApplicationVersionId"`
	ConditionalToken            *string `json:"ConditionalToken"`
	CloudWatchLoggingOptionId   *string `json:"CloudWatchLoggingOptionId"`
}

func init() {
	registerV1("DeleteApplicationCloudWatchLoggingOption", func(s *Service, r *awsproto.Request) (any, error) { return s.deleteLogging(r, 1) })
	registerV2("DeleteApplicationCloudWatchLoggingOption", func(s *Service, r *awsproto.Request) (any, error) { return s.deleteLogging(r, 2) })
}

func (s *Service) deleteLogging(r *awsproto.Request, apiVersion int) (any, error) {
	var in deleteLoggingInput
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	var v awserr.Validation
	requireAppName(&v, in.ApplicationName, "applicationName")
	if apiVersion == 1 {
		requireVersion(&v, in.CurrentApplicationVersionId, "currentApplicationVersionId")
	}
	requireID(&v, in.CloudWatchLoggingOptionId, "cloudWatchLoggingOptionId")
	if err := v.Err(); err != nil {
		return nil, err
	}
	a, err := s.mutate(r, change{apiVersion: apiVersion, name: *in.ApplicationName, version: in.CurrentApplicationVersionId, token: in.ConditionalToken,
		apply: func(a *application) error {
			for i, x := range a.Logging {
				if x.ID == *in.CloudWatchLoggingOptionId {
					a.Logging = append(a.Logging[:i:i], a.Logging[i+1:]...)
					return nil
				}
			}
			return awserr.New(TResourceNotFound, 400, "CloudWatch logging option %s does not exist in application %s.", *in.CloudWatchLoggingOptionId, a.Name)
		}})
	if err != nil {
		return nil, err
	}
	if apiVersion == 1 {
		return struct{}{}, nil
	}
	return map[string]any{"ApplicationARN": a.arn(), "ApplicationVersionId": a.Version, "CloudWatchLoggingOptionDescriptions": a.loggingDescriptions(), "OperationId": newOperationID()}, nil
}
