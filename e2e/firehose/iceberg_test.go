//go:build linux

package firehose_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"
	iceberggo "github.com/apache/iceberg-go"
	icebergio "github.com/apache/iceberg-go/io"
	icetable "github.com/apache/iceberg-go/table"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/eddy-streams/eddy/internal/firehose/iceberg"
	"github.com/eddy-streams/eddy/internal/firehose/s3dest"
)

// TestIcebergWithCLI: on the built binary, the AWS CLI v1 registers an
// Iceberg table in Eddy's Glue catalog (metadata file in versitygw,
// Parameters table_type=ICEBERG), creates a stream with
// --iceberg-destination-configuration and puts records; iceberg-go reads
// the table back row for row from the metadata_location that
// `aws glue get-table` reports; describe-delivery-stream parses in botocore
// and /metrics counts DeliveryToIceberg.Records.
func TestIcebergWithCLI(t *testing.T) {
	s3url := versitygw(t)
	sc := s3Client(s3url)
	ctx := context.Background()
	for _, b := range []string{"warehouse", "icebk"} {
		if _, err := sc.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(b)}); err != nil {
			t.Fatal(err)
		}
	}
	url, _ := startEddy(t, t.TempDir(), s3url)
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return "file://" + p
	}

	schema := iceberggo.NewSchema(0,
		iceberggo.NestedField{ID: 1, Name: "id", Type: iceberggo.PrimitiveTypes.Int64, Required: true},
		iceberggo.NestedField{ID: 2, Name: "city", Type: iceberggo.PrimitiveTypes.String})
	meta, err := icetable.NewMetadata(schema, iceberggo.UnpartitionedSpec, icetable.UnsortedSortOrder, "s3://warehouse/web/visits", nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(meta)
	mkey := "web/visits/metadata/00000-7d3c2a10-0000-4000-8000-000000000001.metadata.json"
	if _, err := sc.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("warehouse"), Key: aws.String(mkey), Body: strings.NewReader(string(body))}); err != nil {
		t.Fatal(err)
	}
	awsCLI(t, url, "glue", "create-database", "--database-input", "Name=web")
	awsCLI(t, url, "glue", "create-table", "--database-name", "web", "--table-input", write("table.json", `{"Name":"visits",
	  "TableType":"EXTERNAL_TABLE", "Parameters":{"table_type":"ICEBERG","metadata_location":"s3://warehouse/`+mkey+`"},
	  "StorageDescriptor":{"Location":"s3://warehouse/web/visits"}}`))
	awsCLI(t, url, "firehose", "create-delivery-stream", "--delivery-stream-name", "visits", "--iceberg-destination-configuration", write("ice.json", `{
	  "RoleARN": "arn:aws:iam::000000000000:role/f",
	  "CatalogConfiguration": {"CatalogARN": "arn:aws:glue:us-east-1:000000000000:catalog"},
	  "DestinationTableConfigurationList": [{"DestinationDatabaseName": "web", "DestinationTableName": "visits", "S3ErrorOutputPrefix": "bad/"}],
	  "BufferingHints": {"SizeInMBs": 1, "IntervalInSeconds": 0},
	  "RetryOptions": {"DurationInSeconds": 60},
	  "S3BackupMode": "FailedDataOnly",
	  "S3Configuration": {"RoleARN": "arn:aws:iam::000000000000:role/f", "BucketARN": "arn:aws:s3:::icebk"}}`))

	var recs []map[string]string
	var want []string
	for i := 0; i < 40; i++ {
		city := []string{"Lisbon", "Oslo", "Quito"}[i%3]
		recs = append(recs, map[string]string{"Data": fmt.Sprintf(`{"id":%d,"city":%q}`, i, city)})
		want = append(want, fmt.Sprintf("%d %s", i, city))
	}
	recs = append(recs, map[string]string{"Data": `{"city":"nowhere"}`})
	rb, _ := json.Marshal(recs)
	out := awsCLI(t, url, "firehose", "put-record-batch", "--delivery-stream-name", "visits",
		"--records", write("recs.json", string(rb)))
	if !strings.Contains(out, `"FailedPutCount": 0`) {
		t.Fatalf("put-record-batch: %s", out)
	}

	var got []string
	waitFor(t, 60*time.Second, "the rows in the Iceberg table", func() bool {
		var gt struct {
			Table struct{ Parameters map[string]string }
		}
		if err := json.Unmarshal([]byte(awsCLI(t, url, "glue", "get-table", "--database-name", "web", "--name", "visits")), &gt); err != nil {
			t.Fatal(err)
		}
		loc := gt.Table.Parameters["metadata_location"]
		if !strings.Contains(loc, "/00001-") {
			return false
		}
		up := s3dest.NewUploader(s3dest.Endpoint{URL: s3url, AccessKey: s3Key, SecretKey: s3Secret})
		fsF := func(ctx context.Context) (icebergio.IO, error) { return iceberg.NewFS(ctx, up), nil }
		tbl, err := icetable.NewFromLocation(ctx, icetable.Identifier{"web", "visits"}, loc, fsF, nil)
		if err != nil {
			t.Fatal(err)
		}
		at, err := tbl.Scan().ToArrowTable(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer at.Release()
		rdr := array.NewTableReader(at, 100)
		defer rdr.Release()
		got = got[:0]
		for rdr.Next() {
			rec := rdr.RecordBatch()
			for i := 0; i < int(rec.NumRows()); i++ {
				got = append(got, fmt.Sprintf("%d %s", rec.Column(0).(*array.Int64).Value(i), rec.Column(1).(*array.String).Value(i)))
			}
		}
		return true
	})
	sort.Slice(got, func(i, j int) bool {
		var a, b int
		fmt.Sscan(got[i], &a)
		fmt.Sscan(got[j], &b)
		return a < b
	})
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("rows:\n%v\nwant\n%v", got, want)
	}
	waitFor(t, 30*time.Second, "the error record under the table's S3ErrorOutputPrefix", func() bool {
		objs := objects(t, sc, "icebk", "bad/", false)
		for _, b := range objs {
			return strings.Contains(string(b), `"errorCode":"Iceberg.InvalidRecord"`) && strings.Contains(string(b), "required column id is missing")
		}
		return false
	})
	desc := awsCLI(t, url, "firehose", "describe-delivery-stream", "--delivery-stream-name", "visits")
	var d struct {
		DeliveryStreamDescription struct {
			Destinations []struct {
				IcebergDestinationDescription struct {
					CatalogConfiguration              struct{ CatalogARN string }
					DestinationTableConfigurationList []struct{ DestinationTableName, S3ErrorOutputPrefix string }
					S3BackupMode                      string
					S3DestinationDescription          struct{ BucketARN string }
				}
			}
		}
	}
	if err := json.Unmarshal([]byte(desc), &d); err != nil {
		t.Fatal(err)
	}
	id := d.DeliveryStreamDescription.Destinations[0].IcebergDestinationDescription
	if id.CatalogConfiguration.CatalogARN != "arn:aws:glue:us-east-1:000000000000:catalog" || id.DestinationTableConfigurationList[0].DestinationTableName != "visits" ||
		id.DestinationTableConfigurationList[0].S3ErrorOutputPrefix != "bad/" || id.S3BackupMode != "FailedDataOnly" || id.S3DestinationDescription.BucketARN != "arn:aws:s3:::icebk" {
		t.Fatalf("describe-delivery-stream: %s", desc)
	}
	if m := metrics(t, url); !strings.Contains(m, `eddy_firehose_delivery_to_iceberg_records_total{account="000000000000",delivery_stream="visits",region="us-east-1"} 40`) {
		t.Fatalf("/metrics lacks DeliveryToIceberg.Records = 40")
	}
}
