package dynamodb

// CreateTable creates a table with a hash (and optional range) key, global
// and local secondary indexes, PAY_PER_REQUEST or PROVISIONED billing, tags,
// a table class and deletion protection. The table (and every index) is
// ACTIVE at once: the response already says ACTIVE where AWS says CREATING
// for a few seconds; waiters and the KCL's polling see ACTIVE on their first
// DescribeTable. StreamSpecification with StreamEnabled=true is refused
// with a ValidationException (no DynamoDB Streams here). SSESpecification
// is accepted and not reported back: Eddy does not encrypt at rest.

import (
	"crypto/rand"
	"fmt"
	"sort"
	"strings"

	"github.com/eddy-streams/eddy/internal/awserr"
)

type gsiInput struct {
	IndexName             *string         `json:"IndexName"`
	KeySchema             []keyElem       `json:"KeySchema"`
	Projection            *projectionSpec `json:"Projection"`
	ProvisionedThroughput *throughput     `json:"ProvisionedThroughput"`
	OnDemandThroughput    *onDemandThrput `json:"OnDemandThroughput"`
}

type createTableInput struct {
	TableName                 *string         `json:"TableName"`
	AttributeDefinitions      []attrDef       `json:"AttributeDefinitions"`
	KeySchema                 []keyElem       `json:"KeySchema"`
	BillingMode               *string         `json:"BillingMode"`
	ProvisionedThroughput     *throughput     `json:"ProvisionedThroughput"`
	OnDemandThroughput        *onDemandThrput `json:"OnDemandThroughput"`
	GlobalSecondaryIndexes    []gsiInput      `json:"GlobalSecondaryIndexes"`
	LocalSecondaryIndexes     []gsiInput      `json:"LocalSecondaryIndexes"`
	Tags                      []tag           `json:"Tags"`
	DeletionProtectionEnabled *bool           `json:"DeletionProtectionEnabled"`
	TableClass                *string         `json:"TableClass"`
	StreamSpecification       *struct {
		StreamEnabled *bool `json:"StreamEnabled"`
	} `json:"StreamSpecification"`
	SSESpecification *struct {
		Enabled        *bool   `json:"Enabled"`
		SSEType        *string `json:"SSEType"`
		KMSMasterKeyId *string `json:"KMSMasterKeyId"`
	} `json:"SSESpecification"`
	ResourcePolicy *string `json:"ResourcePolicy"`
}

type tableDescOutput struct {
	TableDescription *tableDesc `json:"TableDescription"`
}

func init() { register("CreateTable", (*Service).createTable) }

