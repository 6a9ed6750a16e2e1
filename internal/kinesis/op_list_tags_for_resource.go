package kinesis

// ListTagsForResource lists all tags (at most 50, so no paging) of a stream
// or consumer named by ResourceARN, in key order.

import (
	"github.com/eddy-streams/eddy/internal/awsproto"
)

func init() { register("ListTagsForResource", (*Service).listTagsForResource) }

func (s *Service) listTagsForResource(r *awsproto.Request) (any, error) {
	return s.readResource(r, func(st *stream, c *consumer) (any, error) {
		tags := st.Tags
		if c != nil {
			tags = c.Tags
		}
		return struct {
			Tags []tagShape `json:"Tags"`
		}{tagList(tags)}, nil
	})
}
