// Package sigv4 reads and verifies AWS Signature Version 4 on incoming
// requests, in the Authorization-header form and the presigned query form.
//
// Parse only reads the credential scope (access key, date, region, service):
// with `--auth none` the gateway uses it to pick the caller's account and
// region. Verifier.Verify also checks the request time against the clock,
// the scope, the access key and the signature, recomputing the canonical
// request the way the SDKs build it (method, path URI-escaped once more,
// sorted query, signed headers lower-cased with values trimmed and inner
// spaces collapsed, payload hash), then HMAC-SHA256 with a cached signing key
// and a constant-time compare.
//
// Errors are *awserr.Error with the types and messages AWS returns, checked in
// the order AWS checks them (mhart/kinesalite and mhart/dynalite recorded it
// against the real services): both forms present, no auth at all, missing
// pieces, date format, clock skew, Host not signed, algorithm, credential
// shape, credential scope, unknown access key, signature.
package sigv4

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/eddy-streams/eddy/internal/awserr"
)

// Algorithm is the only signing algorithm SigV4 defines.
const Algorithm = "AWS4-HMAC-SHA256"

const (
	amzDateFormat = "20060102T150405Z"
	terminator    = "aws4_request"
)

// Credential is what a request's signature says about its caller.
type Credential struct {
	AccessKey     string
	Date          string // yyyymmdd from the credential scope
	Region        string
	Service       string
	SignedHeaders []string  // lower-case names, in the order signed
	Signature     string    // hex, as sent
	AmzDate       time.Time // X-Amz-Date (or Date) of the request, UTC
	Presigned     bool
	Expires       time.Duration // X-Amz-Expires of a presigned request; 0 when absent
	SessionToken  string        // X-Amz-Security-Token, not checked

	algorithm     string
	credential    string // the Credential value as sent
	terminator    string
	scope         string // date/region/service/terminator as sent
	amzDateText   string // the request time as it goes into the string to sign
	signedHeaders string // the SignedHeaders value as sent
}

// Scope is the credential scope "date/region/service/aws4_request" as sent.
func (c *Credential) Scope() string { return c.scope }

// Messages AWS uses.
const (
	msgMissingToken = "Missing Authentication Token"
	msgBothForms    = "Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as HTTP header."
	// MsgSignatureMismatch is the InvalidSignatureException text for a wrong
	// signature.
	MsgSignatureMismatch = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
	// MsgUnknownKey is the UnrecognizedClientException text.
	MsgUnknownKey   = "The security token included in the request is invalid."
	msgHostUnsigned = "'Host' must be a 'SignedHeader' in the AWS Authorization."
)

func incomplete(msg string) *awserr.Error {
	return &awserr.Error{Type: awserr.TIncompleteSignature, Status: 400, Message: msg}
}

func invalid(msg string) *awserr.Error {
	return &awserr.Error{Type: awserr.TInvalidSignature, Status: 400, Message: msg}
}

// Parse reads the signature of r without verifying it: it reports missing or
// malformed pieces and returns the credential scope. It does not read the
// body.
func Parse(r *http.Request) (Credential, error) {
	c, err := parseFields(r)
	if err != nil {
		return Credential{}, err
	}
	if err := c.parseShape(); err != nil {
		return Credential{}, err
	}
	return c, nil
}

// hasQueryKey reports whether the raw query has key (with or without a value)
// without building a map.
func hasQueryKey(rawQuery, key string) bool {
	for rawQuery != "" {
		var part string
		part, rawQuery, _ = strings.Cut(rawQuery, "&")
		k, _, _ := strings.Cut(part, "=")
		if k == key {
			return true
		}
		if strings.IndexByte(k, '%') >= 0 || strings.IndexByte(k, '+') >= 0 {
			if uk, err := url.QueryUnescape(k); err == nil && uk == key {
				return true
			}
		}
	}
	return false
}

