package dynamodb

// Shared machinery of Query and Scan: index views, ordering, paging,
// filters and projections.

import (
	"sort"
)

const maxPageBytes = 1 << 20 // a page stops after 1 MB of evaluated items

// view is what a Query or Scan reads: the table or one of its indexes.
type view struct {
	t        *table
	ix       *indexMeta // nil: the table
	hash     string
	rng      string
	keyAttrs []string // every key attribute a LastEvaluatedKey carries
	scan     bool     // walk in table order (Scan) rather than view order (Query)
}

func (s *Service) viewOf(t *table, indexName *string) (*view, error) {
	v := &view{t: t, hash: t.hash, rng: t.rng}
	if indexName != nil {
		ix := t.index(*indexName)
		if ix == nil {
			return nil, invalid("The table does not have the specified index: %s", *indexName)
		}
		v.ix = ix
		v.hash, v.rng = keyNames(ix.KeySchema)
	}
	seen := map[string]bool{}
	for _, n := range []string{v.hash, v.rng, t.hash, t.rng} {
		if n != "" && !seen[n] {
			seen[n] = true
			v.keyAttrs = append(v.keyAttrs, n)
		}
	}
	return v, nil
}

// has reports whether an item appears in the view (an index holds only
// items with all its key attributes).
func (v *view) has(it Item) bool {
	if v.ix == nil {
		return true
	}
	return it[v.hash] != nil && (v.rng == "" || it[v.rng] != nil)
}

// cmp orders items within one view: view range key, then table key.
func (v *view) cmp(a, b Item) int {
	if v.rng != "" {
		if n, ok := compare(a[v.rng], b[v.rng]); ok && n != 0 {
			return n
		}
	}
	if v.ix != nil {
		if v.t.less(a, b) {
			return -1
		}
		if v.t.less(b, a) {
			return 1
		}
	}
	return 0
}

// lastKey is the LastEvaluatedKey for it.
func (v *view) lastKey(it Item) Item {
	k := Item{}
	for _, n := range v.keyAttrs {
		if it[n] != nil {
			k[n] = it[n]
		}
	}
	return k
}

// checkStartKey validates an ExclusiveStartKey against the view.
func (v *view) checkStartKey(k Item) error {
	if k == nil {
		return nil
	}
	for _, x := range k {
		if err := x.Validate(); err != nil {
			return err
		}
	}
	for _, n := range []string{v.t.hash, v.t.rng} {
		if n == "" {
			continue
		}
		if x := k[n]; x == nil || x.Type() != v.t.attrType(n) {
			return invalid("The provided starting key is invalid: The provided key element does not match the schema")
		}
	}
	if len(k) > len(v.keyAttrs) {
		return invalid("The provided starting key is invalid: The provided key element does not match the schema")
	}
	for n := range k {
		found := false
		for _, a := range v.keyAttrs {
			if a == n {
				found = true
			}
		}
		if !found {
			return invalid("The provided starting key is invalid: The provided key element does not match the schema")
		}
	}
	return nil
}

// projectedItem is an item as the view stores it (an index keeps only its
// projection).
func (v *view) projectedItem(it Item) Item {
	if v.ix == nil || v.ix.Projection.ProjectionType == "ALL" {
		return it
	}
	keep := map[string]bool{}
	for _, n := range v.keyAttrs {
		keep[n] = true
	}
	if v.ix.Projection.ProjectionType == "INCLUDE" {
		for _, n := range v.ix.Projection.NonKeyAttributes {
			keep[n] = true
		}
	}
	out := Item{}
	for k, x := range it {
		if keep[k] {
			out[k] = x
		}
	}
	return out
}

// readSpec is what to do with the items a Query or Scan walks.
type readSpec struct {
	filter  *cond
	proj    []docPath
	count   bool // Select=COUNT
	limit   int  // 0: none
	start   Item
	reverse bool
}

type readOutput struct {
	Items            *[]Item   `json:"Items,omitempty"` // absent for Select=COUNT, [] when empty
	Count            int       `json:"Count"`
	ScannedCount     int       `json:"ScannedCount"`
	LastEvaluatedKey Item      `json:"LastEvaluatedKey,omitempty"`
	ConsumedCapacity *consumed `json:"ConsumedCapacity,omitempty"`
}

// page walks items (already in view order), starting after spec.start.
func (v *view) page(items []Item, spec *readSpec) (*readOutput, int, error) {
	out := &readOutput{}
	var items0 []Item
	if !spec.count {
		items0 = []Item{}
		out.Items = &items0
	}
	if spec.start != nil {
		// first item strictly after the start key in walk order
		i := sort.Search(len(items), func(i int) bool {
			c := v.cmpWalk(items[i], spec.start)
			if spec.reverse {
				return c < 0
			}
			return c > 0
		})
		items = items[i:]
	}
	bytes := 0
	for i, it := range items {
		out.ScannedCount++
		bytes += itemSize(it)
		ok := true
		if spec.filter != nil {
			var err error
			ok, err = evalCond(spec.filter, it)
			if err != nil {
				return nil, 0, err
			}
		}
		if ok {
			out.Count++
			if !spec.count {
				items0 = append(items0, project(v.projectedItem(it), spec.proj))
				out.Items = &items0
			}
		}
		more := i+1 < len(items)
		if spec.limit > 0 && out.ScannedCount >= spec.limit || bytes >= maxPageBytes && more {
			out.LastEvaluatedKey = v.lastKey(it)
			break
		}
	}
	return out, bytes, nil
}