func (s *Service) createTable(c *call) (any, error) {
	var in createTableInput
	if err := decode(c, &in); err != nil {
		return nil, err
	}
	var v awserr.Validation
	validateTableName(&v, in.TableName, "tableName")
	if in.AttributeDefinitions == nil {
		v.Add(nil, "attributeDefinitions", "Member must not be null")
	}
	if in.KeySchema == nil {
		v.Add(nil, "keySchema", "Member must not be null")
	} else if len(in.KeySchema) < 1 || len(in.KeySchema) > 2 {
		v.Add(fmt.Sprint(in.KeySchema), "keySchema", "Member must have length less than or equal to 2")
	}
	if in.BillingMode != nil && *in.BillingMode != "PROVISIONED" && *in.BillingMode != "PAY_PER_REQUEST" {
		v.Add(*in.BillingMode, "billingMode", "Member must satisfy enum value set: [PROVISIONED, PAY_PER_REQUEST]")
	}
	if in.TableClass != nil && *in.TableClass != "STANDARD" && *in.TableClass != "STANDARD_INFREQUENT_ACCESS" {
		v.Add(*in.TableClass, "tableClass", "Member must satisfy enum value set: [STANDARD_INFREQUENT_ACCESS, STANDARD]")
	}
	for i, k := range in.KeySchema {
		if k.KeyType != "HASH" && k.KeyType != "RANGE" {
			v.Add(k.KeyType, fmt.Sprintf("keySchema.%d.member.keyType", i+1), "Member must satisfy enum value set: [HASH, RANGE]")
		}
	}
	for i, d := range in.AttributeDefinitions {
		if d.AttributeType != "S" && d.AttributeType != "N" && d.AttributeType != "B" {
			v.Add(d.AttributeType, fmt.Sprintf("attributeDefinitions.%d.member.attributeType", i+1), "Member must satisfy enum value set: [B, N, S]")
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if in.TableName != nil && strings.HasPrefix(*in.TableName, "arn:") {
		return nil, invalid("TableName must be a table name, not an ARN, for CreateTable")
	}
	if in.StreamSpecification != nil && in.StreamSpecification.StreamEnabled != nil && *in.StreamSpecification.StreamEnabled {
		return nil, invalid("Eddy does not serve DynamoDB Streams: StreamSpecification.StreamEnabled must be false")
	}
	billing := "PROVISIONED"
	if in.BillingMode != nil {
		billing = *in.BillingMode
	}
	m := tableMeta{
		Version: 1, Account: c.account, Region: c.region, Name: *in.TableName, ID: newUUID(),
		CreatedMillis: s.now().UnixMilli(), KeySchema: in.KeySchema, AttrDefs: in.AttributeDefinitions,
		Billing: billing, OnDemand: in.OnDemandThroughput, Tags: in.Tags, TableClass: "STANDARD",
	}
	if in.TableClass != nil {
		m.TableClass = *in.TableClass
	}
	if in.DeletionProtectionEnabled != nil {
		m.DeletionProtection = *in.DeletionProtectionEnabled
	}
	if err := checkKeySchema(in.KeySchema, in.AttributeDefinitions, "Table"); err != nil {
		return nil, err
	}
	if err := checkThroughput(billing, in.ProvisionedThroughput, "table"); err != nil {
		return nil, err
	}
	if billing == "PROVISIONED" {
		m.Throughput = in.ProvisionedThroughput
	}
	used := map[string]bool{}
	for _, k := range in.KeySchema {
		used[k.AttributeName] = true
	}
	hashName, _ := keyNames(in.KeySchema)
	names := map[string]bool{}
	for i, g := range append(append([]gsiInput{}, in.GlobalSecondaryIndexes...), in.LocalSecondaryIndexes...) {
		global := i < len(in.GlobalSecondaryIndexes)
		ix, err := buildIndex(g, global, billing, in.AttributeDefinitions)
		if err != nil {
			return nil, err
		}
		if names[ix.IndexName] {
			return nil, invalid("One or more parameter values were invalid: Duplicate index name: %s", ix.IndexName)
		}
		names[ix.IndexName] = true
		if !global {
			h, r := keyNames(ix.KeySchema)
			if h != hashName || r == "" {
				return nil, invalid("One or more parameter values were invalid: Index KeySchema does not have the same leading hash key as table KeySchema for index: %s. index hash key: %s, table hash key: %s", ix.IndexName, h, hashName)
			}
			if _, tr := keyNames(in.KeySchema); tr == "" {
				return nil, invalid("One or more parameter values were invalid: Table KeySchema does not have a range key, which is required when specifying a LocalSecondaryIndex")
			}
		}
		for _, k := range ix.KeySchema {
			used[k.AttributeName] = true
		}
		m.Indexes = append(m.Indexes, ix)
	}
	if len(in.GlobalSecondaryIndexes) > 20 {
		return nil, &awserr.Error{Type: tLimitExceeded, Status: 400, Message: "Subscriber limit exceeded: The number of global secondary indexes per table exceeds 20"}
	}
	if len(in.LocalSecondaryIndexes) > 5 {
		return nil, invalid("One or more parameter values were invalid: Number of LocalSecondaryIndexes exceeds per-table limit of 5")
	}
	var unusedDefs []string
	for _, d := range in.AttributeDefinitions {
		if !used[d.AttributeName] {
			unusedDefs = append(unusedDefs, d.AttributeName)
		}
	}
	if len(unusedDefs) > 0 || len(used) != len(in.AttributeDefinitions) {
		sort.Strings(unusedDefs)
		return nil, invalid("One or more parameter values were invalid: Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions")
	}
	if err := checkTags(in.Tags); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k := tableKey(c.account, c.region, m.Name)
	if s.tables[k] != nil {
		return nil, &awserr.Error{Type: tResourceInUse, Status: 400, Message: "Table already exists: " + m.Name}
	}
	if err := s.commitLocked(c, logRec{Op: "table", Table: &m}); err != nil {
		return nil, err
	}
	return &tableDescOutput{TableDescription: s.tables[k].describe("ACTIVE")}, nil
}

func checkKeySchema(ks []keyElem, defs []attrDef, what string) error {
	if len(ks) == 0 || len(ks) > 2 {
		return invalid("1 validation error detected: Value '%v' at 'keySchema' failed to satisfy constraint: Member must have length less than or equal to 2", ks)
	}
	if ks[0].KeyType != "HASH" {
		return invalid("Invalid KeySchema: The first KeySchemaElement is not a HASH key type")
	}
	if len(ks) == 2 {
		if ks[1].KeyType != "RANGE" {
			return invalid("Invalid KeySchema: The second KeySchemaElement is not a RANGE key type")
		}
		if ks[0].AttributeName == ks[1].AttributeName {
			return invalid("Both the Hash Key and the Range Key element in the KeySchema have the same name")
		}
	}
	for _, k := range ks {
		found := false
		for _, d := range defs {
			if d.AttributeName == k.AttributeName {
				found = true
			}
		}
		if !found {
			return invalid("One or more parameter values were invalid: Some index key attributes are not defined in AttributeDefinitions. Keys: [%s], AttributeDefinitions: [%s]", keyList(ks), defList(defs))
		}
	}
	return nil
}

func keyList(ks []keyElem) string {
	out := make([]string, len(ks))
	for i, k := range ks {
		out[i] = k.AttributeName
	}
	return strings.Join(out, ", ")
}

func defList(ds []attrDef) string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.AttributeName
	}
	return strings.Join(out, ", ")
}

