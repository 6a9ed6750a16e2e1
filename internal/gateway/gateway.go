// Package gateway is Eddy's HTTP front door. One listener serves HTTP/1.1,
// h2c with prior knowledge (the JavaScript SDK v3 and the Java SDK v2 use it
// over plain http://) and, with a certificate, h2 or HTTP/1.1 over TLS.
//
// A POST carries `X-Amz-Target: <Prefix>.<Operation>`; the prefix selects an
// awsproto.Service, the Content-Type selects the codec (JSON 1.1 or CBOR).
// Credentials are resolved by an Authenticator (SigV4 scope → account and
// region); the service's result or error is encoded in the request's codec
// with AWS's headers (x-amzn-RequestId, x-amz-id-2, x-amzn-ErrorType). GET
// /healthz answers 200 once serving; GET /metrics gives Prometheus text.
//
// The front door answers what never reaches an operation as AWS does, in
// AWS's order (docs/compat/kinesis.md, "The front door"): CORS preflights
// (only for allowed origins), other methods (403 XML), application/json
// (Coral's legacy envelope), an empty body or unknown target or content type
// (SerializationException / UnknownOperationException, in CBOR unless the
// request is JSON 1.1), a body that does not parse (before the signature),
// then the signature.
package gateway

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/awsproto"
	"github.com/prometheus/client_golang/prometheus"
)

// MaxBody caps a request body: a 10 MiB PutRecords in base64 JSON is ~14 MiB.
const MaxBody = 32 << 20

// Identity is who a request speaks for.
type Identity struct {
	AccessKey string
	Account   string
	Region    string
}

// Authenticator checks a request and names its account and region. body is
// the full request body (for payload signing).
type Authenticator func(r *http.Request, body []byte) (Identity, error)

// Streamer is implemented by services with operations whose response is a
// stream (SubscribeToShard): Stream takes over the response writer.
type Streamer interface {
	// Streams reports whether op is a streaming operation.
	Streams(op string) bool
	// Stream runs op, writing the whole response to w.
	Stream(req *awsproto.Request, w http.ResponseWriter) error
}

// Options configure a Gateway.
type Options struct {
	Auth     Authenticator
	Logger   *slog.Logger
	Services []awsproto.Service
	// Metrics are extra metric sources (storage…). Services that implement
	// prometheus.Collector are registered without being listed here.
	Metrics []prometheus.Collector
	// REST are services routed by path prefix (rest.go).
	REST []RESTService
	// CORSOrigins are the browser origins answered with CORS headers
	// ("*" for any); empty sends none.
	CORSOrigins []string
	// Signed says every request must carry a signature (--auth sigv4): a
	// non-POST request without one is answered as AWS answers it.
	Signed bool
}

// Gateway is the HTTP handler.
type Gateway struct {
	auth     Authenticator
	log      *slog.Logger
	services map[string]awsproto.Service
	ready    atomic.Bool
	metrics  gatewayMetrics
	rest     []restRoute
	signed   bool
	corsAny  bool
	cors     map[string]bool
}

// New builds the handler.
func New(o Options) *Gateway {
	g := &Gateway{auth: o.Auth, log: o.Logger, services: map[string]awsproto.Service{}, signed: o.Signed, cors: map[string]bool{}}
	for _, origin := range o.CORSOrigins {
		if origin == "*" {
			g.corsAny = true
		}
		g.cors[strings.ToLower(origin)] = true
	}
	if g.log == nil {
		g.log = slog.Default()
	}
	for _, s := range o.Services {
		g.services[s.TargetPrefix()] = s
	}
	g.initMetrics(o)
	g.initREST(o.REST)
	return g
}

// SetReady flips /healthz to 200.
func (g *Gateway) SetReady(ok bool) { g.ready.Store(ok) }

