package lambda

// Invoke (POST /2015-03-31/functions/NAME/invocations).
//   - X-Amz-Invocation-Type RequestResponse (default): runs the function and
//     answers 200 with its payload; a function error adds
//     X-Amz-Function-Error: Unhandled and the error object (errorType,
//     errorMessage) as the payload: Runtime.ExitError when the process dies,
//     Sandbox.Timedout after Timeout (the process is killed and replaced),
//     Function.ResponseSizeTooLarge over 6,291,556 bytes.
//   - Event: queued, 202 with an empty body; runs in the background.
//   - DryRun: checks the function exists, 204.
// The request payload must be JSON (InvalidRequestContentException, 400)
// and at most 6,291,456 bytes (256 KiB for Event): RequestTooLargeException
// (413). Over the function's concurrency: TooManyRequestsException (429).
// X-Amz-Log-Type Tail returns the last 4 KiB of the function's log file in
// X-Amz-Log-Result (base64), which may include other concurrent calls.

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"

	"github.com/eddy-streams/eddy/internal/awserr"
)

func opInvoke(s *Service, c *call) (response, error) {
	typ := c.r.Header.Get("X-Amz-Invocation-Type")
	if typ == "" {
		typ = "RequestResponse"
	}
	limit := maxSyncPayload
	switch typ {
	case "RequestResponse", "DryRun":
	case "Event":
		limit = maxAsyncPayload
	default:
		return response{}, awserr.New(tValidation, http.StatusBadRequest, "1 validation error detected: Value '%s' at 'invocationType' failed to satisfy constraint: Member must satisfy enum value set: [Event, RequestResponse, DryRun]", typ)
	}
	s.mu.Lock()
	f, err := s.lookupLocked(c.req.Account, c.req.Region, c.name, c.query.Get("Qualifier"))
	var p *pool
	var name, acct, region string
	if err == nil {
		p, name, acct, region = f.pool, f.Config.FunctionName, f.Account, f.Region
	}
	s.mu.Unlock()
	if err != nil {
		return response{}, err
	}
	body := c.req.Body
	if len(body) > limit {
		return response{}, awserr.New(tRequestTooLarge, http.StatusRequestEntityTooLarge, "Request must be smaller than %d bytes for the InvokeFunction operation", limit)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		body = []byte("{}")
	} else if !json.Valid(body) {
		return response{}, awserr.New(tInvalidContent, http.StatusBadRequest, "Could not parse request body into json: Could not parse payload into json: Unexpected character: was expecting a JSON value")
	}
	hdr := map[string]string{"X-Amz-Executed-Version": "$LATEST"}
	switch typ {
	case "DryRun":
		return response{status: http.StatusNoContent, headers: hdr}, nil
	case "Event":
		payload := append([]byte(nil), body...)
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			// Lambda retries asynchronous invocations twice on error.
			for attempt := 0; attempt < 3; attempt++ {
				res, err := s.invokeFn(s.hard, acct, region, name, newUUID(), payload)
				if err == nil && res.FunctionError == "" {
					return
				}
				if s.ctx.Err() != nil {
					return
				}
			}
			s.log.Warn("asynchronous invocation failed after 3 attempts", "function", name)
		}()
		return response{status: http.StatusAccepted, headers: hdr, raw: []byte{}}, nil
	}
	reqID := c.req.RequestID
	if len(reqID) != 36 {
		reqID = newUUID()
	}
	res, err := s.invokePool(context.WithoutCancel(c.r.Context()), p, reqID, body)
	if err == errRetired {
		res, err = s.invokeFn(context.WithoutCancel(c.r.Context()), acct, region, name, reqID, body)
	}
	if err == errRetired {
		err = errNotFoundFn(region, acct, name)
	}
	if err != nil {
		return response{}, err
	}
	if res.FunctionError != "" {
		hdr["X-Amz-Function-Error"] = res.FunctionError
	}
	if c.r.Header.Get("X-Amz-Log-Type") == "Tail" {
		hdr["X-Amz-Log-Result"] = base64.StdEncoding.EncodeToString(tailLog(filepath.Join(s.o.Dir, "logs", name+".log"), 4096))
	}
	hdr["Content-Type"] = "application/json"
	return response{status: http.StatusOK, headers: hdr, raw: res.Payload}, nil
}

func tailLog(path string, n int64) []byte {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil
	}
	off := st.Size() - n
	if off < 0 {
		off = 0
	}
	b := make([]byte, st.Size()-off)
	n2, _ := f.ReadAt(b, off)
	return b[:n2]
}
