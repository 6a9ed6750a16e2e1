package bench

// Fixed-rate fan-out (--mode fanout --rate-bytes-per-shard R): what a
// delivery costs the server at a load it can carry, per HTTP version.
//
//   - fanout-rate-P-N (P = h1, h2c, h1tls or h2; N subscribers per shard):
//     N registered consumers subscribe to every shard over protocol P, then
//     one producer per shard writes R bytes/s of record data into its shard
//     (PutRecords with the shard's starting hash key as ExplicitHashKey, so
//     every shard gets exactly R), paced against the wall clock: each turn
//     sends every record due by now in one call, a turn as soon as a record
//     is due or, with PutInterval, once per interval (as a producer library
//     that buffers records for a while does). After Duration the
//     producers stop and every subscription must have received every
//     accepted record of its shard, in order, exactly once: each payload
//     carries its index in the shard's sequence (bytes 16-23) and a reader
//     fails the phase on any other index than the next one.
//   - Every delivered record's put call start → arrival at the reader goes
//     into EndToEnd (put→delivered).
//   - Server CPU is the server process's user+system time
//     (/proc/<pid>/stat, --server-pid or --tls-server-pid) from just before
//     the producers start to the moment the last delivery arrived, divided
//     by the deliveries (records × subscriptions). A fanout-rate-P-0 phase
//     of the same server measures the producing alone; the report then
//     also prints the marginal cost of a delivery (CPU/s above that
//     phase's, per delivery/s) and the ratio of each protocol's cost to
//     HTTP/1.1's at the same N from the same run.
//
// Protocols: h1 is HTTP/1.1 and h2c HTTP/2 with prior knowledge (what the
// Java and Node SDKs use over http://) against --endpoint; h1tls and h2 are
// the same over TLS against --tls-endpoint (a second server run with
// --tls-cert/--tls-key; certificates are not verified). Over HTTP/2 the
// subscriptions of one consumer share one connection, as they do in one
// SDK client (--subscribe-conns subscription gives each its own); over
// HTTP/1.1 each subscription has its own connection, as it must.
//
// The readers are the lean ones of fanout.go (no SDK), which also find
// each record's Data field and decode its first 24 bytes.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/eddy-streams/eddy/internal/awsproto/eventstream"
)

// rateHeaderSize is the payload prefix of the rate phases: tag, timestamp
// and the record's index in its shard's sequence.
const rateHeaderSize = 24

// Protocols a rate phase can subscribe with.
var subscribeProtos = []string{"h1", "h2c", "h1tls", "h2"}

func protoTLS(p string) bool { return p == "h1tls" || p == "h2" }
func protoH2(p string) bool  { return p == "h2c" || p == "h2" }

// ratePhases names the phases of --mode fanout with a rate: for each
// protocol in order, one phase per subscriber count.
func ratePhases(protos []string, counts []int) []string {
	if counts == nil {
		counts = []int{0, 20}
	}
	var names []string
	for _, p := range protos {
		for _, n := range counts {
			names = append(names, fmt.Sprintf("fanout-rate-%s-%d", p, n))
		}
	}
	return names
}

// parseRatePhase splits a fanout-rate-P-N phase name.
func parseRatePhase(name string) (proto string, n int, ok bool) {
	rest, ok := strings.CutPrefix(name, "fanout-rate-")
	if !ok {
		return "", 0, false
	}
	i := strings.LastIndexByte(rest, '-')
	if i < 0 {
		return "", 0, false
	}
	n, err := strconv.Atoi(rest[i+1:])
	if err != nil || n < 0 {
		return "", 0, false
	}
	return rest[:i], n, true
}

// shardRange is a shard and the hash key that routes to it.
type shardRange struct {
	id, hashKey string
}

func listShardRanges(ctx context.Context, c *kinesis.Client, stream string) ([]shardRange, error) {
	var out []shardRange
	in := &kinesis.ListShardsInput{StreamName: &stream}
	for {
		page, err := c.ListShards(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("list shards of %s: %w", stream, err)
		}
		for _, s := range page.Shards {
			if s.SequenceNumberRange != nil && s.SequenceNumberRange.EndingSequenceNumber != nil {
				continue // closed
			}
			out = append(out, shardRange{id: aws.ToString(s.ShardId), hashKey: aws.ToString(s.HashKeyRange.StartingHashKey)})
		}
		if page.NextToken == nil {
			return out, nil
		}
		in = &kinesis.ListShardsInput{NextToken: page.NextToken}
	}
}

