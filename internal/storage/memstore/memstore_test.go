package memstore_test

import (
	"context"
	"testing"

	"github.com/eddy-streams/eddy/internal/storage"
	"github.com/eddy-streams/eddy/internal/storage/memstore"
	"github.com/eddy-streams/eddy/internal/storage/storagetest"
)

func TestConformance(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storage.Backend { return memstore.New(nil) })
}

// TestReadCallbackDoesNotBlockAppend: a reader's callback may take its time
// (the Firehose lake loop runs JQ and conversion in it) without stalling
// writers; records appended meanwhile are read by the next Read.
func TestReadCallbackDoesNotBlockAppend(t *testing.T) {
	ctx := context.Background()
	s := memstore.New(nil)
	id := storage.ShardID{Stream: "s", Index: 0}
	if err := s.CreateShard(ctx, id, 0); err != nil {
		t.Fatal(err)
	}
	rec := []storage.Record{{PartitionKey: "k", Data: []byte("first")}}
	if _, err := s.Append(ctx, id, rec); err != nil {
		t.Fatal(err)
	}
	var seen []string
	next, err := s.Read(ctx, id, 0, storage.ReadLimits{}, func(r storage.StoredRecord) bool {
		seen = append(seen, string(r.Data))
		done := make(chan error)
		go func() {
			_, err := s.Append(ctx, id, []storage.Record{{PartitionKey: "k", Data: []byte("second")}})
			done <- err
		}()
		if err := <-done; err != nil { // deadlocks if Read holds the shard lock here
			t.Error(err)
		}
		return true
	})
	if err != nil || next != 1 || len(seen) != 1 {
		t.Fatalf("first read: next %d, seen %q, err %v", next, seen, err)
	}
	if _, err := s.Read(ctx, id, next, storage.ReadLimits{}, func(r storage.StoredRecord) bool {
		seen = append(seen, string(r.Data))
		return true
	}); err != nil || len(seen) != 2 || seen[1] != "second" {
		t.Fatalf("second read: seen %q, err %v", seen, err)
	}
}
