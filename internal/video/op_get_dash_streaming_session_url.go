package video

// GetDASHStreamingSessionURL: a session URL
// <endpoint>/dash/v1/getDASHManifest.mpd?SessionToken=… with the same
// modes, selector, Expires and checks as GetHLSStreamingSessionURL
// (MaxManifestFragmentResults instead of MaxMediaPlaylistFragmentResults).
// The manifest (dash.go) has one Period per codec header and one
// AdaptationSet per track (TrackNumber selects it in the resources), a
// SegmentTemplate ($Time$ = the producer timestamp) with a SegmentTimeline
// in milliseconds of the
// fragments' producer timestamps; LIVE and LIVE_REPLAY are dynamic
// (availabilityStartTime the epoch, refreshed every second), ON_DEMAND
// static. DisplayFragmentNumber / DisplayFragmentTimestamp ALWAYS add the
// kvs:fn / kvs:ts attributes to every S element (dash.go).

import (
	"encoding/json"
	"strings"
)

func opGetDASHStreamingSessionURL(s *Service, c *call) (any, error) {
	var in map[string]json.RawMessage
	if err := decode(c, &in); err != nil {
		return nil, err
	}
	// the same shape as HLS under other names
	if v, ok := in["DASHFragmentSelector"]; ok {
		in["HLSFragmentSelector"] = v
	}
	if v, ok := in["MaxManifestFragmentResults"]; ok {
		in["MaxMediaPlaylistFragmentResults"] = v
	}
	delete(in, "DASHFragmentSelector")
	delete(in, "MaxManifestFragmentResults")
	b, _ := json.Marshal(in)
	req := *c.req
	req.Body = b
	out, err := opGetHLSStreamingSessionURL(s, &call{req: &req, r: c.r, w: c.w})
	if err != nil {
		return nil, err
	}
	u := out.(map[string]string)["HLSStreamingSessionURL"]
	return map[string]string{"DASHStreamingSessionURL": strings.Replace(u, "/hls/v1/getHLSMasterPlaylist.m3u8", "/dash/v1/getDASHManifest.mpd", 1)}, nil
}
