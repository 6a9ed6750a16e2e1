package dynamodb

import (
	"fmt"

	"github.com/eddy-streams/eddy/internal/awserr"
)

// DynamoDB error types. The wire `__type` carries AWS's namespace prefix
// (see wireType); SDKs match on the part after '#'.
const (
	tValidation            = "ValidationException"
	tResourceNotFound      = "ResourceNotFoundException"
	tResourceInUse         = "ResourceInUseException"
	tConditionalCheck      = "ConditionalCheckFailedException"
	tTransactionCanceled   = "TransactionCanceledException"
	tUnknownOperation      = "UnknownOperationException"
	tSerialization         = "SerializationException"
	tLimitExceeded         = "LimitExceededException"
	tInternalServer        = "InternalServerError"
	tTransactionInProgress = "TransactionInProgressException"
)

// wireType is the namespaced `__type` DynamoDB sends for t.
func wireType(t string) string {
	switch t {
	case tValidation:
		return "com.amazon.coral.validate#ValidationException"
	case tUnknownOperation, tSerialization:
		return "com.amazon.coral.service#" + t
	case awserr.TMissingAuthenticationToken, awserr.TIncompleteSignature, awserr.TInvalidSignature, awserr.TUnrecognizedClient, awserr.TAccessDenied:
		return "com.amazon.coral.service#" + t
	case awserr.TInternalFailure:
		return "com.amazonaws.dynamodb.v20120810#InternalServerError"
	}
	return "com.amazonaws.dynamodb.v20120810#" + t
}

// apiError is an AWS error with DynamoDB's extra members: the item of a
// failed condition check (ReturnValuesOnConditionCheckFailure=ALL_OLD) and
// the reasons of a cancelled transaction.
type apiError struct {
	AWS     *awserr.Error
	Item    Item
	Reasons []cancelReason
}

func (e *apiError) Error() string { return e.AWS.Error() }
func (e *apiError) Unwrap() error { return e.AWS }

type cancelReason struct {
	Code    string `json:"Code,omitempty"`
	Message string `json:"Message,omitempty"`
	Item    Item   `json:"Item,omitempty"`
}

// invalid is a ValidationException with a formatted message.
func invalid(format string, a ...any) *awserr.Error {
	msg := format
	if len(a) > 0 {
		msg = fmt.Sprintf(format, a...)
	}
	return &awserr.Error{Type: tValidation, Status: 400, Message: msg}
}

func notFound() *awserr.Error {
	return &awserr.Error{Type: tResourceNotFound, Status: 400, Message: "Requested resource not found"}
}

func conditionFailed(old Item) error {
	return &apiError{AWS: &awserr.Error{Type: tConditionalCheck, Status: 400, Message: "The conditional request failed"}, Item: old}
}

func notFoundMsg(msg string) *awserr.Error {
	return &awserr.Error{Type: tResourceNotFound, Status: 400, Message: msg}
}
