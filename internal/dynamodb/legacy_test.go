package dynamodb

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// TestLegacyExpectedOperators checks every legacy ComparisonOperator in
// Expected (with ConditionalOperator) through the SDK.
func TestLegacyExpectedOperators(t *testing.T) {
	e := start(t, "")
	e.docTable(t)
	item := map[string]types.AttributeValue{"id": s("x"), "n": n("5"), "s": s("hello"), "set": ss("a", "b"), "l": &types.AttributeValueMemberL{Value: []types.AttributeValue{s("q")}}}
	if _, err := e.c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("docs"), Item: item}); err != nil {
		t.Fatal(err)
	}
	op := func(o types.ComparisonOperator, vals ...types.AttributeValue) types.ExpectedAttributeValue {
		return types.ExpectedAttributeValue{ComparisonOperator: o, AttributeValueList: vals}
	}
	cases := []struct {
		name string
		exp  map[string]types.ExpectedAttributeValue
		or   bool
		want bool
	}{
		{"EQ", map[string]types.ExpectedAttributeValue{"n": op(types.ComparisonOperatorEq, n("5.0"))}, false, true},
		{"NE", map[string]types.ExpectedAttributeValue{"n": op(types.ComparisonOperatorNe, n("5"))}, false, false},
		{"NE missing", map[string]types.ExpectedAttributeValue{"zz": op(types.ComparisonOperatorNe, n("5"))}, false, true},
		{"LE", map[string]types.ExpectedAttributeValue{"n": op(types.ComparisonOperatorLe, n("5"))}, false, true},
		{"LT", map[string]types.ExpectedAttributeValue{"n": op(types.ComparisonOperatorLt, n("5"))}, false, false},
		{"GE", map[string]types.ExpectedAttributeValue{"s": op(types.ComparisonOperatorGe, s("hello"))}, false, true},
		{"GT", map[string]types.ExpectedAttributeValue{"s": op(types.ComparisonOperatorGt, s("hellp"))}, false, false},
		{"NOT_NULL", map[string]types.ExpectedAttributeValue{"s": op(types.ComparisonOperatorNotNull)}, false, true},
		{"NULL", map[string]types.ExpectedAttributeValue{"s": op(types.ComparisonOperatorNull)}, false, false},
		{"CONTAINS set", map[string]types.ExpectedAttributeValue{"set": op(types.ComparisonOperatorContains, s("a"))}, false, true},
		{"CONTAINS string", map[string]types.ExpectedAttributeValue{"s": op(types.ComparisonOperatorContains, s("ell"))}, false, true},
		{"NOT_CONTAINS", map[string]types.ExpectedAttributeValue{"set": op(types.ComparisonOperatorNotContains, s("a"))}, false, false},
		{"BEGINS_WITH", map[string]types.ExpectedAttributeValue{"s": op(types.ComparisonOperatorBeginsWith, s("he"))}, false, true},
		{"IN", map[string]types.ExpectedAttributeValue{"n": op(types.ComparisonOperatorIn, n("1"), n("5"))}, false, true},
		{"BETWEEN", map[string]types.ExpectedAttributeValue{"n": op(types.ComparisonOperatorBetween, n("6"), n("9"))}, false, false},
		{"AND", map[string]types.ExpectedAttributeValue{"n": {Value: n("5")}, "s": {Value: s("nope")}}, false, false},
		{"OR", map[string]types.ExpectedAttributeValue{"n": {Value: n("5")}, "s": {Value: s("nope")}}, true, true},
		{"Exists false", map[string]types.ExpectedAttributeValue{"zz": {Exists: aws.Bool(false)}}, false, true},
		{"Exists true with Value", map[string]types.ExpectedAttributeValue{"s": {Exists: aws.Bool(true), Value: s("hello")}}, false, true},
	}
	for _, c := range cases {
		in := &dynamodb.PutItemInput{TableName: aws.String("docs"), Item: item, Expected: c.exp}
		if c.or {
			in.ConditionalOperator = types.ConditionalOperatorOr
		}
		_, err := e.c.PutItem(ctx, in)
		if c.want && err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if !c.want {
			apiErr(t, err, "ConditionalCheckFailedException", "The conditional request failed")
		}
	}
	for _, c := range []struct {
		exp map[string]types.ExpectedAttributeValue
		msg string
	}{
		{map[string]types.ExpectedAttributeValue{"n": {Exists: aws.Bool(false), Value: n("1")}}, "Value cannot be used when Exists is false for Attribute: n"},
		{map[string]types.ExpectedAttributeValue{"n": {Exists: aws.Bool(true)}}, "Value must be provided when Exists is true for Attribute: n"},
		{map[string]types.ExpectedAttributeValue{"n": op(types.ComparisonOperatorEq)}, "Invalid number of argument(s) for the EQ ComparisonOperator"},
		{map[string]types.ExpectedAttributeValue{"n": op(types.ComparisonOperatorGt, ss("a"))}, "ComparisonOperator GT is not valid for SS AttributeValue type"},
	} {
		_, err := e.c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("docs"), Item: item, Expected: c.exp})
		apiErr(t, err, "ValidationException", c.msg)
	}
}

