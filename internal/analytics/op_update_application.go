package analytics

// UpdateApplication changes code, inputs, outputs, reference sources and
// logging options in one call, by id, against CurrentApplicationVersionId
// (v2: or ConditionalToken): a stale version is
// ConcurrentModificationException, an unknown id ResourceNotFoundException,
// an empty update InvalidArgumentException. The result is one new version;
// new code is compiled (CodeValidationException leaves the application
// unchanged). A RUNNING application restarts with the new configuration
// from its checkpoint (operator state is restored when the new code still
// matches it, otherwise it starts empty at the saved source positions);
// reference tables are reloaded. v2 also takes ServiceExecutionRoleUpdate
// and, for SQL applications only, SqlApplicationConfigurationUpdate.

import (
	"encoding/json"
	"fmt"

	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/awsproto"
)

type applicationUpdate struct {
	ApplicationCodeUpdate          *string                         `json:"ApplicationCodeUpdate"`
	InputUpdates                   []InputUpdate                   `json:"InputUpdates"`
	OutputUpdates                  []OutputUpdate                  `json:"OutputUpdates"`
	ReferenceDataSourceUpdates     []ReferenceDataSourceUpdate     `json:"ReferenceDataSourceUpdates"`
	CloudWatchLoggingOptionUpdates []CloudWatchLoggingOptionUpdate `json:"CloudWatchLoggingOptionUpdates"`
}

type updateApplicationInput struct {
	ApplicationName             *string            `json:"ApplicationName"`
	CurrentApplicationVersionId *int64             `json:"CurrentApplicationVersionId"`
	ApplicationUpdate           *applicationUpdate `json:"ApplicationUpdate"`
	// v2
	ConditionalToken               *string                         `json:"ConditionalToken"`
	ServiceExecutionRoleUpdate     *string                         `json:"ServiceExecutionRoleUpdate"`
	RuntimeEnvironmentUpdate       *string                         `json:"RuntimeEnvironmentUpdate"`
	CloudWatchLoggingOptionUpdates []CloudWatchLoggingOptionUpdate `json:"CloudWatchLoggingOptionUpdates"`
	ApplicationConfigurationUpdate *struct {
		ApplicationCodeConfigurationUpdate *struct {
			CodeContentTypeUpdate *string `json:"CodeContentTypeUpdate"`
			CodeContentUpdate     *struct {
				TextContentUpdate       *string         `json:"TextContentUpdate"`
				ZipFileContentUpdate    []byte          `json:"ZipFileContentUpdate"`
				S3ContentLocationUpdate json.RawMessage `json:"S3ContentLocationUpdate"`
			} `json:"CodeContentUpdate"`
		} `json:"ApplicationCodeConfigurationUpdate"`
		SqlApplicationConfigurationUpdate *struct {
			InputUpdates               []InputUpdate               `json:"InputUpdates"`
			OutputUpdates              []OutputUpdate              `json:"OutputUpdates"`
			ReferenceDataSourceUpdates []ReferenceDataSourceUpdate `json:"ReferenceDataSourceUpdates"`
		} `json:"SqlApplicationConfigurationUpdate"`
		FlinkApplicationConfigurationUpdate json.RawMessage `json:"FlinkApplicationConfigurationUpdate"`
		EnvironmentPropertyUpdates          json.RawMessage `json:"EnvironmentPropertyUpdates"`
	} `json:"ApplicationConfigurationUpdate"`
	RunConfigurationUpdate json.RawMessage `json:"RunConfigurationUpdate"`
}

func init() {
	registerV1("UpdateApplication", func(s *Service, r *awsproto.Request) (any, error) { return s.updateApplication(r, 1) })
	registerV2("UpdateApplication", func(s *Service, r *awsproto.Request) (any, error) { return s.updateApplication(r, 2) })
}

