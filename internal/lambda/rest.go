package lambda

// REST routing: Lambda's API is REST-JSON, operations are named by method
// and path. The gateway hands every request under PathPrefixes here, after
// authentication. Errors are JSON {"Type","Message"} with the type in
// x-amzn-ErrorType, as Lambda answers.

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/awsproto"
)

// call is one REST request.
type call struct {
	req   *awsproto.Request
	r     *http.Request
	name  string // function name or ARN, or mapping UUID, or tagged ARN
	query url.Values
}

// response is what a handler answers: a status and a JSON body, or raw
// bytes with headers (Invoke).
type response struct {
	status  int
	body    any // JSON-encoded unless raw is set
	raw     []byte
	headers map[string]string
}

type handler func(s *Service, c *call) (response, error)

var operations = []string{
	"CreateFunction", "GetFunction", "GetFunctionConfiguration", "ListFunctions", "UpdateFunctionCode",
	"UpdateFunctionConfiguration", "DeleteFunction", "Invoke", "PutFunctionConcurrency",
	"GetFunctionConcurrency", "DeleteFunctionConcurrency", "TagResource", "UntagResource", "ListTags",
	"CreateEventSourceMapping", "GetEventSourceMapping", "ListEventSourceMappings",
	"UpdateEventSourceMapping", "DeleteEventSourceMapping",
}

var handlers = map[string]handler{
	"CreateFunction": opCreateFunction, "GetFunction": opGetFunction,
	"GetFunctionConfiguration": opGetFunctionConfiguration, "ListFunctions": opListFunctions,
	"UpdateFunctionCode": opUpdateFunctionCode, "UpdateFunctionConfiguration": opUpdateFunctionConfiguration,
	"DeleteFunction": opDeleteFunction, "Invoke": opInvoke, "PutFunctionConcurrency": opPutFunctionConcurrency,
	"GetFunctionConcurrency": opGetFunctionConcurrency, "DeleteFunctionConcurrency": opDeleteFunctionConcurrency,
	"TagResource": opTagResource, "UntagResource": opUntagResource, "ListTags": opListTags,
	"CreateEventSourceMapping": opCreateEventSourceMapping, "GetEventSourceMapping": opGetEventSourceMapping,
	"ListEventSourceMappings": opListEventSourceMappings, "UpdateEventSourceMapping": opUpdateEventSourceMapping,
	"DeleteEventSourceMapping": opDeleteEventSourceMapping,
}

// ServiceName labels the gateway's request counter.
func (s *Service) ServiceName() string { return "lambda" }

// PathPrefixes are the REST paths Lambda owns.
func (s *Service) PathPrefixes() []string {
	return []string{"/2015-03-31/", "/2017-10-31/", "/2019-09-30/", "/2017-03-31/"}
}

// Operations lists the operation names (bounded metric labels).
func (s *Service) Operations() []string { return operations }

