package video

// DASH resources of a streaming session (GET, authorized by SessionToken):
//
//	/dash/v1/getDASHManifest.mpd?SessionToken=…
//	/dash/v1/getMP4InitFragment.mp4?SessionToken=…&SequenceNumber=<fragment>
//	/dash/v1/getMP4MediaFragment.mp4?SessionToken=…&TrackNumber=…&ProducerTimestamp=<ms>
//	  (the SegmentTemplate's $Time$; FragmentNumber=… also works)
//
// DisplayFragmentNumber ALWAYS adds kvs:fn="<fragment number>" to every S
// element, DisplayFragmentTimestamp ALWAYS kvs:ts="<epoch ms>" (the server
// timestamp, or the producer timestamp with a PRODUCER_TIMESTAMP selector);
// the kvs prefix is bound to kvsNamespace.
//
// Media segments are placed on the producer-timestamp timeline (ms since
// the epoch), so the manifest's SegmentTimeline t values are the fragments'
// producer timestamps.

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/eddy-streams/eddy/internal/video/fmp4"
)

// kvsNamespace binds the kvs: attribute prefix (Eddy's URI: AWS documents
// the attribute names, not the namespace).
const kvsNamespace = "urn:eddy:kinesisvideo:dash"

func (s *Service) serveDASH(w http.ResponseWriter, r *http.Request) (string, error) {
	q := r.URL.Query()
	tok := q.Get("SessionToken")
	name := strings.TrimPrefix(r.URL.Path, "/dash/v1/")
	sess, fs, err := s.session(tok)
	if err != nil {
		return name, err
	}
	if err := s.playbackWait(r.Context(), sess, name); err != nil {
		return name, nil // the player went away while its request waited
	}
	switch name {
	case "getDASHManifest.mpd":
		frags := sess.fragments(fs)
		var reps strings.Builder
		var tracks []fmp4.Track
		var first int64
		bw := 2000000
		if len(frags) > 0 {
			hd, _, err := fs.Read(frags[len(frags)-1])
			if err != nil {
				return name, err
			}
			if tracks, err = fmp4.Tracks(hd); err != nil {
				return name, unsupportedMedia(err)
			}
			first = frags[0].Producer
			for _, m := range frags {
				if m.Duration > 0 {
					bw = max(bw, int(m.Size*8*1000/m.Duration))
				}
			}
		}
		// one Period per header (codec private data) in the session, one
		// AdaptationSet per track
		var total int64
		for _, m := range frags {
			total += m.Duration
		}
		for i := 0; i < len(frags); {
			j := i
			for j < len(frags) && frags[j].HeaderID == frags[i].HeaderID {
				j++
			}
			pto := int64(0)
			if sess.mode == "ON_DEMAND" {
				pto = first
			}
			fmt.Fprintf(&reps, "  <Period id=\"%d\" start=\"PT0S\">\n", frags[i].Seq)
			for _, t := range tracks {
				mime, extra := "audio/mp4", fmt.Sprintf(` audioSamplingRate="%d"`, t.Timescale)
				if t.Video {
					mime, extra = "video/mp4", ""
					if t.MKV.Width > 0 {
						extra = fmt.Sprintf(` width="%d" height="%d"`, t.MKV.Width, t.MKV.Height)
					}
				}
				fmt.Fprintf(&reps, `    <AdaptationSet mimeType="%s" segmentAlignment="true" startWithSAP="1">
      <Representation id="%d" codecs="%s" bandwidth="%d"%s>
        <SegmentTemplate timescale="1000" presentationTimeOffset="%d" startNumber="%d"
          initialization="getMP4InitFragment.mp4?SessionToken=%s&amp;SequenceNumber=%d&amp;TrackNumber=%d"
          media="getMP4MediaFragment.mp4?ProducerTimestamp=$Time$&amp;SessionToken=%s&amp;TrackNumber=%d">
          <SegmentTimeline>
`, mime, t.MKV.Number, t.Codec, bw, extra, pto, frags[i].Seq, tok, frags[i].Seq, t.MKV.Number, tok, t.MKV.Number)
				for _, m := range frags[i:j] {
					fmt.Fprintf(&reps, "            <S t=\"%d\" d=\"%d\"", m.Producer, max(m.Duration, 1))
					if sess.showNum {
						fmt.Fprintf(&reps, " kvs:fn=\"%s\"", fragNumber(m.Seq))
					}
					if sess.showTime {
						at := m.Producer
						if sess.byServer {
							at = m.Server
						}
						fmt.Fprintf(&reps, " kvs:ts=\"%d\"", at)
					}
					reps.WriteString("/>\n")
				}
				reps.WriteString("          </SegmentTimeline>\n        </SegmentTemplate>\n      </Representation>\n    </AdaptationSet>\n")
			}
			reps.WriteString("  </Period>\n")
			i = j
			if sess.mode == "ON_DEMAND" {
				break // a static manifest: the first header's fragments
			}
		}
		var b strings.Builder
		b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
		ns := `xmlns="urn:mpeg:dash:schema:mpd:2011"`
		if sess.showNum || sess.showTime {
			ns += ` xmlns:kvs="` + kvsNamespace + `"`
		}
		if sess.mode == "ON_DEMAND" {
			fmt.Fprintf(&b, `<MPD %s profiles="urn:mpeg:dash:profile:isoff-live:2011" type="static" minBufferTime="PT2S" mediaPresentationDuration="PT%.3fS">`+"\n", ns, float64(total)/1000)
		} else {
			fmt.Fprintf(&b, `<MPD %s profiles="urn:mpeg:dash:profile:isoff-live:2011" type="dynamic" minBufferTime="PT2S" availabilityStartTime="1970-01-01T00:00:00Z" publishTime="%s" minimumUpdatePeriod="PT1S" timeShiftBufferDepth="PT%dS">`+"\n",
				ns, s.o.Now().UTC().Format(time.RFC3339), max(total/1000+10, 30))
		}
		b.WriteString(reps.String())
		b.WriteString("</MPD>\n")
		w.Header().Set("Content-Type", "application/dash+xml")
		w.Header().Set("Cache-Control", "no-cache")
		w.Write([]byte(b.String()))
		return name, nil
	case "getMP4InitFragment.mp4", "getMP4MediaFragment.mp4":
		var seq uint64
		ok := false
		if name == "getMP4InitFragment.mp4" {
			seq, err = strconv.ParseUint(q.Get("SequenceNumber"), 10, 64)
			ok = err == nil
		} else if pt := q.Get("ProducerTimestamp"); pt != "" {
			// the SegmentTemplate's $Time$: the fragment's producer ms
			ms, err := strconv.ParseInt(pt, 10, 64)
			for _, m := range fs.Fragments() {
				if err == nil && m.Producer == ms {
					seq, ok = m.Seq, true
					break
				}
			}
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
		if tn := q.Get("TrackNumber"); tn != "" {
			var one []fmp4.Track
			for _, t := range tracks {
				if strconv.FormatUint(t.MKV.Number, 10) == tn {
					t.ID = 1
					one = append(one, t)
				}
			}
			if one == nil {
				return name, errInvalidArg("TrackNumber %s is not a track of the stream.", tn)
			}
			tracks = one
		}
		var body []byte
		if name == "getMP4InitFragment.mp4" {
			body = fmp4.Init(tracks)
		} else if body, err = fmp4.SegmentAt(tracks, hd.TimecodeScale, cl, uint32(m.Seq), m.Producer); err != nil {
			return name, unsupportedMedia(err)
		}
		w.Header().Set("Content-Type", "video/mp4")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.Write(body)
		return name, nil
	}
	return name, errNotFound("Unknown DASH resource %s", name)
}