func checkThroughput(billing string, t *throughput, what string) error {
	if billing == "PAY_PER_REQUEST" {
		if t != nil {
			return invalid("One or more parameter values were invalid: Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST")
		}
		return nil
	}
	if t == nil {
		if what == "table" {
			return invalid("One or more parameter values were invalid: ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED")
		}
		return invalid("One or more parameter values were invalid: ProvisionedThroughput must be specified for index: %s", what)
	}
	if t.ReadCapacityUnits == nil || t.WriteCapacityUnits == nil {
		return invalid("One or more parameter values were invalid: ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED")
	}
	if *t.ReadCapacityUnits < 1 || *t.WriteCapacityUnits < 1 {
		return invalid("One or more parameter values were invalid: Provisioned throughput values must be greater than 0")
	}
	return nil
}

func buildIndex(g gsiInput, global bool, billing string, defs []attrDef) (indexMeta, error) {
	var ix indexMeta
	if g.IndexName == nil || len(*g.IndexName) < 3 || len(*g.IndexName) > 255 {
		return ix, invalid("1 validation error detected: Value '%s' at 'indexName' failed to satisfy constraint: Member must have length greater than or equal to 3", strOr(g.IndexName))
	}
	if g.Projection == nil {
		return ix, invalid("One or more parameter values were invalid: Projection is required for index: %s", *g.IndexName)
	}
	if err := checkKeySchema(g.KeySchema, defs, "Index"); err != nil {
		return ix, err
	}
	p := *g.Projection
	switch p.ProjectionType {
	case "ALL", "KEYS_ONLY":
		if len(p.NonKeyAttributes) > 0 {
			return ix, invalid("One or more parameter values were invalid: ProjectionType is %s, but NonKeyAttributes is specified", p.ProjectionType)
		}
	case "INCLUDE":
		if len(p.NonKeyAttributes) == 0 {
			return ix, invalid("One or more parameter values were invalid: ProjectionType is INCLUDE, but NonKeyAttributes is not specified")
		}
	case "":
		return ix, invalid("One or more parameter values were invalid: Unknown ProjectionType: null")
	default:
		return ix, invalid("1 validation error detected: Value '%s' at 'projection.projectionType' failed to satisfy constraint: Member must satisfy enum value set: [ALL, INCLUDE, KEYS_ONLY]", p.ProjectionType)
	}
	if global {
		if err := checkThroughput(billing, g.ProvisionedThroughput, *g.IndexName); err != nil {
			return ix, err
		}
	}
	ix = indexMeta{IndexName: *g.IndexName, KeySchema: g.KeySchema, Projection: p, Global: global, OnDemand: g.OnDemandThroughput}
	if global && billing == "PROVISIONED" {
		ix.Throughput = g.ProvisionedThroughput
	}
	return ix, nil
}

func strOr(p *string) string {
	if p == nil {
		return "null"
	}
	return *p
}

func checkTags(tags []tag) error {
	if len(tags) > 50 {
		return invalid("One or more parameter values were invalid: Too many tags: the maximum is 50")
	}
	seen := map[string]bool{}
	for _, t := range tags {
		if t.Key == nil || t.Value == nil {
			return invalid("1 validation error detected: Value null at 'tags.member.key' failed to satisfy constraint: Member must not be null")
		}
		if len(*t.Key) < 1 || len(*t.Key) > 128 {
			return invalid("1 validation error detected: Value '%s' at 'tags.member.key' failed to satisfy constraint: Member must have length less than or equal to 128", *t.Key)
		}
		if len(*t.Value) > 256 {
			return invalid("1 validation error detected: Value '%s' at 'tags.member.value' failed to satisfy constraint: Member must have length less than or equal to 256", *t.Value)
		}
		if seen[*t.Key] {
			return invalid("One or more parameter values were invalid: Duplicate tag keys found")
		}
		seen[*t.Key] = true
	}
	return nil
}

func newUUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
