package video

// GetMediaForFragmentList: the listed fragments (1-1000 numbers, in the
// order given) as Matroska with the per-fragment tags (media.go), without
// GetMedia's lag and continuation tags. A number that names no retained
// fragment is ResourceNotFoundException, checked before any byte is sent.
// At most 5 concurrent calls per stream (ConnectionLimitExceededException).

import (
	"net/http"

	"github.com/eddy-streams/eddy/internal/video/fragstore"
)

func opGetMediaForFragmentList(s *Service, c *call) (any, error) {
	var in struct {
		StreamName string
		StreamARN  string
		Fragments  []string
	}
	if err := decode(c, &in); err != nil {
		return nil, err
	}
	if len(in.Fragments) < 1 || len(in.Fragments) > 1000 {
		return nil, errInvalidArg("1 validation error detected: Value at 'fragments' failed to satisfy constraint: Member must have length between 1 and 1000")
	}
	st, fs, err := s.lookup(c.req, in.StreamName, in.StreamARN)
	if err != nil {
		return nil, err
	}
	release, err := s.admit("GetMediaForFragmentList", st.ARN, 0, fragListConns)
	if err != nil {
		return nil, err
	}
	defer release()
	metas := make([]fragstore.Meta, 0, len(in.Fragments))
	for _, n := range in.Fragments {
		seq, ok := parseFragNumber(n)
		if !ok {
			return nil, errInvalidArg("The fragment number %s is not valid.", n)
		}
		m, ok := fs.Find(seq)
		if !ok {
			return nil, errNotFound("Fragment %s is not in the stream.", n)
		}
		metas = append(metas, m)
	}
	ct := st.MediaType
	if ct == "" {
		ct = "video/webm"
	}
	c.w.Header().Set("Content-Type", ct)
	c.w.WriteHeader(http.StatusOK)
	var buf []byte
	for _, m := range metas {
		h, meta, cl, err := fs.ReadTags(m)
		if err != nil {
			s.log.Error("video: read fragment", "stream", st.Name, "err", err)
			return nil, nil
		}
		buf = appendFragment(buf[:0], h, meta, cl, m, -1)
		if _, err := c.w.Write(buf); err != nil {
			return nil, nil
		}
	}
	return nil, nil
}
