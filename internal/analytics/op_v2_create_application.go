package analytics

// CreateApplication (v2) creates an application of any runtime in READY
// state. SQL-1_0 applications take SqlApplicationConfiguration (inputs,
// outputs, reference sources) and PLAINTEXT code, checked as in v1; FLINK-*
// and ZEPPELIN-FLINK-* applications are stored with their configuration
// (code location, environment properties, Flink settings described with
// AWS's defaults) so tooling can manage them, but StartApplication refuses
// them. ServiceExecutionRole and RuntimeEnvironment are required.

import (
	"encoding/json"
	"strings"

	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/awsproto"
)

type v2CreateApplicationInput struct {
	ApplicationName          *string                   `json:"ApplicationName"`
	ApplicationDescription   *string                   `json:"ApplicationDescription"`
	RuntimeEnvironment       *string                   `json:"RuntimeEnvironment"`
	ServiceExecutionRole     *string                   `json:"ServiceExecutionRole"`
	ApplicationMode          *string                   `json:"ApplicationMode"`
	CloudWatchLoggingOptions []CloudWatchLoggingOption `json:"CloudWatchLoggingOptions"`
	Tags                     []Tag                     `json:"Tags"`
	ApplicationConfiguration *struct {
		SqlApplicationConfiguration *struct {
			Inputs               []Input               `json:"Inputs"`
			Outputs              []Output              `json:"Outputs"`
			ReferenceDataSources []ReferenceDataSource `json:"ReferenceDataSources"`
		} `json:"SqlApplicationConfiguration"`
		ApplicationCodeConfiguration *struct {
			CodeContentType *string `json:"CodeContentType"`
			CodeContent     *struct {
				TextContent       *string         `json:"TextContent"`
				ZipFileContent    []byte          `json:"ZipFileContent"`
				S3ContentLocation json.RawMessage `json:"S3ContentLocation"`
			} `json:"CodeContent"`
		} `json:"ApplicationCodeConfiguration"`
		FlinkApplicationConfiguration          json.RawMessage `json:"FlinkApplicationConfiguration"`
		EnvironmentProperties                  json.RawMessage `json:"EnvironmentProperties"`
		ApplicationSnapshotConfiguration       json.RawMessage `json:"ApplicationSnapshotConfiguration"`
		ApplicationSystemRollbackConfiguration json.RawMessage `json:"ApplicationSystemRollbackConfiguration"`
		VpcConfigurations                      json.RawMessage `json:"VpcConfigurations"`
		ZeppelinApplicationConfiguration       json.RawMessage `json:"ZeppelinApplicationConfiguration"`
	} `json:"ApplicationConfiguration"`
}

// runtimes are kinesisanalyticsv2's RuntimeEnvironment values.
var runtimes = []string{"SQL-1_0", "FLINK-1_6", "FLINK-1_8", "FLINK-1_11", "FLINK-1_13", "FLINK-1_15", "FLINK-1_18", "FLINK-1_19", "FLINK-1_20", "FLINK-2_2", "ZEPPELIN-FLINK-1_0", "ZEPPELIN-FLINK-2_0", "ZEPPELIN-FLINK-3_0"}

func init() { registerV2("CreateApplication", (*Service).createApplicationV2) }

