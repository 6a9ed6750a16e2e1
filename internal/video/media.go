package video

// The Matroska GetMedia and GetMediaForFragmentList answer, repeated per
// fragment (as AWS's output is laid out):
//
//	EBML header | Segment (unknown size) | Info | Tracks
//	| Tags{AWS_KINESISVIDEO_FRAGMENT_NUMBER, _SERVER_TIMESTAMP, _PRODUCER_TIMESTAMP}
//	| [Tags{the producer's fragment metadata, as stored with the fragment}]
//	| Cluster (sized) | [Tags{AWS_KINESISVIDEO_MILLIS_BEHIND_NOW, _CONTINUATION_TOKEN}]

import (
	"fmt"
	"strconv"

	"github.com/eddy-streams/eddy/internal/video/fragstore"
	"github.com/eddy-streams/eddy/internal/video/mkv"
)

func secs(ms int64) string { return fmt.Sprintf("%d.%03d", ms/1000, ms%1000) }

// appendFragment appends one fragment's MKV to b. nowMs >= 0 adds the
// trailing lag and continuation tags (GetMedia). meta is the producer's
// fragment metadata: one more Tags element before the Cluster, where the
// producer put it (persistent metadata is re-sent by the producer SDK
// before every fragment, so each fragment carries what applied to it).
func appendFragment(b []byte, h *mkv.Header, meta []mkv.Tag, cluster []byte, m fragstore.Meta, nowMs int64) []byte {
	b = append(b, h.EBML...)
	b = mkv.AppendID(b, mkv.IDSegment)
	b = mkv.AppendUnknownSize(b)
	b = append(b, h.Info...)
	b = append(b, h.Tracks...)
	b = mkv.AppendTags(b,
		mkv.Tag{Name: "AWS_KINESISVIDEO_FRAGMENT_NUMBER", Value: fragNumber(m.Seq)},
		mkv.Tag{Name: "AWS_KINESISVIDEO_SERVER_TIMESTAMP", Value: secs(m.Server)},
		mkv.Tag{Name: "AWS_KINESISVIDEO_PRODUCER_TIMESTAMP", Value: secs(m.Producer)},
	)
	if len(meta) > 0 {
		b = mkv.AppendTags(b, meta...)
	}
	b = append(b, cluster...)
	if nowMs >= 0 {
		b = mkv.AppendTags(b,
			mkv.Tag{Name: "AWS_KINESISVIDEO_MILLIS_BEHIND_NOW", Value: strconv.FormatInt(max(nowMs-m.Server, 0), 10)},
			mkv.Tag{Name: "AWS_KINESISVIDEO_CONTINUATION_TOKEN", Value: fragNumber(m.Seq)},
		)
	}
	return b
}

// getMediaErrors are the error codes GetMedia reports in its error tags
// (AWS's GetMedia documentation; the code strings are Eddy's names).
var getMediaErrors = map[int]string{
	3002: "STREAM_WRITE_ERROR",
	4000: "FRAGMENT_NOT_FOUND",
	5000: "INTERNAL_ERROR",
}

// errorTags is the Tags element that ends a GetMedia response on an error.
func errorTags(id int) []byte {
	return mkv.AppendTags(nil,
		mkv.Tag{Name: "AWS_KINESISVIDEO_ERROR_CODE", Value: getMediaErrors[id]},
		mkv.Tag{Name: "AWS_KINESISVIDEO_ERROR_ID", Value: strconv.Itoa(id)},
	)
}
