package dynamodb

// BatchWriteItem puts and deletes up to 25 items across tables. Every
// request is validated first; then all writes are applied as one log
// record, so the batch is all-or-nothing on disk (AWS applies each write
// independently; nothing here can fail half-way). UnprocessedItems is
// always empty: Eddy does not throttle.

import "github.com/eddy-streams/eddy/internal/awserr"

type writeRequest struct {
	PutRequest *struct {
		Item Item `json:"Item"`
	} `json:"PutRequest"`
	DeleteRequest *struct {
		Key Item `json:"Key"`
	} `json:"DeleteRequest"`
}

type batchWriteInput struct {
	RequestItems                map[string][]writeRequest `json:"RequestItems"`
	ReturnConsumedCapacity      *string                   `json:"ReturnConsumedCapacity"`
	ReturnItemCollectionMetrics *string                   `json:"ReturnItemCollectionMetrics"`
}

type batchWriteOutput struct {
	UnprocessedItems map[string][]writeRequest `json:"UnprocessedItems"`
	ConsumedCapacity []*consumed               `json:"ConsumedCapacity,omitempty"`
}

func init() { register("BatchWriteItem", (*Service).batchWriteItem) }

func (s *Service) batchWriteItem(c *call) (any, error) {
	var in batchWriteInput
	if err := decode(c, &in); err != nil {
		return nil, err
	}
	if err := checkCapacityMode(in.ReturnConsumedCapacity); err != nil {
		return nil, err
	}
	if in.RequestItems == nil {
		return nil, invalid("1 validation error detected: Value null at 'requestItems' failed to satisfy constraint: Member must not be null")
	}
	total := 0
	for name, reqs := range in.RequestItems {
		var v awserr.Validation
		validateTableName(&v, &name, "requestItems.key")
		if err := v.Err(); err != nil {
			return nil, err
		}
		if len(reqs) == 0 {
			return nil, invalid("1 validation error detected: Value '{%s=[]}' at 'requestItems' failed to satisfy constraint: Map value must satisfy constraint: [Member must have length less than or equal to 25, Member must have length greater than or equal to 1]", name)
		}
		total += len(reqs)
	}
	if total > 25 {
		return nil, invalid("Too many items requested for the BatchWriteItem call")
	}
	if total == 0 {
		return nil, invalid("1 validation error detected: Value '{}' at 'requestItems' failed to satisfy constraint: Member must have length greater than or equal to 1")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var recs []logRec
	var caps []*consumed
	for _, name := range sortedKeys(in.RequestItems) {
		nm := name
		t, err := s.lookupLocked(c, &nm)
		if err != nil {
			return nil, err
		}
		seen := map[string]bool{}
		size := 0
		tk := tableKey(t.meta.Account, t.meta.Region, t.meta.Name)
		for _, r := range in.RequestItems[name] {
			switch {
			case r.PutRequest != nil && r.DeleteRequest == nil:
				if err := validateItem(t, r.PutRequest.Item); err != nil {
					return nil, err
				}
				k := t.keyOf(r.PutRequest.Item)
				if seen[k] {
					return nil, invalid("Provided list of item keys contains duplicates")
				}
				seen[k] = true
				size += itemSize(r.PutRequest.Item)
				recs = append(recs, logRec{Op: "put", Key: tk, Item: r.PutRequest.Item})
			case r.DeleteRequest != nil && r.PutRequest == nil:
				if err := validateKey(t, r.DeleteRequest.Key); err != nil {
					return nil, err
				}
				k := t.keyOf(r.DeleteRequest.Key)
				if seen[k] {
					return nil, invalid("Provided list of item keys contains duplicates")
				}
				seen[k] = true
				recs = append(recs, logRec{Op: "del", Key: tk, Item: r.DeleteRequest.Key})
			default:
				return nil, invalid("Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes")
			}
		}
		if cp := capacity(in.ReturnConsumedCapacity, t, size, true, true); cp != nil {
			caps = append(caps, cp)
		}
	}
	if err := s.commitLocked(c, recs...); err != nil {
		return nil, err
	}
	return &batchWriteOutput{UnprocessedItems: map[string][]writeRequest{}, ConsumedCapacity: caps}, nil
}
