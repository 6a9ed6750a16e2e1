package bench

// Fan-out mode (--mode fanout): enhanced fan-out consumers reading with
// SubscribeToShard while producers write.
//
//   - fanout-latency: one registered consumer subscribes (LATEST) to every
//     shard, then one producer writes Rate records/s exactly as the latency
//     phase does; EndToEnd is put call start → record pushed to the
//     subscriber. Every accepted record must arrive.
//   - fanout-put-N (N = 0, 5, 20): the put phase (Producers × BatchSize,
//     for Duration) while N registered consumers are each subscribed to
//     every shard. Records/s against fanout-put-0 is what the subscribers
//     cost the producers. After the producers stop, every subscriber must
//     have received every accepted record of its shard (N × accepted
//     deliveries), within drainTimeout.
//
// The latency phase's subscriber is the SDK's SubscribeToShard client. The
// put phases' subscribers are lean readers (SigV4-signed JSON request,
// event-stream frames checked by the eventstream package, records counted
// in the JSON payload without decoding it): with 20 SDK subscribers the
// bench process would spend more CPU decoding 20 copies of every record
// than the producers and the server together, on the same cores, and the
// figure would measure the SDK's JSON decoder rather than the server.
//
// Each SDK subscription has its own client: smithy-go shares one
// event-stream decoder between all streams of a client, which is not safe
// for concurrent streams (aws/smithy-go#714). A subscription that ends (the
// 5-minute lifetime) resubscribes AFTER_SEQUENCE_NUMBER its last
// ContinuationSequenceNumber. Consumers are named eddy-bench-efo-NN and
// left registered (a stream the run created is deleted with them).

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/eddy-streams/eddy/internal/awsproto/eventstream"
)

// defaultSubscribers are the subscriber counts of the fanout-put phases
// unless Options.Subscribers says otherwise.
var defaultSubscribers = []int{0, 5, 20}

func init() {
	phases["fanout-latency"] = runFanoutLatency
	modes["fanout"] = fanoutPhases(nil)
}

// fanoutPhases names the phases of --mode fanout for these subscriber
// counts (nil: the defaults).
func fanoutPhases(counts []int) []string {
	if counts == nil {
		counts = defaultSubscribers
	}
	names := []string{"fanout-latency"}
	for _, n := range counts {
		names = append(names, fmt.Sprintf("fanout-put-%d", n))
	}
	return names
}

// fanoutPutPhase is the phase named fanout-put-N, if name is one.
func fanoutPutPhase(name string) (phase, bool) {
	var n int
	if _, err := fmt.Sscanf(name, "fanout-put-%d", &n); err != nil || n < 0 {
		return nil, false
	}
	return func(ctx context.Context, t *target) (PhaseResult, error) { return runFanoutPut(ctx, t, n) }, true
}

func runFanoutLatency(ctx context.Context, t *target) (PhaseResult, error) {
	consumers, err := ensureConsumers(ctx, t, 1)
	if err != nil {
		return PhaseResult{}, err
	}
	tag := newTag()
	subs, err := subscribeAll(ctx, t, consumers, tag, false)
	if err != nil {
		return PhaseResult{}, err
	}
	prod, elapsed := produce(ctx, t, tag)
	werr := subs.drain(ctx, prod.records)
	res := PhaseResult{
		Records: prod.records, Bytes: prod.records * int64(t.opts.RecordSize),
		Calls: prod.calls, Errors: prod.errors, Throttles: prod.throttles,
		CallLatency: prod.hist.Summary(),
	}
	subs.finish(&res)
	rates(&res, elapsed)
	if err := errors.Join(ctx.Err(), werr); err != nil {
		return res, err
	}
	if prod.records == 0 && prod.lastErr != nil {
		return res, prod.lastErr
	}
	return res, nil
}

func runFanoutPut(ctx context.Context, t *target, n int) (PhaseResult, error) {
	consumers, err := ensureConsumers(ctx, t, n)
	if err != nil {
		return PhaseResult{}, err
	}
	tag := newTag()
	subs, err := subscribeAll(ctx, t, consumers, tag, true)
	if err != nil {
		return PhaseResult{}, err
	}
	var tally putTally
	putRound(ctx, t, tag, t.opts.Duration, t.opts.TotalRecords, &tally)
	werr := subs.drain(ctx, tally.records)
	res, err := t.finishPut(ctx, tag, &tally)
	subs.finish(&res)
	return res, errors.Join(err, werr)
}

