package s3dest

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
)

// BufferedBodyClient works around aws/aws-sdk-go-v2#2737 (the SDK closes a
// request body while net/http's write loop may still probe it for EOF; the
// transport then closes the connection under a 200 response, "use of closed
// network connection", and the SDK retries a request that already
// succeeded). It hands the transport its own copy of the body, which the
// SDK's Close does not reach.
type BufferedBodyClient struct{ Client *http.Client }

// Do implements the SDK's HTTPClient.
func (c BufferedBodyClient) Do(r *http.Request) (*http.Response, error) {
	if r.Body != nil && r.Body != http.NoBody {
		data, err := io.ReadAll(r.Body)
		r.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("buffer request body: %w", err)
		}
		r.Body = io.NopCloser(bytes.NewReader(data))
		r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }
		r.ContentLength = int64(len(data))
	}
	return c.Client.Do(r)
}
