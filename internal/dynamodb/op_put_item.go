package dynamodb

// PutItem writes a whole item, replacing any item with the same key. The
// write condition comes from ConditionExpression or the legacy Expected
// (+ ConditionalOperator), never both. ReturnValues NONE or ALL_OLD;
// ReturnValuesOnConditionCheckFailure=ALL_OLD puts the existing item into
// the ConditionalCheckFailedException. The change is in the log before the
// call returns.

type putItemInput struct {
	exprParams
	TableName                           *string                 `json:"TableName"`
	Item                                Item                    `json:"Item"`
	ConditionExpression                 *string                 `json:"ConditionExpression"`
	Expected                            map[string]expectedAttr `json:"Expected"`
	ConditionalOperator                 *string                 `json:"ConditionalOperator"`
	ReturnValues                        *string                 `json:"ReturnValues"`
	ReturnValuesOnConditionCheckFailure *string                 `json:"ReturnValuesOnConditionCheckFailure"`
	ReturnConsumedCapacity              *string                 `json:"ReturnConsumedCapacity"`
	ReturnItemCollectionMetrics         *string                 `json:"ReturnItemCollectionMetrics"`
}

type writeOutput struct {
	Attributes       Item      `json:"Attributes,omitempty"`
	ConsumedCapacity *consumed `json:"ConsumedCapacity,omitempty"`
}

func init() { register("PutItem", (*Service).putItem) }

func (s *Service) putItem(c *call) (any, error) {
	var in putItemInput
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
	if err := validateItem(t, in.Item); err != nil {
		return nil, err
	}
	old := t.get(in.Item)
	if cnd != nil {
		ok, err := evalCond(cnd, old)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, conditionFailed(failItem(onFail, old))
		}
	}
	if err := s.commitLocked(c, logRec{Op: "put", Key: tableKey(t.meta.Account, t.meta.Region, t.meta.Name), Item: in.Item}); err != nil {
		return nil, err
	}
	out := &writeOutput{ConsumedCapacity: capacity(in.ReturnConsumedCapacity, t, itemSize(in.Item), true, true)}
	if rv == "ALL_OLD" && old != nil {
		out.Attributes = old
	}
	return out, nil
}

func failItem(onFail bool, old Item) Item {
	if onFail {
		return old
	}
	return nil
}
