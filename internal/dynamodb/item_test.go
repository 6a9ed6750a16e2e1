package dynamodb

import (
	"fmt"
	"reflect"
	"sort"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

type doc struct {
	ID     string         `dynamodbav:"id"`
	Count  int            `dynamodbav:"count"`
	Name   string         `dynamodbav:"name,omitempty"`
	Tags   []string       `dynamodbav:"tags,stringset,omitempty"`
	List   []any          `dynamodbav:"list,omitempty"`
	Nested map[string]any `dynamodbav:"nested,omitempty"`
	Big    string         `dynamodbav:"big,omitempty"`
}

func (e *testEnv) docTable(t *testing.T) {
	t.Helper()
	_, err := e.c.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String("docs"),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	})
	if err != nil {
		t.Fatal(err)
	}
}

func (e *testEnv) put(t *testing.T, d doc) {
	t.Helper()
	it, err := attributevalue.MarshalMap(d)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("docs"), Item: it}); err != nil {
		t.Fatal(err)
	}
}

func (e *testEnv) get(t *testing.T, id string) map[string]types.AttributeValue {
	t.Helper()
	out, err := e.c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("docs"), Key: map[string]types.AttributeValue{"id": s(id)}, ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	return out.Item
}

// update runs an UpdateExpression with values and returns ALL_NEW.
func (e *testEnv) update(t *testing.T, id, expr, cond string, names map[string]string, vals map[string]types.AttributeValue) (map[string]types.AttributeValue, error) {
	t.Helper()
	in := &dynamodb.UpdateItemInput{TableName: aws.String("docs"), Key: map[string]types.AttributeValue{"id": s(id)},
		UpdateExpression: aws.String(expr), ExpressionAttributeNames: names, ExpressionAttributeValues: vals, ReturnValues: types.ReturnValueAllNew}
	if cond != "" {
		in.ConditionExpression = aws.String(cond)
	}
	out, err := e.c.UpdateItem(ctx, in)
	if err != nil {
		return nil, err
	}
	return out.Attributes, nil
}