// parseFields finds the signature fields and checks they are all present and
// the date is well formed.
func parseFields(r *http.Request) (Credential, error) {
	auth := r.Header.Get("Authorization")
	authQuery := r.URL.RawQuery != "" && hasQueryKey(r.URL.RawQuery, "X-Amz-Algorithm")
	switch {
	case auth != "" && authQuery:
		return Credential{}, invalid(msgBothForms)
	case auth == "" && !authQuery:
		return Credential{}, &awserr.Error{Type: awserr.TMissingAuthenticationToken, Status: 400, Message: msgMissingToken}
	case auth != "":
		return parseHeader(r, auth)
	default:
		return parseQuery(r)
	}
}

func parseHeader(r *http.Request, auth string) (Credential, error) {
	var c Credential
	// "ALGO Credential=..., SignedHeaders=..., Signature=...": the first
	// token is the algorithm, the rest key=value split on commas and spaces.
	rest := strings.TrimLeft(auth, " ,")
	i := strings.IndexAny(rest, " ,")
	if i < 0 {
		c.algorithm, rest = rest, ""
	} else {
		c.algorithm, rest = rest[:i], rest[i:]
	}
	var haveSH bool
	for rest != "" {
		rest = strings.TrimLeft(rest, " ,")
		j := strings.IndexAny(rest, " ,")
		var tok string
		if j < 0 {
			tok, rest = rest, ""
		} else {
			tok, rest = rest[:j], rest[j:]
		}
		k, v, _ := strings.Cut(tok, "=")
		switch k {
		case "Credential":
			c.credential = v
		case "SignedHeaders":
			c.signedHeaders, haveSH = v, true
		case "Signature":
			c.Signature = v
		}
	}
	var msg strings.Builder
	if c.credential == "" {
		msg.WriteString("Authorization header requires 'Credential' parameter. ")
	}
	if c.Signature == "" {
		msg.WriteString("Authorization header requires 'Signature' parameter. ")
	}
	if !haveSH {
		msg.WriteString("Authorization header requires 'SignedHeaders' parameter. ")
	}
	amzDate := r.Header.Get("X-Amz-Date")
	date := r.Header.Get("Date")
	if amzDate == "" && date == "" {
		msg.WriteString("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. ")
	}
	if msg.Len() > 0 {
		msg.WriteString("Authorization=")
		msg.WriteString(auth)
		return Credential{}, incomplete(msg.String())
	}
	if err := c.setDate(amzDate, date); err != nil {
		return Credential{}, err
	}
	c.SessionToken = r.Header.Get("X-Amz-Security-Token")
	c.SignedHeaders = splitSignedHeaders(c.signedHeaders)
	return c, nil
}

func parseQuery(r *http.Request) (Credential, error) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return Credential{}, incomplete(fmt.Sprintf("Unable to parse the query string: %v", err))
	}
	var msg strings.Builder
	for _, p := range [...]string{"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature", "X-Amz-SignedHeaders", "X-Amz-Date"} {
		if q.Get(p) == "" {
			msg.WriteString("AWS query-string parameters must include '")
			msg.WriteString(p)
			msg.WriteString("'. ")
		}
	}
	if msg.Len() > 0 {
		msg.WriteString("Re-examine the query-string parameters.")
		return Credential{}, incomplete(msg.String())
	}
	c := Credential{
		Presigned:     true,
		algorithm:     q.Get("X-Amz-Algorithm"),
		credential:    q.Get("X-Amz-Credential"),
		Signature:     q.Get("X-Amz-Signature"),
		signedHeaders: q.Get("X-Amz-SignedHeaders"),
		SessionToken:  q.Get("X-Amz-Security-Token"),
	}
	if err := c.setDate(q.Get("X-Amz-Date"), ""); err != nil {
		return Credential{}, err
	}
	if e := q.Get("X-Amz-Expires"); e != "" {
		secs, err := strconv.ParseInt(e, 10, 64)
		if err != nil || secs < 0 {
			return Credential{}, incomplete(fmt.Sprintf("X-Amz-Expires should be a number, got '%s'.", e))
		}
		if secs > 604800 {
			return Credential{}, incomplete("X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be less than 604800 seconds.")
		}
		c.Expires = time.Duration(secs) * time.Second
	}
	c.SignedHeaders = splitSignedHeaders(c.signedHeaders)
	return c, nil
}

