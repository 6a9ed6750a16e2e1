package firehose_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	fh "github.com/aws/aws-sdk-go-v2/service/firehose"
	fhtypes "github.com/aws/aws-sdk-go-v2/service/firehose/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/eddy-streams/eddy/internal/firehose"
)

// backupRuns checks that every backup body is a run of consecutive source
// records, byte for byte, and counts how often each record was backed up.
func backupRuns(t *testing.T, bodies [][]byte, src [][]byte) []int {
	t.Helper()
	at := map[string]int{}
	for i, r := range src {
		at[string(r)] = i
	}
	counts := make([]int, len(src))
	for n, body := range bodies {
		// Find the source record the body starts with (records are unique
		// and none is a prefix of another).
		start := -1
		for i, r := range src {
			if bytes.HasPrefix(body, r) {
				start = i
				break
			}
		}
		if start < 0 {
			t.Fatalf("backup object %d does not start with a source record: %.80q", n, body)
		}
		for i := start; len(body) > 0; i++ {
			if i >= len(src) || !bytes.HasPrefix(body, src[i]) {
				t.Fatalf("backup object %d: after %d records the bytes are not source record %d: %.80q", n, i-start, i, body)
			}
			counts[i]++
			body = body[len(src[i]):]
		}
	}
	return counts
}

