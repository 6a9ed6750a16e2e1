package analytics_test

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	kt "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	ka "github.com/aws/aws-sdk-go-v2/service/kinesisanalytics"
	kat "github.com/aws/aws-sdk-go-v2/service/kinesisanalytics/types"

	"github.com/eddy-streams/eddy/internal/app"
	"github.com/eddy-streams/eddy/internal/config"
	"github.com/eddy-streams/eddy/internal/eddytest"
	"github.com/eddy-streams/eddy/internal/storage/natsstore/natstest"
)

type logBuf struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logBuf) Write(p []byte) (int, error) { l.mu.Lock(); defer l.mu.Unlock(); return l.b.Write(p) }

func (l *logBuf) has(parts ...string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, line := range strings.Split(l.b.String(), "\n") {
		all := true
		for _, p := range parts {
			all = all && strings.Contains(line, p)
		}
		if all {
			return true
		}
	}
	return false
}

// TestApplicationLeaseAcrossNodes: two Eddy nodes over an in-process 3-node
// NATS cluster both have a RUNNING application (the second loaded it at
// start); only the lease holder runs it, so each input record comes out
// once; when the holder shuts down, the other node resumes from the
// replicated checkpoint (no record out twice, none lost).
func TestApplicationLeaseAcrossNodes(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a 3-node NATS cluster")
	}
	stores, _ := natstest.StartCluster(t, 3)
	logs := []*logBuf{{}, {}}
	node := func(i int) *app.Server {
		return eddytest.Start(t, eddytest.WithBackend(stores[i]),
			eddytest.WithConfig(func(c *config.Config) {
				c.Cluster.NodeName = fmt.Sprint("n", i)
				c.Cluster.LeaseTTL = 1500 * time.Millisecond
			}),
			func(_ *config.Config, o *app.Options) { o.Logger = slog.New(slog.NewTextHandler(logs[i], nil)) })
	}
	a := node(0)
	cfg := eddytest.AWSConfig(a.URL(), "", "")
	kc, ac := kinesis.NewFromConfig(cfg), ka.NewFromConfig(cfg)
	for _, s := range []string{"in", "out"} {
		if _, err := kc.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(s), ShardCount: aws.Int32(1)}); err != nil {
			t.Fatal(err)
		}
		eddytest.WaitActive(t, kc, s)
	}
	code := `CREATE OR REPLACE STREAM "DEST" (n INTEGER);
CREATE OR REPLACE PUMP "P" AS INSERT INTO "DEST" SELECT STREAM "n" FROM "SOURCE_SQL_STREAM_001";`
	in := kat.Input{NamePrefix: aws.String("SOURCE_SQL_STREAM"),
		KinesisStreamsInput: &kat.KinesisStreamsInput{ResourceARN: aws.String("arn:aws:kinesis:us-east-1:000000000000:stream/in"), RoleARN: aws.String(roleARN)},
		InputSchema: &kat.SourceSchema{RecordFormat: &kat.RecordFormat{RecordFormatType: kat.RecordFormatTypeJson, MappingParameters: &kat.MappingParameters{JSONMappingParameters: &kat.JSONMappingParameters{RecordRowPath: aws.String("$")}}},
			RecordColumns: []kat.RecordColumn{{Name: aws.String("n"), SqlType: aws.String("INTEGER"), Mapping: aws.String("$.n")}}}}
	if _, err := ac.CreateApplication(ctx, &ka.CreateApplicationInput{ApplicationName: aws.String("pump"), ApplicationCode: aws.String(code), Inputs: []kat.Input{in},
		Outputs: []kat.Output{{Name: aws.String("DEST"), KinesisStreamsOutput: &kat.KinesisStreamsOutput{ResourceARN: aws.String("arn:aws:kinesis:us-east-1:000000000000:stream/out"), RoleARN: aws.String(roleARN)}, DestinationSchema: &kat.DestinationSchema{RecordFormatType: kat.RecordFormatTypeCsv}}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := ac.StartApplication(ctx, &ka.StartApplicationInput{ApplicationName: aws.String("pump"), InputConfigurations: []kat.InputConfiguration{{Id: aws.String("1.1"),
		InputStartingPositionConfiguration: &kat.InputStartingPositionConfiguration{InputStartingPosition: kat.InputStartingPositionTrimHorizon}}}}); err != nil {
		t.Fatal(err)
	}
	b := node(1) // loads the RUNNING application and launches it under the lease
	const lease = "lease=analytics."
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitFor("a node to take the application's lease", func() bool {
		return logs[0].has("lease acquired", lease) || logs[1].has("lease acquired", lease)
	})
	put := func(from, to int) {
		t.Helper()
		var recs []kt.PutRecordsRequestEntry
		for i := from; i < to; i++ {
			recs = append(recs, kt.PutRecordsRequestEntry{Data: []byte(fmt.Sprintf(`{"n":%d}`, i)), PartitionKey: aws.String("p")})
		}
		if out, err := kc.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String("in"), Records: recs}); err != nil || aws.ToInt32(out.FailedRecordCount) != 0 {
			t.Fatalf("put: %v", err)
		}
	}
	put(0, 20)
	waitRecords(t, kc, "out", 20) // fails on more: a second runner would double them
	if logs[0].has("lease acquired", lease) == logs[1].has("lease acquired", lease) {
		t.Fatal("both nodes or neither ran the application")
	}
	holder, other, otherLog := a, b, logs[1]
	if logs[1].has("lease acquired", lease) {
		holder, other, otherLog = b, a, logs[0]
	}
	holder.Close() // stops the application (checkpoint) and releases the lease
	kc = kinesis.NewFromConfig(eddytest.AWSConfig(other.URL(), "", ""))
	put(20, 40)
	waitFor("the other node to take the application over", func() bool { return otherLog.has("lease acquired", lease) })
	got := waitRecords(t, kc, "out", 40) // resumed from the checkpoint: none twice
	seen := map[string]bool{}
	for _, g := range got {
		seen[strings.TrimSpace(g)] = true
	}
	for i := range 40 {
		if !seen[fmt.Sprint(i)] {
			t.Fatalf("record %d missing from the output %q", i, got)
		}
	}
}

