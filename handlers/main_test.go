package handlers

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/labstack/echo/v4"
	"golang.org/x/crypto/bcrypt"

	"lightcc-dashboard/db"
	"lightcc-dashboard/lightcc"
	"lightcc-dashboard/lightcc/cover"
	"lightcc-dashboard/lightcc/sim"
	"lightcc-dashboard/views/i18n"
)

// testEnv is the console wired as in production: the real router and
// middleware, a real SQLite file, and the simulator over real HTTP.
type testEnv struct {
	t        *testing.T
	sim      *sim.Simulator
	clock    *sim.ManualClock
	db       *db.DB
	echo     *echo.Echo
	h        *Handlers
	logBuf   *syncBuffer
	sessions *db.SessionStore
	users    map[db.Role]db.User // one account per role: "admin", "member", "viewer"
	sw       *lightcc.Switch     // set by withSwitch
}

// switchMarker asks newEnv for a lightcc.Switch in front of the client.
type switchMarker struct{ Upstream }

// withSwitch puts a Switch in front of the client (env.sw).
func withSwitch(_ *sim.Options, d *Deps) { d.Upstream = &switchMarker{} }

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type envOption func(*sim.Options, *Deps)

// cachedMarker asks newEnv for the cache in front of the client.
type cachedMarker struct{ Upstream }

// withCache is the env option for the production arrangement.
func withCache(_ *sim.Options, d *Deps) { d.Upstream = &cachedMarker{} }

func newEnv(t *testing.T, opts ...envOption) *testEnv {
	t.Helper()
	shanghai, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	clock := sim.NewManualClock(time.Date(2026, 12, 4, 10, 0, 0, 0, shanghai))
	so := sim.Options{Clock: clock, Location: shanghai}
	deps := Deps{Location: shanghai, Demo: true, PageTimeout: 2 * time.Second}
	for _, o := range opts {
		o(&so, &deps)
	}
	s := sim.New(so)
	upstream := httptest.NewServer(s)
	t.Cleanup(upstream.Close)
	// The console always presents the demo key; a test that sets another
	// key on the simulator sees what a revoked key looks like.
	client, err := lightcc.New(upstream.URL, sim.DemoKey, lightcc.WithTimeout(time.Second), lightcc.WithLocation(shanghai))
	if err != nil {
		t.Fatal(err)
	}
	store, err := db.Open(context.Background(), filepath.Join(t.TempDir(), "test.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	catalog, err := i18n.NewCatalog()
	if err != nil {
		t.Fatal(err)
	}
	logBuf := &syncBuffer{}
	if deps.Upstream == nil {
		deps.Upstream = client
	}
	var sw *lightcc.Switch
	if _, ok := deps.Upstream.(*switchMarker); ok {
		// A switch in front of the client, so a test can pull the plug.
		sw = lightcc.NewSwitch(client)
		deps.Upstream = sw
	}
	if _, ok := deps.Upstream.(*cachedMarker); ok {
		// The production arrangement: the cache in front of the client.
		deps.Upstream = lightcc.NewCached(client, lightcc.TTLs{}, clock.Now)
	}
	sessions := store.NewSessionStore([]byte("0123456789abcdef0123456789abcdef"))
	sessions.UserIDKey = SessionUserKey
	sessions.Now = clock.Now
	deps.Sessions = sessions
	deps.DB, deps.AppMeta, deps.Catalog, deps.Now = store, store, catalog, clock.Now
	deps.Catalogue, deps.Launches = store, store
	deps.Users, deps.Owners, deps.Audit = store, store, store
	deps.PasswordCost = bcrypt.MinCost
	host := strings.TrimPrefix(upstream.URL, "http://")
	deps.Logger = slog.New(slog.NewTextHandler(logBuf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	deps.Covers = cover.New(store.Covers(), cover.Options{AllowedHosts: []string{host}, ImageBase: upstream.URL + "/img/", Now: clock.Now,
		Logger: deps.Logger})
	h := New(deps)
	e := echo.New()
	h.Register(e)
	env := &testEnv{t: t, sim: s, clock: clock, db: store, echo: e, h: h, logBuf: logBuf, sessions: sessions, sw: sw}
	env.users = map[db.Role]db.User{}
	for _, r := range []db.Role{db.RoleAdmin, db.RoleMember, db.RoleViewer} {
		env.users[r] = env.addUser(string(r), r)
	}
	return env
}

// testPassword is every test account's password.
const testPassword = "correct horse battery"

func (e *testEnv) addUser(name string, role db.Role) db.User {
	e.t.Helper()
	hash, err := bcrypt.GenerateFromPassword([]byte(testPassword), bcrypt.MinCost)
	if err != nil {
		e.t.Fatal(err)
	}
	u, err := e.db.CreateUser(context.Background(), name, string(hash), role, e.clock.Now())
	if err != nil {
		e.t.Fatal(err)
	}
	return u
}

// browser is a cookie-keeping client of the router, like a person's browser.
type browser struct {
	env     *testEnv
	cookies map[string]*http.Cookie
	csrf    string
}

// browser is a person signed in as the administrator.
func (e *testEnv) browser() *browser { return e.browserAs(db.RoleAdmin) }

// browserAs is a person signed in with the test account of role.
func (e *testEnv) browserAs(role db.Role) *browser {
	e.t.Helper()
	b := e.anon()
	if r := b.signIn(string(role), testPassword); r.Code != http.StatusSeeOther {
		e.t.Fatalf("sign in as %s: %d %s", role, r.Code, r.Body)
	}
	b.get("/images") // the page a person lands on carries the new CSRF token
	return b
}

// anon is a person who has not signed in.
func (e *testEnv) anon() *browser { return &browser{env: e, cookies: map[string]*http.Cookie{}} }

// signIn fills in the sign-in form the way a person does.
func (b *browser) signIn(name, password string) *response {
	b.env.t.Helper()
	b.get("/login")
	return b.do(http.MethodPost, "/login", url.Values{"_csrf": {b.csrf}, "username": {name}, "password": {password}, "next": {"/apps"}}, nil)
}

type response struct {
	*httptest.ResponseRecorder
	doc *goquery.Document
}

func (b *browser) do(method, target string, form url.Values, header http.Header) *response {
	b.env.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req := httptest.NewRequest(method, target, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range header {
		if k == "X-Test-Remote" {
			req.RemoteAddr = v[0]
			continue
		}
		req.Header[k] = v
	}
	for _, c := range b.cookies {
		req.AddCookie(c)
	}
	rec := httptest.NewRecorder()
	b.env.echo.ServeHTTP(rec, req)
	for _, c := range rec.Result().Cookies() {
		if c.MaxAge < 0 {
			delete(b.cookies, c.Name)
		} else {
			b.cookies[c.Name] = c
		}
	}
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(rec.Body.String()))
	if err != nil {
		b.env.t.Fatal(err)
	}
	if tok, ok := doc.Find(`meta[name="csrf-token"]`).Attr("content"); ok && tok != "" {
		b.csrf = tok
	}
	return &response{rec, doc}
}

func (b *browser) get(target string) *response { return b.do(http.MethodGet, target, nil, nil) }

func (b *browser) htmx(method, target string, form url.Values) *response {
	return b.do(method, target, form, http.Header{"Hx-Request": {"true"}, "X-Csrf-Token": {b.csrf}})
}

func (r *response) text(sel string) string { return strings.TrimSpace(r.doc.Find(sel).First().Text()) }

func (r *response) count(sel string) int { return r.doc.Find(sel).Length() }
