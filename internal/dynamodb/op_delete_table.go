package dynamodb

// DeleteTable deletes a table and its items at once. The response describes
// the table as DELETING (as AWS does); the table is already gone for the
// next call. A table with deletion protection is refused with the
// ValidationException AWS gives.

import "github.com/eddy-streams/eddy/internal/awserr"

func init() { register("DeleteTable", (*Service).deleteTable) }

func (s *Service) deleteTable(c *call) (any, error) {
	var in describeTableInput
	if err := decode(c, &in); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := s.lookupLocked(c, in.TableName)
	if err != nil {
		if e, ok := awserr.As(err); ok && e.Type == tResourceNotFound {
			_, _, n := tableName(c, in.TableName)
			return nil, notFoundMsg("Requested resource not found: Table: " + n + " not found")
		}
		return nil, err
	}
	if t.meta.DeletionProtection {
		return nil, invalid("Resource cannot be deleted as it is currently protected against deletion. Disable deletion protection first.")
	}
	d := t.describe("DELETING")
	if err := s.commitLocked(c, logRec{Op: "drop", Key: tableKey(t.meta.Account, t.meta.Region, t.meta.Name)}); err != nil {
		return nil, err
	}
	return &tableDescOutput{TableDescription: d}, nil
}
