package glue_test

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	"github.com/aws/aws-sdk-go-v2/service/glue/types"
	"github.com/aws/smithy-go"

	"github.com/eddy-streams/eddy/internal/config"
	"github.com/eddy-streams/eddy/internal/eddytest"
)

func apiErr(t *testing.T, err error, typ, msg string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("want %s, got %v", typ, err)
	}
	if ae.ErrorCode() != typ || (msg != "" && ae.ErrorMessage() != msg) {
		t.Fatalf("want %s %q, got %s %q", typ, msg, ae.ErrorCode(), ae.ErrorMessage())
	}
}

func TestCatalogLifecycle(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	srv := eddytest.Start(t, eddytest.WithDataDir(dir))
	c := glue.NewFromConfig(eddytest.AWSConfig(srv.URL(), "", ""))
	if _, err := c.CreateDatabase(ctx, &glue.CreateDatabaseInput{DatabaseInput: &types.DatabaseInput{Name: aws.String("Lake"), Description: aws.String("d")}}); err != nil {
		t.Fatal(err)
	}
	_, err := c.CreateDatabase(ctx, &glue.CreateDatabaseInput{DatabaseInput: &types.DatabaseInput{Name: aws.String("lake")}})
	apiErr(t, err, "AlreadyExistsException", "Database already exists.")
	_, err = c.GetDatabase(ctx, &glue.GetDatabaseInput{Name: aws.String("nope")})
	apiErr(t, err, "EntityNotFoundException", "Database nope not found.")
	_, err = c.CreateTable(ctx, &glue.CreateTableInput{DatabaseName: aws.String("nope"), TableInput: &types.TableInput{Name: aws.String("t")}})
	apiErr(t, err, "EntityNotFoundException", "Database nope not found.")

	cols := []types.Column{{Name: aws.String("id"), Type: aws.String("bigint")}, {Name: aws.String("tags"), Type: aws.String("array<string>")}}
	if _, err := c.CreateTable(ctx, &glue.CreateTableInput{DatabaseName: aws.String("lake"), TableInput: &types.TableInput{
		Name: aws.String("Clicks"), TableType: aws.String("EXTERNAL_TABLE"),
		StorageDescriptor: &types.StorageDescriptor{Columns: cols, Location: aws.String("s3://b/clicks/")},
	}}); err != nil {
		t.Fatal(err)
	}
	_, err = c.CreateTable(ctx, &glue.CreateTableInput{DatabaseName: aws.String("lake"), TableInput: &types.TableInput{Name: aws.String("clicks")}})
	apiErr(t, err, "AlreadyExistsException", "Table already exists.")
	got, err := c.GetTable(ctx, &glue.GetTableInput{DatabaseName: aws.String("LAKE"), Name: aws.String("clicks")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(got.Table.Name) != "clicks" || aws.ToString(got.Table.VersionId) != "0" || len(got.Table.StorageDescriptor.Columns) != 2 ||
		aws.ToString(got.Table.StorageDescriptor.Columns[1].Type) != "array<string>" || aws.ToString(got.Table.DatabaseName) != "lake" || got.Table.CreateTime == nil {
		t.Fatalf("table %+v", got.Table)
	}
	cols = append(cols, types.Column{Name: aws.String("price"), Type: aws.String("decimal(10,2)")})
	if _, err := c.UpdateTable(ctx, &glue.UpdateTableInput{DatabaseName: aws.String("lake"), TableInput: &types.TableInput{
		Name: aws.String("clicks"), StorageDescriptor: &types.StorageDescriptor{Columns: cols}}}); err != nil {
		t.Fatal(err)
	}
	_, err = c.UpdateTable(ctx, &glue.UpdateTableInput{DatabaseName: aws.String("lake"), VersionId: aws.String("0"), TableInput: &types.TableInput{Name: aws.String("clicks")}})
	apiErr(t, err, "ConcurrentModificationException", "")
	vs, err := c.GetTableVersions(ctx, &glue.GetTableVersionsInput{DatabaseName: aws.String("lake"), TableName: aws.String("clicks")})
	if err != nil || len(vs.TableVersions) != 2 || aws.ToString(vs.TableVersions[0].VersionId) != "1" || len(vs.TableVersions[1].Table.StorageDescriptor.Columns) != 2 {
		t.Fatalf("versions %+v %v", vs, err)
	}
	v0, err := c.GetTableVersion(ctx, &glue.GetTableVersionInput{DatabaseName: aws.String("lake"), TableName: aws.String("clicks"), VersionId: aws.String("0")})
	if err != nil || len(v0.TableVersion.Table.StorageDescriptor.Columns) != 2 {
		t.Fatalf("version 0 %+v %v", v0, err)
	}
	_, err = c.DeleteTableVersion(ctx, &glue.DeleteTableVersionInput{DatabaseName: aws.String("lake"), TableName: aws.String("clicks"), VersionId: aws.String("1")})
	apiErr(t, err, "InvalidInputException", "")
	if _, err := c.DeleteTableVersion(ctx, &glue.DeleteTableVersionInput{DatabaseName: aws.String("lake"), TableName: aws.String("clicks"), VersionId: aws.String("0")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.GetTableVersion(ctx, &glue.GetTableVersionInput{DatabaseName: aws.String("lake"), TableName: aws.String("clicks"), VersionId: aws.String("0")})
	apiErr(t, err, "EntityNotFoundException", "")

	// The in-process Catalog sees the current columns.
	sch, err := srv.Glue.TableSchema(ctx, "000000000000", "us-east-1", "", "lake", "clicks", "LATEST")
	if err != nil || len(sch.Columns) != 3 || sch.Columns[2].Type != "decimal(10,2)" || sch.VersionID != "1" {
		t.Fatalf("schema %+v %v", sch, err)
	}
	for i := 0; i < 3; i++ {
		name := []string{"a", "b", "c"}[i]
		if _, err := c.CreateTable(ctx, &glue.CreateTableInput{DatabaseName: aws.String("lake"), TableInput: &types.TableInput{Name: aws.String(name)}}); err != nil {
			t.Fatal(err)
		}
	}
	ts, err := c.GetTables(ctx, &glue.GetTablesInput{DatabaseName: aws.String("lake"), MaxResults: aws.Int32(2)})
	if err != nil || len(ts.TableList) != 2 || ts.NextToken == nil || aws.ToString(ts.TableList[0].Name) != "a" {
		t.Fatalf("tables %+v %v", ts, err)
	}
	ts, err = c.GetTables(ctx, &glue.GetTablesInput{DatabaseName: aws.String("lake"), NextToken: ts.NextToken})
	if err != nil || len(ts.TableList) != 2 || ts.NextToken != nil || aws.ToString(ts.TableList[1].Name) != "clicks" {
		t.Fatalf("tables page 2 %+v %v", ts, err)
	}
	ts, err = c.GetTables(ctx, &glue.GetTablesInput{DatabaseName: aws.String("lake"), Expression: aws.String("cl*")})
	if err != nil || len(ts.TableList) != 1 {
		t.Fatalf("expression %+v %v", ts, err)
	}
	if _, err := c.DeleteTable(ctx, &glue.DeleteTableInput{DatabaseName: aws.String("lake"), Name: aws.String("a")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.GetTable(ctx, &glue.GetTableInput{DatabaseName: aws.String("lake"), Name: aws.String("a")})
	apiErr(t, err, "EntityNotFoundException", "Table a not found.")

	// Durable: a restarted server on the same data directory has the catalog.
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	srv2 := eddytest.Start(t, eddytest.WithDataDir(dir), eddytest.WithConfig(func(c *config.Config) {}))
	c2 := glue.NewFromConfig(eddytest.AWSConfig(srv2.URL(), "", ""))
	dbs, err := c2.GetDatabases(ctx, &glue.GetDatabasesInput{})
	if err != nil || len(dbs.DatabaseList) != 1 || aws.ToString(dbs.DatabaseList[0].Description) != "d" {
		t.Fatalf("after restart %+v %v", dbs, err)
	}
	got, err = c2.GetTable(ctx, &glue.GetTableInput{DatabaseName: aws.String("lake"), Name: aws.String("clicks")})
	if err != nil || aws.ToString(got.Table.VersionId) != "1" {
		t.Fatalf("after restart %+v %v", got, err)
	}
	if _, err := c2.DeleteDatabase(ctx, &glue.DeleteDatabaseInput{Name: aws.String("lake")}); err != nil {
		t.Fatal(err)
	}
	_, err = c2.GetTable(ctx, &glue.GetTableInput{DatabaseName: aws.String("lake"), Name: aws.String("clicks")})
	apiErr(t, err, "EntityNotFoundException", "Database lake not found.")
}