// TestLakeBackupParquet: a partitioned, Parquet-converting stream with
// S3BackupMode Enabled backs up every source record as it arrived (before
// de-aggregation, partitioning and conversion), including the records that
// went to the error outputs, with the backup configuration's own buffering
// hints, prefix and compression; partition keys are refused in the backup
// prefix and the backup cannot be disabled.
func TestLakeBackupParquet(t *testing.T) {
	v := startVersity(t, "lake", "bak")
	cat := newCatalog(t, "web", "clicks", [][2]string{{"customer_id", "string"}, {"device", "string"}, {"ts", "timestamp"}, {"amount", "decimal(10,2)"}, {"pages", "array<string>"}})
	srv := startServer(t, nil, v.URL, func(o *firehose.Options) { o.Catalog = cat })
	c := srv.Firehose()
	dest := fhtypes.ExtendedS3DestinationConfiguration{
		RoleARN:                           aws.String("arn:aws:iam::000000000000:role/f"),
		BucketARN:                         aws.String("arn:aws:s3:::lake"),
		Prefix:                            aws.String("customer_id=!{partitionKeyFromQuery:customer_id}/dt=!{partitionKeyFromQuery:dt}/"),
		ErrorOutputPrefix:                 aws.String("errors/!{firehose:error-output-type}/"),
		BufferingHints:                    &fhtypes.BufferingHints{SizeInMBs: aws.Int32(64), IntervalInSeconds: aws.Int32(900)},
		DynamicPartitioningConfiguration:  &fhtypes.DynamicPartitioningConfiguration{Enabled: aws.Bool(true)},
		ProcessingConfiguration:           lakeProcessors(`{customer_id: .customer_id, dt: (.ts | strftime("%Y-%m-%d"))}`),
		DataFormatConversionConfiguration: parquetConversion("web", "clicks"),
		S3BackupMode:                      fhtypes.S3BackupModeEnabled,
		S3BackupConfiguration: &fhtypes.S3DestinationConfiguration{
			RoleARN: aws.String("arn:aws:iam::000000000000:role/f"), BucketARN: aws.String("arn:aws:s3:::bak"),
			Prefix:            aws.String("source/!{partitionKeyFromQuery:customer_id}/"),
			BufferingHints:    &fhtypes.BufferingHints{SizeInMBs: aws.Int32(1), IntervalInSeconds: aws.Int32(900)},
			CompressionFormat: fhtypes.CompressionFormatGzip,
		},
	}
	_, err := c.CreateDeliveryStream(context.Background(), &fh.CreateDeliveryStreamInput{DeliveryStreamName: aws.String("clicks"), ExtendedS3DestinationConfiguration: &dest})
	if err == nil || !strings.Contains(err.Error(), "InvalidArgumentException") || !strings.Contains(err.Error(), "requires dynamic partitioning") {
		t.Fatalf("partition key in the backup prefix: %v", err)
	}
	dest.S3BackupConfiguration.Prefix = aws.String("source/")
	s3Stream(t, c, "clicks", dest)

	type ev struct {
		Customer string   `json:"customer_id"`
		TS       int64    `json:"ts"`
		Amount   string   `json:"amount"`
		Pages    []string `json:"pages"`
	}
	var src [][]byte
	wantRows := map[string]int{}
	pad := strings.Repeat("p", 300)
	for i := 0; i < 2000; i++ {
		var agg []byte
		for j := 0; j < 2; j++ {
			n := i*2 + j
			e := ev{Customer: fmt.Sprintf("c%d", n%3), TS: 1700000000 + int64(n%2)*86400, Amount: fmt.Sprintf("%d.%02d", n%1000, n%100), Pages: []string{pad, fmt.Sprint(n)}}
			b, _ := json.Marshal(e)
			agg = append(agg, b...)
			wantRows[fmt.Sprintf("customer_id=%s/dt=%s/", e.Customer, map[int64]string{0: "2023-11-14", 1: "2023-11-15"}[int64(n%2)])]++
		}
		src = append(src, agg)
	}
	src = append(src, []byte(`not json`), []byte(`{"customer_id":"c0","ts":1700000000,"amount":"lots"}`), []byte(`{"ts":1}`))
	for i := 0; i < len(src); i += 400 {
		putBatch(t, c, "clicks", src[i:min(i+400, len(src))])
	}
	// 1.4 MB of source records: the backup's 1 MiB hint is reached (its
	// first object is written) while the partitions' 64 MiB / 900 s hold.
	waitFor(t, 20*time.Second, "the first backup object", func() bool { return len(v.listObjects(t, "bak", "")) > 0 })
	if objs := v.listObjects(t, "lake", "customer_id="); len(objs) != 0 {
		t.Fatalf("partitions delivered before their hints: %d objects", len(objs))
	}
	srv.flush("clicks")

	keyRE := regexp.MustCompile(`^source/\d{4}/\d{2}/\d{2}/\d{2}/clicks-1-\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}-[0-9a-f-]{36}\.gz$`)
	var bodies [][]byte
	for _, o := range v.listObjects(t, "bak", "") {
		if !keyRE.MatchString(o.Key) || o.ContentEncoding != "gzip" {
			t.Fatalf("backup object %s (Content-Encoding %q)", o.Key, o.ContentEncoding)
		}
		b, err := decompressGzip(o.Body)
		if err != nil {
			t.Fatalf("%s: %v", o.Key, err)
		}
		bodies = append(bodies, b)
	}
	if len(bodies) < 2 {
		t.Fatalf("%d backup objects, want at least 2 (1 MiB hint)", len(bodies))
	}
	for i, n := range backupRuns(t, bodies, src) {
		if n != 1 {
			t.Fatalf("source record %d (%.40q) backed up %d times", i, src[i], n)
		}
	}
	if got := metricValue(t, srv.fh, "eddy_firehose_backup_to_s3_records_total", "clicks"); got != fmt.Sprint(len(src)) {
		t.Fatalf("backup records metric %s, want %d", got, len(src))
	}

	// The partitions and error outputs are as without the backup.
	gotRows := map[string]int{}
	var part, conv int
	for _, o := range v.listObjects(t, "lake", "") {
		switch {
		case strings.HasPrefix(o.Key, "errors/partitioning-failed/"):
			part += bytes.Count(o.Body, []byte("\n"))
		case strings.HasPrefix(o.Key, "errors/format-conversion-failed/"):
			conv += bytes.Count(o.Body, []byte("\n"))
		case strings.HasSuffix(o.Key, ".parquet"):
			gotRows[o.Key[:strings.Index(o.Key, "clicks-")]] += len(readParquet(t, o.Body))
		default:
			t.Fatalf("unexpected object %s", o.Key)
		}
	}
	if fmt.Sprint(gotRows) != fmt.Sprint(wantRows) || part != 2 || conv != 1 {
		t.Fatalf("rows %v, want %v; partitioning-failed %d, format-conversion-failed %d", gotRows, wantRows, part, conv)
	}

	// Once enabled, the backup cannot be disabled.
	d, err := c.DescribeDeliveryStream(context.Background(), &fh.DescribeDeliveryStreamInput{DeliveryStreamName: aws.String("clicks")})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.UpdateDestination(context.Background(), &fh.UpdateDestinationInput{DeliveryStreamName: aws.String("clicks"),
		CurrentDeliveryStreamVersionId: d.DeliveryStreamDescription.VersionId, DestinationId: d.DeliveryStreamDescription.Destinations[0].DestinationId,
		ExtendedS3DestinationUpdate: &fhtypes.ExtendedS3DestinationUpdate{S3BackupMode: fhtypes.S3BackupModeDisabled}})
	if err == nil || !strings.Contains(err.Error(), "S3 backup cannot be disabled once it is enabled.") {
		t.Fatalf("disabling the backup: %v", err)
	}
}

