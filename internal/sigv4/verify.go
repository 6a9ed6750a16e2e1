package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/textproto"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/eddy-streams/eddy/internal/awserr"
)

// DefaultMaxSkew is how far a request's time may be from the server's clock.
const DefaultMaxSkew = 5 * time.Minute

// Payload hash values that stand for "the body is not signed".
const unsignedPayload = "UNSIGNED-PAYLOAD"

// Verifier checks signatures against known secrets. Its zero value knows no
// keys; it is safe for concurrent use once its fields are set.
type Verifier struct {
	Keys    map[string]string // access key id → secret access key
	Now     func() time.Time  // nil means time.Now
	MaxSkew time.Duration     // 0 means DefaultMaxSkew
	// Debug appends the canonical request and string to sign the server
	// computed to a signature-mismatch message, as some AWS services do.
	Debug bool

	mu    sync.RWMutex
	cache map[keyID][32]byte // derived signing keys
}

type keyID struct {
	secret, scope string
}

const maxCachedKeys = 1024

// Verify checks r's signature, whatever service the credential is scoped
// to. body is the whole request body (already read by the caller).
func (v *Verifier) Verify(r *http.Request, body []byte) (Credential, error) {
	return v.VerifyService(r, body, "")
}

// VerifyService is Verify requiring the credential scope to name service
// (e.g. "kinesis", "firehose").
func (v *Verifier) VerifyService(r *http.Request, body []byte, service string) (Credential, error) {
	c, err := parseFields(r)
	if err != nil {
		return Credential{}, err
	}
	if err := v.checkTime(&c); err != nil {
		return Credential{}, err
	}
	if !slices.ContainsFunc(c.SignedHeaders, func(h string) bool { return strings.EqualFold(h, "host") }) {
		return Credential{}, invalid(msgHostUnsigned)
	}
	if err := c.parseShape(); err != nil {
		return Credential{}, err
	}
	if err := c.checkScope(service); err != nil {
		return Credential{}, err
	}
	secret, ok := v.Keys[c.AccessKey]
	if !ok {
		return Credential{}, &awserr.Error{Type: awserr.TUnrecognizedClient, Status: 400, Message: MsgUnknownKey}
	}
	var want [32]byte
	if n, err := hex.Decode(want[:], []byte(c.Signature)); err != nil || n != 32 || len(c.Signature) != 64 {
		return Credential{}, invalid(MsgSignatureMismatch)
	}
	key := v.signingKey(secret, &c)

	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)

	// The payload hash: an explicit X-Amz-Content-Sha256 must match the
	// body; otherwise the body's hash (and, for presigned requests, the
	// UNSIGNED-PAYLOAD the SDKs' presigners commonly use).
	var bodyHash [64]byte
	sum := sha256.Sum256(body)
	hex.Encode(bodyHash[:], sum[:])
	var candidates [2][]byte
	ph := r.Header.Get("X-Amz-Content-Sha256")
	switch {
	case ph == "":
		candidates[0] = bodyHash[:]
		if c.Presigned {
			candidates[1] = []byte(unsignedPayload)
		}
	case len(ph) == 64 && isHex(ph):
		if !strings.EqualFold(ph, string(bodyHash[:])) {
			return Credential{}, invalid(MsgSignatureMismatch)
		}
		candidates[0] = []byte(ph)
	default: // UNSIGNED-PAYLOAD, STREAMING-..., as the client declared
		candidates[0] = []byte(ph)
	}
	// The Host as the client signed it: SDKs drop a default port (":80",
	// ":443") from the signed value that some HTTP clients still send.
	hosts := [2]string{r.Host}
	if r.Host == "" {
		hosts[0] = r.URL.Host
	}
	if h, ok := strings.CutSuffix(hosts[0], ":80"); ok {
		hosts[1] = h
	} else if h, ok := strings.CutSuffix(hosts[0], ":443"); ok {
		hosts[1] = h
	}
	var canon []byte
	for _, host := range hosts {
		if host == "" {
			continue
		}
		for _, payloadHash := range candidates {
			if payloadHash == nil {
				continue
			}
			canon = appendCanonicalRequest((*bp)[:0], r, &c, payloadHash, host)
			got := signature(key, &c, canon, bp)
			*bp = canon[:0]
			if subtle.ConstantTimeCompare(got[:], want[:]) == 1 {
				return c, nil
			}
		}
	}
	msg := MsgSignatureMismatch
	if v.Debug {
		canon = appendCanonicalRequest(nil, r, &c, candidates[0], hosts[0])
		h := sha256.Sum256(canon)
		msg += "\n\nThe Canonical String for this request should have been\n'" + string(canon) +
			"'\n\nThe String-to-Sign should have been\n'" + Algorithm + "\n" + c.amzDateText + "\n" + c.scope + "\n" + hex.EncodeToString(h[:]) + "'\n"
	}
	return Credential{}, invalid(msg)
}

