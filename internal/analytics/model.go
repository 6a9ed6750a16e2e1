package analytics

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/eddy-streams/eddy/internal/awsproto"
)

// Application statuses (v1 uses the first seven; v2 adds the rest).
const (
	statusReady     = "READY"
	statusStarting  = "STARTING"
	statusRunning   = "RUNNING"
	statusStopping  = "STOPPING"
	statusUpdating  = "UPDATING"
	statusDeleting  = "DELETING"
	statusAutoscale = "AUTOSCALING"
)

// RuntimeSQL is the only runtime Eddy executes.
const RuntimeSQL = "SQL-1_0"

// application is one application of either API. Exported fields are
// persisted (see the package doc for the layout).
type application struct {
	ID          string          `json:"id"` // internal id; names the checkpoint namespace
	Name        string          `json:"name"`
	Account     string          `json:"account"`
	Region      string          `json:"region"`
	API         int             `json:"api"` // 1, or 2 once created/updated through kinesisanalyticsv2
	Runtime     string          `json:"runtime"`
	Mode        string          `json:"mode,omitempty"` // v2 ApplicationMode
	Description *string         `json:"description,omitempty"`
	Code        string          `json:"code"`
	CodeType    string          `json:"codeType,omitempty"` // v2 CodeContentType
	CodeZip     []byte          `json:"codeZip,omitempty"`
	CodeS3      json.RawMessage `json:"codeS3,omitempty"`
	ServiceRole string          `json:"serviceRole,omitempty"`
	Status      string          `json:"status"`
	Version     int64           `json:"version"`
	CreatedMs   int64           `json:"createdMs"`
	UpdatedMs   int64           `json:"updatedMs"`
	VersionMs   int64           `json:"versionMs"`
	UpdatedFrom int64           `json:"updatedFrom,omitempty"`
	// StartMark is the checkpoint epoch at the last StartApplication
	// (cluster mode, see cluster.go).
	StartMark *uint64 `json:"startMark,omitempty"`

	Inputs     []*inputState     `json:"inputs,omitempty"`
	Outputs    []*outputState    `json:"outputs,omitempty"`
	References []*referenceState `json:"references,omitempty"`
	Logging    []*loggingState   `json:"logging,omitempty"`
	Tags       []tagPair         `json:"tags,omitempty"`
	NextID     int               `json:"nextId"`

	// Other holds v2 ApplicationConfiguration members Eddy stores but does
	// not interpret (Flink, environment properties, snapshots, VPC…).
	Other map[string]json.RawMessage `json:"other,omitempty"`

	// History keeps each version's description for v2's
	// ListApplicationVersions/DescribeApplicationVersion (last 50).
	History []versionEntry `json:"history,omitempty"`
}

type versionEntry struct {
	Version int64           `json:"version"`
	Status  string          `json:"status"`
	Detail  json.RawMessage `json:"detail"`
}

type inputState struct {
	ID       string  `json:"id"`
	Input    Input   `json:"input"`
	Starting *string `json:"starting,omitempty"` // the position of the last start
}

type outputState struct {
	ID     string `json:"id"`
	Output Output `json:"output"`
}

type referenceState struct {
	ID  string              `json:"id"`
	Ref ReferenceDataSource `json:"ref"`
}

type loggingState struct {
	ID  string                  `json:"id"`
	Opt CloudWatchLoggingOption `json:"opt"`
}

type tagPair struct {
	Key   string `json:"k"`
	Value string `json:"v"`
}

func partition(region string) string {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov"
	}
	return "aws"
}

func (a *application) arn() string {
	return "arn:" + partition(a.Region) + ":kinesisanalytics:" + a.Region + ":" + a.Account + ":application/" + a.Name
}

// newID returns the next configuration id. AWS's ids read "<n>.<k>"; Eddy
// numbers every added element of an application "1.<k>", k counting up.
func (a *application) newID() string {
	a.NextID++
	return fmt.Sprintf("1.%d", a.NextID)
}

func (a *application) isSQL() bool { return a.Runtime == RuntimeSQL }

// conditionalToken is v2's alternative to CurrentApplicationVersionId.
func (a *application) conditionalToken() string {
	h := md5.Sum([]byte(fmt.Sprintf("%s/%d", a.ID, a.Version)))
	return hex.EncodeToString(h[:])
}

// InAppStreamNames lists the in-application streams an input creates:
// PREFIX_001 … PREFIX_00N for InputParallelism N.
func InAppStreamNames(in *Input) []string {
	prefix := ""
	if in.NamePrefix != nil {
		prefix = *in.NamePrefix
	}
	n := 1
	if in.InputParallelism != nil && in.InputParallelism.Count != nil {
		n = int(*in.InputParallelism.Count)
	}
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("%s_%03d", prefix, i+1)
	}
	return names
}