func (s *Service) updateApplication(r *awsproto.Request, apiVersion int) (any, error) {
	var in updateApplicationInput
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	var v awserr.Validation
	requireAppName(&v, in.ApplicationName, "applicationName")
	u := in.ApplicationUpdate
	if apiVersion == 1 {
		requireVersion(&v, in.CurrentApplicationVersionId, "currentApplicationVersionId")
		if u == nil {
			v.Add(nil, "applicationUpdate", "Member must not be null")
		}
	} else {
		u = &applicationUpdate{CloudWatchLoggingOptionUpdates: in.CloudWatchLoggingOptionUpdates}
		if c := in.ApplicationConfigurationUpdate; c != nil {
			if cc := c.ApplicationCodeConfigurationUpdate; cc != nil && cc.CodeContentUpdate != nil {
				u.ApplicationCodeUpdate = cc.CodeContentUpdate.TextContentUpdate
			}
			if sq := c.SqlApplicationConfigurationUpdate; sq != nil {
				u.InputUpdates, u.OutputUpdates, u.ReferenceDataSourceUpdates = sq.InputUpdates, sq.OutputUpdates, sq.ReferenceDataSourceUpdates
			}
		}
		checkARN(&v, in.ServiceExecutionRoleUpdate, "serviceExecutionRoleUpdate", false)
	}
	if u != nil {
		checkCode(&v, u.ApplicationCodeUpdate, "applicationUpdate.applicationCodeUpdate")
		for i, iu := range u.InputUpdates {
			requireID(&v, iu.InputId, fmt.Sprintf("applicationUpdate.inputUpdates.%d.member.inputId", i+1))
		}
		for i, ou := range u.OutputUpdates {
			requireID(&v, ou.OutputId, fmt.Sprintf("applicationUpdate.outputUpdates.%d.member.outputId", i+1))
		}
		for i, ru := range u.ReferenceDataSourceUpdates {
			requireID(&v, ru.ReferenceId, fmt.Sprintf("applicationUpdate.referenceDataSourceUpdates.%d.member.referenceId", i+1))
		}
		for i, lu := range u.CloudWatchLoggingOptionUpdates {
			requireID(&v, lu.CloudWatchLoggingOptionId, fmt.Sprintf("applicationUpdate.cloudWatchLoggingOptionUpdates.%d.member.cloudWatchLoggingOptionId", i+1))
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	empty := u.ApplicationCodeUpdate == nil && len(u.InputUpdates) == 0 && len(u.OutputUpdates) == 0 &&
		len(u.ReferenceDataSourceUpdates) == 0 && len(u.CloudWatchLoggingOptionUpdates) == 0
	if apiVersion == 2 {
		empty = empty && in.ServiceExecutionRoleUpdate == nil && in.ApplicationConfigurationUpdate == nil && in.RunConfigurationUpdate == nil
	}
	if empty {
		return nil, errInvalidArg("ApplicationUpdate must change at least one thing.")
	}
	a, err := s.mutate(r, change{apiVersion: apiVersion, name: *in.ApplicationName, version: in.CurrentApplicationVersionId, token: in.ConditionalToken, recompile: true,
		apply: func(a *application) error {
			if apiVersion == 2 {
				if in.RuntimeEnvironmentUpdate != nil && *in.RuntimeEnvironmentUpdate != a.Runtime {
					return errInvalidArg("RuntimeEnvironment of application %s cannot change from %s to %s.", a.Name, a.Runtime, *in.RuntimeEnvironmentUpdate)
				}
				if in.ServiceExecutionRoleUpdate != nil {
					a.ServiceRole = *in.ServiceExecutionRoleUpdate
				}
				if c := in.ApplicationConfigurationUpdate; c != nil {
					if !a.isSQL() && c.SqlApplicationConfigurationUpdate != nil {
						return errInvalidArg("SqlApplicationConfigurationUpdate applies to SQL applications only.")
					}
					if cc := c.ApplicationCodeConfigurationUpdate; cc != nil && cc.CodeContentUpdate != nil {
						if cc.CodeContentUpdate.ZipFileContentUpdate != nil {
							a.CodeZip, a.CodeType = cc.CodeContentUpdate.ZipFileContentUpdate, "ZIPFILE"
						}
						if cc.CodeContentUpdate.S3ContentLocationUpdate != nil {
							a.CodeS3, a.CodeType = cc.CodeContentUpdate.S3ContentLocationUpdate, "ZIPFILE"
						}
					}
					if c.FlinkApplicationConfigurationUpdate != nil {
						if a.isSQL() {
							return errInvalidArg("FlinkApplicationConfigurationUpdate applies to Flink applications only.")
						}
						setOther(a, "FlinkApplicationConfigurationUpdate", c.FlinkApplicationConfigurationUpdate)
					}
					if c.EnvironmentPropertyUpdates != nil {
						setOther(a, "EnvironmentPropertyDescriptions", envDescription(c.EnvironmentPropertyUpdates))
					}
				}
			}
			return applyUpdate(a, u)
		}})
	if err != nil {
		return nil, err
	}
	if apiVersion == 1 {
		return struct{}{}, nil
	}
	return map[string]any{"ApplicationDetail": a.detailV2(), "OperationId": newOperationID()}, nil
}

func setOther(a *application, k string, v json.RawMessage) {
	if a.Other == nil {
		a.Other = map[string]json.RawMessage{}
	}
	a.Other[k] = v
}

// envDescription turns EnvironmentProperties / EnvironmentPropertyUpdates
// ({"PropertyGroups": […]}) into EnvironmentPropertyDescriptions.
func envDescription(raw json.RawMessage) json.RawMessage {
	var p struct {
		PropertyGroups json.RawMessage `json:"PropertyGroups"`
	}
	if json.Unmarshal(raw, &p) != nil || p.PropertyGroups == nil {
		return json.RawMessage(`{"PropertyGroupDescriptions":[]}`)
	}
	b, _ := json.Marshal(map[string]json.RawMessage{"PropertyGroupDescriptions": p.PropertyGroups})
	return b
}

// applyUpdate applies the shared ApplicationUpdate members.
func applyUpdate(a *application, u *applicationUpdate) error {
	if u.ApplicationCodeUpdate != nil {
		if !a.isSQL() {
			return errInvalidArg("ApplicationCodeUpdate applies to SQL applications only.")
		}
		a.Code = *u.ApplicationCodeUpdate
		a.CodeType = ""
	}
	for _, iu := range u.InputUpdates {
		st := findInput(a, *iu.InputId)
		if st == nil {
			return awserr.New(TResourceNotFound, 400, "Input %s does not exist in application %s.", *iu.InputId, a.Name)
		}
		in := st.Input
		if iu.NamePrefixUpdate != nil {
			p := *iu.NamePrefixUpdate
			in.NamePrefix = &p
		}
		if iu.InputProcessingConfigurationUpdate != nil {
			return errLambdaUnsupported()
		}
		if x := iu.KinesisStreamsInputUpdate; x != nil {
			if in.KinesisStreamsInput == nil {
				in.KinesisFirehoseInput = nil
				in.KinesisStreamsInput = &ResourceRole{}
			} else {
				c := *in.KinesisStreamsInput
				in.KinesisStreamsInput = &c
			}
			applyRR(in.KinesisStreamsInput, x)
		}
		if x := iu.KinesisFirehoseInputUpdate; x != nil {
			if in.KinesisFirehoseInput == nil {
				in.KinesisStreamsInput = nil
				in.KinesisFirehoseInput = &ResourceRole{}
			} else {
				c := *in.KinesisFirehoseInput
				in.KinesisFirehoseInput = &c
			}
			applyRR(in.KinesisFirehoseInput, x)
		}
		if x := iu.InputSchemaUpdate; x != nil {
			sc := SourceSchema{}
			if in.InputSchema != nil {
				sc = *in.InputSchema
			}
			if x.RecordFormatUpdate != nil {
				sc.RecordFormat = x.RecordFormatUpdate
			}
			if x.RecordEncodingUpdate != nil {
				sc.RecordEncoding = x.RecordEncodingUpdate
			}
			if x.RecordColumnUpdates != nil {
				sc.RecordColumns = x.RecordColumnUpdates
			}
			in.InputSchema = &sc
		}
		if x := iu.InputParallelismUpdate; x != nil && x.CountUpdate != nil {
			if *x.CountUpdate < 1 || *x.CountUpdate > 64 {
				return errInvalidArg("InputParallelism count must be between 1 and 64.")
			}
			c := *x.CountUpdate
			in.InputParallelism = &InputParallelism{Count: &c}
		}
		if err := inputSemantics(&in); err != nil {
			return err
		}
		var v awserr.Validation
		checkInput(&v, &in, "applicationUpdate.inputUpdates.member", true)
		if err := v.Err(); err != nil {
			return err
		}
		st.Input = in
	}
	for _, ou := range u.OutputUpdates {
		var st *outputState
		for _, o := range a.Outputs {
			if o.ID == *ou.OutputId {
				st = o
			}
		}
		if st == nil {
			return awserr.New(TResourceNotFound, 400, "Output %s does not exist in application %s.", *ou.OutputId, a.Name)
		}
		o := st.Output
		if ou.NameUpdate != nil {
			n := *ou.NameUpdate
			o.Name = &n
		}
		set := func(dst **ResourceRole, x *ResourceRoleUpdate) {
			if x == nil {
				return
			}
			if *dst == nil {
				o.KinesisStreamsOutput, o.KinesisFirehoseOutput, o.LambdaOutput = nil, nil, nil
				*dst = &ResourceRole{}
			} else {
				c := **dst
				*dst = &c
			}
			applyRR(*dst, x)
		}
		set(&o.KinesisStreamsOutput, ou.KinesisStreamsOutputUpdate)
		set(&o.KinesisFirehoseOutput, ou.KinesisFirehoseOutputUpdate)
		set(&o.LambdaOutput, ou.LambdaOutputUpdate)
		if ou.DestinationSchemaUpdate != nil {
			o.DestinationSchema = ou.DestinationSchemaUpdate
		}
		if err := outputSemantics(&o); err != nil {
			return err
		}
		st.Output = o
	}
	for _, ru := range u.ReferenceDataSourceUpdates {
		var st *referenceState
		for _, x := range a.References {
			if x.ID == *ru.ReferenceId {
				st = x
			}
		}
		if st == nil {
			return awserr.New(TResourceNotFound, 400, "Reference data source %s does not exist in application %s.", *ru.ReferenceId, a.Name)
		}
		ref := st.Ref
		if ru.TableNameUpdate != nil {
			t := *ru.TableNameUpdate
			ref.TableName = &t
		}
		if x := ru.S3ReferenceDataSourceUpdate; x != nil {
			s3 := S3ReferenceDataSource{}
			if ref.S3ReferenceDataSource != nil {
				s3 = *ref.S3ReferenceDataSource
			}
			if x.BucketARNUpdate != nil {
				s3.BucketARN = *x.BucketARNUpdate
			}
			if x.FileKeyUpdate != nil {
				s3.FileKey = *x.FileKeyUpdate
			}
			if x.ReferenceRoleARNUpdate != nil {
				s3.ReferenceRoleARN = x.ReferenceRoleARNUpdate
			}
			ref.S3ReferenceDataSource = &s3
		}
		if ru.ReferenceSchemaUpdate != nil {
			ref.ReferenceSchema = ru.ReferenceSchemaUpdate
		}
		if err := referenceSemantics(&ref); err != nil {
			return err
		}
		st.Ref = ref
	}
	for _, lu := range u.CloudWatchLoggingOptionUpdates {
		var st *loggingState
		for _, x := range a.Logging {
			if x.ID == *lu.CloudWatchLoggingOptionId {
				st = x
			}
		}
		if st == nil {
			return awserr.New(TResourceNotFound, 400, "CloudWatch logging option %s does not exist in application %s.", *lu.CloudWatchLoggingOptionId, a.Name)
		}
		if lu.LogStreamARNUpdate != nil {
			l := *lu.LogStreamARNUpdate
			st.Opt.LogStreamARN = &l
		}
		if lu.RoleARNUpdate != nil {
			l := *lu.RoleARNUpdate
			st.Opt.RoleARN = &l
		}
	}
	return nil
}

func applyRR(dst *ResourceRole, u *ResourceRoleUpdate) {
	if u.ResourceARNUpdate != nil {
		dst.ResourceARN = *u.ResourceARNUpdate
	}
	if u.RoleARNUpdate != nil {
		r := *u.RoleARNUpdate
		dst.RoleARN = &r
	}
}
