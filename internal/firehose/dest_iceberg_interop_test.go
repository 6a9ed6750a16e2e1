package firehose_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	iceberggo "github.com/apache/iceberg-go"
	icecatalog "github.com/apache/iceberg-go/catalog"
	iceglue "github.com/apache/iceberg-go/catalog/glue"
	icebergio "github.com/apache/iceberg-go/io"
	icetable "github.com/apache/iceberg-go/table"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/eddy-streams/eddy/internal/awsclient"
	"github.com/eddy-streams/eddy/internal/awsproto"
	"github.com/eddy-streams/eddy/internal/firehose"
	"github.com/eddy-streams/eddy/internal/firehose/iceberg"
	"github.com/eddy-streams/eddy/internal/firehose/s3dest"
	"github.com/eddy-streams/eddy/internal/gateway"
)

// s3IOOnce registers an s3:// IO for iceberg-go's own catalogs in this test
// binary (Eddy's FS over versitygw; iceberg-go's gocloud IO would pull in
// GCS and Azure clients). The endpoint comes from the catalog properties.
var s3IOOnce sync.Once

func registerS3IO() {
	s3IOOnce.Do(func() {
		icebergio.Register("s3", func(ctx context.Context, _ *url.URL, props map[string]string) (icebergio.IO, error) {
			up := s3dest.NewUploader(s3dest.Endpoint{URL: props["s3.endpoint"], AccessKey: props["s3.access-key-id"], SecretKey: props["s3.secret-access-key"]})
			return iceberg.NewFS(context.Background(), up), nil
		})
	})
}

// TestIcebergGlueCatalogInterop: iceberg-go's own Glue catalog (the AWS
// SDK's Glue client, aimed at Eddy's Glue over HTTP) creates the namespace
// and the table; Firehose appends to it through Eddy's in-process catalog;
// iceberg-go's Glue catalog loads the table again and its scan returns every
// row: tables written by Eddy are what a Glue-catalog Iceberg client
// (Athena, Spark, pyiceberg work the same way) expects, and the reverse.
func TestIcebergGlueCatalogInterop(t *testing.T) {
	registerS3IO()
	v := startVersity(t, "warehouse", "icebk")
	lake := newIcebergLake(t, v, nil)
	gw := gateway.New(gateway.Options{Auth: gateway.ScopeAuth("000000000000", "us-east-1"), Logger: quietLogger(t),
		Services: []awsproto.Service{lake.glue}})
	gw.SetReady(true)
	glueHTTP := httptest.NewServer(gw)
	defer glueHTTP.Close()
	ctx := context.Background()
	cat, err := iceglue.NewCatalog(iceglue.WithAwsConfig(aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(glueHTTP.URL),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
		HTTPClient:  awsclient.OwnBody{Next: &http.Client{}}}),
		iceglue.WithAwsProperties(iceglue.AwsProperties{"s3.endpoint": v.URL, "s3.access-key-id": s3Key, "s3.secret-access-key": s3Secret}))
	if err != nil {
		t.Fatal(err)
	}
	if err := cat.CreateNamespace(ctx, icetable.Identifier{"lake"}, nil); err != nil {
		t.Fatal(err)
	}
	sc := iceberggo.NewSchema(0,
		iceberggo.NestedField{ID: 1, Name: "id", Type: iceberggo.PrimitiveTypes.Int64, Required: true},
		iceberggo.NestedField{ID: 2, Name: "name", Type: iceberggo.PrimitiveTypes.String},
		iceberggo.NestedField{ID: 3, Name: "amount", Type: iceberggo.PrimitiveTypes.Float64},
		iceberggo.NestedField{ID: 4, Name: "ok", Type: iceberggo.PrimitiveTypes.Bool})
	if _, err := cat.CreateTable(ctx, icetable.Identifier{"lake", "events"}, sc,
		icecatalog.WithLocation("s3://warehouse/lake/events"),
		icecatalog.WithProperties(iceberggo.Properties{"s3.endpoint": v.URL, "s3.access-key-id": s3Key, "s3.secret-access-key": s3Secret})); err != nil {
		t.Fatalf("iceberg-go glue CreateTable through Eddy's Glue: %v", err)
	}

	srv := startServer(t, nil, v.URL, fastDestRetry, func(o *firehose.Options) { o.Catalog = lake.glue })
	c := srv.Firehose()
	icebergStream(t, c, "ice", "events", 60, nil)
	r, want := icebergRecords(0, 120)
	putBatch(t, c, "ice", r[:60])
	srv.flush("ice")
	putBatch(t, c, "ice", r[60:])
	srv.flush("ice")

	tbl, err := cat.LoadTable(ctx, icetable.Identifier{"lake", "events"})
	if err != nil {
		t.Fatalf("iceberg-go glue LoadTable: %v", err)
	}
	if n := len(tbl.Metadata().Snapshots()); n != 2 {
		t.Fatalf("%d snapshots seen by iceberg-go's Glue catalog, want 2", n)
	}
	got := lake.rows(t, "events")
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("rows differ: %d, want %d", len(got), len(want))
	}
	at, err := tbl.Scan().ToArrowTable(ctx)
	if err != nil {
		t.Fatalf("scan through iceberg-go's Glue catalog: %v", err)
	}
	defer at.Release()
	if at.NumRows() != int64(len(want)) {
		t.Fatalf("%d rows through iceberg-go's Glue catalog, want %d", at.NumRows(), len(want))
	}
	// And the other way round: iceberg-go commits through Eddy's Glue over
	// HTTP (UpdateTable with VersionId), and Firehose appends after it.
	tx := tbl.NewTransaction()
	if err := tx.SetProperties(iceberggo.Properties{"owner": "interop"}); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Commit(ctx); err != nil {
		t.Fatalf("iceberg-go commit through Eddy's Glue UpdateTable: %v", err)
	}
	r2, want2 := icebergRecords(500, 5)
	putBatch(t, c, "ice", r2)
	srv.flush("ice")
	if got := lake.rows(t, "events"); len(got) != len(want)+len(want2) {
		t.Fatalf("%d rows after iceberg-go's own commit, want %d", len(got), len(want)+len(want2))
	}
}