func (v *Verifier) checkTime(c *Credential) error {
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	t := now().UTC()
	skew := v.MaxSkew
	if skew <= 0 {
		skew = DefaultMaxSkew
	}
	f := func(t time.Time) string { return t.Format(amzDateFormat) }
	if c.Presigned && c.Expires > 0 {
		if t.After(c.AmzDate.Add(c.Expires)) {
			return invalid(fmt.Sprintf("Signature expired: %s is now earlier than %s (%s - %d sec.)",
				c.amzDateText, f(t.Add(-c.Expires)), f(t), int64(c.Expires/time.Second)))
		}
	} else if c.AmzDate.Before(t.Add(-skew)) {
		return invalid(fmt.Sprintf("Signature expired: %s is now earlier than %s (%s - %s)",
			c.amzDateText, f(t.Add(-skew)), f(t), skewText(skew)))
	}
	if c.AmzDate.After(t.Add(skew)) {
		return invalid(fmt.Sprintf("Signature not yet current: %s is still later than %s (%s + %s)",
			c.amzDateText, f(t.Add(skew)), f(t), skewText(skew)))
	}
	return nil
}

func skewText(d time.Duration) string {
	if d%time.Minute == 0 {
		return strconv.FormatInt(int64(d/time.Minute), 10) + " min."
	}
	return strconv.FormatInt(int64(d/time.Second), 10) + " sec."
}

// signingKey derives HMAC(HMAC(HMAC(HMAC("AWS4"+secret, date), region),
// service), "aws4_request"), cached per secret and scope.
func (v *Verifier) signingKey(secret string, c *Credential) [32]byte {
	id := keyID{secret: secret, scope: c.scope}
	v.mu.RLock()
	k, ok := v.cache[id]
	v.mu.RUnlock()
	if ok {
		return k
	}
	h := hmacSum([]byte("AWS4"+secret), c.Date)
	h = hmacSum(h, c.Region)
	h = hmacSum(h, c.Service)
	h = hmacSum(h, c.terminator)
	copy(k[:], h)
	v.mu.Lock()
	if v.cache == nil || len(v.cache) >= maxCachedKeys {
		v.cache = make(map[keyID][32]byte)
	}
	v.cache[id] = k
	v.mu.Unlock()
	return k
}

