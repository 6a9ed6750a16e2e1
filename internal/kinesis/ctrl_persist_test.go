package kinesis_test

import (
	"reflect"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/eddy-streams/eddy/internal/eddytest"
)

// TestControlStatePersists changes every kind of control state, restarts the
// server on the same data directory and reads it all back.
func TestControlStatePersists(t *testing.T) {
	dir := t.TempDir()
	srv, c := startCtrl(t, eddytest.WithDataDir(dir))
	createStream(t, c, "keep", 1)
	arn := streamARNOf("keep")
	carn := aws.ToString(register(t, c, "keep", "app").ConsumerARN)
	steps := []func() error{
		func() error {
			_, err := c.AddTagsToStream(ctx, &kinesis.AddTagsToStreamInput{StreamName: aws.String("keep"), Tags: map[string]string{"a": "1"}})
			return err
		},
		func() error {
			_, err := c.TagResource(ctx, &kinesis.TagResourceInput{ResourceARN: aws.String(carn), Tags: map[string]string{"c": "2"}})
			return err
		},
		func() error {
			_, err := c.PutResourcePolicy(ctx, &kinesis.PutResourcePolicyInput{ResourceARN: aws.String(carn), Policy: aws.String(testPolicy)})
			return err
		},
		func() error {
			_, err := c.StartStreamEncryption(ctx, &kinesis.StartStreamEncryptionInput{StreamName: aws.String("keep"), EncryptionType: types.EncryptionTypeKms, KeyId: aws.String("k1")})
			return err
		},
		func() error {
			_, err := c.EnableEnhancedMonitoring(ctx, &kinesis.EnableEnhancedMonitoringInput{StreamName: aws.String("keep"), ShardLevelMetrics: []types.MetricsName{types.MetricsNameIncomingBytes}})
			return err
		},
		func() error {
			_, err := c.IncreaseStreamRetentionPeriod(ctx, &kinesis.IncreaseStreamRetentionPeriodInput{StreamName: aws.String("keep"), RetentionPeriodHours: aws.Int32(100)})
			return err
		},
		func() error {
			_, err := c.UpdateMaxRecordSize(ctx, &kinesis.UpdateMaxRecordSizeInput{StreamARN: aws.String(arn), MaxRecordSizeInKiB: aws.Int32(4096)})
			return err
		},
	}
	for i, f := range steps {
		if err := f(); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	setCommitment(t, c, types.MinimumThroughputBillingCommitmentInputStatusEnabled)
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}

	_, c = startCtrl(t, eddytest.WithDataDir(dir))
	s := summary(t, c, "keep").StreamDescriptionSummary
	if s.EncryptionType != types.EncryptionTypeKms || aws.ToString(s.KeyId) != "k1" || aws.ToInt32(s.RetentionPeriodHours) != 100 ||
		aws.ToInt32(s.MaxRecordSizeInKiB) != 4096 || aws.ToInt32(s.ConsumerCount) != 1 ||
		!reflect.DeepEqual(metricNames(s.EnhancedMonitoring[0].ShardLevelMetrics), []string{"IncomingBytes"}) {
		t.Fatalf("summary after restart: %+v", s)
	}
	lt, err := c.ListTagsForStream(ctx, &kinesis.ListTagsForStreamInput{StreamName: aws.String("keep")})
	if err != nil {
		t.Fatal(err)
	}
	if g := tagMap(lt.Tags); !reflect.DeepEqual(g, map[string]string{"a": "1"}) {
		t.Fatalf("stream tags %v", g)
	}
	ct, err := c.ListTagsForResource(ctx, &kinesis.ListTagsForResourceInput{ResourceARN: aws.String(carn)})
	if err != nil {
		t.Fatal(err)
	}
	if g := tagMap(ct.Tags); !reflect.DeepEqual(g, map[string]string{"c": "2"}) {
		t.Fatalf("consumer tags %v", g)
	}
	if p := getPolicy(t, c, carn); p != testPolicy {
		t.Fatalf("consumer policy %q", p)
	}
	if st, err := consumerStatus(t, c, carn); err != nil || st != types.ConsumerStatusActive {
		t.Fatalf("consumer %s %v", st, err)
	}
	if m := commitment(t, c); m.Status != types.MinimumThroughputBillingCommitmentOutputStatusEnabled {
		t.Fatalf("commitment %+v", m)
	}
}
