package dynamodb

// ListTables lists the account's tables in the region in name order, at
// most Limit (1–100, default 100) per page, continuing after
// ExclusiveStartTableName; LastEvaluatedTableName is set when more remain.

import (
	"sort"
	"strings"

	"github.com/eddy-streams/eddy/internal/awserr"
)

type listTablesInput struct {
	ExclusiveStartTableName *string `json:"ExclusiveStartTableName"`
	Limit                   *int    `json:"Limit"`
}

type listTablesOutput struct {
	TableNames             []string `json:"TableNames"`
	LastEvaluatedTableName *string  `json:"LastEvaluatedTableName,omitempty"`
}

func init() { register("ListTables", (*Service).listTables) }

func (s *Service) listTables(c *call) (any, error) {
	var in listTablesInput
	if err := decode(c, &in); err != nil {
		return nil, err
	}
	var v awserr.Validation
	if in.Limit != nil && (*in.Limit < 1 || *in.Limit > 100) {
		c := "Member must have value greater than or equal to 1"
		if *in.Limit > 100 {
			c = "Member must have value less than or equal to 100"
		}
		v.Add(*in.Limit, "limit", c)
	}
	if in.ExclusiveStartTableName != nil {
		validateTableName(&v, in.ExclusiveStartTableName, "exclusiveStartTableName")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	limit := 100
	if in.Limit != nil {
		limit = *in.Limit
	}
	prefix := c.account + "/" + c.region + "/"
	s.mu.RLock()
	var names []string
	for k := range s.tables {
		if strings.HasPrefix(k, prefix) {
			names = append(names, k[len(prefix):])
		}
	}
	s.mu.RUnlock()
	sort.Strings(names)
	if in.ExclusiveStartTableName != nil {
		i := sort.SearchStrings(names, *in.ExclusiveStartTableName)
		if i < len(names) && names[i] == *in.ExclusiveStartTableName {
			i++
		}
		names = names[i:]
	}
	out := &listTablesOutput{TableNames: []string{}}
	if len(names) > limit {
		names = names[:limit]
		last := names[limit-1]
		out.LastEvaluatedTableName = &last
	}
	out.TableNames = append(out.TableNames, names...)
	return out, nil
}
