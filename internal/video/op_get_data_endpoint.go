package video

// GetDataEndpoint: the endpoint for an APIName (PUT_MEDIA, GET_MEDIA,
// LIST_FRAGMENTS, GET_MEDIA_FOR_FRAGMENT_LIST, GET_HLS_STREAMING_SESSION_URL,
// GET_DASH_STREAMING_SESSION_URL, GET_CLIP, GET_IMAGES). AWS answers
// per-stream hosts; Eddy answers its own URL for every API name (the data
// plane shares the port; with no configured URL, the request's own host). An unknown APIName is InvalidArgumentException.

type getDataEndpointInput struct {
	StreamName string
	StreamARN  string
	APIName    string
}

var apiNames = map[string]bool{
	"PUT_MEDIA": true, "GET_MEDIA": true, "LIST_FRAGMENTS": true, "GET_MEDIA_FOR_FRAGMENT_LIST": true,
	"GET_HLS_STREAMING_SESSION_URL": true, "GET_DASH_STREAMING_SESSION_URL": true, "GET_CLIP": true, "GET_IMAGES": true,
}

func opGetDataEndpoint(s *Service, c *call) (any, error) {
	var in getDataEndpointInput
	if err := decode(c, &in); err != nil {
		return nil, err
	}
	if !apiNames[in.APIName] {
		if in.APIName == "" {
			return nil, errInvalidArg("1 validation error detected: Value null at 'aPIName' failed to satisfy constraint: Member must not be null")
		}
		return nil, errInvalidArg("1 validation error detected: Value '%s' at 'aPIName' failed to satisfy constraint: Member must satisfy enum value set: [PUT_MEDIA, GET_MEDIA, LIST_FRAGMENTS, GET_MEDIA_FOR_FRAGMENT_LIST, GET_HLS_STREAMING_SESSION_URL, GET_DASH_STREAMING_SESSION_URL, GET_CLIP, GET_IMAGES]", in.APIName)
	}
	if _, _, err := s.lookup(c.req, in.StreamName, in.StreamARN); err != nil {
		return nil, err
	}
	ep := s.o.Endpoint
	if ep == "" {
		scheme := "http"
		if c.r.TLS != nil {
			scheme = "https"
		}
		ep = scheme + "://" + c.r.Host
	}
	return map[string]string{"DataEndpoint": ep}, nil
}
