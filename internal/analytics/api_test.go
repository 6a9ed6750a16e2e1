package analytics_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ka "github.com/aws/aws-sdk-go-v2/service/kinesisanalytics"
	kat "github.com/aws/aws-sdk-go-v2/service/kinesisanalytics/types"
	ka2 "github.com/aws/aws-sdk-go-v2/service/kinesisanalyticsv2"
	ka2t "github.com/aws/aws-sdk-go-v2/service/kinesisanalyticsv2/types"
	"github.com/aws/smithy-go"

	"github.com/eddy-streams/eddy/internal/analytics"
	"github.com/eddy-streams/eddy/internal/awsproto"
	"github.com/eddy-streams/eddy/internal/eddytest"
	"github.com/eddy-streams/eddy/internal/gateway"
	"github.com/eddy-streams/eddy/internal/storage"
	"github.com/eddy-streams/eddy/internal/storage/memstore"
)

var ctx = context.Background()

// fakeLauncher records launches; Check rejects code containing "SYNTAX".
type fakeLauncher struct {
	mu       sync.Mutex
	launched []analytics.RunSpec
	stopped  int
	forgot   []string
}

type fakeRun struct {
	l    *fakeLauncher
	done chan struct{}
}

func (r *fakeRun) Stop() error           { r.l.mu.Lock(); r.l.stopped++; r.l.mu.Unlock(); return nil }
func (r *fakeRun) Done() <-chan struct{} { return r.done }
func (r *fakeRun) Err() error            { return nil }

