package video

// UpdateStream: changes DeviceName and MediaType. CurrentVersion is
// required and must match (VersionMismatchException); success gives the
// stream a new Version.

import (
	"net/http"

	"github.com/eddy-streams/eddy/internal/awserr"
)

type updateStreamInput struct {
	StreamName     string
	StreamARN      string
	CurrentVersion *string
	DeviceName     *string
	MediaType      *string
}

func opUpdateStream(s *Service, c *call) (any, error) {
	var in updateStreamInput
	if err := decode(c, &in); err != nil {
		return nil, err
	}
	if in.CurrentVersion == nil {
		return nil, errInvalidArg("1 validation error detected: Value null at 'currentVersion' failed to satisfy constraint: Member must not be null")
	}
	if in.MediaType != nil && (len(*in.MediaType) > 128 || !mediaTypeRE.MatchString(*in.MediaType)) {
		return nil, errInvalidArg("1 validation error detected: Value '%s' at 'mediaType' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w\\-\\.\\+]+/[\\w\\-\\.\\+]+", *in.MediaType)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st, _, err := s.lookupLocked(c.req, in.StreamName, in.StreamARN)
	if err != nil {
		return nil, err
	}
	if *in.CurrentVersion != st.Version {
		return nil, awserr.New(tVersionMismatch, http.StatusBadRequest, "The version of the stream specified is not the latest version.")
	}
	if in.DeviceName != nil {
		st.DeviceName = *in.DeviceName
	}
	if in.MediaType != nil {
		st.MediaType = *in.MediaType
	}
	st.Version = newVersion()
	return map[string]any{}, s.saveLocked()
}
