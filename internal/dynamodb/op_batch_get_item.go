package dynamodb

// BatchGetItem reads up to 100 items by key across tables, each table with
// its own projection (ProjectionExpression or AttributesToGet). Reads are
// strongly consistent; UnprocessedKeys is always empty (no 16 MB split:
// Eddy answers everything in one response).

import "github.com/eddy-streams/eddy/internal/awserr"

type keysAndAttributes struct {
	exprParams
	Keys                 []Item   `json:"Keys"`
	ProjectionExpression *string  `json:"ProjectionExpression"`
	AttributesToGet      []string `json:"AttributesToGet"`
	ConsistentRead       *bool    `json:"ConsistentRead"`
}

type batchGetInput struct {
	RequestItems           map[string]keysAndAttributes `json:"RequestItems"`
	ReturnConsumedCapacity *string                      `json:"ReturnConsumedCapacity"`
}

type batchGetOutput struct {
	Responses        map[string][]Item            `json:"Responses"`
	UnprocessedKeys  map[string]keysAndAttributes `json:"UnprocessedKeys"`
	ConsumedCapacity []*consumed                  `json:"ConsumedCapacity,omitempty"`
}

func init() { register("BatchGetItem", (*Service).batchGetItem) }

func (s *Service) batchGetItem(c *call) (any, error) {
	var in batchGetInput
	if err := decode(c, &in); err != nil {
		return nil, err
	}
	if err := checkCapacityMode(in.ReturnConsumedCapacity); err != nil {
		return nil, err
	}
	if len(in.RequestItems) == 0 {
		return nil, invalid("1 validation error detected: Value null at 'requestItems' failed to satisfy constraint: Member must have length greater than or equal to 1")
	}
	total := 0
	projs := map[string][]docPath{}
	for name, ka := range in.RequestItems {
		var v awserr.Validation
		validateTableName(&v, &name, "requestItems.key")
		if err := v.Err(); err != nil {
			return nil, err
		}
		if len(ka.Keys) == 0 {
			return nil, invalid("1 validation error detected: Value null at 'requestItems.%s.member.keys' failed to satisfy constraint: Member must have length greater than or equal to 1", name)
		}
		total += len(ka.Keys)
		env, err := ka.env(set(ka.ProjectionExpression))
		if err != nil {
			return nil, err
		}
		p, err := projectionOf(ka.ProjectionExpression, ka.AttributesToGet, env)
		if err != nil {
			return nil, err
		}
		if err := env.unused(); err != nil {
			return nil, err
		}
		projs[name] = p
	}
	if total > 100 {
		return nil, invalid("Too many items requested for the BatchGetItem call")
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := &batchGetOutput{Responses: map[string][]Item{}, UnprocessedKeys: map[string]keysAndAttributes{}}
	for _, name := range sortedKeys(in.RequestItems) {
		nm := name
		t, err := s.lookupLocked(c, &nm)
		if err != nil {
			return nil, err
		}
		ka := in.RequestItems[name]
		seen := map[string]bool{}
		items := []Item{}
		size := 0
		for _, k := range ka.Keys {
			if err := validateKey(t, k); err != nil {
				return nil, err
			}
			ks := t.keyOf(k)
			if seen[ks] {
				return nil, invalid("Provided list of item keys contains duplicates")
			}
			seen[ks] = true
			if it := t.get(k); it != nil {
				items = append(items, project(it, projs[name]))
				size += itemSize(it)
			}
		}
		out.Responses[name] = items
		if cp := capacity(in.ReturnConsumedCapacity, t, size, false, ka.ConsistentRead != nil && *ka.ConsistentRead); cp != nil {
			out.ConsumedCapacity = append(out.ConsumedCapacity, cp)
		}
	}
	return out, nil
}
