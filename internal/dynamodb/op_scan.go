package dynamodb

// Scan reads the whole table (or index) in primary-key order, optionally
// one segment of a parallel scan (Segment/TotalSegments; an item's segment
// is a hash of its partition key), with FilterExpression (or legacy
// ScanFilter + ConditionalOperator), projection, Select, Limit (items
// evaluated), 1 MB pages and ExclusiveStartKey/LastEvaluatedKey paging.

type scanInput struct {
	exprParams
	TableName              *string                    `json:"TableName"`
	IndexName              *string                    `json:"IndexName"`
	FilterExpression       *string                    `json:"FilterExpression"`
	ScanFilter             map[string]legacyCondition `json:"ScanFilter"`
	ConditionalOperator    *string                    `json:"ConditionalOperator"`
	ProjectionExpression   *string                    `json:"ProjectionExpression"`
	AttributesToGet        []string                   `json:"AttributesToGet"`
	Select                 *string                    `json:"Select"`
	Limit                  *int                       `json:"Limit"`
	ExclusiveStartKey      Item                       `json:"ExclusiveStartKey"`
	Segment                *int                       `json:"Segment"`
	TotalSegments          *int                       `json:"TotalSegments"`
	ConsistentRead         *bool                      `json:"ConsistentRead"`
	ReturnConsumedCapacity *string                    `json:"ReturnConsumedCapacity"`
}

func init() { register("Scan", (*Service).scan) }

func (s *Service) scan(c *call) (any, error) {
	var in scanInput
	if err := decode(c, &in); err != nil {
		return nil, err
	}
	if err := checkCapacityMode(in.ReturnConsumedCapacity); err != nil {
		return nil, err
	}
	if in.Limit != nil && *in.Limit < 1 {
		return nil, invalid("1 validation error detected: Value '%d' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1", *in.Limit)
	}
	if in.TotalSegments != nil && (*in.TotalSegments < 1 || *in.TotalSegments > 1000000) {
		if *in.TotalSegments < 1 {
			return nil, invalid("1 validation error detected: Value '%d' at 'totalSegments' failed to satisfy constraint: Member must have value greater than or equal to 1", *in.TotalSegments)
		}
		return nil, invalid("1 validation error detected: Value '%d' at 'totalSegments' failed to satisfy constraint: Member must have value less than or equal to 1000000", *in.TotalSegments)
	}
	if in.Segment != nil && *in.Segment < 0 {
		return nil, invalid("1 validation error detected: Value '%d' at 'segment' failed to satisfy constraint: Member must have value greater than or equal to 0", *in.Segment)
	}
	if in.Segment != nil && in.TotalSegments == nil {
		return nil, invalid("The TotalSegments parameter is required but was not present in the request when Segment parameter is present")
	}
	if in.Segment == nil && in.TotalSegments != nil {
		return nil, invalid("The Segment parameter is required but was not present in the request when parameter TotalSegments is present")
	}
	if in.Segment != nil && *in.Segment >= *in.TotalSegments {
		return nil, invalid("The Segment parameter is zero-based and must be less than parameter TotalSegments: Segment: %d is not less than TotalSegments: %d", *in.Segment, *in.TotalSegments)
	}
	usesExpr := set(in.FilterExpression) || set(in.ProjectionExpression)
	var legacy, exprs []string
	if in.ScanFilter != nil {
		legacy = append(legacy, "ScanFilter")
	}
	if in.ConditionalOperator != nil {
		legacy = append(legacy, "ConditionalOperator")
	}
	if in.AttributesToGet != nil {
		legacy = append(legacy, "AttributesToGet")
	}
	if set(in.FilterExpression) {
		exprs = append(exprs, "FilterExpression")
	}
	if set(in.ProjectionExpression) {
		exprs = append(exprs, "ProjectionExpression")
	}
	if len(legacy) > 0 && len(exprs) > 0 {
		return nil, bothForms(legacy, exprs)
	}
	env, err := in.env(usesExpr)
	if err != nil {
		return nil, err
	}
	var filter *cond
	if in.FilterExpression != nil {
		filter, err = parseCondition(*in.FilterExpression, env)
		if err != nil {
			return nil, exprErr("FilterExpression", err)
		}
	} else if in.ScanFilter != nil {
		filter, err = filterCond(in.ScanFilter, in.ConditionalOperator)
		if err != nil {
			return nil, err
		}
	}
	proj, err := projectionOf(in.ProjectionExpression, in.AttributesToGet, env)
	if err != nil {
		return nil, err
	}
	if err := env.unused(); err != nil {
		return nil, err
	}
	s.mu.Lock() // order() may rebuild the sorted cache
	defer s.mu.Unlock()
	t, err := s.lookupLocked(c, in.TableName)
	if err != nil {
		return nil, err
	}
	v, err := s.viewOf(t, in.IndexName)
	if err != nil {
		return nil, err
	}
	if v.ix != nil && v.ix.Global && in.ConsistentRead != nil && *in.ConsistentRead {
		return nil, invalid("Consistent reads are not supported on global secondary indexes")
	}
	v.scan = true
	spec, err := readSpecOf(v, in.Select, proj, filter, in.Limit, in.ExclusiveStartKey)
	if err != nil {
		return nil, err
	}
	keys := t.order()
	items := make([]Item, 0, len(keys))
	for _, k := range keys {
		it := t.items[k]
		if !v.has(it) {
			continue
		}
		if in.TotalSegments != nil && *in.TotalSegments > 1 && t.segmentOf(it, *in.TotalSegments) != *in.Segment {
			continue
		}
		items = append(items, it)
	}
	out, size, err := v.page(items, spec)
	if err != nil {
		return nil, err
	}
	out.ConsumedCapacity = capacity(in.ReturnConsumedCapacity, t, size, false, in.ConsistentRead != nil && *in.ConsistentRead)
	return out, nil
}
