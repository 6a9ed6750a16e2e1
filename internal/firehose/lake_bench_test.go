package firehose_test

import (
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	fhtypes "github.com/aws/aws-sdk-go-v2/service/firehose/types"

	"github.com/eddy-streams/eddy/internal/firehose"
)

// BenchmarkLake measures delivered MB/s (JSON put per second, with every
// record delivered to versitygw by the end of the iteration loop) for
// plain delivery, Parquet conversion, and dynamic partitioning with 10 and
// 500 active partitions, in one run so the ratios compare like with like:
//
//	go test -run XXX -bench Lake -benchtime 200x ./internal/firehose/
func BenchmarkLake(b *testing.B) {
	v := startVersity(b, "lakebench")
	cat := newCatalog(b, "web", "clicks", [][2]string{{"customer_id", "string"}, {"device", "string"}, {"ts", "timestamp"},
		{"amount", "decimal(10,2)"}, {"n", "bigint"}, {"page", "string"}})
	srv := startServer(b, nil, v.URL, func(o *firehose.Options) { o.Catalog = cat })
	c := srv.Firehose()
	batch := func(keys int) [][]byte {
		out := make([][]byte, 500)
		for i := range out {
			out[i] = []byte(fmt.Sprintf(`{"customer_id":"c%d","device":"ios","ts":%d,"amount":"%d.%02d","n":%d,"page":"/products/item-%d?ref=home"}`,
				i%keys, 1700000000+i, i, i%100, i, i))
		}
		return out
	}
	run := func(b *testing.B, name string, keys int, dest fhtypes.ExtendedS3DestinationConfiguration) {
		dest.BucketARN = aws.String("arn:aws:s3:::lakebench")
		dest.BufferingHints = &fhtypes.BufferingHints{SizeInMBs: aws.Int32(64), IntervalInSeconds: aws.Int32(900)}
		s3Stream(b, c, name, dest)
		recs := batch(keys)
		n := 0
		for _, r := range recs {
			n += len(r)
		}
		b.SetBytes(int64(n))
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			putBatch(b, c, name, recs)
		}
		srv.flush(name)
	}
	dp := func(keys int) fhtypes.ExtendedS3DestinationConfiguration {
		return fhtypes.ExtendedS3DestinationConfiguration{
			Prefix: aws.String("dp/c=!{partitionKeyFromQuery:c}/"), ErrorOutputPrefix: aws.String("dperr/!{firehose:error-output-type}/"),
			DynamicPartitioningConfiguration: &fhtypes.DynamicPartitioningConfiguration{Enabled: aws.Bool(true)},
			ProcessingConfiguration: &fhtypes.ProcessingConfiguration{Enabled: aws.Bool(true), Processors: []fhtypes.Processor{
				{Type: fhtypes.ProcessorTypeMetadataExtraction, Parameters: []fhtypes.ProcessorParameter{
					{ParameterName: "MetadataExtractionQuery", ParameterValue: aws.String("{c: .customer_id}")},
					{ParameterName: "JsonParsingEngine", ParameterValue: aws.String("JQ-1.6")}}}}},
		}
	}
	seq := 0
	name := func(s string) string { seq++; return fmt.Sprintf("%s%d", s, seq) }
	b.Run("plain", func(b *testing.B) {
		run(b, name("plain"), 1, fhtypes.ExtendedS3DestinationConfiguration{Prefix: aws.String("plain/")})
	})
	b.Run("parquet", func(b *testing.B) {
		run(b, name("parquet"), 1, fhtypes.ExtendedS3DestinationConfiguration{Prefix: aws.String("parquet/"),
			DataFormatConversionConfiguration: parquetConversion("web", "clicks")})
	})
	b.Run("partitions-10", func(b *testing.B) { run(b, name("dp10-"), 10, dp(10)) })
	b.Run("partitions-500", func(b *testing.B) { run(b, name("dp500-"), 500, dp(500)) })
}