func TestUpdateExpressions(t *testing.T) {
	e := start(t, "")
	e.docTable(t)
	e.put(t, doc{ID: "a", Count: 1, Tags: []string{"x", "y"}, List: []any{"l0", "l1", "l2"}, Nested: map[string]any{"deep": map[string]any{"v": 1}}})
	cases := []struct {
		name  string
		expr  string
		names map[string]string
		vals  map[string]types.AttributeValue
		check func(it map[string]any) bool
	}{
		{"SET arithmetic", "SET #c = #c + :one", map[string]string{"#c": "count"}, map[string]types.AttributeValue{":one": n("1")},
			func(it map[string]any) bool { return it["count"] == float64(2) }},
		{"SET minus", "SET #c = #c - :d", map[string]string{"#c": "count"}, map[string]types.AttributeValue{":d": n("0.5")},
			func(it map[string]any) bool { return it["count"] == 1.5 }},
		{"SET if_not_exists keeps", "SET #c = if_not_exists(#c, :z)", map[string]string{"#c": "count"}, map[string]types.AttributeValue{":z": n("100")},
			func(it map[string]any) bool { return it["count"] == 1.5 }},
		{"SET if_not_exists sets", "SET fresh = if_not_exists(fresh, :z)", nil, map[string]types.AttributeValue{":z": n("100")},
			func(it map[string]any) bool { return it["fresh"] == float64(100) }},
		{"list_append", "SET #l = list_append(#l, :more)", map[string]string{"#l": "list"}, map[string]types.AttributeValue{":more": &types.AttributeValueMemberL{Value: []types.AttributeValue{s("l3")}}},
			func(it map[string]any) bool { return fmt.Sprint(it["list"]) == "[l0 l1 l2 l3]" }},
		{"list_append prepend", "SET #l = list_append(:first, #l)", map[string]string{"#l": "list"}, map[string]types.AttributeValue{":first": &types.AttributeValueMemberL{Value: []types.AttributeValue{s("l-")}}},
			func(it map[string]any) bool { return fmt.Sprint(it["list"]) == "[l- l0 l1 l2 l3]" }},
		{"nested map path", "SET nested.deep.v = :v, nested.added = :v", nil, map[string]types.AttributeValue{":v": n("7")},
			func(it map[string]any) bool {
				m := it["nested"].(map[string]any)
				return m["deep"].(map[string]any)["v"] == float64(7) && m["added"] == float64(7)
			}},
		{"list index set", "SET #l[1] = :v", map[string]string{"#l": "list"}, map[string]types.AttributeValue{":v": s("one")},
			func(it map[string]any) bool { return fmt.Sprint(it["list"]) == "[l- one l1 l2 l3]" }},
		{"REMOVE list elements and attribute", "REMOVE #l[0], #l[2], fresh", map[string]string{"#l": "list"}, nil,
			func(it map[string]any) bool {
				_, f := it["fresh"]
				return !f && fmt.Sprint(it["list"]) == "[one l2 l3]"
			}},
		{"ADD number", "ADD #c :n", map[string]string{"#c": "count"}, map[string]types.AttributeValue{":n": n("-1.5")},
			func(it map[string]any) bool { return it["count"] == float64(0) }},
		{"ADD set", "ADD tags :t", nil, map[string]types.AttributeValue{":t": ss("z", "x")},
			func(it map[string]any) bool { return sortedSet(it["tags"]) == "[x y z]" }},
		{"DELETE from set", "DELETE tags :t", nil, map[string]types.AttributeValue{":t": ss("x", "q")},
			func(it map[string]any) bool { return sortedSet(it["tags"]) == "[y z]" }},
		{"DELETE last elements removes the set", "DELETE tags :t", nil, map[string]types.AttributeValue{":t": ss("y", "z")},
			func(it map[string]any) bool { _, ok := it["tags"]; return !ok }},
		{"ADD to missing creates", "ADD newset :t, newnum :n", nil, map[string]types.AttributeValue{":t": ss("a"), ":n": n("5")},
			func(it map[string]any) bool { return sortedSet(it["newset"]) == "[a]" && it["newnum"] == float64(5) }},
		{"SET and REMOVE in one", "SET #n = :name REMOVE newnum", map[string]string{"#n": "name"}, map[string]types.AttributeValue{":name": s("alice")},
			func(it map[string]any) bool { _, ok := it["newnum"]; return !ok && it["name"] == "alice" }},
	}
	for _, c := range cases {
		it, err := e.update(t, "a", c.expr, "", c.names, c.vals)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		var m map[string]any
		if err := attributevalue.UnmarshalMap(it, &m); err != nil {
			t.Fatal(err)
		}
		if !c.check(m) {
			t.Fatalf("%s: item %v", c.name, m)
		}
	}
	// errors
	errs := []struct {
		expr, msg string
		vals      map[string]types.AttributeValue
	}{
		{"SET a = :v, a = :v", "Two document paths overlap with each other", map[string]types.AttributeValue{":v": n("1")}},
		{"SET id = :v", "Cannot update attribute id. This attribute is part of the key", map[string]types.AttributeValue{":v": s("b")}},
		{"SET x = :missing", "An expression attribute value used in expression is not defined; attribute value: :missing", map[string]types.AttributeValue{":v": n("1")}},
		{"SET #c = :v", "An expression attribute name used in the document path is not defined; attribute name: #c", map[string]types.AttributeValue{":v": n("1")}},
		{"SET status = :v", "Attribute name is a reserved keyword; reserved keyword: status", map[string]types.AttributeValue{":v": n("1")}},
		{"SET x = :v", "Value provided in ExpressionAttributeValues unused in expressions: keys: {:w}", map[string]types.AttributeValue{":v": n("1"), ":w": n("2")}},
		{"SET name2 = name2 + :v", "The provided expression refers to an attribute that does not exist in the item", map[string]types.AttributeValue{":v": n("1")}},
		{"SET nested.nope.deeper = :v", "The document path provided in the update expression is invalid for update", map[string]types.AttributeValue{":v": n("1")}},
		{"ADD #l :v", "Incorrect operand type for operator or function; operator: ADD, operand type: STRING", map[string]types.AttributeValue{":v": s("x")}},
		{"SET = :v", "Syntax error; token: \"=\"", map[string]types.AttributeValue{":v": n("1")}},
		{"SET a = size(b)", "The function is not allowed in an update expression; function: size", nil},
	}
	for _, c := range errs {
		var names map[string]string
		if c.expr == "ADD #l :v" {
			names = map[string]string{"#l": "name"}
		}
		_, err := e.update(t, "a", c.expr, "", names, c.vals)
		apiErr(t, err, "ValidationException", c.msg)
	}
	// ADD of a number to a string attribute fails at run time
	_, err := e.update(t, "a", "ADD #n :v", "", map[string]string{"#n": "name"}, map[string]types.AttributeValue{":v": n("1")})
	apiErr(t, err, "ValidationException", "An operand in the update expression has an incorrect data type")
}

