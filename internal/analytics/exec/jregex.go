package exec

import (
	"strings"
	"time"

	"github.com/dlclark/regexp2/v2"
)

// Java regular expressions (REGEX_LOG_PARSE, FAST_REGEX_LOG_PARSER,
// REGEX_REPLACE) run on regexp2, a backtracking engine with the .NET/Java
// feature set (backreferences, lookaround, possessive-like atomic groups).
// Each match is bounded by a timeout so a pathological pattern sends its
// row to error_stream instead of stalling the pump.

const regexTimeout = 200 * time.Millisecond

type jregex struct {
	re     *regexp2.Regexp
	groups int // capture groups, not counting the whole match
}

func compileJava(pat string) (*jregex, error) {
	re, err := regexp2.Compile(pat, regexp2.None)
	if err != nil {
		return nil, err
	}
	re.MatchTimeout = regexTimeout
	return &jregex{re: re, groups: len(re.GetGroupNumbers()) - 1}, nil
}

// submatches returns the groups of the first match (nil when none); a group
// that did not participate is NULL.
func (j *jregex) submatches(s string) ([]value, error) {
	m, err := j.re.FindStringMatch(s)
	if err != nil || m == nil {
		return nil, err
	}
	out := make([]value, j.groups)
	for k := 1; k <= j.groups; k++ {
		g := m.GroupByNumber(k)
		if g == nil || len(g.Captures) == 0 {
			out[k-1] = nullValue
			continue
		}
		out[k-1] = value{s: g.String()}
	}
	return out, nil
}

// expandJava substitutes $n and \x in a Java replacement string.
func expandJava(tmpl string, m regexp2.Match) string {
	var sb strings.Builder
	for i := 0; i < len(tmpl); i++ {
		switch {
		case tmpl[i] == '\\' && i+1 < len(tmpl):
			i++
			sb.WriteByte(tmpl[i])
		case tmpl[i] == '$' && i+1 < len(tmpl) && tmpl[i+1] >= '0' && tmpl[i+1] <= '9':
			j := i + 1
			for j < len(tmpl) && tmpl[j] >= '0' && tmpl[j] <= '9' {
				j++
			}
			n := 0
			for _, d := range tmpl[i+1 : j] {
				n = n*10 + int(d-'0')
			}
			if g := m.GroupByNumber(n); g != nil && len(g.Captures) > 0 {
				sb.WriteString(g.String())
			}
			i = j - 1
		default:
			sb.WriteByte(tmpl[i])
		}
	}
	return sb.String()
}

// replaceJava replaces the occurrence-th match (0: all) in s.
func (j *jregex) replace(s, tmpl string, occurrence int) (string, error) {
	n := 0
	return j.re.ReplaceFunc(s, func(m regexp2.Match) string {
		n++
		if occurrence != 0 && n != occurrence {
			return m.String()
		}
		return expandJava(tmpl, m)
	}, -1, -1)
}
