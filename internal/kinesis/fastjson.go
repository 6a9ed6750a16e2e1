package kinesis

import (
	"strings"

	"github.com/eddy-streams/eddy/internal/awsproto"
)

// decodePutRecords decodes a PutRecords body. (A hand-written JSON fast path
// can slot in here; the generic decoder is the reference.)
func decodePutRecords(r *awsproto.Request, in *putRecordsInput) error {
	return decode(r, in)
}

func replaceAll(s, old, new string) string { return strings.ReplaceAll(s, old, new) }