// rateSub is one subscription of a rate phase, owned by its reader
// goroutine until the phase stops it.
type rateSub struct {
	shard  int
	proto  string
	got    atomic.Int64 // records received in order
	events int64
	hist   Histogram
	err    error
}

// runFanoutRate is the fanout-rate-P-N phase against t.
func runFanoutRate(ctx context.Context, t *target, proto string, n int) (PhaseResult, error) {
	o := t.opts
	consumers, err := ensureConsumers(ctx, t, n)
	if err != nil {
		return PhaseResult{}, err
	}
	shards, err := listShardRanges(ctx, t.client, o.Stream)
	if err != nil {
		return PhaseResult{}, err
	}
	tag := newTag()
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()

	// Subscribe every consumer to every shard and wait for their
	// initial-response events.
	subs := make([]*rateSub, 0, n*len(shards))
	ready := make(chan error, n*len(shards))
	var wg sync.WaitGroup
	var clients []*http.Client
	defer func() {
		cancel()
		wg.Wait()
		for _, c := range clients {
			c.CloseIdleConnections()
		}
	}()
	var h2conns []*h2Conn
	defer func() {
		for _, c := range h2conns {
			c.Close()
		}
	}()
	for _, arn := range consumers {
		var rt roundTripper
		for i, sh := range shards {
			if rt == nil || o.SubscribeConns == "subscription" {
				if protoH2(proto) && o.H2Client != "go" {
					c, err := dialH2(ctx, t.endpoint, o.H2Window)
					if err != nil {
						return PhaseResult{}, err
					}
					h2conns = append(h2conns, c)
					rt = c
				} else {
					hc := &http.Client{Transport: subscribeTransport(proto)}
					clients = append(clients, hc)
					rt = goClient{hc}
				}
			}
			s := &rateSub{shard: i, proto: proto}
			subs = append(subs, s)
			sr := rt
			wg.Go(func() { s.read(sctx, t, sr, arn, sh.id, tag, ready) })
		}
	}
	for range subs {
		if err := <-ready; err != nil {
			return PhaseResult{}, err
		}
	}

	// Produce.
	accepted := make([]atomic.Int64, len(shards))
	stats := make([]producerStats, len(shards))
	perSec := float64(o.RateBytesPerShard) / float64(o.RecordSize)
	cpu0, srv0 := processCPU(), t.serverCPU()
	start := time.Now()
	var pwg sync.WaitGroup
	for i, sh := range shards {
		pwg.Go(func() {
			produceShard(ctx, t, tag, sh.hashKey, perSec, &accepted[i], &stats[i])
		})
	}
	pwg.Wait()
	elapsed := time.Since(start)

	// Drain: every subscription must reach its shard's accepted count.
	want := func(s *rateSub) int64 { return accepted[s.shard].Load() }
	deadline := time.Now().Add(drainTimeout)
	for ctx.Err() == nil && time.Now().Before(deadline) {
		done := true
		for _, s := range subs {
			if s.got.Load() < want(s) {
				done = false
				break
			}
		}
		if done {
			break
		}
		if pause(ctx, time.Millisecond) != nil {
			break
		}
	}
	clientCPU, serverCPU := processCPU()-cpu0, t.serverCPU()-srv0
	cancel()
	wg.Wait()

	var prod producerStats
	for i := range stats {
		prod.merge(&stats[i])
	}
	res := PhaseResult{
		Calls: prod.calls, Errors: prod.errors, Throttles: prod.throttles,
		CallLatency: prod.hist.Summary(),
		ClientCPU:   clientCPU.Seconds(), ServerCPU: serverCPU.Seconds(),
		Proto: proto, SubscribersPerShard: n,
	}
	for i := range accepted {
		res.Records += accepted[i].Load()
	}
	res.Bytes = res.Records * int64(o.RecordSize)
	rates(&res, elapsed)
	var e2e Histogram
	var errs []error
	for _, s := range subs {
		e2e.Merge(&s.hist)
		res.ConsumerCalls += s.events
		got := s.got.Load()
		res.Deliveries += got
		switch {
		case s.err != nil:
			errs = append(errs, s.err)
		case got != want(s):
			errs = append(errs, fmt.Errorf("a subscription of shard %s received %d of %d records", shards[s.shard].id, got, want(s)))
		}
	}
	if n > 0 {
		sum := e2e.Summary()
		res.EndToEnd = &sum
	}
	if err := ctx.Err(); err != nil {
		return res, err
	}
	if prod.lastErr != nil {
		errs = append(errs, fmt.Errorf("producer: %w", prod.lastErr))
	}
	if len(errs) > 3 {
		errs = append(errs[:3], fmt.Errorf("and %d more", len(errs)-3))
	}
	return res, errors.Join(errs...)
}

