// Package query reads and writes the AWS query protocol (form-encoded
// POST with Action and Version, answered in XML) for the small services
// that still speak it: STS and CloudWatch.
package query

import (
	"bytes"
	"compress/gzip"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// MaxInflated bounds a gzip-compressed body once inflated.
const MaxInflated = 8 << 20

// Body returns the request body, inflated when Content-Encoding is gzip
// (CloudWatch PutMetricData is compressed by the SDKs above 10 KB).
func Body(r *http.Request, body []byte) ([]byte, error) {
	if !strings.EqualFold(strings.TrimSpace(r.Header.Get("Content-Encoding")), "gzip") {
		return body, nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("gzip body: %w", err)
	}
	out, err := io.ReadAll(io.LimitReader(zr, MaxInflated+1))
	if err != nil {
		return nil, fmt.Errorf("gzip body: %w", err)
	}
	if len(out) > MaxInflated {
		return nil, fmt.Errorf("gzip body inflates past %d bytes", MaxInflated)
	}
	return out, nil
}

// IsForm reports whether r carries a query-protocol form.
func IsForm(r *http.Request) bool {
	return strings.HasPrefix(strings.ToLower(r.Header.Get("Content-Type")), "application/x-www-form-urlencoded")
}

// Params parses a form body.
func Params(body []byte) (url.Values, error) {
	return url.ParseQuery(string(body))
}

// Tree turns flattened query parameters ("A.member.2.B=x") into nested
// values: map[string]any for structures, []any for lists (members in
// index order), string for scalars.
func Tree(v url.Values) map[string]any {
	root := map[string]any{}
	for k, vals := range v {
		if len(vals) == 0 || k == "Action" || k == "Version" {
			continue
		}
		parts := strings.Split(k, ".")
		cur := root
		for i := 0; i < len(parts); i++ {
			p := parts[i]
			last := i == len(parts)-1
			if p == "member" || p == "entry" {
				continue
			}
			if _, err := strconv.Atoi(p); err == nil && i > 0 && (parts[i-1] == "member" || parts[i-1] == "entry") {
				p = "#" + p
			}
			if last {
				cur[p] = vals[0]
				break
			}
			next, ok := cur[p].(map[string]any)
			if !ok {
				next = map[string]any{}
				cur[p] = next
			}
			cur = next
		}
	}
	if m, ok := listify(root).(map[string]any); ok {
		return m
	}
	return map[string]any{} // only list members at the top: no structure
}

// listify turns maps whose keys are all "#N" into lists ordered by N.
func listify(v any) any {
	m, ok := v.(map[string]any)
	if !ok {
		return v
	}
	isList := len(m) > 0
	for k, x := range m {
		m[k] = listify(x)
		if !strings.HasPrefix(k, "#") {
			isList = false
		}
	}
	if !isList {
		return m
	}
	idx := make([]int, 0, len(m))
	for k := range m {
		n, _ := strconv.Atoi(k[1:])
		idx = append(idx, n)
	}
	sort.Ints(idx)
	out := make([]any, 0, len(idx))
	for _, n := range idx {
		out = append(out, m["#"+strconv.Itoa(n)])
	}
	return out
}

// Error is a query-protocol error.
type Error struct {
	Status  int
	Code    string
	Message string
	Sender  bool
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// WriteError writes an ErrorResponse in the service's XML namespace.
func WriteError(w http.ResponseWriter, xmlns, requestID string, e *Error) {
	typ := "Receiver"
	if e.Sender || e.Status < 500 {
		typ = "Sender"
	}
	var b bytes.Buffer
	b.WriteString(`<ErrorResponse xmlns="` + xmlns + `"><Error><Type>` + typ + `</Type><Code>`)
	xml.EscapeText(&b, []byte(e.Code))
	b.WriteString(`</Code><Message>`)
	xml.EscapeText(&b, []byte(e.Message))
	b.WriteString(`</Message></Error><RequestId>` + requestID + `</RequestId></ErrorResponse>`)
	h := w.Header()
	h.Set("Content-Type", "text/xml")
	h.Set("Content-Length", strconv.Itoa(b.Len()))
	h.Set("x-amzn-RequestId", requestID)
	w.WriteHeader(e.Status)
	w.Write(b.Bytes())
}

// WriteXML writes a success response body.
func WriteXML(w http.ResponseWriter, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "text/xml")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	w.Write(body)
}
