package dynamodb

// Query reads the items of one partition of the table or of an index: a
// KeyConditionExpression (or legacy KeyConditions) with equality on the
// hash key and optionally =, <, <=, >, >=, BETWEEN or begins_with on the
// range key; then FilterExpression (or legacy QueryFilter), projection
// (ProjectionExpression / AttributesToGet / the index's projection), Select,
// ScanIndexForward, Limit (items evaluated), 1 MB pages and
// ExclusiveStartKey/LastEvaluatedKey paging. As on AWS, a page that
// reaches Limit carries a LastEvaluatedKey even when nothing follows.
// A table or LSI query reads only its partition; a GSI query walks the
// whole table (O(items)).

import (
	"sort"

	"github.com/eddy-streams/eddy/internal/awserr"
)

type queryInput struct {
	exprParams
	TableName              *string                    `json:"TableName"`
	IndexName              *string                    `json:"IndexName"`
	KeyConditionExpression *string                    `json:"KeyConditionExpression"`
	KeyConditions          map[string]legacyCondition `json:"KeyConditions"`
	FilterExpression       *string                    `json:"FilterExpression"`
	QueryFilter            map[string]legacyCondition `json:"QueryFilter"`
	ConditionalOperator    *string                    `json:"ConditionalOperator"`
	ProjectionExpression   *string                    `json:"ProjectionExpression"`
	AttributesToGet        []string                   `json:"AttributesToGet"`
	Select                 *string                    `json:"Select"`
	Limit                  *int                       `json:"Limit"`
	ExclusiveStartKey      Item                       `json:"ExclusiveStartKey"`
	ScanIndexForward       *bool                      `json:"ScanIndexForward"`
	ConsistentRead         *bool                      `json:"ConsistentRead"`
	ReturnConsumedCapacity *string                    `json:"ReturnConsumedCapacity"`
}

func init() { register("Query", (*Service).query) }

func (s *Service) query(c *call) (any, error) {
	var in queryInput
	if err := decode(c, &in); err != nil {
		return nil, err
	}
	r, err := (&readRequest{params: &in.exprParams, capacityMode: in.ReturnConsumedCapacity, limit: in.Limit,
		legacyFilter: in.QueryFilter, filterName: "QueryFilter", condOp: in.ConditionalOperator,
		filterExpr: in.FilterExpression, projExpr: in.ProjectionExpression, attrsToGet: in.AttributesToGet,
		query: true, keyCondExpr: in.KeyConditionExpression, keyConds: in.KeyConditions}).parse()
	if err != nil {
		return nil, err
	}
	keyCond, filter, proj := r.keyCond, r.filter, r.proj
	s.mu.RLock()
	defer s.mu.RUnlock()
	t, v, err := s.readView(c, in.TableName, in.IndexName, in.ConsistentRead)
	if err != nil {
		return nil, err
	}
	spec, err := readSpecOf(v, in.Select, proj, filter, in.Limit, in.ExclusiveStartKey)
	if err != nil {
		return nil, err
	}
	hashVal, rangeCond, err := splitKeyCondition(v, keyCond)
	if err != nil {
		return nil, err
	}
	if filter != nil {
		if err := filterOnKeys(v, filter); err != nil {
			return nil, err
		}
	}
	spec.reverse = in.ScanIndexForward != nil && !*in.ScanIndexForward
	var items []Item
	for _, it := range t.partition(v, hashVal) {
		if !v.has(it) || !equal(it[v.hash], hashVal) {
			continue
		}
		if rangeCond != nil {
			ok, err := evalCond(rangeCond, it)
			if err != nil {
				return nil, err
			}
			if !ok {
				continue
			}
		}
		items = append(items, it)
	}
	sort.Slice(items, func(i, j int) bool {
		n := v.cmp(items[i], items[j])
		if spec.reverse {
			return n > 0
		}
		return n < 0
	})
	out, size, err := v.page(items, spec)
	if err != nil {
		return nil, err
	}
	out.ConsumedCapacity = capacity(in.ReturnConsumedCapacity, t, size, false, in.ConsistentRead != nil && *in.ConsistentRead)
	return out, nil
}

// readSpecOf checks Select against the projection and the view.
func readSpecOf(v *view, sel *string, proj []docPath, filter *cond, limit *int, start Item) (*readSpec, error) {
	spec := &readSpec{filter: filter, proj: proj, start: start}
	if limit != nil {
		spec.limit = *limit
	}
	if err := v.checkStartKey(start); err != nil {
		return nil, err
	}
	if sel != nil {
		switch *sel {
		case "ALL_ATTRIBUTES":
			if proj != nil {
				return nil, invalid("Cannot specify the AttributesToGet when choosing to get ALL_ATTRIBUTES")
			}
			if v.ix != nil && v.ix.Projection.ProjectionType != "ALL" {
				return nil, invalid("One or more parameter values were invalid: Select type ALL_ATTRIBUTES is not supported for global secondary index %s because its projection type is not ALL", v.ix.IndexName)
			}
		case "ALL_PROJECTED_ATTRIBUTES":
			if v.ix == nil {
				return nil, invalid("One or more parameter values were invalid: Select type ALL_PROJECTED_ATTRIBUTES is supported only for index queries; IndexName must be specified")
			}
			if proj != nil {
				return nil, invalid("Cannot specify the AttributesToGet when choosing to get ALL_PROJECTED_ATTRIBUTES")
			}
		case "COUNT":
			if proj != nil {
				return nil, invalid("Cannot specify the AttributesToGet when choosing to get only the COUNT")
			}
			spec.count = true
		case "SPECIFIC_ATTRIBUTES":
			if proj == nil {
				return nil, invalid("One or more parameter values were invalid: Select type SPECIFIC_ATTRIBUTES requires ProjectionExpression or AttributesToGet")
			}
		default:
			return nil, invalid("1 validation error detected: Value '%s' at 'select' failed to satisfy constraint: Member must satisfy enum value set: [SPECIFIC_ATTRIBUTES, COUNT, ALL_ATTRIBUTES, ALL_PROJECTED_ATTRIBUTES]", *sel)
		}
	}
	return spec, nil
}