// TestLegacyAttributeUpdates checks PUT, ADD (number, set, list) and
// DELETE (attribute, set elements) through the SDK.
func TestLegacyAttributeUpdates(t *testing.T) {
	e := start(t, "")
	e.docTable(t)
	up := func(u map[string]types.AttributeValueUpdate) (map[string]types.AttributeValue, error) {
		out, err := e.c.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String("docs"), Key: map[string]types.AttributeValue{"id": s("u")}, AttributeUpdates: u, ReturnValues: types.ReturnValueAllNew})
		if err != nil {
			return nil, err
		}
		return out.Attributes, nil
	}
	it, err := up(map[string]types.AttributeValueUpdate{
		"c":   {Action: types.AttributeActionAdd, Value: n("2")},
		"set": {Action: types.AttributeActionAdd, Value: ss("a", "b")},
		"l":   {Action: types.AttributeActionAdd, Value: &types.AttributeValueMemberL{Value: []types.AttributeValue{s("x")}}},
		"p":   {Value: s("put")},
	})
	if err != nil {
		t.Fatal(err)
	}
	if getN(it, "c") != "2" || getS(it, "p") != "put" || len(it["set"].(*types.AttributeValueMemberSS).Value) != 2 || len(it["l"].(*types.AttributeValueMemberL).Value) != 1 {
		t.Fatalf("first update: %v", it)
	}
	it, err = up(map[string]types.AttributeValueUpdate{
		"c":   {Action: types.AttributeActionAdd, Value: n("-0.5")},
		"set": {Action: types.AttributeActionDelete, Value: ss("a")},
		"l":   {Action: types.AttributeActionAdd, Value: &types.AttributeValueMemberL{Value: []types.AttributeValue{s("y")}}},
		"p":   {Action: types.AttributeActionDelete},
	})
	if err != nil {
		t.Fatal(err)
	}
	if getN(it, "c") != "1.5" || it["p"] != nil || strings.Join(it["set"].(*types.AttributeValueMemberSS).Value, ",") != "b" || len(it["l"].(*types.AttributeValueMemberL).Value) != 2 {
		t.Fatalf("second update: %v", it)
	}
	_, err = up(map[string]types.AttributeValueUpdate{"id": {Value: s("other")}})
	apiErr(t, err, "ValidationException", "Cannot update attribute id. This attribute is part of the key")
	_, err = up(map[string]types.AttributeValueUpdate{"p": {Action: types.AttributeActionAdd, Value: s("x")}})
	apiErr(t, err, "ValidationException", "ADD action is not supported for the type S")
	_, err = up(map[string]types.AttributeValueUpdate{"p": {Action: types.AttributeActionPut}})
	apiErr(t, err, "ValidationException", "Only DELETE action is allowed when no attribute value is specified")
	_, err = e.c.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String("docs"), Key: map[string]types.AttributeValue{"id": s("u")},
		AttributeUpdates: map[string]types.AttributeValueUpdate{"p": {Value: s("x")}}, UpdateExpression: aws.String("SET q = :v"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":v": s("v")}})
	apiErr(t, err, "ValidationException", "Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {AttributeUpdates} Expression parameters: {UpdateExpression}")
	// a 400 KB item is refused
	_, err = e.c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("docs"), Item: map[string]types.AttributeValue{"id": s("big"), "b": s(strings.Repeat("x", 400*1024))}})
	apiErr(t, err, "ValidationException", "Item size has exceeded the maximum allowed size")
}
