package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadConfig(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		args    []string
		demo    bool
		base    string
		errPart string
	}{
		{name: "nothing set is demo mode", demo: true},
		{name: "key alone uses the real API", env: map[string]string{"LIGHTCC_API_KEY": "k"}, base: "https://api.lightcc.cloud"},
		{name: "key and base", env: map[string]string{"LIGHTCC_API_KEY": "k", "LIGHTCC_BASE_URL": "http://127.0.0.1:9090"}, base: "http://127.0.0.1:9090"},
		{name: "flag overrides env", env: map[string]string{"LIGHTCC_API_KEY": "k", "LIGHTCC_BASE_URL": "http://a:1"}, args: []string{"-base-url", "http://b:2"}, base: "http://b:2"},
		{name: "base without key waits for a stored key", env: map[string]string{"LIGHTCC_BASE_URL": "http://127.0.0.1:9090"}, demo: true},
		{name: "admin password too short", env: map[string]string{"DASHBOARD_ADMIN_USER": "root", "DASHBOARD_ADMIN_PASSWORD": "short"}, errPart: "DASHBOARD_ADMIN_PASSWORD"},
		{name: "admin password without user", env: map[string]string{"DASHBOARD_ADMIN_PASSWORD": "long enough"}, errPart: "without DASHBOARD_ADMIN_USER"},
		{name: "bad base", env: map[string]string{"LIGHTCC_API_KEY": "k", "LIGHTCC_BASE_URL": "api.lightcc.cloud"}, errPart: "not an absolute http(s) URL"},
		{name: "bad tz", env: map[string]string{"LIGHTCC_TZ": "Mars/Olympus"}, errPart: "LIGHTCC_TZ"},
		{name: "bad addr", env: map[string]string{"DASHBOARD_ADDR": "8080"}, errPart: "DASHBOARD_ADDR"},
		{name: "bad template", env: map[string]string{"LIGHTCC_LINK_TEMPLATE": "{prefix}"}, errPart: "LIGHTCC_LINK_TEMPLATE"},
		{name: "bad timeout", env: map[string]string{"LIGHTCC_TIMEOUT": "soon"}, errPart: "LIGHTCC_TIMEOUT"},
		{name: "short secret", env: map[string]string{"DASHBOARD_SECRET": "short"}, errPart: "DASHBOARD_SECRET"},
		{name: "stray argument", args: []string{"serve"}, errPart: "unexpected argument"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			getenv := func(k string) string { return tt.env[k] }
			c, err := loadConfig(tt.args, getenv, io.Discard)
			if tt.errPart != "" {
				if err == nil || !strings.Contains(err.Error(), tt.errPart) {
					t.Fatalf("err = %v, want one mentioning %q", err, tt.errPart)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Demo != tt.demo || (tt.base != "" && c.BaseURL != tt.base) {
				t.Errorf("demo=%v base=%q", c.Demo, c.BaseURL)
			}
			if c.Location == nil || c.Location.String() != "Asia/Shanghai" || c.Addr != "127.0.0.1:8080" {
				t.Errorf("defaults: %+v", c)
			}
		})
	}
}

func TestSecretIsCreatedOnceAndKept(t *testing.T) {
	dir := t.TempDir()
	c := config{DBPath: filepath.Join(dir, "sub", "d.db")}
	s1, err := loadOrCreateSecret(c)
	if err != nil || len(s1) < 32 {
		t.Fatalf("secret %q, %v", s1, err)
	}
	s2, err := loadOrCreateSecret(c)
	if err != nil || s2 != s1 {
		t.Fatalf("second read %q, %v", s2, err)
	}
	fi, err := os.Stat(filepath.Join(dir, "sub", "dashboard.secret"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("secret file: %v %v", fi, err)
	}
	c.Secret = strings.Repeat("x", 32)
	if s, _ := loadOrCreateSecret(c); s != c.Secret {
		t.Error("DASHBOARD_SECRET did not win")
	}
}