// TestLakeBackupKill SIGKILLs a real Eddy process (TestCrashChild) while
// producers put records into a partitioned stream with the S3 backup on,
// restarts it on the same data directory and checks that every
// acknowledged record reaches both its partition and the backup. In
// "partitions-behind" the partitions hold everything (900 s) while the
// backup writes every second; in "backup-behind" it is the other way
// round: each side resumes from its own checkpoint. The "plain" cases do
// the same with a non-partitioned stream (deliver.go's loop, whose backup
// is the same reader with its own hints).
func TestLakeBackupKill(t *testing.T) {
	if testing.Short() {
		t.Skip("kills and restarts a process twice")
	}
	for _, mode := range []string{"partitions-behind", "backup-behind", "plain/primary-behind", "plain/backup-behind"} {
		t.Run(mode, func(t *testing.T) {
			plain := strings.HasPrefix(mode, "plain/")
			v := startVersity(t, "lkb", "bkb")
			dir := t.TempDir()
			partHint, backupHint := int32(900), int32(1)
			if strings.HasSuffix(mode, "backup-behind") {
				partHint, backupHint = 1, 900
			}
			cmd, url := startCrashChild(t, dir, v.URL)
			client := func(url string) *fh.Client {
				return fh.NewFromConfig(aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(url),
					Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""), RetryMaxAttempts: 1})
			}
			c := client(url)
			dest := fhtypes.ExtendedS3DestinationConfiguration{
				BucketARN: aws.String("arn:aws:s3:::lkb"), Prefix: aws.String("p/k=!{partitionKeyFromQuery:k}/"),
				ErrorOutputPrefix:                aws.String("e/!{firehose:error-output-type}/"),
				BufferingHints:                   &fhtypes.BufferingHints{SizeInMBs: aws.Int32(128), IntervalInSeconds: aws.Int32(partHint)},
				DynamicPartitioningConfiguration: &fhtypes.DynamicPartitioningConfiguration{Enabled: aws.Bool(true)},
				ProcessingConfiguration: &fhtypes.ProcessingConfiguration{Enabled: aws.Bool(true), Processors: []fhtypes.Processor{{Type: fhtypes.ProcessorTypeMetadataExtraction,
					Parameters: []fhtypes.ProcessorParameter{{ParameterName: "MetadataExtractionQuery", ParameterValue: aws.String("{k: .k}")},
						{ParameterName: "JsonParsingEngine", ParameterValue: aws.String("JQ-1.6")}}}}},
				S3BackupMode: fhtypes.S3BackupModeEnabled,
				S3BackupConfiguration: &fhtypes.S3DestinationConfiguration{RoleARN: aws.String("arn:aws:iam::000000000000:role/f"),
					BucketARN: aws.String("arn:aws:s3:::bkb"), Prefix: aws.String("b/"),
					BufferingHints: &fhtypes.BufferingHints{SizeInMBs: aws.Int32(128), IntervalInSeconds: aws.Int32(backupHint)}},
			}
			if plain {
				dest.Prefix, dest.ErrorOutputPrefix, dest.DynamicPartitioningConfiguration, dest.ProcessingConfiguration = aws.String("p/"), nil, nil, nil
			}
			s3Stream(t, c, "kb", dest)

			var mu sync.Mutex
			acked := map[string]bool{}
			var wg sync.WaitGroup
			for p := 0; p < 2; p++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for b := 0; ; b++ {
						in := &fh.PutRecordBatchInput{DeliveryStreamName: aws.String("kb")}
						for i := 0; i < 100; i++ {
							in.Records = append(in.Records, fhtypes.Record{Data: []byte(fmt.Sprintf(`{"k":"k%d","r":"p%d-%06d","x":"%s"}`+"\n", i%7, p, b*100+i, strings.Repeat("x", 150)))})
						}
						out, err := c.PutRecordBatch(context.Background(), in)
						if err != nil {
							return // the server is gone
						}
						mu.Lock()
						for i, r := range out.RequestResponses {
							if r.ErrorCode == nil {
								acked[string(in.Records[i].Data)] = true
							}
						}
						mu.Unlock()
					}
				}()
			}
			ahead := "bkb" // the side that writes before the kill
			if strings.HasSuffix(mode, "backup-behind") {
				ahead = "lkb"
			}
			waitFor(t, 30*time.Second, "load and deliveries on the side that is ahead", func() bool {
				mu.Lock()
				n := len(acked)
				mu.Unlock()
				return n >= 15000 && len(v.listObjects(t, ahead, "")) > 1
			})
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			_ = cmd.Wait()
			wg.Wait()

			cmd, url = startCrashChild(t, dir, v.URL)
			t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
			c = client(url)
			d, err := c.DescribeDeliveryStream(context.Background(), &fh.DescribeDeliveryStreamInput{DeliveryStreamName: aws.String("kb")})
			if err != nil {
				t.Fatal(err)
			}
			zero := &fhtypes.BufferingHints{SizeInMBs: aws.Int32(128), IntervalInSeconds: aws.Int32(0)}
			if _, err := c.UpdateDestination(context.Background(), &fh.UpdateDestinationInput{DeliveryStreamName: aws.String("kb"),
				CurrentDeliveryStreamVersionId: d.DeliveryStreamDescription.VersionId, DestinationId: d.DeliveryStreamDescription.Destinations[0].DestinationId,
				ExtendedS3DestinationUpdate: &fhtypes.ExtendedS3DestinationUpdate{BufferingHints: zero, S3BackupUpdate: &fhtypes.S3DestinationUpdate{BufferingHints: zero}}}); err != nil {
				t.Fatal(err)
			}
			lines := func(bucket, prefix string) map[string]int {
				got := map[string]int{}
				for _, o := range v.listObjects(t, bucket, prefix) {
					for _, l := range bytes.SplitAfter(o.Body, []byte("\n")) {
						if len(l) == 0 {
							continue
						}
						if !bytes.HasSuffix(l, []byte("\n")) || !json.Valid(l) {
							t.Fatalf("%s/%s holds a partial record %.60q", bucket, o.Key, l)
						}
						if bucket == "lkb" && !plain && !strings.Contains(string(l), `"k":"`+o.Key[len("p/k="):strings.Index(o.Key, "/kb-")]+`"`) {
							t.Fatalf("record %.30q in partition %s", l, o.Key)
						}
						got[string(l)]++
					}
				}
				return got
			}
			var backup, parts map[string]int
			waitFor(t, 60*time.Second, "every acknowledged record in the backup and in its partition", func() bool {
				backup, parts = lines("bkb", "b/"), lines("lkb", "p/")
				for r := range acked {
					if backup[r] == 0 || parts[r] == 0 {
						return false
					}
				}
				return true
			})
			if errs := v.listObjects(t, "lkb", "e/"); len(errs) != 0 {
				t.Fatalf("error outputs: %s", errs[0].Key)
			}
			dup := func(m map[string]int) (n int) {
				for _, c := range m {
					n += c - 1
				}
				return n
			}
			t.Logf("%d acknowledged; backup %d distinct (%d again), partitions %d distinct (%d again)", len(acked), len(backup), dup(backup), len(parts), dup(parts))
		})
	}
}

