package handlers

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"lightcc-dashboard/db"
	"lightcc-dashboard/lightcc/sim"
)

func TestSignIn(t *testing.T) {
	env := newEnv(t)
	b := env.anon()
	r := b.get("/login")
	if r.Code != http.StatusOK || r.count(`[data-testid="balance-amount"]`) != 0 || r.count(`nav.nav`) != 0 {
		t.Fatalf("login page: %d", r.Code)
	}
	if env.sim.TotalCalls() != 0 {
		t.Errorf("an anonymous visit reached the upstream %d times", env.sim.TotalCalls())
	}
	before := b.cookies[sessionName].Value
	csrfBefore := b.csrf

	// Unknown user and wrong password: the same answer.
	for _, creds := range [][2]string{{"nobody", testPassword}, {"member", "wrong password"}} {
		r := b.signIn(creds[0], creds[1])
		if r.Code != http.StatusUnauthorized || r.text(`[data-testid="login-error"]`) != "用户名或密码不正确。" {
			t.Errorf("%s: %d %q", creds[0], r.Code, r.text(`[data-testid="login-error"]`))
		}
	}
	// Good: back to where they were going, with a new session id and token (no fixation).
	r = b.signIn("member", testPassword)
	if r.Code != http.StatusSeeOther || r.Header().Get("Location") != "/apps" {
		t.Fatalf("sign in: %d %q", r.Code, r.Header().Get("Location"))
	}
	if b.cookies[sessionName].Value == before {
		t.Error("the session id did not change at sign-in")
	}
	if r := b.get("/apps"); r.Code != http.StatusOK || r.text(`[data-testid="signed-in-user"]`) != "member" {
		t.Errorf("after sign-in: %d %q", r.Code, r.text(`[data-testid="signed-in-user"]`))
	}
	// Every page masks the token differently, so compare what they carry:
	// the token from before sign-in no longer passes.
	if r := b.do(http.MethodPost, "/logout", nil, http.Header{"Hx-Request": {"true"}, "X-Csrf-Token": {csrfBefore}}); r.Code != http.StatusForbidden {
		t.Errorf("the token from before sign-in still works: %d", r.Code)
	}
	// The pre-sign-in cookie is worthless.
	old := env.anon()
	old.cookies[sessionName] = &http.Cookie{Name: sessionName, Value: before}
	if r := old.get("/apps"); r.Code != http.StatusSeeOther {
		t.Errorf("old session cookie: %d", r.Code)
	}
	// A return path may not leave the site.
	for _, next := range []string{"//evil.example/x", "https://evil.example", `/\evil`} {
		x := env.anon()
		x.get("/login")
		r := x.do(http.MethodPost, "/login", url.Values{"_csrf": {x.csrf}, "username": {"viewer"}, "password": {testPassword}, "next": {next}}, nil)
		if r.Header().Get("Location") != "/apps" {
			t.Errorf("next %q → %q", next, r.Header().Get("Location"))
		}
	}
}

func TestSignInThrottled(t *testing.T) {
	env := newEnv(t)
	b := env.anon()
	for range maxFailuresPerUser {
		b.signIn("member", "wrong")
	}
	r := b.signIn("member", testPassword)
	if r.Code != http.StatusTooManyRequests || !strings.Contains(r.text(`[data-testid="login-error"]`), "尝试次数过多") {
		t.Fatalf("after 5 failures: %d %q", r.Code, r.text(`[data-testid="login-error"]`))
	}
	// Another account from the same address is not locked by one user's failures.
	if r := env.anon().signIn("viewer", testPassword); r.Code != http.StatusSeeOther {
		t.Errorf("other user: %d", r.Code)
	}
	env.clock.Advance(failureWindow + time.Second)
	if r := b.signIn("member", testPassword); r.Code != http.StatusSeeOther {
		t.Errorf("after the window: %d", r.Code)
	}
	// Per address: many names from one address (a fresh visitor each time).
	for i := range maxFailuresPerIP {
		if r := env.anon().signIn("guess"+strconv.Itoa(i), "x"); r.Code != http.StatusUnauthorized {
			t.Fatalf("guess %d: %d", i, r.Code)
		}
	}
	if r := env.anon().signIn("admin", testPassword); r.Code != http.StatusTooManyRequests {
		t.Errorf("address limit: %d", r.Code)
	}
}