// produceShard writes perSec records/s into the shard that hashKey routes
// to until t.opts.Duration has passed. Every record is numbered in order;
// a failed call or entry ends the producer (a gap would be undetectable
// from a loss), recorded in st.lastErr.
func produceShard(ctx context.Context, t *target, tag [8]byte, hashKey string, perSec float64, accepted *atomic.Int64, st *producerStats) {
	o := t.opts
	const maxBatch = 500
	maxRecs := min(maxBatch, max(1, (5<<20)/o.RecordSize))
	rng := rand.New(rand.NewPCG(rand.Uint64(), 0))
	p := newPayloads(tag, maxRecs, o.RecordSize, rng)
	entries := make([]types.PutRecordsRequestEntry, maxRecs)
	key := aws.String("k")
	var sent int64
	start := time.Now()
	var tick time.Duration // with PutInterval: the next turn's time since start
	for ctx.Err() == nil {
		since := time.Since(start)
		if since >= o.Duration {
			return
		}
		if o.PutInterval > 0 {
			if since < tick {
				if pause(ctx, tick-since) != nil {
					return
				}
				continue
			}
			tick = since.Truncate(o.PutInterval) + o.PutInterval
		}
		due := int64(since.Seconds()*perSec) + 1 - sent
		if due <= 0 {
			next := time.Duration(float64(sent) / perSec * float64(time.Second))
			if pause(ctx, next-since) != nil {
				return
			}
			continue
		}
		n := int(min(due, int64(maxRecs)))
		t0 := time.Now()
		for j := range n {
			b := p.bufs[j]
			binary.BigEndian.PutUint64(b[8:16], uint64(t0.Sub(t.base)))
			binary.BigEndian.PutUint64(b[16:24], uint64(sent)+uint64(j))
			entries[j] = types.PutRecordsRequestEntry{Data: b, PartitionKey: key, ExplicitHashKey: &hashKey}
		}
		out, err := t.client.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: &o.Stream, Records: entries[:n]})
		if err != nil && ctx.Err() != nil {
			return
		}
		st.hist.Record(time.Since(t0))
		st.calls++
		if err == nil && len(out.Records) != n {
			err = errEntryCount(len(out.Records), n)
		}
		if err == nil {
			for _, r := range out.Records {
				if r.ErrorCode != nil {
					err = fmt.Errorf("record refused: %s: %s", aws.ToString(r.ErrorCode), aws.ToString(r.ErrorMessage))
					break
				}
			}
		}
		if err != nil {
			st.errors++
			if isThrottle(err) || strings.Contains(err.Error(), "ProvisionedThroughputExceeded") {
				st.throttles++
			}
			st.lastErr = err
			return
		}
		sent += int64(n)
		st.records += int64(n)
		accepted.Store(sent)
	}
}

