package firehose_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/aws/aws-sdk-go-v2/aws"
	fh "github.com/aws/aws-sdk-go-v2/service/firehose"
	fhtypes "github.com/aws/aws-sdk-go-v2/service/firehose/types"
	"github.com/aws/smithy-go"

	"github.com/eddy-streams/eddy/internal/awsproto"
	"github.com/eddy-streams/eddy/internal/firehose"
	"github.com/eddy-streams/eddy/internal/glue"
)

// newCatalog is an in-process Glue catalog with one table.
func newCatalog(t testing.TB, db, table string, cols [][2]string) *glue.Service {
	t.Helper()
	g, err := glue.New(glue.Options{DefaultAccount: "000000000000", DefaultRegion: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	call := func(op string, body any) {
		b, _ := json.Marshal(body)
		if _, err := g.Handle(&awsproto.Request{Ctx: context.Background(), Operation: op, Codec: awsproto.JSON, Body: b}); err != nil {
			t.Fatalf("%s: %v", op, err)
		}
	}
	call("CreateDatabase", map[string]any{"DatabaseInput": map[string]any{"Name": db}})
	var cs []map[string]string
	for _, c := range cols {
		cs = append(cs, map[string]string{"Name": c[0], "Type": c[1]})
	}
	call("CreateTable", map[string]any{"DatabaseName": db, "TableInput": map[string]any{"Name": table, "StorageDescriptor": map[string]any{"Columns": cs}}})
	return g
}

func lakeProcessors(query string, extra ...fhtypes.Processor) *fhtypes.ProcessingConfiguration {
	ps := append([]fhtypes.Processor{
		{Type: fhtypes.ProcessorTypeRecordDeAggregation, Parameters: []fhtypes.ProcessorParameter{{ParameterName: "SubRecordType", ParameterValue: aws.String("JSON")}}},
		{Type: fhtypes.ProcessorTypeMetadataExtraction, Parameters: []fhtypes.ProcessorParameter{
			{ParameterName: "MetadataExtractionQuery", ParameterValue: aws.String(query)},
			{ParameterName: "JsonParsingEngine", ParameterValue: aws.String("JQ-1.6")}}},
	}, extra...)
	return &fhtypes.ProcessingConfiguration{Enabled: aws.Bool(true), Processors: ps}
}

func parquetConversion(db, table string) *fhtypes.DataFormatConversionConfiguration {
	return &fhtypes.DataFormatConversionConfiguration{
		Enabled: aws.Bool(true),
		SchemaConfiguration: &fhtypes.SchemaConfiguration{RoleARN: aws.String("arn:aws:iam::000000000000:role/f"),
			DatabaseName: aws.String(db), TableName: aws.String(table)},
		InputFormatConfiguration:  &fhtypes.InputFormatConfiguration{Deserializer: &fhtypes.Deserializer{OpenXJsonSerDe: &fhtypes.OpenXJsonSerDe{}}},
		OutputFormatConfiguration: &fhtypes.OutputFormatConfiguration{Serializer: &fhtypes.Serializer{ParquetSerDe: &fhtypes.ParquetSerDe{Compression: fhtypes.ParquetCompressionSnappy}}},
	}
}

// TestDynamicPartitioningToParquet: clickstream JSON, aggregated two
// events per record, partitioned by two JQ keys and a date from the event
// timestamp, converted to Parquet with a Glue schema; arrow-go reads every
// row back; bad JSON and rows that break the schema land in their error
// prefixes.
func TestDynamicPartitioningToParquet(t *testing.T) {
	v := startVersity(t, "lake")
	cat := newCatalog(t, "web", "clicks", [][2]string{{"customer_id", "string"}, {"device", "string"}, {"ts", "timestamp"}, {"amount", "decimal(10,2)"}, {"pages", "array<string>"}})
	srv := startServer(t, nil, v.URL, func(o *firehose.Options) { o.Catalog = cat })
	c := srv.Firehose()
	s3Stream(t, c, "clicks", fhtypes.ExtendedS3DestinationConfiguration{
		BucketARN:                         aws.String("arn:aws:s3:::lake"),
		Prefix:                            aws.String("customer_id=!{partitionKeyFromQuery:customer_id}/device=!{partitionKeyFromQuery:device}/dt=!{partitionKeyFromQuery:dt}/"),
		ErrorOutputPrefix:                 aws.String("errors/!{firehose:error-output-type}/"),
		BufferingHints:                    &fhtypes.BufferingHints{SizeInMBs: aws.Int32(64), IntervalInSeconds: aws.Int32(900)},
		DynamicPartitioningConfiguration:  &fhtypes.DynamicPartitioningConfiguration{Enabled: aws.Bool(true)},
		ProcessingConfiguration:           lakeProcessors(`{customer_id: .customer_id, device: .device, dt: (.ts | strftime("%Y-%m-%d"))}`),
		DataFormatConversionConfiguration: parquetConversion("web", "clicks"),
	})
	type ev struct {
		Customer string   `json:"customer_id"`
		Device   string   `json:"device"`
		TS       int64    `json:"ts"`
		Amount   string   `json:"amount"`
		Pages    []string `json:"pages"`
	}
	want := map[string][]ev{} // expected partition prefix → events
	var batch [][]byte
	for i := 0; i < 60; i++ {
		var agg []byte
		for j := 0; j < 2; j++ {
			n := i*2 + j
			e := ev{Customer: fmt.Sprintf("c%d", n%3), Device: []string{"mobile", "desktop"}[n%2], TS: 1700000000 + int64(n%2)*86400, Amount: fmt.Sprintf("%d.%02d", n, n%100), Pages: []string{"p" + fmt.Sprint(n)}}
			b, _ := json.Marshal(e)
			agg = append(agg, b...)
			day := map[int64]string{1700000000: "2023-11-14", 1700086400: "2023-11-15"}[e.TS]
			k := fmt.Sprintf("customer_id=%s/device=%s/dt=%s/", e.Customer, e.Device, day)
			want[k] = append(want[k], e)
		}
		batch = append(batch, agg)
	}
	batch = append(batch, []byte(`not json`), []byte(`{"customer_id":"c0","device":"mobile","ts":1700000000,"amount":"lots"}`), []byte(`{"device":"x","ts":1}`))
	putBatch(t, c, "clicks", batch)
	srv.flush("clicks")

	objs := v.listObjects(t, "lake", "")
	got := map[string][]object{}
	var errs []object
	for _, o := range objs {
		if strings.HasPrefix(o.Key, "errors/") {
			errs = append(errs, o)
			continue
		}
		i := strings.Index(o.Key, "clicks-")
		if i < 0 || !strings.HasSuffix(o.Key, ".parquet") {
			t.Fatalf("unexpected key %s", o.Key)
		}
		got[o.Key[:i]] = append(got[o.Key[:i]], o)
	}
	if len(got) != len(want) {
		t.Fatalf("partitions %v, want %d: %v", keysOf(got), len(want), keysOf(want))
	}
	for prefix, evs := range want {
		os := got[prefix]
		if len(os) != 1 {
			t.Fatalf("partition %s: %d objects; all keys: %v", prefix, len(os), keysOf(got))
		}
		rows := readParquet(t, os[0].Body)
		wantRows := len(evs)
		if prefix == "customer_id=c0/device=mobile/dt=2023-11-14/" {
			// the bad-amount record was keyed here but failed conversion
		}
		if len(rows) != wantRows {
			t.Fatalf("partition %s: %d rows, want %d", prefix, len(rows), wantRows)
		}
		for i, e := range evs {
			r := rows[i]
			if r.customer != e.Customer || r.device != e.Device || r.tsMs != e.TS*1000 || r.amount != e.Amount || r.pages != strings.Join(e.Pages, ",") {
				t.Fatalf("partition %s row %d: %+v, want %+v", prefix, i, r, e)
			}
		}
	}
	var conv, part []map[string]any
	for _, o := range errs {
		for _, line := range bytes.Split(bytes.TrimSpace(o.Body), []byte("\n")) {
			var m map[string]any
			if err := json.Unmarshal(line, &m); err != nil {
				t.Fatalf("error record %s: %v", line, err)
			}
			switch {
			case strings.HasPrefix(o.Key, "errors/format-conversion-failed/"):
				conv = append(conv, m)
			case strings.HasPrefix(o.Key, "errors/partitioning-failed/"):
				part = append(part, m)
			default:
				t.Fatalf("error object %s", o.Key)
			}
		}
	}
	if len(part) != 2 || len(conv) != 1 {
		t.Fatalf("partitioning-failed %d, format-conversion-failed %d: %v %v", len(part), len(conv), part, conv)
	}
	if conv[0]["lastErrorCode"] != "DataFormatConversion.MalformedData" || conv[0]["dataCatalogTable"].(map[string]any)["tableName"] != "clicks" ||
		conv[0]["dataCatalogTable"].(map[string]any)["versionId"] != "0" {
		t.Fatalf("conversion error record %v", conv[0])
	}
	for _, k := range []string{"attemptsMade", "arrivalTimestamp", "lastErrorMessage", "attemptEndingTimestamp", "rawData", "sequenceNumber", "subSequenceNumber"} {
		if _, ok := conv[0][k]; !ok {
			t.Fatalf("conversion error record lacks %s: %v", k, conv[0])
		}
	}
	codes := map[string]string{}
	for _, p := range part {
		raw, _ := base64.StdEncoding.DecodeString(p["rawData"].(string))
		codes[string(raw)] = p["errorCode"].(string)
	}
	if codes["not json"] != "DynamicPartitioning.DeAggregationFailed" || codes[`{"device":"x","ts":1}`] != "DynamicPartitioning.MetadataExtractionFailed" {
		t.Fatalf("partitioning-failed records %v", codes)
	}
}

type clickRow struct {
	customer, device, amount, pages string
	tsMs                            int64
}

// readParquet reads a Parquet object with arrow-go (an independent reader).
func readParquet(t *testing.T, data []byte) []clickRow {
	t.Helper()
	pf, err := file.NewParquetReader(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("arrow-go: %v", err)
	}
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := fr.ReadTable(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer tbl.Release()
	col := func(name string) any {
		for i := 0; i < int(tbl.NumCols()); i++ {
			if tbl.Schema().Field(i).Name == name {
				return tbl.Column(i).Data().Chunk(0)
			}
		}
		t.Fatalf("no column %s", name)
		return nil
	}
	cu, de := col("customer_id").(*array.String), col("device").(*array.String)
	ts, am, pg := col("ts").(*array.Timestamp), col("amount").(*array.Decimal128), col("pages").(*array.List)
	out := make([]clickRow, tbl.NumRows())
	for i := range out {
		s, e := pg.ValueOffsets(i)
		var ps []string
		for j := s; j < e; j++ {
			ps = append(ps, pg.ListValues().(*array.String).Value(int(j)))
		}
		out[i] = clickRow{customer: cu.Value(i), device: de.Value(i), tsMs: int64(ts.Value(i)), amount: am.Value(i).ToString(2), pages: strings.Join(ps, ",")}
	}
	return out
}

func keysOf[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// TestLakeValidation: each lake rule answers InvalidArgumentException with
// its message.
func TestLakeValidation(t *testing.T) {
	srv := startServer(t, nil, "http://127.0.0.1:1")
	c := srv.Firehose()
	dp := &fhtypes.DynamicPartitioningConfiguration{Enabled: aws.Bool(true)}
	base := func() fhtypes.ExtendedS3DestinationConfiguration {
		return fhtypes.ExtendedS3DestinationConfiguration{
			RoleARN: aws.String("arn:aws:iam::000000000000:role/f"), BucketARN: aws.String("arn:aws:s3:::b"),
			Prefix: aws.String("k=!{partitionKeyFromQuery:k}/"), ErrorOutputPrefix: aws.String("e/!{firehose:error-output-type}/"),
			BufferingHints: &fhtypes.BufferingHints{SizeInMBs: aws.Int32(64)}, DynamicPartitioningConfiguration: dp, ProcessingConfiguration: lakeProcessors(`{k: .k}`),
		}
	}
	cases := []struct {
		name string
		mod  func(*fhtypes.ExtendedS3DestinationConfiguration)
		msg  string
	}{
		{"key without partitioning", func(d *fhtypes.ExtendedS3DestinationConfiguration) {
			d.DynamicPartitioningConfiguration = nil
			d.ProcessingConfiguration = nil
		}, "The expression '!{partitionKeyFromQuery:k}' requires dynamic partitioning, which is not enabled."},
		{"no key in prefix", func(d *fhtypes.ExtendedS3DestinationConfiguration) { d.Prefix = aws.String("static/") },
			"When dynamic partitioning is enabled, Prefix must contain at least one !{partitionKeyFromQuery:…} or !{partitionKeyFromLambda:…} expression."},
		{"no error prefix", func(d *fhtypes.ExtendedS3DestinationConfiguration) { d.ErrorOutputPrefix = nil },
			"ErrorOutputPrefix cannot be null or empty when Prefix contains expressions."},
		{"error prefix without type", func(d *fhtypes.ExtendedS3DestinationConfiguration) { d.ErrorOutputPrefix = aws.String("e/") },
			"ErrorOutputPrefix must contain the '!{firehose:error-output-type}' expression when Prefix contains expressions."},
		{"small buffer", func(d *fhtypes.ExtendedS3DestinationConfiguration) { d.BufferingHints.SizeInMBs = aws.Int32(5) },
			"BufferingHints.SizeInMBs must be at least 64 when dynamic partitioning is enabled."},
		{"query key not in query", func(d *fhtypes.ExtendedS3DestinationConfiguration) {
			d.Prefix = aws.String("k=!{partitionKeyFromQuery:other}/")
		},
			"Partition key other used in Prefix is not defined in MetadataExtractionQuery."},
		{"no metadata extraction", func(d *fhtypes.ExtendedS3DestinationConfiguration) { d.ProcessingConfiguration = nil },
			"Prefix uses !{partitionKeyFromQuery:k} but no MetadataExtraction processor is configured."},
		{"lambda key", func(d *fhtypes.ExtendedS3DestinationConfiguration) {
			d.Prefix = aws.String("k=!{partitionKeyFromLambda:k}/")
		},
			"Prefix uses !{partitionKeyFromLambda:k} but no Lambda processor is configured."},
		{"query key in error prefix", func(d *fhtypes.ExtendedS3DestinationConfiguration) {
			d.ErrorOutputPrefix = aws.String("e/!{firehose:error-output-type}/k=!{partitionKeyFromQuery:k}/")
		}, "ErrorOutputPrefix cannot use the partitionKeyFromQuery or partitionKeyFromLambda namespaces."},
		{"lambda key in error prefix", func(d *fhtypes.ExtendedS3DestinationConfiguration) {
			d.ErrorOutputPrefix = aws.String("e/!{partitionKeyFromLambda:k}/!{firehose:error-output-type}/")
		}, "ErrorOutputPrefix cannot use the partitionKeyFromQuery or partitionKeyFromLambda namespaces."},
		{"bad jq", func(d *fhtypes.ExtendedS3DestinationConfiguration) {
			d.ProcessingConfiguration = lakeProcessors(`{k: .k`)
		}, "MetadataExtractionQuery {k: .k is not a valid JQ expression: …"},
		{"processor twice", func(d *fhtypes.ExtendedS3DestinationConfiguration) {
			d.ProcessingConfiguration.Processors = append(d.ProcessingConfiguration.Processors, d.ProcessingConfiguration.Processors[1])
		}, "Processor type MetadataExtraction can be specified only once."},
		{"unknown parameter", func(d *fhtypes.ExtendedS3DestinationConfiguration) {
			d.ProcessingConfiguration.Processors[1].Parameters = append(d.ProcessingConfiguration.Processors[1].Parameters,
				fhtypes.ProcessorParameter{ParameterName: "LambdaArn", ParameterValue: aws.String("arn:aws:lambda:us-east-1:000000000000:function:f")})
		}, "Parameter LambdaArn is not supported for processor type MetadataExtraction."},
		{"delimiter with JSON", func(d *fhtypes.ExtendedS3DestinationConfiguration) {
			d.ProcessingConfiguration.Processors[0].Parameters = append(d.ProcessingConfiguration.Processors[0].Parameters,
				fhtypes.ProcessorParameter{ParameterName: "Delimiter", ParameterValue: aws.String("Iw==")})
		}, "Delimiter can only be specified when SubRecordType is DELIMITED."},
		{"metadata extraction without partitioning", func(d *fhtypes.ExtendedS3DestinationConfiguration) {
			d.DynamicPartitioningConfiguration = nil
			d.Prefix = aws.String("p/")
			d.ProcessingConfiguration.Processors = d.ProcessingConfiguration.Processors[1:]
		}, "MetadataExtraction processor can only be used when dynamic partitioning is enabled."},
		{"no query", func(d *fhtypes.ExtendedS3DestinationConfiguration) {
			d.ProcessingConfiguration.Processors[1].Parameters = d.ProcessingConfiguration.Processors[1].Parameters[1:]
		}, "MetadataExtraction processor requires the parameter MetadataExtractionQuery."},
		{"no schema configuration", func(d *fhtypes.ExtendedS3DestinationConfiguration) {
			d.DataFormatConversionConfiguration = parquetConversion("db", "t")
			d.DataFormatConversionConfiguration.SchemaConfiguration = nil
		}, "SchemaConfiguration with RoleARN, DatabaseName and TableName is required when data format conversion is enabled."},
		{"small parquet page", func(d *fhtypes.ExtendedS3DestinationConfiguration) {
			d.DataFormatConversionConfiguration = parquetConversion("db", "t")
			d.DataFormatConversionConfiguration.OutputFormatConfiguration.Serializer.ParquetSerDe.PageSizeBytes = aws.Int32(1024)
		}, "ParquetSerDe PageSizeBytes must be at least 65536 (64 KiB)."},
		{"two deserializers", func(d *fhtypes.ExtendedS3DestinationConfiguration) {
			d.DataFormatConversionConfiguration = parquetConversion("db", "t")
			d.DataFormatConversionConfiguration.InputFormatConfiguration.Deserializer.HiveJsonSerDe = &fhtypes.HiveJsonSerDe{}
		}, "InputFormatConfiguration must specify exactly one deserializer: OpenXJsonSerDe or HiveJsonSerDe."},
		{"error-output-type in prefix", func(d *fhtypes.ExtendedS3DestinationConfiguration) {
			d.Prefix = aws.String("k=!{partitionKeyFromQuery:k}/!{firehose:error-output-type}/")
		}, "The '!{firehose:error-output-type}' expression is only allowed in ErrorOutputPrefix."},
		{"empty key name", func(d *fhtypes.ExtendedS3DestinationConfiguration) {
			d.Prefix = aws.String("k=!{partitionKeyFromQuery:}/")
		},
			"The expression '!{partitionKeyFromQuery:}' is not valid. The partition key name cannot be empty."},
		{"wrong engine", func(d *fhtypes.ExtendedS3DestinationConfiguration) {
			d.ProcessingConfiguration.Processors[1].Parameters[1].ParameterValue = aws.String("JQ-1.5")
		}, "MetadataExtraction processor requires the parameter JsonParsingEngine with the value JQ-1.6."},
		{"delimited without delimiter", func(d *fhtypes.ExtendedS3DestinationConfiguration) {
			d.ProcessingConfiguration.Processors[0].Parameters[0].ParameterValue = aws.String("DELIMITED")
		}, "Delimiter is required when SubRecordType is DELIMITED."},
		{"bad subrecord type", func(d *fhtypes.ExtendedS3DestinationConfiguration) {
			d.ProcessingConfiguration.Processors[0].Parameters[0].ParameterValue = aws.String("CSV")
		}, "RecordDeAggregation processor requires the parameter SubRecordType with a value of JSON or DELIMITED."},
		{"deagg without partitioning", func(d *fhtypes.ExtendedS3DestinationConfiguration) {
			d.DynamicPartitioningConfiguration = nil
			d.Prefix = aws.String("p/")
			d.ProcessingConfiguration.Processors = d.ProcessingConfiguration.Processors[:1]
		}, "RecordDeAggregation processor can only be used when dynamic partitioning is enabled."},
		{"conversion compressed", func(d *fhtypes.ExtendedS3DestinationConfiguration) {
			d.DataFormatConversionConfiguration = parquetConversion("db", "t")
			d.CompressionFormat = fhtypes.CompressionFormatGzip
		}, "CompressionFormat must be UNCOMPRESSED when data format conversion is enabled."},
		{"orc", func(d *fhtypes.ExtendedS3DestinationConfiguration) {
			d.DataFormatConversionConfiguration = parquetConversion("db", "t")
			d.DataFormatConversionConfiguration.OutputFormatConfiguration.Serializer = &fhtypes.Serializer{OrcSerDe: &fhtypes.OrcSerDe{}}
		}, "OrcSerDe is not supported by Eddy: no independent ORC reader is available to verify the files it would write. Use ParquetSerDe."},
		{"small parquet block", func(d *fhtypes.ExtendedS3DestinationConfiguration) {
			d.DataFormatConversionConfiguration = parquetConversion("db", "t")
			d.DataFormatConversionConfiguration.OutputFormatConfiguration.Serializer.ParquetSerDe.BlockSizeBytes = aws.Int32(1 << 20)
		}, "ParquetSerDe BlockSizeBytes must be at least 67108864 (64 MiB)."},
		{"no deserializer", func(d *fhtypes.ExtendedS3DestinationConfiguration) {
			d.DataFormatConversionConfiguration = parquetConversion("db", "t")
			d.DataFormatConversionConfiguration.InputFormatConfiguration.Deserializer = &fhtypes.Deserializer{}
		}, "InputFormatConfiguration must specify exactly one deserializer: OpenXJsonSerDe or HiveJsonSerDe."},
		{"conversion small buffer", func(d *fhtypes.ExtendedS3DestinationConfiguration) {
			d.DynamicPartitioningConfiguration, d.ProcessingConfiguration, d.Prefix, d.ErrorOutputPrefix = nil, nil, aws.String("p/"), nil
			d.DataFormatConversionConfiguration = parquetConversion("db", "t")
			d.BufferingHints.SizeInMBs = aws.Int32(5)
		}, "BufferingHints.SizeInMBs must be at least 64 when data format conversion is enabled."},
	}
	for i, tc := range cases {
		d := base()
		tc.mod(&d)
		_, err := c.CreateDeliveryStream(context.Background(), &fh.CreateDeliveryStreamInput{DeliveryStreamName: aws.String(fmt.Sprintf("v%d", i)), ExtendedS3DestinationConfiguration: &d})
		var ae smithy.APIError
		match := ae != nil && ae.ErrorMessage() == tc.msg
		if errors.As(err, &ae) {
			if p, ok := strings.CutSuffix(tc.msg, "…"); ok {
				match = strings.HasPrefix(ae.ErrorMessage(), p)
			} else {
				match = ae.ErrorMessage() == tc.msg
			}
		}
		if ae == nil || ae.ErrorCode() != "InvalidArgumentException" || !match {
			t.Errorf("%s: got %v, want InvalidArgumentException %q", tc.name, err, tc.msg)
		}
	}
	// A valid stream; default buffer 128 MiB when partitioning.
	d := base()
	d.BufferingHints = nil
	if _, err := c.CreateDeliveryStream(context.Background(), &fh.CreateDeliveryStreamInput{DeliveryStreamName: aws.String("ok"), ExtendedS3DestinationConfiguration: &d}); err != nil {
		t.Fatal(err)
	}
	desc, err := c.DescribeDeliveryStream(context.Background(), &fh.DescribeDeliveryStreamInput{DeliveryStreamName: aws.String("ok")})
	if err != nil {
		t.Fatal(err)
	}
	ext := desc.DeliveryStreamDescription.Destinations[0].ExtendedS3DestinationDescription
	if aws.ToInt32(ext.BufferingHints.SizeInMBs) != 128 {
		t.Fatalf("default size %d", aws.ToInt32(ext.BufferingHints.SizeInMBs))
	}
	// Enabled only at creation, never disabled.
	upd := func(name string, on bool) error {
		d, _ := c.DescribeDeliveryStream(context.Background(), &fh.DescribeDeliveryStreamInput{DeliveryStreamName: aws.String(name)})
		_, err := c.UpdateDestination(context.Background(), &fh.UpdateDestinationInput{DeliveryStreamName: aws.String(name),
			CurrentDeliveryStreamVersionId: d.DeliveryStreamDescription.VersionId, DestinationId: aws.String("destinationId-000000000001"),
			ExtendedS3DestinationUpdate: &fhtypes.ExtendedS3DestinationUpdate{DynamicPartitioningConfiguration: &fhtypes.DynamicPartitioningConfiguration{Enabled: aws.Bool(on)}}})
		return err
	}
	if err := upd("ok", false); err == nil || !strings.Contains(err.Error(), "Dynamic partitioning cannot be disabled once it is enabled.") {
		t.Fatalf("disable: %v", err)
	}
	plain := fhtypes.ExtendedS3DestinationConfiguration{RoleARN: aws.String("arn:aws:iam::000000000000:role/f"), BucketARN: aws.String("arn:aws:s3:::b")}
	if _, err := c.CreateDeliveryStream(context.Background(), &fh.CreateDeliveryStreamInput{DeliveryStreamName: aws.String("plain"), ExtendedS3DestinationConfiguration: &plain}); err != nil {
		t.Fatal(err)
	}
	if err := upd("plain", true); err == nil || !strings.Contains(err.Error(), "Dynamic partitioning can only be enabled when the Firehose stream is created.") {
		t.Fatalf("enable on update: %v", err)
	}
}

// TestPartitionLimitAndDelimited: DELIMITED de-aggregation, a partition per
// key with AppendDelimiterToRecord, and past 500 active partitions the
// records go to partitioning-failed with PartitionCountExceeded.
func TestPartitionLimitAndDelimited(t *testing.T) {
	v := startVersity(t, "parts")
	srv := startServer(t, nil, v.URL)
	c := srv.Firehose()
	pc := lakeProcessors(`{k: .k}`, fhtypes.Processor{Type: fhtypes.ProcessorTypeAppendDelimiterToRecord})
	pc.Processors[0].Parameters = []fhtypes.ProcessorParameter{
		{ParameterName: "SubRecordType", ParameterValue: aws.String("DELIMITED")},
		{ParameterName: "Delimiter", ParameterValue: aws.String(base64.StdEncoding.EncodeToString([]byte("####")))}}
	s3Stream(t, c, "many", fhtypes.ExtendedS3DestinationConfiguration{
		BucketARN: aws.String("arn:aws:s3:::parts"), Prefix: aws.String("k=!{partitionKeyFromQuery:k}/"),
		ErrorOutputPrefix:                aws.String("err/!{firehose:error-output-type}/"),
		BufferingHints:                   &fhtypes.BufferingHints{SizeInMBs: aws.Int32(64), IntervalInSeconds: aws.Int32(900)},
		DynamicPartitioningConfiguration: &fhtypes.DynamicPartitioningConfiguration{Enabled: aws.Bool(true)},
		ProcessingConfiguration:          pc,
	})
	// 505 keys, two sub-records each, in records of 5 keys joined by "####".
	var batch [][]byte
	for i := 0; i < 505; i += 5 {
		var parts []string
		for j := i; j < i+5; j++ {
			parts = append(parts, fmt.Sprintf(`{"k":"%03d","v":1}`, j), fmt.Sprintf(`{"k":"%03d","v":2}`, j))
		}
		batch = append(batch, []byte(strings.Join(parts, "####")))
	}
	putBatch(t, c, "many", batch)
	srv.flush("many")
	objs := v.listObjects(t, "parts", "")
	var data, errs int
	for _, o := range objs {
		if strings.HasPrefix(o.Key, "err/partitioning-failed/") {
			for _, line := range bytes.Split(bytes.TrimSpace(o.Body), []byte("\n")) {
				var m map[string]any
				if err := json.Unmarshal(line, &m); err != nil || m["errorCode"] != "DynamicPartitioning.PartitionCountExceeded" {
					t.Fatalf("error record %s", line)
				}
				errs++
			}
			continue
		}
		var k string
		if _, err := fmt.Sscanf(o.Key, "k=%3s/", &k); err != nil {
			t.Fatalf("key %s", o.Key)
		}
		want := fmt.Sprintf("{\"k\":\"%s\",\"v\":1}\n{\"k\":\"%s\",\"v\":2}\n", k, k)
		if string(o.Body) != want {
			t.Fatalf("%s: %q, want %q", o.Key, o.Body, want)
		}
		data++
	}
	if data != 500 || errs != 10 {
		t.Fatalf("%d partition objects, %d PartitionCountExceeded records; want 500 and 10", data, errs)
	}
}
