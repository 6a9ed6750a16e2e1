package video

// GetHLSStreamingSessionURL: a session URL
// <endpoint>/hls/v1/getHLSMasterPlaylist.m3u8?SessionToken=… whose
// playlists and media Eddy serves (hls.go). PlaybackMode:
//   - LIVE (default): the newest MaxMediaPlaylistFragmentResults fragments
//     (default 5), refreshed as fragments arrive; ResourceNotFoundException
//     when no fragment arrived in the last 30 s;
//   - LIVE_REPLAY: from HLSFragmentSelector's StartTimestamp on, growing as
//     fragments arrive (ended when an EndTimestamp is given and passed);
//   - ON_DEMAND: the fragments in the TimestampRange (required), with
//     #EXT-X-ENDLIST; at most MaxMediaPlaylistFragmentResults (default 1000).
// ContainerFormat FRAGMENTED_MP4 (default: init + moof/mdat media) or
// MPEG_TS (transport-stream segments, getTSFragment.ts, repackaged by
// internal/video/mpegts). DisplayFragmentTimestamp ALWAYS puts an
// #EXT-X-PROGRAM-DATE-TIME before every segment: the fragment's server
// timestamp, or its producer timestamp when the selector is
// PRODUCER_TIMESTAMP (default NEVER). DiscontinuityMode: ALWAYS puts
// #EXT-X-DISCONTINUITY between every two fragments, ON_DISCONTINUITY where
// one fragment's end and the next one's start (by the selector's
// timestamps) differ by more than 50 ms, NEVER nowhere except where the
// codec private data changes (a new init segment); the default is ALWAYS
// with SERVER_TIMESTAMP (the default selector), NEVER with
// PRODUCER_TIMESTAMP. Expires 300-43200 s (default 300)
// bounds the session. A stream
// without retention is NoDataRetentionException; media other than H.264 or
// H.265 (+ AAC) UnsupportedStreamMediaTypeException. Sessions live in
// memory (a restart ends them).

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"sync"
	"time"

	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/video/fmp4"
	"github.com/eddy-streams/eddy/internal/video/mpegts"
)

type hlsInput struct {
	StreamName                      string
	StreamARN                       string
	PlaybackMode                    string
	HLSFragmentSelector             *fragmentSelector
	ContainerFormat                 string
	DiscontinuityMode               string
	DisplayFragmentTimestamp        string
	DisplayFragmentNumber           string // DASH
	Expires                         *int
	MaxMediaPlaylistFragmentResults *int
}

// session is one HLS streaming session.
type session struct {
	key      string // stream key
	mode     string
	byServer bool
	lo, hi   int64 // ms; hi < 0: open-ended
	max      int
	expires  time.Time
	ts       bool   // MPEG_TS segments
	showTime bool   // DisplayFragmentTimestamp ALWAYS
	showNum  bool   // DisplayFragmentNumber ALWAYS (DASH)
	disc     string // DiscontinuityMode: ALWAYS, NEVER or ON_DISCONTINUITY

	// per-resource request rates (limits.go); rateMu is taken alone
	rateMu sync.Mutex
	rates  map[string]*fragmentGate
}

func newToken() string {
	var b [24]byte
	rand.Read(b[:])
	return "CiQ" + hex.EncodeToString(b[:])
}

