package dynamodb

// UpdateTable changes a table: create or delete global secondary indexes
// (GlobalSecondaryIndexUpdates Create/Delete/Update, one per call as on
// AWS), new AttributeDefinitions for them, BillingMode, provisioned
// throughput, DeletionProtectionEnabled and TableClass. A new index is
// ACTIVE (and fully backfilled) at once, where AWS spends minutes in
// CREATING with Backfilling=true: the KCL's wait for
// LeaseOwnerToLeaseKeyIndex ends on its first DescribeTable.

import "github.com/eddy-streams/eddy/internal/awserr"

type gsiUpdate struct {
	Create *gsiInput `json:"Create"`
	Delete *struct {
		IndexName *string `json:"IndexName"`
	} `json:"Delete"`
	Update *struct {
		IndexName             *string         `json:"IndexName"`
		ProvisionedThroughput *throughput     `json:"ProvisionedThroughput"`
		OnDemandThroughput    *onDemandThrput `json:"OnDemandThroughput"`
	} `json:"Update"`
}

type updateTableInput struct {
	TableName                   *string         `json:"TableName"`
	AttributeDefinitions        []attrDef       `json:"AttributeDefinitions"`
	BillingMode                 *string         `json:"BillingMode"`
	ProvisionedThroughput       *throughput     `json:"ProvisionedThroughput"`
	OnDemandThroughput          *onDemandThrput `json:"OnDemandThroughput"`
	GlobalSecondaryIndexUpdates []gsiUpdate     `json:"GlobalSecondaryIndexUpdates"`
	DeletionProtectionEnabled   *bool           `json:"DeletionProtectionEnabled"`
	TableClass                  *string         `json:"TableClass"`
	StreamSpecification         *struct {
		StreamEnabled *bool `json:"StreamEnabled"`
	} `json:"StreamSpecification"`
	ReplicaUpdates []any `json:"ReplicaUpdates"`
}

func init() { register("UpdateTable", (*Service).updateTable) }

