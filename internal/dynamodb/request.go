package dynamodb

import (
	"errors"
	"math"
	"strings"

	"github.com/eddy-streams/eddy/internal/awserr"
)

// exprParams are the members every expression-taking request shares.
type exprParams struct {
	ExpressionAttributeNames  map[string]string `json:"ExpressionAttributeNames"`
	ExpressionAttributeValues map[string]*AV    `json:"ExpressionAttributeValues"`
}

// env validates the placeholders; usesExpr says whether the request has
// any expression at all.
func (p *exprParams) env(usesExpr bool) (*exprEnv, error) {
	if !usesExpr {
		if p.ExpressionAttributeNames != nil {
			return nil, invalid("ExpressionAttributeNames can only be specified when using expressions")
		}
		if p.ExpressionAttributeValues != nil {
			return nil, invalid("ExpressionAttributeValues can only be specified when using expressions")
		}
		return newEnv(nil, nil), nil
	}
	if p.ExpressionAttributeNames != nil && len(p.ExpressionAttributeNames) == 0 {
		return nil, invalid("ExpressionAttributeNames must not be empty")
	}
	if p.ExpressionAttributeValues != nil && len(p.ExpressionAttributeValues) == 0 {
		return nil, invalid("ExpressionAttributeValues must not be empty")
	}
	for k := range p.ExpressionAttributeNames {
		if len(k) < 2 || k[0] != '#' || !identChars(k[1:]) {
			return nil, invalid("ExpressionAttributeNames contains invalid key: Syntax error; key: %q", k)
		}
	}
	for k, v := range p.ExpressionAttributeValues {
		if len(k) < 2 || k[0] != ':' || !identChars(k[1:]) {
			return nil, invalid("ExpressionAttributeValues contains invalid key: Syntax error; key: %q", k)
		}
		if err := v.Validate(); err != nil {
			msg := err.Error()
			if e, ok := awserr.As(err); ok {
				msg = e.Message
			}
			return nil, invalid("ExpressionAttributeValues contains invalid value: %s for key %s", msg, k)
		}
	}
	return newEnv(p.ExpressionAttributeNames, p.ExpressionAttributeValues), nil
}

func identChars(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isIdentChar(s[i]) {
			return false
		}
	}
	return true
}

// exprErr turns a parser error into DynamoDB's ValidationException.
func exprErr(kind string, err error) error {
	var ee *exprError
	if errors.As(err, &ee) {
		return invalid("Invalid %s: %s", kind, ee.msg)
	}
	return err
}

func set(p *string) bool { return p != nil }

// validateItem checks every value of an item (PutItem, Put, batch puts).
func validateItem(t *table, it Item) error {
	if it == nil {
		return invalid("1 validation error detected: Value null at 'item' failed to satisfy constraint: Member must not be null")
	}
	for _, v := range it {
		if err := v.Validate(); err != nil {
			return err
		}
	}
	for _, k := range t.meta.KeySchema {
		v := it[k.AttributeName]
		if v == nil {
			return invalid("One or more parameter values were invalid: Missing the key %s in the item", k.AttributeName)
		}
		if want := t.attrType(k.AttributeName); v.Type() != want {
			return invalid("One or more parameter values were invalid: Type mismatch for key %s expected: %s actual: %s", k.AttributeName, want, v.Type())
		}
		if emptyKey(v) {
			return invalid("One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty %s value. Key: %s", emptyWhat(v), k.AttributeName)
		}
	}
	if err := checkIndexKeys(t, it); err != nil {
		return err
	}
	if itemSize(it) > 400*1024 {
		return invalid("Item size has exceeded the maximum allowed size")
	}
	return nil
}

func emptyKey(v *AV) bool { return v.S != nil && *v.S == "" || v.B != nil && len(v.B) == 0 }

func emptyWhat(v *AV) string {
	if v.B != nil {
		return "binary"
	}
	return "string"
}

// checkIndexKeys checks the types of index key attributes an item carries.
func checkIndexKeys(t *table, it Item) error {
	for _, ix := range t.meta.Indexes {
		for _, k := range ix.KeySchema {
			v := it[k.AttributeName]
			if v == nil || t.isKey(k.AttributeName) {
				continue
			}
			if want := t.attrType(k.AttributeName); v.Type() != want {
				return invalid("One or more parameter values were invalid: Type mismatch for Index Key %s Expected: %s Actual: %s IndexName: %s", k.AttributeName, want, v.Type(), ix.IndexName)
			}
			if emptyKey(v) {
				return invalid("One or more parameter values are not valid. A value specified for a secondary index key is not supported. The AttributeValue for a key attribute cannot contain an empty %s value. IndexName: %s, IndexKey: %s", emptyWhat(v), ix.IndexName, k.AttributeName)
			}
		}
	}
	return nil
}

