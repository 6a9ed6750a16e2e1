package firehose

import (
	"context"
	"errors"
	"fmt"
	"github.com/eddy-streams/eddy/internal/awsclient"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	ktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/eddy-streams/eddy/internal/storage"
	"github.com/eddy-streams/eddy/pkg/kpl"
)

// KinesisSource is what a KinesisStreamAsSource delivery stream needs from a
// data stream. The default implementation is the AWS SDK Kinesis client
// pointed at Options.KinesisEndpoint; tests may substitute their own.
type KinesisSource interface {
	ListShards(ctx context.Context, in *kinesis.ListShardsInput, optFns ...func(*kinesis.Options)) (*kinesis.ListShardsOutput, error)
	GetShardIterator(ctx context.Context, in *kinesis.GetShardIteratorInput, optFns ...func(*kinesis.Options)) (*kinesis.GetShardIteratorOutput, error)
	GetRecords(ctx context.Context, in *kinesis.GetRecordsInput, optFns ...func(*kinesis.Options)) (*kinesis.GetRecordsOutput, error)
}

func (s *Service) kinesisClient(region, account string) KinesisSource {
	if s.opts.KinesisClient != nil {
		return s.opts.KinesisClient(region, account)
	}
	s.mu.Lock()
	endpoint := s.opts.KinesisEndpoint
	s.mu.Unlock()
	ak, sk := s.opts.KinesisAccessKey, s.opts.KinesisSecretKey
	if ak == "" {
		ak = account // a 12-digit access key id names the account, as with kinesis-mock
	}
	if sk == "" {
		sk = "eddy"
	}
	return kinesis.New(kinesis.Options{
		Region:           region,
		BaseEndpoint:     aws.String(endpoint),
		Credentials:      credentials.NewStaticCredentialsProvider(ak, sk, ""),
		HTTPClient:       awsclient.OwnBody{Next: &http.Client{Timeout: time.Minute}},
		RetryMaxAttempts: 3,
	})
}

