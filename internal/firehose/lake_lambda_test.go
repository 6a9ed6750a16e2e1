package firehose_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	fhtypes "github.com/aws/aws-sdk-go-v2/service/firehose/types"

	"github.com/eddy-streams/eddy/internal/firehose"
	"github.com/eddy-streams/eddy/internal/storage/memstore"
)

func lambdaProcessor(arn string, params ...string) fhtypes.Processor {
	p := fhtypes.Processor{Type: fhtypes.ProcessorTypeLambda, Parameters: []fhtypes.ProcessorParameter{{ParameterName: "LambdaArn", ParameterValue: aws.String(arn)}}}
	for i := 0; i+1 < len(params); i += 2 {
		p.Parameters = append(p.Parameters, fhtypes.ProcessorParameter{ParameterName: fhtypes.ProcessorParameterName(params[i]), ParameterValue: aws.String(params[i+1])})
	}
	return p
}

// csvToClick is the transformation function of the lake tests: a CSV line
// "customer,device,epochSeconds,amount,page" becomes the JSON event of the
// clicks table, with partition key "customer" in metadata.partitionKeys.
// Lines starting with "drop" are Dropped, with "fail" ProcessingFailed,
// and "nokey" lines come back Ok without partition keys.
func csvToClick(ev events.KinesisFirehoseEvent) (events.KinesisFirehoseResponse, error) {
	var out events.KinesisFirehoseResponse
	for _, r := range ev.Records {
		line := string(r.Data)
		res := events.KinesisFirehoseResponseRecord{RecordID: r.RecordID, Result: events.KinesisFirehoseTransformedStateOk}
		switch {
		case strings.HasPrefix(line, "drop"):
			res.Result = events.KinesisFirehoseTransformedStateDropped
		case strings.HasPrefix(line, "fail"):
			res.Result, res.Data = events.KinesisFirehoseTransformedStateProcessingFailed, r.Data
		default:
			f := strings.Split(strings.TrimPrefix(line, "nokey"), ",")
			if len(f) != 5 {
				return out, fmt.Errorf("record %q is not a click", line)
			}
			ts, _ := strconv.ParseInt(f[2], 10, 64)
			res.Data, _ = json.Marshal(map[string]any{"customer_id": f[0], "device": f[1], "ts": ts, "amount": f[3], "pages": []string{f[4]}})
			if !strings.HasPrefix(line, "nokey") {
				res.Metadata.PartitionKeys = map[string]string{"customer": f[0]}
			}
		}
		out.Records = append(out.Records, res)
	}
	return out, nil
}

// errorRecords parses the JSON lines of the objects under prefix.
func errorRecords(t *testing.T, objs []object, prefix string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, o := range objs {
		if !strings.HasPrefix(o.Key, prefix) {
			continue
		}
		for _, line := range bytes.Split(bytes.TrimSpace(o.Body), []byte("\n")) {
			var m map[string]any
			if err := json.Unmarshal(line, &m); err != nil {
				t.Fatalf("error record %s: %v", line, err)
			}
			out = append(out, m)
		}
	}
	return out
}

func rawDataOf(t *testing.T, m map[string]any) string {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(m["rawData"].(string))
	if err != nil {
		t.Fatalf("rawData of %v: %v", m, err)
	}
	return string(b)
}

