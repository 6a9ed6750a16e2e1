package video

// HLS resources of a streaming session, served by GET without a signature
// (the SessionToken authorizes them, gateway.RESTPublic):
//
//	/hls/v1/getHLSMasterPlaylist.m3u8?SessionToken=…
//	/hls/v1/getHLSMediaPlaylist.m3u8?SessionToken=…
//	/hls/v1/getMP4InitFragment.mp4?SessionToken=…&SequenceNumber=<header>
//	/hls/v1/getMP4MediaFragment.mp4?SessionToken=…&FragmentNumber=…
//	/hls/v1/getTSFragment.ts?SessionToken=…&FragmentNumber=…  (MPEG_TS sessions)
//
// One rendition carries every H.264/H.265 and AAC track (one moof with a
// traf per track). A change of codec private data starts a new init
// segment (#EXT-X-DISCONTINUITY + #EXT-X-MAP). An unknown or expired token
// is 403 with x-amzn-ErrorType; playlists are no-cache; CORS is open (the
// gateway answers Origin with Access-Control-Allow-Origin: *).

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/video/fmp4"
	"github.com/eddy-streams/eddy/internal/video/fragstore"
	"github.com/eddy-streams/eddy/internal/video/mpegts"
)

// Public reports the requests authorized by their own token (HLS) or
// public (the player page).
func (s *Service) Public(r *http.Request) bool {
	p := r.URL.Path
	return r.Method == http.MethodGet && (strings.HasPrefix(p, "/hls/v1/") || strings.HasPrefix(p, "/dash/v1/") || strings.HasPrefix(p, "/video/"))
}

