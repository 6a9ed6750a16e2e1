package dynamodb

import (
	"encoding/binary"
	"hash/fnv"
	"sort"
	"strings"

	"github.com/eddy-streams/eddy/internal/awsproto"
)

type keyElem struct {
	AttributeName string `json:"AttributeName"`
	KeyType       string `json:"KeyType"`
}

type attrDef struct {
	AttributeName string `json:"AttributeName"`
	AttributeType string `json:"AttributeType"`
}

type projectionSpec struct {
	ProjectionType   string   `json:"ProjectionType,omitempty"`
	NonKeyAttributes []string `json:"NonKeyAttributes,omitempty"`
}

type throughput struct {
	ReadCapacityUnits  *int64 `json:"ReadCapacityUnits,omitempty"`
	WriteCapacityUnits *int64 `json:"WriteCapacityUnits,omitempty"`
}

type tag struct {
	Key   *string `json:"Key"`
	Value *string `json:"Value"`
}

type indexMeta struct {
	IndexName  string          `json:"IndexName"`
	KeySchema  []keyElem       `json:"KeySchema"`
	Projection projectionSpec  `json:"Projection"`
	Throughput *throughput     `json:"ProvisionedThroughput,omitempty"`
	OnDemand   *onDemandThrput `json:"OnDemandThroughput,omitempty"`
	Global     bool            `json:"Global"`
}

type onDemandThrput struct {
	MaxReadRequestUnits  *int64 `json:"MaxReadRequestUnits,omitempty"`
	MaxWriteRequestUnits *int64 `json:"MaxWriteRequestUnits,omitempty"`
}

// tableMeta is a table's persisted definition (version 1).
type tableMeta struct {
	Version            int             `json:"v"`
	Account            string          `json:"account"`
	Region             string          `json:"region"`
	Name               string          `json:"name"`
	ID                 string          `json:"id"`
	CreatedMillis      int64           `json:"created"`
	KeySchema          []keyElem       `json:"keySchema"`
	AttrDefs           []attrDef       `json:"attrDefs"`
	Billing            string          `json:"billing"`
	Throughput         *throughput     `json:"throughput,omitempty"`
	OnDemand           *onDemandThrput `json:"onDemand,omitempty"`
	Indexes            []indexMeta     `json:"indexes,omitempty"`
	Tags               []tag           `json:"tags,omitempty"`
	DeletionProtection bool            `json:"deletionProtection,omitempty"`
	TableClass         string          `json:"tableClass,omitempty"`
	TTLAttr            string          `json:"ttlAttr,omitempty"`
	TTLEnabled         bool            `json:"ttlEnabled,omitempty"`
	PITR               bool            `json:"pitr,omitempty"`
	PITRDays           int             `json:"pitrDays,omitempty"`
}

type table struct {
	meta   tableMeta
	items  map[string]Item // by primary-key encoding
	sorted []string        // item keys in order; nil when stale
	bytes  int64
	hash   string // hash key attribute
	rng    string // range key attribute ("" none)
}

func newTable(m tableMeta) *table {
	t := &table{meta: m, items: map[string]Item{}}
	t.reindex()
	return t
}

func (t *table) reindex() {
	t.hash, t.rng = keyNames(t.meta.KeySchema)
}

func keyNames(ks []keyElem) (hash, rng string) {
	for _, k := range ks {
		if k.KeyType == "HASH" {
			hash = k.AttributeName
		} else if k.KeyType == "RANGE" {
			rng = k.AttributeName
		}
	}
	return
}

func (t *table) arn() string {
	return "arn:aws:dynamodb:" + t.meta.Region + ":" + t.meta.Account + ":table/" + t.meta.Name
}

func (t *table) attrType(name string) string {
	for _, d := range t.meta.AttrDefs {
		if d.AttributeName == name {
			return d.AttributeType
		}
	}
	return ""
}

func (t *table) isKey(name string) bool { return name == t.hash || name == t.rng && t.rng != "" }