func (l *fakeLauncher) Launch(s analytics.RunSpec) (analytics.Run, error) {
	if err := l.Check(s); err != nil {
		return nil, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.launched = append(l.launched, s)
	return &fakeRun{l: l, done: make(chan struct{})}, nil
}

func (l *fakeLauncher) Check(s analytics.RunSpec) error {
	if i := strings.Index(s.Code, "SYNTAX"); i >= 0 {
		return &analytics.CodeError{Msg: "SQL error at line 1, column " + itoa(i+1) + ": unexpected SYNTAX"}
	}
	return nil
}

func (l *fakeLauncher) Forget(id string) error { l.forgot = append(l.forgot, id); return nil }

func itoa(i int) string { return strconv.Itoa(i) }

type env struct {
	svc *analytics.Service
	l   *fakeLauncher
	v1  *ka.Client
	v2  *ka2.Client
	be  storage.Backend
	url string
}

func start(t *testing.T, be storage.Backend) *env {
	t.Helper()
	if be == nil {
		be = memstore.New(nil)
	}
	l := &fakeLauncher{}
	svc, err := analytics.New(analytics.Options{Backend: be, Launcher: l, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Start(); err != nil {
		t.Fatal(err)
	}
	g := gateway.New(gateway.Options{Auth: gateway.ScopeAuth("000000000000", "us-east-1"), Services: []awsproto.Service{svc.V1(), svc.V2()}})
	g.SetReady(true)
	hs := httptest.NewServer(g)
	t.Cleanup(func() { hs.Close(); svc.Close() })
	cfg := eddytest.AWSConfig(hs.URL, "", "")
	return &env{svc: svc, l: l, v1: ka.NewFromConfig(cfg), v2: ka2.NewFromConfig(cfg), be: be, url: hs.URL}
}

func apiErr(t *testing.T, err error, code string) string {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("want %s, got %v", code, err)
	}
	if ae.ErrorCode() != code {
		t.Fatalf("want %s, got %s: %s", code, ae.ErrorCode(), ae.ErrorMessage())
	}
	return ae.ErrorMessage()
}

const streamARN = "arn:aws:kinesis:us-east-1:000000000000:stream/logs"
const roleARN = "arn:aws:iam::000000000000:role/ka"

func jsonInput() kat.Input {
	return kat.Input{
		NamePrefix:          aws.String("SOURCE_SQL_STREAM"),
		KinesisStreamsInput: &kat.KinesisStreamsInput{ResourceARN: aws.String(streamARN), RoleARN: aws.String(roleARN)},
		InputSchema: &kat.SourceSchema{
			RecordFormat: &kat.RecordFormat{RecordFormatType: kat.RecordFormatTypeJson, MappingParameters: &kat.MappingParameters{JSONMappingParameters: &kat.JSONMappingParameters{RecordRowPath: aws.String("$")}}},
			RecordColumns: []kat.RecordColumn{
				{Name: aws.String("status"), SqlType: aws.String("INTEGER"), Mapping: aws.String("$.status")},
				{Name: aws.String("path"), SqlType: aws.String("VARCHAR(64)"), Mapping: aws.String("$.request.path")},
			},
		},
	}
}

func describe(t *testing.T, e *env, name string) *kat.ApplicationDetail {
	t.Helper()
	out, err := e.v1.DescribeApplication(ctx, &ka.DescribeApplicationInput{ApplicationName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	return out.ApplicationDetail
}

func TestV1Lifecycle(t *testing.T) {
	e := start(t, nil)
	code := "CREATE OR REPLACE STREAM \"D\" (s INTEGER);"
	out, err := e.v1.CreateApplication(ctx, &ka.CreateApplicationInput{
		ApplicationName: aws.String("app1"), ApplicationCode: aws.String(code), ApplicationDescription: aws.String("d"),
		Inputs: []kat.Input{jsonInput()}, Tags: []kat.Tag{{Key: aws.String("team"), Value: aws.String("web")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if s := out.ApplicationSummary; s.ApplicationStatus != kat.ApplicationStatusReady || aws.ToString(s.ApplicationARN) != "arn:aws:kinesisanalytics:us-east-1:000000000000:application/app1" {
		t.Fatalf("summary %+v", s)
	}
	d := describe(t, e, "app1")
	if aws.ToInt64(d.ApplicationVersionId) != 1 || aws.ToString(d.ApplicationCode) != code || len(d.InputDescriptions) != 1 {
		t.Fatalf("detail %+v", d)
	}
	in := d.InputDescriptions[0]
	if aws.ToString(in.InputId) != "1.1" || len(in.InAppStreamNames) != 1 || in.InAppStreamNames[0] != "SOURCE_SQL_STREAM_001" || aws.ToInt32(in.InputParallelism.Count) != 1 {
		t.Fatalf("input %+v", in)
	}
	if d.CreateTimestamp == nil || d.CreateTimestamp.IsZero() {
		t.Fatal("no create timestamp")
	}

	// outputs: add with the current version, stale version refused
	_, err = e.v1.AddApplicationOutput(ctx, &ka.AddApplicationOutputInput{ApplicationName: aws.String("app1"), CurrentApplicationVersionId: aws.Int64(1),
		Output: &kat.Output{Name: aws.String("D"), KinesisStreamsOutput: &kat.KinesisStreamsOutput{ResourceARN: aws.String(streamARN + "-out"), RoleARN: aws.String(roleARN)}, DestinationSchema: &kat.DestinationSchema{RecordFormatType: kat.RecordFormatTypeJson}}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.v1.AddApplicationOutput(ctx, &ka.AddApplicationOutputInput{ApplicationName: aws.String("app1"), CurrentApplicationVersionId: aws.Int64(1),
		Output: &kat.Output{Name: aws.String("error_stream"), KinesisStreamsOutput: &kat.KinesisStreamsOutput{ResourceARN: aws.String(streamARN + "-err"), RoleARN: aws.String(roleARN)}, DestinationSchema: &kat.DestinationSchema{RecordFormatType: kat.RecordFormatTypeCsv}}})
	apiErr(t, err, "ConcurrentModificationException")
	d = describe(t, e, "app1")
	if aws.ToInt64(d.ApplicationVersionId) != 2 || len(d.OutputDescriptions) != 1 || aws.ToString(d.OutputDescriptions[0].Name) != "D" {
		t.Fatalf("after add output: %+v", d)
	}
	outID := aws.ToString(d.OutputDescriptions[0].OutputId)

	// logging option add/delete
	_, err = e.v1.AddApplicationCloudWatchLoggingOption(ctx, &ka.AddApplicationCloudWatchLoggingOptionInput{ApplicationName: aws.String("app1"), CurrentApplicationVersionId: aws.Int64(2),
		CloudWatchLoggingOption: &kat.CloudWatchLoggingOption{LogStreamARN: aws.String("arn:aws:logs:us-east-1:000000000000:log-group:g:log-stream:s"), RoleARN: aws.String(roleARN)}})
	if err != nil {
		t.Fatal(err)
	}
	d = describe(t, e, "app1")
	if len(d.CloudWatchLoggingOptionDescriptions) != 1 {
		t.Fatalf("logging %+v", d.CloudWatchLoggingOptionDescriptions)
	}
	_, err = e.v1.DeleteApplicationCloudWatchLoggingOption(ctx, &ka.DeleteApplicationCloudWatchLoggingOptionInput{ApplicationName: aws.String("app1"), CurrentApplicationVersionId: aws.Int64(3), CloudWatchLoggingOptionId: aws.String("nope")})
	apiErr(t, err, "ResourceNotFoundException")
	_, err = e.v1.DeleteApplicationCloudWatchLoggingOption(ctx, &ka.DeleteApplicationCloudWatchLoggingOptionInput{ApplicationName: aws.String("app1"), CurrentApplicationVersionId: aws.Int64(3), CloudWatchLoggingOptionId: d.CloudWatchLoggingOptionDescriptions[0].CloudWatchLoggingOptionId})
	if err != nil {
		t.Fatal(err)
	}

	// reference data source
	_, err = e.v1.AddApplicationReferenceDataSource(ctx, &ka.AddApplicationReferenceDataSourceInput{ApplicationName: aws.String("app1"), CurrentApplicationVersionId: aws.Int64(4),
		ReferenceDataSource: &kat.ReferenceDataSource{TableName: aws.String("Codes"),
			S3ReferenceDataSource: &kat.S3ReferenceDataSource{BucketARN: aws.String("arn:aws:s3:::ref"), FileKey: aws.String("codes.csv"), ReferenceRoleARN: aws.String(roleARN)},
			ReferenceSchema: &kat.SourceSchema{RecordFormat: &kat.RecordFormat{RecordFormatType: kat.RecordFormatTypeCsv, MappingParameters: &kat.MappingParameters{CSVMappingParameters: &kat.CSVMappingParameters{RecordRowDelimiter: aws.String("\n"), RecordColumnDelimiter: aws.String(",")}}},
				RecordColumns: []kat.RecordColumn{{Name: aws.String("code"), SqlType: aws.String("INTEGER")}, {Name: aws.String("label"), SqlType: aws.String("VARCHAR(32)")}}}}})
	if err != nil {
		t.Fatal(err)
	}
	d = describe(t, e, "app1")
	if len(d.ReferenceDataSourceDescriptions) != 1 || aws.ToString(d.ReferenceDataSourceDescriptions[0].TableName) != "Codes" {
		t.Fatalf("refs %+v", d.ReferenceDataSourceDescriptions)
	}
	refID := d.ReferenceDataSourceDescriptions[0].ReferenceId

	// update: code + input parallelism + output format, one new version
	_, err = e.v1.UpdateApplication(ctx, &ka.UpdateApplicationInput{ApplicationName: aws.String("app1"), CurrentApplicationVersionId: aws.Int64(5), ApplicationUpdate: &kat.ApplicationUpdate{
		ApplicationCodeUpdate: aws.String("-- v2"),
		InputUpdates:          []kat.InputUpdate{{InputId: aws.String("1.1"), InputParallelismUpdate: &kat.InputParallelismUpdate{CountUpdate: aws.Int32(3)}}},
		OutputUpdates:         []kat.OutputUpdate{{OutputId: aws.String(outID), DestinationSchemaUpdate: &kat.DestinationSchema{RecordFormatType: kat.RecordFormatTypeCsv}}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	d = describe(t, e, "app1")
	if aws.ToInt64(d.ApplicationVersionId) != 6 || aws.ToString(d.ApplicationCode) != "-- v2" || len(d.InputDescriptions[0].InAppStreamNames) != 3 ||
		d.InputDescriptions[0].InAppStreamNames[2] != "SOURCE_SQL_STREAM_003" || d.OutputDescriptions[0].DestinationSchema.RecordFormatType != kat.RecordFormatTypeCsv {
		t.Fatalf("after update: %+v", d)
	}
	// bad SQL is refused and changes nothing
	_, err = e.v1.UpdateApplication(ctx, &ka.UpdateApplicationInput{ApplicationName: aws.String("app1"), CurrentApplicationVersionId: aws.Int64(6), ApplicationUpdate: &kat.ApplicationUpdate{ApplicationCodeUpdate: aws.String("SYNTAX")}})
	if msg := apiErr(t, err, "CodeValidationException"); !strings.Contains(msg, "line 1, column 1") {
		t.Fatalf("message %q", msg)
	}
	if d = describe(t, e, "app1"); aws.ToInt64(d.ApplicationVersionId) != 6 || aws.ToString(d.ApplicationCode) != "-- v2" {
		t.Fatalf("failed update changed the application: %+v", d)
	}
	_, err = e.v1.UpdateApplication(ctx, &ka.UpdateApplicationInput{ApplicationName: aws.String("app1"), CurrentApplicationVersionId: aws.Int64(6), ApplicationUpdate: &kat.ApplicationUpdate{OutputUpdates: []kat.OutputUpdate{{OutputId: aws.String("9.9"), NameUpdate: aws.String("X")}}}})
	apiErr(t, err, "ResourceNotFoundException")

	// start/stop
	_, err = e.v1.StartApplication(ctx, &ka.StartApplicationInput{ApplicationName: aws.String("app1"), InputConfigurations: []kat.InputConfiguration{{Id: aws.String("1.1"), InputStartingPositionConfiguration: &kat.InputStartingPositionConfiguration{InputStartingPosition: kat.InputStartingPositionTrimHorizon}}}})
	if err != nil {
		t.Fatal(err)
	}
	d = describe(t, e, "app1")
	if d.ApplicationStatus != kat.ApplicationStatusRunning || d.InputDescriptions[0].InputStartingPositionConfiguration.InputStartingPosition != kat.InputStartingPositionTrimHorizon {
		t.Fatalf("after start: %+v", d)
	}
	if len(e.l.launched) != 1 || e.l.launched[0].Position != "TRIM_HORIZON" || e.l.launched[0].Input == nil || len(e.l.launched[0].Outputs) != 1 || len(e.l.launched[0].References) != 1 {
		t.Fatalf("launched %+v", e.l.launched)
	}
	_, err = e.v1.StartApplication(ctx, &ka.StartApplicationInput{ApplicationName: aws.String("app1"), InputConfigurations: []kat.InputConfiguration{}})
	apiErr(t, err, "ResourceInUseException")
	// a change while running restarts it from the stopped point
	_, err = e.v1.DeleteApplicationReferenceDataSource(ctx, &ka.DeleteApplicationReferenceDataSourceInput{ApplicationName: aws.String("app1"), CurrentApplicationVersionId: aws.Int64(6), ReferenceId: refID})
	if err != nil {
		t.Fatal(err)
	}
	if len(e.l.launched) != 2 || e.l.launched[1].Position != "LAST_STOPPED_POINT" || len(e.l.launched[1].References) != 0 || e.l.stopped != 1 {
		t.Fatalf("restart after change: launched %d stopped %d", len(e.l.launched), e.l.stopped)
	}
	if _, err := e.v1.StopApplication(ctx, &ka.StopApplicationInput{ApplicationName: aws.String("app1")}); err != nil {
		t.Fatal(err)
	}
	if d = describe(t, e, "app1"); d.ApplicationStatus != kat.ApplicationStatusReady || e.l.stopped != 2 {
		t.Fatalf("after stop: %s, stopped %d", d.ApplicationStatus, e.l.stopped)
	}

	// tags
	arn := d.ApplicationARN
	if _, err := e.v1.TagResource(ctx, &ka.TagResourceInput{ResourceARN: arn, Tags: []kat.Tag{{Key: aws.String("env"), Value: aws.String("dev")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.v1.UntagResource(ctx, &ka.UntagResourceInput{ResourceARN: arn, TagKeys: []string{"team"}}); err != nil {
		t.Fatal(err)
	}
	tags, err := e.v1.ListTagsForResource(ctx, &ka.ListTagsForResourceInput{ResourceARN: arn})
	if err != nil {
		t.Fatal(err)
	}
	if len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].Key) != "env" {
		t.Fatalf("tags %+v", tags.Tags)
	}
	var many []kat.Tag
	for i := 0; i < 50; i++ {
		many = append(many, kat.Tag{Key: aws.String("k" + strings.Repeat("x", i)), Value: aws.String("v")})
	}
	_, err = e.v1.TagResource(ctx, &ka.TagResourceInput{ResourceARN: arn, Tags: many})
	apiErr(t, err, "TooManyTagsException")

	// delete: timestamp must match
	_, err = e.v1.DeleteApplication(ctx, &ka.DeleteApplicationInput{ApplicationName: aws.String("app1"), CreateTimestamp: aws.Time(d.CreateTimestamp.Add(-time.Hour))})
	apiErr(t, err, "InvalidArgumentException")
	if _, err := e.v1.DeleteApplication(ctx, &ka.DeleteApplicationInput{ApplicationName: aws.String("app1"), CreateTimestamp: d.CreateTimestamp}); err != nil {
		t.Fatal(err)
	}
	_, err = e.v1.DescribeApplication(ctx, &ka.DescribeApplicationInput{ApplicationName: aws.String("app1")})
	apiErr(t, err, "ResourceNotFoundException")
	if len(e.l.forgot) != 1 {
		t.Fatalf("checkpoints not forgotten: %v", e.l.forgot)
	}
}

func TestV1Validation(t *testing.T) {
	e := start(t, nil)
	_, err := e.v1.CreateApplication(ctx, &ka.CreateApplicationInput{ApplicationName: aws.String("bad name!")})
	if msg := apiErr(t, err, "ValidationException"); !strings.Contains(msg, "applicationName") {
		t.Fatalf("message %q", msg)
	}
	// code compiled against the input at create
	_, err = e.v1.CreateApplication(ctx, &ka.CreateApplicationInput{ApplicationName: aws.String("a"), ApplicationCode: aws.String("x SYNTAX"), Inputs: []kat.Input{jsonInput()}})
	apiErr(t, err, "CodeValidationException")
	// unknown SQL type
	in := jsonInput()
	in.InputSchema.RecordColumns[0].SqlType = aws.String("WIDGET")
	_, err = e.v1.CreateApplication(ctx, &ka.CreateApplicationInput{ApplicationName: aws.String("a"), Inputs: []kat.Input{in}})
	apiErr(t, err, "InvalidArgumentException")
	// bad JSONPath
	in = jsonInput()
	in.InputSchema.RecordColumns[0].Mapping = aws.String("$..status")
	_, err = e.v1.CreateApplication(ctx, &ka.CreateApplicationInput{ApplicationName: aws.String("a"), Inputs: []kat.Input{in}})
	apiErr(t, err, "InvalidArgumentException")
	// Lambda preprocessing refused with a clear message
	in = jsonInput()
	in.InputProcessingConfiguration = &kat.InputProcessingConfiguration{InputLambdaProcessor: &kat.InputLambdaProcessor{ResourceARN: aws.String("arn:aws:lambda:us-east-1:000000000000:function:f"), RoleARN: aws.String(roleARN)}}
	_, err = e.v1.CreateApplication(ctx, &ka.CreateApplicationInput{ApplicationName: aws.String("a"), Inputs: []kat.Input{in}})
	if msg := apiErr(t, err, "InvalidArgumentException"); !strings.Contains(msg, "Lambda") {
		t.Fatalf("message %q", msg)
	}
	// duplicate name
	if _, err := e.v1.CreateApplication(ctx, &ka.CreateApplicationInput{ApplicationName: aws.String("a")}); err != nil {
		t.Fatal(err)
	}
	_, err = e.v1.CreateApplication(ctx, &ka.CreateApplicationInput{ApplicationName: aws.String("a")})
	apiErr(t, err, "ResourceInUseException")
	// start without an input
	_, err = e.v1.StartApplication(ctx, &ka.StartApplicationInput{ApplicationName: aws.String("a"), InputConfigurations: []kat.InputConfiguration{}})
	apiErr(t, err, "InvalidApplicationConfigurationException")
	// a second input is refused
	if _, err := e.v1.AddApplicationInput(ctx, &ka.AddApplicationInputInput{ApplicationName: aws.String("a"), CurrentApplicationVersionId: aws.Int64(1), Input: func() *kat.Input { i := jsonInput(); return &i }()}); err != nil {
		t.Fatal(err)
	}
	_, err = e.v1.AddApplicationInput(ctx, &ka.AddApplicationInputInput{ApplicationName: aws.String("a"), CurrentApplicationVersionId: aws.Int64(2), Input: func() *kat.Input { i := jsonInput(); return &i }()})
	apiErr(t, err, "InvalidArgumentException")
	_, err = e.v1.AddApplicationInputProcessingConfiguration(ctx, &ka.AddApplicationInputProcessingConfigurationInput{ApplicationName: aws.String("a"), CurrentApplicationVersionId: aws.Int64(2), InputId: aws.String("1.1"),
		InputProcessingConfiguration: &kat.InputProcessingConfiguration{InputLambdaProcessor: &kat.InputLambdaProcessor{ResourceARN: aws.String("arn:aws:lambda:us-east-1:000000000000:function:f"), RoleARN: aws.String(roleARN)}}})
	apiErr(t, err, "InvalidArgumentException")
	_, err = e.v1.DeleteApplicationInputProcessingConfiguration(ctx, &ka.DeleteApplicationInputProcessingConfigurationInput{ApplicationName: aws.String("a"), CurrentApplicationVersionId: aws.Int64(2), InputId: aws.String("1.1")})
	apiErr(t, err, "ResourceNotFoundException")
	// four outputs: the fourth exceeds the limit
	for i := 0; i < 4; i++ {
		_, err = e.v1.AddApplicationOutput(ctx, &ka.AddApplicationOutputInput{ApplicationName: aws.String("a"), CurrentApplicationVersionId: aws.Int64(int64(2 + i)),
			Output: &kat.Output{Name: aws.String("S" + itoa(i)), KinesisStreamsOutput: &kat.KinesisStreamsOutput{ResourceARN: aws.String(streamARN), RoleARN: aws.String(roleARN)}, DestinationSchema: &kat.DestinationSchema{RecordFormatType: kat.RecordFormatTypeJson}}})
		if i < 3 && err != nil {
			t.Fatal(err)
		}
	}
	apiErr(t, err, "LimitExceededException")
}

func TestV1ListPaging(t *testing.T) {
	e := start(t, nil)
	for _, n := range []string{"c", "a", "b"} {
		if _, err := e.v1.CreateApplication(ctx, &ka.CreateApplicationInput{ApplicationName: aws.String(n)}); err != nil {
			t.Fatal(err)
		}
	}
	out, err := e.v1.ListApplications(ctx, &ka.ListApplicationsInput{Limit: aws.Int32(2)})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.ApplicationSummaries) != 2 || !aws.ToBool(out.HasMoreApplications) || aws.ToString(out.ApplicationSummaries[1].ApplicationName) != "b" {
		t.Fatalf("page 1 %+v", out)
	}
	out, err = e.v1.ListApplications(ctx, &ka.ListApplicationsInput{Limit: aws.Int32(2), ExclusiveStartApplicationName: aws.String("b")})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.ApplicationSummaries) != 1 || aws.ToBool(out.HasMoreApplications) || aws.ToString(out.ApplicationSummaries[0].ApplicationName) != "c" {
		t.Fatalf("page 2 %+v", out)
	}
	_, err = e.v1.ListApplications(ctx, &ka.ListApplicationsInput{Limit: aws.Int32(51)})
	apiErr(t, err, "ValidationException")
}

func TestV2SQLApplication(t *testing.T) {
	e := start(t, nil)
	out, err := e.v2.CreateApplication(ctx, &ka2.CreateApplicationInput{
		ApplicationName: aws.String("v2app"), RuntimeEnvironment: ka2t.RuntimeEnvironmentSql10, ServiceExecutionRole: aws.String(roleARN),
		ApplicationConfiguration: &ka2t.ApplicationConfiguration{
			ApplicationCodeConfiguration: &ka2t.ApplicationCodeConfiguration{CodeContentType: ka2t.CodeContentTypePlaintext, CodeContent: &ka2t.CodeContent{TextContent: aws.String("-- sql")}},
			SqlApplicationConfiguration: &ka2t.SqlApplicationConfiguration{Inputs: []ka2t.Input{{
				NamePrefix: aws.String("SRC"), KinesisStreamsInput: &ka2t.KinesisStreamsInput{ResourceARN: aws.String(streamARN)},
				InputSchema: &ka2t.SourceSchema{RecordFormat: &ka2t.RecordFormat{RecordFormatType: ka2t.RecordFormatTypeCsv, MappingParameters: &ka2t.MappingParameters{CSVMappingParameters: &ka2t.CSVMappingParameters{RecordRowDelimiter: aws.String("\n"), RecordColumnDelimiter: aws.String(",")}}},
					RecordColumns: []ka2t.RecordColumn{{Name: aws.String("a"), SqlType: aws.String("BIGINT")}}},
			}}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	d := out.ApplicationDetail
	if d.ApplicationStatus != ka2t.ApplicationStatusReady || d.RuntimeEnvironment != ka2t.RuntimeEnvironmentSql10 || aws.ToInt64(d.ApplicationVersionId) != 1 {
		t.Fatalf("detail %+v", d)
	}
	sq := d.ApplicationConfigurationDescription.SqlApplicationConfigurationDescription
	if len(sq.InputDescriptions) != 1 || sq.InputDescriptions[0].InAppStreamNames[0] != "SRC_001" {
		t.Fatalf("sql config %+v", sq)
	}
	if cc := d.ApplicationConfigurationDescription.ApplicationCodeConfigurationDescription; aws.ToString(cc.CodeContentDescription.TextContent) != "-- sql" || aws.ToInt64(cc.CodeContentDescription.CodeSize) != 6 {
		t.Fatalf("code %+v", cc)
	}
	// the v1 API refuses an application managed through v2
	_, err = e.v1.DescribeApplication(ctx, &ka.DescribeApplicationInput{ApplicationName: aws.String("v2app")})
	if msg := apiErr(t, err, "UnsupportedOperationException"); !strings.Contains(msg, "kinesisanalyticsv2 SDK") {
		t.Fatalf("message %q", msg)
	}
	// ConditionalToken works as the version
	up, err := e.v2.UpdateApplication(ctx, &ka2.UpdateApplicationInput{ApplicationName: aws.String("v2app"), ConditionalToken: d.ConditionalToken,
		ApplicationConfigurationUpdate: &ka2t.ApplicationConfigurationUpdate{ApplicationCodeConfigurationUpdate: &ka2t.ApplicationCodeConfigurationUpdate{CodeContentUpdate: &ka2t.CodeContentUpdate{TextContentUpdate: aws.String("-- new")}}}})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToInt64(up.ApplicationDetail.ApplicationVersionId) != 2 || aws.ToInt64(up.ApplicationDetail.ApplicationVersionUpdatedFrom) != 1 {
		t.Fatalf("update %+v", up.ApplicationDetail)
	}
	_, err = e.v2.UpdateApplication(ctx, &ka2.UpdateApplicationInput{ApplicationName: aws.String("v2app"), ConditionalToken: d.ConditionalToken, ServiceExecutionRoleUpdate: aws.String(roleARN)})
	apiErr(t, err, "ConcurrentModificationException")
	st, err := e.v2.StartApplication(ctx, &ka2.StartApplicationInput{ApplicationName: aws.String("v2app"), RunConfiguration: &ka2t.RunConfiguration{SqlRunConfigurations: []ka2t.SqlRunConfiguration{{InputId: aws.String("1.1"), InputStartingPositionConfiguration: &ka2t.InputStartingPositionConfiguration{InputStartingPosition: ka2t.InputStartingPositionNow}}}}})
	if err != nil || aws.ToString(st.OperationId) == "" {
		t.Fatalf("start: %v %+v", err, st)
	}
	vs, err := e.v2.ListApplicationVersions(ctx, &ka2.ListApplicationVersionsInput{ApplicationName: aws.String("v2app")})
	if err != nil {
		t.Fatal(err)
	}
	if len(vs.ApplicationVersionSummaries) != 2 || aws.ToInt64(vs.ApplicationVersionSummaries[0].ApplicationVersionId) != 2 {
		t.Fatalf("versions %+v", vs.ApplicationVersionSummaries)
	}
	v1d, err := e.v2.DescribeApplicationVersion(ctx, &ka2.DescribeApplicationVersionInput{ApplicationName: aws.String("v2app"), ApplicationVersionId: aws.Int64(1)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(v1d.ApplicationVersionDetail.ApplicationConfigurationDescription.ApplicationCodeConfigurationDescription.CodeContentDescription.TextContent) != "-- sql" {
		t.Fatal("version 1 detail lost its code")
	}
	_, err = e.v2.CreateApplicationSnapshot(ctx, &ka2.CreateApplicationSnapshotInput{ApplicationName: aws.String("v2app"), SnapshotName: aws.String("s")})
	apiErr(t, err, "InvalidArgumentException")
	list, err := e.v2.ListApplications(ctx, &ka2.ListApplicationsInput{})
	if err != nil || len(list.ApplicationSummaries) != 1 || list.ApplicationSummaries[0].ApplicationStatus != ka2t.ApplicationStatusRunning {
		t.Fatalf("list %v %+v", err, list)
	}
}

func TestV2FlinkStoredNotRun(t *testing.T) {
	e := start(t, nil)
	out, err := e.v2.CreateApplication(ctx, &ka2.CreateApplicationInput{
		ApplicationName: aws.String("flink"), RuntimeEnvironment: ka2t.RuntimeEnvironmentFlink118, ServiceExecutionRole: aws.String(roleARN),
		ApplicationConfiguration: &ka2t.ApplicationConfiguration{
			ApplicationCodeConfiguration: &ka2t.ApplicationCodeConfiguration{CodeContentType: ka2t.CodeContentTypeZipfile, CodeContent: &ka2t.CodeContent{S3ContentLocation: &ka2t.S3ContentLocation{BucketARN: aws.String("arn:aws:s3:::b"), FileKey: aws.String("app.jar")}}},
			EnvironmentProperties:        &ka2t.EnvironmentProperties{PropertyGroups: []ka2t.PropertyGroup{{PropertyGroupId: aws.String("g"), PropertyMap: map[string]string{"k": "v"}}}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg := out.ApplicationDetail.ApplicationConfigurationDescription
	if cfg.FlinkApplicationConfigurationDescription == nil || aws.ToInt32(cfg.FlinkApplicationConfigurationDescription.ParallelismConfigurationDescription.Parallelism) != 1 ||
		len(cfg.EnvironmentPropertyDescriptions.PropertyGroupDescriptions) != 1 {
		t.Fatalf("flink description %+v", cfg)
	}
	_, err = e.v2.StartApplication(ctx, &ka2.StartApplicationInput{ApplicationName: aws.String("flink")})
	if msg := apiErr(t, err, "UnsupportedOperationException"); !strings.Contains(msg, "SQL-1_0") || !strings.Contains(msg, "FLINK-1_18") {
		t.Fatalf("message %q", msg)
	}
}

// TestPersistAndResume: the store survives a restart, and an application
// that was running is launched again from its stopped point.
func TestPersistAndResume(t *testing.T) {
	be := memstore.New(nil)
	e := start(t, be)
	if _, err := e.v1.CreateApplication(ctx, &ka.CreateApplicationInput{ApplicationName: aws.String("p"), Inputs: []kat.Input{jsonInput()}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.v1.StartApplication(ctx, &ka.StartApplicationInput{ApplicationName: aws.String("p"), InputConfigurations: []kat.InputConfiguration{{Id: aws.String("1.1"), InputStartingPositionConfiguration: &kat.InputStartingPositionConfiguration{InputStartingPosition: kat.InputStartingPositionNow}}}}); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Close(); err != nil {
		t.Fatal(err)
	}
	e2 := start(t, be)
	if d := describe(t, e2, "p"); d.ApplicationStatus != kat.ApplicationStatusRunning || len(d.InputDescriptions) != 1 {
		t.Fatalf("after restart %+v", d)
	}
	if len(e2.l.launched) != 1 || e2.l.launched[0].Position != "LAST_STOPPED_POINT" {
		t.Fatalf("relaunch %+v", e2.l.launched)
	}
}

func TestOperationsComplete(t *testing.T) {
	if n := len(analytics.OperationsV1()); n != 20 {
		t.Fatalf("v1 implements %d operations, want 20: %v", n, analytics.OperationsV1())
	}
	if n := len(analytics.OperationsV2()); n != 33 {
		t.Fatalf("v2 answers %d operations, want 33: %v", n, analytics.OperationsV2())
	}
}
