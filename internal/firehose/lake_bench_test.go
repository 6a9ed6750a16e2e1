package firehose_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	fh "github.com/aws/aws-sdk-go-v2/service/firehose"
	fhtypes "github.com/aws/aws-sdk-go-v2/service/firehose/types"

	"github.com/eddy-streams/eddy/internal/firehose"
	"github.com/eddy-streams/eddy/internal/firehose/s3dest"
)

// lakeWorkload is one of the lake benchmarks' four stream configurations.
type lakeWorkload struct {
	name string
	keys int // distinct customer_id values (active partitions when partitioned)
	dest fhtypes.ExtendedS3DestinationConfiguration
}

func lakeWorkloads() []lakeWorkload {
	dp := fhtypes.ExtendedS3DestinationConfiguration{
		Prefix: aws.String("dp/c=!{partitionKeyFromQuery:c}/"), ErrorOutputPrefix: aws.String("dperr/!{firehose:error-output-type}/"),
		DynamicPartitioningConfiguration: &fhtypes.DynamicPartitioningConfiguration{Enabled: aws.Bool(true)},
		ProcessingConfiguration: &fhtypes.ProcessingConfiguration{Enabled: aws.Bool(true), Processors: []fhtypes.Processor{
			{Type: fhtypes.ProcessorTypeMetadataExtraction, Parameters: []fhtypes.ProcessorParameter{
				{ParameterName: "MetadataExtractionQuery", ParameterValue: aws.String("{c: .customer_id}")},
				{ParameterName: "JsonParsingEngine", ParameterValue: aws.String("JQ-1.6")}}}}},
	}
	return []lakeWorkload{
		{"plain", 1, fhtypes.ExtendedS3DestinationConfiguration{Prefix: aws.String("plain/")}},
		{"parquet", 1, fhtypes.ExtendedS3DestinationConfiguration{Prefix: aws.String("parquet/"),
			DataFormatConversionConfiguration: parquetConversion("web", "clicks")}},
		{"partitions-10", 10, dp},
		{"partitions-500", 500, dp},
	}
}

// lakeBench is a server with a Glue table and versitygw behind it.
type lakeBench struct {
	srv *server
	c   *fh.Client
	up  *s3dest.Uploader // straight to versitygw, as the ceiling
	seq int
}

func newLakeBench(b *testing.B) *lakeBench {
	v := startVersityWith(b, true, "lakebench") // --keep-alive, as one would run it for throughput
	cat := newCatalog(b, "web", "clicks", [][2]string{{"customer_id", "string"}, {"device", "string"}, {"ts", "timestamp"},
		{"amount", "decimal(10,2)"}, {"n", "bigint"}, {"page", "string"}})
	srv := startServer(b, nil, v.URL, func(o *firehose.Options) { o.Catalog = cat })
	return &lakeBench{srv: srv, c: srv.Firehose(), up: s3dest.NewUploader(s3dest.Endpoint{URL: v.URL, AccessKey: s3Key, SecretKey: s3Secret})}
}

// sdkPuts puts total bytes to versitygw as objects objects with the AWS
// SDK (Eddy's uploader, at most 64 at once as the lake loop does), each
// under its own prefix as partitions are, and returns how long that took:
// what any partitioned delivery of those bytes must spend at least.
func (l *lakeBench) sdkPuts(b *testing.B, round, objects, total int) time.Duration {
	body := make([]byte, total/objects)
	sem := make(chan struct{}, 64)
	var wg sync.WaitGroup
	start := time.Now()
	for i := 0; i < objects; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := l.up.Put(context.Background(), "lakebench", fmt.Sprintf("sdk%d/c=c%d/%d", objects, i, round), body, ""); err != nil {
				b.Error(err)
			}
		}()
	}
	wg.Wait()
	return time.Since(start)
}

// stream creates a fresh stream for w and returns its name.
func (l *lakeBench) stream(b *testing.B, w lakeWorkload) string {
	l.seq++
	name := fmt.Sprintf("%s-%d", w.name, l.seq)
	dest := w.dest
	dest.BucketARN = aws.String("arn:aws:s3:::lakebench")
	dest.BufferingHints = &fhtypes.BufferingHints{SizeInMBs: aws.Int32(64), IntervalInSeconds: aws.Int32(900)}
	s3Stream(b, l.c, name, dest)
	return name
}

// lakeBatch is one PutRecordBatch of 500 clickstream records (about 110
// bytes each) over keys customer_id values, and its size in bytes.
func lakeBatch(keys int) ([][]byte, int) {
	out := make([][]byte, 500)
	n := 0
	for i := range out {
		out[i] = []byte(fmt.Sprintf(`{"customer_id":"c%d","device":"ios","ts":%d,"amount":"%d.%02d","n":%d,"page":"/products/item-%d?ref=home"}`,
			i%keys, 1700000000+i, i, i%100, i, i))
		n += len(out[i])
	}
	return out, n
}