// startCrashChild starts TestCrashChild (crash_test.go) on dir and returns
// the process and its URL.
func startCrashChild(t *testing.T, dir, s3url string) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.timeout=10m")
	cmd.Env = append(os.Environ(), "EDDY_FH_CRASH_DIR="+dir, "EDDY_FH_CRASH_S3="+s3url)
	cmd.SysProcAttr = childAttr()
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if u, ok := strings.CutPrefix(sc.Text(), "URL "); ok {
			go func() { // keep draining
				for sc.Scan() {
				}
			}()
			return cmd, u
		}
	}
	t.Fatalf("child exited before serving: %v", sc.Err())
	return nil, ""
}

// TestLakeBackupLambda: with a Lambda processor (and DELIMITED
// de-aggregation, partition keys from the function, Parquet), the backup
// holds the records as they were put, not as the function returned them:
// dropped, failed and key-less records included.
func TestLakeBackupLambda(t *testing.T) {
	v := startVersity(t, "lake")
	cat := newCatalog(t, "web", "clicks", [][2]string{{"customer_id", "string"}, {"device", "string"}, {"ts", "timestamp"}, {"amount", "decimal(10,2)"}, {"pages", "array<string>"}})
	fns := newGoFunctions()
	arn := fns.named("csv", csvToClick)
	srv := startServer(t, nil, v.URL, func(o *firehose.Options) { o.Catalog, o.Lambda = cat, fns })
	c := srv.Firehose()
	proc := lakeProcessors(`{device: .device}`, lambdaProcessor(arn, "NumberOfRetries", "1"))
	proc.Processors[0].Parameters = []fhtypes.ProcessorParameter{
		{ParameterName: "SubRecordType", ParameterValue: aws.String("DELIMITED")}, {ParameterName: "Delimiter", ParameterValue: aws.String("Ow==")}} // ";"
	s3Stream(t, c, "lb", fhtypes.ExtendedS3DestinationConfiguration{
		BucketARN:                         aws.String("arn:aws:s3:::lake"),
		Prefix:                            aws.String("customer=!{partitionKeyFromLambda:customer}/device=!{partitionKeyFromQuery:device}/"),
		ErrorOutputPrefix:                 aws.String("errors/!{firehose:error-output-type}/"),
		BufferingHints:                    &fhtypes.BufferingHints{SizeInMBs: aws.Int32(64), IntervalInSeconds: aws.Int32(900)},
		DynamicPartitioningConfiguration:  &fhtypes.DynamicPartitioningConfiguration{Enabled: aws.Bool(true)},
		ProcessingConfiguration:           proc,
		DataFormatConversionConfiguration: parquetConversion("web", "clicks"),
		S3BackupMode:                      fhtypes.S3BackupModeEnabled,
		S3BackupConfiguration: &fhtypes.S3DestinationConfiguration{RoleARN: aws.String("arn:aws:iam::000000000000:role/f"),
			BucketARN: aws.String("arn:aws:s3:::lake"), Prefix: aws.String("src-!{timestamp:yyyy}/")},
	})
	var batch [][]byte
	for i := 0; i < 30; i++ {
		batch = append(batch, []byte(fmt.Sprintf("c%d,mobile,1700000000,%d.00,p%d;drop-%d;fail-%d", i%3, i, i, i, i)))
	}
	batch = append(batch, []byte("nokeyc9,mobile,1700000000,1.00,p"), []byte("c1,desktop,1700000000,lots,p"))
	putBatch(t, c, "lb", batch)
	srv.flush("lb")

	bak := v.listObjects(t, "lake", "src-")
	if len(bak) != 1 || !regexp.MustCompile(`^src-\d{4}/lb-1-\d{4}(-\d{2}){5}-[0-9a-f-]{36}$`).MatchString(bak[0].Key) {
		t.Fatalf("backup objects: %v", bak)
	}
	if !bytes.Equal(bak[0].Body, bytes.Join(batch, nil)) {
		t.Fatalf("backup body %.100q, want the records as put", bak[0].Body)
	}
	var parquets, failed int
	for _, o := range v.listObjects(t, "lake", "") {
		switch {
		case strings.HasSuffix(o.Key, ".parquet"):
			parquets++
		case strings.HasPrefix(o.Key, "errors/processing-failed/"):
			failed += bytes.Count(o.Body, []byte("\n"))
		}
	}
	if parquets != 3 || failed != 30 {
		t.Fatalf("%d Parquet objects (want 3), %d processing-failed records (want 30)", parquets, failed)
	}
	if got := metricValue(t, srv.fh, "eddy_firehose_backup_to_s3_records_total", "lb"); got != fmt.Sprint(len(batch)) {
		t.Fatalf("backup records metric %s, want %d", got, len(batch))
	}
}

