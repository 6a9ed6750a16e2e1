package analytics

// AddApplicationReferenceDataSource adds the in-application reference
// table loaded from an S3 object (CSV or JSON) when the application starts
// (and reloaded when the application is updated). One reference source per
// application (LimitExceededException); the table name must not collide
// with an in-application stream.

import (
	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/awsproto"
)

type addApplicationReferenceDataSourceInput struct {
	ApplicationName             *string              `json:"ApplicationName"`
	CurrentApplicationVersionId *int64               `json:"CurrentApplicationVersionId"`
	ReferenceDataSource         *ReferenceDataSource `json:"ReferenceDataSource"`
}

func init() {
	registerV1("AddApplicationReferenceDataSource", func(s *Service, r *awsproto.Request) (any, error) { return s.addApplicationReferenceDataSource(r, 1) })
	registerV2("AddApplicationReferenceDataSource", func(s *Service, r *awsproto.Request) (any, error) { return s.addApplicationReferenceDataSource(r, 2) })
}

func (s *Service) addApplicationReferenceDataSource(r *awsproto.Request, apiVersion int) (any, error) {
	var in addApplicationReferenceDataSourceInput
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	var v awserr.Validation
	requireAppName(&v, in.ApplicationName, "applicationName")
	requireVersion(&v, in.CurrentApplicationVersionId, "currentApplicationVersionId")
	if in.ReferenceDataSource == nil {
		v.Add(nil, "referenceDataSource", "Member must not be null")
	} else {
		checkReference(&v, in.ReferenceDataSource, "referenceDataSource", apiVersion == 2)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if err := referenceSemantics(in.ReferenceDataSource); err != nil {
		return nil, err
	}
	var desc []ReferenceDataSourceDescription
	a, err := s.mutate(r, change{apiVersion: apiVersion, name: *in.ApplicationName, version: in.CurrentApplicationVersionId, recompile: true,
		apply: func(a *application) error {
			if !a.isSQL() {
				return errInvalidArg("Reference data sources can only be added to SQL applications.")
			}
			if len(a.References) >= maxReferenceSources {
				return awserr.New(TLimitExceeded, 400, "Application %s already has a reference data source, the maximum.", a.Name)
			}
			if a.nameTaken(*in.ReferenceDataSource.TableName, "") {
				return errInvalidArg("Reference table name %s collides with an in-application stream.", *in.ReferenceDataSource.TableName)
			}
			a.References = append(a.References, &referenceState{ID: a.newID(), Ref: *in.ReferenceDataSource})
			desc = a.referenceDescriptions()
			return nil
		}})
	if err != nil {
		return nil, err
	}
	if apiVersion == 1 {
		return struct{}{}, nil
	}
	return map[string]any{"ApplicationARN": a.arn(), "ApplicationVersionId": a.Version, "ReferenceDataSourceDescriptions": desc}, nil
}