func (s *inputState) describe() InputDescription {
	in := &s.Input
	d := InputDescription{
		InputId:          s.ID,
		InAppStreamNames: InAppStreamNames(in),
		InputSchema:      in.InputSchema,
	}
	if in.NamePrefix != nil {
		d.NamePrefix = *in.NamePrefix
	}
	one := int32(1)
	d.InputParallelism = &InputParallelism{Count: &one}
	if in.InputParallelism != nil && in.InputParallelism.Count != nil {
		d.InputParallelism = in.InputParallelism
	}
	if in.InputProcessingConfiguration != nil {
		d.InputProcessingConfigurationDescription = &InputProcessingConfigurationDescription{InputLambdaProcessorDescription: in.InputProcessingConfiguration.InputLambdaProcessor}
	}
	d.KinesisStreamsInputDescription = in.KinesisStreamsInput
	d.KinesisFirehoseInputDescription = in.KinesisFirehoseInput
	if s.Starting != nil {
		d.InputStartingPositionConfiguration = &StartingPosition{InputStartingPosition: s.Starting}
	}
	return d
}

func (s *outputState) describe() OutputDescription {
	o := &s.Output
	d := OutputDescription{OutputId: s.ID, DestinationSchema: o.DestinationSchema}
	if o.Name != nil {
		d.Name = *o.Name
	}
	d.KinesisStreamsOutputDescription = o.KinesisStreamsOutput
	d.KinesisFirehoseOutputDescription = o.KinesisFirehoseOutput
	d.LambdaOutputDescription = o.LambdaOutput
	return d
}

func (s *referenceState) describe() ReferenceDataSourceDescription {
	d := ReferenceDataSourceDescription{ReferenceId: s.ID, S3ReferenceDataSourceDescription: s.Ref.S3ReferenceDataSource, ReferenceSchema: s.Ref.ReferenceSchema}
	if s.Ref.TableName != nil {
		d.TableName = *s.Ref.TableName
	}
	return d
}

func (s *loggingState) describe() CloudWatchLoggingOptionDescription {
	d := CloudWatchLoggingOptionDescription{CloudWatchLoggingOptionId: s.ID, RoleARN: s.Opt.RoleARN}
	if s.Opt.LogStreamARN != nil {
		d.LogStreamARN = *s.Opt.LogStreamARN
	}
	return d
}

func (a *application) inputDescriptions() []InputDescription {
	out := []InputDescription{}
	for _, in := range a.Inputs {
		out = append(out, in.describe())
	}
	return out
}

func (a *application) outputDescriptions() []OutputDescription {
	out := []OutputDescription{}
	for _, o := range a.Outputs {
		out = append(out, o.describe())
	}
	return out
}

func (a *application) referenceDescriptions() []ReferenceDataSourceDescription {
	out := []ReferenceDataSourceDescription{}
	for _, r := range a.References {
		out = append(out, r.describe())
	}
	return out
}

func (a *application) loggingDescriptions() []CloudWatchLoggingOptionDescription {
	out := []CloudWatchLoggingOptionDescription{}
	for _, l := range a.Logging {
		out = append(out, l.describe())
	}
	return out
}

// ---- v1 view ----

type applicationDetailV1 struct {
	ApplicationName                     string                               `json:"ApplicationName"`
	ApplicationDescription              *string                              `json:"ApplicationDescription,omitempty"`
	ApplicationARN                      string                               `json:"ApplicationARN"`
	ApplicationStatus                   string                               `json:"ApplicationStatus"`
	CreateTimestamp                     *awsproto.Timestamp                  `json:"CreateTimestamp,omitempty"`
	LastUpdateTimestamp                 *awsproto.Timestamp                  `json:"LastUpdateTimestamp,omitempty"`
	InputDescriptions                   []InputDescription                   `json:"InputDescriptions"`
	OutputDescriptions                  []OutputDescription                  `json:"OutputDescriptions"`
	ReferenceDataSourceDescriptions     []ReferenceDataSourceDescription     `json:"ReferenceDataSourceDescriptions"`
	CloudWatchLoggingOptionDescriptions []CloudWatchLoggingOptionDescription `json:"CloudWatchLoggingOptionDescriptions"`
	ApplicationCode                     string                               `json:"ApplicationCode"`
	ApplicationVersionId                int64                                `json:"ApplicationVersionId"`
}