// BenchmarkLakeBackup measures delivered MB/s of a stream partitioned by
// a JQ key (10 partitions) without and with the S3 backup, in one run so
// the ratio compares like with like (the backup has the same 64 MiB /
// 900 s hints; everything is in S3 by the end of each iteration loop):
//
//	go test -run XXX -bench LakeBackup -benchtime 200x ./internal/firehose/
func BenchmarkLakeBackup(b *testing.B) {
	v := startVersity(b, "lakebench")
	srv := startServer(b, nil, v.URL)
	c := srv.Firehose()
	recs := make([][]byte, 500)
	n := 0
	for i := range recs {
		recs[i] = []byte(fmt.Sprintf(`{"customer_id":"c%d","device":"ios","ts":%d,"amount":"%d.%02d","n":%d,"page":"/products/item-%d?ref=home"}`,
			i%10, 1700000000+i, i, i%100, i, i))
		n += len(recs[i])
	}
	hints := &fhtypes.BufferingHints{SizeInMBs: aws.Int32(64), IntervalInSeconds: aws.Int32(900)}
	seq := 0
	run := func(b *testing.B, backup bool) {
		seq++
		name := fmt.Sprintf("bk%d", seq)
		dest := fhtypes.ExtendedS3DestinationConfiguration{
			BucketARN: aws.String("arn:aws:s3:::lakebench"), BufferingHints: hints,
			Prefix: aws.String(name + "/c=!{partitionKeyFromQuery:c}/"), ErrorOutputPrefix: aws.String(name + "err/!{firehose:error-output-type}/"),
			DynamicPartitioningConfiguration: &fhtypes.DynamicPartitioningConfiguration{Enabled: aws.Bool(true)},
			ProcessingConfiguration: &fhtypes.ProcessingConfiguration{Enabled: aws.Bool(true), Processors: []fhtypes.Processor{
				{Type: fhtypes.ProcessorTypeMetadataExtraction, Parameters: []fhtypes.ProcessorParameter{
					{ParameterName: "MetadataExtractionQuery", ParameterValue: aws.String("{c: .customer_id}")},
					{ParameterName: "JsonParsingEngine", ParameterValue: aws.String("JQ-1.6")}}}}},
		}
		if backup {
			dest.S3BackupMode = fhtypes.S3BackupModeEnabled
			dest.S3BackupConfiguration = &fhtypes.S3DestinationConfiguration{RoleARN: aws.String("arn:aws:iam::000000000000:role/f"),
				BucketARN: aws.String("arn:aws:s3:::lakebench"), Prefix: aws.String(name + "src/"), BufferingHints: hints}
		}
		s3Stream(b, c, name, dest)
		b.SetBytes(int64(n))
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			putBatch(b, c, name, recs)
		}
		srv.flush(name)
	}
	b.Run("partitions-10", func(b *testing.B) { run(b, false) })
	b.Run("partitions-10-backup", func(b *testing.B) { run(b, true) })
}

