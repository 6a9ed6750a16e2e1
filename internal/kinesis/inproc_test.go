package kinesis

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"testing"

	"github.com/eddy-streams/eddy/internal/storage/memstore"
)

func TestInprocPutListRead(t *testing.T) {
	s, err := New(Options{Backend: memstore.New(nil), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.EnsureStream("000000000000", "us-east-1", "in", 2); err != nil {
		t.Fatal(err)
	}
	ref, err := s.ResolveARN("arn:aws:kinesis:us-east-1:000000000000:stream/in")
	if err != nil {
		t.Fatal(err)
	}
	var recs []InprocEntry
	for i := 0; i < 100; i++ {
		recs = append(recs, InprocEntry{PartitionKey: fmt.Sprintf("k%d", i), Data: []byte(fmt.Sprintf("r%d", i))})
	}
	ctx := context.Background()
	if failed, err := s.Put(ctx, "000000000000", "us-east-1", "in", recs); err != nil || failed != nil {
		t.Fatal(failed, err)
	}
	shards, err := s.Shards(ref)
	if err != nil || len(shards) != 2 || !shards[0].Open || shards[1].ID != "shardId-000000000001" {
		t.Fatalf("shards %+v %v", shards, err)
	}
	seen := map[string]bool{}
	for _, sh := range shards {
		b, err := s.Bounds(ctx, ref, sh.Index)
		if err != nil {
			t.Fatal(err)
		}
		next, err := s.Read(ctx, ref, sh.Index, b.Trim, 1000, func(r InprocRecord) bool {
			seen[string(r.Data)] = true
			if r.SequenceNumber() == "" || r.ArrivalMs == 0 {
				t.Fatal("record without sequence number or arrival time")
			}
			return true
		})
		if err != nil || next != b.Next {
			t.Fatalf("read to %d, bounds %+v, err %v", next, b, err)
		}
	}
	if len(seen) != 100 {
		t.Fatalf("read %d distinct records", len(seen))
	}
	// a recreated stream is not the old incarnation
	s.mu.Lock()
	s.streams[nsKey{"000000000000", "us-east-1", "in"}].CreatedMs++
	s.mu.Unlock()
	if _, err := s.Shards(ref); !errors.Is(err, ErrStreamGone) {
		t.Fatalf("want ErrStreamGone, got %v", err)
	}
	if _, err := s.Put(ctx, "000000000000", "us-east-1", "nope", recs); !errors.Is(err, ErrStreamGone) {
		t.Fatalf("put to missing stream: %v", err)
	}
}
