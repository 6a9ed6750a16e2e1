package kinesis_test

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
)

const testPolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kinesis:GetRecords","Resource":"*"}]}`

func getPolicy(t *testing.T, c *kinesis.Client, arn string) string {
	t.Helper()
	out, err := c.GetResourcePolicy(ctx, &kinesis.GetResourcePolicyInput{ResourceARN: aws.String(arn)})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.Policy)
}

func TestResourcePolicies(t *testing.T) {
	srv, c := startCtrl(t)
	createStream(t, c, "pol", 1)
	sarn := streamARNOf("pol")
	carn := aws.ToString(register(t, c, "pol", "app").ConsumerARN)
	for _, arn := range []string{sarn, carn} {
		if p := getPolicy(t, c, arn); p != "{}" {
			t.Fatalf("%s: policy before put %q, want {}", arn, p)
		}
		_, err := c.DeleteResourcePolicy(ctx, &kinesis.DeleteResourcePolicyInput{ResourceARN: aws.String(arn)})
		wantErr(t, err, "ResourceNotFoundException", "No resource policy found for resource ARN "+arn+".")
		if _, err := c.PutResourcePolicy(ctx, &kinesis.PutResourcePolicyInput{ResourceARN: aws.String(arn), Policy: aws.String(testPolicy)}); err != nil {
			t.Fatal(err)
		}
		if p := getPolicy(t, c, arn); p != testPolicy {
			t.Fatalf("%s: policy %q", arn, p)
		}
	}
	// policies are per resource
	if _, err := c.DeleteResourcePolicy(ctx, &kinesis.DeleteResourcePolicyInput{ResourceARN: aws.String(carn)}); err != nil {
		t.Fatal(err)
	}
	if p := getPolicy(t, c, carn); p != "{}" {
		t.Fatalf("consumer policy after delete %q", p)
	}
	if p := getPolicy(t, c, sarn); p != testPolicy {
		t.Fatalf("stream policy after deleting the consumer's: %q", p)
	}

	cases := []struct {
		name, op string
		body     map[string]any
		typ, msg string
	}{
		{"put no policy", "PutResourcePolicy", map[string]any{"ResourceARN": sarn}, "ValidationException",
			"1 validation error detected: Value null at 'policy' failed to satisfy constraint: Member must not be null"},
		{"put not json", "PutResourcePolicy", map[string]any{"ResourceARN": sarn, "Policy": "{not json"}, "InvalidArgumentException", ""},
		{"put json array", "PutResourcePolicy", map[string]any{"ResourceARN": sarn, "Policy": "[]"}, "InvalidArgumentException", ""},
		{"put unknown stream", "PutResourcePolicy", map[string]any{"ResourceARN": streamARNOf("nope"), "Policy": testPolicy}, "ResourceNotFoundException",
			"Stream nope under account " + testAccount + " not found."},
		{"put unknown consumer", "PutResourcePolicy", map[string]any{"ResourceARN": sarn + "/consumer/ghost:1", "Policy": testPolicy}, "ResourceNotFoundException", ""},
		{"get no arn", "GetResourcePolicy", map[string]any{}, "ValidationException",
			"1 validation error detected: Value null at 'resourceARN' failed to satisfy constraint: Member must not be null"},
		{"get bad arn", "GetResourcePolicy", map[string]any{"ResourceARN": "arn:aws:s3:::bucket"}, "ValidationException", ""},
		{"get unknown stream", "GetResourcePolicy", map[string]any{"ResourceARN": streamARNOf("nope")}, "ResourceNotFoundException", ""},
		{"delete unknown stream", "DeleteResourcePolicy", map[string]any{"ResourceARN": streamARNOf("nope")}, "ResourceNotFoundException", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { wantRaw(t, srv, tc.op, tc.body, tc.typ, tc.msg) })
	}
}

func TestResourcePolicyNeedsActive(t *testing.T) {
	t.Parallel()
	_, c := startCtrl(t, withDelay(time.Hour))
	if _, err := c.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String("cr"), ShardCount: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	_, err := c.PutResourcePolicy(ctx, &kinesis.PutResourcePolicyInput{ResourceARN: aws.String(streamARNOf("cr")), Policy: aws.String(testPolicy)})
	wantErr(t, err, "ResourceInUseException", "Stream cr under account "+testAccount+" not ACTIVE, instead in state CREATING")
}

func TestResourcePolicyConsumerNotActive(t *testing.T) {
	t.Parallel()
	_, c := startCtrl(t, withDelay(time.Second))
	createStream(t, c, "pc", 1)
	cons := register(t, c, "pc", "app")
	_, err := c.PutResourcePolicy(ctx, &kinesis.PutResourcePolicyInput{ResourceARN: cons.ConsumerARN, Policy: aws.String(testPolicy)})
	ts := cons.ConsumerCreationTimestamp.Unix()
	wantErr(t, err, "ResourceInUseException", "Consumer app with creation timestamp "+itoa(ts)+" under stream pc and account "+testAccount+" is not in ACTIVE status.")
}