func (s *Service) createApplicationV2(r *awsproto.Request) (any, error) {
	var in v2CreateApplicationInput
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	var v awserr.Validation
	requireAppName(&v, in.ApplicationName, "applicationName")
	checkDescription(&v, in.ApplicationDescription, "applicationDescription")
	if in.RuntimeEnvironment == nil {
		v.Add(nil, "runtimeEnvironment", "Member must not be null")
	} else if !contains(runtimes, *in.RuntimeEnvironment) {
		v.Add(*in.RuntimeEnvironment, "runtimeEnvironment", "Member must satisfy enum value set: ["+strings.Join(runtimes, ", ")+"]")
	}
	checkARN(&v, in.ServiceExecutionRole, "serviceExecutionRole", true)
	if in.ApplicationMode != nil && *in.ApplicationMode != "STREAMING" && *in.ApplicationMode != "INTERACTIVE" {
		v.Add(*in.ApplicationMode, "applicationMode", "Member must satisfy enum value set: [STREAMING, INTERACTIVE]")
	}
	for i := range in.CloudWatchLoggingOptions {
		checkLogging(&v, &in.CloudWatchLoggingOptions[i], "cloudWatchLoggingOptions."+itoa(i+1)+".member", true)
	}
	if in.Tags != nil {
		if len(in.Tags) < 1 {
			v.Add("[]", "tags", "Member must have length greater than or equal to 1")
		}
		checkTags(&v, in.Tags, "tags")
	}
	cfg := in.ApplicationConfiguration
	var inputs []Input
	var outputs []Output
	var refs []ReferenceDataSource
	if cfg != nil && cfg.SqlApplicationConfiguration != nil {
		sq := cfg.SqlApplicationConfiguration
		inputs, outputs, refs = sq.Inputs, sq.Outputs, sq.ReferenceDataSources
		for i := range inputs {
			checkInput(&v, &inputs[i], "applicationConfiguration.sqlApplicationConfiguration.inputs."+itoa(i+1)+".member", true)
		}
		for i := range outputs {
			checkOutput(&v, &outputs[i], "applicationConfiguration.sqlApplicationConfiguration.outputs."+itoa(i+1)+".member", true)
		}
		for i := range refs {
			checkReference(&v, &refs[i], "applicationConfiguration.sqlApplicationConfiguration.referenceDataSources."+itoa(i+1)+".member", true)
		}
	}
	if cfg != nil && cfg.ApplicationCodeConfiguration != nil {
		cc := cfg.ApplicationCodeConfiguration
		if cc.CodeContentType == nil {
			v.Add(nil, "applicationConfiguration.applicationCodeConfiguration.codeContentType", "Member must not be null")
		} else if *cc.CodeContentType != "PLAINTEXT" && *cc.CodeContentType != "ZIPFILE" {
			v.Add(*cc.CodeContentType, "applicationConfiguration.applicationCodeConfiguration.codeContentType", "Member must satisfy enum value set: [PLAINTEXT, ZIPFILE]")
		}
		if cc.CodeContent != nil {
			checkCode(&v, cc.CodeContent.TextContent, "applicationConfiguration.applicationCodeConfiguration.codeContent.textContent")
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	a := &application{Name: *in.ApplicationName, API: 2, Runtime: *in.RuntimeEnvironment, Description: in.ApplicationDescription, ServiceRole: *in.ServiceExecutionRole}
	if in.ApplicationMode != nil {
		a.Mode = *in.ApplicationMode
	} else if !strings.HasPrefix(a.Runtime, "ZEPPELIN") {
		a.Mode = "STREAMING"
	} else {
		a.Mode = "INTERACTIVE"
	}
	if a.isSQL() {
		if cfg != nil && (cfg.FlinkApplicationConfiguration != nil || cfg.ZeppelinApplicationConfiguration != nil || cfg.EnvironmentProperties != nil) {
			return nil, errInvalidArg("SQL applications take SqlApplicationConfiguration and ApplicationCodeConfiguration only.")
		}
	} else if cfg != nil && cfg.SqlApplicationConfiguration != nil {
		return nil, errInvalidArg("SqlApplicationConfiguration applies to SQL-1_0 applications only.")
	}
	if cfg != nil && cfg.ApplicationCodeConfiguration != nil {
		cc := cfg.ApplicationCodeConfiguration
		a.CodeType = *cc.CodeContentType
		if c := cc.CodeContent; c != nil {
			if c.TextContent != nil {
				a.Code = *c.TextContent
			}
			a.CodeZip = c.ZipFileContent
			a.CodeS3 = c.S3ContentLocation
		}
		if a.isSQL() && a.CodeType != "PLAINTEXT" {
			return nil, errInvalidArg("SQL applications take PLAINTEXT code.")
		}
	}
	if !a.isSQL() && cfg != nil {
		if cfg.FlinkApplicationConfiguration != nil || strings.HasPrefix(a.Runtime, "FLINK") {
			setOther(a, "FlinkApplicationConfigurationDescription", flinkDescription(cfg.FlinkApplicationConfiguration))
		}
		if cfg.EnvironmentProperties != nil {
			setOther(a, "EnvironmentPropertyDescriptions", envDescription(cfg.EnvironmentProperties))
		}
		if cfg.ApplicationSnapshotConfiguration != nil {
			setOther(a, "ApplicationSnapshotConfigurationDescription", cfg.ApplicationSnapshotConfiguration)
		}
		if cfg.ApplicationSystemRollbackConfiguration != nil {
			setOther(a, "ApplicationSystemRollbackConfigurationDescription", cfg.ApplicationSystemRollbackConfiguration)
		}
		if cfg.ZeppelinApplicationConfiguration != nil {
			setOther(a, "ZeppelinApplicationConfigurationDescription", cfg.ZeppelinApplicationConfiguration)
		}
	}
	if err := s.fill(a, inputs, outputs, refs, in.CloudWatchLoggingOptions, in.Tags); err != nil {
		return nil, err
	}
	if err := s.create(r, a); err != nil {
		return nil, err
	}
	s.mu.Lock()
	d := a.detailV2()
	s.mu.Unlock()
	return map[string]any{"ApplicationDetail": d}, nil
}

// flinkDescription describes a FlinkApplicationConfiguration with AWS's
// DEFAULT settings where none are given.
func flinkDescription(raw json.RawMessage) json.RawMessage {
	var in struct {
		CheckpointConfiguration  map[string]any `json:"CheckpointConfiguration"`
		MonitoringConfiguration  map[string]any `json:"MonitoringConfiguration"`
		ParallelismConfiguration map[string]any `json:"ParallelismConfiguration"`
	}
	_ = json.Unmarshal(raw, &in)
	ck := map[string]any{"ConfigurationType": "DEFAULT", "CheckpointingEnabled": true, "CheckpointInterval": 60000, "MinPauseBetweenCheckpoints": 5000}
	mon := map[string]any{"ConfigurationType": "DEFAULT", "MetricsLevel": "APPLICATION", "LogLevel": "INFO"}
	par := map[string]any{"ConfigurationType": "DEFAULT", "Parallelism": 1, "ParallelismPerKPU": 1, "CurrentParallelism": 1, "AutoScalingEnabled": false}
	merge := func(dst, src map[string]any) {
		if src != nil && src["ConfigurationType"] == "CUSTOM" {
			for k, v := range src {
				dst[k] = v
			}
		}
	}
	merge(ck, in.CheckpointConfiguration)
	merge(mon, in.MonitoringConfiguration)
	merge(par, in.ParallelismConfiguration)
	if p, ok := par["Parallelism"]; ok {
		par["CurrentParallelism"] = p
	}
	b, _ := json.Marshal(map[string]any{"CheckpointConfigurationDescription": ck, "MonitoringConfigurationDescription": mon, "ParallelismConfigurationDescription": par})
	return b
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
