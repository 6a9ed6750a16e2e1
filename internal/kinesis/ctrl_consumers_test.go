package kinesis_test

import (
	"fmt"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/eddy-streams/eddy/internal/eddytest"
)

func register(t *testing.T, c *kinesis.Client, stream, name string) *types.Consumer {
	t.Helper()
	out, err := c.RegisterStreamConsumer(ctx, &kinesis.RegisterStreamConsumerInput{StreamARN: aws.String(streamARNOf(stream)), ConsumerName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	return out.Consumer
}

func consumerStatus(t *testing.T, c *kinesis.Client, arn string) (types.ConsumerStatus, error) {
	t.Helper()
	out, err := c.DescribeStreamConsumer(ctx, &kinesis.DescribeStreamConsumerInput{ConsumerARN: aws.String(arn)})
	if err != nil {
		return "", err
	}
	return out.ConsumerDescription.ConsumerStatus, nil
}

func TestConsumerLifecycle(t *testing.T) {
	srv, c := startCtrl(t)
	var mu sync.Mutex
	var gone []string
	srv.Kinesis.OnConsumerGone(func(arn string) { mu.Lock(); gone = append(gone, arn); mu.Unlock() })
	createStream(t, c, "efo", 2)
	before := time.Now().Add(-time.Second)
	cons := register(t, c, "efo", "app")
	arn := aws.ToString(cons.ConsumerARN)
	if !regexp.MustCompile(`^arn:aws:kinesis:us-east-1:` + testAccount + `:stream/efo/consumer/app:[0-9]{10}$`).MatchString(arn) {
		t.Fatalf("consumer ARN %q", arn)
	}
	if cons.ConsumerStatus != types.ConsumerStatusActive || aws.ToString(cons.ConsumerName) != "app" {
		t.Fatalf("registered %+v", cons)
	}
	if ts := aws.ToTime(cons.ConsumerCreationTimestamp); ts.Before(before) || ts.After(time.Now().Add(time.Second)) {
		t.Fatalf("creation timestamp %v", ts)
	}
	byARN, err := c.DescribeStreamConsumer(ctx, &kinesis.DescribeStreamConsumerInput{ConsumerARN: aws.String(arn)})
	if err != nil {
		t.Fatal(err)
	}
	byName, err := c.DescribeStreamConsumer(ctx, &kinesis.DescribeStreamConsumerInput{StreamARN: aws.String(streamARNOf("efo")), ConsumerName: aws.String("app")})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []*types.ConsumerDescription{byARN.ConsumerDescription, byName.ConsumerDescription} {
		if aws.ToString(d.ConsumerARN) != arn || aws.ToString(d.StreamARN) != streamARNOf("efo") || d.ConsumerStatus != types.ConsumerStatusActive || aws.ToString(d.ConsumerName) != "app" {
			t.Fatalf("description %+v", d)
		}
	}
	// all three given and agreeing is fine
	if _, err := c.DescribeStreamConsumer(ctx, &kinesis.DescribeStreamConsumerInput{ConsumerARN: aws.String(arn), StreamARN: aws.String(streamARNOf("efo")), ConsumerName: aws.String("app")}); err != nil {
		t.Fatal(err)
	}
	if n := aws.ToInt32(summary(t, c, "efo").StreamDescriptionSummary.ConsumerCount); n != 1 {
		t.Fatalf("ConsumerCount %d", n)
	}
	info, ok := srv.Kinesis.ConsumerByARN(arn)
	if !ok || info.StreamName != "efo" || info.Account != testAccount || info.Region != "us-east-1" || info.Status != "ACTIVE" || info.StreamID == "" {
		t.Fatalf("ConsumerByARN = %+v, %v", info, ok)
	}

	_, err = c.RegisterStreamConsumer(ctx, &kinesis.RegisterStreamConsumerInput{StreamARN: aws.String(streamARNOf("efo")), ConsumerName: aws.String("app")})
	wantErr(t, err, "ResourceInUseException", "")

	if _, err := c.DeregisterStreamConsumer(ctx, &kinesis.DeregisterStreamConsumerInput{StreamARN: aws.String(streamARNOf("efo")), ConsumerName: aws.String("app")}); err != nil {
		t.Fatal(err)
	}
	_, err = consumerStatus(t, c, arn)
	wantErr(t, err, "ResourceNotFoundException", "Consumer app under stream efo under account "+testAccount+" not found.")
	if _, ok := srv.Kinesis.ConsumerByARN(arn); ok {
		t.Fatal("ConsumerByARN finds a deregistered consumer")
	}
	mu.Lock()
	if len(gone) != 1 || gone[0] != arn {
		t.Fatalf("consumer-gone hook saw %v", gone)
	}
	mu.Unlock()

	// the name is free again; deleting the stream reports its consumers gone
	arn2 := aws.ToString(register(t, c, "efo", "app").ConsumerARN)
	_, err = c.DeleteStream(ctx, &kinesis.DeleteStreamInput{StreamName: aws.String("efo")})
	wantErr(t, err, "ResourceInUseException", "")
	if _, err := c.DeleteStream(ctx, &kinesis.DeleteStreamInput{StreamName: aws.String("efo"), EnforceConsumerDeletion: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "hook for the stream's consumer", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(gone) == 2 && gone[1] == arn2
	})
}

func TestConsumerTransitions(t *testing.T) {
	t.Parallel()
	srv, c := startCtrl(t, withDelay(time.Second))
	var mu sync.Mutex
	var gone []string
	srv.Kinesis.OnConsumerGone(func(arn string) { mu.Lock(); gone = append(gone, arn); mu.Unlock() })
	createStream(t, c, "slow", 1)
	var arns []string
	for i := 0; i < 5; i++ {
		cons := register(t, c, "slow", fmt.Sprintf("c%d", i))
		if cons.ConsumerStatus != types.ConsumerStatusCreating {
			t.Fatalf("new consumer %s", cons.ConsumerStatus)
		}
		arns = append(arns, aws.ToString(cons.ConsumerARN))
	}
	_, err := c.RegisterStreamConsumer(ctx, &kinesis.RegisterStreamConsumerInput{StreamARN: aws.String(streamARNOf("slow")), ConsumerName: aws.String("c5")})
	wantErr(t, err, "LimitExceededException", "")
	waitFor(t, "consumers ACTIVE", func() bool {
		for _, a := range arns {
			if s, err := consumerStatus(t, c, a); err != nil || s != types.ConsumerStatusActive {
				return false
			}
		}
		return true
	})
	register(t, c, "slow", "c5") // room again once they are ACTIVE
	if _, err := c.DeregisterStreamConsumer(ctx, &kinesis.DeregisterStreamConsumerInput{ConsumerARN: aws.String(arns[0])}); err != nil {
		t.Fatal(err)
	}
	if s, err := consumerStatus(t, c, arns[0]); err != nil || s != types.ConsumerStatusDeleting {
		t.Fatalf("after deregister: %s %v", s, err)
	}
	// deregistering again while DELETING is accepted
	if _, err := c.DeregisterStreamConsumer(ctx, &kinesis.DeregisterStreamConsumerInput{ConsumerARN: aws.String(arns[0])}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "consumer gone", func() bool {
		_, err := consumerStatus(t, c, arns[0])
		return err != nil
	})
	_, err = consumerStatus(t, c, arns[0])
	wantErr(t, err, "ResourceNotFoundException", "")
	mu.Lock()
	defer mu.Unlock()
	if len(gone) != 1 || gone[0] != arns[0] {
		t.Fatalf("hook saw %v", gone)
	}
}

func TestConsumerLimit(t *testing.T) {
	_, c := startCtrl(t)
	createStream(t, c, "many", 1)
	for i := 0; i < 20; i++ {
		register(t, c, "many", fmt.Sprintf("c%02d", i))
	}
	_, err := c.RegisterStreamConsumer(ctx, &kinesis.RegisterStreamConsumerInput{StreamARN: aws.String(streamARNOf("many")), ConsumerName: aws.String("c20")})
	wantErr(t, err, "LimitExceededException", "Consumer limit of 20 has been reached for stream many under account "+testAccount+".")
	// On-demand Advantage raises the limit to 50
	if _, err := c.UpdateAccountSettings(ctx, &kinesis.UpdateAccountSettingsInput{MinimumThroughputBillingCommitment: &types.MinimumThroughputBillingCommitmentInput{Status: types.MinimumThroughputBillingCommitmentInputStatusEnabled}}); err != nil {
		t.Fatal(err)
	}
	for i := 20; i < 50; i++ {
		register(t, c, "many", fmt.Sprintf("c%02d", i))
	}
	_, err = c.RegisterStreamConsumer(ctx, &kinesis.RegisterStreamConsumerInput{StreamARN: aws.String(streamARNOf("many")), ConsumerName: aws.String("c50")})
	wantErr(t, err, "LimitExceededException", "Consumer limit of 50 has been reached for stream many under account "+testAccount+".")
}

func TestListStreamConsumers(t *testing.T) {
	clock := newFakeClock()
	_, c := startCtrl(t, eddytest.WithClock(clock.Now))
	createStream(t, c, "lc", 1)
	createStream(t, c, "other", 1)
	for i := 0; i < 5; i++ {
		register(t, c, "lc", fmt.Sprintf("c%d", i))
	}
	var names []string
	var tok *string
	var firstToken string
	for pages := 0; ; pages++ {
		if pages > 5 {
			t.Fatal("too many pages")
		}
		out, err := c.ListStreamConsumers(ctx, &kinesis.ListStreamConsumersInput{StreamARN: aws.String(streamARNOf("lc")), MaxResults: aws.Int32(2), NextToken: tok})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Consumers) > 2 {
			t.Fatalf("%d consumers with MaxResults 2", len(out.Consumers))
		}
		for _, cs := range out.Consumers {
			names = append(names, aws.ToString(cs.ConsumerName))
			if cs.ConsumerStatus != types.ConsumerStatusActive || cs.ConsumerARN == nil || cs.ConsumerCreationTimestamp == nil {
				t.Fatalf("consumer %+v", cs)
			}
		}
		if out.NextToken == nil {
			break
		}
		if firstToken == "" {
			firstToken = *out.NextToken
		}
		tok = out.NextToken
	}
	if fmt.Sprint(names) != "[c0 c1 c2 c3 c4]" {
		t.Fatalf("names %v", names)
	}
	all, err := c.ListStreamConsumers(ctx, &kinesis.ListStreamConsumersInput{StreamARN: aws.String(streamARNOf("lc"))})
	if err != nil {
		t.Fatal(err)
	}
	if len(all.Consumers) != 5 || all.NextToken != nil {
		t.Fatalf("default page: %d consumers, token %v", len(all.Consumers), all.NextToken)
	}
	created := summary(t, c, "lc").StreamDescriptionSummary.StreamCreationTimestamp
	if _, err := c.ListStreamConsumers(ctx, &kinesis.ListStreamConsumersInput{StreamARN: aws.String(streamARNOf("lc")), StreamCreationTimestamp: created}); err != nil {
		t.Fatal(err)
	}
	_, err = c.ListStreamConsumers(ctx, &kinesis.ListStreamConsumersInput{StreamARN: aws.String(streamARNOf("lc")), StreamCreationTimestamp: aws.Time(created.Add(-time.Hour))})
	wantErr(t, err, "ResourceNotFoundException", "")
	_, err = c.ListStreamConsumers(ctx, &kinesis.ListStreamConsumersInput{StreamARN: aws.String(streamARNOf("other")), NextToken: aws.String(firstToken)})
	wantErr(t, err, "InvalidArgumentException", "Invalid NextToken.")
	_, err = c.ListStreamConsumers(ctx, &kinesis.ListStreamConsumersInput{StreamARN: aws.String(streamARNOf("lc")), NextToken: aws.String("garbage")})
	wantErr(t, err, "InvalidArgumentException", "Invalid NextToken.")
	_, err = c.ListStreamConsumers(ctx, &kinesis.ListStreamConsumersInput{StreamARN: aws.String(streamARNOf("lc")), MaxResults: aws.Int32(0)})
	wantErr(t, err, "ValidationException", "1 validation error detected: Value '0' at 'maxResults' failed to satisfy constraint: Member must have value greater than or equal to 1")
	_, err = c.ListStreamConsumers(ctx, &kinesis.ListStreamConsumersInput{StreamARN: aws.String(streamARNOf("nope"))})
	wantErr(t, err, "ResourceNotFoundException", "Stream nope under account "+testAccount+" not found.")
	clock.Advance(301 * time.Second)
	_, err = c.ListStreamConsumers(ctx, &kinesis.ListStreamConsumersInput{StreamARN: aws.String(streamARNOf("lc")), NextToken: aws.String(firstToken)})
	wantErr(t, err, "ExpiredNextTokenException", "")
}

func TestConsumerErrors(t *testing.T) {
	srv, c := startCtrl(t)
	createStream(t, c, "ce", 1)
	arn := aws.ToString(register(t, c, "ce", "app").ConsumerARN)
	sarn := streamARNOf("ce")
	cases := []struct {
		name, op string
		body     map[string]any
		typ, msg string
	}{
		{"register no name", "RegisterStreamConsumer", map[string]any{"StreamARN": sarn}, "ValidationException",
			"1 validation error detected: Value null at 'consumerName' failed to satisfy constraint: Member must not be null"},
		{"register bad name", "RegisterStreamConsumer", map[string]any{"StreamARN": sarn, "ConsumerName": "a b"}, "ValidationException",
			"1 validation error detected: Value 'a b' at 'consumerName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"},
		{"register no stream", "RegisterStreamConsumer", map[string]any{"ConsumerName": "x"}, "ValidationException",
			"1 validation error detected: Value null at 'streamARN' failed to satisfy constraint: Member must not be null"},
		{"register unknown stream", "RegisterStreamConsumer", map[string]any{"StreamARN": streamARNOf("nope"), "ConsumerName": "x"}, "ResourceNotFoundException",
			"Stream nope under account " + testAccount + " not found."},
		{"register bad stream ARN", "RegisterStreamConsumer", map[string]any{"StreamARN": "arn:nope", "ConsumerName": "x"}, "InvalidArgumentException", ""},
		{"register bad tags", "RegisterStreamConsumer", map[string]any{"StreamARN": sarn, "ConsumerName": "x", "Tags": map[string]string{"a,b": "c"}}, "InvalidArgumentException", ""},
		{"describe nothing", "DescribeStreamConsumer", map[string]any{}, "InvalidArgumentException", ""},
		{"describe name only", "DescribeStreamConsumer", map[string]any{"ConsumerName": "app"}, "InvalidArgumentException", ""},
		{"describe unknown name", "DescribeStreamConsumer", map[string]any{"StreamARN": sarn, "ConsumerName": "ghost"}, "ResourceNotFoundException",
			"Consumer ghost under stream ce under account " + testAccount + " not found."},
		{"describe arn/name disagree", "DescribeStreamConsumer", map[string]any{"ConsumerARN": arn, "ConsumerName": "other"}, "InvalidArgumentException", ""},
		{"describe arn/stream disagree", "DescribeStreamConsumer", map[string]any{"ConsumerARN": arn, "StreamARN": streamARNOf("x")}, "InvalidArgumentException", ""},
		{"describe stream ARN as consumer", "DescribeStreamConsumer", map[string]any{"ConsumerARN": sarn}, "InvalidArgumentException", ""},
		{"describe bad name", "DescribeStreamConsumer", map[string]any{"StreamARN": sarn, "ConsumerName": ""}, "ValidationException", ""},
		{"deregister nothing", "DeregisterStreamConsumer", map[string]any{}, "InvalidArgumentException", ""},
		{"deregister unknown", "DeregisterStreamConsumer", map[string]any{"ConsumerARN": sarn + "/consumer/ghost:1"}, "ResourceNotFoundException", ""},
		{"list no stream", "ListStreamConsumers", map[string]any{}, "ValidationException",
			"1 validation error detected: Value null at 'streamARN' failed to satisfy constraint: Member must not be null"},
		{"list too many", "ListStreamConsumers", map[string]any{"StreamARN": sarn, "MaxResults": 10001}, "ValidationException",
			"1 validation error detected: Value '10001' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 10000"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { wantRaw(t, srv, tc.op, tc.body, tc.typ, tc.msg) })
	}
}

func TestRegisterNeedsActiveStream(t *testing.T) {
	t.Parallel()
	_, c := startCtrl(t, withDelay(time.Hour))
	if _, err := c.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String("creating"), ShardCount: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	_, err := c.RegisterStreamConsumer(ctx, &kinesis.RegisterStreamConsumerInput{StreamARN: aws.String(streamARNOf("creating")), ConsumerName: aws.String("x")})
	wantErr(t, err, "ResourceInUseException", "Stream creating under account "+testAccount+" not ACTIVE, instead in state CREATING")
}
