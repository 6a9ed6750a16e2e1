package firehose

// DeleteDeliveryStream removes a stream at once (AWS passes through
// DELETING; Eddy has nothing to wait for) and stops its delivery. Data still
// buffered is discarded with the buffer log, as AWS does.

import (
	"errors"

	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/awsproto"
	"github.com/eddy-streams/eddy/internal/storage"
)

func (s *Service) deleteDeliveryStream(req *awsproto.Request) (any, error) {
	var in nameInput
	if err := awsproto.Decode(req.Codec, req.Body, &in); err != nil {
		return nil, err
	}
	var v awserr.Validation
	validateName(&v, in.DeliveryStreamName, "deliveryStreamName")
	if err := v.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	st, err := s.lookupLocked(req, *in.DeliveryStreamName)
	if err != nil {
		s.mu.Unlock()
		return nil, err
	}
	delete(s.streams, streamKey(req.Account, req.Region, *in.DeliveryStreamName))
	close(st.stop)
	s.mu.Unlock()
	s.metrics.drop(st.meta.Account, st.meta.Region, st.meta.Name)
	if err := s.save(); err != nil {
		s.log.Error("save metadata", "err", err)
		return nil, awserr.Internal()
	}
	// Pending buffered data is discarded, as AWS does.
	if err := s.backend.DeleteShard(req.Ctx, st.meta.shardID()); err != nil && !errors.Is(err, storage.ErrNotFound) {
		s.log.Warn("delete buffer log", "stream", st.meta.Name, "err", err)
	}
	return struct{}{}, nil
}