// subscribeTransport is an HTTP transport speaking proto only.
func subscribeTransport(proto string) *http.Transport {
	tr := &http.Transport{
		TLSClientConfig:     &tls.Config{InsecureSkipVerify: true}, // the bench's own loopback server
		MaxIdleConnsPerHost: 64,
		ForceAttemptHTTP2:   protoH2(proto),
	}
	p := new(http.Protocols)
	switch proto {
	case "h1", "h1tls":
		p.SetHTTP1(true)
	case "h2c":
		p.SetUnencryptedHTTP2(true)
	case "h2":
		p.SetHTTP2(true)
	}
	tr.Protocols = p
	return tr
}

var dataField = []byte(`"Data":"`)

// response is a subscription's response: status, HTTP major version, body.
type response struct {
	status, major int
	body          io.ReadCloser
}

// roundTripper sends a subscribe request: Go's client (goClient) or the
// lean HTTP/2 one (h2Conn).
type roundTripper interface {
	roundTrip(*http.Request) (response, error)
}

type goClient struct{ *http.Client }

func (c goClient) roundTrip(req *http.Request) (response, error) {
	resp, err := c.Do(req)
	if err != nil {
		return response{}, err
	}
	return response{status: resp.StatusCode, major: resp.ProtoMajor, body: resp.Body}, nil
}

func (c *h2Conn) roundTrip(req *http.Request) (response, error) {
	st, err := c.do(req)
	if err != nil {
		return response{}, err
	}
	return response{status: st.code, major: 2, body: st}, nil
}

// read is one subscription's reader: subscribe from LATEST, check and time
// every record, resubscribe after the last continuation number when a
// subscription ends, until ctx ends.
func (s *rateSub) read(ctx context.Context, t *target, rt roundTripper, arn, shard string, tag [8]byte, ready chan<- error) {
	signer := v4.NewSigner()
	creds := aws.Credentials{AccessKeyID: "eddybench", SecretAccessKey: "eddybench"}
	started := false
	fail := func(err error) {
		if !started {
			started = true
			ready <- err
			return
		}
		if s.err == nil {
			s.err = err
		}
	}
	pos := map[string]string{"Type": "LATEST"}
	for ctx.Err() == nil {
		body, _ := json.Marshal(map[string]any{"ConsumerARN": arn, "ShardId": shard, "StartingPosition": pos})
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.endpoint, bytes.NewReader(body))
		if err != nil {
			fail(err)
			return
		}
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		req.Header.Set("X-Amz-Target", "Kinesis_20131202.SubscribeToShard")
		sum := sha256.Sum256(body)
		if err := signer.SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "kinesis", t.opts.Region, time.Now()); err != nil {
			fail(fmt.Errorf("sign: %w", err))
			return
		}
		resp, err := rt.roundTrip(req)
		if err != nil {
			if ctx.Err() == nil {
				fail(fmt.Errorf("subscribe %s to %s: %w", arn, shard, err))
			}
			return
		}
		stop := context.AfterFunc(ctx, func() { resp.body.Close() })
		cont, err := s.readResponse(t, resp, tag, &started, ready)
		stop()
		resp.body.Close()
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			fail(fmt.Errorf("subscription of %s to %s: %w", arn, shard, err))
			return
		}
		if cont == "" {
			return // shard end
		}
		pos = map[string]string{"Type": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": cont}
	}
}