// Server wraps the handler in an http.Server serving HTTP/1.1 and h2c (and h2
// over TLS when tlsConfig is set).
func (g *Gateway) Server(addr string, tlsConfig *tls.Config) *http.Server {
	srv := &http.Server{
		Addr:              addr,
		Handler:           g,
		ReadHeaderTimeout: 30 * time.Second,
		IdleTimeout:       5 * time.Minute,
		MaxHeaderBytes:    1 << 20,
		TLSConfig:         tlsConfig,
		ErrorLog:          slog.NewLogLogger(g.log.Handler(), slog.LevelDebug),
	}
	p := new(http.Protocols)
	p.SetHTTP1(true)
	p.SetUnencryptedHTTP2(true)
	p.SetHTTP2(true)
	srv.Protocols = p
	srv.HTTP2 = &http.HTTP2Config{MaxConcurrentStreams: 1000, MaxReadFrameSize: 1 << 20}
	return srv
}

// Serve runs srv on l until ctx ends, then shuts down gracefully (in-flight
// requests finish).
func Serve(ctx context.Context, srv *http.Server, l net.Listener) error {
	errc := make(chan error, 1)
	go func() {
		if srv.TLSConfig != nil {
			errc <- srv.ServeTLS(l, "", "")
		} else {
			errc <- srv.Serve(l)
		}
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := srv.Shutdown(sctx)
	if e := <-errc; e != nil && !errors.Is(e, http.ErrServerClosed) && err == nil {
		err = e
	}
	return err
}

// The AWS front door's answers that are not an operation's.
const (
	exposeHeaders   = "x-amzn-RequestId,x-amzn-ErrorType,x-amz-request-id,x-amz-id-2,x-amzn-ErrorMessage,Date"
	xmlAccessDenied = "<AccessDeniedException>\n  <Message>Unable to determine service/operation name to be authorized</Message>\n</AccessDeniedException>\n"
	xmlMissingToken = "<MissingAuthenticationTokenException>\n  <Message>Missing Authentication Token</Message>\n</MissingAuthenticationTokenException>\n"
	// application/json gets Coral's legacy envelope, with 200
	coralUnknown       = `{"Output":{"__type":"com.amazon.coral.service#UnknownOperationException","message":null},"Version":"1.0"}`
	coralSerialization = `{"Output":{"__type":"com.amazon.coral.service#SerializationException","Message":null},"Version":"1.0"}`
)

// corsOrigin is the Access-Control-Allow-Origin value for origin, if any.
func (g *Gateway) corsOrigin(origin string) (string, bool) {
	switch {
	case origin == "":
		return "", false
	case g.corsAny:
		return "*", true
	case g.cors[strings.ToLower(strings.TrimRight(origin, "/"))]:
		return origin, true
	}
	return "", false
}

func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	allow, cors := g.corsOrigin(r.Header.Get("Origin"))
	if cors {
		h.Set("Access-Control-Allow-Origin", allow)
		if allow != "*" {
			h.Add("Vary", "Origin")
		}
	}
	switch {
	case r.Method == http.MethodOptions && cors:
		// a browser preflight: answered without a signature, as AWS does
		h.Set("x-amzn-RequestId", newRequestID())
		if m := r.Header.Get("Access-Control-Request-Method"); m != "" {
			h.Set("Access-Control-Allow-Methods", m)
		}
		if hs := r.Header.Get("Access-Control-Request-Headers"); hs != "" {
			h.Set("Access-Control-Allow-Headers", hs)
		}
		h.Set("Access-Control-Max-Age", "172800")
		h.Set("Content-Length", "0")
		w.WriteHeader(http.StatusOK)
		return
	case r.Method == http.MethodGet && (r.URL.Path == "/healthz" || r.URL.Path == "/healthcheck"):
		if !g.ready.Load() {
			http.Error(w, "starting", http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, "ok\n")
		return
	case len(g.rest) > 0 && g.serveREST(w, r):
		return
	case r.Method == http.MethodGet && r.URL.Path == "/metrics":
		h.Set("Content-Type", "text/plain; version=0.0.4")
		g.writeMetrics(w)
		return
	}
	if cors {
		h.Set("Access-Control-Expose-Headers", exposeHeaders)
	}
	if r.Method != http.MethodPost {
		g.serveNotPost(w, r)
		return
	}
	if g.serveProtocol(w, r) { // claim.go: DynamoDB, STS, CloudWatch
		return
	}
	g.servePost(w, r)
}

// serveNotPost answers any other method on the API path as AWS does: 403
// with an XML body and no Content-Type; MissingAuthenticationTokenException
// when signatures are required and the request carries none.
func (g *Gateway) serveNotPost(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("x-amzn-RequestId", newRequestID())
	h.Set("x-amz-id-2", newID2())
	body, typ := xmlAccessDenied, awserr.TAccessDenied
	if g.signed && r.Header.Get("Authorization") == "" && !strings.Contains(r.URL.RawQuery, "X-Amz-Algorithm") {
		body, typ = xmlMissingToken, awserr.TMissingAuthenticationToken
	}
	h["Content-Type"] = nil // AWS sends none; stop net/http sniffing one
	h.Set("Content-Length", fmt.Sprint(len(body)))
	w.WriteHeader(http.StatusForbidden)
	io.WriteString(w, body)
	g.count("", "", typ)
}

func newRequestID() string {
	var b [16]byte
	a, c := rand.Uint64(), rand.Uint64()
	for i := 0; i < 8; i++ {
		b[i] = byte(a >> (8 * i))
		b[8+i] = byte(c >> (8 * i))
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:], b[10:])
	return string(s[:])
}