// TestLakeLambdaPartitionsToParquet: AWS's order of processing. Records
// of CSV lines joined by ";" are de-aggregated (DELIMITED), each line is
// transformed by an aws-lambda-go function into JSON with a partition key
// in metadata.partitionKeys, the prefix mixes that key with a JQ key of the
// transformed JSON, and the partitions are converted to Parquet with the
// Glue schema. Every row is read back with arrow-go; dropped records are
// nowhere; ProcessingFailed records land in processing-failed with the
// original data, records without their Lambda key in partitioning-failed,
// and a transformed record that breaks the schema in
// format-conversion-failed.
func TestLakeLambdaPartitionsToParquet(t *testing.T) {
	v := startVersity(t, "lake")
	cat := newCatalog(t, "web", "clicks", [][2]string{{"customer_id", "string"}, {"device", "string"}, {"ts", "timestamp"}, {"amount", "decimal(10,2)"}, {"pages", "array<string>"}})
	fns := newGoFunctions()
	arn := fns.named("csv", csvToClick)
	srv := startServer(t, nil, v.URL, func(o *firehose.Options) { o.Catalog, o.Lambda = cat, fns })
	c := srv.Firehose()
	proc := lakeProcessors(`{device: .device}`, lambdaProcessor(arn, "NumberOfRetries", "1", "BufferSizeInMBs", "0.2"))
	proc.Processors[0].Parameters = []fhtypes.ProcessorParameter{
		{ParameterName: "SubRecordType", ParameterValue: aws.String("DELIMITED")}, {ParameterName: "Delimiter", ParameterValue: aws.String("Ow==")}} // ";"
	s3Stream(t, c, "lclicks", fhtypes.ExtendedS3DestinationConfiguration{
		BucketARN:                         aws.String("arn:aws:s3:::lake"),
		Prefix:                            aws.String("customer=!{partitionKeyFromLambda:customer}/device=!{partitionKeyFromQuery:device}/"),
		ErrorOutputPrefix:                 aws.String("errors/!{firehose:error-output-type}/"),
		BufferingHints:                    &fhtypes.BufferingHints{SizeInMBs: aws.Int32(64), IntervalInSeconds: aws.Int32(900)},
		DynamicPartitioningConfiguration:  &fhtypes.DynamicPartitioningConfiguration{Enabled: aws.Bool(true)},
		ProcessingConfiguration:           proc,
		DataFormatConversionConfiguration: parquetConversion("web", "clicks"),
	})
	type click struct{ customer, device, amount, page string }
	want := map[string][]click{} // partition prefix → rows in order
	var batch [][]byte
	var failed, dropped []string
	lines := 0
	for i := 0; i < 40; i++ {
		var parts []string
		for j := 0; j < 3; j++ {
			n := i*3 + j
			lines++
			switch {
			case n%10 == 3:
				l := fmt.Sprintf("drop-%d", n)
				dropped = append(dropped, l)
				parts = append(parts, l)
				continue
			case n%10 == 7:
				l := fmt.Sprintf("fail-%d", n)
				failed = append(failed, l)
				parts = append(parts, l)
				continue
			}
			k := click{customer: fmt.Sprintf("c%d", n%4), device: []string{"mobile", "desktop"}[n%2], amount: fmt.Sprintf("%d.%02d", n, n%100), page: fmt.Sprintf("p%d", n)}
			parts = append(parts, fmt.Sprintf("%s,%s,1700000000,%s,%s", k.customer, k.device, k.amount, k.page))
			p := fmt.Sprintf("customer=%s/device=%s/", k.customer, k.device)
			want[p] = append(want[p], k)
		}
		batch = append(batch, []byte(strings.Join(parts, ";")))
	}
	// no Lambda key; a transformed record the schema refuses
	batch = append(batch, []byte("nokeyc9,mobile,1700000000,1.00,p"), []byte("c1,mobile,1700000000,lots,p"))
	putBatch(t, c, "lclicks", batch)
	srv.flush("lclicks")

	// the function saw the de-aggregated lines, in batches of ≤ 0.2 MiB
	total := 0
	for _, n := range fns.callsOf(arn) {
		total += n
	}
	if total != lines+2 {
		t.Fatalf("the function got %d records, want %d (calls %v)", total, lines+2, fns.callsOf(arn))
	}
	objs := v.listObjects(t, "lake", "")
	got := map[string][]object{}
	for _, o := range objs {
		if strings.HasPrefix(o.Key, "errors/") {
			continue
		}
		i := strings.Index(o.Key, "lclicks-")
		if i < 0 || !strings.HasSuffix(o.Key, ".parquet") {
			t.Fatalf("unexpected key %s", o.Key)
		}
		got[o.Key[:i]] = append(got[o.Key[:i]], o)
	}
	if fmt.Sprint(keysOf(got)) != fmt.Sprint(keysOf(want)) {
		t.Fatalf("partitions %v, want %v", keysOf(got), keysOf(want))
	}
	for prefix, rows := range want {
		if len(got[prefix]) != 1 {
			t.Fatalf("partition %s: %d objects", prefix, len(got[prefix]))
		}
		gotRows := readParquet(t, got[prefix][0].Body)
		if len(gotRows) != len(rows) {
			t.Fatalf("partition %s: %d rows, want %d", prefix, len(gotRows), len(rows))
		}
		for i, w := range rows {
			r := gotRows[i]
			if r.customer != w.customer || r.device != w.device || r.amount != w.amount || r.pages != w.page || r.tsMs != 1700000000000 {
				t.Fatalf("partition %s row %d: %+v, want %+v", prefix, i, r, w)
			}
		}
	}
	for _, o := range objs {
		for _, d := range dropped {
			if bytes.Contains(o.Body, []byte(d)) || bytes.Contains(o.Body, []byte(base64.StdEncoding.EncodeToString([]byte(d)))) {
				t.Fatalf("dropped record %s delivered in %s", d, o.Key)
			}
		}
	}
	pf := errorRecords(t, objs, "errors/processing-failed/")
	var gotFailed []string
	for _, m := range pf {
		if m["errorCode"] != "Lambda.ProcessingFailedStatus" || m["lambdaArn"] != arn || m["attemptsMade"] != 1.0 ||
			m["arrivalTimestamp"] == 0.0 || m["attemptEndingTimestamp"] == nil || m["errorMessage"] == "" {
			t.Fatalf("processing-failed record %v", m)
		}
		gotFailed = append(gotFailed, rawDataOf(t, m))
	}
	sort.Strings(gotFailed)
	sort.Strings(failed)
	if fmt.Sprint(gotFailed) != fmt.Sprint(failed) {
		t.Fatalf("processing-failed %v, want %v", gotFailed, failed)
	}
	part := errorRecords(t, objs, "errors/partitioning-failed/")
	if len(part) != 1 || part[0]["errorCode"] != "DynamicPartitioning.LambdaPartitionKeyMissing" ||
		!strings.Contains(rawDataOf(t, part[0]), `"customer_id":"c9"`) {
		t.Fatalf("partitioning-failed %v", part)
	}
	conv := errorRecords(t, objs, "errors/format-conversion-failed/")
	if len(conv) != 1 || conv[0]["lastErrorCode"] != "DataFormatConversion.MalformedData" || !strings.Contains(rawDataOf(t, conv[0]), `"amount":"lots"`) {
		t.Fatalf("format-conversion-failed %v", conv)
	}
	if n := len(objs); n != len(want)+3 {
		t.Fatalf("%d objects, want %d partitions and 3 error objects", n, len(want))
	}
}

