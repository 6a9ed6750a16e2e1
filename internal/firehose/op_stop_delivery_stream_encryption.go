package firehose

// StopDeliveryStreamEncryption clears the encryption settings of a
// DirectPut stream (status DISABLED); other stream types are refused.

import (
	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/awsproto"
)

func (s *Service) stopEncryption(req *awsproto.Request) (any, error) {
	var in nameInput
	if err := awsproto.Decode(req.Codec, req.Body, &in); err != nil {
		return nil, err
	}
	var v awserr.Validation
	validateName(&v, in.DeliveryStreamName, "deliveryStreamName")
	if err := v.Err(); err != nil {
		return nil, err
	}
	return s.setEncryption(req, *in.DeliveryStreamName, func(m *streamMeta) {
		m.EncKeyType, m.EncKeyARN, m.EncStatus = "", "", encDisabled
	})
}
