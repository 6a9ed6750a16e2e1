package dynamodb

// DescribeTable describes a table: key schema, attribute definitions,
// status (always ACTIVE), billing summary, item count and size (exact and
// current, where AWS refreshes them about every six hours), indexes (with
// their own counts), deletion protection and table class.

type describeTableInput struct {
	TableName *string `json:"TableName"`
}

type describeTableOutput struct {
	Table *tableDesc `json:"Table"`
}

func init() { register("DescribeTable", (*Service).describeTable) }

func (s *Service) describeTable(c *call) (any, error) {
	var in describeTableInput
	if err := decode(c, &in); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	t, err := s.lookupLocked(c, in.TableName)
	if err != nil {
		if err.Error() == notFound().Error() {
			_, _, n := tableName(c, in.TableName)
			return nil, notFoundMsg("Requested resource not found: Table: " + n + " not found")
		}
		return nil, err
	}
	return &describeTableOutput{Table: t.describe("ACTIVE")}, nil
}
