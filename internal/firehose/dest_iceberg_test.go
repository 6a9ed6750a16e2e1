package firehose_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"
	iceberggo "github.com/apache/iceberg-go"
	icetable "github.com/apache/iceberg-go/table"
	"github.com/aws/aws-sdk-go-v2/aws"
	fh "github.com/aws/aws-sdk-go-v2/service/firehose"
	fhtypes "github.com/aws/aws-sdk-go-v2/service/firehose/types"

	"github.com/eddy-streams/eddy/internal/awsproto"
	"github.com/eddy-streams/eddy/internal/firehose"
	"github.com/eddy-streams/eddy/internal/firehose/iceberg"
	"github.com/eddy-streams/eddy/internal/firehose/s3dest"
	"github.com/eddy-streams/eddy/internal/glue"
	"github.com/eddy-streams/eddy/internal/storage"
)

// icebergLake is a Glue catalog (on backend, nil: in memory) with database
// "lake" and an Iceberg table lake.events whose metadata and data live in
// the versitygw bucket "warehouse".
type icebergLake struct {
	glue *glue.Service
	cat  *iceberg.Catalog
}

func newIcebergLake(t testing.TB, v *versity, backend storage.Backend) *icebergLake {
	t.Helper()
	g, err := glue.New(glue.Options{Backend: backend, DefaultAccount: "000000000000", DefaultRegion: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	up := s3dest.NewUploader(s3dest.Endpoint{URL: v.URL, AccessKey: s3Key, SecretKey: s3Secret})
	l := &icebergLake{glue: g, cat: &iceberg.Catalog{Glue: g, Account: "000000000000", Region: "us-east-1",
		FS: func(ctx context.Context) *iceberg.FS { return iceberg.NewFS(ctx, up) }}}
	return l
}

// createTable writes the table's first metadata file and registers it in
// Glue as an Iceberg table (what Athena's CREATE TABLE … TBLPROPERTIES
// ('table_type'='ICEBERG') leaves behind).
func (l *icebergLake) createTable(t testing.TB, name string) {
	t.Helper()
	ctx := context.Background()
	call := func(op string, body any) {
		b, _ := json.Marshal(body)
		if _, err := l.glue.Handle(&awsproto.Request{Ctx: ctx, Operation: op, Codec: awsproto.JSON, Body: b}); err != nil &&
			!strings.Contains(err.Error(), "AlreadyExists") {
			t.Fatalf("%s: %v", op, err)
		}
	}
	sc := iceberggo.NewSchema(0,
		iceberggo.NestedField{ID: 1, Name: "id", Type: iceberggo.PrimitiveTypes.Int64, Required: true},
		iceberggo.NestedField{ID: 2, Name: "name", Type: iceberggo.PrimitiveTypes.String},
		iceberggo.NestedField{ID: 3, Name: "amount", Type: iceberggo.PrimitiveTypes.Float64},
		iceberggo.NestedField{ID: 4, Name: "ok", Type: iceberggo.PrimitiveTypes.Bool},
		iceberggo.NestedField{ID: 5, Name: "msg", Type: iceberggo.PrimitiveTypes.String},
	)
	loc := "s3://warehouse/lake/" + name
	meta, err := icetable.NewMetadata(sc, iceberggo.UnpartitionedSpec, icetable.UnsortedSortOrder, loc, nil)
	if err != nil {
		t.Fatal(err)
	}
	body, err := json.Marshal(meta)
	if err != nil {
		t.Fatal(err)
	}
	mloc := loc + "/metadata/00000-0b6c1b6e-0000-4000-8000-000000000000.metadata.json"
	if err := l.cat.FS(ctx).WriteFile(mloc, body); err != nil {
		t.Fatal(err)
	}
	call("CreateDatabase", map[string]any{"DatabaseInput": map[string]any{"Name": "lake"}})
	call("CreateTable", map[string]any{"DatabaseName": "lake", "TableInput": map[string]any{
		"Name": name, "TableType": "EXTERNAL_TABLE",
		"Parameters":        map[string]string{"table_type": "ICEBERG", "metadata_location": mloc},
		"StorageDescriptor": map[string]any{"Location": loc}}})
}

// rows scans the table with iceberg-go's own reader (table.Scan → arrow)
// and returns "id|name|amount|ok" per row, sorted by id.
func (l *icebergLake) rows(t testing.TB, name string) []string {
	t.Helper()
	ctx := context.Background()
	tbl, err := l.cat.LoadTable(ctx, icetable.Identifier{"lake", name})
	if err != nil {
		t.Fatal(err)
	}
	at, err := tbl.Scan().ToArrowTable(ctx)
	if err != nil {
		t.Fatalf("scan: %v", err)
	}
	defer at.Release()
	rdr := array.NewTableReader(at, 1024)
	defer rdr.Release()
	got := map[int64]string{}
	var ids []int64
	for rdr.Next() {
		rec := rdr.RecordBatch()
		idc := rec.Column(0).(*array.Int64)
		nc := rec.Column(1).(*array.String)
		ac := rec.Column(2).(*array.Float64)
		oc := rec.Column(3).(*array.Boolean)
		for i := 0; i < int(rec.NumRows()); i++ {
			s := fmt.Sprintf("%d|%s|%g|%v", idc.Value(i), nullOr(nc.IsNull(i), nc.Value(i)), ac.Value(i), oc.Value(i))
			if ac.IsNull(i) {
				s = fmt.Sprintf("%d|%s|null|%v", idc.Value(i), nullOr(nc.IsNull(i), nc.Value(i)), oc.Value(i))
			}
			if _, dup := got[idc.Value(i)]; dup {
				t.Fatalf("id %d twice in the table", idc.Value(i))
			}
			got[idc.Value(i)] = s
			ids = append(ids, idc.Value(i))
		}
	}
	out := make([]string, 0, len(ids))
	for id := int64(0); len(out) < len(ids); id++ {
		if s, ok := got[id]; ok {
			out = append(out, s)
		}
		if id > 1<<20 {
			break
		}
	}
	return out
}

func nullOr(null bool, s string) string {
	if null {
		return "null"
	}
	return s
}

func icebergRecords(from, n int) (recs [][]byte, want []string) {
	for i := from; i < from+n; i++ {
		recs = append(recs, []byte(fmt.Sprintf(`{"id":%d,"name":"user-%d","amount":%d.5,"ok":%v,"extra":{"ignored":true}}`, i, i, i, i%2 == 0)))
		want = append(want, fmt.Sprintf("%d|user-%d|%d.5|%v", i, i, i, i%2 == 0))
	}
	return recs, want
}

func icebergStream(t testing.TB, c *fh.Client, name, table string, retry int32, errPrefix *string) {
	t.Helper()
	role := aws.String("arn:aws:iam::000000000000:role/firehose")
	_, err := c.CreateDeliveryStream(context.Background(), &fh.CreateDeliveryStreamInput{
		DeliveryStreamName: aws.String(name),
		IcebergDestinationConfiguration: &fhtypes.IcebergDestinationConfiguration{
			RoleARN:              role,
			CatalogConfiguration: &fhtypes.CatalogConfiguration{CatalogARN: aws.String("arn:aws:glue:us-east-1:000000000000:catalog")},
			DestinationTableConfigurationList: []fhtypes.DestinationTableConfiguration{{
				DestinationDatabaseName: aws.String("lake"), DestinationTableName: aws.String(table),
				UniqueKeys: []string{"id"}, S3ErrorOutputPrefix: errPrefix}},
			BufferingHints: &fhtypes.BufferingHints{SizeInMBs: aws.Int32(1), IntervalInSeconds: aws.Int32(0)},
			RetryOptions:   &fhtypes.RetryOptions{DurationInSeconds: aws.Int32(retry)},
			S3BackupMode:   fhtypes.IcebergS3BackupModeFailedDataOnly,
			S3Configuration: &fhtypes.S3DestinationConfiguration{BucketARN: aws.String("arn:aws:s3:::icebk"), RoleARN: role,
				Prefix: aws.String("bk/")},
		}})
	if err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
}

// TestIcebergDelivery: JSON records put with the SDK land in an Iceberg
// table of Eddy's Glue catalog, read back row for row by iceberg-go's
// scan; records that do not fit the schema go to the table's
// S3ErrorOutputPrefix with AWS's error-record fields; the description uses
// AWS's member names.
func TestIcebergDelivery(t *testing.T) {
	v := startVersity(t, "warehouse", "icebk")
	lake := newIcebergLake(t, v, nil)
	lake.createTable(t, "events")
	srv := startServer(t, nil, v.URL, fastDestRetry, func(o *firehose.Options) { o.Catalog = lake.glue })
	c := srv.Firehose()
	ctx := context.Background()
	icebergStream(t, c, "ice", "events", 60, aws.String("errs/!{firehose:error-output-type}/"))

	good1, want1 := icebergRecords(0, 200)
	bad := [][]byte{[]byte(`not json`), []byte(`{"id":"seven"}`), []byte(`{"name":"no id"}`)}
	putBatch(t, c, "ice", append(append([][]byte{}, good1[:100]...), append(bad, good1[100:]...)...))
	srv.flush("ice")
	good2, want2 := icebergRecords(200, 50)
	putBatch(t, c, "ice", good2)
	srv.flush("ice")

	got := lake.rows(t, "events")
	want := append(want1, want2...)
	if len(got) != len(want) {
		t.Fatalf("%d rows in the table, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("row %d: %q, want %q", i, got[i], want[i])
		}
	}
	tbl, err := lake.cat.LoadTable(ctx, icetable.Identifier{"lake", "events"})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(tbl.Metadata().Snapshots()); n != 2 {
		t.Fatalf("%d snapshots, want one per buffer (2)", n)
	}
	gt, err := lake.glue.IcebergTable(ctx, "000000000000", "us-east-1", "", "lake", "events")
	if err != nil || gt.Parameters["previous_metadata_location"] == "" || gt.Parameters["metadata_location"] != tbl.MetadataLocation() {
		t.Fatalf("Glue parameters after commits: %v %v", gt.Parameters, err)
	}

	objs := v.listObjects(t, "icebk", "errs/iceberg-failed/")
	var errs []map[string]any
	for _, o := range objs {
		for _, line := range strings.Split(strings.TrimSpace(string(o.Body)), "\n") {
			var m map[string]any
			if err := json.Unmarshal([]byte(line), &m); err != nil {
				t.Fatalf("error record %q: %v", line, err)
			}
			errs = append(errs, m)
		}
	}
	if len(errs) != 3 {
		t.Fatalf("%d error records, want 3: %v", len(errs), errs)
	}
	for i, e := range errs {
		for _, k := range []string{"attemptsMade", "arrivalTimestamp", "errorCode", "errorMessage", "attemptEndingTimestamp", "rawData"} {
			if _, ok := e[k]; !ok {
				t.Fatalf("error record %d lacks %s: %v", i, k, e)
			}
		}
		if e["errorCode"] != iceberg.CodeInvalidRecord {
			t.Fatalf("error code %v", e["errorCode"])
		}
	}
	if errs[2]["errorMessage"] != "required column id is missing" {
		t.Fatalf("message for a missing required column: %v", errs[2]["errorMessage"])
	}

	d, err := c.DescribeDeliveryStream(ctx, &fh.DescribeDeliveryStreamInput{DeliveryStreamName: aws.String("ice")})
	if err != nil {
		t.Fatal(err)
	}
	id := d.DeliveryStreamDescription.Destinations[0].IcebergDestinationDescription
	if id == nil || aws.ToString(id.CatalogConfiguration.CatalogARN) != "arn:aws:glue:us-east-1:000000000000:catalog" ||
		len(id.DestinationTableConfigurationList) != 1 || aws.ToString(id.DestinationTableConfigurationList[0].DestinationTableName) != "events" ||
		id.DestinationTableConfigurationList[0].UniqueKeys[0] != "id" || id.S3BackupMode != fhtypes.IcebergS3BackupModeFailedDataOnly ||
		aws.ToInt32(id.BufferingHints.SizeInMBs) != 1 || aws.ToInt32(id.RetryOptions.DurationInSeconds) != 60 ||
		id.S3DestinationDescription == nil || aws.ToString(id.S3DestinationDescription.BucketARN) != "arn:aws:s3:::icebk" ||
		aws.ToBool(id.AppendOnly) {
		t.Fatalf("IcebergDestinationDescription: %+v", id)
	}
}

// TestIcebergCreateErrors: what Eddy refuses, with AWS's error types.
func TestIcebergCreateErrors(t *testing.T) {
	srv := startServer(t, nil, "http://127.0.0.1:1")
	c := srv.Firehose()
	role := aws.String("arn:aws:iam::000000000000:role/firehose")
	base := func() *fhtypes.IcebergDestinationConfiguration {
		return &fhtypes.IcebergDestinationConfiguration{RoleARN: role,
			CatalogConfiguration: &fhtypes.CatalogConfiguration{CatalogARN: aws.String("arn:aws:glue:us-east-1:000000000000:catalog")},
			DestinationTableConfigurationList: []fhtypes.DestinationTableConfiguration{{
				DestinationDatabaseName: aws.String("lake"), DestinationTableName: aws.String("events")}},
			S3Configuration: &fhtypes.S3DestinationConfiguration{BucketARN: aws.String("arn:aws:s3:::b"), RoleARN: role}}
	}
	for _, tc := range []struct {
		name, want string
		mod        func(*fhtypes.IcebergDestinationConfiguration)
	}{
		{"long catalog ARN", "ValidationException", func(c *fhtypes.IcebergDestinationConfiguration) {
			c.CatalogConfiguration.CatalogARN = aws.String(strings.Repeat("a", 513))
		}},
		{"bad table name", "ValidationException", func(c *fhtypes.IcebergDestinationConfiguration) {
			c.DestinationTableConfigurationList[0].DestinationTableName = aws.String("bad-name")
		}},
		{"bad catalog ARN", "CatalogARN", func(c *fhtypes.IcebergDestinationConfiguration) {
			c.CatalogConfiguration.CatalogARN = aws.String("arn:aws:s3:::x")
		}},
		{"two tables", "Routing records among 2 tables needs a MetadataExtraction", func(c *fhtypes.IcebergDestinationConfiguration) {
			c.DestinationTableConfigurationList = append(c.DestinationTableConfigurationList, c.DestinationTableConfigurationList[0])
		}},
		{"no table", "needs DestinationTableConfigurationList to name the table", func(c *fhtypes.IcebergDestinationConfiguration) {
			c.DestinationTableConfigurationList = nil
		}},
		{"lambda", "not Lambda", func(c *fhtypes.IcebergDestinationConfiguration) {
			c.ProcessingConfiguration = &fhtypes.ProcessingConfiguration{Enabled: aws.Bool(true), Processors: []fhtypes.Processor{{Type: fhtypes.ProcessorTypeLambda,
				Parameters: []fhtypes.ProcessorParameter{{ParameterName: fhtypes.ProcessorParameterNameLambdaArn, ParameterValue: aws.String("arn:aws:lambda:us-east-1:000000000000:function:f")}}}}}
		}},
		{"bad JQ", "MetadataExtractionQuery", func(c *fhtypes.IcebergDestinationConfiguration) {
			c.ProcessingConfiguration = icebergRouting("{destinationTableName: .t")
		}},
		{"AllData", "AllData is not supported", func(c *fhtypes.IcebergDestinationConfiguration) { c.S3BackupMode = fhtypes.IcebergS3BackupModeAllData }},
		{"table creation", "TableCreationConfiguration", func(c *fhtypes.IcebergDestinationConfiguration) {
			c.TableCreationConfiguration = &fhtypes.TableCreationConfiguration{Enabled: aws.Bool(true)}
		}},
		{"buffer size", "ValidationException", func(c *fhtypes.IcebergDestinationConfiguration) {
			c.BufferingHints = &fhtypes.BufferingHints{SizeInMBs: aws.Int32(129), IntervalInSeconds: aws.Int32(0)}
		}},
	} {
		cfg := base()
		tc.mod(cfg)
		_, err := c.CreateDeliveryStream(context.Background(), &fh.CreateDeliveryStreamInput{DeliveryStreamName: aws.String("x"), IcebergDestinationConfiguration: cfg})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
}

// TestIcebergUpdateDestination: IcebergDestinationUpdate merges into the
// configuration (same type), and the next buffer goes to the new table.
func TestIcebergUpdateDestination(t *testing.T) {
	v := startVersity(t, "warehouse", "icebk")
	lake := newIcebergLake(t, v, nil)
	lake.createTable(t, "events")
	lake.createTable(t, "other")
	srv := startServer(t, nil, v.URL, fastDestRetry, func(o *firehose.Options) { o.Catalog = lake.glue })
	c := srv.Firehose()
	ctx := context.Background()
	icebergStream(t, c, "ice", "events", 60, nil)
	r1, w1 := icebergRecords(0, 10)
	putBatch(t, c, "ice", r1)
	srv.flush("ice")
	d, _ := c.DescribeDeliveryStream(ctx, &fh.DescribeDeliveryStreamInput{DeliveryStreamName: aws.String("ice")})
	_, err := c.UpdateDestination(ctx, &fh.UpdateDestinationInput{DeliveryStreamName: aws.String("ice"),
		CurrentDeliveryStreamVersionId: d.DeliveryStreamDescription.VersionId, DestinationId: aws.String("destinationId-000000000001"),
		IcebergDestinationUpdate: &fhtypes.IcebergDestinationUpdate{DestinationTableConfigurationList: []fhtypes.DestinationTableConfiguration{{
			DestinationDatabaseName: aws.String("lake"), DestinationTableName: aws.String("other")}},
			S3Configuration: &fhtypes.S3DestinationConfiguration{BucketARN: aws.String("arn:aws:s3:::icebk"), RoleARN: aws.String("arn:aws:iam::000000000000:role/firehose"),
				ErrorOutputPrefix: aws.String("fail/!{firehose:error-output-type}/")}}})
	if err != nil {
		t.Fatal(err)
	}
	r2, w2 := icebergRecords(100, 10)
	putBatch(t, c, "ice", r2)
	srv.flush("ice")
	if got := lake.rows(t, "events"); strings.Join(got, ",") != strings.Join(w1, ",") {
		t.Fatalf("events: %q", got)
	}
	if got := lake.rows(t, "other"); strings.Join(got, ",") != strings.Join(w2, ",") {
		t.Fatalf("other: %q", got)
	}
	d, _ = c.DescribeDeliveryStream(ctx, &fh.DescribeDeliveryStreamInput{DeliveryStreamName: aws.String("ice")})
	id := d.DeliveryStreamDescription.Destinations[0].IcebergDestinationDescription
	if aws.ToInt32(id.RetryOptions.DurationInSeconds) != 60 || aws.ToString(id.S3DestinationDescription.Prefix) != "bk/" ||
		aws.ToString(id.S3DestinationDescription.ErrorOutputPrefix) != "fail/!{firehose:error-output-type}/" ||
		aws.ToString(id.DestinationTableConfigurationList[0].DestinationTableName) != "other" {
		t.Fatalf("after the update (merge keeps RetryOptions and S3): %+v", id)
	}
}

// TestIcebergTableMissingThenCreated: a buffer for a table that does not
// exist yet is retried (within RetryOptions) and lands once it is created.
func TestIcebergTableMissingThenCreated(t *testing.T) {
	v := startVersity(t, "warehouse", "icebk")
	lake := newIcebergLake(t, v, nil)
	srv := startServer(t, nil, v.URL, fastDestRetry, func(o *firehose.Options) { o.Catalog = lake.glue })
	c := srv.Firehose()
	icebergStream(t, c, "ice", "late", 7200, nil)
	r, w := icebergRecords(0, 20)
	putBatch(t, c, "ice", r)
	waitFor(t, 15*time.Second, "failing attempts", func() bool {
		d, _ := c.DescribeDeliveryStream(context.Background(), &fh.DescribeDeliveryStreamInput{DeliveryStreamName: aws.String("ice")})
		return d != nil && d.DeliveryStreamDescription.FailureDescription != nil &&
			strings.Contains(aws.ToString(d.DeliveryStreamDescription.FailureDescription.Details), iceberg.CodeTableNotFound)
	})
	lake.createTable(t, "late")
	srv.flush("ice")
	if got := lake.rows(t, "late"); strings.Join(got, ",") != strings.Join(w, ",") {
		t.Fatalf("rows: %q", got)
	}
}

func icebergRouting(query string) *fhtypes.ProcessingConfiguration {
	return &fhtypes.ProcessingConfiguration{Enabled: aws.Bool(true), Processors: []fhtypes.Processor{{Type: fhtypes.ProcessorTypeMetadataExtraction,
		Parameters: []fhtypes.ProcessorParameter{
			{ParameterName: fhtypes.ProcessorParameterNameMetadataExtractionQuery, ParameterValue: aws.String(query)},
			{ParameterName: fhtypes.ProcessorParameterNameJsonParsingEngine, ParameterValue: aws.String("JQ-1.6")}}}}}
}

// TestIcebergRoutingAndOperations: a JQ MetadataExtraction query routes
// each record to one of two tables and picks its operation; updates and
// deletes on the UniqueKeys become equality deletes that iceberg-go's scan
// applies; records the query cannot route and keys missing from an update
// go to the error output.
func TestIcebergRoutingAndOperations(t *testing.T) {
	v := startVersity(t, "warehouse", "icebk")
	lake := newIcebergLake(t, v, nil)
	lake.createTable(t, "events")
	lake.createTable(t, "other")
	srv := startServer(t, nil, v.URL, fastDestRetry, func(o *firehose.Options) { o.Catalog = lake.glue })
	c := srv.Firehose()
	role := aws.String("arn:aws:iam::000000000000:role/firehose")
	_, err := c.CreateDeliveryStream(context.Background(), &fh.CreateDeliveryStreamInput{
		DeliveryStreamName: aws.String("route"),
		IcebergDestinationConfiguration: &fhtypes.IcebergDestinationConfiguration{
			RoleARN:              role,
			CatalogConfiguration: &fhtypes.CatalogConfiguration{CatalogARN: aws.String("arn:aws:glue:us-east-1:000000000000:catalog")},
			DestinationTableConfigurationList: []fhtypes.DestinationTableConfiguration{
				{DestinationDatabaseName: aws.String("lake"), DestinationTableName: aws.String("events"), UniqueKeys: []string{"id"},
					S3ErrorOutputPrefix: aws.String("ev-err/")},
				{DestinationDatabaseName: aws.String("lake"), DestinationTableName: aws.String("other"), UniqueKeys: []string{"id"}}},
			ProcessingConfiguration: icebergRouting(`{destinationDatabaseName: "lake", destinationTableName: .tbl, operation: .op}`),
			BufferingHints:          &fhtypes.BufferingHints{SizeInMBs: aws.Int32(1), IntervalInSeconds: aws.Int32(0)},
			S3Configuration: &fhtypes.S3DestinationConfiguration{BucketARN: aws.String("arn:aws:s3:::icebk"), RoleARN: role,
				ErrorOutputPrefix: aws.String("err/!{firehose:error-output-type}/")},
		}})
	if err != nil {
		t.Fatal(err)
	}
	var first [][]byte
	for i := 0; i < 6; i++ {
		first = append(first, []byte(fmt.Sprintf(`{"tbl":"events","op":"insert","id":%d,"name":"v1"}`, i)))
		first = append(first, []byte(fmt.Sprintf(`{"tbl":"other","id":%d,"name":"o"}`, 100+i)))
	}
	putBatch(t, c, "route", first)
	srv.flush("route")
	putBatch(t, c, "route", [][]byte{
		[]byte(`{"tbl":"events","op":"update","id":1,"name":"v2"}`),
		[]byte(`{"tbl":"events","op":"delete","id":2}`),
		[]byte(`{"tbl":"events","op":"insert","id":10,"name":"new"}`),
		[]byte(`{"tbl":"events","op":"update","id":10,"name":"newer"}`),
		[]byte(`{"tbl":"events","op":"update","id":3,"name":"v2"}`),
		[]byte(`{"tbl":"events","op":"UPDATE","id":3,"name":"v3"}`),
		[]byte(`{"tbl":"other","op":"delete","id":105}`),
		[]byte(`{"op":"insert","id":50}`),
		[]byte(`{"tbl":"events","op":"upsert","id":51}`),
		[]byte(`{"tbl":"events","op":"update","name":"no key"}`),
	})
	srv.flush("route")
	want := []string{"0|v1|null|false", "1|v2|null|false", "3|v3|null|false", "4|v1|null|false", "5|v1|null|false", "10|newer|null|false"}
	if got := lake.rows(t, "events"); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("events:\n%q\nwant\n%q", got, want)
	}
	want = []string{"100|o|null|false", "101|o|null|false", "102|o|null|false", "103|o|null|false", "104|o|null|false"}
	if got := lake.rows(t, "other"); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("other:\n%q\nwant\n%q", got, want)
	}
	codes := func(prefix string) string {
		var out []string
		for _, o := range v.listObjects(t, "icebk", prefix) {
			for _, line := range strings.Split(strings.TrimSpace(string(o.Body)), "\n") {
				var m map[string]any
				if err := json.Unmarshal([]byte(line), &m); err != nil {
					t.Fatal(err)
				}
				out = append(out, fmt.Sprint(m["errorCode"]))
			}
		}
		return strings.Join(out, ",")
	}
	// Records no table claims use the stream's ErrorOutputPrefix; the
	// events table's own failures its S3ErrorOutputPrefix.
	if got := codes("err/iceberg-failed/"); got != "Iceberg.RoutingFailed,Iceberg.RoutingFailed" {
		t.Fatalf("stream error records: %v", got)
	}
	if got := codes("ev-err/"); got != "Iceberg.InvalidRecord" {
		t.Fatalf("events error records: %v", got)
	}
}

// TestIcebergPastRetryWindow: with RetryOptions 0 a table that is not there
// fails its buffer at once: the records go to the error output with
// Iceberg.TableNotFound, nothing is lost, and the next buffer, once the
// table exists, is committed.
func TestIcebergPastRetryWindow(t *testing.T) {
	v := startVersity(t, "warehouse", "icebk")
	lake := newIcebergLake(t, v, nil)
	srv := startServer(t, nil, v.URL, fastDestRetry, func(o *firehose.Options) { o.Catalog = lake.glue })
	c := srv.Firehose()
	icebergStream(t, c, "ice", "gone", 0, nil)
	r1, _ := icebergRecords(0, 15)
	putBatch(t, c, "ice", r1)
	srv.flush("ice")
	var lost []string
	for _, o := range v.listObjects(t, "icebk", "bk/iceberg-failed/") {
		for _, line := range strings.Split(strings.TrimSpace(string(o.Body)), "\n") {
			var m struct {
				ErrorCode string `json:"errorCode"`
				RawData   []byte `json:"rawData"`
			}
			if err := json.Unmarshal([]byte(line), &m); err != nil {
				t.Fatal(err)
			}
			if m.ErrorCode != iceberg.CodeTableNotFound {
				t.Fatalf("error code %s", m.ErrorCode)
			}
			lost = append(lost, string(m.RawData))
		}
	}
	if len(lost) != len(r1) || lost[0] != string(r1[0]) || lost[14] != string(r1[14]) {
		t.Fatalf("%d error records, want %d with the raw records", len(lost), len(r1))
	}
	lake.createTable(t, "gone")
	r2, w2 := icebergRecords(100, 5)
	putBatch(t, c, "ice", r2)
	srv.flush("ice")
	if got := lake.rows(t, "gone"); strings.Join(got, ",") != strings.Join(w2, ",") {
		t.Fatalf("rows: %q", got)
	}
}

// TestIcebergTypeSwitch: an HTTP endpoint stream switched to Iceberg by
// UpdateDestination (no merge: the update is the full configuration)
// delivers its next records to the table.
func TestIcebergTypeSwitch(t *testing.T) {
	v := startVersity(t, "warehouse", "icebk")
	lake := newIcebergLake(t, v, nil)
	lake.createTable(t, "events")
	srv := startServer(t, nil, v.URL, fastDestRetry, func(o *firehose.Options) { o.Catalog = lake.glue })
	c := srv.Firehose()
	ctx := context.Background()
	httpStream(t, c, "sw", "http://127.0.0.1:1/", 60, fhtypes.HttpEndpointS3BackupModeFailedDataOnly, 0)
	role := aws.String("arn:aws:iam::000000000000:role/firehose")
	_, err := c.UpdateDestination(ctx, &fh.UpdateDestinationInput{DeliveryStreamName: aws.String("sw"),
		CurrentDeliveryStreamVersionId: aws.String("1"), DestinationId: aws.String("destinationId-000000000001"),
		IcebergDestinationUpdate: &fhtypes.IcebergDestinationUpdate{RoleARN: role,
			CatalogConfiguration: &fhtypes.CatalogConfiguration{CatalogARN: aws.String("arn:aws:glue:us-east-1:000000000000:catalog")},
			DestinationTableConfigurationList: []fhtypes.DestinationTableConfiguration{{
				DestinationDatabaseName: aws.String("lake"), DestinationTableName: aws.String("events")}},
			BufferingHints:  &fhtypes.BufferingHints{SizeInMBs: aws.Int32(1), IntervalInSeconds: aws.Int32(0)},
			S3Configuration: &fhtypes.S3DestinationConfiguration{BucketARN: aws.String("arn:aws:s3:::icebk"), RoleARN: role}}})
	if err != nil {
		t.Fatal(err)
	}
	d, _ := c.DescribeDeliveryStream(ctx, &fh.DescribeDeliveryStreamInput{DeliveryStreamName: aws.String("sw")})
	if dd := d.DeliveryStreamDescription.Destinations[0]; dd.IcebergDestinationDescription == nil || dd.HttpEndpointDestinationDescription != nil {
		t.Fatalf("after the switch: %+v", dd)
	}
	r, w := icebergRecords(0, 7)
	putBatch(t, c, "sw", r)
	srv.flush("sw")
	if got := lake.rows(t, "events"); strings.Join(got, ",") != strings.Join(w, ",") {
		t.Fatalf("rows: %q", got)
	}
}