// BenchmarkLake measures delivered MB/s (JSON put per second, with every
// record delivered to versitygw by the end of the iteration loop) for
// plain delivery, Parquet conversion, and dynamic partitioning with 10 and
// 500 active partitions, one sub-benchmark after the other:
//
//	go test -run XXX -bench 'Lake$' -benchtime 300x ./internal/firehose/
//
// On a shared machine the load moves between sub-benchmarks; for ratios
// use BenchmarkLakeRatio.
func BenchmarkLake(b *testing.B) {
	l := newLakeBench(b)
	for _, w := range lakeWorkloads() {
		b.Run(w.name, func(b *testing.B) {
			name := l.stream(b, w)
			recs, n := lakeBatch(w.keys)
			b.SetBytes(int64(n))
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				putBatch(b, l.c, name, recs)
			}
			start := time.Now()
			l.srv.flush(name)
			b.ReportMetric(float64(time.Since(start).Milliseconds()), "flush-ms")
		})
	}
}

// BenchmarkLakeRatio runs BenchmarkLake's four workloads in turn, b.N
// rounds; in each round every workload puts 300 batches of 500 records
// into its own stream and flushes it (every partition is delivered, each
// as its own object). It reports each workload's delivered MB/s over all
// rounds and the ratios Parquet ÷ plain and 500 ÷ 10 partitions, overall
// and the lowest of any round: taking turns spreads a shared machine's
// load over the four alike, so the ratios compare like with like. Each
// round also puts the same bytes straight to versitygw with the AWS SDK as
// 10 and as 500 objects; p500/p10-ceiling is the best 500 ÷ 10 ratio any
// delivery could reach given that difference (the 10-partition time plus
// the extra time of 490 more PutObjects).
//
//	go test -run XXX -bench LakeRatio -benchtime 3x ./internal/firehose/
func BenchmarkLakeRatio(b *testing.B) {
	l := newLakeBench(b)
	ws := lakeWorkloads()
	names := make([]string, len(ws))
	batches := make([][][]byte, len(ws))
	var size int
	for i, w := range ws {
		names[i] = l.stream(b, w)
		batches[i], size = lakeBatch(w.keys)
	}
	const puts = 300
	total := make([]time.Duration, len(ws))
	var pqRatios, dpRatios, ceilings []float64
	var sdkTotal [2]time.Duration
	b.ResetTimer()
	for r := 0; r < b.N; r++ {
		round := make([]time.Duration, len(ws))
		for k := range ws {
			i := (k + r) % len(ws) // rotate who goes first
			start := time.Now()
			for j := 0; j < puts; j++ {
				putBatch(b, l.c, names[i], batches[i])
			}
			l.srv.flush(names[i])
			round[i] = time.Since(start)
			total[i] += round[i]
		}
		pqRatios = append(pqRatios, float64(round[0])/float64(round[1]))
		dpRatios = append(dpRatios, float64(round[2])/float64(round[3]))
		// The ceiling: the 10-partition round plus the extra time 500
		// objects instead of 10 take on their own.
		sdk10, sdk500 := l.sdkPuts(b, r, 10, size*puts), l.sdkPuts(b, r, 500, size*puts)
		sdkTotal[0] += sdk10
		sdkTotal[1] += sdk500
		ceilings = append(ceilings, float64(round[2])/float64(round[2]+max(sdk500-sdk10, 0)))
	}
	b.StopTimer()
	mbps := func(d time.Duration) float64 { return float64(size*puts*b.N) / 1e6 / d.Seconds() }
	for i, w := range ws {
		b.ReportMetric(mbps(total[i]), w.name+"-MB/s")
	}
	b.ReportMetric(float64(total[0])/float64(total[1]), "parquet/plain")
	b.ReportMetric(slices.Min(pqRatios), "parquet/plain-min")
	b.ReportMetric(float64(total[2])/float64(total[3]), "p500/p10")
	b.ReportMetric(slices.Min(dpRatios), "p500/p10-min")
	b.ReportMetric(float64(sdkTotal[0].Milliseconds())/float64(b.N), "sdk-10-objects-ms")
	b.ReportMetric(float64(sdkTotal[1].Milliseconds())/float64(b.N), "sdk-500-objects-ms")
	b.ReportMetric(float64(total[2])/float64(total[2]+max(sdkTotal[1]-sdkTotal[0], 0)), "p500/p10-ceiling")
	b.ReportMetric(slices.Min(ceilings), "p500/p10-ceiling-min")
}