// setDate reads X-Amz-Date (ISO-8601 basic) or else the HTTP Date header.
func (c *Credential) setDate(amzDate, date string) error {
	if amzDate != "" {
		t, err := time.Parse(amzDateFormat, amzDate)
		if err != nil {
			return incomplete(fmt.Sprintf("Date must be in ISO-8601 'basic format'. Got '%s'. See http://en.wikipedia.org/wiki/ISO_8601", amzDate))
		}
		c.AmzDate, c.amzDateText = t.UTC(), amzDate
		return nil
	}
	t, err := http.ParseTime(date)
	if err != nil {
		return incomplete(fmt.Sprintf("Date must be in ISO-8601 'basic format'. Got '%s'. See http://en.wikipedia.org/wiki/ISO_8601", date))
	}
	c.AmzDate = t.UTC()
	c.amzDateText = c.AmzDate.Format(amzDateFormat)
	return nil
}

func splitSignedHeaders(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ";")
}

// parseShape checks the algorithm and splits the credential into its five
// elements.
func (c *Credential) parseShape() error {
	if c.algorithm != Algorithm {
		return incomplete(fmt.Sprintf("Unsupported AWS 'algorithm': '%s' (only %s for now). ", c.algorithm, Algorithm))
	}
	cred := strings.TrimRight(c.credential, "/")
	parts := strings.SplitN(cred, "/", 6)
	if len(parts) != 5 {
		return incomplete(fmt.Sprintf("Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '%s'", cred))
	}
	c.AccessKey, c.Date, c.Region, c.Service, c.terminator = parts[0], parts[1], parts[2], parts[3], parts[4]
	c.scope = cred[len(parts[0])+1:]
	return nil
}

// checkScope reports every way the scope is wrong, in one message as AWS
// does. service "" accepts any service.
func (c *Credential) checkScope(service string) error {
	var msg []string
	if !validRegion(c.Region) {
		msg = append(msg, fmt.Sprintf("Credential should be scoped to a valid region, not '%s'.", c.Region))
	}
	if (service != "" && c.Service != service) || c.Service == "" {
		want := service
		if want == "" {
			want = c.Service
		}
		msg = append(msg, fmt.Sprintf("Credential should be scoped to correct service: '%s'.", want))
	}
	if c.terminator != terminator {
		msg = append(msg, fmt.Sprintf("Credential should be scoped with a valid terminator: '%s', not '%s'.", terminator, c.terminator))
	}
	if day := c.amzDateText[:8]; c.Date != day {
		msg = append(msg, fmt.Sprintf("Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '%s' != '%s', from '%s'.", c.Date, day, c.amzDateText))
	}
	if len(msg) > 0 {
		return invalid(strings.Join(msg, " "))
	}
	return nil
}

// validRegion accepts any lower-case name of letters, digits and dashes: an
// emulator serves whatever region the client names.
func validRegion(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		b := s[i]
		if !('a' <= b && b <= 'z' || '0' <= b && b <= '9' || b == '-') {
			return false
		}
	}
	return true
}

// AccountFor is the account a request runs as: a 12-digit numeric access key
// id is itself the account (kinesis-mock's and LocalStack's convention), any
// other key gets defaultAccount.
func AccountFor(accessKey, defaultAccount string) string {
	if len(accessKey) != 12 {
		return defaultAccount
	}
	for i := 0; i < len(accessKey); i++ {
		if accessKey[i] < '0' || accessKey[i] > '9' {
			return defaultAccount
		}
	}
	return accessKey
}
