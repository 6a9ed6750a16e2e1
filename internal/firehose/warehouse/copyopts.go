package warehouse

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
)

// CopyOptions are the Redshift COPY options Eddy translates into a
// PostgreSQL `COPY … FROM STDIN`.
type CopyOptions struct {
	Format       string // "text" (Redshift's default: pipe-delimited), "csv" or "json"
	JSONIgnore   bool   // JSON 'auto ignorecase'
	Delimiter    string // one character; "" = the format's default
	Quote        string // CSV quote character
	Null         string // NULL AS
	HasNull      bool
	IgnoreHeader int
	GZIP         bool
	EmptyAsNull  bool
}

// ParseCopyOptions parses CopyCommand.CopyOptions. Options Eddy cannot
// honour are refused with an error that names them.
func ParseCopyOptions(s string) (CopyOptions, error) {
	toks, err := tokenize(s)
	if err != nil {
		return CopyOptions{}, err
	}
	o := CopyOptions{Format: "text"}
	str := func(i int, what string) (string, int, error) {
		if i < len(toks) && strings.EqualFold(toks[i], "AS") {
			i++
		}
		if i >= len(toks) || !strings.HasPrefix(toks[i], "'") {
			return "", i, fmt.Errorf("COPY option %s needs a quoted value", what)
		}
		return toks[i][1 : len(toks[i])-1], i + 1, nil
	}
	for i := 0; i < len(toks); {
		kw := strings.ToUpper(toks[i])
		i++
		switch kw {
		case "JSON", "FORMAT":
			if kw == "FORMAT" {
				if i < len(toks) && strings.EqualFold(toks[i], "AS") {
					i++
				}
				if i >= len(toks) {
					return o, fmt.Errorf("COPY option FORMAT needs a format")
				}
				kw = strings.ToUpper(toks[i])
				i++
				if kw == "CSV" {
					o.Format = "csv"
					continue
				}
				if kw != "JSON" {
					return o, fmt.Errorf("COPY format %s is not supported by Eddy (JSON 'auto', CSV and delimited text are)", kw)
				}
			}
			v, ni, err := str(i, "JSON")
			if err != nil {
				return o, err
			}
			i = ni
			switch strings.ToLower(v) {
			case "auto":
			case "auto ignorecase":
				o.JSONIgnore = true
			default:
				return o, fmt.Errorf("COPY JSON '%s' is not supported by Eddy: only JSON 'auto' and 'auto ignorecase' (JSONPaths files are not read)", v)
			}
			o.Format = "json"
		case "CSV":
			o.Format = "csv"
		case "DELIMITER":
			v, ni, err := str(i, "DELIMITER")
			if err != nil {
				return o, err
			}
			if len(v) != 1 {
				return o, fmt.Errorf("COPY DELIMITER must be a single character, got %q", v)
			}
			o.Delimiter, i = v, ni
		case "QUOTE":
			v, ni, err := str(i, "QUOTE")
			if err != nil {
				return o, err
			}
			if len(v) != 1 {
				return o, fmt.Errorf("COPY QUOTE must be a single character, got %q", v)
			}
			o.Quote, i = v, ni
		case "NULL":
			v, ni, err := str(i, "NULL")
			if err != nil {
				return o, err
			}
			o.Null, o.HasNull, i = v, true, ni
		case "IGNOREHEADER":
			if i < len(toks) && strings.EqualFold(toks[i], "AS") {
				i++
			}
			if i >= len(toks) {
				return o, fmt.Errorf("COPY IGNOREHEADER needs a number")
			}
			n, err := strconv.Atoi(toks[i])
			if err != nil || n < 0 {
				return o, fmt.Errorf("COPY IGNOREHEADER needs a number, got %q", toks[i])
			}
			o.IgnoreHeader, i = n, i+1
		case "GZIP":
			o.GZIP = true
		case "EMPTYASNULL":
			o.EmptyAsNull = true
		case "TIMEFORMAT", "DATEFORMAT":
			v, ni, err := str(i, kw)
			if err != nil {
				return o, err
			}
			if !strings.EqualFold(v, "auto") {
				return o, fmt.Errorf("COPY %s '%s' is not supported by Eddy: only 'auto' (PostgreSQL's own input formats)", kw, v)
			}
			i = ni
		case "COMPUPDATE", "STATUPDATE":
			// Redshift statistics switches; nothing to do in PostgreSQL.
			if i < len(toks) {
				switch strings.ToUpper(toks[i]) {
				case "ON", "OFF", "TRUE", "FALSE", "PRESET":
					i++
				}
			}
		default:
			return o, fmt.Errorf("COPY option %s is not supported by Eddy; supported: JSON 'auto', CSV, DELIMITER, QUOTE, NULL AS, IGNOREHEADER, GZIP, EMPTYASNULL, TIMEFORMAT/DATEFORMAT 'auto', COMPUPDATE, STATUPDATE", kw)
		}
	}
	if o.Format == "json" && (o.Delimiter != "" || o.Quote != "") {
		return o, fmt.Errorf("COPY DELIMITER and QUOTE cannot be used with JSON")
	}
	if o.Quote != "" && o.Format != "csv" {
		return o, fmt.Errorf("COPY QUOTE needs CSV")
	}
	return o, nil
}

// tokenize splits on blanks and commas, keeping 'quoted strings' (with ”
// as an escaped quote) as one token including their quotes.
func tokenize(s string) ([]string, error) {
	var out []string
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case unicode.IsSpace(rune(c)) || c == ',' || c == ';':
			i++
		case c == '\'':
			j := i + 1
			var b strings.Builder
			for {
				if j >= len(s) {
					return nil, fmt.Errorf("COPY options: unterminated quoted string")
				}
				if s[j] == '\'' {
					if j+1 < len(s) && s[j+1] == '\'' {
						b.WriteByte('\'')
						j += 2
						continue
					}
					break
				}
				b.WriteByte(s[j])
				j++
			}
			out = append(out, "'"+b.String()+"'")
			i = j + 1
		default:
			j := i
			for j < len(s) && !unicode.IsSpace(rune(s[j])) && s[j] != ',' && s[j] != '\'' && s[j] != ';' {
				j++
			}
			out = append(out, s[i:j])
			i = j
		}
	}
	return out, nil
}
