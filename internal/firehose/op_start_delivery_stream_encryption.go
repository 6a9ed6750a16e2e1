package firehose

// StartDeliveryStreamEncryption records server-side encryption settings
// (AWS_OWNED_CMK by default, or a customer key ARN) on a DirectPut stream.
// Eddy has no KMS: the setting is reported by DescribeDeliveryStream and
// PutRecord's Encrypted flag, and the data at rest is as the disk holds it.
// Streams with a Kinesis source are refused, as AWS refuses them.

import (
	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/awsproto"
)

func (s *Service) startEncryption(req *awsproto.Request) (any, error) {
	var in startEncryptionInput
	if err := awsproto.Decode(req.Codec, req.Body, &in); err != nil {
		return nil, err
	}
	var v awserr.Validation
	validateName(&v, in.DeliveryStreamName, "deliveryStreamName")
	if err := v.Err(); err != nil {
		return nil, err
	}
	keyType, keyARN := keyAWSOwned, ""
	if in.DeliveryStreamEncryptionConfigurationInput != nil {
		var err error
		if keyType, keyARN, err = checkEncryptionInput(in.DeliveryStreamEncryptionConfigurationInput); err != nil {
			return nil, err
		}
	}
	return s.setEncryption(req, *in.DeliveryStreamName, func(m *streamMeta) {
		m.EncKeyType, m.EncKeyARN, m.EncStatus = keyType, keyARN, encEnabled
	})
}

func checkEncryptionInput(in *EncryptionInput) (keyType, keyARN string, err error) {
	if in == nil {
		return "", "", nil
	}
	keyType = deref(in.KeyType)
	keyARN = deref(in.KeyARN)
	switch keyType {
	case keyAWSOwned:
		if keyARN != "" {
			return "", "", awserr.InvalidArgument("KeyARN must not be specified when KeyType is AWS_OWNED_CMK.")
		}
	case keyCustomerOwned:
		if keyARN == "" {
			return "", "", awserr.InvalidArgument("KeyARN is required when KeyType is CUSTOMER_MANAGED_CMK.")
		}
	default:
		var v awserr.Validation
		v.Add(in.KeyType, "deliveryStreamEncryptionConfigurationInput.keyType", "Member must satisfy enum value set: [AWS_OWNED_CMK, CUSTOMER_MANAGED_CMK]")
		return "", "", v.Err()
	}
	return keyType, keyARN, nil
}

func (s *Service) setEncryption(req *awsproto.Request, name string, f func(*streamMeta)) (any, error) {
	s.mu.Lock()
	st, err := s.lookupLocked(req, name)
	if err != nil {
		s.mu.Unlock()
		return nil, err
	}
	if st.meta.Type != typeDirectPut {
		s.mu.Unlock()
		return nil, awserr.InvalidArgument("Server side encryption is only supported for DirectPut delivery stream type.")
	}
	f(&st.meta)
	s.mu.Unlock()
	if err := s.save(); err != nil {
		s.log.Error("save metadata", "err", err)
		return nil, awserr.Internal()
	}
	return struct{}{}, nil
}
