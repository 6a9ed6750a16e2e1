package cloudwatch

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/smithy-go"

	"github.com/eddy-streams/eddy/internal/awsproto"
	"github.com/eddy-streams/eddy/internal/gateway"
)

var ctx = context.Background()

func server(t *testing.T) (*Service, *httptest.Server, *cloudwatch.Client) {
	svc := New()
	g := gateway.New(gateway.Options{Auth: gateway.ScopeAuth("000000000000", "us-east-1"), Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Services: []awsproto.Service{svc}})
	g.SetReady(true)
	srv := httptest.NewServer(g)
	t.Cleanup(srv.Close)
	c := cloudwatch.NewFromConfig(aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", "")}, func(o *cloudwatch.Options) { o.RetryMaxAttempts = 1 })
	return svc, srv, c
}

func metrics(t *testing.T, url string) string {
	resp, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// TestPutMetricDataSDK uses aws-sdk-go-v2's CloudWatch client, which
// speaks smithy rpc-v2-cbor, with values, statistic sets and value/count
// arrays, and reads them back at /metrics.
func TestPutMetricDataSDK(t *testing.T) {
	_, srv, c := server(t)
	_, err := c.PutMetricData(ctx, &cloudwatch.PutMetricDataInput{
		Namespace: aws.String("my-kcl-app"),
		MetricData: []types.MetricDatum{
			{MetricName: aws.String("RecordsProcessed"), Value: aws.Float64(10), Unit: types.StandardUnitCount, Timestamp: aws.Time(time.Now()),
				Dimensions: []types.Dimension{{Name: aws.String("ShardId"), Value: aws.String("shardId-000000000001")}, {Name: aws.String("Operation"), Value: aws.String("ProcessTask")}}},
			{MetricName: aws.String("RecordsProcessed"), Value: aws.Float64(5), Unit: types.StandardUnitCount,
				Dimensions: []types.Dimension{{Name: aws.String("Operation"), Value: aws.String("ProcessTask")}, {Name: aws.String("ShardId"), Value: aws.String("shardId-000000000001")}}},
			{MetricName: aws.String("Time"), StatisticValues: &types.StatisticSet{SampleCount: aws.Float64(4), Sum: aws.Float64(100), Minimum: aws.Float64(1), Maximum: aws.Float64(70)}, Unit: types.StandardUnitMilliseconds},
			{MetricName: aws.String("Sizes"), Values: []float64{1, 2}, Counts: []float64{3, 1}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	m := metrics(t, srv.URL)
	for _, want := range []string{
		`eddy_cloudwatch_metric_samples_total{account="000000000000",namespace="my-kcl-app",metric="RecordsProcessed",unit="Count",dimensions="Operation=ProcessTask,ShardId=shardId-000000000001"} 2`,
		`eddy_cloudwatch_metric_sum{account="000000000000",namespace="my-kcl-app",metric="RecordsProcessed",unit="Count",dimensions="Operation=ProcessTask,ShardId=shardId-000000000001"} 15`,
		`eddy_cloudwatch_metric_last{account="000000000000",namespace="my-kcl-app",metric="RecordsProcessed",unit="Count",dimensions="Operation=ProcessTask,ShardId=shardId-000000000001"} 5`,
		`eddy_cloudwatch_metric_samples_total{account="000000000000",namespace="my-kcl-app",metric="Time",unit="Milliseconds",dimensions=""} 4`,
		`eddy_cloudwatch_metric_sum{account="000000000000",namespace="my-kcl-app",metric="Sizes",unit="None",dimensions=""} 5`,
		`eddy_cloudwatch_datums_total 4`,
	} {
		if !strings.Contains(m, want) {
			t.Fatalf("missing %s in\n%s", want, m)
		}
	}
	// AWS's validation errors, through the CBOR error path
	_, err = c.PutMetricData(ctx, &cloudwatch.PutMetricDataInput{Namespace: aws.String("AWS/Kinesis"), MetricData: []types.MetricDatum{{MetricName: aws.String("x"), Value: aws.Float64(1)}}})
	want(t, err, "InvalidParameterValue", "The value AWS/ for parameter Namespace is invalid.")
	_, err = c.PutMetricData(ctx, &cloudwatch.PutMetricDataInput{Namespace: aws.String("n"), MetricData: []types.MetricDatum{{MetricName: aws.String("x"), Value: aws.Float64(1), Values: []float64{1}}}})
	want(t, err, "InvalidParameterCombination", "mutually exclusive")
	// other CloudWatch operations are refused clearly
	_, err = c.ListMetrics(ctx, &cloudwatch.ListMetricsInput{})
	want(t, err, "UnknownOperationException", "only PutMetricData")
}

func want(t *testing.T, err error, code, msg string) {
	t.Helper()
	var ae smithy.APIError
	if err == nil || !errorsAs(err, &ae) || ae.ErrorCode() != code || !strings.Contains(ae.ErrorMessage(), msg) {
		t.Fatalf("want %s %q, got %v", code, msg, err)
	}
}

// TestPutMetricDataQueryAndJSON sends the query-protocol and JSON 1.0
// forms (older SDKs, the CLI on older botocore), one of them gzipped.
func TestPutMetricDataQueryAndJSON(t *testing.T) {
	_, srv, _ := server(t)
	form := "Action=PutMetricData&Version=2010-08-01&Namespace=q&MetricData.member.1.MetricName=m1&MetricData.member.1.Value=2.5&MetricData.member.1.Unit=Seconds" +
		"&MetricData.member.1.Dimensions.member.1.Name=d&MetricData.member.1.Dimensions.member.1.Value=v" +
		"&MetricData.member.2.MetricName=m1&MetricData.member.2.Value=1.5&MetricData.member.2.Unit=Seconds" +
		"&MetricData.member.2.Dimensions.member.1.Name=d&MetricData.member.2.Dimensions.member.1.Value=v"
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(form))
	zw.Close()
	req, _ := http.NewRequest("POST", srv.URL+"/", &gz)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	req.Header.Set("Content-Encoding", "gzip")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), "<PutMetricDataResponse") {
		t.Fatalf("query: %d %s", resp.StatusCode, b)
	}
	req, _ = http.NewRequest("POST", srv.URL+"/", strings.NewReader(`{"Namespace":"j","MetricData":[{"MetricName":"m2","Value":7,"Timestamp":1700000000}]}`))
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	req.Header.Set("X-Amz-Target", "GraniteServiceVersion20100801.PutMetricData")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(b) != "{}" || resp.Header.Get("Content-Type") != "application/x-amz-json-1.0" {
		t.Fatalf("json: %d %s", resp.StatusCode, b)
	}
	m := metrics(t, srv.URL)
	for _, w := range []string{
		`eddy_cloudwatch_metric_sum{account="000000000000",namespace="q",metric="m1",unit="Seconds",dimensions="d=v"} 4`,
		`eddy_cloudwatch_metric_last{account="000000000000",namespace="j",metric="m2",unit="None",dimensions=""} 7`,
	} {
		if !strings.Contains(m, w) {
			t.Fatalf("missing %s in\n%s", w, m)
		}
	}
	// query-protocol error
	resp, _ = http.Post(srv.URL+"/", "application/x-www-form-urlencoded", strings.NewReader("Action=PutMetricData&Version=2010-08-01&Namespace=q"))
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 400 || !strings.Contains(string(b), "<Code>MissingParameter</Code>") {
		t.Fatalf("query error: %d %s", resp.StatusCode, b)
	}
}

// TestExpositionIsBoundedAndSanitized: hostile names cannot break the text
// format, and new series stop at MaxSeries.
func TestExpositionIsBoundedAndSanitized(t *testing.T) {
	svc, srv, c := server(t)
	svc.max = 3
	evil := "a\"b\\c\nd} 1\n# TYPE x counter\n" + strings.Repeat("é", 300)
	_, err := c.PutMetricData(ctx, &cloudwatch.PutMetricDataInput{Namespace: aws.String("ns"), MetricData: []types.MetricDatum{
		{MetricName: aws.String(evil[:200]), Value: aws.Float64(1), Dimensions: []types.Dimension{{Name: aws.String("k"), Value: aws.String(evil)}}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		if _, err := c.PutMetricData(ctx, &cloudwatch.PutMetricDataInput{Namespace: aws.String("ns"), MetricData: []types.MetricDatum{{MetricName: aws.String(fmt.Sprint("m", i)), Value: aws.Float64(1)}}}); err != nil {
			t.Fatal(err)
		}
	}
	m := metrics(t, srv.URL)
	series := 0
	for _, line := range strings.Split(strings.TrimSpace(m), "\n") {
		if strings.HasPrefix(line, "#") {
			if !strings.HasPrefix(line, "# HELP ") && !strings.HasPrefix(line, "# TYPE ") {
				t.Fatalf("stray comment line %q", line)
			}
			continue
		}
		if !strings.HasPrefix(line, "eddy_") {
			t.Fatalf("line does not start with a metric name: %q", line)
		}
		if strings.HasPrefix(line, "eddy_cloudwatch_metric_samples_total{") {
			series++
		}
	}
	if series != 3 || !strings.Contains(m, "eddy_cloudwatch_series_dropped_total 3") {
		t.Fatalf("series %d\n%s", series, m)
	}
	if !strings.Contains(m, `a\"b\\c\nd} 1\n# TYPE x counter\n`) {
		t.Fatalf("escaping:\n%s", m)
	}
}

func errorsAs(err error, target any) bool { return errorsAsImpl(err, target) }