// TestLakeLambdaInvocationFailures: a function that always errors is
// invoked 1+NumberOfRetries times per batch and its records go to
// processing-failed with Lambda.FunctionError; a function whose response
// misses a record id fails its batch with Lambda.MissingRecordId; a
// function that is not there fails with Lambda.InvokeError. Nothing reaches
// a partition.
func TestLakeLambdaInvocationFailures(t *testing.T) {
	v := startVersity(t, "lake")
	fns := newGoFunctions()
	boom := fns.named("boom", func(ev events.KinesisFirehoseEvent) (events.KinesisFirehoseResponse, error) {
		return events.KinesisFirehoseResponse{}, errors.New("boom")
	})
	short := fns.named("short", func(ev events.KinesisFirehoseEvent) (events.KinesisFirehoseResponse, error) {
		var out events.KinesisFirehoseResponse
		for _, r := range ev.Records[1:] {
			out.Records = append(out.Records, events.KinesisFirehoseResponseRecord{RecordID: r.RecordID, Result: "Ok", Data: r.Data,
				Metadata: events.KinesisFirehoseResponseRecordMetadata{PartitionKeys: map[string]string{"k": "x"}}})
		}
		return out, nil
	})
	missing := "arn:aws:lambda:us-east-1:000000000000:function:missing"
	srv := startServer(t, nil, v.URL, func(o *firehose.Options) { o.Lambda = fns })
	c := srv.Firehose()
	cases := []struct {
		name, arn, retries, code string
		attempts                 float64
	}{
		{"boom", boom, "2", "Lambda.FunctionError", 3},
		{"short", short, "0", "Lambda.MissingRecordId", 1},
		{"missing", missing, "1", "Lambda.InvokeError", 2},
	}
	for _, tc := range cases {
		s3Stream(t, c, tc.name, fhtypes.ExtendedS3DestinationConfiguration{
			BucketARN:                        aws.String("arn:aws:s3:::lake"),
			Prefix:                           aws.String(tc.name + "/k=!{partitionKeyFromLambda:k}/"),
			ErrorOutputPrefix:                aws.String(tc.name + "-errors/!{firehose:error-output-type}/"),
			BufferingHints:                   &fhtypes.BufferingHints{SizeInMBs: aws.Int32(64), IntervalInSeconds: aws.Int32(900)},
			DynamicPartitioningConfiguration: &fhtypes.DynamicPartitioningConfiguration{Enabled: aws.Bool(true)},
			ProcessingConfiguration: &fhtypes.ProcessingConfiguration{Enabled: aws.Bool(true), Processors: []fhtypes.Processor{
				lambdaProcessor(tc.arn, "NumberOfRetries", tc.retries)}},
		})
		putBatch(t, c, tc.name, [][]byte{[]byte("a"), []byte("b"), []byte("c")})
		srv.flush(tc.name)
		if calls := fns.callsOf(tc.arn); float64(len(calls)) != tc.attempts {
			t.Fatalf("%s: %d invocations, want %v", tc.name, len(calls), tc.attempts)
		}
		objs := v.listObjects(t, "lake", tc.name)
		var raws []string
		for _, m := range errorRecords(t, objs, tc.name+"-errors/processing-failed/") {
			if m["errorCode"] != tc.code || m["attemptsMade"] != tc.attempts || m["lambdaArn"] != tc.arn {
				t.Fatalf("%s: processing-failed record %v", tc.name, m)
			}
			raws = append(raws, rawDataOf(t, m))
		}
		sort.Strings(raws)
		if strings.Join(raws, ",") != "a,b,c" || len(objs) != 1 {
			t.Fatalf("%s: processing-failed %v in %d objects", tc.name, raws, len(objs))
		}
	}
}

