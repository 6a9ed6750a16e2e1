package firehose

// PutRecordBatch appends up to 500 records (4 MiB in all) in one durable
// append. The batch is all or nothing on Eddy's log: if the append fails,
// every entry reports ServiceUnavailableException and FailedPutCount equals
// the batch size, which the SDKs' retry of failed entries handles.

import (
	"fmt"

	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/awsproto"
	"github.com/eddy-streams/eddy/internal/storage"
)

func (s *Service) putRecordBatch(req *awsproto.Request) (any, error) {
	var in putRecordBatchInput
	if err := decodePutRecordBatch(req, &in); err != nil {
		return nil, err
	}
	var v awserr.Validation
	validateName(&v, in.DeliveryStreamName, "deliveryStreamName")
	switch {
	case in.Records == nil:
		v.Add(nil, "records", "Member must not be null")
	case len(in.Records) < 1:
		v.Add("[]", "records", "Member must have length greater than or equal to 1")
	case len(in.Records) > maxBatchRecords:
		v.Add(fmt.Sprintf("[%d records]", len(in.Records)), "records", "Member must have length less than or equal to 500")
	}
	total := 0
	for i, r := range in.Records {
		if r.Data == nil {
			v.Add(nil, fmt.Sprintf("records.%d.member.data", i+1), "Member must not be null")
		} else if len(r.Data) > maxRecordBytes {
			v.Add(blobValue(len(r.Data)), fmt.Sprintf("records.%d.member.data", i+1), "Member must have length less than or equal to 1024000")
		}
		total += len(r.Data)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if total > maxBatchBytes {
		return nil, awserr.InvalidArgument("Records size exceeds 4 MB limit")
	}
	st, id, enc, err := s.target(req, *in.DeliveryStreamName)
	if err != nil {
		return nil, err
	}
	recs := make([]storage.Record, len(in.Records))
	for i, r := range in.Records {
		recs[i] = storage.Record{Data: r.Data}
	}
	out := putRecordBatchOutput{Encrypted: enc, RequestResponses: make([]batchEntry, len(recs))}
	res, err := s.backend.Append(req.Ctx, id, recs)
	if err != nil {
		// Nothing of the batch was acknowledged: every entry fails, and the
		// caller retries them, as it would after throttling.
		s.log.Error("append to buffer", "stream", *in.DeliveryStreamName, "err", err)
		out.FailedPutCount = len(recs)
		for i := range out.RequestResponses {
			out.RequestResponses[i] = batchEntry{ErrorCode: awserr.TServiceUnavailable, ErrorMessage: "Unable to persist the record. Please retry."}
		}
		return out, nil
	}
	for i := range out.RequestResponses {
		out.RequestResponses[i].RecordId = recordID(st, res.FirstPos+uint64(i))
	}
	st.m.incoming(len(recs), total)
	return out, nil
}
