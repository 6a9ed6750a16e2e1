package format

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/eddy-streams/eddy/internal/analytics/exec"
)

// ParseSQLType reads a column type as RecordColumn.SqlType spells it
// ("VARCHAR(4)", "INTEGER", "DOUBLE PRECISION", "DECIMAL(10,2)"), case
// insensitive.
func ParseSQLType(s string) (t exec.Type, size, scale int, err error) {
	u := strings.ToUpper(strings.TrimSpace(s))
	base, args := u, ""
	if i := strings.IndexByte(u, '('); i >= 0 {
		if !strings.HasSuffix(u, ")") {
			return 0, 0, 0, fmt.Errorf("SQL type %q: unbalanced parenthesis", s)
		}
		base, args = strings.TrimSpace(u[:i]), u[i+1:len(u)-1]
	}
	base = strings.Join(strings.Fields(base), " ")
	var nums []int
	if args != "" {
		for _, a := range strings.Split(args, ",") {
			n, e := strconv.Atoi(strings.TrimSpace(a))
			if e != nil || n < 0 {
				return 0, 0, 0, fmt.Errorf("SQL type %q: bad size %q", s, a)
			}
			nums = append(nums, n)
		}
	}
	sized := func(def int) (int, error) {
		switch len(nums) {
		case 0:
			return def, nil
		case 1:
			if nums[0] < 1 {
				return 0, fmt.Errorf("SQL type %q: size must be at least 1", s)
			}
			return nums[0], nil
		}
		return 0, fmt.Errorf("SQL type %q: too many sizes", s)
	}
	noArgs := func(tt exec.Type) (exec.Type, int, int, error) {
		if len(nums) > 0 {
			return 0, 0, 0, fmt.Errorf("SQL type %q takes no size", s)
		}
		return tt, 0, 0, nil
	}
	switch base {
	case "VARCHAR", "CHARACTER VARYING", "CHAR VARYING":
		n, e := sized(1)
		if len(nums) == 0 {
			return 0, 0, 0, fmt.Errorf("SQL type %q: VARCHAR needs a size", s)
		}
		return exec.TypeVarchar, n, 0, e
	case "CHAR", "CHARACTER":
		n, e := sized(1)
		return exec.TypeChar, n, 0, e
	case "BINARY":
		n, e := sized(1)
		return exec.TypeBinary, n, 0, e
	case "VARBINARY":
		n, e := sized(1)
		if len(nums) == 0 {
			return 0, 0, 0, fmt.Errorf("SQL type %q: VARBINARY needs a size", s)
		}
		return exec.TypeVarbinary, n, 0, e
	case "BOOLEAN":
		return noArgs(exec.TypeBoolean)
	case "TINYINT":
		return noArgs(exec.TypeTinyint)
	case "SMALLINT":
		return noArgs(exec.TypeSmallint)
	case "INTEGER", "INT":
		return noArgs(exec.TypeInteger)
	case "BIGINT":
		return noArgs(exec.TypeBigint)
	case "REAL", "FLOAT":
		return noArgs(exec.TypeReal)
	case "DOUBLE", "DOUBLE PRECISION":
		return noArgs(exec.TypeDouble)
	case "DATE":
		return noArgs(exec.TypeDate)
	case "TIME":
		return noArgs(exec.TypeTime)
	case "TIMESTAMP":
		return noArgs(exec.TypeTimestamp)
	case "DECIMAL", "DEC", "NUMERIC":
		p, sc := 19, 0
		if len(nums) >= 1 {
			p = nums[0]
		}
		if len(nums) == 2 {
			sc = nums[1]
		}
		if len(nums) > 2 || p < 1 || p > 19 || sc > p {
			return 0, 0, 0, fmt.Errorf("SQL type %q: DECIMAL precision is 1 to 19 digits with scale at most the precision", s)
		}
		return exec.TypeDecimal, p, sc, nil
	}
	return 0, 0, 0, fmt.Errorf("SQL type %q is not supported", s)
}

// TypeName spells a column type as DiscoverInputSchema reports it.
func TypeName(c exec.Column) string {
	switch c.Type {
	case exec.TypeVarchar:
		return fmt.Sprintf("VARCHAR(%d)", c.Size)
	case exec.TypeChar:
		return fmt.Sprintf("CHAR(%d)", c.Size)
	case exec.TypeBinary:
		return fmt.Sprintf("BINARY(%d)", c.Size)
	case exec.TypeVarbinary:
		return fmt.Sprintf("VARBINARY(%d)", c.Size)
	case exec.TypeBoolean:
		return "BOOLEAN"
	case exec.TypeTinyint:
		return "TINYINT"
	case exec.TypeSmallint:
		return "SMALLINT"
	case exec.TypeInteger:
		return "INTEGER"
	case exec.TypeBigint:
		return "BIGINT"
	case exec.TypeReal:
		return "REAL"
	case exec.TypeDouble:
		return "DOUBLE"
	case exec.TypeDecimal:
		return fmt.Sprintf("DECIMAL(%d,%d)", c.Size, c.Scale)
	case exec.TypeDate:
		return "DATE"
	case exec.TypeTime:
		return "TIME"
	case exec.TypeTimestamp:
		return "TIMESTAMP"
	}
	return "VARCHAR(64)"
}
