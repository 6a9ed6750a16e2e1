package gateway

import (
	"errors"
	"net/http"
	"strings"

	"github.com/eddy-streams/eddy/internal/awsproto"
)

// Protocol is implemented by services that speak their own wire protocol
// rather than the gateway's JSON 1.1/CBOR: DynamoDB (JSON 1.0 with its
// CRC32 header and extra error members), STS and CloudWatch (the AWS query
// protocol: a form-encoded POST without X-Amz-Target, answered in XML; and
// smithy rpc-v2-cbor at /service/<Service>/operation/<Op>).
//
// The gateway reads and authenticates the body, then hands the request to
// the service, which writes the whole response (success or error).
type Protocol interface {
	awsproto.Service
	// Claims reports whether the service answers r (whose body is body)
	// and names the operation.
	Claims(r *http.Request, body []byte) (op string, ok bool)
	// ServeAWS answers a claimed request. authErr is the authenticator's
	// verdict, to be encoded in the service's protocol. It returns the
	// result code for the request counter ("200" or the error type).
	ServeAWS(w http.ResponseWriter, r *http.Request, req *awsproto.Request, authErr error) string
}

// protocolRequest reports whether r may belong to a Protocol service:
// its target prefix names one, or it has no target and is a query-protocol
// form or an rpc-v2 request.
func (g *Gateway) protocolRequest(r *http.Request) bool {
	if t := r.Header.Get("X-Amz-Target"); t != "" {
		prefix, _, _ := strings.Cut(t, ".")
		_, ok := g.services[prefix].(Protocol)
		return ok
	}
	if r.Header.Get("Smithy-Protocol") != "" && strings.HasPrefix(r.URL.Path, "/service/") {
		return true
	}
	ct := strings.ToLower(r.Header.Get("Content-Type"))
	return strings.HasPrefix(ct, "application/x-www-form-urlencoded")
}

// serveProtocol serves r when it belongs to a Protocol service and
// reports whether it did. A query-protocol request no service claims gets
// the query protocol's InvalidAction error.
func (g *Gateway) serveProtocol(w http.ResponseWriter, r *http.Request) bool {
	if r.Method != http.MethodPost || !g.protocolRequest(r) {
		return false
	}
	reqID := newRequestID()
	h := w.Header()
	h.Set("x-amzn-RequestId", reqID)
	bp, err := readBody(r)
	if err != nil {
		if errors.Is(err, errTooLarge) {
			w.WriteHeader(http.StatusRequestEntityTooLarge)
			return true
		}
		w.WriteHeader(http.StatusBadRequest)
		return true
	}
	defer func() {
		if cap(*bp) <= 1<<20 {
			*bp = (*bp)[:0]
			bodyPool.Put(bp)
		}
	}()
	body := *bp
	var svc Protocol
	var op string
	for _, s := range g.services {
		if p, ok := s.(Protocol); ok {
			if o, ok := p.Claims(r, body); ok {
				svc, op = p, o
				break
			}
		}
	}
	if svc == nil {
		h.Set("Content-Type", "text/xml")
		w.WriteHeader(http.StatusBadRequest)
		w.Write([]byte(`<ErrorResponse xmlns="http://webservices.amazon.com/AWSFault/2005-15-09"><Error><Type>Sender</Type><Code>InvalidAction</Code><Message>Could not find operation for this request</Message></Error><RequestId>` + reqID + `</RequestId></ErrorResponse>`))
		g.count("query", "unknown", "InvalidAction")
		return true
	}
	id, authErr := g.auth(r, body)
	req := &awsproto.Request{Ctx: r.Context(), Operation: op, Body: body, Account: id.Account, Region: id.Region, RequestID: reqID}
	code := svc.ServeAWS(w, r, req, authErr)
	if code == "UnknownOperationException" || code == "InvalidAction" || len(op) > 64 {
		op = "unknown" // the name is user input: keep the counter's label set bounded
	}
	g.count(svc.TargetPrefix(), op, code)
	return true
}
