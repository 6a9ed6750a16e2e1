package awsclient

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
)

// closingBody fails reads once closed, as smithy-go's request body does.
type closingBody struct {
	r      io.Reader
	closed bool
}

func (b *closingBody) Read(p []byte) (int, error) {
	if b.closed {
		return 0, errors.New("read on closed body")
	}
	return b.r.Read(p)
}
func (b *closingBody) Close() error { b.closed = true; return nil }

type captureClient struct{ req *http.Request }

func (c *captureClient) Do(req *http.Request) (*http.Response, error) {
	c.req = req
	return &http.Response{StatusCode: 200, Body: http.NoBody}, nil
}

// TestOwnBody checks the transport's body stays readable after the SDK
// closes the one it built, whatever the declared length.
func TestOwnBody(t *testing.T) {
	for _, declared := range []int64{11, 0, -1} {
		orig := &closingBody{r: strings.NewReader("hello world")}
		req, _ := http.NewRequest("POST", "http://x", orig)
		req.ContentLength = declared
		next := &captureClient{}
		if _, err := (OwnBody{Next: next}).Do(req); err != nil {
			t.Fatal(err)
		}
		orig.Close()  // what smithy-go does once Do returns
		for range 2 { // the body, then a rewind through GetBody
			got, err := io.ReadAll(next.req.Body)
			if err != nil || string(got) != "hello world" || next.req.ContentLength != 11 {
				t.Errorf("declared %d: transport read %q, %v (length %d)", declared, got, err, next.req.ContentLength)
			}
			if next.req.Body, err = next.req.GetBody(); err != nil {
				t.Fatal(err)
			}
		}
	}
}
