package analytics

// CreateApplication (v1) creates a SQL application in READY state with
// version 1: optional code (≤100 KB), at most one input, up to three
// outputs, CloudWatch logging options and tags (≤50). Names are unique per
// account and region (ResourceInUseException); 50 applications per region
// (LimitExceededException). When an input is given the code is compiled
// against it and bad SQL is a CodeValidationException naming line and
// column. Lambda preprocessing is refused (Eddy has no Lambda yet).

import (
	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/awsproto"
)

type createApplicationInput struct {
	ApplicationName          *string                   `json:"ApplicationName"`
	ApplicationDescription   *string                   `json:"ApplicationDescription"`
	ApplicationCode          *string                   `json:"ApplicationCode"`
	Inputs                   []Input                   `json:"Inputs"`
	Outputs                  []Output                  `json:"Outputs"`
	CloudWatchLoggingOptions []CloudWatchLoggingOption `json:"CloudWatchLoggingOptions"`
	Tags                     []Tag                     `json:"Tags"`
}

type createApplicationOutput struct {
	ApplicationSummary applicationSummaryV1 `json:"ApplicationSummary"`
}

func init() { registerV1("CreateApplication", (*Service).createApplicationV1) }

func (s *Service) createApplicationV1(r *awsproto.Request) (any, error) {
	var in createApplicationInput
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	var v awserr.Validation
	requireAppName(&v, in.ApplicationName, "applicationName")
	checkDescription(&v, in.ApplicationDescription, "applicationDescription")
	checkCode(&v, in.ApplicationCode, "applicationCode")
	for i := range in.Inputs {
		checkInput(&v, &in.Inputs[i], "inputs."+itoa(i+1)+".member", false)
	}
	for i := range in.Outputs {
		checkOutput(&v, &in.Outputs[i], "outputs."+itoa(i+1)+".member", false)
	}
	for i := range in.CloudWatchLoggingOptions {
		checkLogging(&v, &in.CloudWatchLoggingOptions[i], "cloudWatchLoggingOptions."+itoa(i+1)+".member", false)
	}
	if in.Tags != nil {
		if len(in.Tags) < 1 {
			v.Add("[]", "tags", "Member must have length greater than or equal to 1")
		}
		checkTags(&v, in.Tags, "tags")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	a := &application{Name: *in.ApplicationName, API: 1, Runtime: RuntimeSQL, Description: in.ApplicationDescription}
	if in.ApplicationCode != nil {
		a.Code = *in.ApplicationCode
	}
	if err := s.fill(a, in.Inputs, in.Outputs, nil, in.CloudWatchLoggingOptions, in.Tags); err != nil {
		return nil, err
	}
	if err := s.create(r, a); err != nil {
		return nil, err
	}
	return createApplicationOutput{ApplicationSummary: a.summaryV1()}, nil
}

// fill checks and sets the configuration parts of a new application.
func (s *Service) fill(a *application, inputs []Input, outputs []Output, refs []ReferenceDataSource, logs []CloudWatchLoggingOption, tags []Tag) error {
	if len(inputs) > 1 {
		return awserr.New(TLimitExceeded, 400, "An application can have at most one streaming input; %d were given.", len(inputs))
	}
	if len(outputs) > maxOutputs {
		return awserr.New(TLimitExceeded, 400, "An application can have at most %d outputs; %d were given.", maxOutputs, len(outputs))
	}
	if len(refs) > maxReferenceSources {
		return awserr.New(TLimitExceeded, 400, "An application can have at most %d reference data source; %d were given.", maxReferenceSources, len(refs))
	}
	if len(logs) > 1 {
		return errInvalidArg("An application can have at most one CloudWatch logging option.")
	}
	for i := range inputs {
		if err := inputSemantics(&inputs[i]); err != nil {
			return err
		}
		a.Inputs = append(a.Inputs, &inputState{ID: a.newID(), Input: inputs[i]})
	}
	for i := range outputs {
		if err := outputSemantics(&outputs[i]); err != nil {
			return err
		}
		a.Outputs = append(a.Outputs, &outputState{ID: a.newID(), Output: outputs[i]})
	}
	for i := range refs {
		if err := referenceSemantics(&refs[i]); err != nil {
			return err
		}
		if a.nameTaken(*refs[i].TableName, "") {
			return errInvalidArg("Reference table name %s collides with an in-application stream.", *refs[i].TableName)
		}
		a.References = append(a.References, &referenceState{ID: a.newID(), Ref: refs[i]})
	}
	for i := range logs {
		a.Logging = append(a.Logging, &loggingState{ID: a.newID(), Opt: logs[i]})
	}
	var err error
	a.Tags, err = mergeTags(nil, tags)
	return err
}

// create stores a new application after the shared checks.
func (s *Service) create(r *awsproto.Request, a *application) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := appKey{r.Account, r.Region, a.Name}
	if s.apps[k] != nil {
		return awserr.New(TResourceInUse, 400, "Application %s already exists.", a.Name)
	}
	n := 0
	for key := range s.apps {
		if key.account == r.Account && key.region == r.Region {
			n++
		}
	}
	if n >= s.opt.MaxApplications {
		return awserr.New(TLimitExceeded, 400, "You have reached the limit of %d applications in this region.", s.opt.MaxApplications)
	}
	now := s.now().UnixMilli()
	a.ID, a.Account, a.Region = newAppID(), r.Account, r.Region
	a.Status, a.Version, a.CreatedMs, a.UpdatedMs, a.VersionMs = statusReady, 1, now, now, now
	if err := s.checkCodeLocked(a); err != nil {
		return err
	}
	s.apps[k] = a
	s.recordHistoryLocked(a)
	if err := s.commitLocked(); err != nil {
		delete(s.apps, k)
		return err
	}
	return nil
}

func itoa(i int) string {
	const d = "0123456789"
	if i < 10 {
		return d[i : i+1]
	}
	return itoa(i/10) + d[i%10:i%10+1]
}
