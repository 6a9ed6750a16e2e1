package analytics

import "github.com/eddy-streams/eddy/internal/awserr"

// Error types of the two APIs (botocore models).
const (
	TCodeValidation                = "CodeValidationException"
	TConcurrentModification        = "ConcurrentModificationException"
	TInvalidApplicationConfig      = "InvalidApplicationConfigurationException"
	TInvalidArgument               = "InvalidArgumentException"
	TInvalidRequest                = "InvalidRequestException"
	TLimitExceeded                 = "LimitExceededException"
	TResourceInUse                 = "ResourceInUseException"
	TResourceNotFound              = "ResourceNotFoundException"
	TResourceProvisionedThroughput = "ResourceProvisionedThroughputExceededException"
	TTooManyTags                   = "TooManyTagsException"
	TUnableToDetectSchema          = "UnableToDetectSchemaException"
	TUnsupportedOperation          = "UnsupportedOperationException"
)

func errNotFound(name string) error {
	return awserr.New(TResourceNotFound, 400, "Application %s is not found.", name)
}

func errV2Managed(name string) error {
	return awserr.New(TUnsupportedOperation, 400, "%s was created/updated by kinesisanalyticsv2 SDK. Please use kinesisanalyticsv2 SDK to make changes to %s.", name, name)
}

func errConcurrent(a *application, given int64) error {
	return awserr.New(TConcurrentModification, 400, "Current application version is %d; the provided version %d is not the current one. Describe the application to get the current version.", a.Version, given)
}

func errInvalidArg(format string, args ...any) error {
	return awserr.New(TInvalidArgument, 400, format, args...)
}