// kinesisLoop copies the source data stream into the delivery stream's
// buffer log: shards are read in lineage order (a child only after its
// parents are finished), aggregated KPL records are split, and the last
// sequence number appended per shard is checkpointed in metadata after each
// append, so a restart resumes after it (at least once).
func (s *Service) kinesisLoop(ctx context.Context, st *stream) {
	s.mu.Lock()
	arn := deref(st.meta.KinesisSource.KinesisStreamARN)
	startMs := st.meta.StartMs
	s.mu.Unlock()
	region, account, streamName, _ := parseStreamARN(arn)
	log := s.log.With("stream", st.meta.Name, "source", arn)
	client := s.kinesisClient(region, account)
	id := st.meta.shardID()
	iters := map[string]*string{}
	for {
		busy, err := s.pollKinesis(ctx, st, client, streamName, startMs, id, iters)
		if err != nil && ctx.Err() == nil {
			log.Warn("read source stream", "err", err)
		}
		if busy && err == nil {
			select {
			case <-ctx.Done():
				return
			case <-st.stop:
				return
			default:
			}
			continue
		}
		t := time.NewTimer(s.opts.KinesisPollInterval)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-st.stop:
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// pollKinesis does one GetRecords per readable shard. busy reports that some
// shard returned records and may have more.
func (s *Service) pollKinesis(ctx context.Context, st *stream, client KinesisSource, streamName string, startMs int64, id storage.ShardID, iters map[string]*string) (busy bool, err error) {
	var shards []ktypes.Shard
	in := &kinesis.ListShardsInput{StreamName: aws.String(streamName)}
	for {
		out, err := client.ListShards(ctx, in)
		if err != nil {
			return false, fmt.Errorf("list shards: %w", err)
		}
		shards = append(shards, out.Shards...)
		if out.NextToken == nil {
			break
		}
		in = &kinesis.ListShardsInput{NextToken: out.NextToken}
	}
	known := map[string]bool{}
	for _, sh := range shards {
		known[deref(sh.ShardId)] = true
	}
	var behind int64
	defer func() { st.m.kdsBehindMs.Store(behind) }()
	for _, sh := range shards {
		shardID := deref(sh.ShardId)
		s.mu.Lock()
		prog := st.meta.Shards[shardID]
		ready := prog == nil || !prog.Done
		for _, parent := range []*string{sh.ParentShardId, sh.AdjacentParentShardId} {
			if p := deref(parent); p != "" && known[p] {
				if pp := st.meta.Shards[p]; pp == nil || !pp.Done {
					ready = false
				}
			}
		}
		var seq string
		if prog != nil {
			seq = prog.Seq
		}
		s.mu.Unlock()
		if !ready {
			continue
		}
		it := iters[shardID]
		if it == nil {
			gin := &kinesis.GetShardIteratorInput{StreamName: aws.String(streamName), ShardId: aws.String(shardID)}
			if seq != "" {
				gin.ShardIteratorType = ktypes.ShardIteratorTypeAfterSequenceNumber
				gin.StartingSequenceNumber = aws.String(seq)
			} else {
				gin.ShardIteratorType = ktypes.ShardIteratorTypeAtTimestamp
				gin.Timestamp = aws.Time(time.UnixMilli(startMs))
			}
			out, err := client.GetShardIterator(ctx, gin)
			if err != nil {
				return busy, fmt.Errorf("get shard iterator %s: %w", shardID, err)
			}
			it = out.ShardIterator
		}
		out, err := client.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: it, Limit: aws.Int32(10000)})
		if err != nil {
			var expired *ktypes.ExpiredIteratorException
			if errors.As(err, &expired) {
				delete(iters, shardID)
				return true, nil
			}
			return busy, fmt.Errorf("get records %s: %w", shardID, err)
		}
		behind = max(behind, deref(out.MillisBehindLatest))
		if len(out.Records) > 0 {
			var recs []storage.Record
			nbytes := 0
			for _, r := range out.Records {
				nbytes += len(r.Data)
				// the source metadata rides in the buffered record's
				// partition key, rendered as the kinesisRecordMetadata of
				// Lambda transformation events (transform.go)
				if subs, ok := kpl.Deaggregate(r.Data); ok {
					for i, sub := range subs {
						recs = append(recs, storage.Record{Data: sub.Data, PartitionKey: string(sourceMetadata(shardID, sub.PartitionKey, r, i))})
					}
					continue
				}
				recs = append(recs, storage.Record{Data: r.Data, PartitionKey: string(sourceMetadata(shardID, deref(r.PartitionKey), r, 0))})
			}
			if len(recs) > 0 {
				if _, err := s.backend.Append(ctx, id, recs); err != nil {
					delete(iters, shardID) // re-read from the checkpoint
					return busy, fmt.Errorf("append to buffer: %w", err)
				}
			}
			st.m.kdsRecords.Add(int64(len(out.Records)))
			st.m.kdsBytes.Add(int64(nbytes))
			inBytes := 0
			for _, r := range recs {
				inBytes += len(r.Data)
			}
			st.m.incomingRecords.Add(int64(len(recs)))
			st.m.incomingBytes.Add(int64(inBytes))
			seq = deref(out.Records[len(out.Records)-1].SequenceNumber)
			busy = true
		}
		done := out.NextShardIterator == nil
		if len(out.Records) > 0 || done {
			s.mu.Lock()
			if st.meta.Shards == nil {
				st.meta.Shards = map[string]*shardProgress{}
			}
			st.meta.Shards[shardID] = &shardProgress{Seq: seq, Done: done}
			s.mu.Unlock()
			if err := s.saveCheckpoint(st); err != nil {
				return busy, err
			}
		}
		if done {
			delete(iters, shardID)
			busy = true // children may be readable now
		} else {
			iters[shardID] = out.NextShardIterator
		}
	}
	return busy, nil
}
