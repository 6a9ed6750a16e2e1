package awsproto

import "context"

// Request is one decoded API call as the gateway hands it to a service.
type Request struct {
	Ctx       context.Context
	Operation string // e.g. "PutRecords" (the X-Amz-Target suffix)
	Codec     Codec
	Body      []byte
	Account   string // 12 digits, from the credential scope or the server default
	Region    string
	RequestID string
}

// Service answers the operations of one target prefix.
type Service interface {
	// TargetPrefix is the X-Amz-Target prefix, e.g. "Kinesis_20131202".
	TargetPrefix() string
	// Handle runs req.Operation. It returns the response shape (encoded by
	// the gateway in req.Codec), a []byte already encoded in req.Codec, or an
	// error (*awserr.Error for AWS errors; anything else is InternalFailure).
	Handle(req *Request) (any, error)
}

// Raw is a response body that is already encoded in the request's codec.
type Raw []byte

// Pooled is a response body already encoded in the request's codec whose
// buffer goes back to its owner (Release) once the gateway has written it.
type Pooled struct {
	B       []byte
	Release func()
}

// EncodeResult turns a Service's result into response bytes: Raw and []byte
// as they are, Pooled with its release function (call it once the bytes are
// written), anything else encoded in the codec. release is never nil.
func EncodeResult(c Codec, out any) (payload []byte, release func(), err error) {
	switch v := out.(type) {
	case Raw:
		return v, func() {}, nil
	case []byte:
		return v, func() {}, nil
	case Pooled:
		return v.B, v.Release, nil
	}
	payload, err = Encode(c, out)
	return payload, func() {}, err
}
