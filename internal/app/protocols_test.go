package app_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/eddy-streams/eddy/internal/config"
	"github.com/eddy-streams/eddy/internal/eddytest"
)

// TestProtocolServicesWithSigV4: DynamoDB (JSON 1.0), STS (query) and
// CloudWatch (rpc-v2-cbor) served by the full server verify signatures
// like the other services: a good key works and names its account, a bad
// secret or an unknown key is refused in each protocol's terms.
func TestProtocolServicesWithSigV4(t *testing.T) {
	creds := filepath.Join(t.TempDir(), "creds.json")
	os.WriteFile(creds, []byte(`{"123456789012":"acct-secret"}`), 0o600)
	srv := eddytest.Start(t, eddytest.WithConfig(func(c *config.Config) { c.Auth = "sigv4"; c.Credentials = creds }))
	cfg := func(ak, secret string) aws.Config {
		c := eddytest.AWSConfig(srv.URL(), "eu-west-1", ak)
		c.Credentials = aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: ak, SecretAccessKey: secret}, nil
		})
		return c
	}
	good := cfg("123456789012", "acct-secret")
	id, err := sts.NewFromConfig(good).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil || aws.ToString(id.Account) != "123456789012" {
		t.Fatalf("sts: %v %v", id, err)
	}
	lt, err := dynamodb.NewFromConfig(good).ListTables(ctx, &dynamodb.ListTablesInput{})
	if err != nil || len(lt.TableNames) != 0 {
		t.Fatalf("dynamodb: %v %v", lt, err)
	}
	if _, err := cloudwatch.NewFromConfig(good).PutMetricData(ctx, &cloudwatch.PutMetricDataInput{Namespace: aws.String("n"),
		MetricData: []cwtypes.MetricDatum{{MetricName: aws.String("m"), Value: aws.Float64(1)}}}); err != nil {
		t.Fatalf("cloudwatch: %v", err)
	}
	bad := cfg("123456789012", "wrong")
	if _, err := dynamodb.NewFromConfig(bad, func(o *dynamodb.Options) { o.RetryMaxAttempts = 1 }).ListTables(ctx, &dynamodb.ListTablesInput{}); !isCode(err, "InvalidSignatureException") {
		t.Fatalf("dynamodb with a bad secret: %v", err)
	}
	if _, err := sts.NewFromConfig(bad).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); !isCode(err, "SignatureDoesNotMatch") {
		t.Fatalf("sts with a bad secret: %v", err)
	}
	if _, err := sts.NewFromConfig(cfg("AKIDUNKNOWN", "x")).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); !isCode(err, "InvalidClientTokenId") {
		t.Fatalf("sts with an unknown key: %v", err)
	}
	if _, err := cloudwatch.NewFromConfig(bad, func(o *cloudwatch.Options) { o.RetryMaxAttempts = 1 }).PutMetricData(ctx, &cloudwatch.PutMetricDataInput{Namespace: aws.String("n"),
		MetricData: []cwtypes.MetricDatum{{MetricName: aws.String("m"), Value: aws.Float64(1)}}}); !isCode(err, "InvalidSignatureException") {
		t.Fatalf("cloudwatch with a bad secret: %v", err)
	}
}
