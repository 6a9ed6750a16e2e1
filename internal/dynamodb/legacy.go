package dynamodb

// Translation of the legacy (pre-expression) parameters into the
// expression AST: Expected + ConditionalOperator, AttributeUpdates,
// KeyConditions, ScanFilter/QueryFilter and AttributesToGet. The Java KCL
// still sends Expected and AttributeUpdates for every lease update.

import (
	"sort"
	"strings"
)

type expectedAttr struct {
	Value              *AV     `json:"Value"`
	Exists             *bool   `json:"Exists"`
	ComparisonOperator *string `json:"ComparisonOperator"`
	AttributeValueList []*AV   `json:"AttributeValueList"`
}

type legacyCondition struct {
	ComparisonOperator *string `json:"ComparisonOperator"`
	AttributeValueList []*AV   `json:"AttributeValueList"`
}

type attrUpdate struct {
	Action *string `json:"Action"`
	Value  *AV     `json:"Value"`
}

var legacyArgs = map[string]int{
	"EQ": 1, "NE": 1, "LE": 1, "LT": 1, "GE": 1, "GT": 1, "NOT_NULL": 0, "NULL": 0,
	"CONTAINS": 1, "NOT_CONTAINS": 1, "BEGINS_WITH": 1, "IN": -1, "BETWEEN": 2,
}

func validateAVs(vals []*AV) error {
	for _, v := range vals {
		if err := v.Validate(); err != nil {
			return err
		}
	}
	return nil
}

// legacyCond builds the condition "name <op> args".
func legacyCond(name, op string, args []*AV) (*cond, error) {
	n, ok := legacyArgs[op]
	if !ok {
		return nil, invalid("1 validation error detected: Value '%s' at 'comparisonOperator' failed to satisfy constraint: Member must satisfy enum value set: [IN, NULL, BETWEEN, LT, NOT_CONTAINS, EQ, GT, NOT_NULL, NE, LE, BEGINS_WITH, GE, CONTAINS]", op)
	}
	if n >= 0 && len(args) != n || n < 0 && len(args) == 0 {
		return nil, invalid("One or more parameter values were invalid: Invalid number of argument(s) for the %s ComparisonOperator", op)
	}
	if err := validateAVs(args); err != nil {
		return nil, err
	}
	switch op {
	case "LE", "LT", "GE", "GT", "BETWEEN", "BEGINS_WITH", "IN":
		for _, a := range args {
			t := a.Type()
			if t != "S" && t != "N" && t != "B" || op == "BEGINS_WITH" && t == "N" {
				return nil, invalid("One or more parameter values were invalid: ComparisonOperator %s is not valid for %s AttributeValue type", op, t)
			}
		}
	case "CONTAINS", "NOT_CONTAINS":
		t := args[0].Type()
		if t != "S" && t != "N" && t != "B" {
			return nil, invalid("One or more parameter values were invalid: ComparisonOperator %s is not valid for %s AttributeValue type", op, t)
		}
	}
	p := &operand{kind: oPath, path: docPath{{name: name}}}
	vals := make([]*operand, len(args))
	for i, a := range args {
		vals[i] = &operand{kind: oValue, val: a}
	}
	cmp := func(o string) *cond { return &cond{kind: cCmp, op: o, args: []*operand{p, vals[0]}} }
	switch op {
	case "EQ":
		return cmp("="), nil
	case "NE":
		return cmp("<>"), nil
	case "LE":
		return cmp("<="), nil
	case "LT":
		return cmp("<"), nil
	case "GE":
		return cmp(">="), nil
	case "GT":
		return cmp(">"), nil
	case "NULL":
		return &cond{kind: cFunc, op: "attribute_not_exists", args: []*operand{p}}, nil
	case "NOT_NULL":
		return &cond{kind: cFunc, op: "attribute_exists", args: []*operand{p}}, nil
	case "CONTAINS":
		return &cond{kind: cFunc, op: "contains", args: []*operand{p, vals[0]}}, nil
	case "NOT_CONTAINS":
		// true when the attribute exists and does not contain the value
		return &cond{kind: cAnd,
			a: &cond{kind: cFunc, op: "attribute_exists", args: []*operand{p}},
			b: &cond{kind: cNot, a: &cond{kind: cFunc, op: "contains", args: []*operand{p, vals[0]}}}}, nil
	case "BEGINS_WITH":
		return &cond{kind: cFunc, op: "begins_with", args: []*operand{p, vals[0]}}, nil
	case "IN":
		return &cond{kind: cIn, args: append([]*operand{p}, vals...)}, nil
	case "BETWEEN":
		if c, ok := compare(args[0], args[1]); ok && c > 0 {
			return nil, invalid("The BETWEEN condition was provided a range where the lower bound is greater than the upper bound")
		}
		return &cond{kind: cBetween, args: []*operand{p, vals[0], vals[1]}}, nil
	}
	return nil, invalid("Unsupported ComparisonOperator %s", op)
}

