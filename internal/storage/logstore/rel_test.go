package logstore_test

import (
	"os"
	"testing"

	"github.com/eddy-streams/eddy/internal/storage/logstore"
)

func TestRelativeDir(t *testing.T) {
	t.Chdir(t.TempDir())
	for range 2 {
		st, err := logstore.Open("./eddy-data/", logstore.Options{Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.Bounds(bg, sh0); err == nil {
			if got := readPKs(t, st, sh0); got != "aa" {
				t.Fatalf("after reopen: %q", got)
			}
		} else {
			st.CreateShard(bg, sh0, 0)
			st.Append(bg, sh0, batch("a", 2))
		}
		if err := st.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := os.Stat("eddy-data/shards/s/0000000000/shard.state"); err != nil {
		t.Fatal(err)
	}
}