// TestClusterSharedApplications: two Eddy nodes over an in-process 3-node
// NATS cluster, both running from the start. An application created
// through node A is described by node B within the watch's latency and
// started through B; one node runs it under its lease. Concurrent updates
// through both nodes each succeed or answer ConcurrentModificationException
// and both nodes end with the same version. Then the holder loses its NATS
// server: the other node takes the lease, resumes from the fenced
// checkpoint, and every input row comes out at least once.
func TestClusterSharedApplications(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a 3-node NATS cluster")
	}
	stores, servers := natstest.StartCluster(t, 3)
	logs := []*logBuf{{}, {}}
	node := func(i int) *app.Server {
		return eddytest.Start(t, eddytest.WithBackend(stores[i]),
			eddytest.WithConfig(func(c *config.Config) {
				c.Cluster.NodeName = fmt.Sprint("n", i)
				c.Cluster.LeaseTTL = 1500 * time.Millisecond
			}),
			func(_ *config.Config, o *app.Options) { o.Logger = slog.New(slog.NewTextHandler(logs[i], nil)) })
	}
	nodes := []*app.Server{node(0), node(1)}
	kcs := []*kinesis.Client{eddytest.Kinesis(nodes[0]), eddytest.Kinesis(nodes[1])}
	acs := []*ka.Client{ka.NewFromConfig(eddytest.AWSConfig(nodes[0].URL(), "", "")), ka.NewFromConfig(eddytest.AWSConfig(nodes[1].URL(), "", ""))}
	for _, s := range []string{"in", "out"} {
		if _, err := kcs[0].CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(s), ShardCount: aws.Int32(1)}); err != nil {
			t.Fatal(err)
		}
		eddytest.WaitActive(t, kcs[0], s)
	}
	code := `CREATE OR REPLACE STREAM "DEST" (n INTEGER);
CREATE OR REPLACE PUMP "P" AS INSERT INTO "DEST" SELECT STREAM "n" FROM "SOURCE_SQL_STREAM_001";`
	in := kat.Input{NamePrefix: aws.String("SOURCE_SQL_STREAM"),
		KinesisStreamsInput: &kat.KinesisStreamsInput{ResourceARN: aws.String("arn:aws:kinesis:us-east-1:000000000000:stream/in"), RoleARN: aws.String(roleARN)},
		InputSchema: &kat.SourceSchema{RecordFormat: &kat.RecordFormat{RecordFormatType: kat.RecordFormatTypeJson, MappingParameters: &kat.MappingParameters{JSONMappingParameters: &kat.JSONMappingParameters{RecordRowPath: aws.String("$")}}},
			RecordColumns: []kat.RecordColumn{{Name: aws.String("n"), SqlType: aws.String("INTEGER"), Mapping: aws.String("$.n")}}}}
	if _, err := acs[0].CreateApplication(ctx, &ka.CreateApplicationInput{ApplicationName: aws.String("pump"), ApplicationCode: aws.String(code), Inputs: []kat.Input{in},
		Outputs: []kat.Output{{Name: aws.String("DEST"), KinesisStreamsOutput: &kat.KinesisStreamsOutput{ResourceARN: aws.String("arn:aws:kinesis:us-east-1:000000000000:stream/out"), RoleARN: aws.String(roleARN)}, DestinationSchema: &kat.DestinationSchema{RecordFormatType: kat.RecordFormatTypeCsv}}}}); err != nil {
		t.Fatal(err)
	}
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	describe := func(i int) *kat.ApplicationDetail {
		d, err := acs[i].DescribeApplication(ctx, &ka.DescribeApplicationInput{ApplicationName: aws.String("pump")})
		if err != nil {
			return nil
		}
		return d.ApplicationDetail
	}
	waitFor("node B to describe the application", func() bool { return describe(1) != nil })

	// concurrent updates through both nodes: none silently lost
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok, conflicts := 0, 0
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 6 {
				d := describe(i)
				if d == nil {
					t.Error("describe failed")
					return
				}
				_, err := acs[i].UpdateApplication(ctx, &ka.UpdateApplicationInput{ApplicationName: aws.String("pump"),
					CurrentApplicationVersionId: d.ApplicationVersionId, ApplicationUpdate: &kat.ApplicationUpdate{ApplicationCodeUpdate: aws.String(code)}})
				var cm *kat.ConcurrentModificationException
				mu.Lock()
				switch {
				case err == nil:
					ok++
				case errors.As(err, &cm):
					conflicts++
				default:
					t.Errorf("update through node %d: %v", i, err)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	waitFor("both nodes to agree on the version", func() bool {
		a, b := describe(0), describe(1)
		return a != nil && b != nil && aws.ToInt64(a.ApplicationVersionId) == aws.ToInt64(b.ApplicationVersionId)
	})
	if v := aws.ToInt64(describe(0).ApplicationVersionId); v != int64(1+ok) {
		t.Fatalf("version %d after %d successful updates, want %d: an update was lost", v, ok, 1+ok)
	}
	t.Logf("concurrent updates: %d succeeded, %d answered ConcurrentModificationException", ok, conflicts)

	// created through B, deleted through A: gone from B
	if _, err := acs[1].CreateApplication(ctx, &ka.CreateApplicationInput{ApplicationName: aws.String("tmp")}); err != nil {
		t.Fatal(err)
	}
	waitFor("node A to describe B's application", func() bool {
		_, err := acs[0].DescribeApplication(ctx, &ka.DescribeApplicationInput{ApplicationName: aws.String("tmp")})
		return err == nil
	})
	d, err := acs[0].DescribeApplication(ctx, &ka.DescribeApplicationInput{ApplicationName: aws.String("tmp")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := acs[0].DeleteApplication(ctx, &ka.DeleteApplicationInput{ApplicationName: aws.String("tmp"), CreateTimestamp: d.ApplicationDetail.CreateTimestamp}); err != nil {
		t.Fatal(err)
	}
	waitFor("node B to forget the deleted application", func() bool {
		var nf *kat.ResourceNotFoundException
		_, err := acs[1].DescribeApplication(ctx, &ka.DescribeApplicationInput{ApplicationName: aws.String("tmp")})
		return errors.As(err, &nf)
	})

	if _, err := acs[1].StartApplication(ctx, &ka.StartApplicationInput{ApplicationName: aws.String("pump"), InputConfigurations: []kat.InputConfiguration{{Id: aws.String("1.1"),
		InputStartingPositionConfiguration: &kat.InputStartingPositionConfiguration{InputStartingPosition: kat.InputStartingPositionTrimHorizon}}}}); err != nil {
		t.Fatal(err)
	}
	waitFor("node A to see it RUNNING", func() bool { d := describe(0); return d != nil && d.ApplicationStatus == kat.ApplicationStatusRunning })
	const lease = "lease=analytics."
	waitFor("a node to take the application's lease", func() bool {
		return logs[0].has("lease acquired", lease) || logs[1].has("lease acquired", lease)
	})
	h := 0
	if logs[1].has("lease acquired", lease) {
		h = 1
	}
	o := 1 - h
	put := func(from, to int) {
		t.Helper()
		var recs []kt.PutRecordsRequestEntry
		for i := from; i < to; i++ {
			recs = append(recs, kt.PutRecordsRequestEntry{Data: []byte(fmt.Sprintf(`{"n":%d}`, i)), PartitionKey: aws.String("p")})
		}
		if out, err := kcs[o].PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String("in"), Records: recs}); err != nil || aws.ToInt32(out.FailedRecordCount) != 0 {
			t.Fatalf("put: %v", err)
		}
	}
	put(0, 20)
	waitRecords(t, kcs[o], "out", 20) // fails on more: a second runner would double them

	servers[h].Shutdown() // the holder dies as far as the cluster knows
	put(20, 40)
	waitFor("the other node to take the application over", func() bool { return logs[o].has("lease acquired", lease) })
	var seen map[string]int
	deadline := time.Now().Add(30 * time.Second)
	for {
		r := &eddytest.StreamReader{Client: kcs[o], Stream: "out"}
		seen = map[string]int{}
		for _, g := range r.Poll(t) {
			seen[strings.TrimSpace(g)]++
		}
		if len(seen) >= 40 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	for i := range 40 {
		if seen[fmt.Sprint(i)] == 0 {
			t.Fatalf("row %d missing from the output %v", i, seen)
		}
	}
}