// TestLakeRetention24h: while S3 is down, a partitioned stream keeps its
// partitions and the records waiting for the error output and retries;
// once records are 24 hours old they are dropped and counted (AWS: data
// is lost after 24 hours), younger records of the same partition stay and
// are delivered, key by key, when S3 is back.
func TestLakeRetention24h(t *testing.T) {
	v := startVersity(t, "lake")
	v.Stop()
	clock := &fakeClock{t: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)}
	be := memstore.New(clock.Now)
	srv := startServer(t, be, v.URL, func(o *firehoseOptions) { o.Now = clock.Now })
	c := srv.Firehose()
	s3Stream(t, c, "lret", fhtypes.ExtendedS3DestinationConfiguration{
		BucketARN:                        aws.String("arn:aws:s3:::lake"),
		Prefix:                           aws.String("k=!{partitionKeyFromQuery:k}/"),
		ErrorOutputPrefix:                aws.String("errors/!{firehose:error-output-type}/"),
		BufferingHints:                   &fhtypes.BufferingHints{SizeInMBs: aws.Int32(64), IntervalInSeconds: aws.Int32(0)},
		DynamicPartitioningConfiguration: &fhtypes.DynamicPartitioningConfiguration{Enabled: aws.Bool(true)},
		ProcessingConfiguration:          lakeProcessors(`{k: .k}`),
	})
	failures := func() int {
		n, _ := strconv.Atoi(metricValue(t, srv.fh, "eddy_firehose_delivery_to_s3_failures_total", "lret"))
		return n
	}
	expired := func() string { return metricValue(t, srv.fh, "eddy_firehose_expired_records_total", "lret") }
	retried := func(what string) {
		t.Helper()
		seen := failures()
		waitFor(t, 10*time.Second, what, func() bool { return failures() >= seen+2 })
	}
	// Phase 1: partitions and a record waiting for partitioning-failed.
	var old [][]byte
	for i := 0; i < 6; i++ {
		old = append(old, []byte(fmt.Sprintf(`{"k":"%c","n":"old-%d"}`, 'a'+i%2, i)))
	}
	old = append(old, []byte(`not json`))
	putBatch(t, c, "lret", old)
	retried("failed attempts on the old records")
	clock.Add(23 * time.Hour)
	mid := [][]byte{[]byte(`{"k":"a","n":"mid-0"}`), []byte(`{"k":"c","n":"mid-1"}`), []byte(`{"k":"a","n":"mid-2"}`)}
	putBatch(t, c, "lret", mid)
	retried("failed attempts at 23 hours")
	if got := expired(); got != "0" {
		t.Fatalf("expired before 24 h: %s", got)
	}
	clock.Add(time.Hour + time.Second)
	waitFor(t, 10*time.Second, "the 24-hour-old records dropped", func() bool { return expired() == "7" })
	// Phase 2: a partition holding records of both ages loses only the old.
	young := []byte(`{"k":"a","n":"young"}`)
	putBatch(t, c, "lret", [][]byte{young})
	retried("failed attempts with the mid records read")
	if got := expired(); got != "7" {
		t.Fatalf("expired %s before the mid records are 24 hours old", got)
	}
	clock.Add(23 * time.Hour)
	waitFor(t, 10*time.Second, "the mid records dropped", func() bool { return expired() == "10" })
	v.Start()
	srv.flush("lret")
	objs := v.listObjects(t, "lake", "")
	got := map[string]string{}
	for _, o := range objs {
		i := strings.Index(o.Key, "lret-")
		if i < 0 {
			t.Fatalf("unexpected key %s", o.Key)
		}
		got[o.Key[:i]] += string(o.Body)
	}
	if want := map[string]string{"k=a/": string(young)}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("delivered %v, want %v", got, want)
	}
	if got := expired(); got != "10" {
		t.Fatalf("expired %s after delivery", got)
	}
}

