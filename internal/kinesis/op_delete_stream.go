package kinesis

// DeleteStream moves the stream to DELETING and removes it with its shard
// logs after Options.TransitionDelay (at once by default). With registered
// consumers it needs EnforceConsumerDeletion, as on AWS.

import (
	"context"

	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/awsproto"
	"github.com/eddy-streams/eddy/internal/storage"
)

type deleteStreamInput struct {
	StreamName              *string `json:"StreamName"`
	StreamARN               *string `json:"StreamARN"`
	EnforceConsumerDeletion *bool   `json:"EnforceConsumerDeletion"`
}

func init() { register("DeleteStream", (*Service).deleteStream) }

func (s *Service) deleteStream(r *awsproto.Request) (any, error) {
	var in deleteStreamInput
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	var v awserr.Validation
	if err := requireStreamRef(&v, in.StreamName, in.StreamARN); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st, err := s.lookupLocked(r, in.StreamName, in.StreamARN)
	if err != nil {
		return nil, err
	}
	if len(st.Consumers) > 0 && (in.EnforceConsumerDeletion == nil || !*in.EnforceConsumerDeletion) {
		return nil, awserr.ResourceInUse("Stream %s under account %s has registered consumers. Set EnforceConsumerDeletion to true to delete the stream and its consumers.", st.Name, st.Account)
	}
	if st.Status == stateDeleting {
		return nil, nil
	}
	st.Status = stateDeleting
	if s.opt.TransitionDelay <= 0 {
		s.finishDeleteLocked(st)
	} else {
		id := st.ID
		s.schedule(s.opt.TransitionDelay, func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			if cur := s.streams[nsKey{st.Account, st.Region, st.Name}]; cur != nil && cur.ID == id {
				s.finishDeleteLocked(cur)
				_ = s.commitLocked()
			}
		})
	}
	return nil, s.commitLocked()
}

// finishDeleteLocked drops the stream and its data.
func (s *Service) finishDeleteLocked(st *stream) {
	delete(s.streams, nsKey{st.Account, st.Region, st.Name})
	for _, c := range st.Consumers {
		if s.hooks.onConsumerGone != nil {
			s.hooks.onConsumerGone(st.consumerARN(c))
		}
	}
	ctx := context.Background()
	for _, sh := range st.Shards {
		if err := s.backend.DeleteShard(ctx, storage.ShardID{Stream: st.ID, Index: sh.Index}); err != nil {
			s.log.Warn("delete shard", "stream", st.Name, "shard", sh.id, "err", err)
		}
	}
	s.limits.forget(st.ID)
}
