package analytics

import (
	"encoding/json"
	"errors"

	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/awsproto"
)

// change describes a configuration call on an existing application.
type change struct {
	apiVersion int
	name       string
	version    *int64  // CurrentApplicationVersionId
	token      *string // v2 ConditionalToken
	// apply edits a (already version-checked); it builds the response.
	apply func(a *application) error
	// recompile: the change touches what the code is compiled against.
	recompile bool
}

// mutate runs a configuration change: version check, state check, edit,
// code check (CodeValidationException rolls back), new version, save, and
// a restart when the application runs.
func (s *Service) mutate(r *awsproto.Request, c change) (*application, error) {
	s.runMu.Lock()
	defer s.runMu.Unlock()
	s.mu.Lock()
	a, err := s.lookupLocked(r, c.apiVersion, c.name)
	if err != nil {
		s.mu.Unlock()
		return nil, err
	}
	if err := checkVersion(a, c.version, c.token, c.apiVersion); err != nil {
		s.mu.Unlock()
		return nil, err
	}
	if err := requireConfigurable(a); err != nil {
		s.mu.Unlock()
		return nil, err
	}
	saved, err := json.Marshal(a)
	if err != nil {
		s.mu.Unlock()
		return nil, awserr.Internal()
	}
	restore := func() { _ = json.Unmarshal(saved, a) }
	if err := c.apply(a); err != nil {
		restore()
		s.mu.Unlock()
		return nil, err
	}
	if c.recompile {
		if err := s.checkCodeLocked(a); err != nil {
			restore()
			s.mu.Unlock()
			return nil, err
		}
	}
	s.bumpLocked(a, c.apiVersion)
	if err := s.commitLocked(); err != nil {
		s.mu.Unlock()
		return nil, err
	}
	s.mu.Unlock()
	s.restartIfRunning(a)
	return a, nil
}

// checkCodeLocked compiles a SQL application's code against its input and
// reference tables when it has an input (without one, the source stream
// names the code reads do not exist yet; StartApplication checks then).
func (s *Service) checkCodeLocked(a *application) error {
	if s.opt.Launcher == nil || !a.isSQL() || len(a.Inputs) == 0 || a.Code == "" {
		return nil
	}
	err := s.opt.Launcher.Check(s.spec(a, "NOW"))
	if err == nil {
		return nil
	}
	var ce *CodeError
	if errors.As(err, &ce) {
		return awserr.New(TCodeValidation, 400, "%s", ce.Msg)
	}
	if ae, ok := awserr.As(err); ok {
		return ae
	}
	return errInvalidArg("%v", err)
}

func newOperationID() string { return newAppID()[:16] }
