package dynamodb

// UpdateTimeToLive and DescribeTimeToLive store and report a table's TTL
// setting (attribute name, ENABLED/DISABLED), with AWS's errors for
// enabling twice or disabling what is off; the setting survives restarts.
// In the server, expired items (TTL attribute a number of epoch seconds in
// the past) are deleted by a sweep every minute (ttl.go); AWS deletes them
// "within a few days", so readers must filter on the attribute anyway.

type ttlSpec struct {
	AttributeName *string `json:"AttributeName"`
	Enabled       *bool   `json:"Enabled"`
}

type updateTTLInput struct {
	TableName               *string  `json:"TableName"`
	TimeToLiveSpecification *ttlSpec `json:"TimeToLiveSpecification"`
}

type ttlDesc struct {
	TimeToLiveStatus string `json:"TimeToLiveStatus"`
	AttributeName    string `json:"AttributeName,omitempty"`
}

func init() {
	register("UpdateTimeToLive", (*Service).updateTimeToLive)
	register("DescribeTimeToLive", (*Service).describeTimeToLive)
}

func (s *Service) updateTimeToLive(c *call) (any, error) {
	var in updateTTLInput
	if err := decode(c, &in); err != nil {
		return nil, err
	}
	sp := in.TimeToLiveSpecification
	if sp == nil || sp.AttributeName == nil || sp.Enabled == nil {
		return nil, invalid("1 validation error detected: Value null at 'timeToLiveSpecification' failed to satisfy constraint: Member must not be null")
	}
	if len(*sp.AttributeName) < 1 || len(*sp.AttributeName) > 255 {
		return nil, invalid("1 validation error detected: Value '%s' at 'timeToLiveSpecification.attributeName' failed to satisfy constraint: Member must have length greater than or equal to 1", *sp.AttributeName)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := s.lookupNamedLocked(c, in.TableName)
	if err != nil {
		return nil, err
	}
	m := t.meta
	if *sp.Enabled {
		if m.TTLEnabled {
			return nil, invalid("TimeToLive is already enabled")
		}
		m.TTLEnabled, m.TTLAttr = true, *sp.AttributeName
	} else {
		if !m.TTLEnabled {
			return nil, invalid("TimeToLive is already disabled")
		}
		if m.TTLAttr != *sp.AttributeName {
			return nil, invalid("TimeToLive is active on a different AttributeName: current AttributeName is %s", m.TTLAttr)
		}
		m.TTLEnabled = false
	}
	if err := s.commitLocked(c, logRec{Op: "table", Table: &m}); err != nil {
		return nil, err
	}
	return map[string]any{"TimeToLiveSpecification": sp}, nil
}

func (s *Service) describeTimeToLive(c *call) (any, error) {
	var in describeTableInput
	if err := decode(c, &in); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	t, err := s.lookupNamedLocked(c, in.TableName)
	if err != nil {
		return nil, err
	}
	d := ttlDesc{TimeToLiveStatus: "DISABLED"}
	if t.meta.TTLEnabled {
		d = ttlDesc{TimeToLiveStatus: "ENABLED", AttributeName: t.meta.TTLAttr}
	}
	return map[string]any{"TimeToLiveDescription": d}, nil
}