func sortedSet(v any) string {
	var out []string
	switch x := v.(type) {
	case []string:
		out = append(out, x...)
	case []any:
		for _, e := range x {
			out = append(out, fmt.Sprint(e))
		}
	default:
		return fmt.Sprint(v)
	}
	sort.Strings(out)
	return fmt.Sprint(out)
}

func TestConditionExpressions(t *testing.T) {
	e := start(t, "")
	e.docTable(t)
	e.put(t, doc{ID: "c", Count: 5, Name: "prefix-name", Tags: []string{"red", "blue"}, List: []any{"a", "b"}, Nested: map[string]any{"k": "v"}})
	vals := map[string]types.AttributeValue{":five": n("5"), ":six": n("6"), ":p": s("prefix"), ":red": s("red"), ":b": s("b"), ":two": n("2"), ":S": s("S"), ":name": s("prefix-name")}
	cases := []struct {
		cond string
		want bool
	}{
		{"attribute_exists(#n)", true},
		{"attribute_not_exists(#n)", false},
		{"attribute_not_exists(nothere)", true},
		{"#c = :five", true},
		{"#c <> :five", false},
		{"#c < :six AND #c >= :five", true},
		{"#c > :six OR #c <= :five", true},
		{"NOT (#c = :five)", false},
		{"#c BETWEEN :two AND :six", true},
		{"#c IN (:two, :six)", false},
		{"#c IN (:two, :five)", true},
		{"begins_with(#n, :p)", true},
		{"contains(tags, :red)", true},
		{"contains(#l, :b)", true},
		{"contains(#n, :p)", true},
		{"size(#n) = :two", false},
		{"size(tags) = :two", true},
		{"size(#l) < :five", true},
		{"attribute_type(#n, :S)", true},
		{"nested.k = :p", false},
		{"nothere <> :five", true},
		{"nothere = :five", false},
		{":name = #n", true},
		{"(#c = :five AND (begins_with(#n, :p) OR #c = :six)) AND NOT contains(tags, :b)", true},
	}
	for _, c := range cases {
		used := map[string]types.AttributeValue{}
		for k, v := range vals {
			if containsToken(c.cond, k) {
				used[k] = v
			}
		}
		names := map[string]string{}
		for k, v := range map[string]string{"#n": "name", "#c": "count", "#l": "list"} {
			if containsToken(c.cond, k) {
				names[k] = v
			}
		}
		if len(used) == 0 {
			used = nil
		}
		if len(names) == 0 {
			names = nil
		}
		_, err := e.c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("docs"), Item: e.get(t, "c"),
			ConditionExpression: aws.String(c.cond), ExpressionAttributeNames: names, ExpressionAttributeValues: used})
		if c.want && err != nil {
			t.Fatalf("%s: want true, got %v", c.cond, err)
		}
		if !c.want {
			apiErr(t, err, "ConditionalCheckFailedException", "The conditional request failed")
		}
	}
	// condition errors
	for cond, msg := range map[string]string{
		"foo(x)":              "Invalid ConditionExpression: Invalid function name; function: foo",
		"attribute_exists()":  "Syntax error",
		"a = ":                "Syntax error",
		"a = :five AND":       "Syntax error",
		"if_not_exists(a, b)": "The function is not allowed to be used this way in an expression; function: if_not_exists",
		"a ! b":               "Invalid character encountered; character: !",
	} {
		_, err := e.c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("docs"), Item: map[string]types.AttributeValue{"id": s("z")},
			ConditionExpression: aws.String(cond), ExpressionAttributeValues: map[string]types.AttributeValue{":five": n("5")}})
		apiErr(t, err, "ValidationException", msg)
	}
	_, err := e.c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("docs"), Item: map[string]types.AttributeValue{"id": s("z")},
		ConditionExpression: aws.String("attribute_not_exists(id)"),
		Expected:            map[string]types.ExpectedAttributeValue{"id": {Exists: aws.Bool(false)}}})
	apiErr(t, err, "ValidationException", "Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {Expected} Expression parameters: {ConditionExpression}")
}

