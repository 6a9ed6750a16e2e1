package video

// REST routing: each operation is a POST to its exact path. The gateway
// hands requests for these paths here after authentication; PutMedia's body
// is streamed (the gateway does not read it).

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/awsproto"
)

// call is one request.
type call struct {
	req *awsproto.Request
	r   *http.Request
	w   http.ResponseWriter
}

// handler answers a JSON operation; a nil result with a nil error means the
// handler wrote the response itself (streaming operations).
type handler func(s *Service, c *call) (any, error)

var handlers = map[string]handler{
	"/createStream":                         opCreateStream,
	"/describeStream":                       opDescribeStream,
	"/listStreams":                          opListStreams,
	"/deleteStream":                         opDeleteStream,
	"/updateStream":                         opUpdateStream,
	"/updateDataRetention":                  opUpdateDataRetention,
	"/getDataEndpoint":                      opGetDataEndpoint,
	"/tagStream":                            opTagStream,
	"/untagStream":                          opUntagStream,
	"/listTagsForStream":                    opListTagsForStream,
	"/TagResource":                          opTagResource,
	"/UntagResource":                        opUntagResource,
	"/ListTagsForResource":                  opListTagsForResource,
	"/describeImageGenerationConfiguration": opDescribeImageGenerationConfiguration,
	"/updateImageGenerationConfiguration":   opUpdateImageGenerationConfiguration,
	"/describeNotificationConfiguration":    opDescribeNotificationConfiguration,
	"/updateNotificationConfiguration":      opUpdateNotificationConfiguration,
	"/putMedia":                             opPutMedia,
	"/getMedia":                             opGetMedia,
	"/listFragments":                        opListFragments,
	"/getMediaForFragmentList":              opGetMediaForFragmentList,
	"/getClip":                              opGetClip,
	"/getHLSStreamingSessionURL":            opGetHLSStreamingSessionURL,
	"/getImages":                            opGetImages,
	"/getDASHStreamingSessionURL":           opGetDASHStreamingSessionURL,
}

// opNames labels paths for metrics.
var opNames = map[string]string{
	"/createStream": "CreateStream", "/describeStream": "DescribeStream", "/listStreams": "ListStreams",
	"/deleteStream": "DeleteStream", "/updateStream": "UpdateStream", "/updateDataRetention": "UpdateDataRetention",
	"/getDataEndpoint": "GetDataEndpoint", "/tagStream": "TagStream", "/untagStream": "UntagStream",
	"/listTagsForStream": "ListTagsForStream", "/TagResource": "TagResource", "/UntagResource": "UntagResource",
	"/ListTagsForResource":                  "ListTagsForResource",
	"/describeImageGenerationConfiguration": "DescribeImageGenerationConfiguration",
	"/updateImageGenerationConfiguration":   "UpdateImageGenerationConfiguration",
	"/describeNotificationConfiguration":    "DescribeNotificationConfiguration",
	"/updateNotificationConfiguration":      "UpdateNotificationConfiguration",
	"/putMedia":                             "PutMedia", "/getMedia": "GetMedia", "/listFragments": "ListFragments",
	"/getMediaForFragmentList": "GetMediaForFragmentList",
	// refused with a clear message (unsupported.go)
	"/getClip": "GetClip", "/getHLSStreamingSessionURL": "GetHLSStreamingSessionURL",
	"/getDASHStreamingSessionURL": "GetDASHStreamingSessionURL", "/getImages": "GetImages",
	"/createSignalingChannel": "CreateSignalingChannel", "/deleteSignalingChannel": "DeleteSignalingChannel",
	"/describeSignalingChannel": "DescribeSignalingChannel", "/listSignalingChannels": "ListSignalingChannels",
	"/updateSignalingChannel": "UpdateSignalingChannel", "/getSignalingChannelEndpoint": "GetSignalingChannelEndpoint",
	"/describeMediaStorageConfiguration":   "DescribeMediaStorageConfiguration",
	"/updateMediaStorageConfiguration":     "UpdateMediaStorageConfiguration",
	"/describeMappedResourceConfiguration": "DescribeMappedResourceConfiguration",
	"/startEdgeConfigurationUpdate":        "StartEdgeConfigurationUpdate",
	"/describeEdgeConfiguration":           "DescribeEdgeConfiguration",
	"/deleteEdgeConfiguration":             "DeleteEdgeConfiguration",
	"/listEdgeAgentConfigurations":         "ListEdgeAgentConfigurations",
	"/describeStreamStorageConfiguration":  "DescribeStreamStorageConfiguration",
	"/updateStreamStorageConfiguration":    "UpdateStreamStorageConfiguration",
}

