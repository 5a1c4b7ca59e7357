package main

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"lightcc-dashboard/lightcc/sim"
)

// client is a cookie-keeping HTTP client that signs in like a browser.
type client struct {
	t    *testing.T
	base string
	hc   *http.Client
	csrf string
}

var csrfMeta = regexp.MustCompile(`<meta name="csrf-token" content="([^"]+)"`)

func newClient(t *testing.T, base string) *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: t, base: base, hc: &http.Client{Jar: jar}}
}

func (c *client) get(path string) (int, string) {
	c.t.Helper()
	resp, err := c.hc.Get(c.base + path)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if m := csrfMeta.FindSubmatch(b); m != nil {
		c.csrf = string(m[1])
	}
	return resp.StatusCode, string(b)
}

func (c *client) post(path string, form url.Values) (int, string) {
	c.t.Helper()
	form.Set("_csrf", c.csrf)
	resp, err := c.hc.PostForm(c.base+path, form)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if m := csrfMeta.FindSubmatch(b); m != nil {
		c.csrf = string(m[1])
	}
	return resp.StatusCode, string(b)
}

func (c *client) signIn(name, password string) {
	c.t.Helper()
	c.get("/login")
	if code, body := c.post("/login", url.Values{"username": {name}, "password": {password}, "next": {"/apps"}}); code != http.StatusOK || !strings.Contains(body, `data-testid="signed-in-user"`) {
		c.t.Fatalf("sign in: %d", code)
	}
}

// TestKeyCustody: an administrator sets the key on the settings page; it is
// used at once, stored sealed, shown only by its last four characters, and
// never appears in a page, a log line or the database file.
func TestKeyCustody(t *testing.T) {
	const key = "sk-live-THE-TEAM-MONEY-7f3a"
	real := httptest.NewServer(sim.New(sim.Options{APIKey: key, Balance: ptr(1234.56)}))
	defer real.Close()
	dbPath := filepath.Join(t.TempDir(), "dashboard.db")
	base, logs, stop := startConsoleWith(t, dbPath, map[string]string{"LIGHTCC_BASE_URL": real.URL})

	c := newClient(t, base)
	c.signIn(adminName, adminPassword)
	if _, body := c.get("/admin/settings"); !strings.Contains(body, "演示模式") {
		t.Fatal("no key yet, but not in demo mode")
	}
	if code, body := c.post("/admin/settings/key", url.Values{"apiKey": {key}}); code != http.StatusOK || !strings.Contains(body, "尾号 7f3a") {
		t.Fatalf("set key: %d", code)
	}
	if _, body := c.post("/admin/settings/test", url.Values{}); !strings.Contains(body, "连接成功，当前余额 ¥1,234.56") {
		t.Error("the test connection did not reach the keyed server")
	}
	var pages []string
	for _, p := range []string{"/apps", "/images", "/images/6", "/admin/settings", "/admin/users", "/audit", "/apps/1899720917190184960", "/no-such-page", "/balance"} {
		_, body := c.get(p)
		pages = append(pages, body)
	}
	if strings.Contains(pages[0], "演示模式") || !strings.Contains(pages[0], "¥1,234.56") {
		t.Error("/apps still shows demo mode, not the keyed account")
	}
	for i, body := range pages {
		if strings.Contains(body, key) || strings.Contains(body, "THE-TEAM-MONEY") {
			t.Errorf("page %d shows the key", i)
		}
	}
	// A restart finds the key again, sealed in the database.
	stop()
	if strings.Contains(logs.String(), key) || strings.Contains(logs.String(), "THE-TEAM-MONEY") {
		t.Error("the key reached the log")
	}
	raw, err := os.ReadFile(dbPath)
	if err != nil {
		t.Fatal(err)
	}
	wal, _ := os.ReadFile(dbPath + "-wal")
	if strings.Contains(string(raw)+string(wal), "THE-TEAM-MONEY") {
		t.Error("the key is in the database file in clear")
	}
	base2, _, _ := startConsoleWith(t, dbPath, map[string]string{"LIGHTCC_BASE_URL": real.URL})
	c2 := newClient(t, base2)
	c2.signIn(adminName, adminPassword)
	if _, body := c2.get("/admin/settings"); !strings.Contains(body, "尾号 7f3a") || strings.Contains(body, key) {
		t.Error("after a restart the stored key is not in use")
	}
	// Removing it goes back to demo mode.
	if _, body := c2.post("/admin/settings/key", url.Values{"apiKey": {""}}); !strings.Contains(body, "演示模式") {
		t.Error("removing the key did not return to demo mode")
	}
	// LIGHTCC_API_KEY wins, and the page says so.
	base3, _, _ := startConsoleWith(t, filepath.Join(t.TempDir(), "other.db"), map[string]string{"LIGHTCC_BASE_URL": real.URL, "LIGHTCC_API_KEY": key})
	c3 := newClient(t, base3)
	c3.signIn(adminName, adminPassword)
	if _, body := c3.get("/admin/settings"); !strings.Contains(body, "LIGHTCC_API_KEY") || strings.Contains(body, key) || strings.Contains(body, `name="apiKey"`) {
		t.Error("the environment key does not win on the settings page")
	}
}

func ptr[T any](v T) *T { return &v }
