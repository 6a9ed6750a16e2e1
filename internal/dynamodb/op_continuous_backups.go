package dynamodb

// UpdateContinuousBackups and DescribeContinuousBackups store and report
// point-in-time recovery (enabled flag and RecoveryPeriodInDays, 1–35,
// default 35). Backups are always ENABLED in the description, as on AWS.
// The setting is stored only: Eddy keeps no restorable history.

import (
	"time"

	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/awsproto"
)

type updateBackupsInput struct {
	TableName                        *string `json:"TableName"`
	PointInTimeRecoverySpecification *struct {
		PointInTimeRecoveryEnabled *bool `json:"PointInTimeRecoveryEnabled"`
		RecoveryPeriodInDays       *int  `json:"RecoveryPeriodInDays"`
	} `json:"PointInTimeRecoverySpecification"`
}

type pitrDesc struct {
	PointInTimeRecoveryStatus  string              `json:"PointInTimeRecoveryStatus"`
	RecoveryPeriodInDays       int                 `json:"RecoveryPeriodInDays,omitempty"`
	EarliestRestorableDateTime *awsproto.Timestamp `json:"EarliestRestorableDateTime,omitempty"`
	LatestRestorableDateTime   *awsproto.Timestamp `json:"LatestRestorableDateTime,omitempty"`
}

type backupsDesc struct {
	ContinuousBackupsStatus        string   `json:"ContinuousBackupsStatus"`
	PointInTimeRecoveryDescription pitrDesc `json:"PointInTimeRecoveryDescription"`
}

func init() {
	register("UpdateContinuousBackups", (*Service).updateContinuousBackups)
	register("DescribeContinuousBackups", (*Service).describeContinuousBackups)
}

func (s *Service) backups(t *table) map[string]any {
	d := backupsDesc{ContinuousBackupsStatus: "ENABLED", PointInTimeRecoveryDescription: pitrDesc{PointInTimeRecoveryStatus: "DISABLED"}}
	if t.meta.PITR {
		now := s.now()
		days := t.meta.PITRDays
		if days == 0 {
			days = 35
		}
		earliest := time.UnixMilli(max(t.meta.CreatedMillis, now.Add(-time.Duration(days)*24*time.Hour).UnixMilli()))
		d.PointInTimeRecoveryDescription = pitrDesc{PointInTimeRecoveryStatus: "ENABLED", RecoveryPeriodInDays: days,
			EarliestRestorableDateTime: awsproto.TS(earliest), LatestRestorableDateTime: awsproto.TS(now.Add(-5 * time.Minute))}
	}
	return map[string]any{"ContinuousBackupsDescription": d}
}

func (s *Service) updateContinuousBackups(c *call) (any, error) {
	var in updateBackupsInput
	if err := decode(c, &in); err != nil {
		return nil, err
	}
	sp := in.PointInTimeRecoverySpecification
	if sp == nil || sp.PointInTimeRecoveryEnabled == nil {
		return nil, invalid("1 validation error detected: Value null at 'pointInTimeRecoverySpecification.pointInTimeRecoveryEnabled' failed to satisfy constraint: Member must not be null")
	}
	if sp.RecoveryPeriodInDays != nil && (*sp.RecoveryPeriodInDays < 1 || *sp.RecoveryPeriodInDays > 35) {
		return nil, invalid("1 validation error detected: Value '%d' at 'pointInTimeRecoverySpecification.recoveryPeriodInDays' failed to satisfy constraint: Member must have value less than or equal to 35", *sp.RecoveryPeriodInDays)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := s.lookupLocked(c, in.TableName)
	if err != nil {
		if e, ok := awserr.As(err); ok && e.Type == tResourceNotFound {
			_, _, n := tableName(c, in.TableName)
			return nil, &awserr.Error{Type: "TableNotFoundException", Status: 400, Message: "Table not found: " + n}
		}
		return nil, err
	}
	m := t.meta
	m.PITR = *sp.PointInTimeRecoveryEnabled
	m.PITRDays = 0
	if sp.RecoveryPeriodInDays != nil {
		m.PITRDays = *sp.RecoveryPeriodInDays
	}
	if err := s.commitLocked(c, logRec{Op: "table", Table: &m}); err != nil {
		return nil, err
	}
	return s.backups(t), nil
}

func (s *Service) describeContinuousBackups(c *call) (any, error) {
	var in describeTableInput
	if err := decode(c, &in); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	t, err := s.lookupLocked(c, in.TableName)
	if err != nil {
		if e, ok := awserr.As(err); ok && e.Type == tResourceNotFound {
			_, _, n := tableName(c, in.TableName)
			return nil, &awserr.Error{Type: "TableNotFoundException", Status: 400, Message: "Table not found: " + n}
		}
		return nil, err
	}
	return s.backups(t), nil
}