// ensureConsumers registers consumers eddy-bench-efo-00.. up to n (reusing
// those already there) and waits until they are ACTIVE.
func ensureConsumers(ctx context.Context, t *target, n int) ([]string, error) {
	if n == 0 {
		return nil, nil
	}
	sum, err := t.client.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: &t.opts.Stream})
	if err != nil {
		return nil, fmt.Errorf("describe stream %s: %w", t.opts.Stream, err)
	}
	streamARN := sum.StreamDescriptionSummary.StreamARN
	arns := make([]string, n)
	for i := range n {
		name := fmt.Sprintf("eddy-bench-efo-%02d", i)
		d, err := t.client.DescribeStreamConsumer(ctx, &kinesis.DescribeStreamConsumerInput{StreamARN: streamARN, ConsumerName: &name})
		var nf *types.ResourceNotFoundException
		switch {
		case errors.As(err, &nf):
			out, err := t.client.RegisterStreamConsumer(ctx, &kinesis.RegisterStreamConsumerInput{StreamARN: streamARN, ConsumerName: &name})
			if err != nil {
				return nil, fmt.Errorf("register consumer %s: %w", name, err)
			}
			arns[i] = aws.ToString(out.Consumer.ConsumerARN)
		case err != nil:
			return nil, fmt.Errorf("describe consumer %s: %w", name, err)
		default:
			arns[i] = aws.ToString(d.ConsumerDescription.ConsumerARN)
		}
	}
	wctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	for _, arn := range arns {
		for {
			d, err := t.client.DescribeStreamConsumer(wctx, &kinesis.DescribeStreamConsumerInput{ConsumerARN: aws.String(arn)})
			if err != nil {
				return nil, fmt.Errorf("wait for consumer %s: %w", arn, err)
			}
			if d.ConsumerDescription.ConsumerStatus == types.ConsumerStatusActive {
				break
			}
			if err := pause(wctx, 50*time.Millisecond); err != nil {
				return nil, fmt.Errorf("wait for consumer %s to become ACTIVE: %w", arn, err)
			}
		}
	}
	return arns, nil
}

// subscriptions are the running subscribers of a phase.
type subscriptions struct {
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	n       int // subscribers per shard (consumers)
	shards  int
	seen    atomic.Int64
	events  atomic.Int64
	mu      sync.Mutex
	hist    Histogram
	errs    []error
	started time.Time
}

// subscribeAll subscribes every consumer to every shard from LATEST and
// returns once all subscriptions have started. lean picks the lean reader
// over the SDK client.
func subscribeAll(ctx context.Context, t *target, consumers []string, tag [8]byte, lean bool) (*subscriptions, error) {
	shards, err := listShards(ctx, t.client, t.opts.Stream)
	if err != nil {
		return nil, err
	}
	sctx, cancel := context.WithCancel(ctx)
	s := &subscriptions{cancel: cancel, n: len(consumers), shards: len(shards), started: time.Now()}
	ready := make(chan error, len(consumers)*len(shards))
	for _, arn := range consumers {
		for _, shard := range shards {
			if lean {
				s.wg.Go(func() { s.leanSubscriber(sctx, t, arn, shard, ready) })
			} else {
				s.wg.Go(func() { s.subscriber(sctx, t, arn, shard, tag, ready) })
			}
		}
	}
	for range len(consumers) * len(shards) {
		if err := <-ready; err != nil {
			s.stop()
			return nil, err
		}
	}
	return s, nil
}

// subscriber is one consumer on one shard: SubscribeToShard, read events,
// resubscribe after the previous subscription ended, until ctx ends.
func (s *subscriptions) subscriber(ctx context.Context, t *target, arn, shard string, tag [8]byte, ready chan<- error) {
	client := newClient(t.opts.Endpoint, Options{Region: t.opts.Region, Producers: 1}, nil)
	var hist Histogram
	pos := types.StartingPosition{Type: types.ShardIteratorTypeLatest}
	first := true
	fail := func(err error) {
		if first {
			ready <- err
			first = false
			return
		}
		s.mu.Lock()
		s.errs = append(s.errs, err)
		s.mu.Unlock()
	}
	defer func() {
		s.mu.Lock()
		s.hist.Merge(&hist)
		s.mu.Unlock()
	}()
	for ctx.Err() == nil {
		out, err := client.SubscribeToShard(ctx, &kinesis.SubscribeToShardInput{ConsumerARN: &arn, ShardId: &shard, StartingPosition: &pos})
		if err != nil {
			if ctx.Err() == nil {
				fail(fmt.Errorf("subscribe %s to %s: %w", arn, shard, err))
			}
			return
		}
		if first {
			ready <- nil
			first = false
		}
		es := out.GetStream()
		var cont *string
		for ev := range es.Events() {
			e, ok := ev.(*types.SubscribeToShardEventStreamMemberSubscribeToShardEvent)
			if !ok {
				continue
			}
			now := time.Since(t.base)
			s.events.Add(1)
			for _, r := range e.Value.Records {
				if rt, ts, ok := readHeader(r.Data); ok && rt == tag {
					hist.Record(now - ts)
					s.seen.Add(1)
				}
			}
			cont = e.Value.ContinuationSequenceNumber
		}
		err = es.Err()
		es.Close()
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			fail(fmt.Errorf("subscription of %s to %s: %w", arn, shard, err))
			return
		}
		if cont == nil {
			return // shard end
		}
		pos = types.StartingPosition{Type: types.ShardIteratorTypeAfterSequenceNumber, SequenceNumber: cont}
	}
}

