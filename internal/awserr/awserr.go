// Package awserr is the catalogue of AWS-facing errors: each has the wire
// `__type`, an HTTP status and a message. Handlers return *Error values built
// here; the gateway encodes them in the request's protocol (JSON 1.1 or CBOR).
package awserr

import (
	"fmt"
	"strings"
)

// Error is an error as AWS reports it on the wire.
type Error struct {
	Type    string // the `__type` on the wire, e.g. "ResourceNotFoundException"
	Message string
	Status  int // HTTP status
}

func (e *Error) Error() string { return e.Type + ": " + e.Message }

// New builds an error of the given type and status.
func New(typ string, status int, format string, args ...any) *Error {
	msg := format
	if len(args) > 0 {
		msg = fmt.Sprintf(format, args...)
	}
	return &Error{Type: typ, Status: status, Message: msg}
}

// Types shared by Kinesis and Firehose.
const (
	TResourceNotFound              = "ResourceNotFoundException"
	TResourceInUse                 = "ResourceInUseException"
	TInvalidArgument               = "InvalidArgumentException"
	TValidation                    = "ValidationException"
	TLimitExceeded                 = "LimitExceededException"
	TProvisionedThroughputExceeded = "ProvisionedThroughputExceededException"
	TExpiredIterator               = "ExpiredIteratorException"
	TExpiredNextToken              = "ExpiredNextTokenException"
	TAccessDenied                  = "AccessDeniedException"
	TInternalFailure               = "InternalFailure"
	TUnknownOperation              = "UnknownOperationException"
	TSerialization                 = "SerializationException"
	TMissingAuthenticationToken    = "MissingAuthenticationTokenException"
	TIncompleteSignature           = "IncompleteSignatureException"
	TInvalidSignature              = "InvalidSignatureException"
	TUnrecognizedClient            = "UnrecognizedClientException"
	TServiceUnavailable            = "ServiceUnavailableException"
	TKMSDisabled                   = "KMSDisabledException"
	TKMSNotFound                   = "KMSNotFoundException"
	TInvalidArgumentFirehose       = "InvalidArgumentException"
	TConcurrentModification        = "ConcurrentModificationException"
	TInvalidKMSResource            = "InvalidKMSResourceException"
	TInvalidSource                 = "InvalidSourceException"
)

func ResourceNotFound(format string, a ...any) *Error {
	return New(TResourceNotFound, 400, format, a...)
}
func ResourceInUse(format string, a ...any) *Error { return New(TResourceInUse, 400, format, a...) }
func InvalidArgument(format string, a ...any) *Error {
	return New(TInvalidArgument, 400, format, a...)
}
func LimitExceeded(format string, a ...any) *Error { return New(TLimitExceeded, 400, format, a...) }
func ThroughputExceeded(format string, a ...any) *Error {
	return New(TProvisionedThroughputExceeded, 400, format, a...)
}
func ExpiredIterator(format string, a ...any) *Error {
	return New(TExpiredIterator, 400, format, a...)
}
func ExpiredNextToken(format string, a ...any) *Error {
	return New(TExpiredNextToken, 400, format, a...)
}
func AccessDenied(format string, a ...any) *Error { return New(TAccessDenied, 400, format, a...) }
func Serialization(format string, a ...any) *Error {
	return New(TSerialization, 400, format, a...)
}
func UnknownOperation() *Error { return &Error{Type: TUnknownOperation, Status: 400} }

// Internal is the 500 an unexpected server fault gets. The cause is logged by
// the caller, never sent.
func Internal() *Error { return &Error{Type: TInternalFailure, Status: 500} }

// ServiceUnavailable is a 503 for a temporarily unable backend.
func ServiceUnavailable(format string, a ...any) *Error {
	return New(TServiceUnavailable, 503, format, a...)
}

// Validation collects model-constraint violations and renders them the way
// AWS does: "2 validation errors detected: Value 'x' at 'streamName' failed to
// satisfy constraint: Member must ...; Value ...". AWS lists at most 10.
type Validation struct {
	msgs []string
}

// Add records that value at path breaks constraint. A nil value renders as
// "null", as AWS does for missing required members.
func (v *Validation) Add(value any, path, constraint string) {
	var sv string
	switch x := value.(type) {
	case nil:
		v.msgs = append(v.msgs, fmt.Sprintf("Value null at '%s' failed to satisfy constraint: %s", path, constraint))
		return
	case string:
		sv = x
	case *string:
		if x == nil {
			v.msgs = append(v.msgs, fmt.Sprintf("Value null at '%s' failed to satisfy constraint: %s", path, constraint))
			return
		}
		sv = *x
	default:
		sv = fmt.Sprint(x)
	}
	v.msgs = append(v.msgs, fmt.Sprintf("Value '%s' at '%s' failed to satisfy constraint: %s", sv, path, constraint))
}

// Len reports how many violations were recorded.
func (v *Validation) Len() int { return len(v.msgs) }

// Err returns nil when nothing was recorded, else the ValidationException.
func (v *Validation) Err() error {
	if len(v.msgs) == 0 {
		return nil
	}
	msgs := v.msgs
	if len(msgs) > 10 {
		msgs = msgs[:10]
	}
	noun := "error"
	if len(v.msgs) > 1 {
		noun = "errors"
	}
	return New(TValidation, 400, "%d validation %s detected: %s", len(v.msgs), noun, strings.Join(msgs, "; "))
}

// As unwraps err into an *Error, or reports false.
func As(err error) (*Error, bool) {
	for err != nil {
		if e, ok := err.(*Error); ok {
			return e, true
		}
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return nil, false
		}
		err = u.Unwrap()
	}
	return nil, false
}