func (a *application) detailV1() applicationDetailV1 {
	return applicationDetailV1{
		ApplicationName: a.Name, ApplicationDescription: a.Description, ApplicationARN: a.arn(),
		ApplicationStatus: v1Status(a.Status), CreateTimestamp: awsproto.TSMillis(a.CreatedMs),
		LastUpdateTimestamp: awsproto.TSMillis(a.UpdatedMs),
		InputDescriptions:   a.inputDescriptions(), OutputDescriptions: a.outputDescriptions(),
		ReferenceDataSourceDescriptions:     a.referenceDescriptions(),
		CloudWatchLoggingOptionDescriptions: a.loggingDescriptions(),
		ApplicationCode:                     a.Code, ApplicationVersionId: a.Version,
	}
}

// v1Status maps v2-only statuses onto the v1 enumeration.
func v1Status(s string) string {
	switch s {
	case statusReady, statusStarting, statusRunning, statusStopping, statusUpdating, statusDeleting, statusAutoscale:
		return s
	case "FORCE_STOPPING":
		return statusStopping
	}
	return statusReady
}

type applicationSummaryV1 struct {
	ApplicationName   string `json:"ApplicationName"`
	ApplicationARN    string `json:"ApplicationARN"`
	ApplicationStatus string `json:"ApplicationStatus"`
}

func (a *application) summaryV1() applicationSummaryV1 {
	return applicationSummaryV1{ApplicationName: a.Name, ApplicationARN: a.arn(), ApplicationStatus: v1Status(a.Status)}
}

// ---- v2 view ----

type codeContentDescription struct {
	TextContent                          *string         `json:"TextContent,omitempty"`
	CodeMD5                              *string         `json:"CodeMD5,omitempty"`
	CodeSize                             *int64          `json:"CodeSize,omitempty"`
	S3ApplicationCodeLocationDescription json.RawMessage `json:"S3ApplicationCodeLocationDescription,omitempty"`
}

type applicationCodeConfigurationDescription struct {
	CodeContentType        string                  `json:"CodeContentType"`
	CodeContentDescription *codeContentDescription `json:"CodeContentDescription,omitempty"`
}

type sqlApplicationConfigurationDescription struct {
	InputDescriptions               []InputDescription               `json:"InputDescriptions"`
	OutputDescriptions              []OutputDescription              `json:"OutputDescriptions"`
	ReferenceDataSourceDescriptions []ReferenceDataSourceDescription `json:"ReferenceDataSourceDescriptions"`
}

type applicationConfigurationDescription struct {
	SqlApplicationConfigurationDescription            *sqlApplicationConfigurationDescription  `json:"SqlApplicationConfigurationDescription,omitempty"`
	ApplicationCodeConfigurationDescription           *applicationCodeConfigurationDescription `json:"ApplicationCodeConfigurationDescription,omitempty"`
	FlinkApplicationConfigurationDescription          json.RawMessage                          `json:"FlinkApplicationConfigurationDescription,omitempty"`
	EnvironmentPropertyDescriptions                   json.RawMessage                          `json:"EnvironmentPropertyDescriptions,omitempty"`
	ApplicationSnapshotConfigurationDescription       json.RawMessage                          `json:"ApplicationSnapshotConfigurationDescription,omitempty"`
	ApplicationSystemRollbackConfigurationDescription json.RawMessage                          `json:"ApplicationSystemRollbackConfigurationDescription,omitempty"`
	VpcConfigurationDescriptions                      json.RawMessage                          `json:"VpcConfigurationDescriptions,omitempty"`
	ZeppelinApplicationConfigurationDescription       json.RawMessage                          `json:"ZeppelinApplicationConfigurationDescription,omitempty"`
}

type applicationDetailV2 struct {
	ApplicationARN                      string                               `json:"ApplicationARN"`
	ApplicationDescription              *string                              `json:"ApplicationDescription,omitempty"`
	ApplicationName                     string                               `json:"ApplicationName"`
	RuntimeEnvironment                  string                               `json:"RuntimeEnvironment"`
	ServiceExecutionRole                string                               `json:"ServiceExecutionRole,omitempty"`
	ApplicationStatus                   string                               `json:"ApplicationStatus"`
	ApplicationVersionId                int64                                `json:"ApplicationVersionId"`
	CreateTimestamp                     *awsproto.Timestamp                  `json:"CreateTimestamp,omitempty"`
	LastUpdateTimestamp                 *awsproto.Timestamp                  `json:"LastUpdateTimestamp,omitempty"`
	ApplicationConfigurationDescription *applicationConfigurationDescription `json:"ApplicationConfigurationDescription,omitempty"`
	CloudWatchLoggingOptionDescriptions []CloudWatchLoggingOptionDescription `json:"CloudWatchLoggingOptionDescriptions,omitempty"`
	ApplicationVersionUpdatedFrom       *int64                               `json:"ApplicationVersionUpdatedFrom,omitempty"`
	ApplicationVersionCreateTimestamp   *awsproto.Timestamp                  `json:"ApplicationVersionCreateTimestamp,omitempty"`
	ConditionalToken                    string                               `json:"ConditionalToken,omitempty"`
	ApplicationMode                     string                               `json:"ApplicationMode,omitempty"`
}