func joinConds(cs []*cond, or bool) *cond {
	if len(cs) == 0 {
		return nil
	}
	c := cs[0]
	for _, x := range cs[1:] {
		k := cAnd
		if or {
			k = cOr
		}
		c = &cond{kind: k, a: c, b: x}
	}
	return c
}

func conditionalOp(op *string) (bool, error) {
	if op == nil || *op == "AND" {
		return false, nil
	}
	if *op == "OR" {
		return true, nil
	}
	return false, invalid("1 validation error detected: Value '%s' at 'conditionalOperator' failed to satisfy constraint: Member must satisfy enum value set: [AND, OR]", *op)
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// expectedCond translates Expected + ConditionalOperator.
func expectedCond(exp map[string]expectedAttr, condOp *string) (*cond, error) {
	or, err := conditionalOp(condOp)
	if err != nil {
		return nil, err
	}
	var cs []*cond
	for _, name := range sortedKeys(exp) {
		e := exp[name]
		if e.ComparisonOperator == nil {
			if e.AttributeValueList != nil {
				return nil, invalid("One or more parameter values were invalid: AttributeValueList can only be used with a ComparisonOperator for Attribute: %s", name)
			}
			exists := e.Exists == nil || *e.Exists
			if exists {
				if e.Value == nil {
					if e.Exists == nil {
						return nil, invalid("One or more parameter values were invalid: Value must be provided when Exists is null for Attribute: %s", name)
					}
					return nil, invalid("One or more parameter values were invalid: Value must be provided when Exists is true for Attribute: %s", name)
				}
				c, err := legacyCond(name, "EQ", []*AV{e.Value})
				if err != nil {
					return nil, err
				}
				cs = append(cs, c)
				continue
			}
			if e.Value != nil {
				return nil, invalid("One or more parameter values were invalid: Value cannot be used when Exists is false for Attribute: %s", name)
			}
			c, _ := legacyCond(name, "NULL", nil)
			cs = append(cs, c)
			continue
		}
		if e.Exists != nil {
			return nil, invalid("One or more parameter values were invalid: Exists and ComparisonOperator cannot be used together for Attribute: %s", name)
		}
		args := e.AttributeValueList
		if e.Value != nil {
			if args != nil {
				return nil, invalid("One or more parameter values were invalid: Value and AttributeValueList cannot be used together for Attribute: %s", name)
			}
			args = []*AV{e.Value}
		}
		c, err := legacyCond(name, *e.ComparisonOperator, args)
		if err != nil {
			return nil, err
		}
		cs = append(cs, c)
	}
	return joinConds(cs, or), nil
}

// filterCond translates ScanFilter / QueryFilter / KeyConditions.
func filterCond(f map[string]legacyCondition, condOp *string) (*cond, error) {
	or, err := conditionalOp(condOp)
	if err != nil {
		return nil, err
	}
	var cs []*cond
	for _, name := range sortedKeys(f) {
		e := f[name]
		if e.ComparisonOperator == nil {
			return nil, invalid("1 validation error detected: Value null at 'comparisonOperator' failed to satisfy constraint: Member must not be null")
		}
		c, err := legacyCond(name, *e.ComparisonOperator, e.AttributeValueList)
		if err != nil {
			return nil, err
		}
		cs = append(cs, c)
	}
	return joinConds(cs, or), nil
}

// updateActions translates AttributeUpdates.
func updateActions(upd map[string]attrUpdate, t *table) ([]action, error) {
	var acts []action
	for _, name := range sortedKeys(upd) {
		u := upd[name]
		if t.isKey(name) {
			return nil, invalid("One or more parameter values were invalid: Cannot update attribute %s. This attribute is part of the key", name)
		}
		act := "PUT"
		if u.Action != nil {
			act = *u.Action
		}
		p := docPath{{name: name}}
		if u.Value != nil {
			if err := u.Value.Validate(); err != nil {
				return nil, err
			}
		}
		switch act {
		case "PUT":
			if u.Value == nil {
				return nil, invalid("One or more parameter values were invalid: Only DELETE action is allowed when no attribute value is specified")
			}
			acts = append(acts, action{kind: aSet, path: p, val: &operand{kind: oValue, val: u.Value}})
		case "DELETE":
			if u.Value == nil {
				acts = append(acts, action{kind: aRemove, path: p})
				continue
			}
			if _, _, ok := setElems(u.Value); !ok {
				return nil, invalid("One or more parameter values were invalid: DELETE action with value is not supported for the type %s", u.Value.Type())
			}
			acts = append(acts, action{kind: aDelete, path: p, val: &operand{kind: oValue, val: u.Value}})
		case "ADD":
			if u.Value == nil {
				return nil, invalid("One or more parameter values were invalid: Only DELETE action is allowed when no attribute value is specified")
			}
			_, _, isSet := setElems(u.Value)
			switch {
			case u.Value.N != nil || isSet:
				acts = append(acts, action{kind: aAdd, path: p, val: &operand{kind: oValue, val: u.Value}})
			case u.Value.L != nil:
				cur := &operand{kind: oIfNotExists, a: &operand{kind: oPath, path: p}, b: &operand{kind: oValue, val: list([]*AV{})}}
				acts = append(acts, action{kind: aSet, path: p, val: &operand{kind: oListAppend, a: cur, b: &operand{kind: oValue, val: u.Value}}})
			default:
				return nil, invalid("One or more parameter values were invalid: ADD action is not supported for the type %s", u.Value.Type())
			}
		default:
			return nil, invalid("1 validation error detected: Value '%s' at 'attributeUpdates.%s.member.action' failed to satisfy constraint: Member must satisfy enum value set: [ADD, PUT, DELETE]", act, name)
		}
	}
	return acts, nil
}

// attributesToGet translates AttributesToGet into projection paths.
func attributesToGet(names []string) ([]docPath, error) {
	if names == nil {
		return nil, nil
	}
	if len(names) == 0 {
		return nil, invalid("1 validation error detected: Value '[]' at 'attributesToGet' failed to satisfy constraint: Member must have length greater than or equal to 1")
	}
	seen := map[string]bool{}
	out := make([]docPath, 0, len(names))
	for _, n := range names {
		if seen[n] {
			return nil, invalid("One or more parameter values were invalid: Duplicate value in attribute name: %s", n)
		}
		seen[n] = true
		out = append(out, docPath{{name: n}})
	}
	return out, nil
}

// bothForms is the error for mixing legacy and expression parameters.
func bothForms(legacy, expr []string) error {
	return invalid("Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {%s} Expression parameters: {%s}", strings.Join(legacy, ", "), strings.Join(expr, ", "))
}