func (s *Service) updateTable(c *call) (any, error) {
	var in updateTableInput
	if err := decode(c, &in); err != nil {
		return nil, err
	}
	if in.StreamSpecification != nil && in.StreamSpecification.StreamEnabled != nil && *in.StreamSpecification.StreamEnabled {
		return nil, invalid("Eddy does not serve DynamoDB Streams: StreamSpecification.StreamEnabled must be false")
	}
	if in.ReplicaUpdates != nil {
		return nil, invalid("Eddy does not serve global tables: ReplicaUpdates is not supported")
	}
	if in.BillingMode != nil && *in.BillingMode != "PROVISIONED" && *in.BillingMode != "PAY_PER_REQUEST" {
		return nil, invalid("1 validation error detected: Value '%s' at 'billingMode' failed to satisfy constraint: Member must satisfy enum value set: [PROVISIONED, PAY_PER_REQUEST]", *in.BillingMode)
	}
	if len(in.GlobalSecondaryIndexUpdates) > 1 {
		return nil, &awserr.Error{Type: tLimitExceeded, Status: 400, Message: "Subscriber limit exceeded: Only 1 online index can be created or deleted simultaneously per table"}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := s.lookupNamedLocked(c, in.TableName)
	if err != nil {
		return nil, err
	}
	m := t.meta
	m.Indexes = append([]indexMeta{}, t.meta.Indexes...)
	m.AttrDefs = append([]attrDef{}, t.meta.AttrDefs...)
	changed := false
	if in.BillingMode != nil && *in.BillingMode != m.Billing {
		m.Billing = *in.BillingMode
		changed = true
		if m.Billing == "PAY_PER_REQUEST" {
			m.Throughput = nil
			for i := range m.Indexes {
				m.Indexes[i].Throughput = nil
			}
		}
	}
	if in.ProvisionedThroughput != nil {
		if err := checkThroughput(m.Billing, in.ProvisionedThroughput, "table"); err != nil {
			return nil, err
		}
		m.Throughput = in.ProvisionedThroughput
		changed = true
	} else if m.Billing == "PROVISIONED" && m.Throughput == nil {
		return nil, invalid("One or more parameter values were invalid: ProvisionedThroughput must be specified when BillingMode is PROVISIONED")
	}
	if in.OnDemandThroughput != nil {
		m.OnDemand = in.OnDemandThroughput
		changed = true
	}
	if in.DeletionProtectionEnabled != nil {
		m.DeletionProtection = *in.DeletionProtectionEnabled
		changed = true
	}
	if in.TableClass != nil {
		if *in.TableClass != "STANDARD" && *in.TableClass != "STANDARD_INFREQUENT_ACCESS" {
			return nil, invalid("1 validation error detected: Value '%s' at 'tableClass' failed to satisfy constraint: Member must satisfy enum value set: [STANDARD_INFREQUENT_ACCESS, STANDARD]", *in.TableClass)
		}
		m.TableClass = *in.TableClass
		changed = true
	}
	for _, d := range in.AttributeDefinitions {
		if d.AttributeType != "S" && d.AttributeType != "N" && d.AttributeType != "B" {
			return nil, invalid("1 validation error detected: Value '%s' at 'attributeDefinitions.1.member.attributeType' failed to satisfy constraint: Member must satisfy enum value set: [B, N, S]", d.AttributeType)
		}
		if have := t.attrType(d.AttributeName); have != "" && have != d.AttributeType {
			return nil, invalid("Cannot change the type of an existing attribute definition: %s", d.AttributeName)
		} else if have == "" {
			m.AttrDefs = append(m.AttrDefs, d)
		}
	}
	for _, u := range in.GlobalSecondaryIndexUpdates {
		switch {
		case u.Create != nil:
			if u.Create.IndexName != nil && t.index(*u.Create.IndexName) != nil {
				return nil, invalid("One or more parameter values were invalid: Attempting to create an index which already exists")
			}
			if len(m.Indexes) >= 20 {
				return nil, &awserr.Error{Type: tLimitExceeded, Status: 400, Message: "Subscriber limit exceeded: The number of global secondary indexes per table exceeds 20"}
			}
			ix, err := buildIndex(*u.Create, true, m.Billing, m.AttrDefs)
			if err != nil {
				return nil, err
			}
			m.Indexes = append(m.Indexes, ix)
			changed = true
		case u.Delete != nil:
			if u.Delete.IndexName == nil || t.index(*u.Delete.IndexName) == nil {
				return nil, notFoundMsg("Requested resource not found: Index: " + strOr(u.Delete.IndexName) + " not found")
			}
			var keep []indexMeta
			for _, ix := range m.Indexes {
				if ix.IndexName != *u.Delete.IndexName {
					keep = append(keep, ix)
				}
			}
			m.Indexes = keep
			changed = true
		case u.Update != nil:
			if u.Update.IndexName == nil || t.index(*u.Update.IndexName) == nil {
				return nil, notFoundMsg("Requested resource not found: Index: " + strOr(u.Update.IndexName) + " not found")
			}
			for i := range m.Indexes {
				if m.Indexes[i].IndexName == *u.Update.IndexName {
					if u.Update.ProvisionedThroughput != nil {
						if err := checkThroughput(m.Billing, u.Update.ProvisionedThroughput, m.Indexes[i].IndexName); err != nil {
							return nil, err
						}
						m.Indexes[i].Throughput = u.Update.ProvisionedThroughput
					}
					if u.Update.OnDemandThroughput != nil {
						m.Indexes[i].OnDemand = u.Update.OnDemandThroughput
					}
				}
			}
			changed = true
		default:
			return nil, invalid("One or more parameter values were invalid: One of GlobalSecondaryIndexUpdate.Create, Update, or Delete must be specified")
		}
	}
	if !changed {
		return nil, invalid("The parameter 'AttributeDefinitions', 'BillingMode', 'ProvisionedThroughput', 'GlobalSecondaryIndexUpdates', 'DeletionProtectionEnabled' or another updatable member must be specified")
	}
	// every attribute definition must be used by a key
	used := map[string]bool{}
	for _, k := range m.KeySchema {
		used[k.AttributeName] = true
	}
	for _, ix := range m.Indexes {
		for _, k := range ix.KeySchema {
			used[k.AttributeName] = true
		}
	}
	var defs []attrDef
	for _, d := range m.AttrDefs {
		if used[d.AttributeName] {
			defs = append(defs, d)
		}
	}
	m.AttrDefs = defs
	// existing items must fit the new index key types
	tmp := &table{meta: m, items: t.items}
	tmp.reindex()
	for _, it := range t.items {
		if err := checkIndexKeys(tmp, it); err != nil {
			return nil, invalid("One or more parameter values were invalid: an existing item does not fit the new index: %s", err.(*awserr.Error).Message)
		}
	}
	if err := s.commitLocked(c, logRec{Op: "table", Table: &m}); err != nil {
		return nil, err
	}
	return &tableDescOutput{TableDescription: t.describe("ACTIVE")}, nil
}
