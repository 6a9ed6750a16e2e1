package analytics_test

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	kt "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	ka "github.com/aws/aws-sdk-go-v2/service/kinesisanalytics"
	kat "github.com/aws/aws-sdk-go-v2/service/kinesisanalytics/types"

	"github.com/eddy-streams/eddy/internal/eddytest"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// TestServerStatusCountsVirtualClock runs the access-log application of
// docs/analytics.md inside a whole server on a virtual clock: LOGTOJSON
// records in, 5-minute tumbling counts per status out, the window emitted
// once it closes, then stop/start with LAST_STOPPED_POINT keeps the open
// window whole.
func TestServerStatusCountsVirtualClock(t *testing.T) {
	clk := &fakeClock{t: time.Date(2026, 3, 1, 12, 0, 10, 0, time.UTC)}
	srv := eddytest.Start(t, eddytest.WithClock(clk.Now))
	cfg := eddytest.AWSConfig(srv.URL(), "", "")
	kc, ac := kinesis.NewFromConfig(cfg), ka.NewFromConfig(cfg)
	for _, s := range []string{"weblogs", "status-counts"} {
		if _, err := kc.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(s), ShardCount: aws.Int32(2)}); err != nil {
			t.Fatal(err)
		}
		eddytest.WaitActive(t, kc, s)
	}
	code, err := os.ReadFile("testdata/status_counts.sql")
	if err != nil {
		t.Fatal(err)
	}
	in := kat.Input{NamePrefix: aws.String("SOURCE_SQL_STREAM"),
		KinesisStreamsInput: &kat.KinesisStreamsInput{ResourceARN: aws.String("arn:aws:kinesis:us-east-1:000000000000:stream/weblogs"), RoleARN: aws.String(roleARN)},
		InputSchema: &kat.SourceSchema{RecordFormat: &kat.RecordFormat{RecordFormatType: kat.RecordFormatTypeJson, MappingParameters: &kat.MappingParameters{JSONMappingParameters: &kat.JSONMappingParameters{RecordRowPath: aws.String("$")}}},
			RecordColumns: []kat.RecordColumn{
				{Name: aws.String("request"), SqlType: aws.String("VARCHAR(256)"), Mapping: aws.String("$.request")},
				{Name: aws.String("response"), SqlType: aws.String("INTEGER"), Mapping: aws.String("$.response")},
			}}}
	if _, err := ac.CreateApplication(ctx, &ka.CreateApplicationInput{ApplicationName: aws.String("status-counts"), ApplicationCode: aws.String(string(code)), Inputs: []kat.Input{in}}); err != nil {
		t.Fatal(err)
	}
	// bad SQL is refused with a position
	_, err = ac.UpdateApplication(ctx, &ka.UpdateApplicationInput{ApplicationName: aws.String("status-counts"), CurrentApplicationVersionId: aws.Int64(1),
		ApplicationUpdate: &kat.ApplicationUpdate{ApplicationCodeUpdate: aws.String("CREATE OR REPLACE STREAM \"D\" (a INTEGER);\nSELECT FROM")}})
	if msg := apiErr(t, err, "CodeValidationException"); !strings.Contains(msg, "line 2") {
		t.Fatalf("message %q", msg)
	}
	if _, err := ac.AddApplicationOutput(ctx, &ka.AddApplicationOutputInput{ApplicationName: aws.String("status-counts"), CurrentApplicationVersionId: aws.Int64(1),
		Output: &kat.Output{Name: aws.String("DESTINATION_SQL_STREAM"), KinesisStreamsOutput: &kat.KinesisStreamsOutput{ResourceARN: aws.String("arn:aws:kinesis:us-east-1:000000000000:stream/status-counts"), RoleARN: aws.String(roleARN)},
			DestinationSchema: &kat.DestinationSchema{RecordFormatType: kat.RecordFormatTypeJson}}}); err != nil {
		t.Fatal(err)
	}
	start := func(pos kat.InputStartingPosition) {
		t.Helper()
		if _, err := ac.StartApplication(ctx, &ka.StartApplicationInput{ApplicationName: aws.String("status-counts"),
			InputConfigurations: []kat.InputConfiguration{{Id: aws.String("1.1"), InputStartingPositionConfiguration: &kat.InputStartingPositionConfiguration{InputStartingPosition: pos}}}}); err != nil {
			t.Fatal(err)
		}
	}
	start(kat.InputStartingPositionNow)
	put := func(statuses ...int) {
		t.Helper()
		var recs []kt.PutRecordsRequestEntry
		for i, s := range statuses {
			rec := fmt.Sprintf(`{"host":"127.0.0.1","ident":null,"authuser":null,"datetime":"01/Mar/2026:12:00:10 +0000","request":"GET /req/%d HTTP/1.1","response":"%d","bytes":"3","referrer":null,"agent":"curl"}`, i, s)
			recs = append(recs, kt.PutRecordsRequestEntry{Data: []byte(rec), PartitionKey: aws.String(fmt.Sprint(i))})
		}
		out, err := kc.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String("weblogs"), Records: recs})
		if err != nil || aws.ToInt32(out.FailedRecordCount) != 0 {
			t.Fatal(err)
		}
	}
	put(200, 200, 404, 200, 500, 404, 200)
	clk.Add(2 * time.Minute)
	put(200, 304)
	clk.Add(3 * time.Minute) // 12:05:10: the 12:00–12:05 window has closed
	// a second window: part before a stop, part after
	put(200, 200)
	first := waitRecords(t, kc, "status-counts", 4) // first window emitted
	if _, err := ac.StopApplication(ctx, &ka.StopApplicationInput{ApplicationName: aws.String("status-counts")}); err != nil {
		t.Fatal(err)
	}
	clk.Add(time.Minute)
	put(404)
	start(kat.InputStartingPositionLastStoppedPoint)
	clk.Add(5 * time.Minute) // 12:11:10: the 12:05–12:10 window has closed
	all := waitRecords(t, kc, "status-counts", 6)
	second := minus(all, first)
	check := func(what string, got, want []string) {
		t.Helper()
		sort.Strings(got)
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("%s window\n%s\nwant\n%s", what, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
	check("first", first, []string{`{"STATUS":200,"REQUEST_COUNT":5}`, `{"STATUS":304,"REQUEST_COUNT":1}`, `{"STATUS":404,"REQUEST_COUNT":2}`, `{"STATUS":500,"REQUEST_COUNT":1}`})
	check("second", second, []string{`{"STATUS":200,"REQUEST_COUNT":2}`, `{"STATUS":404,"REQUEST_COUNT":1}`})
}

// minus removes the records of b from a (as multisets).
func minus(a, b []string) []string {
	n := map[string]int{}
	for _, x := range b {
		n[x]++
	}
	var out []string
	for _, x := range a {
		if n[x] > 0 {
			n[x]--
			continue
		}
		out = append(out, x)
	}
	return out
}

// waitRecords reads a stream from the start until it holds n records.
func waitRecords(t *testing.T, kc *kinesis.Client, stream string, n int) []string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		r := &eddytest.StreamReader{Client: kc, Stream: stream}
		got := r.Poll(t)
		if len(got) >= n {
			if len(got) > n {
				t.Fatalf("%s: %d records, want %d: %v", stream, len(got), n, got)
			}
			return append([]string(nil), got...)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %d records, want %d: %v", stream, len(got), n, got)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestServerDiscoverInputSchema samples a stream in process and infers the
// demo stream's documented schema.
func TestServerDiscoverInputSchema(t *testing.T) {
	srv := eddytest.Start(t)
	cfg := eddytest.AWSConfig(srv.URL(), "", "")
	kc, ac := kinesis.NewFromConfig(cfg), ka.NewFromConfig(cfg)
	if _, err := kc.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String("ticks"), ShardCount: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	eddytest.WaitActive(t, kc, "ticks")
	for _, rec := range []string{
		`{"TICKER_SYMBOL":"QXZ","SECTOR":"HEALTHCARE","CHANGE":-0.05,"PRICE":84.51}`,
		`{"TICKER_SYMBOL":"AMZN","SECTOR":"TECHNOLOGY","CHANGE":1.25,"PRICE":101.3}`,
	} {
		if _, err := kc.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("ticks"), PartitionKey: aws.String("p"), Data: []byte(rec)}); err != nil {
			t.Fatal(err)
		}
	}
	out, err := ac.DiscoverInputSchema(ctx, &ka.DiscoverInputSchemaInput{ResourceARN: aws.String("arn:aws:kinesis:us-east-1:000000000000:stream/ticks"), RoleARN: aws.String(roleARN),
		InputStartingPositionConfiguration: &kat.InputStartingPositionConfiguration{InputStartingPosition: kat.InputStartingPositionTrimHorizon}})
	if err != nil {
		t.Fatal(err)
	}
	var cols []string
	for _, c := range out.InputSchema.RecordColumns {
		cols = append(cols, aws.ToString(c.Name)+" "+aws.ToString(c.SqlType)+" "+aws.ToString(c.Mapping))
	}
	if got, want := strings.Join(cols, ", "), "TICKER_SYMBOL VARCHAR(4) $.TICKER_SYMBOL, SECTOR VARCHAR(16) $.SECTOR, CHANGE REAL $.CHANGE, PRICE REAL $.PRICE"; got != want {
		t.Fatalf("columns %s", got)
	}
	if out.InputSchema.RecordFormat.RecordFormatType != kat.RecordFormatTypeJson || len(out.RawInputRecords) != 2 || len(out.ParsedInputRecords) != 2 || out.ParsedInputRecords[0][0] != "QXZ" {
		t.Fatalf("discovery %+v", out)
	}
	_, err = ac.DiscoverInputSchema(ctx, &ka.DiscoverInputSchemaInput{ResourceARN: aws.String("arn:aws:kinesis:us-east-1:000000000000:stream/none"), RoleARN: aws.String(roleARN)})
	apiErr(t, err, "ResourceNotFoundException")
	if _, err := kc.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String("empty"), ShardCount: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	eddytest.WaitActive(t, kc, "empty")
	_, err = ac.DiscoverInputSchema(ctx, &ka.DiscoverInputSchemaInput{ResourceARN: aws.String("arn:aws:kinesis:us-east-1:000000000000:stream/empty"), RoleARN: aws.String(roleARN),
		InputStartingPositionConfiguration: &kat.InputStartingPositionConfiguration{InputStartingPosition: kat.InputStartingPositionTrimHorizon}})
	apiErr(t, err, "UnableToDetectSchemaException")
}
