package video

// UpdateDataRetention: Operation INCREASE_DATA_RETENTION or
// DECREASE_DATA_RETENTION by DataRetentionChangeInHours (≥ 1).
// CurrentVersion is required and must match (VersionMismatchException); a
// decrease below 0 or an increase past 87600 hours is
// InvalidArgumentException. Success gives the stream a new Version; the
// retention sweeper applies the new window.

import (
	"net/http"

	"github.com/eddy-streams/eddy/internal/awserr"
)

type updateDataRetentionInput struct {
	StreamName                 string
	StreamARN                  string
	CurrentVersion             *string
	Operation                  string
	DataRetentionChangeInHours *int64
}

func opUpdateDataRetention(s *Service, c *call) (any, error) {
	var in updateDataRetentionInput
	if err := decode(c, &in); err != nil {
		return nil, err
	}
	var v awserr.Validation
	if in.CurrentVersion == nil {
		v.Add(nil, "currentVersion", "Member must not be null")
	}
	if in.Operation != "INCREASE_DATA_RETENTION" && in.Operation != "DECREASE_DATA_RETENTION" {
		if in.Operation == "" {
			v.Add(nil, "operation", "Member must not be null")
		} else {
			v.Add(in.Operation, "operation", "Member must satisfy enum value set: [INCREASE_DATA_RETENTION, DECREASE_DATA_RETENTION]")
		}
	}
	if in.DataRetentionChangeInHours == nil {
		v.Add(nil, "dataRetentionChangeInHours", "Member must not be null")
	} else if *in.DataRetentionChangeInHours < 1 {
		v.Add(*in.DataRetentionChangeInHours, "dataRetentionChangeInHours", "Member must have value greater than or equal to 1")
	}
	if err := v.Err(); err != nil {
		ae, _ := awserr.As(err)
		return nil, errInvalidArg("%s", ae.Message)
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
	n := st.RetentionHrs
	if in.Operation == "INCREASE_DATA_RETENTION" {
		n += *in.DataRetentionChangeInHours
	} else {
		n -= *in.DataRetentionChangeInHours
	}
	if n < 0 {
		return nil, errInvalidArg("The data retention period cannot be less than 0 hours.")
	}
	if n > 87600 {
		return nil, errInvalidArg("The data retention period cannot be more than 87600 hours.")
	}
	st.RetentionHrs = n
	st.Version = newVersion()
	return map[string]any{}, s.saveLocked()
}
