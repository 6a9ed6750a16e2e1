package app_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/smithy-go"

	"github.com/eddy-streams/eddy/internal/config"
	"github.com/eddy-streams/eddy/internal/eddytest"
)

var ctx = context.Background()

func TestSigV4Auth(t *testing.T) {
	creds := filepath.Join(t.TempDir(), "creds.json")
	os.WriteFile(creds, []byte(`{"AKIDGOOD":"good-secret","123456789012":"acct-secret"}`), 0o600)
	srv := eddytest.Start(t, eddytest.WithConfig(func(c *config.Config) { c.Auth = "sigv4"; c.Credentials = creds }))
	client := func(ak, secret, region string) *kinesis.Client {
		cfg := eddytest.AWSConfig(srv.URL(), region, ak)
		cfg.Credentials = aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: ak, SecretAccessKey: secret}, nil
		})
		return kinesis.NewFromConfig(cfg)
	}
	good := client("AKIDGOOD", "good-secret", "eu-west-1")
	if _, err := good.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String("a"), ShardCount: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	// the region comes from the signature, the account from a 12-digit key
	out, err := good.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String("a")})
	if err != nil || aws.ToString(out.StreamDescriptionSummary.StreamARN) != "arn:aws:kinesis:eu-west-1:000000000000:stream/a" {
		t.Fatalf("%v %v", out, err)
	}
	acct := client("123456789012", "acct-secret", "eu-west-1")
	if _, err := acct.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String("a")}); !isCode(err, "ResourceNotFoundException") {
		t.Fatalf("another account sees the stream: %v", err)
	}
	for _, tc := range []struct {
		c    *kinesis.Client
		code string
	}{
		{client("AKIDGOOD", "wrong", "eu-west-1"), "InvalidSignatureException"},
		{client("AKIDUNKNOWN", "x", "eu-west-1"), "UnrecognizedClientException"},
	} {
		_, err := tc.c.ListStreams(ctx, &kinesis.ListStreamsInput{})
		if !isCode(err, tc.code) {
			t.Fatalf("want %s, got %v", tc.code, err)
		}
	}
}

func isCode(err error, code string) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorCode() == code
}

// TestRestartKeepsEverything: a restarted server is the same server — same
// streams, records, sequence numbers, and iterators issued before still work.
func TestRestartKeepsEverything(t *testing.T) {
	dir := t.TempDir()
	srv := eddytest.Start(t, eddytest.WithDataDir(dir), eddytest.WithConfig(func(c *config.Config) { c.Durability = "always" }))
	c := eddytest.Kinesis(srv)
	if _, err := c.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String("keep"), ShardCount: aws.Int32(2), Tags: map[string]string{"team": "core"}}); err != nil {
		t.Fatal(err)
	}
	put, err := c.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("keep"), PartitionKey: aws.String("p"), Data: []byte("before")})
	if err != nil {
		t.Fatal(err)
	}
	it, err := c.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String("keep"), ShardId: put.ShardId, ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.SplitShard(ctx, &kinesis.SplitShardInput{StreamName: aws.String("keep"), ShardToSplit: aws.String("shardId-000000000000"), NewStartingHashKey: aws.String("1000")}); err != nil {
		t.Fatal(err)
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}

	srv2 := eddytest.Start(t, eddytest.WithDataDir(dir), eddytest.WithConfig(func(c *config.Config) { c.Durability = "always" }))
	c2 := eddytest.Kinesis(srv2)
	res, err := c2.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: it.ShardIterator})
	if err != nil {
		t.Fatalf("iterator from before the restart: %v", err)
	}
	if len(res.Records) != 1 || aws.ToString(res.Records[0].SequenceNumber) != aws.ToString(put.SequenceNumber) || string(res.Records[0].Data) != "before" {
		t.Fatalf("records after restart: %+v", res.Records)
	}
	put2, err := c2.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("keep"), PartitionKey: aws.String("p"), Data: []byte("after")})
	if err != nil {
		t.Fatal(err)
	}
	if put2.ShardId == put.ShardId && aws.ToString(put2.SequenceNumber) <= aws.ToString(put.SequenceNumber) {
		t.Fatalf("sequence number reused or reordered: %s then %s", aws.ToString(put.SequenceNumber), aws.ToString(put2.SequenceNumber))
	}
	ls, err := c2.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String("keep")})
	if err != nil || len(ls.Shards) != 4 {
		t.Fatalf("lineage after restart: %v %v", ls, err)
	}
	tags, err := c2.ListTagsForStream(ctx, &kinesis.ListTagsForStreamInput{StreamName: aws.String("keep")})
	if err != nil || len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].Value) != "core" {
		t.Fatalf("tags after restart: %v %v", tags, err)
	}
}

func TestStorageMetrics(t *testing.T) {
	srv := eddytest.Start(t, eddytest.WithConfig(func(c *config.Config) { c.Durability = "always" }))
	c := eddytest.Kinesis(srv)
	if _, err := c.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String("m"), ShardCount: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("m"), PartitionKey: aws.String("p"), Data: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(srv.URL() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{"eddy_storage_shards 1\n", "eddy_storage_records 1\n"} {
		if !strings.Contains(string(body), want) {
			t.Fatalf("metrics lack %q:\n%s", want, body)
		}
	}
	if strings.Contains(string(body), "eddy_storage_syncs_total 0\n") {
		t.Fatal("an always-mode write made no fsync")
	}
}
