package kinesis

// DecreaseStreamRetentionPeriod shortens a stream's retention, 24..8760
// hours; a value above the current one is refused with AWS's message (equal
// is accepted). Records older than the new period become unreadable before
// the call returns (every shard, open or closed, is trimmed), as AWS
// documents. The stream must be ACTIVE.

import (
	"context"
	"errors"
	"time"

	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/awsproto"
	"github.com/eddy-streams/eddy/internal/storage"
)

func init() { register("DecreaseStreamRetentionPeriod", (*Service).decreaseStreamRetentionPeriod) }

func (s *Service) decreaseStreamRetentionPeriod(r *awsproto.Request) (any, error) {
	var in retentionInput
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	if err := in.validate(); err != nil {
		return nil, err
	}
	h := int(*in.RetentionPeriodHours)
	s.mu.Lock()
	defer s.mu.Unlock()
	st, err := s.activeLocked(r, in.StreamName, in.StreamARN)
	if err != nil {
		return nil, err
	}
	if h > st.RetentionHours {
		return nil, awserr.InvalidArgument("Requested retention period (%d hours) for stream %s can not be longer than existing retention period (%d hours). Use IncreaseRetentionPeriod API.", h, st.Name, st.RetentionHours)
	}
	st.RetentionHours = h
	if err := s.commitLocked(); err != nil {
		return nil, err
	}
	cutoff := s.now().Add(-time.Duration(h) * time.Hour).UnixMilli()
	ctx := r.Ctx
	if ctx == nil {
		ctx = context.Background()
	}
	for _, sh := range st.Shards {
		err := s.backend.Trim(context.WithoutCancel(ctx), storage.ShardID{Stream: st.ID, Index: sh.Index}, cutoff)
		if err != nil && !errors.Is(err, storage.ErrNotFound) {
			s.log.Error("retention trim failed", "stream", st.Name, "shard", sh.id, "err", err)
			return nil, awserr.Internal()
		}
	}
	return nil, nil
}
