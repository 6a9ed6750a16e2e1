package kinesis

// StartStreamEncryption turns on (or changes the key of) server-side
// encryption: EncryptionType KMS and a KeyId (key id or ARN, alias name or
// ARN, e.g. alias/aws/kinesis). The stream is UPDATING for
// Options.TransitionDelay; from then on PutRecord(s) answer EncryptionType
// KMS and GetRecords marks records KMS. Differences: there is no KMS, so the
// key is not checked and data is not encrypted at rest by a KMS key (no KMS*
// errors); the 25 key changes per rolling 24 hours are not counted.

import (
	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/awsproto"
)

type streamEncryptionInput struct {
	StreamName     *string `json:"StreamName"`
	StreamARN      *string `json:"StreamARN"`
	EncryptionType *string `json:"EncryptionType"`
	KeyId          *string `json:"KeyId"`
}

func init() { register("StartStreamEncryption", (*Service).startStreamEncryption) }

// validate checks the model constraints shared by Start/StopStreamEncryption.
func (in *streamEncryptionInput) validate() error {
	var v awserr.Validation
	if in.KeyId == nil {
		v.Add(nil, "keyId", "Member must not be null")
	} else {
		checkLen(&v, *in.KeyId, "keyId", 1, 2048)
	}
	if in.EncryptionType == nil {
		v.Add(nil, "encryptionType", "Member must not be null")
	} else if *in.EncryptionType != "KMS" && *in.EncryptionType != "NONE" {
		v.Add(*in.EncryptionType, "encryptionType", "Member must satisfy enum value set: [KMS, NONE]")
	}
	return requireStreamRef(&v, in.StreamName, in.StreamARN)
}

func (s *Service) startStreamEncryption(r *awsproto.Request) (any, error) {
	var in streamEncryptionInput
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	if err := in.validate(); err != nil {
		return nil, err
	}
	if *in.EncryptionType != "KMS" {
		return nil, awserr.InvalidArgument("Encryption type %s is not supported. Use KMS.", *in.EncryptionType)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st, err := s.activeLocked(r, in.StreamName, in.StreamARN)
	if err != nil {
		return nil, err
	}
	st.Encryption, st.KeyID = "KMS", *in.KeyId
	s.transitionLocked(st, stateUpdating)
	return nil, s.commitLocked()
}
