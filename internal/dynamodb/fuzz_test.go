package dynamodb

import (
	"encoding/json"
	"testing"
)

// FuzzExpressions parses arbitrary condition, update and projection
// expressions: no panic, and whatever parses evaluates against an item
// without panicking.
func FuzzExpressions(f *testing.F) {
	for _, s := range []string{
		"attribute_exists(#a) AND NOT (b.c[1] = :v OR size(d) > :n)",
		"SET a = if_not_exists(a, :n) + :n, b = list_append(b, :l) REMOVE c[0], d ADD e :n DELETE f :s",
		"a, b.c, d[3].e",
		"a BETWEEN :n AND :v",
		"a IN (:n, :v, :s)",
		"begins_with(a, :v) AND contains(b, :v) AND attribute_type(c, :t)",
		"((((a = :v))))",
		"SET a[1000000] = :v",
		"#a.#a[0] <> :n",
	} {
		f.Add(s)
	}
	item := Item{"a": num("1"), "b": list([]*AV{str("x")}), "c": list([]*AV{num("1"), num("2")}),
		"d": mapAV(Item{"e": str("y")}), "e": num("2"), "f": &AV{SS: []string{"p", "q"}}}
	f.Fuzz(func(t *testing.T, src string) {
		vals := map[string]*AV{":v": str("x"), ":n": num("5"), ":l": list([]*AV{str("z")}), ":s": &AV{SS: []string{"p"}}, ":t": str("S")}
		names := map[string]string{"#a": "a"}
		if c, err := parseCondition(src, newEnv(names, vals)); err == nil {
			evalCond(c, item)
			evalCond(c, nil)
		}
		if acts, err := parseUpdate(src, newEnv(names, vals)); err == nil {
			applyUpdate(item, Item{"a": num("1")}, acts)
			applyUpdate(nil, Item{"a": num("1")}, acts)
		}
		if paths, err := parseProjection(src, newEnv(names, vals)); err == nil {
			project(item, paths)
		}
	})
}

// FuzzAttributeValue decodes arbitrary JSON as an item: no panic; a value
// that validates re-encodes and decodes to an equal value.
func FuzzAttributeValue(f *testing.F) {
	for _, s := range []string{
		`{"a":{"S":"x"},"b":{"N":"1.50"},"c":{"B":"AAE="},"d":{"SS":["a","b"]},"e":{"NS":["1","2e3"]},"f":{"BS":["AA=="]}}`,
		`{"m":{"M":{"x":{"L":[{"NULL":true},{"BOOL":false},{"M":{}}]}}}}`,
		`{"x":{"S":"a","N":"1"}}`,
		`{"x":{}}`,
		`{"x":{"N":"-0.000e-10"}}`,
		`{"x":{"N":"99999999999999999999999999999999999999E+88"}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var it Item
		if json.Unmarshal(b, &it) != nil {
			return
		}
		for _, v := range it {
			if v.Validate() != nil {
				return
			}
		}
		enc, err := json.Marshal(it)
		if err != nil {
			t.Fatal(err)
		}
		var back Item
		if err := json.Unmarshal(enc, &back); err != nil {
			t.Fatalf("re-decode %s: %v", enc, err)
		}
		for k, v := range it {
			if err := back[k].Validate(); err != nil {
				t.Fatalf("re-validate %s: %v", enc, err)
			}
			if !equal(v, back[k]) {
				t.Fatalf("%s: %s != %s", k, v, back[k])
			}
		}
	})
}

// FuzzRequests sends arbitrary bodies to every operation: no panic, every
// answer is a value or an AWS error.
func FuzzRequests(f *testing.F) {
	f.Add("PutItem", []byte(`{"TableName":"t1x","Item":{"k":{"S":"a"}},"Expected":{"k":{"Exists":false}}}`))
	f.Add("UpdateItem", []byte(`{"TableName":"t1x","Key":{"k":{"S":"a"}},"AttributeUpdates":{"n":{"Action":"ADD","Value":{"N":"1"}}}}`))
	f.Add("Query", []byte(`{"TableName":"t1x","KeyConditionExpression":"k = :k","ExpressionAttributeValues":{":k":{"S":"a"}}}`))
	f.Add("Scan", []byte(`{"TableName":"t1x","Segment":0,"TotalSegments":2,"Limit":1}`))
	f.Add("TransactWriteItems", []byte(`{"TransactItems":[{"Put":{"TableName":"t1x","Item":{"k":{"S":"b"}}}}]}`))
	svc, err := Open(Options{})
	if err != nil {
		f.Fatal(err)
	}
	if _, err := svc.Call("1", "r", "CreateTable", []byte(`{"TableName":"t1x","AttributeDefinitions":[{"AttributeName":"k","AttributeType":"S"}],"KeySchema":[{"AttributeName":"k","KeyType":"HASH"}],"BillingMode":"PAY_PER_REQUEST"}`)); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, op string, body []byte) {
		if _, ok := ops[op]; !ok || op == "DeleteTable" {
			return
		}
		svc.Call("1", "r", op, body)
	})
}
