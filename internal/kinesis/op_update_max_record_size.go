package kinesis

// UpdateMaxRecordSize sets the largest record (data + partition key) a
// stream accepts, 1024..10240 KiB (ValidationException outside). StreamARN
// only; the stream must be ACTIVE. Takes effect at once (no UPDATING phase;
// unverified whether AWS shows one).

import (
	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/awsproto"
)

type updateMaxRecordSizeInput struct {
	StreamARN          *string `json:"StreamARN"`
	MaxRecordSizeInKiB *int64  `json:"MaxRecordSizeInKiB"`
}

func init() { register("UpdateMaxRecordSize", (*Service).updateMaxRecordSize) }

func (s *Service) updateMaxRecordSize(r *awsproto.Request) (any, error) {
	var in updateMaxRecordSizeInput
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	var v awserr.Validation
	if in.MaxRecordSizeInKiB == nil {
		v.Add(nil, "maxRecordSizeInKiB", "Member must not be null")
	}
	checkRange(&v, in.MaxRecordSizeInKiB, "maxRecordSizeInKiB", 1024, 10240)
	if in.StreamARN != nil {
		checkLen(&v, *in.StreamARN, "streamARN", 1, 2048)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if in.StreamARN == nil || *in.StreamARN == "" {
		return nil, awserr.InvalidArgument("StreamARN should be provided.")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st, err := s.activeLocked(r, nil, in.StreamARN)
	if err != nil {
		return nil, err
	}
	st.MaxRecordKiB = int(*in.MaxRecordSizeInKiB)
	return nil, s.commitLocked()
}
