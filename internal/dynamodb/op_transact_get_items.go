package dynamodb

// TransactGetItems reads up to 100 items (Get actions) as one consistent
// snapshot, each with its own projection. Missing items give an empty
// response entry, as on AWS.

type transactGetInput struct {
	TransactItems []struct {
		Get *struct {
			exprParams
			TableName            *string `json:"TableName"`
			Key                  Item    `json:"Key"`
			ProjectionExpression *string `json:"ProjectionExpression"`
		} `json:"Get"`
	} `json:"TransactItems"`
	ReturnConsumedCapacity *string `json:"ReturnConsumedCapacity"`
}

type itemResponse struct {
	Item Item `json:"Item,omitempty"`
}

type transactGetOutput struct {
	Responses []itemResponse `json:"Responses"`
}

func init() { register("TransactGetItems", (*Service).transactGetItems) }

func (s *Service) transactGetItems(c *call) (any, error) {
	var in transactGetInput
	if err := decode(c, &in); err != nil {
		return nil, err
	}
	if len(in.TransactItems) == 0 || len(in.TransactItems) > 100 {
		return nil, invalid("1 validation error detected: Value at 'transactItems' failed to satisfy constraint: Member must have length less than or equal to 100, Member must have length greater than or equal to 1")
	}
	projs := make([][]docPath, len(in.TransactItems))
	for i, ti := range in.TransactItems {
		if ti.Get == nil {
			return nil, invalid("1 validation error detected: Value null at 'transactItems.%d.member.get' failed to satisfy constraint: Member must not be null", i+1)
		}
		env, err := ti.Get.env(set(ti.Get.ProjectionExpression))
		if err != nil {
			return nil, err
		}
		projs[i], err = projectionOf(ti.Get.ProjectionExpression, nil, env)
		if err != nil {
			return nil, err
		}
		if err := env.unused(); err != nil {
			return nil, err
		}
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := &transactGetOutput{Responses: make([]itemResponse, len(in.TransactItems))}
	for i, ti := range in.TransactItems {
		t, err := s.lookupLocked(c, ti.Get.TableName)
		if err != nil {
			return nil, err
		}
		if err := validateKey(t, ti.Get.Key); err != nil {
			return nil, err
		}
		if it := t.get(ti.Get.Key); it != nil {
			out.Responses[i].Item = project(it, projs[i])
		}
	}
	return out, nil
}
