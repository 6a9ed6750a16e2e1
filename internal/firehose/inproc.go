package firehose

// In-process access for other services of the same server (the analytics
// runner): put records into a Direct PUT delivery stream, and find the
// buffer log a delivery stream keeps, to read it as an analytics source.

import (
	"context"
	"errors"
	"fmt"
	"regexp"

	"github.com/eddy-streams/eddy/internal/storage"
)

// ErrNoDeliveryStream: no such delivery stream.
var ErrNoDeliveryStream = errors.New("firehose: delivery stream not found")

var deliveryARN = regexp.MustCompile(`^arn:aws[a-z-]*:firehose:([a-z0-9-]+):([0-9]{12}):deliverystream/([a-zA-Z0-9_.-]{1,64})$`)

// ParseARN splits a delivery stream ARN.
func ParseARN(arn string) (account, region, name string, ok bool) {
	m := deliveryARN.FindStringSubmatch(arn)
	if m == nil {
		return "", "", "", false
	}
	return m[2], m[1], m[3], true
}

// PutBatch appends records to a Direct PUT delivery stream, as
// PutRecordBatch does, and returns once they are durable.
func (s *Service) PutBatch(ctx context.Context, account, region, name string, recs [][]byte) error {
	s.mu.Lock()
	st := s.streams[streamKey(account, region, name)]
	var id storage.ShardID
	var direct bool
	if st != nil {
		id, direct = st.meta.shardID(), st.meta.Type == typeDirectPut
	}
	s.mu.Unlock()
	if st == nil {
		return fmt.Errorf("%w: %s in %s/%s", ErrNoDeliveryStream, name, account, region)
	}
	if !direct {
		return fmt.Errorf("firehose: %s reads a Kinesis stream and takes no direct puts", name)
	}
	batch := make([]storage.Record, len(recs))
	total := 0
	for i, r := range recs {
		batch[i] = storage.Record{Data: r}
		total += len(r)
	}
	if _, err := s.backend.Append(ctx, id, batch); err != nil {
		return fmt.Errorf("firehose: append to %s: %w", name, err)
	}
	st.m.incoming(len(recs), total)
	return nil
}

// BufferLog returns the shard log holding a delivery stream's records (the
// records arrive there as producers put them; delivery trims them after it
// has written them to the destination).
func (s *Service) BufferLog(account, region, name string) (storage.ShardID, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.streams[streamKey(account, region, name)]
	if st == nil {
		return storage.ShardID{}, fmt.Errorf("%w: %s in %s/%s", ErrNoDeliveryStream, name, account, region)
	}
	return st.meta.shardID(), nil
}