// route names the operation for method and path, and the path's resource.
func route(method, path string) (op, resource string) {
	seg := strings.Split(strings.Trim(path, "/"), "/")
	if len(seg) < 2 {
		return "", ""
	}
	ver, kind := seg[0], seg[1]
	rest := seg[2:]
	switch {
	case kind == "functions" && ver == "2015-03-31":
		switch {
		case len(rest) == 0 && method == http.MethodPost:
			return "CreateFunction", ""
		case len(rest) == 0 && method == http.MethodGet:
			return "ListFunctions", ""
		case len(rest) == 1 && method == http.MethodGet:
			return "GetFunction", rest[0]
		case len(rest) == 1 && method == http.MethodDelete:
			return "DeleteFunction", rest[0]
		case len(rest) == 2 && rest[1] == "configuration" && method == http.MethodGet:
			return "GetFunctionConfiguration", rest[0]
		case len(rest) == 2 && rest[1] == "configuration" && method == http.MethodPut:
			return "UpdateFunctionConfiguration", rest[0]
		case len(rest) == 2 && rest[1] == "code" && method == http.MethodPut:
			return "UpdateFunctionCode", rest[0]
		case len(rest) == 2 && rest[1] == "invocations" && method == http.MethodPost:
			return "Invoke", rest[0]
		}
	case kind == "functions" && len(rest) == 2 && rest[1] == "concurrency":
		switch {
		case ver == "2017-10-31" && method == http.MethodPut:
			return "PutFunctionConcurrency", rest[0]
		case ver == "2017-10-31" && method == http.MethodDelete:
			return "DeleteFunctionConcurrency", rest[0]
		case ver == "2019-09-30" && method == http.MethodGet:
			return "GetFunctionConcurrency", rest[0]
		}
	case kind == "tags" && ver == "2017-03-31" && len(rest) >= 1:
		arn := strings.Join(rest, "/")
		switch method {
		case http.MethodPost:
			return "TagResource", arn
		case http.MethodGet:
			return "ListTags", arn
		case http.MethodDelete:
			return "UntagResource", arn
		}
	case kind == "event-source-mappings" && ver == "2015-03-31":
		switch {
		case len(rest) == 0 && method == http.MethodPost:
			return "CreateEventSourceMapping", ""
		case len(rest) == 0 && method == http.MethodGet:
			return "ListEventSourceMappings", ""
		case len(rest) == 1 && method == http.MethodGet:
			return "GetEventSourceMapping", rest[0]
		case len(rest) == 1 && method == http.MethodPut:
			return "UpdateEventSourceMapping", rest[0]
		case len(rest) == 1 && method == http.MethodDelete:
			return "DeleteEventSourceMapping", rest[0]
		}
	}
	return "", ""
}

// ServeREST answers one request; it returns the operation and the result
// code ("200" or the error type) for the gateway's counter.
func (s *Service) ServeREST(w http.ResponseWriter, r *http.Request, req *awsproto.Request) (op, code string) {
	op, res := route(r.Method, r.URL.Path)
	h := handlers[op]
	if h == nil {
		writeErr(w, awserr.New("UnknownOperationException", http.StatusNotFound, "Unknown operation %s %s", r.Method, r.URL.Path))
		return "", "UnknownOperationException"
	}
	req.Operation = op
	c := &call{req: req, r: r, name: res, query: r.URL.Query()}
	out, err := h(s, c)
	if err != nil {
		ae, ok := awserr.As(err)
		if !ok {
			s.log.Error("lambda request failed", "op", op, "err", err)
			ae = awserr.New(tService, http.StatusInternalServerError, "An internal error occurred.")
		}
		writeErr(w, ae)
		return op, ae.Type
	}
	hd := w.Header()
	for k, v := range out.headers {
		hd.Set(k, v)
	}
	body := out.raw
	if out.raw == nil && out.body != nil {
		body, _ = json.Marshal(out.body)
		hd.Set("Content-Type", "application/json")
	}
	if body != nil {
		hd.Set("Content-Length", strconv.Itoa(len(body)))
	}
	w.WriteHeader(out.status)
	w.Write(body)
	return op, "200"
}

func writeErr(w http.ResponseWriter, e *awserr.Error) {
	who := "User"
	if e.Status >= 500 {
		who = "Service"
	}
	body := map[string]string{"Type": who, "Message": e.Message}
	if e.Type == tTooManyRequests {
		body["Reason"] = "ReservedFunctionConcurrentInvocationLimitExceeded"
		w.Header().Set("Retry-After", "1")
	}
	b, _ := json.Marshal(body)
	h := w.Header()
	h.Set("x-amzn-ErrorType", e.Type)
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(e.Status)
	w.Write(b)
}

// decode reads a JSON body into v; an empty body is an empty object.
func decode(c *call, v any) error {
	if len(c.req.Body) == 0 {
		return nil
	}
	if err := json.Unmarshal(c.req.Body, v); err != nil {
		return awserr.New(tInvalidContent, http.StatusBadRequest, "Could not parse request body into json: %s", err.Error())
	}
	return nil
}
