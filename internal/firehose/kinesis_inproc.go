package firehose

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/awsproto"
)

// InProcessKinesis returns an Options.KinesisClient that reads source data
// streams from svc (the Data Streams service of the same process) without a
// network hop or authentication: the SDK client's requests are handed to
// svc.Handle with the source stream's account and region. Use it when the
// server verifies SigV4 (Firehose has no credentials of the stream's account)
// or simply to skip the loopback HTTP.
func InProcessKinesis(svc awsproto.Service) func(region, account string) KinesisSource {
	return func(region, account string) KinesisSource {
		return kinesis.New(kinesis.Options{
			Region:       region,
			BaseEndpoint: aws.String("http://eddy.internal"),
			Credentials:  aws.AnonymousCredentials{},
			HTTPClient:   &http.Client{Transport: inProcessTransport{svc: svc, account: account, region: region}},
		})
	}
}

type inProcessTransport struct {
	svc             awsproto.Service
	account, region string
}

func (t inProcessTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	var body []byte
	if r.Body != nil {
		b, err := io.ReadAll(r.Body)
		r.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("in-process kinesis: read request: %w", err)
		}
		body = b
	}
	codec, _ := awsproto.CodecFor(r.Header.Get("Content-Type"))
	op := r.Header.Get("X-Amz-Target")
	if i := strings.LastIndexByte(op, '.'); i >= 0 {
		op = op[i+1:]
	}
	req := &awsproto.Request{Ctx: r.Context(), Operation: op, Codec: codec, Body: body, Account: t.account, Region: t.region, RequestID: "firehose-source"}
	out, err := t.svc.Handle(req)
	status := http.StatusOK
	var payload []byte
	if err != nil {
		ae, ok := awserr.As(err)
		if !ok {
			ae = awserr.Internal()
		}
		status = ae.Status
		payload = awsproto.EncodeError(codec, ae)
	} else {
		b, release, err := awsproto.EncodeResult(codec, out)
		if err != nil {
			return nil, fmt.Errorf("in-process kinesis: encode %s: %w", op, err)
		}
		payload = b
		if _, pooled := out.(awsproto.Pooled); pooled {
			payload = append([]byte(nil), b...) // the body outlives the pooled buffer
		}
		release()
	}
	h := http.Header{}
	h.Set("Content-Type", codec.ContentType())
	h.Set("Content-Length", strconv.Itoa(len(payload)))
	h.Set("X-Amzn-Requestid", req.RequestID)
	return &http.Response{
		StatusCode: status, Status: fmt.Sprintf("%d %s", status, http.StatusText(status)),
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1, Header: h, Request: r,
		Body: io.NopCloser(bytes.NewReader(payload)), ContentLength: int64(len(payload)),
	}, nil
}
