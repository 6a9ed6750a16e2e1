package logstore_test

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"testing"

	"github.com/eddy-streams/eddy/internal/storage"
	"github.com/eddy-streams/eddy/internal/storage/logstore"
)

// TestMain lets the test binary act as the writer process of TestSIGKILL.
func TestMain(m *testing.M) {
	if dir := os.Getenv("LOGSTORE_KILL_WRITER"); dir != "" {
		killWriter(dir)
		return
	}
	os.Exit(m.Run())
}

// killWriter appends from 4 goroutines in always mode and prints one line
// per acknowledged batch: "ACK <shard> <firstPos> <goroutine> <i> <n>".
func killWriter(dir string) {
	st, err := logstore.Open(dir, logstore.Options{Durability: logstore.Always, SegmentBytes: 64 << 10})
	if err != nil {
		fmt.Println("ERR", err)
		os.Exit(1)
	}
	var mu sync.Mutex
	out := bufio.NewWriter(os.Stdout)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				id := storage.ShardID{Stream: "k", Index: uint32((g + i) % 2)}
				n := 1 + i%5
				recs := make([]storage.Record, n)
				for j := range recs {
					recs[j] = storage.Record{PartitionKey: "p", Data: fmt.Appendf(nil, "g%d-i%d-j%d", g, i, j)}
				}
				r, err := st.Append(bg, id, recs)
				if err != nil {
					fmt.Println("ERR", err)
					os.Exit(1)
				}
				mu.Lock()
				fmt.Fprintf(out, "ACK %d %d %d %d %d\n", id.Index, r.FirstPos, g, i, n)
				out.Flush()
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
}

// TestSIGKILL runs a real writer process on the real file system, kills it
// with SIGKILL at a random moment, and checks that every acknowledged
// record is there after reopening, at its position, and that writing
// continues right after the recovered tip.
func TestSIGKILL(t *testing.T) {
	dir := t.TempDir()
	st, err := logstore.Open(dir, logstore.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	for i := range uint32(2) {
		st.CreateShard(bg, storage.ShardID{Stream: "k", Index: i}, 0)
	}
	st.Close()
	want := map[[2]uint64]string{} // (shard, pos) -> payload
	rounds := 3
	if testing.Short() {
		rounds = 2
	}
	for round := range rounds {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "LOGSTORE_KILL_WRITER="+dir)
		stdout, _ := cmd.StdoutPipe()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(stdout)
		acks := 0
		stopAt := 50 + round*300
		for sc.Scan() && acks < stopAt {
			var shard, first uint64
			var g, i, n int
			if _, err := fmt.Sscanf(sc.Text(), "ACK %d %d %d %d %d", &shard, &first, &g, &i, &n); err != nil {
				t.Fatalf("writer said %q", sc.Text())
			}
			for j := range n {
				want[[2]uint64{shard, first + uint64(j)}] = fmt.Sprintf("g%d-i%d-j%d", g, i, j)
			}
			acks++
		}
		cmd.Process.Kill() // SIGKILL
		cmd.Wait()
		if acks < stopAt {
			t.Fatalf("round %d: writer stopped after %d acks", round, acks)
		}

		st, err := logstore.Open(dir, logstore.Options{Logger: quiet})
		if err != nil {
			t.Fatalf("round %d: reopen after SIGKILL: %v", round, err)
		}
		for i := range uint64(2) {
			id := storage.ShardID{Stream: "k", Index: uint32(i)}
			got := map[uint64]string{}
			st.Read(bg, id, 0, storage.ReadLimits{}, func(r storage.StoredRecord) bool {
				got[r.Pos] = string(r.Data)
				return true
			})
			for k, v := range want {
				if k[0] == i && got[k[1]] != v {
					t.Fatalf("round %d: shard %d position %d holds %q, acknowledged %q", round, i, k[1], got[k[1]], v)
				}
			}
			// unacknowledged records that survived are now part of the log
			for p, v := range got {
				want[[2]uint64{i, p}] = v
			}
		}
		st.Close()
		if rep, err := logstore.Verify(dir); err != nil || !rep.OK() {
			t.Fatalf("round %d: verify: %v\n%s", round, err, rep)
		}
	}
	t.Logf("%d records checked", len(want))
}
