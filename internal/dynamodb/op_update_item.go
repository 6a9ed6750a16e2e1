package dynamodb

// UpdateItem edits (or creates) one item with an UpdateExpression (SET with
// + and -, if_not_exists and list_append; REMOVE; ADD; DELETE; nested map
// paths and list indexes) or the legacy AttributeUpdates (PUT, ADD,
// DELETE), under an optional condition (ConditionExpression or legacy
// Expected). Right-hand sides read the item as it was before the update.
// Key attributes cannot be updated. ReturnValues NONE, ALL_OLD,
// UPDATED_OLD, ALL_NEW, UPDATED_NEW (the UPDATED_ forms return the updated
// paths only); ReturnValuesOnConditionCheckFailure=ALL_OLD as for PutItem.
// An update of a missing item creates it from the key, as AWS does.

type updateItemInput struct {
	exprParams
	TableName                           *string                 `json:"TableName"`
	Key                                 Item                    `json:"Key"`
	UpdateExpression                    *string                 `json:"UpdateExpression"`
	AttributeUpdates                    map[string]attrUpdate   `json:"AttributeUpdates"`
	ConditionExpression                 *string                 `json:"ConditionExpression"`
	Expected                            map[string]expectedAttr `json:"Expected"`
	ConditionalOperator                 *string                 `json:"ConditionalOperator"`
	ReturnValues                        *string                 `json:"ReturnValues"`
	ReturnValuesOnConditionCheckFailure *string                 `json:"ReturnValuesOnConditionCheckFailure"`
	ReturnConsumedCapacity              *string                 `json:"ReturnConsumedCapacity"`
	ReturnItemCollectionMetrics         *string                 `json:"ReturnItemCollectionMetrics"`
}

func init() { register("UpdateItem", (*Service).updateItem) }

// updateSpec is a parsed update: condition and actions.
type updateSpec struct {
	cnd  *cond
	acts []action
	// legacy AttributeUpdates are translated once the table is known
	legacy map[string]attrUpdate
}

func parseUpdateSpec(p *exprParams, updExpr *string, upd map[string]attrUpdate, condExpr *string, expected map[string]expectedAttr, condOp *string) (*updateSpec, error) {
	usesExpr := set(updExpr) || set(condExpr)
	if usesExpr && (upd != nil || expected != nil || condOp != nil) {
		var legacy, expr []string
		if upd != nil {
			legacy = append(legacy, "AttributeUpdates")
		}
		if expected != nil {
			legacy = append(legacy, "Expected")
		}
		if condOp != nil {
			legacy = append(legacy, "ConditionalOperator")
		}
		if set(updExpr) {
			expr = append(expr, "UpdateExpression")
		}
		if set(condExpr) {
			expr = append(expr, "ConditionExpression")
		}
		return nil, bothForms(legacy, expr)
	}
	env, err := p.env(usesExpr)
	if err != nil {
		return nil, err
	}
	spec := &updateSpec{legacy: upd}
	if updExpr != nil {
		spec.acts, err = parseUpdate(*updExpr, env)
		if err != nil {
			return nil, exprErr("UpdateExpression", err)
		}
	}
	spec.cnd, err = condition(condExpr, expected, condOp, env)
	if err != nil {
		return nil, err
	}
	if err := env.unused(); err != nil {
		return nil, err
	}
	return spec, nil
}

// resolveActions finishes the spec against the table: legacy updates are
// translated and key attributes refused.
func (u *updateSpec) resolveActions(t *table) ([]action, error) {
	if u.legacy != nil {
		return updateActions(u.legacy, t)
	}
	for _, a := range u.acts {
		if t.isKey(a.path[0].name) {
			return nil, invalid("One or more parameter values were invalid: Cannot update attribute %s. This attribute is part of the key", a.path[0].name)
		}
		if a.kind == aAdd || a.kind == aDelete {
			v := a.val.val
			_, _, isSet := setElems(v)
			if a.kind == aAdd && v.N == nil && !isSet || a.kind == aDelete && !isSet {
				return nil, invalid("Invalid UpdateExpression: Incorrect operand type for operator or function; operator: %s, operand type: %s", map[actKind]string{aAdd: "ADD", aDelete: "DELETE"}[a.kind], typeLong(v))
			}
		}
	}
	return u.acts, nil
}

func typeLong(v *AV) string {
	switch v.Type() {
	case "S":
		return "STRING"
	case "N":
		return "NUMBER"
	case "B":
		return "BINARY"
	case "BOOL":
		return "BOOLEAN"
	case "L":
		return "LIST"
	case "M":
		return "MAP"
	case "SS":
		return "STRING SET"
	case "NS":
		return "NUMBER SET"
	case "BS":
		return "BINARY SET"
	}
	return v.Type()
}

// applySpec runs a parsed update on table t for key: checks the
// condition, computes the new item. It changes nothing.
func applySpec(t *table, key Item, spec *updateSpec, onFail bool) (old, neu Item, acts []action, err error) {
	acts, err = spec.resolveActions(t)
	if err != nil {
		return nil, nil, nil, err
	}
	old = t.get(key)
	if err := checkCondition(spec.cnd, old, onFail); err != nil {
		return nil, nil, nil, err
	}
	neu, err = applyUpdate(old, t.keyItem(key), acts)
	if err != nil {
		return nil, nil, nil, err
	}
	if err := validateItem(t, neu); err != nil {
		return nil, nil, nil, err
	}
	return old, neu, acts, nil
}

func (s *Service) updateItem(c *call) (any, error) {
	var in updateItemInput
	if err := decode(c, &in); err != nil {
		return nil, err
	}
	rv, err := checkReturnValues(in.ReturnValues, "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW")
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
	spec, err := parseUpdateSpec(&in.exprParams, in.UpdateExpression, in.AttributeUpdates, in.ConditionExpression, in.Expected, in.ConditionalOperator)
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
	old, neu, acts, err := applySpec(t, in.Key, spec, onFail)
	if err != nil {
		return nil, err
	}
	if err := s.commitLocked(c, logRec{Op: "put", Key: tableKey(t.meta.Account, t.meta.Region, t.meta.Name), Item: neu}); err != nil {
		return nil, err
	}
	out := &writeOutput{ConsumedCapacity: capacity(in.ReturnConsumedCapacity, t, itemSize(neu), true, true)}
	paths := make([]docPath, len(acts))
	for i, a := range acts {
		paths[i] = a.path
	}
	switch rv {
	case "ALL_OLD":
		if old != nil {
			out.Attributes = old
		}
	case "ALL_NEW":
		out.Attributes = neu
	case "UPDATED_OLD":
		if old != nil {
			out.Attributes = project(old, paths)
		}
	case "UPDATED_NEW":
		out.Attributes = project(neu, paths)
	}
	if len(out.Attributes) == 0 {
		out.Attributes = nil
	}
	return out, nil
}
