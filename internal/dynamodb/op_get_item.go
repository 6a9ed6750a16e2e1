package dynamodb

// GetItem reads one item by its full primary key, projected by
// ProjectionExpression or the legacy AttributesToGet. Reads are always
// strongly consistent here (ConsistentRead is accepted either way). A
// missing item gives an empty response, as AWS does.

type getItemInput struct {
	exprParams
	TableName              *string  `json:"TableName"`
	Key                    Item     `json:"Key"`
	ConsistentRead         *bool    `json:"ConsistentRead"`
	ProjectionExpression   *string  `json:"ProjectionExpression"`
	AttributesToGet        []string `json:"AttributesToGet"`
	ReturnConsumedCapacity *string  `json:"ReturnConsumedCapacity"`
}

type getItemOutput struct {
	Item             Item      `json:"Item,omitempty"`
	ConsumedCapacity *consumed `json:"ConsumedCapacity,omitempty"`
}

func init() { register("GetItem", (*Service).getItem) }

// projectionOf builds the projection of a read from either form.
func projectionOf(expr *string, toGet []string, env *exprEnv) ([]docPath, error) {
	if expr != nil && toGet != nil {
		return nil, bothForms([]string{"AttributesToGet"}, []string{"ProjectionExpression"})
	}
	if expr != nil {
		p, err := parseProjection(*expr, env)
		if err != nil {
			return nil, exprErr("ProjectionExpression", err)
		}
		return p, nil
	}
	return attributesToGet(toGet)
}

func (s *Service) getItem(c *call) (any, error) {
	var in getItemInput
	if err := decode(c, &in); err != nil {
		return nil, err
	}
	if err := checkCapacityMode(in.ReturnConsumedCapacity); err != nil {
		return nil, err
	}
	env, err := in.env(set(in.ProjectionExpression))
	if err != nil {
		return nil, err
	}
	proj, err := projectionOf(in.ProjectionExpression, in.AttributesToGet, env)
	if err != nil {
		return nil, err
	}
	if err := env.unused(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	t, err := s.lookupLocked(c, in.TableName)
	if err != nil {
		return nil, err
	}
	if err := validateKey(t, in.Key); err != nil {
		return nil, err
	}
	it := t.get(in.Key)
	out := &getItemOutput{ConsumedCapacity: capacity(in.ReturnConsumedCapacity, t, itemSize(it), false, in.ConsistentRead != nil && *in.ConsistentRead)}
	if it != nil {
		out.Item = project(it, proj)
	}
	return out, nil
}
