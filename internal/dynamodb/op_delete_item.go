package dynamodb

// DeleteItem deletes one item by key, under an optional condition
// (ConditionExpression or legacy Expected). Deleting a missing item
// succeeds. ReturnValues NONE or ALL_OLD; ReturnValuesOnConditionCheckFailure
// as for PutItem.

type deleteItemInput struct {
	exprParams
	TableName                           *string                 `json:"TableName"`
	Key                                 Item                    `json:"Key"`
	ConditionExpression                 *string                 `json:"ConditionExpression"`
	Expected                            map[string]expectedAttr `json:"Expected"`
	ConditionalOperator                 *string                 `json:"ConditionalOperator"`
	ReturnValues                        *string                 `json:"ReturnValues"`
	ReturnValuesOnConditionCheckFailure *string                 `json:"ReturnValuesOnConditionCheckFailure"`
	ReturnConsumedCapacity              *string                 `json:"ReturnConsumedCapacity"`
	ReturnItemCollectionMetrics         *string                 `json:"ReturnItemCollectionMetrics"`
}

func init() { register("DeleteItem", (*Service).deleteItem) }

func (s *Service) deleteItem(c *call) (any, error) {
	var in deleteItemInput
	if err := decode(c, &in); err != nil {
		return nil, err
	}
	rv, onFail, cnd, err := writeCondition(&in.exprParams, in.ConditionExpression, in.Expected, in.ConditionalOperator,
		in.ReturnValues, in.ReturnValuesOnConditionCheckFailure, in.ReturnConsumedCapacity)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := s.lookupLocked(c, in.TableName)
	if err != nil {
		return nil, err
	}
	if err := validateKey(t, in.Key); err != nil {
		return nil, err
	}
	old := t.get(in.Key)
	if err := checkCondition(cnd, old, onFail); err != nil {
		return nil, err
	}
	if old != nil {
		if err := s.commitLocked(c, logRec{Op: "del", Key: tableKey(t.meta.Account, t.meta.Region, t.meta.Name), Item: t.keyItem(old)}); err != nil {
			return nil, err
		}
	}
	out := &writeOutput{ConsumedCapacity: capacity(in.ReturnConsumedCapacity, t, itemSize(old), true, true)}
	if rv == "ALL_OLD" && old != nil {
		out.Attributes = old
	}
	return out, nil
}