// readResponse reads one SubscribeToShard response.
func (s *rateSub) readResponse(t *target, resp response, tag [8]byte, started *bool, ready chan<- error) (cont string, err error) {
	if resp.status != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.body, 4096))
		return "", fmt.Errorf("HTTP %d: %s", resp.status, b)
	}
	if want := 2; protoH2(s.proto) != (resp.major == want) {
		return "", fmt.Errorf("response over HTTP/%d with subscribe protocol %s", resp.major, s.proto)
	}
	dec := eventstream.NewDecoder(resp.body)
	var hdr [rateHeaderSize]byte
	for {
		m, err := dec.Next()
		if errors.Is(err, io.EOF) {
			return cont, nil
		}
		if err != nil {
			return cont, err
		}
		switch m.String(eventstream.HeaderMessageType) {
		case "exception":
			return cont, fmt.Errorf("%s: %s", m.String(eventstream.HeaderExceptionType), m.Payload)
		case "error":
			return cont, fmt.Errorf("%s: %s", m.String(eventstream.HeaderErrorCode), m.String(eventstream.HeaderErrorMessage))
		}
		switch m.String(eventstream.HeaderEventType) {
		case "initial-response":
			if !*started {
				*started = true
				ready <- nil
			}
		case "SubscribeToShardEvent":
			now := time.Since(t.base)
			s.events++
			b := m.Payload
			for {
				i := bytes.Index(b, dataField)
				if i < 0 {
					break
				}
				b = b[i+len(dataField):]
				if len(b) < 32 {
					return cont, errors.New("truncated record data")
				}
				if _, err := base64.StdEncoding.Decode(hdr[:], b[:32]); err != nil {
					return cont, fmt.Errorf("record data: %w", err)
				}
				if [8]byte(hdr[:8]) != tag {
					continue // another run's record
				}
				idx := int64(binary.BigEndian.Uint64(hdr[16:24]))
				if got := s.got.Load(); idx != got {
					return cont, fmt.Errorf("record %d arrived where %d was next (lost, repeated or out of order)", idx, got)
				}
				s.got.Add(1)
				s.hist.Record(now - time.Duration(binary.BigEndian.Uint64(hdr[8:16])))
				b = b[32:]
			}
			if i := bytes.LastIndex(m.Payload, contField); i >= 0 {
				rest := m.Payload[i+len(contField):]
				if j := bytes.IndexByte(rest, '"'); j >= 0 {
					cont = string(rest[:j])
				}
			} else {
				cont = ""
			}
		}
	}
}

