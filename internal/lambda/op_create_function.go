package lambda

// CreateFunction (POST /2015-03-31/functions, 201): creates $LATEST from a
// zip (ZipFile) or a local directory (S3Bucket "eddy-local", S3Key an
// absolute path). Runtime is required for zips; Timeout defaults to 3 s
// (1–900), MemorySize to 128 MB (128–10240). A name in use is a 409
// ResourceConflictException "Function already exist: NAME". Reserved
// environment keys (AWS_REGION, …) are refused as Lambda refuses them.
// The function is Active at once (no Pending state). Tags eddy:endpoint
// and eddy:remote-function make it remote (see the package comment).

import (
	"net/http"
	"os"
	"strings"

	"github.com/eddy-streams/eddy/internal/awserr"
)

type createFunctionInput struct {
	FunctionName  *string           `json:"FunctionName"`
	Runtime       string            `json:"Runtime"`
	Role          *string           `json:"Role"`
	Handler       string            `json:"Handler"`
	Code          *FunctionCode     `json:"Code"`
	Description   string            `json:"Description"`
	Timeout       *int              `json:"Timeout"`
	MemorySize    *int              `json:"MemorySize"`
	Environment   *Environment      `json:"Environment"`
	Tags          map[string]string `json:"Tags"`
	PackageType   string            `json:"PackageType"`
	Architectures []string          `json:"Architectures"`
}

var reservedEnv = []string{"_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_EXECUTION_ENV",
	"AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION",
	"AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
	"AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
	"AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR"}

func checkSettings(runtime *string, timeout, memory *int, env *Environment) error {
	var v awserr.Validation
	if runtime != nil && *runtime != "" && !runtimes[*runtime] {
		v.Add(*runtime, "runtime", "Member must satisfy enum value set: [provided.al2023, provided.al2, nodejs22.x, nodejs20.x, python3.13, java21, dotnet8, ruby3.4]")
	}
	if timeout != nil && (*timeout < 1 || *timeout > 900) {
		v.Add(*timeout, "timeout", "Member must have value "+map[bool]string{true: "greater than or equal to 1", false: "less than or equal to 900"}[*timeout < 1])
	}
	if memory != nil && (*memory < 128 || *memory > 10240) {
		v.Add(*memory, "memorySize", "Member must have value "+map[bool]string{true: "greater than or equal to 128", false: "less than or equal to 10240"}[*memory < 128])
	}
	if err := v.Err(); err != nil {
		ae, _ := awserr.As(err)
		return awserr.New(tValidation, http.StatusBadRequest, "%s", ae.Message)
	}
	if env != nil {
		var used []string
		for _, k := range reservedEnv {
			if _, ok := env.Variables[k]; ok {
				used = append(used, k)
			}
		}
		if len(used) > 0 {
			return errInvalid("Lambda was unable to configure your environment variables because the environment variables you have provided contains reserved keys that are currently not supported for modification. Reserved keys used in this request: %s", strings.Join(used, ", "))
		}
	}
	return nil
}

func opCreateFunction(s *Service, c *call) (response, error) {
	var in createFunctionInput
	if err := decode(c, &in); err != nil {
		return response{}, err
	}
	var v awserr.Validation
	if in.FunctionName == nil {
		v.Add(nil, "functionName", "Member must not be null")
	} else if !nameRE.MatchString(*in.FunctionName) {
		v.Add(*in.FunctionName, "functionName", "Member must satisfy regular expression pattern: (arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?")
	}
	if in.Role == nil {
		v.Add(nil, "role", "Member must not be null")
	}
	if in.Code == nil {
		v.Add(nil, "code", "Member must not be null")
	}
	if err := v.Err(); err != nil {
		ae, _ := awserr.As(err)
		return response{}, awserr.New(tValidation, http.StatusBadRequest, "%s", ae.Message)
	}
	if err := checkSettings(&in.Runtime, in.Timeout, in.MemorySize, in.Environment); err != nil {
		return response{}, err
	}
	if in.Runtime == "" && in.PackageType != "Image" {
		return response{}, errInvalid("Runtime and Handler are mandatory parameters for functions created with deployment packages.")
	}
	if in.Handler == "" && !strings.HasPrefix(in.Runtime, "provided") {
		return response{}, errInvalid("Runtime and Handler are mandatory parameters for functions created with deployment packages.")
	}
	if !strings.HasPrefix(*in.Role, "arn:") || !strings.Contains(*in.Role, ":role/") {
		return response{}, awserr.New(tValidation, http.StatusBadRequest, "1 validation error detected: Value '%s' at 'role' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+", *in.Role)
	}
	account, region := c.req.Account, c.req.Region
	k := fkey{account, region, *in.FunctionName}
	s.mu.Lock()
	exists := s.funcs[k] != nil
	s.mu.Unlock()
	if exists {
		return response{}, awserr.New(tResourceConflict, http.StatusConflict, "Function already exist: %s", k.name)
	}
	code, err := s.installCode(k.name, *in.Code)
	if err != nil {
		return response{}, err
	}
	obj, err := s.storeCode(k, in.Code.ZipFile, code)
	if err != nil {
		os.RemoveAll(code.dir)
		return response{}, err
	}
	cfg := FunctionConfiguration{
		FunctionName: k.name, FunctionArn: functionARN(region, account, k.name), Runtime: in.Runtime, Role: *in.Role,
		Handler: in.Handler, CodeSize: code.size, Description: in.Description, Timeout: 3, MemorySize: 128,
		LastModified: lambdaTime(s.now()), CodeSha256: code.sha, Version: "$LATEST", Environment: in.Environment,
		TracingConfig: map[string]string{"Mode": "PassThrough"}, RevisionId: newUUID(), State: "Active",
		LastUpdateStatus: "Successful", PackageType: "Zip", Architectures: []string{"x86_64"},
		EphemeralStorage: map[string]int{"Size": 512},
		LoggingConfig:    map[string]string{"LogFormat": "Text", "LogGroup": "/aws/lambda/" + k.name},
	}
	if in.Timeout != nil {
		cfg.Timeout = *in.Timeout
	}
	if in.MemorySize != nil {
		cfg.MemorySize = *in.MemorySize
	}
	if len(in.Architectures) > 0 {
		cfg.Architectures = in.Architectures
	}
	f := &function{storedFunction: storedFunction{Account: account, Region: region, Config: cfg, Tags: in.Tags, CodeDir: code.dir, LocalDir: code.local, CodeObject: obj}}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.funcs[k] != nil {
		s.discardCode(code, obj)
		return response{}, awserr.New(tResourceConflict, http.StatusConflict, "Function already exist: %s", k.name)
	}
	f.pool = s.newPool(f)
	s.funcs[k] = f
	if err := s.saveLocked(); err != nil {
		delete(s.funcs, k)
		f.pool.close()
		s.discardCode(code, obj)
		return response{}, err
	}
	return response{status: http.StatusCreated, body: cfg}, nil
}
