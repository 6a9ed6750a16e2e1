package analytics

// StopApplication stops a RUNNING application: the runner drains what it
// read, saves operator state with the source positions (the point
// LAST_STOPPED_POINT resumes from) and the application returns to READY
// before the call answers. Stopping a READY application is a no-op, as on
// AWS. v2's Force is accepted (the stop is the same).

import (
	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/awsproto"
)

type stopApplicationInput struct {
	ApplicationName *string `json:"ApplicationName"`
	Force           *bool   `json:"Force"`
}

func init() {
	registerV1("StopApplication", func(s *Service, r *awsproto.Request) (any, error) { return s.stopApplication(r, 1) })
	registerV2("StopApplication", func(s *Service, r *awsproto.Request) (any, error) { return s.stopApplication(r, 2) })
}

func (s *Service) stopApplication(r *awsproto.Request, apiVersion int) (any, error) {
	var in stopApplicationInput
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	var v awserr.Validation
	requireAppName(&v, in.ApplicationName, "applicationName")
	if err := v.Err(); err != nil {
		return nil, err
	}
	s.runMu.Lock()
	defer s.runMu.Unlock()
	s.mu.Lock()
	a, err := s.lookupLocked(r, apiVersion, *in.ApplicationName)
	if err != nil {
		s.mu.Unlock()
		return nil, err
	}
	switch a.Status {
	case statusReady:
		s.mu.Unlock()
		return stopOutput(apiVersion), nil
	case statusRunning:
	default:
		s.mu.Unlock()
		return nil, awserr.New(TResourceInUse, 400, "Application %s is in %s state and cannot be stopped now.", a.Name, a.Status)
	}
	a.Status = statusStopping
	s.mu.Unlock()
	stopErr := s.stopRun(a)
	s.mu.Lock()
	defer s.mu.Unlock()
	a.Status = statusReady
	a.UpdatedMs = s.now().UnixMilli()
	if apiVersion == 2 {
		a.API = 2
	}
	if err := s.commitLocked(); err != nil {
		return nil, err
	}
	if stopErr != nil {
		s.log.Error("analytics: stop", "application", a.Name, "err", stopErr)
	}
	return stopOutput(apiVersion), nil
}

func stopOutput(apiVersion int) any {
	if apiVersion == 2 {
		return map[string]any{"OperationId": newOperationID()}
	}
	return struct{}{}
}