// drain waits until every subscriber saw all of the accepted records of
// its shards (n × accepted deliveries), then stops them.
func (s *subscriptions) drain(ctx context.Context, accepted int64) error {
	want := int64(s.n) * accepted
	deadline := time.Now().Add(drainTimeout)
	for s.seen.Load() < want && time.Now().Before(deadline) && ctx.Err() == nil {
		s.mu.Lock()
		failed := len(s.errs) > 0
		s.mu.Unlock()
		if failed {
			break
		}
		if pause(ctx, time.Millisecond) != nil {
			break
		}
	}
	s.stop()
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := errors.Join(s.errs...); err != nil {
		return err
	}
	if got := s.seen.Load(); got != want {
		return fmt.Errorf("subscribers received %d records, want %d (%d consumers × %d accepted)", got, want, s.n, accepted)
	}
	return nil
}

func (s *subscriptions) stop() {
	s.cancel()
	s.wg.Wait()
}

// finish adds the delivery latency (SDK subscribers) and event count to res.
func (s *subscriptions) finish(res *PhaseResult) {
	if s.n == 0 {
		return
	}
	if s.hist.Count() > 0 {
		sum := s.hist.Summary()
		res.EndToEnd = &sum
	}
	res.ConsumerCalls = s.events.Load()
}

// fail records a subscriber error: on ready before it started, else in errs.
func (s *subscriptions) fail(started *bool, ready chan<- error, err error) {
	if !*started {
		*started = true
		ready <- err
		return
	}
	s.mu.Lock()
	s.errs = append(s.errs, err)
	s.mu.Unlock()
}

var contField = []byte(`"ContinuationSequenceNumber":"`)

// countEventRecords counts the records of a JSON SubscribeToShardEvent payload
// by its objects: every record is one, the event itself one more. Record
// data is base64 and the bench's partition keys base 36, so no brace
// hides in a string; a miscount would show as a delivery total other than
// N × accepted, which drain reports. (Scanning for a field name costs
// several times more: its leading quote is everywhere in JSON.)
func countEventRecords(payload []byte) int {
	return max(0, bytes.Count(payload, []byte{'{'})-1)
}

// leanSubscriber is a subscriber without the SDK (see the file comment):
// it counts the records of each event and resubscribes after its last
// continuation number when a subscription ends.
func (s *subscriptions) leanSubscriber(ctx context.Context, t *target, arn, shard string, ready chan<- error) {
	hc := &http.Client{Transport: &http.Transport{}}
	defer hc.CloseIdleConnections()
	signer := v4.NewSigner()
	creds := aws.Credentials{AccessKeyID: "eddybench", SecretAccessKey: "eddybench"}
	started := false
	pos := map[string]string{"Type": "LATEST"}
	for ctx.Err() == nil {
		body, _ := json.Marshal(map[string]any{"ConsumerARN": arn, "ShardId": shard, "StartingPosition": pos})
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.opts.Endpoint, bytes.NewReader(body))
		if err != nil {
			s.fail(&started, ready, err)
			return
		}
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		req.Header.Set("X-Amz-Target", "Kinesis_20131202.SubscribeToShard")
		sum := sha256.Sum256(body)
		if err := signer.SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "kinesis", t.opts.Region, time.Now()); err != nil {
			s.fail(&started, ready, fmt.Errorf("sign: %w", err))
			return
		}
		resp, err := hc.Do(req)
		if err != nil {
			if ctx.Err() == nil {
				s.fail(&started, ready, fmt.Errorf("subscribe %s to %s: %w", arn, shard, err))
			}
			return
		}
		cont, err := s.readEvents(resp, &started, ready)
		resp.Body.Close()
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			s.fail(&started, ready, fmt.Errorf("subscription of %s to %s: %w", arn, shard, err))
			return
		}
		if cont == "" {
			return // shard end
		}
		pos = map[string]string{"Type": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": cont}
	}
}

// readEvents reads one SubscribeToShard response, returning the last
// continuation number.
func (s *subscriptions) readEvents(resp *http.Response, started *bool, ready chan<- error) (cont string, err error) {
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return "", fmt.Errorf("HTTP %d: %s", resp.StatusCode, b)
	}
	dec := eventstream.NewDecoder(resp.Body) // reads ahead in blocks itself
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
			s.events.Add(1)
			s.seen.Add(int64(countEventRecords(m.Payload)))
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
