package logstore

import (
	"testing"

	"github.com/eddy-streams/eddy/internal/storage"
)

// A quarantined shard's id comes from its directory name: escape and
// shardIDOfDir must round-trip every id, and no other name may parse (two
// directories must never name the same shard).
func TestShardIDOfDir(t *testing.T) {
	for _, id := range []storage.ShardID{
		{Stream: "s", Index: 0}, {Stream: "", Index: 7}, {Stream: "_", Index: 1},
		{Stream: "a/b c.d_e\x00\xff", Index: 4294967295}, {Stream: "stream-1", Index: 12},
	} {
		got, ok := shardIDOfDir(shardDirOf("/data", id))
		if !ok || got != id {
			t.Fatalf("%+v: got %+v %v", id, got, ok)
		}
	}
	for _, dir := range []string{
		"/data/shards/s/12", "/data/shards/s/00000000x1", "/data/shards/s/9999999999",
		"/data/shards/a_2F/0000000000", "/data/shards/a_2/0000000000", "/data/shards/a_zz/0000000000",
		"/data/shards/a.b/0000000000", "/data/shards/_2d/0000000000",
	} {
		if id, ok := shardIDOfDir(dir); ok {
			t.Fatalf("%s parsed as %+v; escape never makes that name", dir, id)
		}
	}
}