func containsToken(s, tok string) bool {
	for i := 0; i+len(tok) <= len(s); i++ {
		if s[i:i+len(tok)] == tok && (i+len(tok) == len(s) || !isIdentChar(s[i+len(tok)])) {
			return true
		}
	}
	return false
}

func TestItemReturnValuesAndProjection(t *testing.T) {
	e := start(t, "")
	e.docTable(t)
	put, err := e.c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("docs"), Item: map[string]types.AttributeValue{"id": s("r"), "v": n("1")}, ReturnValues: types.ReturnValueAllOld})
	if err != nil || put.Attributes != nil {
		t.Fatalf("first put ALL_OLD: %v %v", put.Attributes, err)
	}
	put, err = e.c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("docs"), Item: map[string]types.AttributeValue{"id": s("r"), "v": n("2"), "m": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"a": n("1"), "b": n("2")}}}, ReturnValues: types.ReturnValueAllOld})
	if err != nil || getN(put.Attributes, "v") != "1" {
		t.Fatalf("second put ALL_OLD: %v %v", put.Attributes, err)
	}
	_, err = e.c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("docs"), Item: map[string]types.AttributeValue{"id": s("r")}, ReturnValues: types.ReturnValueUpdatedNew})
	apiErr(t, err, "ValidationException", "Return values set to invalid value")
	up, err := e.c.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String("docs"), Key: map[string]types.AttributeValue{"id": s("r")},
		UpdateExpression: aws.String("SET v = :v, m.a = :v"), ExpressionAttributeValues: map[string]types.AttributeValue{":v": n("3")}, ReturnValues: types.ReturnValueUpdatedOld})
	if err != nil {
		t.Fatal(err)
	}
	var old map[string]any
	attributevalue.UnmarshalMap(up.Attributes, &old)
	if !reflect.DeepEqual(old, map[string]any{"v": float64(2), "m": map[string]any{"a": float64(1)}}) {
		t.Fatalf("UPDATED_OLD %v", old)
	}
	// projection with nested paths and the legacy AttributesToGet
	g, err := e.c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("docs"), Key: map[string]types.AttributeValue{"id": s("r")},
		ProjectionExpression: aws.String("m.b, #v"), ExpressionAttributeNames: map[string]string{"#v": "v"}})
	if err != nil {
		t.Fatal(err)
	}
	var proj map[string]any
	attributevalue.UnmarshalMap(g.Item, &proj)
	if !reflect.DeepEqual(proj, map[string]any{"v": float64(3), "m": map[string]any{"b": float64(2)}}) {
		t.Fatalf("projection %v", proj)
	}
	g, err = e.c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("docs"), Key: map[string]types.AttributeValue{"id": s("r")}, AttributesToGet: []string{"id"}})
	if err != nil || len(g.Item) != 1 || getS(g.Item, "id") != "r" {
		t.Fatalf("AttributesToGet: %v %v", g.Item, err)
	}
	// delete with condition and ALL_OLD; the condition failure returns the item
	_, err = e.c.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String("docs"), Key: map[string]types.AttributeValue{"id": s("r")},
		ConditionExpression: aws.String("v = :one"), ExpressionAttributeValues: map[string]types.AttributeValue{":one": n("1")},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld})
	var ccf *types.ConditionalCheckFailedException
	if !errorsAs(err, &ccf) || getN(ccf.Item, "v") != "3" {
		t.Fatalf("condition failure item: %v", err)
	}
	del, err := e.c.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String("docs"), Key: map[string]types.AttributeValue{"id": s("r")}, ReturnValues: types.ReturnValueAllOld})
	if err != nil || getN(del.Attributes, "v") != "3" {
		t.Fatalf("delete ALL_OLD: %v %v", del, err)
	}
	if it := e.get(t, "r"); it != nil {
		t.Fatalf("deleted item still there: %v", it)
	}
}

