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
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/awsproto"
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

// MetricsWriter is implemented by services exposing Prometheus metrics.
type MetricsWriter interface{ WriteMetrics(w io.Writer) }

// Options configure a Gateway.
type Options struct {
	Auth     Authenticator
	Logger   *slog.Logger
	Services []awsproto.Service
	// Metrics are extra metric sources (storage, firehose…).
	Metrics []MetricsWriter
}

// Gateway is the HTTP handler.
type Gateway struct {
	auth     Authenticator
	log      *slog.Logger
	services map[string]awsproto.Service
	metrics  []MetricsWriter
	ready    atomic.Bool

	counters sync.Map // counterKey -> *atomic.Int64
}

type counterKey struct{ service, op, code string }

// New builds the handler.
func New(o Options) *Gateway {
	g := &Gateway{auth: o.Auth, log: o.Logger, services: map[string]awsproto.Service{}, metrics: o.Metrics}
	if g.log == nil {
		g.log = slog.Default()
	}
	for _, s := range o.Services {
		g.services[s.TargetPrefix()] = s
		if m, ok := s.(MetricsWriter); ok {
			g.metrics = append(g.metrics, m)
		}
	}
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

func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	if origin := r.Header.Get("Origin"); origin != "" {
		h.Set("Access-Control-Allow-Origin", "*")
		h.Set("Access-Control-Expose-Headers", "x-amzn-RequestId,x-amzn-ErrorType,x-amz-request-id,x-amz-id-2,x-amzn-ErrorMessage,Date")
	}
	switch {
	case r.Method == http.MethodOptions:
		if m := r.Header.Get("Access-Control-Request-Method"); m != "" {
			h.Set("Access-Control-Allow-Methods", m)
		}
		if hs := r.Header.Get("Access-Control-Request-Headers"); hs != "" {
			h.Set("Access-Control-Allow-Headers", hs)
		}
		h.Set("Access-Control-Max-Age", "172800")
		w.WriteHeader(http.StatusOK)
		return
	case r.Method == http.MethodGet && (r.URL.Path == "/healthz" || r.URL.Path == "/healthcheck"):
		if !g.ready.Load() {
			http.Error(w, "starting", http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, "ok\n")
		return
	case r.Method == http.MethodGet && r.URL.Path == "/metrics":
		h.Set("Content-Type", "text/plain; version=0.0.4")
		g.writeMetrics(w)
		return
	case r.Method != http.MethodPost:
		h.Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusForbidden)
		io.WriteString(w, "<AccessDeniedException>\n  <Message>Unable to determine service/operation name to be authorized</Message>\n</AccessDeniedException>\n")
		return
	}
	if g.serveProtocol(w, r) { // claim.go: DynamoDB, STS, CloudWatch
		return
	}
	g.servePost(w, r)
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
	codec, okCT := awsproto.CodecFor(r.Header.Get("Content-Type"))
	svc := g.services[prefix]
	if svc == nil || op == "" {
		status := http.StatusBadRequest
		if !okCT {
			status = http.StatusNotFound
		}
		g.writeError(w, codec, &awserr.Error{Type: awserr.TUnknownOperation, Status: status}, "", "")
		return
	}
	if !okCT {
		g.writeError(w, codec, &awserr.Error{Type: awserr.TUnknownOperation, Status: http.StatusNotFound}, prefix, op)
		return
	}
	bp, err := readBody(r)
	if err != nil {
		if errors.Is(err, errTooLarge) {
			w.WriteHeader(http.StatusRequestEntityTooLarge)
			return
		}
		g.writeError(w, codec, awserr.Serialization("Unable to read request body"), prefix, op)
		return
	}
	defer func() {
		if cap(*bp) <= 1<<20 {
			*bp = (*bp)[:0]
			bodyPool.Put(bp)
		}
	}()
	body := *bp
	id, err := g.auth(r, body)
	if err != nil {
		ae, ok := awserr.As(err)
		if !ok {
			ae = awserr.Internal()
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

func (g *Gateway) count(service, op, code string) {
	k := counterKey{service, op, code}
	c, ok := g.counters.Load(k)
	if !ok {
		c, _ = g.counters.LoadOrStore(k, new(atomic.Int64))
	}
	c.(*atomic.Int64).Add(1)
}

func (g *Gateway) writeMetrics(w io.Writer) {
	var keys []counterKey
	vals := map[counterKey]int64{}
	g.counters.Range(func(k, v any) bool {
		keys = append(keys, k.(counterKey))
		vals[k.(counterKey)] = v.(*atomic.Int64).Load()
		return true
	})
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		if a.service != b.service {
			return a.service < b.service
		}
		if a.op != b.op {
			return a.op < b.op
		}
		return a.code < b.code
	})
	fmt.Fprintln(w, "# HELP eddy_gateway_requests_total API requests by service, operation and result.")
	fmt.Fprintln(w, "# TYPE eddy_gateway_requests_total counter")
	for _, k := range keys {
		fmt.Fprintf(w, "eddy_gateway_requests_total{service=%q,operation=%q,code=%q} %d\n", k.service, k.op, k.code, vals[k])
	}
	for _, m := range g.metrics {
		m.WriteMetrics(w)
	}
}
