package firehose

// PutRecord appends one record (at most 1,000 KiB) to the stream's durable
// buffer and answers only after the append is durable under the server's
// --durability policy. The RecordId encodes the stream and the buffer
// position. Streams with a Kinesis source refuse direct puts; a failed
// append is ServiceUnavailableException, so the producer retries.

import (
	"fmt"

	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/awsproto"
	"github.com/eddy-streams/eddy/internal/storage"
)

func blobValue(n int) string {
	return fmt.Sprintf("java.nio.HeapByteBuffer[pos=0 lim=%d cap=%d]", n, n)
}

// target resolves a stream for a put and checks it accepts direct puts.
func (s *Service) target(req *awsproto.Request, name string) (*stream, storage.ShardID, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, err := s.lookupLocked(req, name)
	if err != nil {
		return nil, storage.ShardID{}, false, err
	}
	if st.meta.Type != typeDirectPut {
		return nil, storage.ShardID{}, false, awserr.InvalidArgument("This operation is not permitted on KinesisStreamAsSource delivery stream type.")
	}
	return st, st.meta.shardID(), st.meta.EncStatus == encEnabled, nil
}

func recordID(st *stream, pos uint64) string {
	return fmt.Sprintf("%s%016x", st.meta.ID, pos)
}

func (s *Service) putRecord(req *awsproto.Request) (any, error) {
	var in putRecordInput
	if err := awsproto.Decode(req.Codec, req.Body, &in); err != nil {
		return nil, err
	}
	var v awserr.Validation
	validateName(&v, in.DeliveryStreamName, "deliveryStreamName")
	if in.Record == nil {
		v.Add(nil, "record", "Member must not be null")
	} else if in.Record.Data == nil {
		v.Add(nil, "record.data", "Member must not be null")
	} else if len(in.Record.Data) > maxRecordBytes {
		v.Add(blobValue(len(in.Record.Data)), "record.data", "Member must have length less than or equal to 1024000")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	st, id, enc, err := s.target(req, *in.DeliveryStreamName)
	if err != nil {
		return nil, err
	}
	res, err := s.backend.Append(req.Ctx, id, []storage.Record{{Data: in.Record.Data}})
	if err != nil {
		s.log.Error("append to buffer", "stream", *in.DeliveryStreamName, "err", err)
		return nil, awserr.ServiceUnavailable("Unable to persist the record. Please retry.")
	}
	st.m.incoming(1, len(in.Record.Data))
	return putRecordOutput{RecordId: recordID(st, res.FirstPos), Encrypted: enc}, nil
}