func (s *Service) endpoint(r *http.Request) string {
	if s.o.Endpoint != "" {
		return s.o.Endpoint
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func (s *Service) session(tok string) (*session, *fragstore.Store, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess := s.sessions[tok]
	if sess == nil {
		return nil, nil, awserr.New("ResourceNotFoundException", http.StatusForbidden, "The session token is not valid.")
	}
	if s.o.Now().After(sess.expires) {
		return nil, nil, awserr.New("ExpiredPlaylistException", http.StatusForbidden, "The streaming session has expired.")
	}
	fs := s.stores[sess.key]
	if fs == nil {
		return nil, nil, awserr.New("ResourceNotFoundException", http.StatusNotFound, "The stream was deleted.")
	}
	return sess, fs, nil
}

// fragments lists the session's fragments now.
func (sess *session) fragments(fs *fragstore.Store) []fragstore.Meta {
	if sess.mode == "LIVE" {
		return fs.Last(sess.max)
	}
	all := fs.Fragments()
	var out []fragstore.Meta
	for _, m := range all {
		t := m.Producer
		if sess.byServer {
			t = m.Server
		}
		if t >= sess.lo && (sess.hi < 0 || t <= sess.hi) {
			out = append(out, m)
			if len(out) == sess.max {
				break
			}
		}
	}
	return out
}

// discontinuity reports whether the session's DiscontinuityMode puts a
// marker between fragment prev and the next one, which starts at at (ms,
// by the session's selector).
func (sess *session) discontinuity(prev fragstore.Meta, at int64) bool {
	switch sess.disc {
	case "ALWAYS":
		return true
	case "ON_DISCONTINUITY":
		end := prev.Producer + prev.Duration
		if sess.byServer {
			end = prev.Server + prev.Duration
		}
		return at-end > 50 || end-at > 50
	}
	return false
}

func (s *Service) serveHLS(w http.ResponseWriter, r *http.Request) (string, error) {
	q := r.URL.Query()
	tok := q.Get("SessionToken")
	name := strings.TrimPrefix(r.URL.Path, "/hls/v1/")
	sess, fs, err := s.session(tok)
	if err != nil {
		return name, err
	}
	if err := s.playbackWait(r.Context(), sess, name); err != nil {
		return name, nil // the player went away while its request waited
	}
	h := w.Header()
	switch name {
	case "getHLSMasterPlaylist.m3u8":
		frags := sess.fragments(fs)
		codecs, res, bw := "avc1.42e01e", "", 2000000
		if len(frags) > 0 {
			hd, _, err := fs.Read(frags[len(frags)-1])
			if err != nil {
				return name, err
			}
			tracks, err := fmp4.Tracks(hd)
			if err != nil {
				return name, unsupportedMedia(err)
			}
			var cs []string
			for _, t := range tracks {
				cs = append(cs, t.Codec)
				if t.Video && t.MKV.Width > 0 && res == "" {
					res = fmt.Sprintf(",RESOLUTION=%dx%d", t.MKV.Width, t.MKV.Height)
				}
			}
			codecs = strings.Join(cs, ",")
			for _, m := range frags {
				if m.Duration > 0 {
					bw = max(bw, int(m.Size*8*1000/m.Duration))
				}
			}
		}
		body := fmt.Sprintf("#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-INDEPENDENT-SEGMENTS\n#EXT-X-STREAM-INF:BANDWIDTH=%d,CODECS=\"%s\"%s\ngetHLSMediaPlaylist.m3u8?SessionToken=%s\n", bw, codecs, res, tok)
		h.Set("Content-Type", "application/vnd.apple.mpegurl")
		h.Set("Cache-Control", "no-cache")
		w.Write([]byte(body))
	case "getHLSMediaPlaylist.m3u8":
		frags := sess.fragments(fs)
		target := int64(1)
		for _, m := range frags {
			target = max(target, int64(math.Ceil(float64(m.Duration)/1000)))
		}
		var b strings.Builder
		version := 7
		if sess.ts {
			version = 3
		}
		fmt.Fprintf(&b, "#EXTM3U\n#EXT-X-VERSION:%d\n#EXT-X-TARGETDURATION:%d\n", version, target)
		// fragment numbers have gaps (refused fragments); the media
		// sequence counts stored fragments
		seq := uint64(0)
		if len(frags) > 0 {
			seq = frags[0].Ord
		}
		fmt.Fprintf(&b, "#EXT-X-MEDIA-SEQUENCE:%d\n", seq)
		if sess.mode != "LIVE" {
			b.WriteString("#EXT-X-PLAYLIST-TYPE:EVENT\n")
		}
		b.WriteString("#EXT-X-INDEPENDENT-SEGMENTS\n")
		hid := uint32(0)
		for i, m := range frags {
			at := m.Producer
			if sess.byServer {
				at = m.Server
			}
			if i > 0 && m.HeaderID == hid && sess.discontinuity(frags[i-1], at) {
				b.WriteString("#EXT-X-DISCONTINUITY\n")
			}
			if i == 0 || m.HeaderID != hid {
				if i > 0 {
					b.WriteString("#EXT-X-DISCONTINUITY\n")
				}
				hid = m.HeaderID
				if !sess.ts {
					fmt.Fprintf(&b, "#EXT-X-MAP:URI=\"getMP4InitFragment.mp4?SessionToken=%s&SequenceNumber=%d\"\n", tok, m.Seq)
				}
			}
			if sess.showTime {
				fmt.Fprintf(&b, "#EXT-X-PROGRAM-DATE-TIME:%s\n", time.UnixMilli(at).UTC().Format("2006-01-02T15:04:05.000Z"))
			}
			res := "getMP4MediaFragment.mp4"
			if sess.ts {
				res = "getTSFragment.ts"
			}
			fmt.Fprintf(&b, "#EXTINF:%.3f,\n%s?FragmentNumber=%s&SessionToken=%s\n", float64(m.Duration)/1000, res, fragNumber(m.Seq), tok)
		}
		if sess.mode == "ON_DEMAND" || sess.hi >= 0 && len(frags) > 0 && s.o.Now().UnixMilli() > sess.hi {
			b.WriteString("#EXT-X-ENDLIST\n")
		}
		h.Set("Content-Type", "application/vnd.apple.mpegurl")
		h.Set("Cache-Control", "no-cache")
		w.Write([]byte(b.String()))
	case "getTSFragment.ts":
		seq, ok := parseFragNumber(q.Get("FragmentNumber"))
		if !ok {
			return name, errInvalidArg("The fragment number is not valid.")
		}
		m, ok := fs.Find(seq)
		if !ok {
			return name, errNotFound("The fragment is not in the stream.")
		}
		hd, cl, err := fs.Read(m)
		if err != nil {
			return name, err
		}
		body, err := mpegts.Segment(hd, cl, m.Producer)
		if err != nil {
			return name, unsupportedMedia(err)
		}
		h.Set("Content-Type", "video/MP2T")
		h.Set("Content-Length", strconv.Itoa(len(body)))
		w.Write(body)
	case "getMP4InitFragment.mp4", "getMP4MediaFragment.mp4":
		var seq uint64
		var ok bool
		if name == "getMP4InitFragment.mp4" {
			seq, err = strconv.ParseUint(q.Get("SequenceNumber"), 10, 64)
			ok = err == nil
		} else {
			seq, ok = parseFragNumber(q.Get("FragmentNumber"))
		}
		if !ok {
			return name, errInvalidArg("The fragment number is not valid.")
		}
		m, ok := fs.Find(seq)
		if !ok {
			return name, errNotFound("The fragment is not in the stream.")
		}
		hd, cl, err := fs.Read(m)
		if err != nil {
			return name, err
		}
		tracks, err := fmp4.Tracks(hd)
		if err != nil {
			return name, unsupportedMedia(err)
		}
		var body []byte
		if name == "getMP4InitFragment.mp4" {
			body = fmp4.Init(tracks)
		} else if body, err = fmp4.Segment(tracks, hd.TimecodeScale, cl, uint32(m.Seq)); err != nil {
			return name, unsupportedMedia(err)
		}
		h.Set("Content-Type", "video/mp4")
		h.Set("Content-Length", strconv.Itoa(len(body)))
		w.Write(body)
	default:
		return name, awserr.New(awserr.TUnknownOperation, http.StatusNotFound, "Unknown HLS resource %s", name)
	}
	return name, nil
}
