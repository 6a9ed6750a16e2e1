package convert

import (
	"fmt"
	"testing"
)

// BenchmarkConvert converts clickstream JSON (≈ 200 bytes a record) to
// SNAPPY Parquet on one goroutine; MB/s is JSON input per second per core:
//
//	go test -run XXX -bench Convert -cpu 1 ./internal/firehose/convert/
func BenchmarkConvert(b *testing.B) {
	cols := []Column{{"customer_id", "string"}, {"device", "string"}, {"ts", "timestamp"}, {"amount", "decimal(10,2)"},
		{"n", "bigint"}, {"page", "string"}, {"tags", "array<string>"}}
	c, err := NewConverter(cols, Deserializer{CaseInsensitive: true}, ParquetOptions{Compression: "SNAPPY", Dictionary: true, BlockSize: 128 << 20})
	if err != nil {
		b.Fatal(err)
	}
	recs := make([][]byte, 10000)
	total := 0
	for i := range recs {
		recs[i] = []byte(fmt.Sprintf(`{"customer_id":"c%d","device":"%s","ts":%d,"amount":"%d.%02d","n":%d,"page":"/products/item-%d?ref=home","tags":["a%d","b"]}`,
			i%50, []string{"ios", "android", "web"}[i%3], 1700000000+i, i, i%100, i, i%997, i%7))
		total += len(recs[i])
	}
	b.SetBytes(int64(total))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, rows, _, err := c.Convert(recs); err != nil || rows != len(recs) {
			b.Fatal(rows, err)
		}
	}
}
