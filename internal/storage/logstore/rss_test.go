package logstore_test

import (
	"bufio"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/eddy-streams/eddy/internal/storage"
	"github.com/eddy-streams/eddy/internal/storage/logstore"
)

func procStatus(t *testing.T, key string) int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), key+":"); ok {
			kb, _ := strconv.ParseInt(strings.Fields(v)[0], 10, 64)
			return kb << 10
		}
	}
	t.Fatalf("%s not in /proc/self/status", key)
	return 0
}

// TestResidentMemory writes EDDY_RSS_GIB GiB (1 KiB records, 500 per
// batch) across 16 shards in interval mode, reopens the directory, reads
// the newest and the oldest 10,000 records of every shard, and reports the
// process's resident memory. A measurement, run on demand:
//
//	EDDY_RSS_GIB=5 go test -run TestResidentMemory -v -timeout 30m ./internal/storage/logstore/
func TestResidentMemory(t *testing.T) {
	gib, _ := strconv.ParseFloat(os.Getenv("EDDY_RSS_GIB"), 64)
	if gib <= 0 {
		t.Skip("set EDDY_RSS_GIB to run this measurement")
	}
	dir := t.TempDir()
	const shards = 16
	o := logstore.Options{Durability: logstore.Interval, Logger: quiet}
	if v, err := strconv.Atoi(os.Getenv("EDDY_RSS_TAIL")); err == nil {
		o.TailCacheBytes = v
	}
	st, err := logstore.Open(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	recs := make([]storage.Record, 500)
	for i := range recs {
		recs[i] = storage.Record{PartitionKey: "pk-" + strconv.Itoa(i), Data: make([]byte, 1024)}
	}
	perShard := int(gib * (1 << 30) / shards / (500 * 1030))
	start := time.Now()
	for i := range shards {
		st.CreateShard(bg, storage.ShardID{Stream: "m", Index: uint32(i)}, 0)
	}
	for n := range perShard {
		for i := range shards {
			if _, err := st.Append(bg, storage.ShardID{Stream: "m", Index: uint32(i)}, recs); err != nil {
				t.Fatal(err)
			}
		}
		if n%100 == 0 {
			t.Logf("written %.2f GiB, RSS %d MiB", float64(n*shards*500*1030)/(1<<30), procStatus(t, "VmRSS")>>20)
		}
	}
	t.Logf("wrote %.2f GiB in %v; RSS after writing %d MiB, peak %d MiB",
		float64(perShard*shards*500*1030)/(1<<30), time.Since(start).Round(time.Second), procStatus(t, "VmRSS")>>20, procStatus(t, "VmHWM")>>20)
	st.Close()

	st, err = logstore.Open(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for i := range shards {
		id := storage.ShardID{Stream: "m", Index: uint32(i)}
		bd, _ := st.Bounds(bg, id)
		for _, from := range []uint64{0, bd.Next - 10000, bd.Next/2 - 5000} {
			n := 0
			if _, err := st.Read(bg, id, from, storage.ReadLimits{MaxRecords: 10000}, func(storage.StoredRecord) bool { n++; return true }); err != nil || n != 10000 {
				t.Fatalf("read %d from %d: %v", n, from, err)
			}
		}
		st.Append(bg, id, recs)
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	rss := procStatus(t, "VmRSS")
	t.Logf("after reopen and reads: RSS %d MiB, Go heap in use %d MiB, Go sys %d MiB", rss>>20, ms.HeapInuse>>20, ms.Sys>>20)
	if rss > 150<<20 {
		t.Errorf("resident memory %d MiB above the 150 MiB target", rss>>20)
	}
}
