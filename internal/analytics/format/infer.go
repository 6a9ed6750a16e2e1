package format

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Discovered is an inferred schema (DiscoverInputSchema).
type Discovered struct {
	Format   string // JSON or CSV
	RowDelim string // CSV
	ColDelim string // CSV
	Columns  []ColumnSpec
	// Parsed holds each record's values in column order (NULL as "").
	Parsed [][]string
}

// ErrNoSchema is returned when no schema fits the records.
var ErrNoSchema = errors.New("unable to detect a schema")

// Infer guesses a schema from sample records the way AWS's discovery does:
// JSON objects (nested objects flattened into `$.a.b` mappings, arrays kept
// as text) or delimited text; each column gets the narrowest type that
// holds every sample (TINYINT, INTEGER, BIGINT, REAL, BOOLEAN, DATE,
// TIMESTAMP, or VARCHAR(n) with n rounded up to a power of two), and names
// that are SQL reserved words, start with a digit, hold characters other
// than letters, digits and '_' or exceed 100 characters get a COL_ prefix
// (USER→COL_USER, USER@DOMAIN→COL_USERDOMAIN, @@→COL_0).
func Infer(records [][]byte) (Discovered, error) {
	var recs [][]byte
	for _, r := range records {
		if t := bytes.TrimSpace(r); len(t) > 0 {
			recs = append(recs, t)
		}
	}
	if len(recs) == 0 {
		return Discovered{}, fmt.Errorf("%w: no records", ErrNoSchema)
	}
	allJSON := true
	for _, r := range recs {
		if r[0] != '{' || !json.Valid(r) {
			allJSON = false
			break
		}
	}
	if allJSON {
		return inferJSON(recs)
	}
	return inferCSV(recs)
}

type colStat struct {
	path     string
	key      string
	parent   string
	ints     bool
	floats   bool
	bools    bool
	strs     bool
	texts    bool // objects/arrays
	allTime  bool
	allDate  bool
	min, max int64
	maxLen   int
	seen     bool
}

func (c *colStat) add(kind string, text string) {
	if !c.seen {
		c.allTime, c.allDate = true, true
		c.min, c.max = math.MaxInt64, math.MinInt64
		c.seen = true
	}
	if n := len([]rune(text)); n > c.maxLen {
		c.maxLen = n
	}
	switch kind {
	case "null":
		return
	case "bool":
		c.bools = true
	case "number":
		if n, err := strconv.ParseInt(text, 10, 64); err == nil {
			c.ints = true
			c.min, c.max = min(c.min, n), max(c.max, n)
		} else {
			c.floats = true
		}
	case "string":
		c.strs = true
		if _, err := ParseDatetime([]byte(text)); err != nil || len(text) < 10 || text[4] != '-' {
			c.allTime, c.allDate = false, false
		} else if len(text) > 10 {
			c.allDate = false
		}
	default:
		c.texts = true
	}
}

func (c *colStat) sqlType() string {
	switch {
	case !c.seen || (!c.ints && !c.floats && !c.bools && !c.strs && !c.texts):
		return fmt.Sprintf("VARCHAR(%d)", pow2(max(c.maxLen, 1)))
	case c.texts || (c.strs && (c.ints || c.floats || c.bools)) || (c.bools && (c.ints || c.floats)):
		return fmt.Sprintf("VARCHAR(%d)", pow2(c.maxLen))
	case c.strs && c.allDate:
		return "DATE"
	case c.strs && c.allTime:
		return "TIMESTAMP"
	case c.strs:
		return fmt.Sprintf("VARCHAR(%d)", pow2(c.maxLen))
	case c.bools:
		return "BOOLEAN"
	case c.floats:
		return "REAL"
	case c.min >= math.MinInt8 && c.max <= math.MaxInt8:
		return "TINYINT"
	case c.min >= math.MinInt32 && c.max <= math.MaxInt32:
		return "INTEGER"
	}
	return "BIGINT"
}

func pow2(n int) int {
	p := 1
	for p < n {
		p *= 2
	}
	return p
}

