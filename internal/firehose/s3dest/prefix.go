// Package s3dest turns a Firehose buffer into an S3 object the way Amazon
// Data Firehose names and encodes it, and uploads it to any S3-compatible
// endpoint.
//
// Object keys are
//
//	<evaluated Prefix><DeliveryStreamName>-<VersionId>-<yyyy-MM-dd-HH-mm-ss>-<uuid><ext>
//
// where every time comes from the arrival time of the oldest record in the
// object (UTC, or the stream's CustomTimeZone). A Prefix without any
// `!{timestamp:…}` expression gets `yyyy/MM/dd/HH/` appended literally (no
// "/" inserted). Expressions are `!{timestamp:<Java DateTimeFormatter
// pattern>}`, `!{firehose:random-string}` (11 random characters, new on each
// use) and, in ErrorOutputPrefix only, `!{firehose:error-output-type}`.
//
// Bodies are the records concatenated as they arrived (optionally with "\n"
// after each, the AppendDelimiterToRecord processor), then compressed with
// one of GZIP (.gz), ZIP (.zip, one entry), Snappy (the snappy-java stream,
// .snappy) or HADOOP_SNAPPY (Hadoop block framing, .snappy).
package s3dest

import (
	"crypto/rand"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// MaxEvaluatedPrefix is the longest a prefix may be after evaluation.
const MaxEvaluatedPrefix = 512

// expr is one parsed piece of a prefix: literal text or an expression.
type expr struct {
	lit     string
	ns, val string // namespace and value of !{ns:val}
	layout  []javaTok
}

// Prefix is a parsed Prefix or ErrorOutputPrefix.
type Prefix struct {
	parts        []expr
	hasTimestamp bool
	hasErrType   bool
	hasExpr      bool
	queryKeys    []string // partitionKeyFromQuery keys, in order of use
	lambdaKeys   []string // partitionKeyFromLambda keys
}

// QueryKeys lists the `!{partitionKeyFromQuery:k}` keys the prefix uses.
func (p *Prefix) QueryKeys() []string { return p.queryKeys }

// LambdaKeys lists the `!{partitionKeyFromLambda:k}` keys the prefix uses.
func (p *Prefix) LambdaKeys() []string { return p.lambdaKeys }

// ParseOptions say which expressions a prefix may use.
type ParseOptions struct {
	// Partitioning allows `!{partitionKeyFromQuery:k}` and
	// `!{partitionKeyFromLambda:k}` (dynamic partitioning enabled).
	Partitioning bool
}

// HasExpressions reports whether the prefix uses any `!{…}` expression.
func (p *Prefix) HasExpressions() bool { return p.hasExpr }

// HasTimestamp reports whether the prefix has a `!{timestamp:…}` expression.
func (p *Prefix) HasTimestamp() bool { return p.hasTimestamp }

// HasErrorOutputType reports whether `!{firehose:error-output-type}` is used.
func (p *Prefix) HasErrorOutputType() bool { return p.hasErrType }

// ParsePrefix parses s; the caller checks where error-output-type may appear.
// Errors are phrased for InvalidArgumentException.
func ParsePrefix(s string) (*Prefix, error) { return ParsePrefixWith(s, ParseOptions{}) }

// ParsePrefixWith is ParsePrefix with options.
func ParsePrefixWith(s string, o ParseOptions) (*Prefix, error) {
	p := &Prefix{}
	rest := s
	for len(rest) > 0 {
		i := strings.Index(rest, "!{")
		if i < 0 {
			p.parts = append(p.parts, expr{lit: rest})
			break
		}
		if i > 0 {
			p.parts = append(p.parts, expr{lit: rest[:i]})
		}
		end := strings.IndexByte(rest[i:], '}')
		if end < 0 {
			return nil, fmt.Errorf("The expression starting at index %d is not closed with '}'. The sequence '!{' can only be used as the beginning of an expression.", len(s)-len(rest)+i)
		}
		body := rest[i+2 : i+end]
		rest = rest[i+end+1:]
		ns, val, ok := strings.Cut(body, ":")
		if !ok {
			return nil, fmt.Errorf("The expression '!{%s}' is not valid. Expressions must be of the form '!{namespace:value}'.", body)
		}
		e := expr{ns: ns, val: val}
		switch ns {
		case "timestamp":
			toks, err := parseJavaPattern(val)
			if err != nil {
				return nil, fmt.Errorf("The expression '!{%s}' is not valid: %v", body, err)
			}
			e.layout = toks
			p.hasTimestamp = true
		case "firehose":
			switch val {
			case "random-string":
			case "error-output-type":
				p.hasErrType = true
			default:
				return nil, fmt.Errorf("The expression '!{%s}' is not valid. The supported firehose expressions are 'random-string' and 'error-output-type'.", body)
			}
		case "partitionKeyFromQuery", "partitionKeyFromLambda":
			if !o.Partitioning {
				return nil, fmt.Errorf("The expression '!{%s}' requires dynamic partitioning, which is not enabled.", body)
			}
			if val == "" {
				return nil, fmt.Errorf("The expression '!{%s}' is not valid. The partition key name cannot be empty.", body)
			}
			if ns == "partitionKeyFromQuery" {
				p.queryKeys = append(p.queryKeys, val)
			} else {
				p.lambdaKeys = append(p.lambdaKeys, val)
			}
		default:
			return nil, fmt.Errorf("The expression '!{%s}' is not valid. The namespace '%s' is not supported.", body, ns)
		}
		p.hasExpr = true
		p.parts = append(p.parts, e)
	}
	return p, nil
}

// defaultTimePrefix is appended to a prefix without a timestamp expression.
var defaultTimePrefix = []javaTok{{kind: 'y', n: 4}, {lit: "/"}, {kind: 'M', n: 2}, {lit: "/"}, {kind: 'd', n: 2}, {lit: "/"}, {kind: 'H', n: 2}, {lit: "/"}}

// Eval evaluates the prefix at t (already in the stream's time zone).
// errType replaces `!{firehose:error-output-type}`. When the prefix has no
// timestamp expression, the default `yyyy/MM/dd/HH/` is appended.
func (p *Prefix) Eval(t time.Time, errType string) string {
	return p.EvalKeys(t, errType, nil, nil)
}

// RandomMarker stands for `!{firehose:random-string}` in EvalPartition's
// result; ResolveRandom replaces it. ("!{" cannot appear literally in a
// valid prefix.)
const RandomMarker = "!{firehose:random-string}"

// EvalPartition evaluates the prefix of one record for dynamic
// partitioning: like EvalKeys, but random strings stay as RandomMarker so
// records of the same partition evaluate to the same string.
func (p *Prefix) EvalPartition(t time.Time, query, lambda map[string]string) string {
	s := p.evalKeys(t, "", query, lambda, true)
	return s
}

// ResolveRandom replaces each RandomMarker with a fresh random string.
func ResolveRandom(s string) string {
	for strings.Contains(s, RandomMarker) {
		s = strings.Replace(s, RandomMarker, RandomString(), 1)
	}
	return s
}

// EvalKeys is Eval with the partition keys of a record: query holds the
// MetadataExtraction keys, lambda those a Lambda processor returned. A key
// missing from its map evaluates to "".
func (p *Prefix) EvalKeys(t time.Time, errType string, query, lambda map[string]string) string {
	return p.evalKeys(t, errType, query, lambda, false)
}

func (p *Prefix) evalKeys(t time.Time, errType string, query, lambda map[string]string, marker bool) string {
	var b strings.Builder
	for _, e := range p.parts {
		switch {
		case e.ns == "":
			b.WriteString(e.lit)
		case e.ns == "timestamp":
			formatJava(&b, e.layout, t)
		case e.val == "random-string" && e.ns == "firehose":
			if marker {
				b.WriteString(RandomMarker)
			} else {
				b.WriteString(RandomString())
			}
		case e.val == "error-output-type" && e.ns == "firehose":
			b.WriteString(errType)
		case e.ns == "partitionKeyFromQuery":
			b.WriteString(query[e.val])
		case e.ns == "partitionKeyFromLambda":
			b.WriteString(lambda[e.val])
		}
	}
	if !p.hasTimestamp && !marker {
		// Not with dynamic partitioning: AWS's partitioned keys carry no
		// default time prefix.
		formatJava(&b, defaultTimePrefix, t)
	}
	return b.String()
}

const randAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789"

// RandomString returns 11 random lowercase alphanumerics, as
// `!{firehose:random-string}` yields.
func RandomString() string {
	var buf [11]byte
	_, _ = rand.Read(buf[:])
	for i := range buf {
		buf[i] = randAlphabet[int(buf[i])%len(randAlphabet)]
	}
	return string(buf[:])
}

// javaTok is one token of a Java DateTimeFormatter pattern.
type javaTok struct {
	kind byte // pattern letter, or 0 for literal
	n    int  // repeat count
	lit  string
}

// parseJavaPattern parses the subset of java.time.format.DateTimeFormatter
// patterns Firehose users write: y u M d D H h m s S a E, quoted literals
// ('…', ” for a quote) and any non-letter as itself.
func parseJavaPattern(s string) ([]javaTok, error) {
	var toks []javaTok
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '\'':
			j := i + 1
			var lit strings.Builder
			for {
				if j >= len(s) {
					return nil, fmt.Errorf("unterminated quote in pattern %q", s)
				}
				if s[j] == '\'' {
					if j+1 < len(s) && s[j+1] == '\'' {
						lit.WriteByte('\'')
						j += 2
						continue
					}
					break
				}
				lit.WriteByte(s[j])
				j++
			}
			if j == i+1 { // '' outside a literal is a quote
				lit.WriteByte('\'')
			}
			toks = append(toks, javaTok{lit: lit.String()})
			i = j + 1
		case (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'):
			j := i
			for j < len(s) && s[j] == c {
				j++
			}
			if !strings.ContainsRune("yuMdDHhmsSaE", rune(c)) {
				return nil, fmt.Errorf("unknown pattern letter '%c'", c)
			}
			toks = append(toks, javaTok{kind: c, n: j - i})
			i = j
		case c == '[' || c == ']' || c == '{' || c == '}' || c == '#':
			return nil, fmt.Errorf("reserved pattern character '%c'", c)
		default:
			toks = append(toks, javaTok{lit: string(c)})
			i++
		}
	}
	return toks, nil
}

