package analytics

// The Flink-only operations of kinesisanalyticsv2 (snapshots, rollback,
// VPC configuration, maintenance window, operations, presigned Flink
// dashboard URLs). For a SQL application they answer what AWS answers for
// SQL applications (InvalidArgumentException: not supported for SQL
// applications); for a stored Flink application, UnsupportedOperationException
// saying Eddy does not run Flink. Unknown applications are
// ResourceNotFoundException.

import (
	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/awsproto"
)

var flinkOnly = []string{
	"CreateApplicationSnapshot", "DeleteApplicationSnapshot", "DescribeApplicationSnapshot", "ListApplicationSnapshots",
	"RollbackApplication", "AddApplicationVpcConfiguration", "DeleteApplicationVpcConfiguration",
	"UpdateApplicationMaintenanceConfiguration", "CreateApplicationPresignedUrl",
	"DescribeApplicationOperation", "ListApplicationOperations",
}

func init() {
	for _, op := range flinkOnly {
		op := op
		registerV2(op, func(s *Service, r *awsproto.Request) (any, error) { return s.flinkOnly(r, op) })
	}
}

func (s *Service) flinkOnly(r *awsproto.Request, op string) (any, error) {
	var in struct {
		ApplicationName *string `json:"ApplicationName"`
	}
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	var v awserr.Validation
	requireAppName(&v, in.ApplicationName, "applicationName")
	if err := v.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a, err := s.lookupLocked(r, 2, *in.ApplicationName)
	if err != nil {
		return nil, err
	}
	if a.isSQL() {
		return nil, errInvalidArg("%s is not supported for SQL applications.", op)
	}
	return nil, awserr.New(TUnsupportedOperation, 400, "%s: Eddy stores %s applications but does not run Flink; it runs SQL-1_0 applications only.", op, a.Runtime)
}