func TestItemValidation(t *testing.T) {
	e := start(t, "")
	e.docTable(t)
	for _, c := range []struct {
		item map[string]types.AttributeValue
		msg  string
	}{
		{map[string]types.AttributeValue{"x": s("1")}, "One or more parameter values were invalid: Missing the key id in the item"},
		{map[string]types.AttributeValue{"id": n("1")}, "One or more parameter values were invalid: Type mismatch for key id expected: S actual: N"},
		{map[string]types.AttributeValue{"id": s("")}, "The AttributeValue for a key attribute cannot contain an empty string value. Key: id"},
		{map[string]types.AttributeValue{"id": s("a"), "n": n("1e200")}, "Number overflow"},
		{map[string]types.AttributeValue{"id": s("a"), "n": n("12345678901234567890123456789012345678901")}, "Attempting to store more than 38 significant digits in a Number"},
		{map[string]types.AttributeValue{"id": s("a"), "n": n("abc")}, "The parameter cannot be converted to a numeric value: abc"},
		{map[string]types.AttributeValue{"id": s("a"), "s": ss("x", "x")}, "Input collection [x, x] contains duplicates."},
	} {
		_, err := e.c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("docs"), Item: c.item})
		apiErr(t, err, "ValidationException", c.msg)
	}
	_, err := e.c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("docs"), Key: map[string]types.AttributeValue{"id": s("a"), "x": s("b")}})
	apiErr(t, err, "ValidationException", "The provided key element does not match the schema")
	_, err = e.c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("nosuch"), Key: map[string]types.AttributeValue{"id": s("a")}})
	apiErr(t, err, "ResourceNotFoundException", "Requested resource not found")
	// numbers come back normalised and compare numerically
	if _, err := e.c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("docs"), Item: map[string]types.AttributeValue{"id": s("num"), "n": n("00100.500"), "e": n("1.5E3")}}); err != nil {
		t.Fatal(err)
	}
	it := e.get(t, "num")
	if getN(it, "n") != "100.5" || getN(it, "e") != "1500" {
		t.Fatalf("numbers %v", it)
	}
	_, err = e.c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("docs"), Item: it,
		ConditionExpression: aws.String("n = :x AND e > :y"), ExpressionAttributeValues: map[string]types.AttributeValue{":x": n("100.50"), ":y": n("999.99999999999999999999999999999999")}})
	if err != nil {
		t.Fatalf("numeric compare: %v", err)
	}
}
