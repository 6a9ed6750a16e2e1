package video

// GetMedia: the stream's fragments as Matroska (media.go), from the
// StartSelector on, then a live tail: the response waits for new fragments
// and ends after GetMediaIdle (5 s) with none, when the client goes away or
// when the stream is deleted. StartSelectorType:
//   - EARLIEST: the oldest retained fragment;
//   - NOW: only fragments that arrive after the call;
//   - FRAGMENT_NUMBER: from AfterFragmentNumber (that fragment included);
//   - SERVER_TIMESTAMP / PRODUCER_TIMESTAMP: from the fragment containing
//     StartTimestamp (the last one starting at or before it), else the
//     first one after it;
//   - CONTINUATION_TOKEN: after the fragment the token names (the value of
//     the last AWS_KINESISVIDEO_CONTINUATION_TOKEN tag read).
// Content-Type is the stream's MediaType (video/webm when unset). A missing
// selector field is InvalidArgumentException; an unknown fragment number
// ResourceNotFoundException; StreamName and StreamARN together
// InvalidArgumentException. Per stream: 5 calls a second
// (ClientLimitExceededException), 3 concurrent connections
// (ConnectionLimitExceededException); per connection at most 25 MB/s and
// 5 fragments a second are sent (limits.go). An error after the 200 ends the
// response with a Tags element {AWS_KINESISVIDEO_ERROR_CODE,
// AWS_KINESISVIDEO_ERROR_ID} (media.go): 4000 when retention removed the
// next fragment after it was listed (checked just before it is read and
// sent), 5000 when it cannot be read.

import (
	"net/http"
	"sort"
	"time"

	"github.com/eddy-streams/eddy/internal/video/fragstore"
)

type startSelector struct {
	StartSelectorType   string
	AfterFragmentNumber string
	StartTimestamp      *float64
	ContinuationToken   string
}

type getMediaInput struct {
	StreamName    string
	StreamARN     string
	StartSelector *startSelector
}

