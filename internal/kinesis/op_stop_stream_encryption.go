package kinesis

// StopStreamEncryption turns server-side encryption off (EncryptionType KMS
// and the KeyId in use). The stream is UPDATING for Options.TransitionDelay;
// records written afterwards are not marked KMS. Lenient where AWS's
// behaviour is unverified: the KeyId need not match the stream's (an alias
// and a key ARN may name the same key), and stopping on a stream that is not
// encrypted succeeds without a state change.

import (
	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/awsproto"
)

func init() { register("StopStreamEncryption", (*Service).stopStreamEncryption) }

func (s *Service) stopStreamEncryption(r *awsproto.Request) (any, error) {
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
	if st.Encryption != "KMS" {
		return nil, nil
	}
	st.Encryption, st.KeyID = "NONE", ""
	s.transitionLocked(st, stateUpdating)
	return nil, s.commitLocked()
}
