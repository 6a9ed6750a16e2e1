package lambda

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/eddy-streams/eddy/internal/awserr"
)

// FunctionConfiguration is AWS's FunctionConfiguration shape (the subset
// Eddy keeps).
type FunctionConfiguration struct {
	FunctionName     string            `json:"FunctionName"`
	FunctionArn      string            `json:"FunctionArn"`
	Runtime          string            `json:"Runtime,omitempty"`
	Role             string            `json:"Role"`
	Handler          string            `json:"Handler,omitempty"`
	CodeSize         int64             `json:"CodeSize"`
	Description      string            `json:"Description"`
	Timeout          int               `json:"Timeout"`
	MemorySize       int               `json:"MemorySize"`
	LastModified     string            `json:"LastModified"`
	CodeSha256       string            `json:"CodeSha256"`
	Version          string            `json:"Version"`
	Environment      *Environment      `json:"Environment,omitempty"`
	TracingConfig    map[string]string `json:"TracingConfig"`
	RevisionId       string            `json:"RevisionId"`
	State            string            `json:"State"`
	LastUpdateStatus string            `json:"LastUpdateStatus"`
	PackageType      string            `json:"PackageType"`
	Architectures    []string          `json:"Architectures"`
	EphemeralStorage map[string]int    `json:"EphemeralStorage"`
	LoggingConfig    map[string]string `json:"LoggingConfig"`
}

// Environment is a function's environment variables.
type Environment struct {
	Variables map[string]string `json:"Variables"`
}

// storedFunction is what is persisted of a function.
type storedFunction struct {
	Account  string                `json:"account"`
	Region   string                `json:"region"`
	Config   FunctionConfiguration `json:"config"`
	Tags     map[string]string     `json:"tags,omitempty"`
	Reserved *int                  `json:"reserved,omitempty"`
	CodeDir  string                `json:"codeDir"`
	LocalDir bool                  `json:"localDir,omitempty"` // CodeDir is the user's directory
	// CodeObject names the zip in the replicated object store (cluster
	// mode; see cluster.go)
	CodeObject string `json:"codeObject,omitempty"`
}

type function struct {
	storedFunction
	pool *pool // processes of the current code and configuration
}

// Limits of the Lambda API (AWS quotas).
const (
	maxSyncPayload  = 6291456 // RequestResponse request and response
	maxAsyncPayload = 262144  // Event
	maxRespPayload  = 6291556 // a function's response, as Lambda counts it
	maxZip          = 50 << 20
	maxUnzipped     = 250 << 20
	localBucket     = "eddy-local"
	tagEndpoint     = "eddy:endpoint"
	tagRemoteName   = "eddy:remote-function"
)

var runtimes = map[string]bool{
	"provided.al2023": true, "provided.al2": true, "provided": true, "go1.x": true,
	"nodejs18.x": true, "nodejs20.x": true, "nodejs22.x": true, "nodejs24.x": true,
	"python3.9": true, "python3.10": true, "python3.11": true, "python3.12": true, "python3.13": true,
	"java11": true, "java17": true, "java21": true, "dotnet8": true, "ruby3.3": true, "ruby3.4": true,
}

var nameRE = regexp.MustCompile(`^[a-zA-Z0-9-_]{1,64}$`)

func lambdaTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000-0700") }

func functionARN(region, account, name string) string {
	return fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", region, account, name)
}

// Lambda's error types.
const (
	tResourceNotFound    = "ResourceNotFoundException"
	tResourceConflict    = "ResourceConflictException"
	tInvalidParameter    = "InvalidParameterValueException"
	tInvalidContent      = "InvalidRequestContentException"
	tRequestTooLarge     = "RequestTooLargeException"
	tTooManyRequests     = "TooManyRequestsException"
	tService             = "ServiceException"
	tValidation          = "ValidationException"
	tUnsupportedMedia    = "UnsupportedMediaTypeException"
	tPreconditionFailed  = "PreconditionFailedException"
	tCodeStorageExceeded = "CodeStorageExceededException"
)

func errNotFoundFn(region, account, name string) *awserr.Error {
	return awserr.New(tResourceNotFound, http.StatusNotFound, "Function not found: %s", functionARN(region, account, name))
}

func errInvalid(format string, a ...any) *awserr.Error {
	return awserr.New(tInvalidParameter, http.StatusBadRequest, format, a...)
}

// resolveName accepts a name, a full or partial ARN, and an optional
// qualifier (only $LATEST exists here). It returns the function key.
func (s *Service) resolveName(account, region, name, qualifier string) (fkey, error) {
	q := ""
	switch {
	case strings.HasPrefix(name, "arn:"):
		p := strings.Split(name, ":")
		if len(p) < 7 || len(p) > 8 || p[2] != "lambda" || p[5] != "function" {
			return fkey{}, errInvalid("1 validation error detected: Value '%s' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern: (arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?", name)
		}
		region, account, name = p[3], p[4], p[6]
		if len(p) == 8 {
			q = p[7]
		}
	case strings.Contains(name, ":function:"):
		p := strings.Split(name, ":")
		if len(p) >= 3 {
			account, name = p[0], p[2]
			if len(p) == 4 {
				q = p[3]
			}
		}
	case strings.Contains(name, ":"):
		name, q, _ = strings.Cut(name, ":")
	}
	if qualifier != "" {
		q = qualifier
	}
	if !nameRE.MatchString(name) {
		return fkey{}, awserr.New(tValidation, http.StatusBadRequest, "1 validation error detected: Value '%s' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern: (arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?", name)
	}
	if q != "" && q != "$LATEST" {
		return fkey{}, awserr.New(tResourceNotFound, http.StatusNotFound, "Function not found: %s:%s", functionARN(region, account, name), q)
	}
	return fkey{account, region, name}, nil
}

// lookupLocked finds a function; caller holds s.mu.
func (s *Service) lookupLocked(account, region, name, qualifier string) (*function, error) {
	k, err := s.resolveName(account, region, name, qualifier)
	if err != nil {
		return nil, err
	}
	f := s.funcs[k]
	if f == nil {
		return nil, errNotFoundFn(k.region, k.account, k.name)
	}
	return f, nil
}
