package glue_test

import (
	"context"
	"testing"
	"time"

	"github.com/eddy-streams/eddy/internal/awsproto"
	"github.com/eddy-streams/eddy/internal/glue"
	"github.com/eddy-streams/eddy/internal/storage/natsstore/natstest"
)

// BenchmarkGlueClusterCommit: an Iceberg commit through node A (one
// compare-and-set of the table's item), then the same until node B's
// in-process catalog (what its Firehose reads) holds the new version.
func BenchmarkGlueClusterCommit(b *testing.B) {
	stores, _ := natstest.StartCluster(b, 3)
	open := func(i int) *glue.Service {
		s, err := glue.New(glue.Options{Backend: stores[i], Shared: stores[i], DefaultAccount: "000000000000", DefaultRegion: "us-east-1"})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close() })
		return s
	}
	a, nb := open(0), open(1)
	ctx := context.Background()
	for _, c := range [][2]string{{"CreateDatabase", `{"DatabaseInput":{"Name":"d"}}`},
		{"CreateTable", `{"DatabaseName":"d","TableInput":{"Name":"t","Parameters":{"table_type":"ICEBERG"}}}`}} {
		for deadline := time.Now().Add(20 * time.Second); ; { // the bucket may still be electing its leader
			_, err := a.Handle(&awsproto.Request{Ctx: ctx, Operation: c[0], Codec: awsproto.JSON, Body: []byte(c[1])})
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				b.Fatal(err)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	params := map[string]string{"table_type": "ICEBERG", "metadata_location": "s3://bucket/t/metadata/00001.metadata.json"}
	for _, wait := range []bool{false, true} {
		b.Run(map[bool]string{false: "acked", true: "seen-on-B"}[wait], func(b *testing.B) {
			for range b.N {
				cur, err := a.IcebergTable(ctx, "000000000000", "us-east-1", "", "d", "t")
				if err != nil {
					b.Fatal(err)
				}
				if err := a.CommitIcebergTable(ctx, "000000000000", "us-east-1", "", "d", "t", cur.VersionID, params); err != nil {
					b.Fatal(err)
				}
				next, _ := a.IcebergTable(ctx, "000000000000", "us-east-1", "", "d", "t")
				for wait {
					if it, err := nb.IcebergTable(ctx, "000000000000", "us-east-1", "", "d", "t"); err == nil && it.VersionID == next.VersionID {
						break
					}
					time.Sleep(50 * time.Microsecond) // a spinning poll would take the CPU the watch needs
				}
			}
		})
	}
}