func TestPagesNeedASession(t *testing.T) {
	env := newEnv(t)
	b := env.anon()
	r := b.get("/apps?state=1")
	if r.Code != http.StatusSeeOther || r.Header().Get("Location") != "/login?next=%2Fapps%3Fstate%3D1" {
		t.Errorf("full load: %d %q", r.Code, r.Header().Get("Location"))
	}
	b.get("/login")
	r = b.do(http.MethodPost, "/apps/"+sdApp+"/stop", nil, http.Header{"Hx-Request": {"true"}, "X-Csrf-Token": {b.csrf},
		"Hx-Current-Url": {"http://x.test/apps"}})
	if r.Code != http.StatusUnauthorized || r.Header().Get("HX-Redirect") != "/login?next=%2Fapps" {
		t.Errorf("htmx: %d %q", r.Code, r.Header().Get("HX-Redirect"))
	}
	for _, path := range []string{"/balance", "/images", "/covers/5", "/apps/" + sdApp, "/apps/" + sdApp + "/links/sd", "/audit"} {
		if r := b.get(path); r.Code != http.StatusSeeOther {
			t.Errorf("%s: %d", path, r.Code)
		}
	}
	if env.sim.TotalCalls() != 0 {
		t.Errorf("anonymous requests reached the upstream %d times", env.sim.TotalCalls())
	}
	if r := b.get("/healthz"); r.Code != http.StatusOK {
		t.Errorf("healthz: %d", r.Code)
	}
}

