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
	r, err := (&readRequest{params: &in.exprParams, capacityMode: in.ReturnConsumedCapacity, limit: in.Limit,
		members: in.checkSegments, legacyFilter: in.ScanFilter, filterName: "ScanFilter", condOp: in.ConditionalOperator,
		filterExpr: in.FilterExpression, projExpr: in.ProjectionExpression, attrsToGet: in.AttributesToGet}).parse()
	if err != nil {
		return nil, err
	}
	s.mu.Lock() // order() may rebuild the sorted cache
	defer s.mu.Unlock()
	t, v, err := s.readView(c, in.TableName, in.IndexName, in.ConsistentRead)
	if err != nil {
		return nil, err
	}
	v.scan = true
	spec, err := readSpecOf(v, in.Select, r.proj, r.filter, in.Limit, in.ExclusiveStartKey)
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

// checkSegments validates Segment and TotalSegments of a parallel scan.
func (in *scanInput) checkSegments() error {
	if in.TotalSegments != nil && (*in.TotalSegments < 1 || *in.TotalSegments > 1000000) {
		if *in.TotalSegments < 1 {
			return invalid("1 validation error detected: Value '%d' at 'totalSegments' failed to satisfy constraint: Member must have value greater than or equal to 1", *in.TotalSegments)
		}
		return invalid("1 validation error detected: Value '%d' at 'totalSegments' failed to satisfy constraint: Member must have value less than or equal to 1000000", *in.TotalSegments)
	}
	if in.Segment != nil && *in.Segment < 0 {
		return invalid("1 validation error detected: Value '%d' at 'segment' failed to satisfy constraint: Member must have value greater than or equal to 0", *in.Segment)
	}
	if in.Segment != nil && in.TotalSegments == nil {
		return invalid("The TotalSegments parameter is required but was not present in the request when Segment parameter is present")
	}
	if in.Segment == nil && in.TotalSegments != nil {
		return invalid("The Segment parameter is required but was not present in the request when parameter TotalSegments is present")
	}
	if in.Segment != nil && *in.Segment >= *in.TotalSegments {
		return invalid("The Segment parameter is zero-based and must be less than parameter TotalSegments: Segment: %d is not less than TotalSegments: %d", *in.Segment, *in.TotalSegments)
	}
	return nil
}
