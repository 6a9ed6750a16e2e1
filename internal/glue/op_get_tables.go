package glue

// GetTables: the tables of a database in name order; Expression filters
// names with a regular expression (Glue's "*" as ".*"), MaxResults per page.

import (
	"regexp"
	"sort"
	"strings"

	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/awsproto"
)

func (s *Service) getTables(req *awsproto.Request) (any, error) {
	var in tableRef
	if err := awsproto.Decode(req.Codec, req.Body, &in); err != nil {
		return nil, err
	}
	var v awserr.Validation
	validateName(&v, in.DatabaseName, "databaseName")
	if err := v.Err(); err != nil {
		return nil, err
	}
	var re *regexp.Regexp
	if in.Expression != nil && *in.Expression != "" {
		expr := strings.ReplaceAll(*in.Expression, "*", ".*")
		expr = strings.ReplaceAll(expr, "..*", ".*")
		var err error
		if re, err = regexp.Compile("^(?:" + expr + ")$"); err != nil {
			return nil, invalidInput("Invalid expression %s.", *in.Expression)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	db, err := s.dbLocked(req, in.CatalogId, *in.DatabaseName)
	if err != nil {
		return nil, err
	}
	var names []string
	for n := range db.Tables {
		if re == nil || re.MatchString(n) {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	start, end, token, err := paginate(len(names), in.NextToken, in.MaxResults)
	if err != nil {
		return nil, err
	}
	list := []any{}
	for _, n := range names[start:end] {
		t := db.Tables[n]
		list = append(list, tableOut(strings.ToLower(*in.DatabaseName), req.Account, t, t.Versions[len(t.Versions)-1]))
	}
	out := map[string]any{"TableList": list}
	if token != "" {
		out["NextToken"] = token
	}
	return out, nil
}