// validateKey checks a Key member against the table's schema.
func validateKey(t *table, key Item) error {
	if key == nil {
		return invalid("1 validation error detected: Value null at 'key' failed to satisfy constraint: Member must not be null")
	}
	for _, v := range key {
		if err := v.Validate(); err != nil {
			return err
		}
	}
	n := 1
	if t.rng != "" {
		n = 2
	}
	if len(key) != n {
		return invalid("The provided key element does not match the schema")
	}
	for _, k := range t.meta.KeySchema {
		v := key[k.AttributeName]
		if v == nil || v.Type() != t.attrType(k.AttributeName) {
			return invalid("The provided key element does not match the schema")
		}
		if emptyKey(v) {
			return invalid("One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty %s value. Key: %s", emptyWhat(v), k.AttributeName)
		}
	}
	return nil
}

var returnValuesEnum = "Member must satisfy enum value set: [ALL_NEW, UPDATED_OLD, ALL_OLD, NONE, UPDATED_NEW]"

// checkReturnValues validates ReturnValues; allowed lists what the
// operation accepts beyond the enum.
func checkReturnValues(rv *string, allowed ...string) (string, error) {
	if rv == nil || *rv == "" {
		return "NONE", nil
	}
	switch *rv {
	case "NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW":
	default:
		return "", invalid("1 validation error detected: Value '%s' at 'returnValues' failed to satisfy constraint: %s", *rv, returnValuesEnum)
	}
	for _, a := range allowed {
		if a == *rv {
			return *rv, nil
		}
	}
	if *rv == "NONE" {
		return "NONE", nil
	}
	return "", invalid("Return values set to invalid value")
}

func checkReturnOnFailure(v *string) (bool, error) {
	if v == nil || *v == "NONE" {
		return false, nil
	}
	if *v == "ALL_OLD" {
		return true, nil
	}
	return false, invalid("1 validation error detected: Value '%s' at 'returnValuesOnConditionCheckFailure' failed to satisfy constraint: Member must satisfy enum value set: [ALL_OLD, NONE]", *v)
}

// consumed is the ConsumedCapacity member.
type consumed struct {
	TableName     string  `json:"TableName"`
	CapacityUnits float64 `json:"CapacityUnits"`
	Table         *struct {
		CapacityUnits float64 `json:"CapacityUnits"`
	} `json:"Table,omitempty"`
}

// capacity reports write units (1 KiB each) or read units (4 KiB each,
// halved for eventually consistent reads) for size bytes, when asked.
func capacity(mode *string, t *table, size int, write, consistent bool) *consumed {
	if mode == nil || *mode == "NONE" {
		return nil
	}
	var u float64
	if write {
		u = math.Max(1, math.Ceil(float64(size)/1024))
	} else {
		u = math.Max(1, math.Ceil(float64(size)/4096))
		if !consistent {
			u /= 2
		}
	}
	c := &consumed{TableName: t.meta.Name, CapacityUnits: u}
	if *mode == "INDEXES" {
		c.Table = &struct {
			CapacityUnits float64 `json:"CapacityUnits"`
		}{u}
	}
	return c
}

func checkCapacityMode(v *string) error {
	if v == nil {
		return nil
	}
	switch *v {
	case "INDEXES", "TOTAL", "NONE":
		return nil
	}
	return invalid("1 validation error detected: Value '%s' at 'returnConsumedCapacity' failed to satisfy constraint: Member must satisfy enum value set: [INDEXES, TOTAL, NONE]", *v)
}

// condition builds the write condition of a request from either form.
func condition(condExpr *string, expected map[string]expectedAttr, condOp *string, env *exprEnv) (*cond, error) {
	if condExpr != nil && (expected != nil || condOp != nil) {
		var legacy []string
		if expected != nil {
			legacy = append(legacy, "Expected")
		}
		if condOp != nil {
			legacy = append(legacy, "ConditionalOperator")
		}
		return nil, bothForms(legacy, []string{"ConditionExpression"})
	}
	if condExpr != nil {
		c, err := parseCondition(*condExpr, env)
		if err != nil {
			return nil, exprErr("ConditionExpression", err)
		}
		return c, nil
	}
	if condOp != nil && expected == nil {
		return nil, invalid("ConditionalOperator can only be used when Expected has two or more elements")
	}
	if expected != nil {
		return expectedCond(expected, condOp)
	}
	return nil, nil
}

func trimSpace(s *string) string {
	if s == nil {
		return ""
	}
	return strings.TrimSpace(*s)
}
