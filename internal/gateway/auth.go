package gateway

import (
	"net/http"
	"strings"

	"github.com/eddy-streams/eddy/internal/sigv4"
)

// ScopeAuth is the `--auth none` authenticator: no signature is checked; the
// region comes from the SigV4 credential scope when present, the account from
// a 12-digit access key id (the convention kinesis-mock and LocalStack use),
// else the defaults.
func ScopeAuth(defaultAccount, defaultRegion string) Authenticator {
	return func(r *http.Request, _ []byte) (Identity, error) {
		id := Identity{Account: defaultAccount, Region: defaultRegion}
		cred := ""
		if a := r.Header.Get("Authorization"); a != "" {
			if i := strings.Index(a, "Credential="); i >= 0 {
				cred = a[i+len("Credential="):]
				if j := strings.IndexAny(cred, ", "); j >= 0 {
					cred = cred[:j]
				}
			}
		} else if q := r.URL.Query().Get("X-Amz-Credential"); q != "" {
			cred = q
		}
		if cred == "" {
			return id, nil
		}
		parts := strings.Split(cred, "/")
		if len(parts) >= 3 && parts[2] != "" {
			id.Region = parts[2]
		}
		id.AccessKey = parts[0]
		id.Account = sigv4.AccountFor(parts[0], defaultAccount)
		return id, nil
	}
}
