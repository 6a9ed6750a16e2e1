package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestCORSOrigins(t *testing.T) {
	noEnv := func(string) string { return "" }
	c, err := Parse("server", []string{"--cors-origins", "http://a.example, https://b.example:8443/ ,"}, noEnv)
	if err != nil || !reflect.DeepEqual(c.CORSOriginList(), []string{"http://a.example", "https://b.example:8443"}) {
		t.Fatalf("flag: %v %q", err, c.CORSOriginList())
	}
	c, err = Parse("server", nil, func(k string) string {
		if k == "EDDY_CORS_ORIGINS" {
			return "*"
		}
		return ""
	})
	if err != nil || !reflect.DeepEqual(c.CORSOriginList(), []string{"*"}) {
		t.Fatalf("env: %v %q", err, c.CORSOriginList())
	}
	file := filepath.Join(t.TempDir(), "c.json")
	os.WriteFile(file, []byte(`{"cors-origins": "http://f.example"}`), 0o600)
	c, err = Parse("server", []string{"--config", file}, noEnv)
	if err != nil || c.CORSOrigins != "http://f.example" {
		t.Fatalf("file: %v %q", err, c.CORSOrigins)
	}
	if c, _ := Parse("server", nil, noEnv); len(c.CORSOriginList()) != 0 {
		t.Fatalf("default: %q", c.CORSOriginList())
	}
	if _, err := Parse("server", []string{"--cors-origins", "localhost:3000"}, noEnv); err == nil || !strings.Contains(err.Error(), "cors-origins") {
		t.Fatalf("an origin without a scheme: %v", err)
	}
}
