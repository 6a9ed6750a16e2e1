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
	if err := validateItem(t, in.Item); err != nil {
		return nil, err
	}
	old := t.get(in.Item)
	if err := checkCondition(cnd, old, onFail); err != nil {
		return nil, err
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

// writeCondition checks the parameters PutItem and DeleteItem share
// (ReturnValues NONE or ALL_OLD, ReturnValuesOnConditionCheckFailure,
// ReturnConsumedCapacity) and compiles their condition, from
// ConditionExpression or the legacy Expected (nil when there is none).
func writeCondition(p *exprParams, condExpr *string, expected map[string]expectedAttr, condOp, returnValues, onFailure, capacity *string) (rv string, onFail bool, cnd *cond, err error) {
	if rv, err = checkReturnValues(returnValues, "ALL_OLD"); err != nil {
		return "", false, nil, err
	}
	if onFail, err = checkReturnOnFailure(onFailure); err != nil {
		return "", false, nil, err
	}
	if err = checkCapacityMode(capacity); err != nil {
		return "", false, nil, err
	}
	env, err := p.env(set(condExpr))
	if err != nil {
		return "", false, nil, err
	}
	if cnd, err = condition(condExpr, expected, condOp, env); err != nil {
		return "", false, nil, err
	}
	if err = env.unused(); err != nil {
		return "", false, nil, err
	}
	return rv, onFail, cnd, nil
}

// checkCondition fails with ConditionalCheckFailedException (carrying old
// when onFail asks for it) when cnd does not hold for old.
func checkCondition(cnd *cond, old Item, onFail bool) error {
	if cnd == nil {
		return nil
	}
	ok, err := evalCond(cnd, old)
	if err != nil {
		return err
	}
	if !ok {
		return conditionFailed(failItem(onFail, old))
	}
	return nil
}
