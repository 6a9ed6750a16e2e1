package analytics

// DeleteApplication stops a running application, removes it and its
// checkpoints. CreateTimestamp must equal the application's creation time
// (to the second, as the CLI and SDKs send it); a mismatch is
// InvalidArgumentException.

import (
	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/awsproto"
)

type deleteApplicationInput struct {
	ApplicationName *string             `json:"ApplicationName"`
	CreateTimestamp *awsproto.Timestamp `json:"CreateTimestamp"`
}

func init() {
	registerV1("DeleteApplication", func(s *Service, r *awsproto.Request) (any, error) { return s.deleteApplication(r, 1) })
	registerV2("DeleteApplication", func(s *Service, r *awsproto.Request) (any, error) { return s.deleteApplication(r, 2) })
}

func (s *Service) deleteApplication(r *awsproto.Request, apiVersion int) (any, error) {
	var in deleteApplicationInput
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	var v awserr.Validation
	requireAppName(&v, in.ApplicationName, "applicationName")
	if in.CreateTimestamp == nil {
		v.Add(nil, "createTimestamp", "Member must not be null")
	}
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
	if in.CreateTimestamp.UnixMilli()/1000 != a.CreatedMs/1000 {
		s.mu.Unlock()
		return nil, errInvalidArg("CreateTimestamp does not match the creation time of application %s.", a.Name)
	}
	if a.Status == statusDeleting {
		s.mu.Unlock()
		return nil, awserr.New(TResourceInUse, 400, "Application %s is already being deleted.", a.Name)
	}
	a.Status = statusDeleting
	if err := s.commitLocked(); err != nil {
		s.mu.Unlock()
		return nil, err
	}
	s.mu.Unlock()
	if err := s.stopRun(a); err != nil {
		s.log.Warn("analytics: stop on delete", "application", a.Name, "err", err)
	}
	if s.opt.Launcher != nil {
		if err := s.opt.Launcher.Forget(a.ID); err != nil {
			s.log.Warn("analytics: forget checkpoints", "application", a.Name, "err", err)
		}
	}
	s.mu.Lock()
	delete(s.apps, appKey{a.Account, a.Region, a.Name})
	err = s.commitLocked()
	s.mu.Unlock()
	if err != nil {
		return nil, err
	}
	return struct{}{}, nil
}
