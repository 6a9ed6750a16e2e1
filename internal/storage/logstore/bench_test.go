package logstore_test

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eddy-streams/eddy/internal/storage"
	"github.com/eddy-streams/eddy/internal/storage/logstore"
)

// BenchmarkAppend measures append throughput on the real disk: 8 writers
// over 4 shards, per durability mode, record size and batch size.
//
//	go test -run XXX -bench Append -benchtime 2s ./internal/storage/logstore/
func BenchmarkAppend(b *testing.B) {
	for _, mode := range []logstore.Mode{logstore.Always, logstore.Interval, logstore.None} {
		for _, size := range []int{100, 1024} {
			for _, per := range []int{1, 500} {
				b.Run(fmt.Sprintf("%v/%dB/batch%d", mode, size, per), func(b *testing.B) {
					benchAppend(b, mode, size, per, 8, 4)
				})
			}
		}
	}
}

func benchAppend(b *testing.B, mode logstore.Mode, size, per, writers, shards int) {
	st, err := logstore.Open(b.TempDir(), logstore.Options{Durability: mode, Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	for i := range shards {
		st.CreateShard(bg, storage.ShardID{Stream: "bench", Index: uint32(i)}, 0)
	}
	recs := make([]storage.Record, per)
	for i := range recs {
		recs[i] = storage.Record{PartitionKey: "partition-key-" + strconv.Itoa(i), Data: make([]byte, size)}
	}
	var next atomic.Int64
	b.SetBytes(int64(per * size))
	b.SetParallelism((writers + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		id := storage.ShardID{Stream: "bench", Index: uint32(next.Add(1)) % uint32(shards)}
		for pb.Next() {
			if _, err := st.Append(bg, id, recs); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N*per)/time.Since(start).Seconds(), "rec/s")
}

// BenchmarkRead measures reading back 100-byte records in 10,000-record
// calls, from the tail cache and from disk.
func BenchmarkRead(b *testing.B) {
	for _, cache := range []int{0, -1} {
		name := map[int]string{0: "tail-cache", -1: "disk"}[cache]
		b.Run(name, func(b *testing.B) {
			st, err := logstore.Open(b.TempDir(), logstore.Options{Durability: logstore.None, Logger: quiet, TailCacheBytes: cache})
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			st.CreateShard(bg, sh0, 0)
			recs := make([]storage.Record, 500)
			for i := range recs {
				recs[i] = storage.Record{PartitionKey: "k", Data: make([]byte, 100)}
			}
			for range 20 { // 10,000 records, ~1 MiB: fits the tail cache
				st.Append(bg, sh0, recs)
			}
			b.SetBytes(10000 * 101)
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				n := 0
				st.Read(bg, sh0, 0, storage.ReadLimits{MaxRecords: 10000}, func(storage.StoredRecord) bool { n++; return true })
				if n != 10000 {
					b.Fatalf("read %d", n)
				}
			}
			b.ReportMetric(float64(b.N*10000)/b.Elapsed().Seconds(), "rec/s")
		})
	}
}

// BenchmarkRecovery writes ~1 GiB into the active segments of 16 shards,
// stops uncleanly (unclean marker, no active indexes) and times Open,
// which must scan and check every frame. Run it explicitly:
//
//	go test -run XXX -bench Recovery -benchtime 1x ./internal/storage/logstore/
func BenchmarkRecovery(b *testing.B) {
	dir := b.TempDir()
	const shards = 16
	o := logstore.Options{Durability: logstore.None, Logger: quiet, SegmentBytes: 1 << 30}
	st, err := logstore.Open(dir, o)
	if err != nil {
		b.Fatal(err)
	}
	recs := make([]storage.Record, 500)
	for i := range recs {
		recs[i] = storage.Record{PartitionKey: "pk-" + strconv.Itoa(i), Data: make([]byte, 1024)}
	}
	for i := range shards {
		id := storage.ShardID{Stream: "r", Index: uint32(i)}
		st.CreateShard(bg, id, 0)
		for range 130 { // 130 × 500 KiB ≈ 64 MiB per shard
			if _, err := st.Append(bg, id, recs); err != nil {
				b.Fatal(err)
			}
		}
	}
	st.Close()
	var total int64
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && strings.HasSuffix(p, ".seg") {
			total += fi.Size()
		}
		return nil
	})
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		// make it an unclean stop: marker present, active indexes gone
		os.WriteFile(filepath.Join(dir, "unclean"), nil, 0o644)
		idx, _ := filepath.Glob(filepath.Join(dir, "shards", "*", "*", "*.idx"))
		for _, p := range idx {
			os.Remove(p)
		}
		b.StartTimer()
		st, err := logstore.Open(dir, o)
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		st.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(total)/(1<<30), "GiB")
	b.ReportMetric(float64(total)/(1<<20)/(b.Elapsed().Seconds()/float64(b.N)), "MiB/s")
}
