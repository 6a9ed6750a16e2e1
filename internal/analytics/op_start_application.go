package analytics

// StartApplication runs a READY application (ResourceInUseException
// otherwise). v1 names the input and its starting position in
// InputConfigurations; v2 in RunConfiguration.SqlRunConfigurations. The
// position is NOW (default), TRIM_HORIZON or LAST_STOPPED_POINT (from the
// checkpoint saved at the last stop: no window lost, none emitted twice;
// NOW without a checkpoint). The call compiles the code, resolves the input
// and outputs and launches the runner; it answers once the application is
// RUNNING (AWS passes through STARTING asynchronously; Eddy is fast enough
// not to). An application without an input, or whose code or resources
// are wrong, is refused with InvalidApplicationConfigurationException or
// CodeValidationException instead of failing later. FLINK and ZEPPELIN
// runtimes are stored but refused here: Eddy executes SQL-1_0 only.

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/awsproto"
)

type startApplicationInput struct {
	ApplicationName     *string              `json:"ApplicationName"`
	InputConfigurations []InputConfiguration `json:"InputConfigurations"`
	RunConfiguration    *struct {
		SqlRunConfigurations            []SqlRunConfiguration `json:"SqlRunConfigurations"`
		FlinkRunConfiguration           json.RawMessage       `json:"FlinkRunConfiguration"`
		ApplicationRestoreConfiguration json.RawMessage       `json:"ApplicationRestoreConfiguration"`
	} `json:"RunConfiguration"`
}

func init() {
	registerV1("StartApplication", func(s *Service, r *awsproto.Request) (any, error) { return s.startApplication(r, 1) })
	registerV2("StartApplication", func(s *Service, r *awsproto.Request) (any, error) { return s.startApplication(r, 2) })
}

func (s *Service) startApplication(r *awsproto.Request, apiVersion int) (any, error) {
	var in startApplicationInput
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	var v awserr.Validation
	requireAppName(&v, in.ApplicationName, "applicationName")
	var confs []InputConfiguration
	if apiVersion == 1 {
		if in.InputConfigurations == nil {
			v.Add(nil, "inputConfigurations", "Member must not be null")
		}
		confs = in.InputConfigurations
	} else if in.RunConfiguration != nil {
		for _, c := range in.RunConfiguration.SqlRunConfigurations {
			confs = append(confs, InputConfiguration{Id: c.InputId, InputStartingPositionConfiguration: c.InputStartingPositionConfiguration})
		}
	}
	for i, c := range confs {
		p := fmt.Sprintf("inputConfigurations.%d.member", i+1)
		requireID(&v, c.Id, p+".id")
		if c.InputStartingPositionConfiguration == nil {
			v.Add(nil, p+".inputStartingPositionConfiguration", "Member must not be null")
		}
		checkPosition(&v, c.InputStartingPositionConfiguration, p+".inputStartingPositionConfiguration")
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
	if !a.isSQL() {
		s.mu.Unlock()
		return nil, awserr.New(TUnsupportedOperation, 400, "Application %s has runtime %s: Eddy stores %s applications but runs only SQL-1_0 (Kinesis Data Analytics for SQL) applications.", a.Name, a.Runtime, a.Runtime)
	}
	if a.Status != statusReady {
		s.mu.Unlock()
		return nil, awserr.New(TResourceInUse, 400, "Application %s is in %s state; it must be in READY state to start.", a.Name, a.Status)
	}
	if len(a.Inputs) == 0 {
		s.mu.Unlock()
		return nil, awserr.New(TInvalidApplicationConfig, 400, "Application %s has no input: add a streaming source before starting it.", a.Name)
	}
	position := "NOW"
	for _, c := range confs {
		if *c.Id != a.Inputs[0].ID {
			s.mu.Unlock()
			return nil, errInvalidArg("Input id %s does not exist in application %s.", *c.Id, a.Name)
		}
		if p := c.InputStartingPositionConfiguration.InputStartingPosition; p != nil {
			position = *p
		}
	}
	prev := a.Inputs[0].Starting
	pos := position
	a.Inputs[0].Starting = &pos
	a.Status = statusStarting
	s.mu.Unlock()

	err = s.launch(a, position)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		a.Status = statusReady
		a.Inputs[0].Starting = prev
		var ce *CodeError
		if errors.As(err, &ce) {
			return nil, awserr.New(TCodeValidation, 400, "%s", ce.Msg)
		}
		if ae, ok := awserr.As(err); ok {
			return nil, ae
		}
		return nil, awserr.New(TInvalidApplicationConfig, 400, "Application %s cannot start: %v", a.Name, err)
	}
	a.Status = statusRunning
	a.UpdatedMs = s.now().UnixMilli()
	if apiVersion == 2 {
		a.API = 2
	}
	if err := s.commitLocked(); err != nil {
		return nil, err
	}
	if apiVersion == 2 {
		return map[string]any{"OperationId": newOperationID()}, nil
	}
	return struct{}{}, nil
}