// TestLakeLambdaConversionOnly: format conversion without dynamic
// partitioning converts what the function returns (CSV in, JSON out), under
// the plain prefix with its default time path.
func TestLakeLambdaConversionOnly(t *testing.T) {
	v := startVersity(t, "lake")
	cat := newCatalog(t, "web", "clicks", [][2]string{{"customer_id", "string"}, {"device", "string"}, {"ts", "timestamp"}, {"amount", "decimal(10,2)"}, {"pages", "array<string>"}})
	fns := newGoFunctions()
	arn := fns.named("csv", csvToClick)
	clock := &fakeClock{t: time.Date(2026, 3, 1, 7, 30, 0, 0, time.UTC)}
	srv := startServer(t, memstore.New(clock.Now), v.URL, func(o *firehose.Options) { o.Catalog, o.Lambda, o.Now = cat, fns, clock.Now })
	c := srv.Firehose()
	s3Stream(t, c, "conv", fhtypes.ExtendedS3DestinationConfiguration{
		BucketARN:                         aws.String("arn:aws:s3:::lake"),
		Prefix:                            aws.String("conv/"),
		BufferingHints:                    &fhtypes.BufferingHints{SizeInMBs: aws.Int32(64), IntervalInSeconds: aws.Int32(900)},
		ProcessingConfiguration:           &fhtypes.ProcessingConfiguration{Enabled: aws.Bool(true), Processors: []fhtypes.Processor{lambdaProcessor(arn)}},
		DataFormatConversionConfiguration: parquetConversion("web", "clicks"),
	})
	putBatch(t, c, "conv", [][]byte{[]byte("c1,web,1700000000,1.50,home"), []byte("drop-1"), []byte("c2,ios,1700000001,2.25,cart")})
	srv.flush("conv")
	objs := v.listObjects(t, "lake", "")
	if len(objs) != 1 || !strings.HasPrefix(objs[0].Key, "conv/2026/03/01/07/conv-") || !strings.HasSuffix(objs[0].Key, ".parquet") {
		t.Fatalf("objects %v", objs)
	}
	rows := readParquet(t, objs[0].Body)
	want := []clickRow{{customer: "c1", device: "web", amount: "1.50", pages: "home", tsMs: 1700000000000}, {customer: "c2", device: "ios", amount: "2.25", pages: "cart", tsMs: 1700000001000}}
	if fmt.Sprint(rows) != fmt.Sprint(want) {
		t.Fatalf("rows %+v, want %+v", rows, want)
	}
}