// encodeKey is a map key for the primary key of it (types are fixed by
// the schema, numbers are normalised).
func encodeKey(it Item, hash, rng string) string {
	var b strings.Builder
	for _, n := range []string{hash, rng} {
		if n == "" {
			continue
		}
		v := it[n]
		var raw string
		switch {
		case v == nil:
		case v.S != nil:
			raw = *v.S
		case v.N != nil:
			raw = *v.N
		case v.B != nil:
			raw = string(v.B)
		}
		var l [4]byte
		binary.BigEndian.PutUint32(l[:], uint32(len(raw)))
		b.Write(l[:])
		b.WriteString(raw)
	}
	return b.String()
}

func (t *table) keyOf(it Item) string { return encodeKey(it, t.hash, t.rng) }

// keyItem is the primary-key attributes of it.
func (t *table) keyItem(it Item) Item {
	k := Item{t.hash: it[t.hash]}
	if t.rng != "" {
		k[t.rng] = it[t.rng]
	}
	return k
}

func (t *table) put(it Item) {
	k := t.keyOf(it)
	if old, ok := t.items[k]; ok {
		t.bytes -= int64(itemSize(old))
	} else {
		t.sorted = nil
	}
	t.items[k] = it
	t.bytes += int64(itemSize(it))
}

func (t *table) remove(key Item) {
	k := t.keyOf(key)
	if old, ok := t.items[k]; ok {
		t.bytes -= int64(itemSize(old))
		delete(t.items, k)
		t.sorted = nil
	}
}

func (t *table) get(key Item) Item { return t.items[t.keyOf(key)] }

// order lists item keys by hash key bytes, then range key in type order.
func (t *table) order() []string {
	if t.sorted != nil {
		return t.sorted
	}
	keys := make([]string, 0, len(t.items))
	for k := range t.items {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return t.less(t.items[keys[i]], t.items[keys[j]]) })
	t.sorted = keys
	return keys
}

// less orders items in a table's primary-key order.
func (t *table) less(a, b Item) bool {
	ha, hb := encodeKey(a, t.hash, ""), encodeKey(b, t.hash, "")
	if ha != hb {
		return ha < hb
	}
	if t.rng == "" {
		return false
	}
	n, _ := compare(a[t.rng], b[t.rng])
	return n < 0
}

// segmentOf maps an item to a parallel-scan segment by its hash key.
func (t *table) segmentOf(it Item, total int) int {
	h := fnv.New32a()
	h.Write([]byte(encodeKey(it, t.hash, "")))
	return int(h.Sum32() % uint32(total))
}

func (t *table) index(name string) *indexMeta {
	for i := range t.meta.Indexes {
		if t.meta.Indexes[i].IndexName == name {
			return &t.meta.Indexes[i]
		}
	}
	return nil
}

// ---- descriptions ----

type keySchemaOut = []keyElem

type billingSummary struct {
	BillingMode                       string              `json:"BillingMode"`
	LastUpdateToPayPerRequestDateTime *awsproto.Timestamp `json:"LastUpdateToPayPerRequestDateTime,omitempty"`
}

type throughputDesc struct {
	NumberOfDecreasesToday int64 `json:"NumberOfDecreasesToday"`
	ReadCapacityUnits      int64 `json:"ReadCapacityUnits"`
	WriteCapacityUnits     int64 `json:"WriteCapacityUnits"`
}

type indexDesc struct {
	IndexName             string          `json:"IndexName"`
	KeySchema             []keyElem       `json:"KeySchema"`
	Projection            projectionSpec  `json:"Projection"`
	IndexStatus           string          `json:"IndexStatus,omitempty"`
	Backfilling           *bool           `json:"Backfilling,omitempty"`
	ProvisionedThroughput *throughputDesc `json:"ProvisionedThroughput,omitempty"`
	OnDemandThroughput    *onDemandThrput `json:"OnDemandThroughput,omitempty"`
	IndexSizeBytes        int64           `json:"IndexSizeBytes"`
	ItemCount             int64           `json:"ItemCount"`
	IndexArn              string          `json:"IndexArn"`
}

type tableClassSummary struct {
	TableClass string `json:"TableClass"`
}