func opGetMedia(s *Service, c *call) (any, error) {
	var in getMediaInput
	if err := decode(c, &in); err != nil {
		return nil, err
	}
	if in.StartSelector == nil {
		return nil, errInvalidArg("1 validation error detected: Value null at 'startSelector' failed to satisfy constraint: Member must not be null")
	}
	if in.StreamName != "" && in.StreamARN != "" {
		return nil, errInvalidArg("Specify either StreamName or StreamARN, not both.")
	}
	st, fs, err := s.lookup(c.req, in.StreamName, in.StreamARN)
	if err != nil {
		return nil, err
	}
	frags := fs.Fragments()
	// next is the sequence number of the first fragment to send
	var next uint64
	sel := in.StartSelector
	switch sel.StartSelectorType {
	case "EARLIEST":
		next = 0
	case "NOW":
		next = ^uint64(0)
		if n := len(frags); n > 0 {
			next = frags[n-1].Seq + 1
		} else {
			next = 1
		}
	case "FRAGMENT_NUMBER", "CONTINUATION_TOKEN":
		v := sel.AfterFragmentNumber
		if sel.StartSelectorType == "CONTINUATION_TOKEN" {
			v = sel.ContinuationToken
		}
		if v == "" {
			return nil, errInvalidArg("StartSelector must include the fragment number or continuation token for type %s.", sel.StartSelectorType)
		}
		seq, ok := parseFragNumber(v)
		if !ok {
			return nil, errInvalidArg("The fragment number or continuation token %s is not valid.", v)
		}
		if _, ok := fs.Find(seq); !ok && sel.StartSelectorType == "FRAGMENT_NUMBER" {
			return nil, errNotFound("No fragment with number %s in the stream.", v)
		}
		next = seq
		if sel.StartSelectorType == "CONTINUATION_TOKEN" {
			next = seq + 1
		}
	case "SERVER_TIMESTAMP", "PRODUCER_TIMESTAMP":
		if sel.StartTimestamp == nil {
			return nil, errInvalidArg("StartSelector must include StartTimestamp for type %s.", sel.StartSelectorType)
		}
		t := int64(*sel.StartTimestamp*1000 + 0.5)
		ts := func(m fragstore.Meta) int64 {
			if sel.StartSelectorType == "SERVER_TIMESTAMP" {
				return m.Server
			}
			return m.Producer
		}
		// the fragment containing t: the last one starting at or before it
		// (fragment i spans up to fragment i+1's start), unless t is past
		// the newest fragment's end. Server timestamps only grow; producer
		// timestamps may repeat (a producer re-sending after a reconnect),
		// so those are scanned in arrival order.
		var i int
		if sel.StartSelectorType == "SERVER_TIMESTAMP" {
			i = sort.Search(len(frags), func(i int) bool { return ts(frags[i]) > t })
			if i > 0 && (i < len(frags) || ts(frags[i-1])+frags[i-1].Duration > t) {
				i--
			}
		} else {
			i = len(frags)
			for k, m := range frags {
				if ts(m) <= t && (k+1 == len(frags) && t < ts(m)+m.Duration || k+1 < len(frags) && t < ts(frags[k+1])) || ts(m) > t {
					i = k
					break
				}
			}
		}
		if i < len(frags) {
			next = frags[i].Seq
		} else if n := len(frags); n > 0 {
			next = frags[n-1].Seq + 1
		} else {
			next = 1
		}
	default:
		return nil, errInvalidArg("1 validation error detected: Value '%s' at 'startSelector.startSelectorType' failed to satisfy constraint: Member must satisfy enum value set: [FRAGMENT_NUMBER, SERVER_TIMESTAMP, PRODUCER_TIMESTAMP, NOW, EARLIEST, CONTINUATION_TOKEN]", sel.StartSelectorType)
	}
	release, err := s.admit("GetMedia", st.ARN, getMediaTPS, getMediaConns)
	if err != nil {
		return nil, err
	}
	defer release()
	ct := st.MediaType
	if ct == "" {
		ct = "video/webm"
	}
	c.w.Header().Set("Content-Type", ct)
	c.w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(c.w)
	rc.Flush()
	ctx := c.r.Context()
	// AWS's output rates per connection: 25 MB/s, 5 fragments a second
	// (a reader catching up on a backlog is slowed, never refused)
	w := &rateWriter{ctx: ctx, w: c.w, byteRate: byteRate{perSec: getMediaBytesPerS, now: s.o.Now, sleep: s.o.Sleep}}
	gate := &fragmentGate{perSec: getMediaFragsPerS, now: s.o.Now, sleep: s.o.Sleep}
	var buf []byte
	idle := time.NewTimer(s.o.GetMediaIdle)
	defer idle.Stop()
	for {
		changed := fs.Changed()
		sent := false
		for _, m := range fs.Since(next, 64) {
			next = m.Seq + 1
			if gate.wait(ctx) != nil {
				return nil, nil // the client went away while throttled
			}
			// retention may have taken the fragment since it was listed
			// (while the previous one was sent or the gate waited): AWS
			// ends the response with 4000, fragment not found
			if _, ok := fs.Find(m.Seq); !ok {
				if fs.Closed() {
					return nil, nil
				}
				w.Write(errorTags(4000))
				return nil, nil
			}
			h, meta, cl, err := fs.ReadTags(m)
			if err != nil {
				if fs.Closed() {
					return nil, nil
				}
				// the error tags end the response (4000: retention
				// took the fragment meanwhile; 5000: it cannot be read)
				e := errorTags(5000)
				if _, ok := fs.Find(m.Seq); !ok {
					e = errorTags(4000)
				} else {
					s.log.Error("video: GetMedia read", "stream", st.Name, "err", err)
				}
				w.Write(e)
				return nil, nil
			}
			buf = appendFragment(buf[:0], h, meta, cl, m, s.o.Now().UnixMilli())
			if _, err := w.Write(buf); err != nil {
				return nil, nil
			}
			rc.Flush()
			sent = true
		}
		if sent {
			if !idle.Stop() {
				select {
				case <-idle.C:
				default:
				}
			}
			idle.Reset(s.o.GetMediaIdle)
			continue // more may be waiting
		}
		if fs.Closed() {
			return nil, nil
		}
		select {
		case <-changed:
		case <-idle.C:
			return nil, nil
		case <-ctx.Done():
			return nil, nil
		}
	}
}
