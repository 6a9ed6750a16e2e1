package app_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/eddy-streams/eddy/internal/app"
	"github.com/eddy-streams/eddy/internal/config"
	"github.com/eddy-streams/eddy/internal/eddytest"
)

// scrape GETs /metrics.
func scrape(t *testing.T, srv *app.Server) string {
	t.Helper()
	resp, err := http.Get(srv.URL() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET /metrics: %d %v", resp.StatusCode, err)
	}
	return string(body)
}

// seriesOf parses an exposition (failing the test if it does not parse)
// and returns each series (name and labels) with its value.
func seriesOf(t *testing.T, text string) map[string]float64 {
	t.Helper()
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(text))
	if err != nil {
		t.Fatalf("exposition does not parse: %v\n%s", err, text)
	}
	out := map[string]float64{}
	for name, f := range fams {
		for _, m := range f.GetMetric() {
			var ls []string
			for _, l := range m.GetLabel() {
				ls = append(ls, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
			}
			sort.Strings(ls)
			v := m.GetCounter().GetValue() + m.GetGauge().GetValue() + m.GetUntyped().GetValue()
			out[name+"{"+strings.Join(ls, ",")+"}"] = v
		}
	}
	return out
}

// promtoolCheck runs `promtool check metrics` on text. promtool comes from
// scripts/setup.d/50-promtool.sh; without it the test is skipped on a
// developer's machine but fails under CI (CI set), so CI cannot pass
// without the check.
func promtoolCheck(t *testing.T, text string) {
	t.Helper()
	bin, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("CI") == "" {
			t.Skip("promtool not installed (scripts/setup.d/50-promtool.sh installs it; under CI this fails)")
		}
		t.Fatal("promtool not installed: scripts/setup.d/50-promtool.sh should have installed it")
	}
	cmd := exec.Command(bin, "check", "metrics")
	cmd.Stdin = strings.NewReader(text)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("promtool check metrics: %v\n%s\non:\n%s", err, out, text)
	}
}