func inferJSON(recs [][]byte) (Discovered, error) {
	var order []*colStat
	byPath := map[string]*colStat{}
	type row map[string]string
	var rows []row
	for _, r := range recs {
		vals := row{}
		d := json.NewDecoder(bytes.NewReader(r))
		d.UseNumber()
		var walk func(path, parent string) error
		walk = func(path, parent string) error {
			tok, err := d.Token() // '{'
			if err != nil {
				return err
			}
			if tok != json.Delim('{') {
				return ErrNoSchema
			}
			for d.More() {
				kt, err := d.Token()
				if err != nil {
					return err
				}
				key := kt.(string)
				p := path + "." + key
				var raw json.RawMessage
				if err := d.Decode(&raw); err != nil {
					return err
				}
				kind, text := "text", string(raw)
				switch {
				case len(raw) > 0 && raw[0] == '{':
					sub := json.NewDecoder(bytes.NewReader(raw))
					sub.UseNumber()
					save := d
					d = sub
					err := walk(p, key)
					d = save
					if err != nil {
						return err
					}
					continue
				case len(raw) > 0 && raw[0] == '[':
					p += "[0:]"
				case string(raw) == "null":
					kind, text = "null", ""
				case string(raw) == "true" || string(raw) == "false":
					kind = "bool"
				case raw[0] == '"':
					kind = "string"
					_ = json.Unmarshal(raw, &text)
				default:
					kind = "number"
				}
				c := byPath[p]
				if c == nil {
					c = &colStat{path: p, key: key, parent: parent}
					byPath[p] = c
					order = append(order, c)
				}
				c.add(kind, text)
				vals[p] = text
			}
			_, err = d.Token()
			return err
		}
		if err := walk("$", ""); err != nil {
			return Discovered{}, fmt.Errorf("%w: %v", ErrNoSchema, err)
		}
		rows = append(rows, vals)
	}
	if len(order) == 0 {
		return Discovered{}, fmt.Errorf("%w: the records have no fields", ErrNoSchema)
	}
	out := Discovered{Format: "JSON"}
	names := map[string]bool{}
	for _, c := range order {
		name := ColumnName(c.key, len(out.Columns))
		if names[strings.ToUpper(name)] && c.parent != "" {
			name = ColumnName(c.parent+"_"+c.key, len(out.Columns))
		}
		for base, i := name, 2; names[strings.ToUpper(name)]; i++ {
			name = base + "_" + strconv.Itoa(i)
		}
		names[strings.ToUpper(name)] = true
		out.Columns = append(out.Columns, ColumnSpec{Name: name, SQLType: c.sqlType(), Mapping: c.path})
	}
	for _, r := range rows {
		vals := make([]string, len(order))
		for i, c := range order {
			vals[i] = r[c.path]
		}
		out.Parsed = append(out.Parsed, vals)
	}
	return out, nil
}

func inferCSV(recs [][]byte) (Discovered, error) {
	var lines []string
	for _, r := range recs {
		for _, l := range strings.Split(string(r), "\n") {
			if l = strings.TrimRight(l, "\r"); strings.TrimSpace(l) != "" {
				lines = append(lines, l)
			}
		}
	}
	best, bestN := "", 0
	for _, d := range []string{",", "\t", "|", ";"} {
		n := strings.Count(lines[0], d) + 1
		if n < 2 {
			continue
		}
		ok := true
		for _, l := range lines[1:] {
			if strings.Count(l, d)+1 != n {
				ok = false
				break
			}
		}
		if ok && n > bestN {
			best, bestN = d, n
		}
	}
	if best == "" {
		// one column of text
		best, bestN = ",", 1
		for _, l := range lines {
			if strings.Contains(l, ",") {
				return Discovered{}, fmt.Errorf("%w: the records are neither JSON nor consistently delimited text", ErrNoSchema)
			}
		}
	}
	stats := make([]colStat, bestN)
	out := Discovered{Format: "CSV", RowDelim: "\n", ColDelim: best}
	for _, l := range lines {
		fields := strings.Split(l, best)
		vals := make([]string, bestN)
		for i := range stats {
			f := ""
			if i < len(fields) {
				f = fields[i]
			}
			vals[i] = f
			t := strings.TrimSpace(f)
			switch {
			case t == "":
				stats[i].add("null", "")
			case strings.EqualFold(t, "true") || strings.EqualFold(t, "false"):
				stats[i].add("bool", t)
			case isNumber(t):
				stats[i].add("number", t)
			default:
				stats[i].add("string", f)
			}
		}
		out.Parsed = append(out.Parsed, vals)
	}
	for i := range stats {
		out.Columns = append(out.Columns, ColumnSpec{Name: "COL" + strconv.Itoa(i+1), SQLType: stats[i].sqlType()})
	}
	return out, nil
}

func isNumber(s string) bool {
	_, err := strconv.ParseFloat(s, 64)
	return err == nil && !strings.ContainsAny(s, "xXnN") // no hex, NaN, Inf
}

