package gateway

// REST services: APIs named by method and path (Lambda's REST-JSON) rather
// than X-Amz-Target. A RESTService claims path prefixes; ServeHTTP hands
// it every request under them (any method) after reading the body and
// authenticating, before the X-Amz-Target dispatch. The service writes its
// own response and names the operation and result code for the request
// counter, which labels only operations the service lists.

import (
	"errors"
	"net/http"
	"strings"

	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/awsproto"
)

// RESTService answers REST requests under its path prefixes.
type RESTService interface {
	// ServiceName labels the request counter ("lambda").
	ServiceName() string
	// PathPrefixes are the paths it owns, e.g. "/2015-03-31/".
	PathPrefixes() []string
	// Operations names its operations (bounded metric labels).
	Operations() []string
	// ServeREST writes the whole response. req carries the body, account,
	// region and request id. It returns the operation ("" when unknown) and
	// "200" or the AWS error type.
	ServeREST(w http.ResponseWriter, r *http.Request, req *awsproto.Request) (op, code string)
}

// RESTExactPaths is optionally implemented by a RESTService that also owns
// whole paths (Kinesis Video's "/createStream"): only that exact path is
// routed to it, so top-level paths are claimed precisely.
type RESTExactPaths interface {
	ExactPaths() []string
}

// RESTBodyStreamer is optionally implemented by a RESTService with
// operations whose request body is a long-running stream (PutMedia). For
// such requests the gateway reads nothing: it authenticates as if the body
// were empty (the SigV4 payload hash of the empty string, as the Kinesis
// Video producers sign) and the service reads r.Body itself; req.Body is nil.
type RESTBodyStreamer interface {
	StreamsBody(r *http.Request) bool
}

// RESTPublic is optionally implemented by a RESTService with resources
// that carry their own authorization (Kinesis Video's HLS playlists and
// media, authorized by a session token in the URL, fetched by players that
// cannot sign). For such requests the gateway checks no signature; the
// request's account and region are empty.
type RESTPublic interface {
	Public(r *http.Request) bool
}

type restRoute struct {
	prefix string
	exact  bool
	svc    RESTService
}

func (g *Gateway) initREST(rs []RESTService) {
	for _, s := range rs {
		for _, p := range s.PathPrefixes() {
			g.rest = append(g.rest, restRoute{prefix: p, svc: s})
		}
		if e, ok := s.(RESTExactPaths); ok {
			for _, p := range e.ExactPaths() {
				g.rest = append(g.rest, restRoute{prefix: p, exact: true, svc: s})
			}
		}
		set := map[string]bool{}
		for _, op := range s.Operations() {
			set[op] = true
		}
		g.metrics.ops[s.ServiceName()] = set
	}
}

// serveREST answers r when a REST service claims its path.
func (g *Gateway) serveREST(w http.ResponseWriter, r *http.Request) bool {
	var svc RESTService
	for _, rt := range g.rest {
		if r.URL.Path == rt.prefix || !rt.exact && strings.HasPrefix(r.URL.Path, rt.prefix) {
			svc = rt.svc
			break
		}
	}
	if svc == nil {
		return false
	}
	reqID := newRequestID()
	h := w.Header()
	h.Set("x-amzn-RequestId", reqID)
	name := svc.ServiceName()
	if p, ok := svc.(RESTPublic); ok && p.Public(r) {
		op, code := svc.ServeREST(w, r, &awsproto.Request{Ctx: r.Context(), RequestID: reqID})
		g.count(name, op, code)
		return true
	}
	if st, ok := svc.(RESTBodyStreamer); ok && st.StreamsBody(r) {
		id, err := g.auth(r, nil)
		if err != nil {
			ae, ok := awserr.As(err)
			if !ok {
				ae = awserr.Internal()
			}
			writeRESTError(w, ae)
			g.count(name, "", ae.Type)
			return true
		}
		req := &awsproto.Request{Ctx: r.Context(), Account: id.Account, Region: id.Region, RequestID: reqID}
		op, code := svc.ServeREST(w, r, req)
		g.count(name, op, code)
		return true
	}
	bp, err := readBody(r)
	if err != nil {
		if errors.Is(err, errTooLarge) {
			w.WriteHeader(http.StatusRequestEntityTooLarge)
			g.count(name, "", "RequestTooLargeException")
			return true
		}
		writeRESTError(w, awserr.Serialization("Unable to read request body"))
		g.count(name, "", awserr.TSerialization)
		return true
	}
	defer func() {
		if cap(*bp) <= 1<<20 {
			*bp = (*bp)[:0]
			bodyPool.Put(bp)
		}
	}()
	id, err := g.auth(r, *bp)
	if err != nil {
		ae, ok := awserr.As(err)
		if !ok {
			ae = awserr.Internal()
		}
		writeRESTError(w, ae)
		g.count(name, "", ae.Type)
		return true
	}
	req := &awsproto.Request{Ctx: r.Context(), Body: *bp, Account: id.Account, Region: id.Region, RequestID: reqID}
	op, code := svc.ServeREST(w, r, req)
	g.count(name, op, code)
	return true
}

// writeRESTError answers in REST-JSON: the type in x-amzn-ErrorType and a
// {"Type","Message"} body.
func writeRESTError(w http.ResponseWriter, e *awserr.Error) {
	w.Header().Set("x-amzn-ErrorType", e.Type)
	w.Header().Set("Content-Type", "application/json")
	who := "User"
	if e.Status >= 500 {
		who = "Service"
	}
	w.WriteHeader(e.Status)
	w.Write([]byte(`{"Type":"` + who + `","Message":` + quote(e.Message) + `}`))
}

func quote(s string) string {
	return string(awsproto.AppendJSONString(nil, []byte(s)))
}
