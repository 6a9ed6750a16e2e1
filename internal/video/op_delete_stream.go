package video

// DeleteStream: removes a stream (by StreamARN, as the API requires) and
// its fragments at once. CurrentVersion, when given, must be the stream's
// Version, else VersionMismatchException. Running PutMedia sessions end
// with ErrorId 4008 (stream deleted) and GetMedia responses end.

import "net/http"

import "github.com/eddy-streams/eddy/internal/awserr"

type deleteStreamInput struct {
	StreamARN      string
	CurrentVersion string
}

func opDeleteStream(s *Service, c *call) (any, error) {
	var in deleteStreamInput
	if err := decode(c, &in); err != nil {
		return nil, err
	}
	if in.StreamARN == "" {
		return nil, errInvalidArg("1 validation error detected: Value null at 'streamARN' failed to satisfy constraint: Member must not be null")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st, k, err := s.lookupLocked(c.req, "", in.StreamARN)
	if err != nil {
		return nil, err
	}
	if in.CurrentVersion != "" && in.CurrentVersion != st.Version {
		return nil, awserr.New(tVersionMismatch, http.StatusBadRequest, "The version of the stream specified is not the latest version.")
	}
	fs := s.stores[k]
	delete(s.streams, k)
	delete(s.stores, k)
	if err := s.saveLocked(); err != nil {
		return nil, err
	}
	if err := fs.Remove(); err != nil {
		s.log.Error("video: remove deleted stream's fragments", "stream", st.Name, "err", err)
	}
	return map[string]any{}, nil
}