// reserved are SQL reserved words that discovery prefixes with COL_.
var reserved = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`ABS ALL ALLOCATE ALTER AND ANY ARE ARRAY AS ASENSITIVE ASYMMETRIC AT ATOMIC
AUTHORIZATION AVG BEGIN BETWEEN BIGINT BINARY BLOB BOOLEAN BOTH BY CALL CALLED CARDINALITY CASCADED CASE CAST
CEIL CEILING CHAR CHARACTER CHARACTER_LENGTH CHAR_LENGTH CHECK CLOB CLOSE COALESCE COLLATE COLLECT COLUMN COMMIT
CONDITION CONNECT CONSTRAINT CONVERT CORR CORRESPONDING COUNT COVAR_POP COVAR_SAMP CREATE CROSS CUBE CUME_DIST
CURRENT CURRENT_DATE CURRENT_ROW_TIMESTAMP CURRENT_TIME CURRENT_TIMESTAMP CURRENT_USER CURSOR CYCLE DATE DAY
DEALLOCATE DEC DECIMAL DECLARE DEFAULT DELETE DENSE_RANK DEREF DESCRIBE DETERMINISTIC DISCONNECT DISTINCT DOUBLE
DROP DYNAMIC EACH ELEMENT ELSE END END-EXEC ESCAPE EVERY EXCEPT EXEC EXECUTE EXISTS EXP EXTERNAL EXTRACT FALSE
FETCH FILTER FIRST_VALUE FLOAT FLOOR FOR FOREIGN FREE FROM FULL FUNCTION FUSION GET GLOBAL GRANT GROUP GROUPING
HAVING HOLD HOUR IDENTITY IMPORT IN INDICATOR INNER INOUT INSENSITIVE INSERT INT INTEGER INTERSECT INTERSECTION
INTERVAL INTO IS JOIN LANGUAGE LARGE LAST_VALUE LATERAL LEADING LEFT LIKE LN LOCAL LOCALTIME LOCALTIMESTAMP LOWER
MATCH MAX MEMBER MERGE METHOD MIN MINUTE MOD MODIFIES MODULE MONTH MULTISET NATIONAL NATURAL NCHAR NCLOB NEW NO
NONE NORMALIZE NOT NULL NULLIF NUMERIC OCTET_LENGTH OF OLD ON ONLY OPEN OR ORDER OUT OUTER OVER OVERLAPS OVERLAY
PARAMETER PARTITION PERCENTILE_CONT PERCENTILE_DISC PERCENT_RANK POSITION POWER PRECISION PREPARE PRIMARY PROCEDURE
RANGE RANK READS REAL RECURSIVE REF REFERENCES REFERENCING REGR_AVGX REGR_AVGY REGR_COUNT REGR_INTERCEPT
REGR_R2 REGR_SLOPE REGR_SXX REGR_SXY REGR_SYY RELEASE RESULT RETURN RETURNS REVOKE RIGHT ROLLBACK ROLLUP ROW
ROWS ROWTIME ROW_NUMBER SAVEPOINT SCOPE SCROLL SEARCH SECOND SELECT SENSITIVE SESSION_USER SET SIMILAR SMALLINT
SOME SPECIFIC SPECIFICTYPE SQL SQLEXCEPTION SQLSTATE SQLWARNING SQRT START STATIC STDDEV_POP STDDEV_SAMP STEP
STREAM SUBMULTISET SUBSTRING SUM SYMMETRIC SYSTEM SYSTEM_USER TABLE TABLESAMPLE THEN TIME TIMESTAMP
TIMEZONE_HOUR TIMEZONE_MINUTE TINYINT TO TRAILING TRANSLATE TRANSLATION TREAT TRIGGER TRIM TRUE UESCAPE UNION
UNIQUE UNKNOWN UNNEST UPDATE UPPER USER USING VALUE VALUES VARBINARY VARCHAR VARYING VAR_POP VAR_SAMP WHEN
WHENEVER WHERE WIDTH_BUCKET WINDOW WITH WITHIN WITHOUT YEAR`) {
		reserved[w] = true
	}
}

// ColumnName makes a discovered column name: the key itself when it is a
// valid, non-reserved identifier, else "COL_" + its letters, digits and
// underscores (COL_<i> when none remain).
func ColumnName(key string, i int) string {
	var b strings.Builder
	valid := key != "" && len(key) <= 100
	for j, r := range key {
		switch {
		case r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z'):
			b.WriteRune(r)
		case r >= '0' && r <= '9':
			if j == 0 {
				valid = false
			}
			b.WriteRune(r)
		default:
			valid = false
		}
	}
	clean := b.String()
	if valid && !reserved[strings.ToUpper(key)] {
		return key
	}
	if clean == "" {
		return "COL_" + strconv.Itoa(i)
	}
	if len(clean) > 96 {
		clean = clean[:96]
	}
	return "COL_" + clean
}