func pad(b *strings.Builder, v, n int) {
	s := strconv.Itoa(v)
	for i := len(s); i < n; i++ {
		b.WriteByte('0')
	}
	b.WriteString(s)
}

func formatJava(b *strings.Builder, toks []javaTok, t time.Time) {
	for _, tk := range toks {
		switch tk.kind {
		case 0:
			b.WriteString(tk.lit)
		case 'y', 'u':
			if tk.n == 2 {
				pad(b, t.Year()%100, 2)
			} else {
				pad(b, t.Year(), tk.n)
			}
		case 'M':
			switch {
			case tk.n >= 4:
				b.WriteString(t.Month().String())
			case tk.n == 3:
				b.WriteString(t.Month().String()[:3])
			default:
				pad(b, int(t.Month()), tk.n)
			}
		case 'd':
			pad(b, t.Day(), tk.n)
		case 'D':
			pad(b, t.YearDay(), tk.n)
		case 'H':
			pad(b, t.Hour(), tk.n)
		case 'h':
			h := t.Hour() % 12
			if h == 0 {
				h = 12
			}
			pad(b, h, tk.n)
		case 'm':
			pad(b, t.Minute(), tk.n)
		case 's':
			pad(b, t.Second(), tk.n)
		case 'S':
			frac := fmt.Sprintf("%09d", t.Nanosecond())
			n := min(tk.n, 9)
			b.WriteString(frac[:n])
		case 'a':
			if t.Hour() < 12 {
				b.WriteString("AM")
			} else {
				b.WriteString("PM")
			}
		case 'E':
			if tk.n >= 4 {
				b.WriteString(t.Weekday().String())
			} else {
				b.WriteString(t.Weekday().String()[:3])
			}
		}
	}
}

// ObjectKey is the full key of a delivered object: the evaluated prefix, then
// `<stream>-<version>-<yyyy-MM-dd-HH-mm-ss>-<uuid><ext>`.
func ObjectKey(prefix string, stream string, version string, t time.Time, uuid, ext string) string {
	var b strings.Builder
	b.Grow(len(prefix) + len(stream) + len(ext) + 64)
	b.WriteString(prefix)
	b.WriteString(stream)
	b.WriteByte('-')
	b.WriteString(version)
	b.WriteByte('-')
	pad(&b, t.Year(), 4)
	b.WriteByte('-')
	pad(&b, int(t.Month()), 2)
	b.WriteByte('-')
	pad(&b, t.Day(), 2)
	b.WriteByte('-')
	pad(&b, t.Hour(), 2)
	b.WriteByte('-')
	pad(&b, t.Minute(), 2)
	b.WriteByte('-')
	pad(&b, t.Second(), 2)
	b.WriteByte('-')
	b.WriteString(uuid)
	b.WriteString(ext)
	return b.String()
}

// NewUUID returns a random (version 4) UUID string.
func NewUUID() string {
	var u [16]byte
	_, _ = rand.Read(u[:])
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}
