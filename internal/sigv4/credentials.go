package sigv4

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"
)

// LoadCredentials reads access key → secret pairs from path, which is either
// a JSON object {"AKID": "secret", ...} or an AWS shared-credentials INI file
// (`[profile]` sections with aws_access_key_id and aws_secret_access_key; other
// keys such as aws_session_token are ignored).
func LoadCredentials(path string) (map[string]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read credentials: %w", err)
	}
	keys, err := ParseCredentials(data)
	if err != nil {
		return nil, fmt.Errorf("credentials file %s: %w", path, err)
	}
	return keys, nil
}

// ParseCredentials is LoadCredentials on the file's contents.
func ParseCredentials(data []byte) (map[string]string, error) {
	var keys map[string]string
	var err error
	if t := bytes.TrimSpace(data); len(t) > 0 && t[0] == '{' {
		keys, err = parseJSONCredentials(t)
	} else {
		keys, err = parseINICredentials(data)
	}
	if err != nil {
		return nil, err
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("no credentials found")
	}
	return keys, nil
}

func parseJSONCredentials(data []byte) (map[string]string, error) {
	var m map[string]string
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("parse JSON credentials (want {\"ACCESS_KEY_ID\": \"SECRET\", ...}): %w", err)
	}
	for k, v := range m {
		if k == "" || v == "" {
			return nil, fmt.Errorf("empty access key id or secret for %q", k)
		}
	}
	return m, nil
}

func parseINICredentials(data []byte) (map[string]string, error) {
	type profile struct {
		name, id, secret string
		line             int
	}
	var profiles []*profile
	var cur *profile
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		if line[0] == '[' {
			if !strings.HasSuffix(line, "]") {
				return nil, fmt.Errorf("line %d: unterminated section header %q", n, line)
			}
			name := strings.TrimSpace(line[1 : len(line)-1])
			name = strings.TrimSpace(strings.TrimPrefix(name, "profile "))
			cur = &profile{name: name, line: n}
			profiles = append(profiles, cur)
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("line %d: want key = value, got %q", n, line)
		}
		k, v = strings.ToLower(strings.TrimSpace(k)), strings.TrimSpace(v)
		if k != "aws_access_key_id" && k != "aws_secret_access_key" {
			continue
		}
		if cur == nil {
			return nil, fmt.Errorf("line %d: %s outside a [profile] section", n, k)
		}
		if k == "aws_access_key_id" {
			cur.id = v
		} else {
			cur.secret = v
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read credentials: %w", err)
	}
	keys := make(map[string]string)
	for _, p := range profiles {
		if p.id == "" && p.secret == "" {
			continue // a profile with only other settings (region, role, ...)
		}
		if p.id == "" || p.secret == "" {
			return nil, fmt.Errorf("profile [%s] (line %d) needs both aws_access_key_id and aws_secret_access_key", p.name, p.line)
		}
		if old, dup := keys[p.id]; dup && old != p.secret {
			return nil, fmt.Errorf("access key id %s has two different secrets (profile [%s], line %d)", p.id, p.name, p.line)
		}
		keys[p.id] = p.secret
	}
	return keys, nil
}
