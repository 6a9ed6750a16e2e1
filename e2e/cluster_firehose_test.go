package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	ftypes "github.com/aws/aws-sdk-go-v2/service/firehose/types"
)

// TestClusterFirehoseFailover: a DirectPut delivery stream with an HTTP
// endpoint destination on a 3-node cluster (separate processes) is
// delivered by exactly one node, the one holding its lease. Records are put
// through all three nodes; the delivering node is killed with kill -9; the
// lease expires and another node takes delivery over from the replicated
// checkpoint. Every acknowledged record reaches the endpoint (duplicates
// are allowed, Firehose is at least once, and counted); the endpoint never
// sees two deliveries at once.
func TestClusterFirehoseFailover(t *testing.T) {
	if testing.Short() {
		t.Skip("3-node cluster with a kill -9 and a lease expiry")
	}
	t.Setenv("EDDY_LEASE_TTL", "3s") // read by every node (flags read EDDY_*)

	var (
		mu               sync.Mutex
		got              = map[string]int{}
		firstSeen        = map[string]time.Time{}
		inFlight, maxFly atomic.Int32
	)
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for m := maxFly.Load(); n > m && !maxFly.CompareAndSwap(m, n); m = maxFly.Load() {
		}
		var in struct {
			RequestID string `json:"requestId"`
			Records   []struct{ Data string }
		}
		body, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(body, &in); err != nil {
			w.WriteHeader(400)
			return
		}
		mu.Lock()
		for _, rec := range in.Records {
			b, _ := base64.StdEncoding.DecodeString(rec.Data)
			got[string(b)]++
			if _, ok := firstSeen[string(b)]; !ok {
				firstSeen[string(b)] = time.Now()
			}
		}
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"requestId":%q,"timestamp":%d}`, in.RequestID, time.Now().UnixMilli())
	}))
	defer recv.Close()

	nodes := startCluster3(t)
	ctx := context.Background()
	fh := make([]*firehose.Client, len(nodes))
	for i, n := range nodes {
		fh[i] = firehose.NewFromConfig(aws.Config{
			Region:       "us-east-1",
			Credentials:  credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
			BaseEndpoint: aws.String("http://" + n.addr),
			HTTPClient:   &http.Client{Timeout: 40 * time.Second},
		}, func(o *firehose.Options) { o.RetryMaxAttempts = 1 })
	}
	const name = "failover"
	_, err := fh[0].CreateDeliveryStream(ctx, &firehose.CreateDeliveryStreamInput{
		DeliveryStreamName: aws.String(name),
		DeliveryStreamType: ftypes.DeliveryStreamTypeDirectPut,
		HttpEndpointDestinationConfiguration: &ftypes.HttpEndpointDestinationConfiguration{
			EndpointConfiguration: &ftypes.HttpEndpointConfiguration{Url: aws.String(recv.URL), Name: aws.String("recv")},
			BufferingHints:        &ftypes.HttpEndpointBufferingHints{SizeInMBs: aws.Int32(1), IntervalInSeconds: aws.Int32(0)},
			S3Configuration:       &ftypes.S3DestinationConfiguration{BucketARN: aws.String("arn:aws:s3:::unused"), RoleARN: aws.String("arn:aws:iam::000000000000:role/r")},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, n := range nodes { // the stream reaches every node's metadata
		waitUntil(t, 10*time.Second, func() bool {
			out, err := fh[i].DescribeDeliveryStream(ctx, &firehose.DescribeDeliveryStreamInput{DeliveryStreamName: aws.String(name)})
			return err == nil && out.DeliveryStreamDescription.DeliveryStreamStatus == ftypes.DeliveryStreamStatusActive
		}, "delivery stream on "+n.name)
	}
	holders := func() []int {
		var out []int
		for i, n := range nodes {
			for _, line := range strings.Split(n.log.String(), "\n") {
				if strings.Contains(line, `msg="lease acquired: starting"`) && strings.Contains(line, " lease=firehose.") {
					out = append(out, i)
					break
				}
			}
		}
		return out
	}
	waitUntil(t, 15*time.Second, func() bool { return len(holders()) > 0 }, "a node to take the delivery lease")

	// producers: batches through all three nodes until told to stop
	var (
		ackMu   sync.Mutex
		acked   []string
		ackedAt = map[string]time.Time{}
		stop    atomic.Bool
		wg      sync.WaitGroup
		counter atomic.Int64
	)
	for w := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; !stop.Load(); i++ {
				n := (w + i) % 3
				if nodes[n].dead.Load() {
					continue
				}
				var recs []ftypes.Record
				var ids []string
				for range 20 {
					id := fmt.Sprintf("rec-%06d", counter.Add(1))
					ids = append(ids, id)
					recs = append(recs, ftypes.Record{Data: []byte(id)})
				}
				out, err := fh[n].PutRecordBatch(ctx, &firehose.PutRecordBatchInput{DeliveryStreamName: aws.String(name), Records: recs})
				if err != nil {
					time.Sleep(50 * time.Millisecond)
					continue
				}
				ackMu.Lock()
				now := time.Now()
				for j, r := range out.RequestResponses {
					if r.ErrorCode == nil {
						acked = append(acked, ids[j])
						ackedAt[ids[j]] = now
					}
				}
				ackMu.Unlock()
				time.Sleep(20 * time.Millisecond)
			}
		}()
	}
	count := func() int { mu.Lock(); defer mu.Unlock(); return len(got) }
	waitUntil(t, 20*time.Second, func() bool { return count() >= 300 }, "deliveries before the kill")
	before := holders()
	if len(before) != 1 {
		t.Fatalf("nodes that started delivery before the kill: %v, want exactly one", before)
	}
	victim := nodes[before[0]]
	killed := time.Now()
	victim.kill9()
	t.Logf("killed %s, the delivering node, after %d distinct records arrived", victim.name, count())
	waitUntil(t, 30*time.Second, func() bool { return len(holders()) == 2 }, "another node to take delivery over")
	var taker int
	for _, h := range holders() {
		if h != before[0] {
			taker = h
		}
	}
	time.Sleep(time.Second) // a little more load through the survivors
	stop.Store(true)
	wg.Wait()

	ackMu.Lock()
	want := append([]string(nil), acked...)
	ackMu.Unlock()
	missing := func() []string {
		mu.Lock()
		defer mu.Unlock()
		var out []string
		for _, id := range want {
			if got[id] == 0 {
				out = append(out, id)
			}
		}
		return out
	}
	waitUntil(t, 30*time.Second, func() bool { return len(missing()) == 0 }, "every acknowledged record at the endpoint")
	mu.Lock()
	dups := 0
	for _, c := range got {
		dups += c - 1
	}
	// kill to the first arrival of a record acknowledged after the kill:
	// only the new holder can have delivered it
	var resumed time.Duration
	ackMu.Lock()
	for id, at := range ackedAt {
		if at.After(killed) {
			if d := firstSeen[id].Sub(killed); resumed == 0 || d < resumed {
				resumed = d
			}
		}
	}
	ackMu.Unlock()
	mu.Unlock()
	if m := maxFly.Load(); m != 1 {
		t.Fatalf("the endpoint saw %d deliveries at once, want 1 (one delivering node)", m)
	}
	if len(want) < 300 {
		t.Fatalf("only %d records acknowledged", len(want))
	}
	var tookOver time.Duration // kill to the new holder's "lease acquired" log line
	for _, line := range strings.Split(nodes[taker].log.String(), "\n") {
		if strings.Contains(line, `msg="lease acquired: starting"`) && strings.Contains(line, " lease=firehose.") && strings.HasPrefix(line, "time=") {
			if at, err := time.Parse(time.RFC3339Nano, strings.Fields(line)[0][len("time="):]); err == nil {
				tookOver = at.Sub(killed)
			}
		}
	}
	t.Logf("%d acknowledged records all delivered; %d duplicates; %s took the lease %v after the kill; the first record acknowledged after the kill arrived %v after it",
		len(want), dups, nodes[taker].name, tookOver.Round(time.Millisecond), resumed.Round(time.Millisecond))
}