// ServiceName labels the gateway's request counter.
func (s *Service) ServiceName() string { return "kinesisvideo" }

// PathPrefixes: the HLS resources and the player page; every operation is
// an exact path.
func (s *Service) PathPrefixes() []string { return []string{"/hls/v1/", "/dash/v1/", "/video/"} }

// ExactPaths are the operation paths.
func (s *Service) ExactPaths() []string {
	out := make([]string, 0, len(opNames))
	for p := range opNames {
		out = append(out, p)
	}
	return out
}

// Operations lists the operation names (bounded metric labels).
func (s *Service) Operations() []string {
	out := make([]string, 0, len(opNames)+2)
	for _, n := range opNames {
		out = append(out, n)
	}
	return append(out, "HLS", "Player")
}

// StreamsBody reports the PutMedia request, whose body is a stream.
func (s *Service) StreamsBody(r *http.Request) bool { return r.URL.Path == "/putMedia" }

// ServeREST answers one request.
func (s *Service) ServeREST(w http.ResponseWriter, r *http.Request, req *awsproto.Request) (op, code string) {
	op = opNames[r.URL.Path]
	if s.Public(r) {
		if strings.HasPrefix(r.URL.Path, "/video/") {
			s.servePlayer(w, r)
			return "Player", "200"
		}
		serve := s.serveHLS
		if strings.HasPrefix(r.URL.Path, "/dash/v1/") {
			serve = s.serveDASH
		}
		if _, err := serve(w, r); err != nil {
			ae, ok := awserr.As(err)
			if !ok {
				s.log.Error("hls", "err", err)
				ae = awserr.Internal()
			}
			writeErr(w, ae)
			return "HLS", ae.Type
		}
		return "HLS", "200"
	}
	if r.Method != http.MethodPost {
		e := awserr.New(awserr.TUnknownOperation, http.StatusNotFound, "%s %s is not an operation", r.Method, r.URL.Path)
		writeErr(w, e)
		return op, e.Type
	}
	h := handlers[r.URL.Path]
	if h == nil {
		h = opUnsupported
	}
	req.Operation = op
	out, err := h(s, &call{req: req, r: r, w: w})
	if err != nil {
		ae, ok := awserr.As(err)
		if !ok {
			s.log.Error("kinesisvideo request failed", "op", op, "err", err)
			ae = awserr.New("ClientLimitExceededException", http.StatusInternalServerError, "An internal error occurred.")
			ae.Type = "InternalFailure"
		}
		writeErr(w, ae)
		return op, ae.Type
	}
	if out == nil {
		return op, "200"
	}
	b, _ := json.Marshal(out)
	hd := w.Header()
	hd.Set("Content-Type", "application/json")
	hd.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(http.StatusOK)
	w.Write(b)
	return op, "200"
}

// decode reads the JSON body into v; an empty body is an empty object.
func decode(c *call, v any) error {
	if len(c.req.Body) == 0 {
		return nil
	}
	if err := json.Unmarshal(c.req.Body, v); err != nil {
		return awserr.New("SerializationException", http.StatusBadRequest, "Could not parse request body: %s", err.Error())
	}
	return nil
}

// opUnsupported refuses an operation Eddy does not implement.
func opUnsupported(s *Service, c *call) (any, error) {
	return nil, awserr.New(tUnsupported, http.StatusBadRequest,
		"%s is not supported by Eddy (see docs/compat/video.md)", opNames[c.r.URL.Path])
}