// TestLakeBackupOutage: the backup bucket is missing while the partitions
// deliver. The partitions are not held back, the backup retries on its
// own, and across a restart the backup's records stay in the buffer log
// (the checkpoint waits for the backup) while the partitions are not
// written again; once the bucket exists every record is backed up once.
func TestLakeBackupOutage(t *testing.T) {
	v := startVersity(t, "lake")
	dir := t.TempDir()
	be := openLogstore(t, dir)
	srv := startServer(t, be, v.URL)
	c := srv.Firehose()
	zero := &fhtypes.BufferingHints{SizeInMBs: aws.Int32(1), IntervalInSeconds: aws.Int32(0)}
	s3Stream(t, c, "out", fhtypes.ExtendedS3DestinationConfiguration{
		BucketARN: aws.String("arn:aws:s3:::lake"), Prefix: aws.String("p/k=!{partitionKeyFromQuery:k}/"),
		ErrorOutputPrefix:                aws.String("e/!{firehose:error-output-type}/"),
		BufferingHints:                   &fhtypes.BufferingHints{SizeInMBs: aws.Int32(64), IntervalInSeconds: aws.Int32(0)},
		DynamicPartitioningConfiguration: &fhtypes.DynamicPartitioningConfiguration{Enabled: aws.Bool(true)},
		ProcessingConfiguration: &fhtypes.ProcessingConfiguration{Enabled: aws.Bool(true), Processors: []fhtypes.Processor{{Type: fhtypes.ProcessorTypeMetadataExtraction,
			Parameters: []fhtypes.ProcessorParameter{{ParameterName: "MetadataExtractionQuery", ParameterValue: aws.String("{k: .k}")},
				{ParameterName: "JsonParsingEngine", ParameterValue: aws.String("JQ-1.6")}}}}},
		S3BackupMode: fhtypes.S3BackupModeEnabled,
		S3BackupConfiguration: &fhtypes.S3DestinationConfiguration{RoleARN: aws.String("arn:aws:iam::000000000000:role/f"),
			BucketARN: aws.String("arn:aws:s3:::later"), BufferingHints: zero},
	})
	var src [][]byte
	for i := 0; i < 200; i++ {
		src = append(src, []byte(fmt.Sprintf(`{"k":"k%d","i":%d}`+"\n", i%4, i)))
	}
	putBatch(t, c, "out", src[:100])
	partLines := func() map[string]int {
		got := map[string]int{}
		for _, o := range v.listObjects(t, "lake", "p/") {
			for _, l := range bytes.SplitAfter(o.Body, []byte("\n")) {
				if len(l) > 0 {
					got[string(l)]++
				}
			}
		}
		return got
	}
	waitFor(t, 20*time.Second, "the partitions, with the backup bucket missing", func() bool { return len(partLines()) == 100 })
	waitFor(t, 20*time.Second, "failed backup attempts", func() bool {
		return metricValue(t, srv.fh, "eddy_firehose_backup_to_s3_records_total", "out") == "0" &&
			metricValue(t, srv.fh, "eddy_firehose_delivery_to_s3_failures_total", "out") != "0"
	})

	srv.Close()
	if err := be.Close(); err != nil {
		t.Fatal(err)
	}
	be = openLogstore(t, dir)
	t.Cleanup(func() { be.Close() })
	srv = startServer(t, be, v.URL)
	c = srv.Firehose()
	putBatch(t, c, "out", src[100:])
	waitFor(t, 20*time.Second, "the second half in the partitions", func() bool { return len(partLines()) == 200 })
	if _, err := v.Client().CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String("later")}); err != nil {
		t.Fatal(err)
	}
	srv.flush("out")
	var bodies [][]byte
	for _, o := range v.listObjects(t, "later", "") {
		bodies = append(bodies, o.Body)
	}
	for i, n := range backupRuns(t, bodies, src) {
		if n != 1 {
			t.Fatalf("record %d backed up %d times", i, n)
		}
	}
	for r, n := range partLines() {
		if n != 1 {
			t.Fatalf("record %q delivered to its partition %d times", r, n)
		}
	}
}
