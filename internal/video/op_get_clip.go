package video

// GetClip: an MP4 file (fragmented: ftyp + moov, then moof + mdat per
// fragment, samples copied without transcoding, internal/video/fmp4) of the
// fragments whose PRODUCER_TIMESTAMP or SERVER_TIMESTAMP lies in
// ClipFragmentSelector.TimestampRange. Content-Type video/mp4. A stream
// without retention is NoDataRetentionException; no fragment in the range
// ResourceNotFoundException; tracks other than H.264/H.265 + AAC
// UnsupportedStreamMediaTypeException; more than 200 fragments or 100 MB
// (AWS's limits) InvalidArgumentException. The clip ends where the codec
// private data changes.

import (
	"bytes"
	"errors"
	"net/http"
	"strconv"

	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/video/fmp4"
	"github.com/eddy-streams/eddy/internal/video/fragstore"
	"github.com/eddy-streams/eddy/internal/video/mpegts"
)

type fragmentSelector struct {
	FragmentSelectorType string
	TimestampRange       *timestampRange
}

// selectFragments returns the fragments whose timestamp is in the range.
func selectFragments(fs *fragstore.Store, sel *fragmentSelector, field string) ([]fragstore.Meta, error) {
	if sel == nil || sel.TimestampRange == nil || sel.TimestampRange.StartTimestamp == nil || sel.TimestampRange.EndTimestamp == nil {
		return nil, errInvalidArg("1 validation error detected: Value null at '%s.timestampRange' failed to satisfy constraint: Member must not be null", field)
	}
	byServer := false
	switch sel.FragmentSelectorType {
	case "SERVER_TIMESTAMP":
		byServer = true
	case "PRODUCER_TIMESTAMP":
	default:
		return nil, errInvalidArg("1 validation error detected: Value '%s' at '%s.fragmentSelectorType' failed to satisfy constraint: Member must satisfy enum value set: [PRODUCER_TIMESTAMP, SERVER_TIMESTAMP]", sel.FragmentSelectorType, field)
	}
	lo, hi := int64(*sel.TimestampRange.StartTimestamp*1000+0.5), int64(*sel.TimestampRange.EndTimestamp*1000+0.5)
	if lo >= hi {
		return nil, errInvalidArg("The StartTimestamp must be before the EndTimestamp.")
	}
	var out []fragstore.Meta
	for _, m := range fs.Fragments() {
		t := m.Producer
		if byServer {
			t = m.Server
		}
		if t >= lo && t <= hi {
			out = append(out, m)
		}
	}
	return out, nil
}

func opGetClip(s *Service, c *call) (any, error) {
	var in struct {
		StreamName           string
		StreamARN            string
		ClipFragmentSelector *fragmentSelector
	}
	if err := decode(c, &in); err != nil {
		return nil, err
	}
	st, fs, err := s.lookup(c.req, in.StreamName, in.StreamARN)
	if err != nil {
		return nil, err
	}
	if st.RetentionHrs == 0 {
		return nil, awserr.New(tNoDataRetention, http.StatusBadRequest, "The stream %s has no data retention.", st.Name)
	}
	frags, err := selectFragments(fs, in.ClipFragmentSelector, "clipFragmentSelector")
	if err != nil {
		return nil, err
	}
	if len(frags) == 0 {
		return nil, errNotFound("No fragments found in the stream for the clip request.")
	}
	if len(frags) > 200 {
		return nil, errInvalidArg("The clip would contain more than 200 fragments.")
	}
	var out bytes.Buffer
	var tracks []fmp4.Track
	hid := frags[0].HeaderID
	for i, m := range frags {
		if m.HeaderID != hid {
			break
		}
		h, cl, err := fs.Read(m)
		if err != nil {
			return nil, err
		}
		if i == 0 {
			tracks, err = fmp4.Tracks(h)
			if err != nil {
				return nil, unsupportedMedia(err)
			}
			out.Write(fmp4.Init(tracks))
		}
		seg, err := fmp4.Segment(tracks, h.TimecodeScale, cl, uint32(i+1))
		if err != nil {
			return nil, unsupportedMedia(err)
		}
		out.Write(seg)
		if out.Len() > 100<<20 {
			return nil, errInvalidArg("The clip would be larger than 100 MB.")
		}
	}
	h := c.w.Header()
	h.Set("Content-Type", "video/mp4")
	h.Set("Content-Length", strconv.Itoa(out.Len()))
	c.w.WriteHeader(http.StatusOK)
	c.w.Write(out.Bytes())
	return nil, nil
}

func unsupportedMedia(err error) error {
	if errors.Is(err, fmp4.ErrUnsupported) || errors.Is(err, mpegts.ErrUnsupported) {
		return awserr.New(tUnsupportedStream, http.StatusBadRequest, "%s", err.Error())
	}
	return err
}