type tableDesc struct {
	AttributeDefinitions      []attrDef           `json:"AttributeDefinitions"`
	TableName                 string              `json:"TableName"`
	KeySchema                 []keyElem           `json:"KeySchema"`
	TableStatus               string              `json:"TableStatus"`
	CreationDateTime          *awsproto.Timestamp `json:"CreationDateTime"`
	ProvisionedThroughput     throughputDesc      `json:"ProvisionedThroughput"`
	TableSizeBytes            int64               `json:"TableSizeBytes"`
	ItemCount                 int64               `json:"ItemCount"`
	TableArn                  string              `json:"TableArn"`
	TableId                   string              `json:"TableId"`
	BillingModeSummary        *billingSummary     `json:"BillingModeSummary,omitempty"`
	GlobalSecondaryIndexes    []indexDesc         `json:"GlobalSecondaryIndexes,omitempty"`
	LocalSecondaryIndexes     []indexDesc         `json:"LocalSecondaryIndexes,omitempty"`
	TableClassSummary         *tableClassSummary  `json:"TableClassSummary,omitempty"`
	DeletionProtectionEnabled bool                `json:"DeletionProtectionEnabled"`
	OnDemandThroughput        *onDemandThrput     `json:"OnDemandThroughput,omitempty"`
}

func (t *table) describe(status string) *tableDesc {
	m := &t.meta
	d := &tableDesc{
		AttributeDefinitions: m.AttrDefs, TableName: m.Name, KeySchema: m.KeySchema, TableStatus: status,
		CreationDateTime: awsproto.TSMillis(m.CreatedMillis), TableSizeBytes: t.bytes, ItemCount: int64(len(t.items)),
		TableArn: t.arn(), TableId: m.ID, DeletionProtectionEnabled: m.DeletionProtection, OnDemandThroughput: m.OnDemand,
	}
	if m.Throughput != nil {
		d.ProvisionedThroughput.ReadCapacityUnits = deref(m.Throughput.ReadCapacityUnits)
		d.ProvisionedThroughput.WriteCapacityUnits = deref(m.Throughput.WriteCapacityUnits)
	}
	if m.Billing == "PAY_PER_REQUEST" {
		d.BillingModeSummary = &billingSummary{BillingMode: "PAY_PER_REQUEST", LastUpdateToPayPerRequestDateTime: awsproto.TSMillis(m.CreatedMillis)}
	} else {
		d.BillingModeSummary = &billingSummary{BillingMode: "PROVISIONED"}
	}
	if m.TableClass != "" && m.TableClass != "STANDARD" {
		d.TableClassSummary = &tableClassSummary{TableClass: m.TableClass}
	}
	for _, ix := range m.Indexes {
		count, size := t.indexStats(&ix)
		id := indexDesc{IndexName: ix.IndexName, KeySchema: ix.KeySchema, Projection: ix.Projection,
			IndexSizeBytes: size, ItemCount: count, IndexArn: t.arn() + "/index/" + ix.IndexName}
		if ix.Global {
			id.IndexStatus = "ACTIVE"
			f := false
			id.Backfilling = nil
			_ = f
			id.OnDemandThroughput = ix.OnDemand
			pt := &throughputDesc{}
			if ix.Throughput != nil {
				pt.ReadCapacityUnits = deref(ix.Throughput.ReadCapacityUnits)
				pt.WriteCapacityUnits = deref(ix.Throughput.WriteCapacityUnits)
			}
			id.ProvisionedThroughput = pt
			d.GlobalSecondaryIndexes = append(d.GlobalSecondaryIndexes, id)
		} else {
			d.LocalSecondaryIndexes = append(d.LocalSecondaryIndexes, id)
		}
	}
	return d
}

func (t *table) indexStats(ix *indexMeta) (count, size int64) {
	h, r := keyNames(ix.KeySchema)
	for _, it := range t.items {
		if it[h] != nil && (r == "" || it[r] != nil) {
			count++
			size += int64(itemSize(it))
		}
	}
	return
}

func deref(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}
