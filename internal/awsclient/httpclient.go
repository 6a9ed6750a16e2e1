// Package awsclient holds what Eddy's own AWS SDK clients (the bench load
// generator, the agent's senders, test clients) share.
package awsclient

import (
	"bytes"
	"fmt"
	"io"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// OwnBody is an aws.HTTPClient that gives the transport its own copy of
// each request body.
//
// Why: smithy-go closes the request body it built as soon as the HTTP
// client returns the response, but net/http's transport may still be in its
// final read of that body (checking for EOF after Content-Length bytes).
// When the server answers fast, as a local one does, that read fails, the
// transport closes the connection under the response being read, and the
// SDK sees "use of closed network connection" on a 200 response and
// retries it (aws/aws-sdk-go-v2#2737, retried by default since #2949). A
// retried PutRecords whose first attempt was stored writes its records
// twice. The copy costs one memmove of the request per call.
type OwnBody struct{ Next aws.HTTPClient }

// Do sends req with a private copy of its body.
func (c OwnBody) Do(req *http.Request) (*http.Response, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return c.Next.Do(req)
	}
	var b []byte
	var err error
	if n := req.ContentLength; n > 0 {
		b = make([]byte, n)
		_, err = io.ReadFull(req.Body, b)
	} else {
		b, err = io.ReadAll(req.Body)
	}
	req.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("copy request body: %w", err)
	}
	req.Body = io.NopCloser(bytes.NewReader(b))
	req.ContentLength = int64(len(b))
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
	return c.Next.Do(req)
}