// splitKeyCondition finds the hash key value and the range condition of a
// key condition.
func splitKeyCondition(v *view, c *cond) (*AV, *cond, error) {
	var parts []*cond
	var flatten func(c *cond) error
	flatten = func(c *cond) error {
		switch c.kind {
		case cAnd:
			if err := flatten(c.a); err != nil {
				return err
			}
			return flatten(c.b)
		case cOr:
			return invalid("Invalid operator used in KeyConditionExpression: OR")
		case cNot:
			return invalid("Invalid operator used in KeyConditionExpression: NOT")
		case cIn:
			return invalid("Invalid operator used in KeyConditionExpression: IN")
		}
		parts = append(parts, c)
		return nil
	}
	if err := flatten(c); err != nil {
		return nil, nil, err
	}
	if len(parts) > 2 {
		return nil, nil, invalid("Conditions can be of length 1 or 2 only")
	}
	var hashVal *AV
	var rangeCond *cond
	for _, p := range parts {
		attr, val, err := keyConditionPart(p)
		if err != nil {
			return nil, nil, err
		}
		switch attr {
		case v.hash:
			if p.kind != cCmp || p.op != "=" {
				return nil, nil, invalid("Query key condition not supported")
			}
			if hashVal != nil {
				return nil, nil, invalid("KeyConditionExpressions must only contain one condition per key")
			}
			hashVal = val[0]
		case v.rng:
			if v.rng == "" {
				return nil, nil, invalid("Query condition missed key schema element: %s", v.hash)
			}
			if rangeCond != nil {
				return nil, nil, invalid("KeyConditionExpressions must only contain one condition per key")
			}
			if p.kind == cCmp && p.op == "<>" {
				return nil, nil, invalid("Unsupported operator on KeyCondition: <>")
			}
			rangeCond = p
		default:
			return nil, nil, invalid("Query condition missed key schema element: %s", v.hash)
		}
		want := v.t.attrType(attr)
		for _, x := range val {
			if x.Type() != want {
				return nil, nil, invalid("One or more parameter values were invalid: Condition parameter type does not match schema type")
			}
		}
	}
	if hashVal == nil {
		return nil, nil, invalid("Query condition missed key schema element: %s", v.hash)
	}
	return hashVal, rangeCond, nil
}

// keyConditionPart returns the key attribute and the values of one part.
func keyConditionPart(c *cond) (string, []*AV, error) {
	unsupported := invalid("Query key condition not supported")
	var pathOp *operand
	var vals []*AV
	switch c.kind {
	case cCmp, cBetween:
		pathOp = c.args[0]
		if c.kind == cCmp && c.args[0].kind == oValue && c.args[1].kind == oPath {
			pathOp = c.args[1]
			vals = append(vals, c.args[0].val)
			if c.op != "=" {
				return "", nil, unsupported
			}
		} else {
			for _, a := range c.args[1:] {
				if a.kind != oValue {
					return "", nil, unsupported
				}
				vals = append(vals, a.val)
			}
		}
		if c.kind == cBetween {
			if n, ok := compare(vals[0], vals[1]); ok && n > 0 {
				return "", nil, invalid("Invalid KeyConditionExpression: The BETWEEN operator requires upper bound to be greater than or equal to lower bound; lower bound operand: AttributeValue: %s, upper bound operand: AttributeValue: %s", vals[0], vals[1])
			}
		}
	case cFunc:
		if c.op != "begins_with" {
			return "", nil, invalid("Invalid KeyConditionExpression: Invalid function name in KeyConditionExpression; function: %s", c.op)
		}
		pathOp = c.args[0]
		if c.args[1].kind != oValue {
			return "", nil, unsupported
		}
		vals = append(vals, c.args[1].val)
	default:
		return "", nil, unsupported
	}
	if pathOp.kind != oPath || len(pathOp.path) != 1 {
		return "", nil, unsupported
	}
	return pathOp.path[0].name, vals, nil
}

// filterOnKeys refuses a filter on key attributes of the view (AWS does).
func filterOnKeys(v *view, c *cond) error {
	var walk func(c *cond) error
	walk = func(c *cond) error {
		if c == nil {
			return nil
		}
		for _, a := range c.args {
			if a.kind == oPath && (a.path[0].name == v.hash || a.path[0].name == v.rng && v.rng != "") {
				return &awserr.Error{Type: tValidation, Status: 400, Message: "Filter Expression can only contain non-primary key attributes: Primary key attribute: " + a.path[0].name}
			}
		}
		if err := walk(c.a); err != nil {
			return err
		}
		return walk(c.b)
	}
	return walk(c)
}
