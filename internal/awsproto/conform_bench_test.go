package awsproto

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
)

type putRecordShape struct {
	StreamName   *string `json:"StreamName"`
	PartitionKey *string `json:"PartitionKey"`
	Data         []byte  `json:"Data"`
}

func benchDecode(b *testing.B, size int, strictOnly bool) {
	body := []byte(`{"StreamName":"s","PartitionKey":"k","Data":"` + base64.StdEncoding.EncodeToString([]byte(strings.Repeat("x", size))) + `"}`)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		var v putRecordShape
		var err error
		if strictOnly {
			err = json.Unmarshal(body, &v)
		} else {
			err = Decode(JSON, body, &v)
		}
		if err != nil || len(v.Data) != size {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodePutRecord compares Decode (strict decode + AWS's type
// check) with the strict decode alone.
func BenchmarkDecodePutRecord(b *testing.B) {
	for _, size := range []int{1 << 10, 1 << 20} {
		name := map[int]string{1 << 10: "1KiB", 1 << 20: "1MiB"}[size]
		b.Run(name+"/decode", func(b *testing.B) { benchDecode(b, size, false) })
		b.Run(name+"/strict-only", func(b *testing.B) { benchDecode(b, size, true) })
	}
}
