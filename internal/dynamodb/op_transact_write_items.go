package dynamodb

// TransactWriteItems applies up to 100 ConditionCheck, Put, Update and
// Delete actions atomically: every condition is checked against the state
// before the transaction, and either all writes land (as one log record)
// or none does. A failed condition answers TransactionCanceledException
// with one CancellationReason per action (ConditionalCheckFailed, with the
// item when ReturnValuesOnConditionCheckFailure=ALL_OLD, or None), as AWS
// does. Two actions on one item are refused. ClientRequestToken is
// accepted but not remembered (no idempotency window).

import (
	"strings"

	"github.com/eddy-streams/eddy/internal/awserr"
)

type txCommon struct {
	exprParams
	TableName                           *string `json:"TableName"`
	ConditionExpression                 *string `json:"ConditionExpression"`
	ReturnValuesOnConditionCheckFailure *string `json:"ReturnValuesOnConditionCheckFailure"`
}

type transactItem struct {
	ConditionCheck *struct {
		txCommon
		Key Item `json:"Key"`
	} `json:"ConditionCheck"`
	Put *struct {
		txCommon
		Item Item `json:"Item"`
	} `json:"Put"`
	Delete *struct {
		txCommon
		Key Item `json:"Key"`
	} `json:"Delete"`
	Update *struct {
		txCommon
		Key              Item    `json:"Key"`
		UpdateExpression *string `json:"UpdateExpression"`
	} `json:"Update"`
}

type transactWriteInput struct {
	TransactItems               []transactItem `json:"TransactItems"`
	ClientRequestToken          *string        `json:"ClientRequestToken"`
	ReturnConsumedCapacity      *string        `json:"ReturnConsumedCapacity"`
	ReturnItemCollectionMetrics *string        `json:"ReturnItemCollectionMetrics"`
}

func init() { register("TransactWriteItems", (*Service).transactWriteItems) }

func (s *Service) transactWriteItems(c *call) (any, error) {
	var in transactWriteInput
	if err := decode(c, &in); err != nil {
		return nil, err
	}
	if err := checkCapacityMode(in.ReturnConsumedCapacity); err != nil {
		return nil, err
	}
	if len(in.TransactItems) == 0 || len(in.TransactItems) > 100 {
		return nil, invalid("1 validation error detected: Value '[]' at 'transactItems' failed to satisfy constraint: Member must have length less than or equal to 100, Member must have length greater than or equal to 1")
	}
	type prepared struct {
		common *txCommon
		kind   string
		key    Item
		item   Item
		spec   *updateSpec
		cnd    *cond
	}
	preps := make([]prepared, len(in.TransactItems))
	for i, ti := range in.TransactItems {
		p := &preps[i]
		n := 0
		if ti.ConditionCheck != nil {
			n++
			p.kind, p.common, p.key = "check", &ti.ConditionCheck.txCommon, ti.ConditionCheck.Key
			if ti.ConditionCheck.ConditionExpression == nil {
				return nil, invalid("1 validation error detected: Value null at 'transactItems.%d.member.conditionCheck.conditionExpression' failed to satisfy constraint: Member must not be null", i+1)
			}
		}
		if ti.Put != nil {
			n++
			p.kind, p.common, p.item = "put", &ti.Put.txCommon, ti.Put.Item
		}
		if ti.Delete != nil {
			n++
			p.kind, p.common, p.key = "delete", &ti.Delete.txCommon, ti.Delete.Key
		}
		if ti.Update != nil {
			n++
			p.kind, p.common, p.key = "update", &ti.Update.txCommon, ti.Update.Key
			if ti.Update.UpdateExpression == nil {
				return nil, invalid("1 validation error detected: Value null at 'transactItems.%d.member.update.updateExpression' failed to satisfy constraint: Member must not be null", i+1)
			}
			spec, err := parseUpdateSpec(&p.common.exprParams, ti.Update.UpdateExpression, nil, p.common.ConditionExpression, nil, nil)
			if err != nil {
				return nil, err
			}
			p.spec = spec
		}
		if n != 1 {
			return nil, invalid("TransactItems can only contain one of Check, Put, Update or Delete")
		}
		if _, err := checkReturnOnFailure(p.common.ReturnValuesOnConditionCheckFailure); err != nil {
			return nil, err
		}
		if p.spec == nil {
			env, err := p.common.env(set(p.common.ConditionExpression))
			if err != nil {
				return nil, err
			}
			p.cnd, err = condition(p.common.ConditionExpression, nil, nil, env)
			if err != nil {
				return nil, err
			}
			if err := env.unused(); err != nil {
				return nil, err
			}
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	reasons := make([]cancelReason, len(preps))
	failed := false
	var recs []logRec
	seen := map[string]bool{}
	for i := range preps {
		p := &preps[i]
		t, err := s.lookupLocked(c, p.common.TableName)
		if err != nil {
			return nil, err
		}
		if p.kind == "put" {
			if err := validateItem(t, p.item); err != nil {
				return nil, err
			}
			p.key = t.keyItem(p.item)
		} else if err := validateKey(t, p.key); err != nil {
			return nil, err
		}
		tk := tableKey(t.meta.Account, t.meta.Region, t.meta.Name)
		id := tk + "\x00" + t.keyOf(p.key)
		if seen[id] {
			return nil, invalid("Transaction request cannot include multiple operations on one item")
		}
		seen[id] = true
		onFail := p.common.ReturnValuesOnConditionCheckFailure != nil && *p.common.ReturnValuesOnConditionCheckFailure == "ALL_OLD"
		old := t.get(p.key)
		reasons[i] = cancelReason{Code: "None"}
		fail := func() {
			failed = true
			reasons[i] = cancelReason{Code: "ConditionalCheckFailed", Message: "The conditional request failed"}
			if onFail && old != nil {
				reasons[i].Item = old
			}
		}
		switch p.kind {
		case "update":
			_, neu, _, err := applySpec(t, p.key, p.spec, onFail)
			if err != nil {
				if ae, ok := err.(*apiError); ok && ae.AWS.Type == tConditionalCheck {
					fail()
					continue
				}
				return nil, err
			}
			recs = append(recs, logRec{Op: "put", Key: tk, Item: neu})
		default:
			if p.cnd != nil {
				ok, err := evalCond(p.cnd, old)
				if err != nil {
					return nil, err
				}
				if !ok {
					fail()
					continue
				}
			}
			switch p.kind {
			case "put":
				recs = append(recs, logRec{Op: "put", Key: tk, Item: p.item})
			case "delete":
				if old != nil {
					recs = append(recs, logRec{Op: "del", Key: tk, Item: t.keyItem(old)})
				}
			}
		}
	}
	if failed {
		codes := make([]string, len(reasons))
		for i, r := range reasons {
			codes[i] = r.Code
		}
		return nil, &apiError{AWS: &awserr.Error{Type: tTransactionCanceled, Status: 400,
			Message: "Transaction cancelled, please refer cancellation reasons for specific reasons [" + strings.Join(codes, ", ") + "]"}, Reasons: reasons}
	}
	if err := s.commitLocked(c, recs...); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}