// post sends a raw JSON 1.1 request with the given X-Amz-Target.
func post(t *testing.T, c *http.Client, url, target string) {
	t.Helper()
	req, err := http.NewRequest("POST", url, strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header["X-Amz-Target"] = []string{target} // raw: no canonicalisation or checks
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("target %q: %v", target, err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode == 200 {
		t.Fatalf("target %q was accepted", target)
	}
}

// TestMetricsHostileTargets sends X-Amz-Target values no client should be
// able to turn into metric series (10,000 distinct operations, invalid
// UTF-8, quotes, braces, backslashes, unknown service prefixes), with
// --auth none and unsigned under --auth sigv4. After one request of each
// kind, the set of series in /metrics stays exactly the same, the
// "unknown" counters grow by the number of requests, and the output passes
// `promtool check metrics`.
func TestMetricsHostileTargets(t *testing.T) {
	const distinct = 10000
	kinds := []struct {
		name   string
		target func(i int) string
	}{
		{"distinct operations", func(i int) string { return fmt.Sprintf("Kinesis_20131202.NoSuchOp%05d", i) }},
		{"invalid UTF-8 operations", func(i int) string { return fmt.Sprintf("Kinesis_20131202.\xff\xfe%d\xc3", i) }},
		{"format-breaking operations", func(i int) string { return fmt.Sprintf("Kinesis_20131202.a\"} 1\\\\%d{x=\"", i) }},
		{"unknown prefixes", func(i int) string { return fmt.Sprintf("Svc%d\xff.Op%d", i, i) }},
		{"firehose operations", func(i int) string { return fmt.Sprintf("Firehose_20150804.Op\xbd%d", i) }},
	}
	creds := filepath.Join(t.TempDir(), "creds.json")
	if err := os.WriteFile(creds, []byte(`{"AKIDGOOD":"good-secret"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, auth := range []string{"none", "sigv4"} {
		t.Run("auth="+auth, func(t *testing.T) {
			srv := eddytest.Start(t, eddytest.WithConfig(func(c *config.Config) {
				c.Durability = "always"
				if auth == "sigv4" {
					c.Auth, c.Credentials = "sigv4", creds
				}
			}))
			if auth == "none" {
				// real traffic first, so storage and gateway series exist
				kc := eddytest.Kinesis(srv)
				if _, err := kc.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String("m"), ShardCount: aws.Int32(1)}); err != nil {
					t.Fatal(err)
				}
				if _, err := kc.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("m"), PartitionKey: aws.String("p"), Data: []byte("x")}); err != nil {
					t.Fatal(err)
				}
			}
			hc := &http.Client{}
			url := srv.URL() + "/"
			for _, k := range kinds {
				post(t, hc, url, k.target(0)) // the one series this kind may add
			}
			before := seriesOf(t, scrape(t, srv))
			for _, k := range kinds {
				n := distinct
				if k.name != "distinct operations" {
					n = 200
				}
				for i := 1; i <= n; i++ {
					post(t, hc, url, k.target(i))
				}
			}
			text := scrape(t, srv)
			after := seriesOf(t, text)
			if len(after) != len(before) {
				var added []string
				for s := range after {
					if _, ok := before[s]; !ok {
						added = append(added, s)
					}
				}
				sort.Strings(added)
				if len(added) > 10 {
					added = added[:10]
				}
				t.Fatalf("series count went from %d to %d; new series include %q", len(before), len(after), added)
			}
			for s := range after {
				if _, ok := before[s]; !ok {
					t.Fatalf("new series %s", s)
				}
			}
			// every hostile request was counted, under "unknown" only
			var grew float64
			for s, v := range after {
				if !strings.HasPrefix(s, "eddy_gateway_requests_total{") {
					continue
				}
				if d := v - before[s]; d != 0 {
					if !strings.Contains(s, `operation="unknown"`) {
						t.Errorf("hostile requests counted under %s", s)
					}
					grew += d
				}
			}
			if want := float64(distinct + 200*(len(kinds)-1)); grew != want {
				t.Errorf("hostile requests counted %v times, want %v", grew, want)
			}
			// unknown operations are answered before authentication (AWS's
			// order), so not even the service is trusted
			wantSeries := []string{`code="UnknownOperationException",operation="unknown",service="unknown"}`}
			for s := range after {
				if strings.HasPrefix(s, "eddy_gateway_requests_total{") && !strings.HasSuffix(s, `operation="unknown",service="unknown"}`) && !strings.Contains(s, `code="200"`) {
					t.Errorf("hostile requests counted under %s", s)
				}
			}
			if auth == "sigv4" {
				for s := range after {
					if strings.HasPrefix(s, "eddy_gateway_requests_total{") && !strings.HasSuffix(s, `operation="unknown",service="unknown"}`) && !strings.Contains(s, `code="200"`) {
						t.Errorf("unsigned requests counted under %s", s)
					}
				}
			}
			for _, want := range wantSeries {
				found := false
				for s := range after {
					found = found || strings.HasPrefix(s, "eddy_gateway_requests_total{") && strings.HasSuffix(s, want)
				}
				if !found {
					t.Errorf("no eddy_gateway_requests_total series ending in %s in:\n%s", want, text)
				}
			}
			if auth == "sigv4" {
				// a signed request is counted under its operation, an
				// unsigned one for the same operation is not
				post(t, hc, url, "Kinesis_20131202.ListStreams")
				cfg := eddytest.AWSConfig(srv.URL(), "us-east-1", "AKIDGOOD")
				cfg.Credentials = aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
					return aws.Credentials{AccessKeyID: "AKIDGOOD", SecretAccessKey: "good-secret"}, nil
				})
				if _, err := kinesis.NewFromConfig(cfg).ListStreams(ctx, &kinesis.ListStreamsInput{}); err != nil {
					t.Fatal(err)
				}
				s := seriesOf(t, scrape(t, srv))
				if v := s[`eddy_gateway_requests_total{code="200",operation="ListStreams",service="Kinesis_20131202"}`]; v != 1 {
					t.Errorf("signed ListStreams counted %v times, want 1", v)
				}
				for k := range s {
					if strings.Contains(k, `operation="ListStreams"`) && !strings.Contains(k, `code="200"`) {
						t.Errorf("unsigned ListStreams counted under %s", k)
					}
				}
			}
			if auth == "none" {
				if v := after[`eddy_gateway_requests_total{code="200",operation="PutRecord",service="Kinesis_20131202"}`]; v != 1 {
					t.Errorf("PutRecord count = %v, want 1", v)
				}
				if after["eddy_storage_shards{}"] != 1 {
					t.Errorf("eddy_storage_shards = %v, want 1", after["eddy_storage_shards{}"])
				}
			}
			promtoolCheck(t, text)
		})
	}
}

// TestMetricsExposition checks the whole /metrics output of a server with
// data-stream, storage and Firehose series with promtool (format and lint).
func TestMetricsExposition(t *testing.T) {
	srv := eddytest.Start(t)
	kc := eddytest.Kinesis(srv)
	if _, err := kc.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String("m"), ShardCount: aws.Int32(2)}); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("POST", srv.URL()+"/", strings.NewReader(`{"DeliveryStreamName":"fh","ExtendedS3DestinationConfiguration":{"BucketARN":"arn:aws:s3:::b","RoleARN":"arn:aws:iam::000000000000:role/r"}}`))
	req.Header.Set("X-Amz-Target", "Firehose_20150804.CreateDeliveryStream")
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("CreateDeliveryStream: %d %s", resp.StatusCode, b)
	}
	text := scrape(t, srv)
	s := seriesOf(t, text)
	for _, want := range []string{
		`eddy_gateway_requests_total{code="200",operation="CreateStream",service="Kinesis_20131202"}`,
		`eddy_gateway_requests_total{code="200",operation="CreateDeliveryStream",service="Firehose_20150804"}`,
		`eddy_firehose_incoming_records_total{account="000000000000",delivery_stream="fh",region="us-east-1"}`,
		`eddy_storage_shards{}`,
	} {
		if _, ok := s[want]; !ok {
			t.Errorf("missing %s in:\n%s", want, text)
		}
	}
	if !bytes.Contains([]byte(text), []byte("# TYPE eddy_storage_syncs_total counter\n")) {
		t.Errorf("storage counter type missing:\n%s", text)
	}
	promtoolCheck(t, text)
}
