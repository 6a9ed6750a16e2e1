package kinesis_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/eddy-streams/eddy/internal/config"
	"github.com/eddy-streams/eddy/internal/eddytest"
)

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestDescribeLimits(t *testing.T) {
	_, c := startCtrl(t, eddytest.WithConfig(func(c *config.Config) { c.ShardLimit = 50 }))
	out, err := c.DescribeLimits(ctx, &kinesis.DescribeLimitsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToInt32(out.ShardLimit) != 50 || aws.ToInt32(out.OpenShardCount) != 0 || aws.ToInt32(out.OnDemandStreamCount) != 0 || aws.ToInt32(out.OnDemandStreamCountLimit) != 50 {
		t.Fatalf("empty account: %+v", out)
	}
	createStream(t, c, "p3", 3)
	if _, err := c.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String("od"), StreamModeDetails: &types.StreamModeDetails{StreamMode: types.StreamModeOnDemand}}); err != nil {
		t.Fatal(err)
	}
	eddytest.WaitActive(t, c, "od")
	out, err = c.DescribeLimits(ctx, &kinesis.DescribeLimitsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToInt32(out.OpenShardCount) != 7 || aws.ToInt32(out.OnDemandStreamCount) != 1 {
		t.Fatalf("after 3+4 shards: %+v", out)
	}
	// another region is another namespace
	west := kinesis.NewFromConfig(eddytest.AWSConfig(*c.Options().BaseEndpoint, "us-west-2", ""))
	out, err = west.DescribeLimits(ctx, &kinesis.DescribeLimitsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToInt32(out.OpenShardCount) != 0 || aws.ToInt32(out.OnDemandStreamCount) != 0 {
		t.Fatalf("us-west-2: %+v", out)
	}
}

func commitment(t *testing.T, c *kinesis.Client) *types.MinimumThroughputBillingCommitmentOutput {
	t.Helper()
	out, err := c.DescribeAccountSettings(ctx, &kinesis.DescribeAccountSettingsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if out.MinimumThroughputBillingCommitment == nil {
		t.Fatal("no MinimumThroughputBillingCommitment")
	}
	return out.MinimumThroughputBillingCommitment
}

func setCommitment(t *testing.T, c *kinesis.Client, s types.MinimumThroughputBillingCommitmentInputStatus) *types.MinimumThroughputBillingCommitmentOutput {
	t.Helper()
	out, err := c.UpdateAccountSettings(ctx, &kinesis.UpdateAccountSettingsInput{MinimumThroughputBillingCommitment: &types.MinimumThroughputBillingCommitmentInput{Status: s}})
	if err != nil {
		t.Fatal(err)
	}
	return out.MinimumThroughputBillingCommitment
}

func TestAccountSettings(t *testing.T) {
	clock := newFakeClock()
	srv, c := startCtrl(t, eddytest.WithClock(clock.Now))
	if m := commitment(t, c); m.Status != types.MinimumThroughputBillingCommitmentOutputStatusDisabled || m.StartedAt != nil {
		t.Fatalf("initial %+v", m)
	}
	t0 := clock.Now()
	m := setCommitment(t, c, types.MinimumThroughputBillingCommitmentInputStatusEnabled)
	if m.Status != types.MinimumThroughputBillingCommitmentOutputStatusEnabled || !aws.ToTime(m.StartedAt).Equal(t0) || !aws.ToTime(m.EarliestAllowedEndAt).Equal(t0.Add(24*time.Hour)) || m.EndedAt != nil {
		t.Fatalf("enabled %+v", m)
	}
	if d := commitment(t, c); d.Status != m.Status || !aws.ToTime(d.StartedAt).Equal(t0) {
		t.Fatalf("describe after enable %+v", d)
	}
	// enabling again keeps the window
	clock.Advance(time.Hour)
	if m := setCommitment(t, c, types.MinimumThroughputBillingCommitmentInputStatusEnabled); !aws.ToTime(m.StartedAt).Equal(t0) {
		t.Fatalf("re-enable moved StartedAt to %v", m.StartedAt)
	}
	// disabling inside the window keeps it until the window's end
	m = setCommitment(t, c, types.MinimumThroughputBillingCommitmentInputStatusDisabled)
	if m.Status != types.MinimumThroughputBillingCommitmentOutputStatusEnabledUntilEarliestAllowedEnd || !aws.ToTime(m.EndedAt).Equal(t0.Add(24*time.Hour)) {
		t.Fatalf("disable in window %+v", m)
	}
	clock.Advance(23 * time.Hour)
	if m := commitment(t, c); m.Status != types.MinimumThroughputBillingCommitmentOutputStatusDisabled {
		t.Fatalf("after the window: %+v", m)
	}
	// enable, wait out the window, disable: DISABLED at once
	t1 := clock.Now()
	setCommitment(t, c, types.MinimumThroughputBillingCommitmentInputStatusEnabled)
	clock.Advance(25 * time.Hour)
	m = setCommitment(t, c, types.MinimumThroughputBillingCommitmentInputStatusDisabled)
	if m.Status != types.MinimumThroughputBillingCommitmentOutputStatusDisabled || !aws.ToTime(m.StartedAt).Equal(t1) || !aws.ToTime(m.EndedAt).Equal(clock.Now()) {
		t.Fatalf("disable after window %+v", m)
	}
	// settings are per account
	setCommitment(t, c, types.MinimumThroughputBillingCommitmentInputStatusEnabled)
	other := kinesis.NewFromConfig(eddytest.AWSConfig(srv.URL(), "", "111122223333"))
	if m := commitment(t, other); m.Status != types.MinimumThroughputBillingCommitmentOutputStatusDisabled {
		t.Fatalf("other account %+v", m)
	}

	wantRaw(t, srv, "UpdateAccountSettings", map[string]any{}, "ValidationException",
		"1 validation error detected: Value null at 'minimumThroughputBillingCommitment' failed to satisfy constraint: Member must not be null")
	wantRaw(t, srv, "UpdateAccountSettings", map[string]any{"MinimumThroughputBillingCommitment": map[string]any{"Status": "ENABLED_UNTIL_EARLIEST_ALLOWED_END"}}, "ValidationException",
		"1 validation error detected: Value 'ENABLED_UNTIL_EARLIEST_ALLOWED_END' at 'minimumThroughputBillingCommitment.status' failed to satisfy constraint: Member must satisfy enum value set: [ENABLED, DISABLED]")
}

func TestAccountSettingsPersist(t *testing.T) {
	dir := t.TempDir()
	{
		srv := eddytest.Start(t, eddytest.WithDataDir(dir))
		setCommitment(t, eddytest.Kinesis(srv), types.MinimumThroughputBillingCommitmentInputStatusEnabled)
		if err := srv.Close(); err != nil {
			t.Fatal(err)
		}
	}
	srv := eddytest.Start(t, eddytest.WithDataDir(dir))
	if m := commitment(t, eddytest.Kinesis(srv)); m.Status != types.MinimumThroughputBillingCommitmentOutputStatusEnabled {
		t.Fatalf("after restart %+v", m)
	}
}