// cmpWalk orders an item against a start key in walk order: for a Scan
// that is table order (hash key bytes, then range), for a Query the view
// order within the partition.
func (v *view) cmpWalk(a, start Item) int {
	return v.walkCmp(a, start)
}

func (v *view) walkCmp(a, b Item) int {
	if v.scan {
		if v.t.less(a, b) {
			return -1
		}
		if v.t.less(b, a) {
			return 1
		}
		return 0
	}
	return v.cmp(a, b)
}

// readRequest holds the members Query and Scan share; each operation fills
// it from its input (the legacy filter is QueryFilter or ScanFilter).
type readRequest struct {
	params       *exprParams
	capacityMode *string
	limit        *int
	legacyFilter map[string]legacyCondition
	filterName   string // "QueryFilter" or "ScanFilter"
	condOp       *string
	filterExpr   *string
	projExpr     *string
	attrsToGet   []string
	members      func() error // further member checks (Scan's segments), run after Limit
	query        bool         // Query: a key condition is required
	keyCondExpr  *string
	keyConds     map[string]legacyCondition
}

// readParsed is a read request after its checks.
type readParsed struct {
	env     *exprEnv
	keyCond *cond // Query only
	filter  *cond
	proj    []docPath
}

// parse runs the checks Query and Scan share, in AWS's order: capacity
// mode, Limit, legacy and expression forms not mixed, then the key
// condition (Query), the filter and the projection.
func (r *readRequest) parse() (*readParsed, error) {
	if err := checkCapacityMode(r.capacityMode); err != nil {
		return nil, err
	}
	if r.limit != nil && *r.limit < 1 {
		return nil, invalid("1 validation error detected: Value '%d' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1", *r.limit)
	}
	if r.members != nil {
		if err := r.members(); err != nil {
			return nil, err
		}
	}
	var legacy, exprs []string
	for _, x := range []struct {
		name string
		ok   bool
		expr bool
	}{{"KeyConditions", r.keyConds != nil, false}, {r.filterName, r.legacyFilter != nil, false},
		{"ConditionalOperator", r.condOp != nil, false}, {"AttributesToGet", r.attrsToGet != nil, false},
		{"KeyConditionExpression", set(r.keyCondExpr), true}, {"FilterExpression", set(r.filterExpr), true},
		{"ProjectionExpression", set(r.projExpr), true}} {
		if x.ok && x.expr {
			exprs = append(exprs, x.name)
		} else if x.ok {
			legacy = append(legacy, x.name)
		}
	}
	if len(legacy) > 0 && len(exprs) > 0 {
		return nil, bothForms(legacy, exprs)
	}
	env, err := r.params.env(set(r.keyCondExpr) || set(r.filterExpr) || set(r.projExpr))
	if err != nil {
		return nil, err
	}
	p := &readParsed{env: env}
	if r.query {
		switch {
		case r.keyCondExpr != nil:
			if p.keyCond, err = parseCondition(*r.keyCondExpr, env); err != nil {
				return nil, exprErr("KeyConditionExpression", err)
			}
		case r.keyConds != nil:
			if p.keyCond, err = filterCond(r.keyConds, nil); err != nil {
				return nil, err
			}
		default:
			return nil, invalid("Either the KeyConditions or KeyConditionExpression parameter must be specified in the request.")
		}
	}
	if r.filterExpr != nil {
		if p.filter, err = parseCondition(*r.filterExpr, env); err != nil {
			return nil, exprErr("FilterExpression", err)
		}
	} else if r.legacyFilter != nil {
		if p.filter, err = filterCond(r.legacyFilter, r.condOp); err != nil {
			return nil, err
		}
	}
	if p.proj, err = projectionOf(r.projExpr, r.attrsToGet, env); err != nil {
		return nil, err
	}
	if err := env.unused(); err != nil {
		return nil, err
	}
	return p, nil
}

// readView finds the table and the view a read names; consistent reads of
// a global secondary index are refused as AWS refuses them. The caller
// holds s.mu.
func (s *Service) readView(c *call, tableName, indexName *string, consistent *bool) (*table, *view, error) {
	t, err := s.lookupLocked(c, tableName)
	if err != nil {
		return nil, nil, err
	}
	v, err := s.viewOf(t, indexName)
	if err != nil {
		return nil, nil, err
	}
	if v.ix != nil && v.ix.Global && consistent != nil && *consistent {
		return nil, nil, invalid("Consistent reads are not supported on global secondary indexes")
	}
	return t, v, nil
}
