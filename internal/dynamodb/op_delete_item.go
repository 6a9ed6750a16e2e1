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
	rv, err := checkReturnValues(in.ReturnValues, "ALL_OLD")
	if err != nil {
		return nil, err
	}
	onFail, err := checkReturnOnFailure(in.ReturnValuesOnConditionCheckFailure)
	if err != nil {
		return nil, err
	}
	if err := checkCapacityMode(in.ReturnConsumedCapacity); err != nil {
		return nil, err
	}
	env, err := in.env(set(in.ConditionExpression))
	if err != nil {
		return nil, err
	}
	cnd, err := condition(in.ConditionExpression, in.Expected, in.ConditionalOperator, env)
	if err != nil {
		return nil, err
	}
	if err := env.unused(); err != nil {
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
	if cnd != nil {
		ok, err := evalCond(cnd, old)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, conditionFailed(failItem(onFail, old))
		}
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