// parseSize reads a byte size: a number with an optional unit (B, KB, MB,
// GB in powers of 1000; KiB, MiB, GiB in powers of 1024).
func parseSize(s string) (int64, error) {
	s = strings.TrimSpace(s)
	i := len(s)
	for i > 0 && (s[i-1] < '0' || s[i-1] > '9') && s[i-1] != '.' {
		i--
	}
	num, unit := s[:i], strings.ToLower(strings.TrimSpace(s[i:]))
	mult := map[string]float64{"": 1, "b": 1, "kb": 1e3, "mb": 1e6, "gb": 1e9, "kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30}[unit]
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || mult == 0 || f < 0 {
		return 0, fmt.Errorf("%q is not a size (e.g. 1MiB, 500KB, 1048576)", s)
	}
	return int64(f * mult), nil
}

// FanoutCost is the server's CPU per delivery of one protocol and
// subscriber count in a run (the mean over its phases).
type FanoutCost struct {
	Proto               string `json:"proto"`
	SubscribersPerShard int    `json:"subscribers_per_shard"`
	Phases              int    `json:"phases"`
	// MicrosPerDelivery is server CPU / deliveries; Marginal subtracts the
	// CPU rate of the nearest 0-subscriber phase on the same server first
	// (0 when there is none).
	MicrosPerDelivery float64 `json:"server_us_per_delivery"`
	Marginal          float64 `json:"server_marginal_us_per_delivery,omitempty"`
	// VsH1 and MarginalVsH1 divide by HTTP/1.1's cost at the same count
	// (h1tls for h2 when the run has it, else h1).
	VsH1         float64 `json:"vs_h1,omitempty"`
	MarginalVsH1 float64 `json:"marginal_vs_h1,omitempty"`
}

// marginalCost is the server CPU per delivery of p above the nearest
// phase of the same target without subscribers (0 when none or no CPU).
func marginalCost(phases []PhaseResult, i int) float64 {
	p := phases[i]
	if p.Deliveries == 0 || p.ServerCPU == 0 || p.Seconds == 0 {
		return 0
	}
	best, dist := -1, 0
	for j, q := range phases {
		if _, n, ok := parseRatePhase(q.Phase); !ok || n != 0 || q.Target != p.Target || q.Seconds == 0 || q.ServerCPU == 0 {
			continue
		}
		d := max(i-j, j-i)
		if best < 0 || d < dist {
			best, dist = j, d
		}
	}
	if best < 0 {
		return 0
	}
	q := phases[best]
	return (p.ServerCPU/p.Seconds - q.ServerCPU/q.Seconds) * p.Seconds / float64(p.Deliveries) * 1e6
}

// fanoutCosts summarises the fixed-rate phases with subscribers by
// protocol and subscriber count, in first-seen order.
func fanoutCosts(phases []PhaseResult) []FanoutCost {
	type key struct {
		proto string
		n     int
	}
	var order []key
	sums := map[key]*FanoutCost{}
	for i, p := range phases {
		proto, n, ok := parseRatePhase(p.Phase)
		if !ok || n == 0 || p.Deliveries == 0 || p.ServerCPU == 0 {
			continue
		}
		k := key{proto, n}
		c := sums[k]
		if c == nil {
			c = &FanoutCost{Proto: proto, SubscribersPerShard: n}
			sums[k] = c
			order = append(order, k)
		}
		c.Phases++
		c.MicrosPerDelivery += p.ServerCPU / float64(p.Deliveries) * 1e6
		c.Marginal += marginalCost(phases, i)
	}
	var out []FanoutCost
	for _, k := range order {
		c := sums[k]
		c.MicrosPerDelivery /= float64(c.Phases)
		c.Marginal /= float64(c.Phases)
		out = append(out, *c)
	}
	for i := range out {
		c := &out[i]
		ref := "h1"
		if c.Proto == "h2" && sums[key{"h1tls", c.SubscribersPerShard}] != nil {
			ref = "h1tls"
		}
		h1 := sums[key{ref, c.SubscribersPerShard}]
		if h1 == nil || c.Proto == ref {
			continue
		}
		c.VsH1 = c.MicrosPerDelivery / h1.MicrosPerDelivery
		if h1.Marginal > 0 && c.Marginal > 0 {
			c.MarginalVsH1 = c.Marginal / h1.Marginal
		}
	}
	return out
}

// writeRate prints the fixed-rate fan-out phases and their costs.
func writeRate(w io.Writer, rep Report) error {
	found := false
	for _, p := range rep.Phases {
		if _, _, ok := parseRatePhase(p.Phase); ok {
			found = true
		}
	}
	if !found {
		return nil
	}
	fmt.Fprintf(w, "\nfixed-rate fan-out: %d bytes/s of record data into each shard, records of %d bytes\n", rep.RateBytesPerShard, rep.RecordSize)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "phase\ttarget\trecords/s\tdeliveries\tevents\tput→delivered p50 ms\tp99 ms\tmax ms\tserver CPU s\tserver µs/delivery\tmarginal µs/delivery\tclient CPU s\t")
	for i, p := range rep.Phases {
		if _, _, ok := parseRatePhase(p.Phase); !ok {
			continue
		}
		var e Latency
		if p.EndToEnd != nil {
			e = *p.EndToEnd
		}
		per, marg := "-", "-"
		if p.Deliveries > 0 && p.ServerCPU > 0 {
			per = fmt.Sprintf("%.3f", p.ServerCPU/float64(p.Deliveries)*1e6)
			if m := marginalCost(rep.Phases, i); m != 0 {
				marg = fmt.Sprintf("%.3f", m)
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%.0f\t%d\t%d\t%.3f\t%.3f\t%.3f\t%.2f\t%s\t%s\t%.2f\t\n",
			p.Phase, p.Target, p.RecordsPerSec, p.Deliveries, p.ConsumerCalls, e.P50, e.P99, e.Max, p.ServerCPU, per, marg, p.ClientCPU)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	fmt.Fprintln(w, "(every subscription received every accepted record of its shard once and in order, or the run failed)")
	for _, c := range rep.FanoutCosts {
		if c.VsH1 == 0 {
			continue
		}
		ref := "h1"
		if c.Proto == "h2" && slices.ContainsFunc(rep.FanoutCosts, func(o FanoutCost) bool {
			return o.Proto == "h1tls" && o.SubscribersPerShard == c.SubscribersPerShard
		}) {
			ref = "h1tls"
		}
		fmt.Fprintf(w, "server CPU per delivery, %s ÷ %s at %d subscribers per shard: %.2f (marginal: %.2f)\n", c.Proto, ref, c.SubscribersPerShard, c.VsH1, c.MarginalVsH1)
	}
	return nil
}