// A visitor is only given a stored session when a page carries a form
// token: redirects, probes and scanners leave no row in the database.
func TestOnlyPagesWithAFormStoreASession(t *testing.T) {
	env := newEnv(t)
	rows := func() int {
		n, err := env.sessions.Count(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	for _, path := range []string{"/", "/apps", "/images?q=x", "/no/such/page", "/balance"} {
		b := env.anon()
		if r := b.get(path); r.Code != http.StatusSeeOther || r.Header().Get("Set-Cookie") != "" {
			t.Errorf("%s: %d, cookie %q", path, r.Code, r.Header().Get("Set-Cookie"))
		}
	}
	if n := rows(); n != 0 {
		t.Fatalf("redirected visitors left %d session rows", n)
	}
	b := env.anon()
	if r := b.get("/login"); r.Code != http.StatusOK || b.csrf == "" {
		t.Fatalf("login page: %d", r.Code)
	}
	if n := rows(); n != 1 {
		t.Fatalf("the sign-in page stored %d sessions, want 1", n)
	}
	b.get("/login") // the same visitor again: the same session
	if r := b.signIn("member", testPassword); r.Code != http.StatusSeeOther {
		t.Fatalf("sign in: %d", r.Code)
	}
	if n := rows(); n != 1 {
		t.Errorf("after sign-in: %d sessions, want 1", n)
	}
}

func TestSessionsEnd(t *testing.T) {
	env := newEnv(t)
	// Idle expiry (12 h) and absolute expiry (7 days).
	b := env.browserAs(db.RoleViewer)
	env.clock.Advance(11 * time.Hour)
	if r := b.get("/apps"); r.Code != http.StatusOK {
		t.Fatalf("11 h idle: %d", r.Code)
	}
	env.clock.Advance(12*time.Hour + time.Minute)
	if r := b.get("/apps"); r.Code != http.StatusSeeOther {
		t.Errorf("12 h idle: %d", r.Code)
	}
	b = env.browserAs(db.RoleViewer)
	for range 8 {
		env.clock.Advance(23 * time.Hour)
		b.get("/balance")
		env.clock.Advance(time.Hour)
	}
	if r := b.get("/apps"); r.Code != http.StatusSeeOther {
		t.Errorf("after 8 busy days: %d", r.Code)
	}
	// Sign out deletes the session itself, not just the cookie.
	b = env.browserAs(db.RoleViewer)
	kept := *b.cookies[sessionName]
	r := b.do(http.MethodPost, "/logout", url.Values{"_csrf": {b.csrf}}, nil)
	if r.Code != http.StatusSeeOther || r.Header().Get("Location") != "/login" {
		t.Errorf("logout: %d", r.Code)
	}
	replay := env.anon()
	replay.cookies[sessionName] = &kept
	if r := replay.get("/apps"); r.Code != http.StatusSeeOther {
		t.Errorf("a signed-out session still works: %d", r.Code)
	}
	// Disabling a user or changing their password ends their sessions at once.
	admin := env.browser()
	member := env.browserAs(db.RoleMember)
	memberID := strconv.FormatInt(env.users[db.RoleMember].ID, 10)
	form := url.Values{"_csrf": {admin.csrf}, "role": {"member"}, "password": {"a brand new password"}, "maxGPUs": {"0"}, "dailyBudget": {""}}
	if r := admin.do(http.MethodPost, "/admin/users/"+memberID, form, nil); r.Code != http.StatusOK {
		t.Fatalf("password change: %d %s", r.Code, r.text(`[data-testid="users-message"]`))
	}
	if r := member.get("/apps"); r.Code != http.StatusSeeOther {
		t.Errorf("after a password change: %d", r.Code)
	}
	member = env.anon()
	if r := member.signIn("member", "a brand new password"); r.Code != http.StatusSeeOther {
		t.Fatalf("new password: %d", r.Code)
	}
	form.Set("disabled", "1")
	form.Set("password", "")
	admin.do(http.MethodPost, "/admin/users/"+memberID, form, nil)
	if r := member.get("/apps"); r.Code != http.StatusSeeOther {
		t.Errorf("after disabling: %d", r.Code)
	}
	if r := env.anon().signIn("member", "a brand new password"); r.Code != http.StatusUnauthorized {
		t.Errorf("a disabled account signed in: %d", r.Code)
	}
}

func TestSetup(t *testing.T) {
	env := newEnv(t)
	// A console with no account at all.
	if _, err := env.db.SQL().Exec(`DELETE FROM users`); err != nil {
		t.Fatal(err)
	}
	env.h.SetupCode = "let-me-in"
	b := env.anon()
	if r := b.get("/apps"); r.Code != http.StatusSeeOther || r.Header().Get("Location") != "/setup" {
		t.Fatalf("no account: %d %q", r.Code, r.Header().Get("Location"))
	}
	r := b.get("/setup")
	if r.count(`input[name="code"]`) != 1 {
		t.Error("a remote visitor is not asked for the setup code")
	}
	form := url.Values{"_csrf": {b.csrf}, "username": {"boss"}, "password": {"long enough pw"}, "confirm": {"long enough pw"}}
	if r := b.do(http.MethodPost, "/setup", form, nil); r.Code != http.StatusForbidden {
		t.Errorf("no code: %d", r.Code)
	}
	form.Set("code", "wrong")
	if r := b.do(http.MethodPost, "/setup", form, nil); r.Code != http.StatusForbidden {
		t.Errorf("wrong code: %d", r.Code)
	}
	form.Set("code", "let-me-in")
	if r := b.do(http.MethodPost, "/setup", form, nil); r.Code != http.StatusSeeOther {
		t.Fatalf("right code: %d %s", r.Code, r.Body)
	}
	if r := b.get("/apps"); r.Code != http.StatusOK || r.text(`[data-testid="signed-in-user"]`) != "boss" {
		t.Errorf("after setup: %d", r.Code)
	}
	if r := env.anon().get("/setup"); r.Code != http.StatusNotFound {
		t.Errorf("setup after the first account: %d", r.Code)
	}
	// From this machine no code is needed: the form asks for none, and
	// creating the administrator without one works.
	fresh := newEnv(t)
	if _, err := fresh.db.SQL().Exec(`DELETE FROM users`); err != nil {
		t.Fatal(err)
	}
	local := fresh.anon()
	fromHere := http.Header{"X-Test-Remote": {"127.0.0.1:40000"}}
	r = local.do(http.MethodGet, "/setup", nil, fromHere)
	if r.Code != http.StatusOK || r.count(`form[action="/setup"] input[name="password"]`) != 1 || r.count(`input[name="code"]`) != 0 {
		t.Fatalf("local setup page: %d, code field %d", r.Code, r.count(`input[name="code"]`))
	}
	form = url.Values{"_csrf": {local.csrf}, "username": {"local-boss"}, "password": {"long enough pw"}, "confirm": {"long enough pw"}}
	if r := local.do(http.MethodPost, "/setup", form, fromHere); r.Code != http.StatusSeeOther {
		t.Errorf("local setup without a code: %d", r.Code)
	}
	// Through a proxy the address is not trusted: the code is needed again.
	proxied := newEnv(t)
	if _, err := proxied.db.SQL().Exec(`DELETE FROM users`); err != nil {
		t.Fatal(err)
	}
	r = proxied.anon().do(http.MethodGet, "/setup", nil, http.Header{"X-Test-Remote": {"127.0.0.1:40000"}, "X-Forwarded-For": {"203.0.113.9"}})
	if r.count(`input[name="code"]`) != 1 {
		t.Error("a proxied request counted as local")
	}
}

// route is one state-changing or admin route of the table.
type route struct {
	method, path string
	form         url.Values
}

func TestRoutesByRole(t *testing.T) {
	env := newEnv(t)
	adminApp := sdApp // nobody owns it yet: an admin gives it to the admin account
	memberApp := env.sim.AddApp(sim.NewApp{Status: "1"})
	ctx := context.Background()
	if err := env.db.SetOwner(ctx, adminApp, env.users[db.RoleAdmin].ID, env.clock.Now()); err != nil {
		t.Fatal(err)
	}
	if err := env.db.SetOwner(ctx, memberApp, env.users[db.RoleMember].ID, env.clock.Now()); err != nil {
		t.Fatal(err)
	}
	memberID := strconv.FormatInt(env.users[db.RoleMember].ID, 10)
	routes := []struct {
		r                     route
		admin, member, viewer bool
	}{
		{route{"POST", "/apps/" + memberApp + "/note", url.Values{"note": {"x"}}}, true, true, false},
		{route{"POST", "/apps/" + adminApp + "/note", url.Values{"note": {"x"}}}, true, false, false},
		{route{"POST", "/apps/" + adminApp + "/stop", nil}, true, false, false},
		{route{"POST", "/apps/" + adminApp + "/start", nil}, true, false, false},
		{route{"POST", "/apps/" + adminApp + "/timed-stop", url.Values{"preset": {"2h"}}}, true, false, false},
		{route{"POST", "/apps/" + adminApp + "/destroy", url.Values{"confirm": {"nope"}}}, true, false, false},
		{route{"POST", "/apps/" + memberApp + "/stop", nil}, true, true, false},
		{route{"POST", "/apps", url.Values{"token": {"x"}, "imageId": {"6"}}}, true, true, false},
		{route{"POST", "/apps/" + memberApp + "/owner", url.Values{"userId": {memberID}}}, true, false, false},
		{route{"GET", "/admin/users", nil}, true, false, false},
		{route{"POST", "/admin/users", url.Values{"username": {"x"}}}, true, false, false},
		{route{"POST", "/admin/users/" + memberID, url.Values{"role": {"member"}}}, true, false, false},
		{route{"GET", "/admin/settings", nil}, true, false, false},
		{route{"POST", "/admin/settings/key", url.Values{"apiKey": {"x y"}}}, true, false, false},
		{route{"POST", "/admin/settings/test", nil}, true, false, false},
		{route{"GET", "/audit", nil}, true, false, false},
		{route{"GET", "/apps/" + adminApp + "/links/sd", nil}, true, true, true},
		{route{"GET", "/images/6", nil}, true, true, true},
	}
	for _, role := range []db.Role{db.RoleAdmin, db.RoleMember, db.RoleViewer} {
		for _, rt := range routes {
			allowed := map[db.Role]bool{db.RoleAdmin: rt.admin, db.RoleMember: rt.member, db.RoleViewer: rt.viewer}[role]
			b := env.browserAs(role)
			calls := env.sim.TotalCalls()
			form := url.Values{}
			for k, v := range rt.r.form {
				form[k] = v
			}
			r := b.do(rt.r.method, rt.r.path, form, http.Header{"Hx-Request": {"true"}, "X-Csrf-Token": {b.csrf}})
			name := string(role) + " " + rt.r.method + " " + rt.r.path
			if forbidden := r.Code == http.StatusForbidden; forbidden == allowed {
				t.Errorf("%s: %d, allowed = %v", name, r.Code, allowed)
			}
			if !allowed && env.sim.TotalCalls() != calls {
				t.Errorf("%s: a forbidden request sent %d calls upstream", name, env.sim.TotalCalls()-calls)
			}
		}
	}
}

func TestOwnershipAndBudget(t *testing.T) {
	env := newEnv(t)
	member := env.browserAs(db.RoleMember)
	// A member launches: the application is theirs, the card says so, 我的 shows it.
	r := member.htmx(http.MethodPost, "/apps", launchForm(pickerToken(t, member, "6"), map[string]string{"autoStop": "0"}))
	id := strings.TrimPrefix(r.Header().Get("HX-Redirect"), "/apps?new=")
	if id == "" {
		t.Fatalf("launch: %d %s", r.Code, r.Body)
	}
	r = member.get("/apps?mine=1")
	if r.count(`[data-testid="app-card"]`) != 1 || r.text(`[data-app-id="`+id+`"] [data-testid="owner"]`) != "所有者：member" {
		t.Errorf("mine: %d cards, owner %q", r.count(`[data-testid="app-card"]`), r.text(`[data-testid="owner"]`))
	}
	if r := member.get("/apps"); r.text(`[data-app-id="`+sdApp+`"] [data-testid="owner"]`) != "所有者：无主" {
		t.Errorf("unowned card: %q", r.text(`[data-app-id="`+sdApp+`"] [data-testid="owner"]`))
	}
	// An admin assigns the unowned one to the member.
	admin := env.browser()
	admin.get("/apps/" + sdApp)
	r = admin.do(http.MethodPost, "/apps/"+sdApp+"/owner", url.Values{"_csrf": {admin.csrf}, "userId": {strconv.FormatInt(env.users[db.RoleMember].ID, 10)}}, nil)
	if r.Code != http.StatusSeeOther {
		t.Fatalf("assign: %d", r.Code)
	}
	if r := member.get("/apps?mine=1"); r.count(`[data-testid="app-card"]`) != 2 {
		t.Errorf("after assignment the member has %d", r.count(`[data-testid="app-card"]`))
	}
	// Budget: at most 2 GPUs at once. The member runs 2 (the new one and the SD one).
	if err := env.db.SetBudget(context.Background(), env.users[db.RoleMember].ID, 2, 0, env.clock.Now()); err != nil {
		t.Fatal(err)
	}
	member = env.browserAs(db.RoleMember)
	creates := env.sim.Calls(sim.EpCreate)
	r = member.htmx(http.MethodPost, "/apps", launchForm(pickerToken(t, member, "6"), nil))
	if r.Code != http.StatusUnprocessableEntity || !strings.Contains(r.text(`[data-testid="launch-error"]`), "超出预算") || env.sim.Calls(sim.EpCreate) != creates {
		t.Errorf("over the GPU budget: %d %q", r.Code, r.text(`[data-testid="launch-error"]`))
	}
	// ¥ per day: the running 4090 alone costs 1.98 × 24 = ¥47.52 a day.
	if err := env.db.SetBudget(context.Background(), env.users[db.RoleMember].ID, 0, 5000, env.clock.Now()); err != nil {
		t.Fatal(err)
	}
	member = env.browserAs(db.RoleMember)
	r = member.htmx(http.MethodPost, "/apps", launchForm(pickerToken(t, member, "6"), nil))
	if r.Code != http.StatusUnprocessableEntity || !strings.Contains(r.text(`[data-testid="launch-error"]`), "每日预算是 ¥50.00") || env.sim.Calls(sim.EpCreate) != creates {
		t.Errorf("over the daily budget: %d %q", r.Code, r.text(`[data-testid="launch-error"]`))
	}
	// Starting counts too: stop the 4090, then starting it again would exceed 1 GPU.
	env.db.SetBudget(context.Background(), env.users[db.RoleMember].ID, 1, 0, env.clock.Now())
	member = env.browserAs(db.RoleMember)
	member.htmx(http.MethodPost, "/apps/"+sdApp+"/stop", nil)
	env.clock.Advance(time.Minute)
	starts := env.sim.Calls(sim.EpRestart)
	r = member.htmx(http.MethodPost, "/apps/"+sdApp+"/start", nil)
	if r.Code != http.StatusUnprocessableEntity || !strings.Contains(r.text(`[data-testid="card-message"]`), "超出预算") || env.sim.Calls(sim.EpRestart) != starts {
		t.Errorf("start over budget: %d %q", r.Code, r.text(`[data-testid="card-message"]`))
	}
}

func TestAuditTrail(t *testing.T) {
	env := newEnv(t)
	env.anon().signIn("admin", "wrong")
	admin := env.browser()
	r := admin.htmx(http.MethodPost, "/apps", launchForm(pickerToken(t, admin, "6"), map[string]string{"autoStop": "0"}))
	id := strings.TrimPrefix(r.Header().Get("HX-Redirect"), "/apps?new=")
	env.clock.Advance(time.Minute)
	admin.htmx(http.MethodPost, "/apps/"+id+"/timed-stop", url.Values{"preset": {"1h"}})
	admin.htmx(http.MethodPost, "/apps/"+id+"/note", url.Values{"note": {"审计"}})
	admin.get("/apps/" + id + "/links/jupyter")
	admin.htmx(http.MethodPost, "/apps/"+id+"/stop", nil)
	env.clock.Advance(time.Minute)
	admin.htmx(http.MethodPost, "/apps/"+id+"/start", nil)
	admin.htmx(http.MethodPost, "/apps/"+id+"/destroy", url.Values{"confirm": {"wrong"}})
	env.clock.Advance(time.Minute)
	admin.htmx(http.MethodPost, "/apps/"+stoppedApp(t, env)+"/stop", nil) // LightCC refuses: stopped already
	admin.htmx(http.MethodPost, "/apps/"+id+"/destroy", url.Values{"confirm": {id}})
	admin.do(http.MethodPost, "/admin/users", url.Values{"_csrf": {admin.csrf}, "username": {"newbie"}, "password": {"12345678"}, "role": {"viewer"}}, nil)

	r = admin.get("/audit")
	got := map[string]int{}
	r.doc.Find(`[data-testid="audit-row"]`).Each(func(_ int, s *goquery.Selection) {
		got[s.AttrOr("data-action", "")+"/"+s.AttrOr("data-outcome", "")]++
	})
	for _, want := range []string{"login/refused", "login/ok", "create/ok", "timed_stop/ok", "note/ok", "link/ok", "stop/ok", "start/ok",
		"destroy/refused", "stop/refused", "destroy/ok", "user.create/ok"} {
		if got[want] == 0 {
			t.Errorf("no %s in the trail: %v", want, got)
		}
	}
	if !strings.Contains(r.Body.String(), "LightCC: ") {
		t.Error("the upstream's message of the refused stop is not in the trail")
	}
	// Filters and newest first.
	r = admin.get("/audit?action=destroy")
	if r.count(`[data-testid="audit-row"]`) != 2 || r.doc.Find(`[data-testid="audit-row"]`).First().AttrOr("data-outcome", "") != "ok" {
		t.Errorf("destroy filter: %d rows", r.count(`[data-testid="audit-row"]`))
	}
	if r := admin.get("/audit?app=" + id); r.count(`[data-testid="audit-row"]`) < 7 {
		t.Errorf("app filter: %d rows", r.count(`[data-testid="audit-row"]`))
	}
	if r := admin.get("/audit?user=nobody-at-all"); r.count(`[data-testid="audit-row"]`) != 0 {
		t.Error("user filter")
	}
	if r := admin.get("/audit?page=0"); r.Code != http.StatusBadRequest {
		t.Errorf("page 0: %d", r.Code)
	}
}

func TestCardsShowActionsOnlyToWhoMayUseThem(t *testing.T) {
	env := newEnv(t)
	mine := env.sim.AddApp(sim.NewApp{Status: "1"})
	if err := env.db.SetOwner(context.Background(), mine, env.users[db.RoleMember].ID, env.clock.Now()); err != nil {
		t.Fatal(err)
	}
	actions := `[data-testid="action-stop"], [data-testid="action-destroy"], [data-testid="action-note"]`
	tests := []struct {
		role            db.Role
		onMine, onOther bool
	}{
		{db.RoleAdmin, true, true},
		{db.RoleMember, true, false},
		{db.RoleViewer, false, false},
	}
	for _, tt := range tests {
		r := env.browserAs(tt.role).get("/apps")
		if got := r.doc.Find(`[data-app-id="`+mine+`"]`).Find(actions).Length() > 0; got != tt.onMine {
			t.Errorf("%s on the member's app: actions %v", tt.role, got)
		}
		if got := r.doc.Find(`[data-app-id="`+sdApp+`"]`).Find(actions).Length() > 0; got != tt.onOther {
			t.Errorf("%s on an unowned app: actions %v", tt.role, got)
		}
		// Launchers are for everyone, viewers included.
		if r.count(`[data-app-id="`+sdApp+`"] [data-testid="launch-sd"]`) != 1 {
			t.Errorf("%s: no launcher", tt.role)
		}
	}
}

func TestUnknownPagesAreNotFoundForEveryRole(t *testing.T) {
	env := newEnv(t)
	for _, r := range []db.Role{db.RoleAdmin, db.RoleMember, db.RoleViewer} {
		if code := env.browserAs(r).get("/no-such-page").Code; code != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", r, code)
		}
	}
	if r := env.anon().get("/no-such-page"); r.Code != http.StatusSeeOther {
		t.Errorf("signed out: %d, want the sign-in page", r.Code)
	}
}

func TestUnsafeRequestsAreRateLimitedPerUser(t *testing.T) {
	env := newEnv(t)
	b := env.browserAs(db.RoleMember)
	var limited int
	for range unsafeBurst + 10 {
		r := b.htmx(http.MethodPost, "/welcome/dismiss", nil)
		if r.Code == http.StatusTooManyRequests {
			limited++
			if !strings.Contains(r.text(".toast"), "操作太频繁") {
				t.Fatalf("429 without a message: %s", r.Body)
			}
		}
	}
	if limited == 0 {
		t.Fatal("no request was limited")
	}
	// Another person is not slowed down by this one, and reading goes on.
	if r := env.browserAs(db.RoleViewer).htmx(http.MethodPost, "/welcome/dismiss", nil); r.Code != http.StatusOK {
		t.Errorf("another user: %d", r.Code)
	}
	if r := b.get("/apps"); r.Code != http.StatusOK {
		t.Errorf("reading while limited: %d", r.Code)
	}
}

func TestCanChange(t *testing.T) {
	admin, member, viewer := &db.User{ID: 1, Role: db.RoleAdmin}, &db.User{ID: 2, Role: db.RoleMember}, &db.User{ID: 3, Role: db.RoleViewer}
	tests := []struct {
		name  string
		user  *db.User
		owner db.Owner
		want  bool
	}{
		{"admin, someone's", admin, db.Owner{UserID: 2}, true},
		{"admin, nobody's", admin, db.Owner{}, true},
		{"member, own", member, db.Owner{UserID: 2}, true},
		{"member, another's", member, db.Owner{UserID: 1}, false},
		{"member, nobody's", member, db.Owner{}, false},
		{"viewer, own", viewer, db.Owner{UserID: 3}, false},
		{"signed out", nil, db.Owner{}, false},
	}
	for _, tt := range tests {
		if got := canChange(tt.user, tt.owner); got != tt.want {
			t.Errorf("%s: %v", tt.name, got)
		}
	}
}

func TestActivityKeepsASessionAlive(t *testing.T) {
	env := newEnv(t)
	b := env.browserAs(db.RoleViewer)
	for hour := 2; hour <= 20; hour += 2 {
		env.clock.Advance(2 * time.Hour)
		if r := b.get("/apps"); r.Code != http.StatusOK {
			t.Fatalf("signed out after %d busy hours (idle expiry is 12 h of no use)", hour)
		}
	}
}

func TestAuditSaysFailuresInWords(t *testing.T) {
	env := newEnv(t)
	admin := env.browser()
	env.sim.SetFault(sim.EpStop, sim.Fault{HTTPStatus: 502})
	admin.htmx(http.MethodPost, "/apps/"+sdApp+"/stop", nil)
	r := admin.get("/audit?action=stop")
	if got := r.text(`[data-testid="audit-row"] td:last-child`); got != "暂时连不上 LightCC，请稍后再试。" {
		t.Errorf("audit detail = %q", got)
	}
}
