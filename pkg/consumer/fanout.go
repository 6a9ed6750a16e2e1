package consumer

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// registerConsumer finds or registers the enhanced fan-out consumer named
// ApplicationName and waits until it is ACTIVE.
func (w *Worker) registerConsumer(ctx context.Context) error {
	api := w.cfg.Kinesis.(FanOutAPI)
	arn := w.cfg.StreamARN
	if arn == "" {
		out, err := api.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(w.cfg.StreamName)})
		if err != nil {
			return fmt.Errorf("consumer: describe stream: %w", err)
		}
		arn = aws.ToString(out.StreamDescriptionSummary.StreamARN)
		w.cfg.StreamARN = arn
	}
	name := aws.String(w.cfg.ApplicationName)
	var carn string
	reg, err := api.RegisterStreamConsumer(ctx, &kinesis.RegisterStreamConsumerInput{StreamARN: aws.String(arn), ConsumerName: name})
	if err == nil {
		carn = aws.ToString(reg.Consumer.ConsumerARN)
	} else {
		var inUse *types.ResourceInUseException
		if !errors.As(err, &inUse) {
			return fmt.Errorf("consumer: register stream consumer: %w", err)
		}
	}
	for {
		in := &kinesis.DescribeStreamConsumerInput{StreamARN: aws.String(arn), ConsumerName: name}
		if carn != "" {
			in = &kinesis.DescribeStreamConsumerInput{ConsumerARN: aws.String(carn)}
		}
		out, err := api.DescribeStreamConsumer(ctx, in)
		if err != nil {
			return fmt.Errorf("consumer: describe stream consumer: %w", err)
		}
		if out.ConsumerDescription.ConsumerStatus == types.ConsumerStatusActive {
			w.consumerARN = aws.ToString(out.ConsumerDescription.ConsumerARN)
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-w.clock.After(w.cfg.IdleTimeBetweenReads):
		}
	}
}

// The Go SDK's event-stream codec (smithy-go internal/eventstream.Codec,
// one per client) reuses one payload buffer for every event of every
// subscription made through that client, so concurrent subscriptions on one
// client race on it and may corrupt each other's events (seen with the race
// detector, smithy-go v1.28.9). Each subscription therefore gets its own
// client when the API is a *kinesis.Client (anything with Options()); for
// other implementations the calls are at least serialised by subscribeMu.
var subscribeMu sync.Mutex

// fanOutFetcher reads with SubscribeToShard; a subscription that ends
// (after five minutes, or on error) is renewed after the last continuation
// sequence number.
type fanOutFetcher struct {
	w       *Worker
	shardID string
	start   position
	cont    string // ContinuationSequenceNumber of the last event
	stream  *kinesis.SubscribeToShardEventStream
	cancel  context.CancelFunc
}

func (w *Worker) newFanOutFetcher(ctx context.Context, shardID string, start position) (fetcher, error) {
	f := &fanOutFetcher{w: w, shardID: shardID, start: start}
	if err := f.subscribe(ctx); err != nil {
		return nil, err
	}
	return f, nil
}

func (f *fanOutFetcher) subscribe(ctx context.Context) error {
	pos := &types.StartingPosition{}
	switch {
	case f.cont != "":
		pos.Type, pos.SequenceNumber = types.ShardIteratorTypeAfterSequenceNumber, aws.String(f.cont)
	case isSequence(f.start.seq):
		pos.Type, pos.SequenceNumber = types.ShardIteratorTypeAtSequenceNumber, aws.String(f.start.seq)
	case f.start.seq == Latest:
		pos.Type = types.ShardIteratorTypeLatest
	default:
		pos.Type = types.ShardIteratorTypeTrimHorizon
	}
	sctx, cancel := context.WithCancel(ctx)
	api := f.w.cfg.Kinesis.(FanOutAPI)
	own := false
	if o, ok := api.(interface{ Options() kinesis.Options }); ok {
		api, own = kinesis.New(o.Options()), true // a codec of its own
	}
	if !own {
		subscribeMu.Lock()
	}
	out, err := api.SubscribeToShard(sctx, &kinesis.SubscribeToShardInput{
		ConsumerARN: aws.String(f.w.consumerARN), ShardId: aws.String(f.shardID), StartingPosition: pos})
	if !own {
		subscribeMu.Unlock()
	}
	if err != nil {
		cancel()
		return fmt.Errorf("subscribe to shard: %w", err)
	}
	f.stream, f.cancel = out.GetStream(), cancel
	return nil
}

func (f *fanOutFetcher) next(ctx context.Context) (batch, error) {
	if f.stream == nil {
		if err := f.subscribe(ctx); err != nil {
			return batch{}, err
		}
	}
	select {
	case <-ctx.Done():
		return batch{}, ctx.Err()
	case ev, ok := <-f.stream.Events():
		if !ok {
			err := f.stream.Err()
			f.close()
			return batch{}, err // nil: the subscription ended normally; the next call renews it
		}
		e, ok := ev.(*types.SubscribeToShardEventStreamMemberSubscribeToShardEvent)
		if !ok {
			return batch{}, nil
		}
		v := e.Value
		b := batch{records: v.Records, millisBehind: aws.ToInt64(v.MillisBehindLatest)}
		if v.ContinuationSequenceNumber == nil {
			b.end, b.children = true, v.ChildShards
		} else {
			f.cont = aws.ToString(v.ContinuationSequenceNumber)
		}
		return b, nil
	}
}

func (f *fanOutFetcher) close() {
	if f.stream != nil {
		f.stream.Close()
		f.stream = nil
	}
	if f.cancel != nil {
		f.cancel()
		f.cancel = nil
	}
}