func newID2() string {
	var b [72]byte
	for i := 0; i < len(b); i += 8 {
		v := rand.Uint64()
		for j := 0; j < 8; j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	return base64.StdEncoding.EncodeToString(b[:])
}

var bodyPool = sync.Pool{New: func() any { b := make([]byte, 0, 64<<10); return &b }}

// readBody reads the whole body into a pooled buffer.
func readBody(r *http.Request) (*[]byte, error) {
	bp := bodyPool.Get().(*[]byte)
	b := (*bp)[:0]
	if n := r.ContentLength; n > 0 && n <= MaxBody && int64(cap(b)) < n {
		b = make([]byte, 0, n)
	}
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := r.Body.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if len(b) > MaxBody {
			*bp = b[:0]
			bodyPool.Put(bp)
			return nil, errTooLarge
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			*bp = b[:0]
			bodyPool.Put(bp)
			return nil, err
		}
	}
	*bp = b
	return bp, nil
}

var errTooLarge = errors.New("request body too large")

func (g *Gateway) servePost(w http.ResponseWriter, r *http.Request) {
	reqID := newRequestID()
	h := w.Header()
	h.Set("x-amzn-RequestId", reqID)
	h.Set("x-amz-id-2", newID2())

	target := r.Header.Get("X-Amz-Target")
	if target == "" && r.URL.RawQuery != "" {
		// a presigned request carries its X-Amz-* headers in the query
		target = r.URL.Query().Get("X-Amz-Target")
	}
	prefix, op, _ := strings.Cut(target, ".")
	kind := awsproto.ContentKindOf(r.Header.Get("Content-Type"))
	codec := awsproto.JSON
	if kind != awsproto.KindJSON {
		// AWS answers in CBOR whenever the request is not JSON 1.1
		codec = awsproto.CBOR
	}
	svc := g.services[prefix]
	known := svc != nil && op != ""
	if set := g.metrics.ops[prefix]; len(set) > 0 && known {
		// a service that lists its operations (OperationLister) has an
		// unknown one answered here, before its body is read
		known = set[op]
	}
	if svc == nil {
		prefix, op = "", ""
	}
	// Answers given before the request is authenticated are counted under
	// service and operation "unknown": nothing unauthenticated names a series.
	bp, err := readBody(r)
	if err != nil {
		if errors.Is(err, errTooLarge) {
			w.WriteHeader(http.StatusRequestEntityTooLarge)
			return
		}
		g.writeError(w, codec, awserr.Serialization("Unable to read request body"), "", "")
		return
	}
	defer func() {
		if cap(*bp) <= 1<<20 {
			*bp = (*bp)[:0]
			bodyPool.Put(bp)
		}
	}()
	body := *bp
	empty := len(body) == 0
	switch {
	case kind == awsproto.KindAppJSON:
		// Coral's legacy envelope: never reaches the operation
		out := coralUnknown
		if !empty && !awsproto.WellFormed(awsproto.JSON, body) {
			out = coralSerialization
		}
		h.Set("Content-Type", "application/json")
		h.Set("Content-Length", fmt.Sprint(len(out)))
		w.WriteHeader(http.StatusOK)
		io.WriteString(w, out)
		g.count("", "", awserr.TUnknownOperation)
		return
	case empty && known:
		g.writeError(w, codec, &awserr.Error{Type: awserr.TSerialization, Status: http.StatusBadRequest}, "", "")
		return
	case kind == awsproto.KindOther:
		g.writeError(w, codec, &awserr.Error{Type: awserr.TUnknownOperation, Status: http.StatusBadRequest}, "", "")
		return
	case !known:
		typ := awserr.TUnknownOperation
		if !empty && !awsproto.WellFormed(codec, body) {
			typ = awserr.TSerialization // the body is read before the target
		}
		g.writeError(w, codec, &awserr.Error{Type: typ, Status: http.StatusBadRequest}, "", "")
		return
	}
	id, err := g.auth(r, body)
	if err != nil {
		ae, ok := awserr.As(err)
		if !ok {
			ae = awserr.Internal()
		}
		if !awsproto.WellFormed(codec, body) {
			// AWS reads the body before it looks at the signature
			ae = &awserr.Error{Type: awserr.TSerialization, Status: http.StatusBadRequest}
		}
		g.writeError(w, codec, ae, prefix, op)
		return
	}
	req := &awsproto.Request{Ctx: r.Context(), Operation: op, Codec: codec, Body: body, Account: id.Account, Region: id.Region, RequestID: reqID}
	if st, ok := svc.(Streamer); ok && st.Streams(op) {
		if r.ProtoMajor == 1 {
			// An HTTP/1.1 stream is delimited by closing the connection
			// rather than chunked: net/http writes each chunk as a header,
			// the data and a CRLF, three TCP segments per event where this
			// sends one (fan-out throughput is bound by these writes). The
			// connection is not reused, and clients reconnect per
			// subscription anyway.
			w.Header().Set("Transfer-Encoding", "identity")
		}
		if err := st.Stream(req, w); err != nil {
			w.Header().Del("Transfer-Encoding")
			ae, ok := awserr.As(err)
			if !ok {
				g.log.Error("stream failed", "target", target, "err", err)
				ae = awserr.Internal()
			}
			g.writeError(w, codec, ae, prefix, op)
			return
		}
		g.count(prefix, op, "200")
		return
	}
	out, err := g.handle(svc, req)
	if err != nil {
		ae, ok := awserr.As(err)
		if !ok {
			g.log.Error("request failed", "target", target, "err", err)
			ae = awserr.Internal()
		}
		g.writeError(w, codec, ae, prefix, op)
		return
	}
	payload, release, err := awsproto.EncodeResult(codec, out)
	if err != nil {
		g.log.Error("encode response", "target", target, "err", err)
		g.writeError(w, codec, awserr.Internal(), prefix, op)
		return
	}
	defer release()
	h.Set("Content-Type", codec.ContentType())
	h.Set("Content-Length", fmt.Sprint(len(payload)))
	w.WriteHeader(http.StatusOK)
	w.Write(payload)
	g.count(prefix, op, "200")
}

// handle runs the service, turning a panic into an InternalFailure.
func (g *Gateway) handle(svc awsproto.Service, req *awsproto.Request) (out any, err error) {
	defer func() {
		if p := recover(); p != nil {
			g.log.Error("panic in handler", "op", req.Operation, "panic", p)
			out, err = nil, awserr.Internal()
		}
	}()
	return svc.Handle(req)
}

func (g *Gateway) writeError(w http.ResponseWriter, c awsproto.Codec, e *awserr.Error, prefix, op string) {
	h := w.Header()
	h.Set("x-amzn-ErrorType", e.Type)
	h.Set("Content-Type", c.ContentType())
	body := awsproto.EncodeError(c, e)
	h.Set("Content-Length", fmt.Sprint(len(body)))
	w.WriteHeader(e.Status)
	w.Write(body)
	g.count(prefix, op, e.Type)
}
