package bench

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/eddy-streams/eddy/internal/eddytest"
)

// TestProducerConsumerModes runs --mode producer and --mode consumer
// against an in-process Eddy: the producer phases put every record they
// count (no failures), the consumer phase processes exactly what it wrote,
// and the report prints the aggregation ratio.
func TestProducerConsumerModes(t *testing.T) {
	srv := eddytest.Start(t)
	rep, err := Run(context.Background(), Options{Endpoint: srv.URL(), Mode: "producer", Stream: "bench-kpl",
		Shards: 2, Producers: 2, RecordSize: 100, TotalRecords: 20000})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Phases) != 2 || rep.Phases[0].Phase != "producer-agg" || rep.Phases[1].Phase != "producer-raw" {
		t.Fatalf("phases %+v", rep.Phases)
	}
	for _, p := range rep.Phases {
		if p.Records != 20000 || p.Errors != 0 || p.Calls == 0 {
			t.Errorf("%s: %+v", p.Phase, p)
		}
	}
	// aggregation packs ~450 records of 100 B per Kinesis record: far fewer calls
	if rep.Phases[0].Calls >= rep.Phases[1].Calls || rep.AggregationRatio == nil {
		t.Errorf("aggregated calls %d, raw %d, ratio %v", rep.Phases[0].Calls, rep.Phases[1].Calls, rep.AggregationRatio)
	}
	var out bytes.Buffer
	Write(&out, rep, false)
	if !strings.Contains(out.String(), "producer-agg/producer-raw") {
		t.Errorf("report:\n%s", out.String())
	}

	rep, err = Run(context.Background(), Options{Endpoint: srv.URL(), Mode: "consumer", Stream: "bench-kcl",
		Shards: 2, RecordSize: 100, TotalRecords: 5000, Duration: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if p := rep.Phases[0]; p.Records != 5000 || p.Calls == 0 || p.RecordsPerSec <= 0 {
		t.Errorf("consumer phase %+v", p)
	}
}