func (a *application) detailV2() applicationDetailV2 {
	d := applicationDetailV2{
		ApplicationARN: a.arn(), ApplicationDescription: a.Description, ApplicationName: a.Name,
		RuntimeEnvironment: a.Runtime, ServiceExecutionRole: a.ServiceRole, ApplicationStatus: a.Status,
		ApplicationVersionId: a.Version, CreateTimestamp: awsproto.TSMillis(a.CreatedMs),
		LastUpdateTimestamp: awsproto.TSMillis(a.UpdatedMs), ConditionalToken: a.conditionalToken(),
		ApplicationVersionCreateTimestamp: awsproto.TSMillis(a.VersionMs), ApplicationMode: a.Mode,
	}
	if a.UpdatedFrom > 0 {
		v := a.UpdatedFrom
		d.ApplicationVersionUpdatedFrom = &v
	}
	if len(a.Logging) > 0 {
		d.CloudWatchLoggingOptionDescriptions = a.loggingDescriptions()
	}
	cfg := &applicationConfigurationDescription{}
	if a.isSQL() {
		cfg.SqlApplicationConfigurationDescription = &sqlApplicationConfigurationDescription{
			InputDescriptions: a.inputDescriptions(), OutputDescriptions: a.outputDescriptions(),
			ReferenceDataSourceDescriptions: a.referenceDescriptions(),
		}
	}
	if a.Code != "" || a.CodeZip != nil || a.CodeS3 != nil || a.CodeType != "" {
		typ := a.CodeType
		if typ == "" {
			typ = "PLAINTEXT"
		}
		cc := &codeContentDescription{}
		switch {
		case a.CodeZip != nil:
			sum := md5.Sum(a.CodeZip)
			h := hex.EncodeToString(sum[:])
			n := int64(len(a.CodeZip))
			cc.CodeMD5, cc.CodeSize = &h, &n
		case a.CodeS3 != nil:
			cc.S3ApplicationCodeLocationDescription = a.CodeS3
		default:
			code := a.Code
			sum := md5.Sum([]byte(code))
			h := hex.EncodeToString(sum[:])
			n := int64(len(code))
			cc.TextContent, cc.CodeMD5, cc.CodeSize = &code, &h, &n
		}
		cfg.ApplicationCodeConfigurationDescription = &applicationCodeConfigurationDescription{CodeContentType: typ, CodeContentDescription: cc}
	}
	cfg.FlinkApplicationConfigurationDescription = a.Other["FlinkApplicationConfigurationDescription"]
	cfg.EnvironmentPropertyDescriptions = a.Other["EnvironmentPropertyDescriptions"]
	cfg.ApplicationSnapshotConfigurationDescription = a.Other["ApplicationSnapshotConfigurationDescription"]
	cfg.ApplicationSystemRollbackConfigurationDescription = a.Other["ApplicationSystemRollbackConfigurationDescription"]
	cfg.VpcConfigurationDescriptions = a.Other["VpcConfigurationDescriptions"]
	cfg.ZeppelinApplicationConfigurationDescription = a.Other["ZeppelinApplicationConfigurationDescription"]
	d.ApplicationConfigurationDescription = cfg
	return d
}

type applicationSummaryV2 struct {
	ApplicationName      string `json:"ApplicationName"`
	ApplicationARN       string `json:"ApplicationARN"`
	ApplicationStatus    string `json:"ApplicationStatus"`
	ApplicationVersionId int64  `json:"ApplicationVersionId"`
	RuntimeEnvironment   string `json:"RuntimeEnvironment"`
	ApplicationMode      string `json:"ApplicationMode,omitempty"`
}

func (a *application) summaryV2() applicationSummaryV2 {
	return applicationSummaryV2{ApplicationName: a.Name, ApplicationARN: a.arn(), ApplicationStatus: a.Status, ApplicationVersionId: a.Version, RuntimeEnvironment: a.Runtime, ApplicationMode: a.Mode}
}
