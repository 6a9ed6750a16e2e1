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