func hmacSum(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// signature is HMAC-SHA256(key, string to sign) computed with two
// sha256.Sum256 calls over a scratch buffer, so it allocates nothing.
func signature(key [32]byte, c *Credential, canon []byte, scratch *[]byte) [32]byte {
	ch := sha256.Sum256(canon)
	// inner = sha256((key ^ ipad) || string to sign)
	b := (*scratch)[:0]
	var pad [64]byte
	copy(pad[:], key[:])
	for i := range pad {
		pad[i] ^= 0x36
	}
	b = append(b, pad[:]...)
	b = append(b, Algorithm...)
	b = append(b, '\n')
	b = append(b, c.amzDateText...)
	b = append(b, '\n')
	b = append(b, c.scope...)
	b = append(b, '\n')
	b = hex.AppendEncode(b, ch[:])
	inner := sha256.Sum256(b)
	// outer = sha256((key ^ opad) || inner)
	b = b[:0]
	for i := range pad {
		pad[i] ^= 0x36 ^ 0x5c
	}
	b = append(b, pad[:]...)
	b = append(b, inner[:]...)
	out := sha256.Sum256(b)
	*scratch = b[:0]
	return out
}

// appendCanonicalRequest writes the SigV4 canonical request for r.
func appendCanonicalRequest(b []byte, r *http.Request, c *Credential, payloadHash []byte, host string) []byte {
	b = append(b, r.Method...)
	b = append(b, '\n')
	path := r.URL.EscapedPath()
	if r.URL.Opaque != "" {
		path = opaquePath(r.URL.Opaque)
	}
	if path == "" {
		path = "/"
	}
	b = appendEscaped(b, path, true)
	b = append(b, '\n')
	b = appendCanonicalQuery(b, r.URL.RawQuery, c.Presigned)
	b = append(b, '\n')
	for _, h := range c.SignedHeaders {
		b = append(b, h...)
		b = append(b, ':')
		if strings.EqualFold(h, "host") {
			b = appendTrimmed(b, host)
		} else {
			b = appendHeaderValues(b, r, h)
		}
		b = append(b, '\n')
	}
	b = append(b, '\n')
	b = append(b, c.signedHeaders...)
	b = append(b, '\n')
	b = append(b, payloadHash...)
	return b
}

// opaquePath is the path of an opaque URL ("//host/path?query").
func opaquePath(o string) string {
	o, _, _ = strings.Cut(o, "?")
	o = strings.TrimPrefix(o, "//")
	if i := strings.IndexByte(o, '/'); i >= 0 {
		return o[i:]
	}
	return ""
}

func appendHeaderValues(b []byte, r *http.Request, name string) []byte {
	vals := r.Header[textproto.CanonicalMIMEHeaderKey(name)]
	if len(vals) == 0 {
		switch name {
		case "content-length":
			if r.ContentLength >= 0 {
				return strconv.AppendInt(b, r.ContentLength, 10)
			}
		case "transfer-encoding":
			vals = r.TransferEncoding
		}
	}
	for i, v := range vals {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendTrimmed(b, v)
	}
	return b
}

// appendTrimmed writes v without leading and trailing spaces and with runs of
// spaces collapsed to one.
func appendTrimmed(b []byte, v string) []byte {
	v = strings.Trim(v, " \t")
	space := false
	for i := 0; i < len(v); i++ {
		if v[i] == ' ' {
			if !space {
				b = append(b, ' ')
			}
			space = true
			continue
		}
		space = false
		b = append(b, v[i])
	}
	return b
}

const upperHex = "0123456789ABCDEF"

// appendEscaped URI-encodes s per SigV4: every byte outside A-Z a-z 0-9 - _ .
// ~ becomes %XX (and '/' too unless keepSlash).
func appendEscaped(b []byte, s string, keepSlash bool) []byte {
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if 'A' <= ch && ch <= 'Z' || 'a' <= ch && ch <= 'z' || '0' <= ch && ch <= '9' ||
			ch == '-' || ch == '_' || ch == '.' || ch == '~' || (keepSlash && ch == '/') {
			b = append(b, ch)
			continue
		}
		b = append(b, '%', upperHex[ch>>4], upperHex[ch&15])
	}
	return b
}

// appendCanonicalQuery writes the query's pairs URI-encoded and sorted by
// encoded name then value; a presigned request's X-Amz-Signature is left out.
func appendCanonicalQuery(b []byte, raw string, presigned bool) []byte {
	if raw == "" {
		return b
	}
	type pair struct{ k, v string }
	var pairs []pair
	for raw != "" {
		var part string
		part, raw, _ = strings.Cut(raw, "&")
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		if uk, err := url.QueryUnescape(k); err == nil {
			k = uk
		}
		if uv, err := url.QueryUnescape(v); err == nil {
			v = uv
		}
		if presigned && k == "X-Amz-Signature" {
			continue
		}
		pairs = append(pairs, pair{
			string(appendEscaped(nil, k, false)),
			string(appendEscaped(nil, v, false)),
		})
	}
	slices.SortFunc(pairs, func(a, b pair) int {
		if c := strings.Compare(a.k, b.k); c != 0 {
			return c
		}
		return strings.Compare(a.v, b.v)
	})
	for i, p := range pairs {
		if i > 0 {
			b = append(b, '&')
		}
		b = append(b, p.k...)
		b = append(b, '=')
		b = append(b, p.v...)
	}
	return b
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}
