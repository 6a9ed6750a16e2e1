package storagetest

import (
	"errors"
	"testing"

	"github.com/eddy-streams/eddy/internal/storage"
)

// RunReopen checks what a durable backend keeps across Close and reopen.
// open must open (creating if needed) the backend stored in dir; the suite
// picks dir and closes what it opens.
func RunReopen(t *testing.T, open func(t *testing.T, dir string) storage.Backend) {
	t.Run("DataPositionsMeta", func(t *testing.T) {
		dir := t.TempDir()
		b := open(t, dir)
		a, s, d, tr := sid(0), sid(1), sid(2), sid(3)
		created := nowMs() - 10_000
		for _, id := range []storage.ShardID{a, s, d, tr} {
			mustCreate(t, b, id, created)
		}
		mustAppend(t, b, a, recs("a", 3, 100))
		mustAppend(t, b, a, recs("a2", 2, 5000))
		mustAppend(t, b, s, recs("s", 1, 1))
		if err := b.SealShard(ctx, s); err != nil {
			t.Fatal(err)
		}
		mustAppend(t, b, d, recs("d", 1, 1))
		if err := b.DeleteShard(ctx, d); err != nil {
			t.Fatal(err)
		}
		res := appendDistinct(t, b, tr, 3, 2)
		if err := b.Trim(ctx, tr, res[1].ArrivalMs); err != nil {
			t.Fatal(err)
		}
		if err := b.SaveMeta("kinesis", []byte("registry-v1")); err != nil {
			t.Fatal(err)
		}
		before := map[storage.ShardID]storage.Bounds{}
		data := map[storage.ShardID][]got{}
		for _, id := range []storage.ShardID{a, s, tr} {
			before[id] = mustBounds(t, b, id)
			data[id], _ = readAll(t, b, id, 0, storage.ReadLimits{})
		}
		if err := b.Close(); err != nil {
			t.Fatal(err)
		}

		b = open(t, dir)
		defer b.Close()
		for id, want := range before {
			if bd := mustBounds(t, b, id); bd != want {
				t.Errorf("%v bounds after reopen %+v, want %+v", id, bd, want)
			}
			all, _ := readAll(t, b, id, 0, storage.ReadLimits{})
			if len(all) != len(data[id]) {
				t.Fatalf("%v: %d records after reopen, want %d", id, len(all), len(data[id]))
			}
			for i := range all {
				if all[i] != data[id][i] {
					t.Fatalf("%v record %d after reopen %+v, want %+v", id, i, all[i], data[id][i])
				}
			}
		}
		if _, err := b.Bounds(ctx, d); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("deleted shard after reopen: %v, want ErrNotFound", err)
		}
		if _, err := b.Append(ctx, s, recs("x", 1, 1)); !errors.Is(err, storage.ErrShardSealed) {
			t.Errorf("sealed shard after reopen accepts appends: %v", err)
		}
		r := mustAppend(t, b, a, recs("more", 2, 10))
		if r.FirstPos != 5 || r.ArrivalMs < before[a].TipMs {
			t.Errorf("append after reopen: %+v, want position 5 and arrival >= %d", r, before[a].TipMs)
		}
		if blob, err := b.LoadMeta("kinesis"); err != nil || string(blob) != "registry-v1" {
			t.Errorf("meta after reopen: %q, %v", blob, err)
		}
	})
	t.Run("ReopenTwiceAndAppend", func(t *testing.T) {
		dir := t.TempDir()
		id := sid(0)
		want := uint64(0)
		for round := range 3 {
			b := open(t, dir)
			if round == 0 {
				mustCreate(t, b, id, nowMs())
			}
			for range 3 {
				if r := mustAppend(t, b, id, recs("r", 4, 30)); r.FirstPos != want {
					t.Fatalf("round %d: position %d, want %d", round, r.FirstPos, want)
				}
				want += 4
			}
			if err := b.Close(); err != nil {
				t.Fatal(err)
			}
		}
		b := open(t, dir)
		defer b.Close()
		all, next := readAll(t, b, id, 0, storage.ReadLimits{})
		if next != want || uint64(len(all)) != want {
			t.Fatalf("after 3 rounds: %d records, next %d, want %d", len(all), next, want)
		}
	})
}