func opGetHLSStreamingSessionURL(s *Service, c *call) (any, error) {
	var in hlsInput
	if err := decode(c, &in); err != nil {
		return nil, err
	}
	mode := in.PlaybackMode
	if mode == "" {
		mode = "LIVE"
	}
	if mode != "LIVE" && mode != "LIVE_REPLAY" && mode != "ON_DEMAND" {
		return nil, errInvalidArg("1 validation error detected: Value '%s' at 'playbackMode' failed to satisfy constraint: Member must satisfy enum value set: [LIVE, LIVE_REPLAY, ON_DEMAND]", mode)
	}
	switch in.ContainerFormat {
	case "", "FRAGMENTED_MP4", "MPEG_TS":
	default:
		return nil, errInvalidArg("1 validation error detected: Value '%s' at 'containerFormat' failed to satisfy constraint: Member must satisfy enum value set: [FRAGMENTED_MP4, MPEG_TS]", in.ContainerFormat)
	}
	switch in.DiscontinuityMode {
	case "", "ALWAYS", "NEVER", "ON_DISCONTINUITY":
	default:
		return nil, errInvalidArg("1 validation error detected: Value '%s' at 'discontinuityMode' failed to satisfy constraint: Member must satisfy enum value set: [ALWAYS, NEVER, ON_DISCONTINUITY]", in.DiscontinuityMode)
	}
	for field, v := range map[string]string{"displayFragmentTimestamp": in.DisplayFragmentTimestamp, "displayFragmentNumber": in.DisplayFragmentNumber} {
		if v != "" && v != "ALWAYS" && v != "NEVER" {
			return nil, errInvalidArg("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must satisfy enum value set: [ALWAYS, NEVER]", v, field)
		}
	}
	expires := 300
	if in.Expires != nil {
		if *in.Expires < 300 || *in.Expires > 43200 {
			return nil, errInvalidArg("1 validation error detected: Value '%d' at 'expires' failed to satisfy constraint: Member must have value between 300 and 43200", *in.Expires)
		}
		expires = *in.Expires
	}
	max := 5
	if mode == "ON_DEMAND" {
		max = 1000
	}
	if in.MaxMediaPlaylistFragmentResults != nil {
		if *in.MaxMediaPlaylistFragmentResults < 1 || *in.MaxMediaPlaylistFragmentResults > 5000 {
			return nil, errInvalidArg("1 validation error detected: Value '%d' at 'maxMediaPlaylistFragmentResults' failed to satisfy constraint: Member must have value between 1 and 5000", *in.MaxMediaPlaylistFragmentResults)
		}
		max = *in.MaxMediaPlaylistFragmentResults
	}
	sess := &session{mode: mode, max: max, lo: -1 << 62, hi: -1, byServer: true,
		ts: in.ContainerFormat == "MPEG_TS", showTime: in.DisplayFragmentTimestamp == "ALWAYS", showNum: in.DisplayFragmentNumber == "ALWAYS"}
	if sel := in.HLSFragmentSelector; sel != nil {
		sess.byServer = sel.FragmentSelectorType != "PRODUCER_TIMESTAMP"
		if sel.FragmentSelectorType != "" && sel.FragmentSelectorType != "SERVER_TIMESTAMP" && sel.FragmentSelectorType != "PRODUCER_TIMESTAMP" {
			return nil, errInvalidArg("1 validation error detected: Value '%s' at 'hLSFragmentSelector.fragmentSelectorType' failed to satisfy constraint: Member must satisfy enum value set: [PRODUCER_TIMESTAMP, SERVER_TIMESTAMP]", sel.FragmentSelectorType)
		}
	}
	sess.disc = in.DiscontinuityMode
	if sess.disc == "" {
		sess.disc = "NEVER"
		if sess.byServer {
			sess.disc = "ALWAYS"
		}
	}
	if sel := in.HLSFragmentSelector; sel != nil && mode != "LIVE" {
		if tr := sel.TimestampRange; tr != nil {
			if tr.StartTimestamp != nil {
				sess.lo = int64(*tr.StartTimestamp*1000 + 0.5)
			}
			if tr.EndTimestamp != nil {
				sess.hi = int64(*tr.EndTimestamp*1000 + 0.5)
			}
		}
	}
	if mode == "ON_DEMAND" && (sess.lo == -1<<62 || sess.hi < 0) {
		return nil, errInvalidArg("ON_DEMAND playback requires HLSFragmentSelector with a TimestampRange that has both StartTimestamp and EndTimestamp.")
	}
	if mode == "LIVE_REPLAY" && sess.lo == -1<<62 {
		return nil, errInvalidArg("LIVE_REPLAY playback requires HLSFragmentSelector with a StartTimestamp.")
	}
	st, fs, err := s.lookup(c.req, in.StreamName, in.StreamARN)
	if err != nil {
		return nil, err
	}
	if st.RetentionHrs == 0 {
		return nil, awserr.New(tNoDataRetention, http.StatusBadRequest, "The stream %s has no data retention; HLS needs archived media.", st.Name)
	}
	frags := fs.Fragments()
	now := s.o.Now()
	if mode == "LIVE" && (len(frags) == 0 || frags[len(frags)-1].Server < now.Add(-30*time.Second).UnixMilli()) {
		return nil, errNotFound("No fragments found in the stream for the streaming request.")
	}
	if len(frags) > 0 {
		h, _, err := fs.Read(frags[len(frags)-1])
		if err == nil {
			if _, err := fmp4.Tracks(h); err != nil {
				return nil, unsupportedMedia(err)
			}
			if sess.ts {
				if err := mpegts.Tracks(h); err != nil {
					return nil, unsupportedMedia(err)
				}
			}
		}
	}
	s.mu.Lock()
	_, sess.key, _ = s.lookupLocked(c.req, in.StreamName, in.StreamARN)
	sess.expires = now.Add(time.Duration(expires) * time.Second)
	tok := newToken()
	if s.sessions == nil {
		s.sessions = map[string]*session{}
	}
	for t, old := range s.sessions {
		if now.After(old.expires) {
			delete(s.sessions, t)
		}
	}
	s.sessions[tok] = sess
	s.mu.Unlock()
	return map[string]string{"HLSStreamingSessionURL": s.endpoint(c.r) + "/hls/v1/getHLSMasterPlaylist.m3u8?SessionToken=" + tok}, nil
}
