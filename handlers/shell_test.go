package handlers

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"lightcc-dashboard/db"
	"lightcc-dashboard/lightcc"
	"lightcc-dashboard/lightcc/sim"
	"lightcc-dashboard/views/components"
)

func TestAppsPageShowsUpstreamData(t *testing.T) {
	env := newEnv(t)
	r := env.browser().get("/apps")
	if r.Code != http.StatusOK {
		t.Fatalf("status %d: %s", r.Code, r.Body)
	}
	checks := map[string]string{
		`[data-testid="balance-amount"]`:  "¥99.99",
		`[data-testid="balance-voucher"]`: "¥216.22",
		`[data-testid="balance-points"]`:  "237,972",
		`[data-testid="demo-badge"]`:      "演示模式",
		`title`:                           "我的应用 · LightCC 控制台",
		`[data-app-id="1899720917190184960"] [data-testid="status"]`:     "运行中",
		`[data-app-id="1899720917190184960"] [data-testid="card-title"]`: "Stable Difussion WebUI 官方版",
	}
	for sel, want := range checks {
		if got := r.text(sel); got != want {
			t.Errorf("%s = %q, want %q", sel, got, want)
		}
	}
	if n := r.count(`[data-testid="app-card"]`); n != len(env.sim.Apps()) || n == 0 {
		t.Errorf("%d rows, simulator has %d apps", n, len(env.sim.Apps()))
	}
	if tok, _ := r.doc.Find(`meta[name="csrf-token"]`).Attr("content"); len(tok) < 40 {
		t.Errorf("csrf meta = %q", tok)
	}
	if hx, _ := r.doc.Find("body").Attr("hx-headers"); !strings.Contains(hx, "X-CSRF-Token") {
		t.Errorf("body hx-headers = %q", hx)
	}
	if poll, _ := r.doc.Find("#balance").Attr("hx-trigger"); poll != "every 30s" {
		t.Errorf("balance polling = %q", poll)
	}
	for _, h := range []string{"Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options", "Referrer-Policy"} {
		if r.Header().Get(h) == "" {
			t.Errorf("missing header %s", h)
		}
	}
	if csp := r.Header().Get("Content-Security-Policy"); strings.Contains(csp, "unsafe-inline") {
		t.Errorf("CSP allows inline: %s", csp)
	}
	if r.count("script:not([src])") != 0 || r.count("[style]") != 0 {
		t.Error("inline script or style in the page")
	}
	if strings.Contains(r.Body.String(), sim.DemoKey) {
		t.Error("the API key reached the page")
	}
}

func TestNoDemoBadgeWithARealKey(t *testing.T) {
	env := newEnv(t, func(_ *sim.Options, d *Deps) { d.Demo = false })
	r := env.browser().get("/apps")
	if r.count(`[data-testid="demo-badge"]`) != 0 || r.count(".demo-banner") != 0 {
		t.Error("demo badge shown outside demo mode")
	}
}

func TestEmptyAccount(t *testing.T) {
	env := newEnv(t, func(o *sim.Options, _ *Deps) { o.Empty = true })
	r := env.browser().get("/apps")
	if r.Code != http.StatusOK || r.count(`[data-testid="apps-empty"]`) != 1 || r.count(`[data-testid="app-card"]`) != 0 {
		t.Errorf("status %d, body %s", r.Code, r.Body)
	}
}

func TestFragmentOrFullPage(t *testing.T) {
	env := newEnv(t)
	b := env.browser()
	b.get("/apps")
	tests := []struct {
		name   string
		header http.Header
		full   bool
	}{
		{"plain", nil, true},
		{"htmx", http.Header{"Hx-Request": {"true"}}, false},
		{"boosted", http.Header{"Hx-Request": {"true"}, "Hx-Boosted": {"true"}}, true},
		{"history restore", http.Header{"Hx-Request": {"true"}, "Hx-History-Restore-Request": {"true"}}, true},
	}
	for _, tt := range tests {
		r := b.do(http.MethodGet, "/apps", nil, tt.header)
		full := strings.Contains(r.Body.String(), "<html")
		if full != tt.full || r.count(`[data-testid="apps-list"]`) != 1 {
			t.Errorf("%s: full page = %v, want %v", tt.name, full, tt.full)
		}
		if vary := strings.Join(r.Header().Values("Vary"), ","); !strings.Contains(vary, "HX-Request") {
			t.Errorf("%s: Vary = %q", tt.name, vary)
		}
	}
}

func TestLanguage(t *testing.T) {
	env := newEnv(t)
	b := env.browser()
	if got := b.get("/apps").text("h1"); got != "我的应用" {
		t.Errorf("default h1 = %q", got)
	}
	r := b.get("/apps?lang=en")
	if got := r.text("h1"); got != "My applications" {
		t.Errorf("?lang=en h1 = %q", got)
	}
	if lang, _ := r.doc.Find("html").Attr("lang"); lang != "en" {
		t.Errorf("html lang = %q", lang)
	}
	if href, _ := r.doc.Find("a.lang").Attr("href"); href != "/apps?lang=zh" {
		t.Errorf("switch href = %q", href)
	}
	// The choice sticks through the cookie.
	if got := b.get("/apps").text(`[data-app-id="1899720917190184960"] [data-testid="status"]`); got != "Running" {
		t.Errorf("after cookie, status = %q", got)
	}
	// A new visitor whose browser prefers English gets English.
	r = env.browser().do(http.MethodGet, "/apps", nil, http.Header{"Accept-Language": {"en-US,en;q=0.9"}})
	if got := r.text("h1"); got != "My applications" {
		t.Errorf("Accept-Language en h1 = %q", got)
	}
}

func TestCSRF(t *testing.T) {
	env := newEnv(t)
	// A probe route behind the same middleware, so the check is tested on
	// its own; the real POST routes are tested in their areas.
	env.echo.POST("/csrf-probe", func(c echo.Context) error { return c.String(http.StatusOK, "done") }, env.h.withSession, env.h.checkCSRF)
	b := env.browser()
	b.get("/apps")
	other := env.browser()
	other.get("/apps")
	tests := []struct {
		name   string
		header http.Header
		form   url.Values
		want   int
	}{
		{"no token", nil, url.Values{"x": {"1"}}, http.StatusForbidden},
		{"wrong header", http.Header{"X-Csrf-Token": {"nope"}}, nil, http.StatusForbidden},
		{"another session's token", http.Header{"X-Csrf-Token": {other.csrf}}, nil, http.StatusForbidden},
		{"header", http.Header{"X-Csrf-Token": {b.csrf}}, nil, http.StatusOK},
		{"form field", nil, url.Values{"_csrf": {b.csrf}}, http.StatusOK},
	}
	for _, tt := range tests {
		r := b.do(http.MethodPost, "/csrf-probe", tt.form, tt.header)
		if r.Code != tt.want {
			t.Errorf("%s: status %d, want %d", tt.name, r.Code, tt.want)
		}
	}
	// Without a session cookie at all, even a "valid-looking" token fails.
	anon := env.browser()
	if r := anon.do(http.MethodPost, "/csrf-probe", nil, http.Header{"X-Csrf-Token": {b.csrf}}); r.Code != http.StatusForbidden {
		t.Errorf("no session: status %d", r.Code)
	}
	// A refused htmx request gets a toast, not a page.
	r := b.do(http.MethodPost, "/csrf-probe", nil, http.Header{"Hx-Request": {"true"}})
	if r.Code != http.StatusForbidden || r.Header().Get("HX-Retarget") != "#toasts" || r.count(".toast-error") != 1 {
		t.Errorf("htmx refusal: %d %q %s", r.Code, r.Header().Get("HX-Retarget"), r.Body)
	}
}

func TestUpstreamFailures(t *testing.T) {
	tests := []struct {
		name       string
		ep         sim.Endpoint
		fault      sim.Fault
		status     int
		listNotice string
		balanceOK  bool
	}{
		{"list refused", sim.EpList, sim.Fault{Code: 500, Msg: "系统繁忙"}, http.StatusBadGateway, "LightCC 拒绝了操作：系统繁忙", true},
		{"list 503", sim.EpList, sim.Fault{HTTPStatus: 503}, http.StatusBadGateway, "暂时连不上 LightCC，请稍后再试。", true},
		{"list malformed", sim.EpList, sim.Fault{Malformed: true}, http.StatusBadGateway, "LightCC 返回了无法识别的内容，请稍后再试。", true},
		{"list stalls", sim.EpList, sim.Fault{Latency: 3 * time.Second}, http.StatusGatewayTimeout, "LightCC 响应超时，请稍后再试。", true},
		{"balance down", sim.EpBalance, sim.Fault{HTTPStatus: 500}, http.StatusOK, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newEnv(t)
			env.sim.SetFault(tt.ep, tt.fault)
			r := env.browser().get("/apps")
			if r.Code != tt.status {
				t.Errorf("status %d, want %d", r.Code, tt.status)
			}
			if got := r.text(`[data-testid="apps-error"]`); got != tt.listNotice {
				t.Errorf("notice %q, want %q", got, tt.listNotice)
			}
			if ok := r.count(`[data-testid="balance-amount"]`) == 1; ok != tt.balanceOK {
				t.Errorf("balance shown = %v", ok)
			}
			if !tt.balanceOK && r.text(".balance-error") == "" {
				t.Error("balance failure not said")
			}
		})
	}
	t.Run("wrong key", func(t *testing.T) {
		env := newEnv(t, func(o *sim.Options, _ *Deps) { o.APIKey = "another-key" })
		r := env.browser().get("/apps")
		if r.Code != http.StatusBadGateway || r.text(`[data-testid="apps-error"]`) != "LightCC 拒绝了 API 密钥，请管理员检查密钥设置。" {
			t.Errorf("%d %q", r.Code, r.text(`[data-testid="apps-error"]`))
		}
	})
}

func TestBalancePart(t *testing.T) {
	env := newEnv(t)
	b := env.browser()
	b.get("/apps")
	env.sim.SetBalance(1234.5)
	r := b.htmx(http.MethodGet, "/balance", nil)
	if r.Code != http.StatusOK || r.text(`[data-testid="balance-amount"]`) != "¥1,234.50" || strings.Contains(r.Body.String(), "<html") {
		t.Errorf("%d %s", r.Code, r.Body)
	}
	env.sim.SetFault(sim.EpBalance, sim.Fault{Malformed: true})
	r = b.htmx(http.MethodGet, "/balance", nil)
	if r.Code != http.StatusOK || r.text(".balance-error") != "余额暂时无法获取" || r.count(`#balance[hx-trigger="every 30s"]`) != 1 {
		t.Errorf("failed balance: %d %s", r.Code, r.Body)
	}
}

func TestErrorPages(t *testing.T) {
	env := newEnv(t)
	b := env.browser()
	r := b.get("/no-such-page?lang=en")
	if r.Code != http.StatusNotFound || r.text(`[data-testid="error-page"] [role="alert"]`) != "This page does not exist." {
		t.Errorf("404 page: %d %s", r.Code, r.Body)
	}
	// The error page loads the balance by itself instead of waiting on the upstream.
	if trig, _ := r.doc.Find("#balance").Attr("hx-trigger"); trig != "load, every 30s" {
		t.Errorf("error page balance trigger = %q", trig)
	}
	r = b.do(http.MethodGet, "/no-such-page", nil, http.Header{"Hx-Request": {"true"}})
	if r.Code != http.StatusNotFound || r.Header().Get("HX-Reswap") != "beforeend" || r.count(".toast-error") != 1 || strings.Contains(r.Body.String(), "<html") {
		t.Errorf("htmx 404: %d %s", r.Code, r.Body)
	}
	if r := b.get("/"); r.Code != http.StatusSeeOther || r.Header().Get("Location") != "/apps" {
		t.Errorf("/ = %d %s", r.Code, r.Header().Get("Location"))
	}
}

func TestHealthzAndAssets(t *testing.T) {
	env := newEnv(t)
	b := env.browser()
	if r := b.get("/healthz"); r.Code != http.StatusOK {
		t.Errorf("healthz %d", r.Code)
	}
	page := b.get("/apps")
	src, _ := page.doc.Find(`script[src*="htmx"]`).Attr("src")
	r := b.get(src)
	if r.Code != http.StatusOK || !strings.Contains(r.Header().Get("Cache-Control"), "immutable") || !strings.Contains(r.Body.String(), `version:"2.0.11"`) {
		t.Errorf("htmx asset %s: %d %q", src, r.Code, r.Header().Get("Cache-Control"))
	}
	css, _ := page.doc.Find(`link[rel="stylesheet"]`).Attr("href")
	if r := b.get(css); r.Code != http.StatusOK || !strings.HasPrefix(r.Header().Get("Content-Type"), "text/css") {
		t.Errorf("css %s: %d %s", css, r.Code, r.Header().Get("Content-Type"))
	}
	if r := b.get("/static/nope.js"); r.Code != http.StatusNotFound {
		t.Errorf("missing asset: %d", r.Code)
	}
	env.db.Close()
	if r := b.get("/healthz"); r.Code != http.StatusServiceUnavailable {
		t.Errorf("healthz with closed db: %d", r.Code)
	}
}

func TestLogsCarryNoSecrets(t *testing.T) {
	env := newEnv(t)
	b := env.browser()
	b.get("/apps")
	env.sim.SetFault(sim.EpList, sim.Fault{HTTPStatus: 502})
	b.get("/apps")
	env.anon().signIn("member", "a-wrong-Passw0rd")
	logs := env.logBuf.String()
	if strings.Contains(logs, sim.DemoKey) {
		t.Error("the API key reached the log")
	}
	if strings.Contains(logs, testPassword) || strings.Contains(logs, "a-wrong-Passw0rd") {
		t.Error("a password reached the log")
	}
	if !strings.Contains(logs, "application list unavailable") {
		t.Errorf("the failure was not logged: %s", logs)
	}
}

func TestRunway(t *testing.T) {
	env := newEnv(t)
	// Seeded: one running pay-as-you-go 4090 at ¥1.98/h (the daily package is
	// paid already); ¥99.99 + ¥216.22 in vouchers last 159.7 h.
	r := env.browser().get("/apps")
	funds, hourly := 31621.0, 198.0
	left := time.Duration(funds / hourly * float64(time.Hour))
	want := "按当前消耗约可用至 " + env.clock.Now().Add(left).In(env.h.Location).Format("2006-01-02 15:04")
	if got := r.text(`[data-testid="runway"]`); got != want || r.count(`.runway-low`) != 0 {
		t.Errorf("runway = %q, want %q", got, want)
	}
	empty := newEnv(t, func(o *sim.Options, _ *Deps) { o.Empty = true })
	if got := empty.browser().get("/apps").text(`[data-testid="runway"]`); got != "无运行中的应用" {
		t.Errorf("no running app: %q", got)
	}

	loc := env.h.Catalog.For("zh", env.h.Location)
	now := env.clock.Now()
	running := func(price lightcc.Money) lightcc.Application {
		return lightcc.Application{Status: lightcc.StatusRunning, BillingMode: lightcc.BillingPayAsYouGo, RentalPrice: price}
	}
	tests := []struct {
		name string
		b    lightcc.Balance
		apps []lightcc.Application
		low  bool
		text string
	}{
		{"an hour left", lightcc.Balance{Balance: 198}, []lightcc.Application{running(198)}, true, "按当前消耗约可用至 " + loc.When(now.Add(time.Hour), now)},
		{"just over two hours", lightcc.Balance{Balance: 300, Voucher: 100}, []lightcc.Application{running(198)}, false, ""},
		{"stopped apps cost nothing", lightcc.Balance{Balance: 1}, []lightcc.Application{{Status: lightcc.StatusStopped, RentalPrice: 500}}, false, "无运行中的应用"},
		{"packages are prepaid", lightcc.Balance{Balance: 1}, []lightcc.Application{{Status: lightcc.StatusRunning, BillingMode: lightcc.BillingDaily, RentalPrice: 5000}}, false, "无运行中的应用"},
		{"nothing left", lightcc.Balance{Balance: -50}, []lightcc.Application{running(198)}, true, "按当前消耗约可用至 " + loc.When(now, now)},
	}
	for _, tt := range tests {
		var p components.BalanceProps
		env.h.addRunway(&p, tt.b, tt.apps, loc)
		if p.RunwayLow != tt.low || (tt.text != "" && p.Runway != tt.text) {
			t.Errorf("%s: %q low=%v", tt.name, p.Runway, p.RunwayLow)
		}
	}
}

func TestWelcomeInDemoMode(t *testing.T) {
	env := newEnv(t)
	b := env.browser()
	r := b.get("/apps")
	if r.count(`[data-testid="welcome"] p`) != 3 {
		t.Fatalf("welcome: %d sentences", r.count(`[data-testid="welcome"] p`))
	}
	if r := b.htmx(http.MethodPost, "/welcome/dismiss", nil); r.Code != http.StatusOK || r.Body.Len() != 0 {
		t.Errorf("dismiss: %d", r.Code)
	}
	if b.get("/apps").count(`[data-testid="welcome"]`) != 0 {
		t.Error("the welcome came back after dismissal")
	}
	real := newEnv(t, func(_ *sim.Options, d *Deps) { d.Demo = false })
	if real.browser().get("/apps").count(`[data-testid="welcome"]`) != 0 {
		t.Error("a welcome outside demo mode")
	}
}

func TestErrorPagesSayWhatToDo(t *testing.T) {
	env := newEnv(t)
	b := env.browser()
	if got := b.get("/nope").text(`[data-testid="error-next"]`); !strings.Contains(got, "返回应用列表") {
		t.Errorf("404 next step = %q", got)
	}
	env.sim.SetFault(sim.EpDetails, sim.Fault{HTTPStatus: 500})
	r := b.get("/apps/" + sdApp)
	if got := r.text(`[data-testid="error-next"]`); !strings.Contains(got, "稍后重试") || r.count(`a[href="/apps/`+sdApp+`"]`) == 0 {
		t.Errorf("502 next step = %q, retry link %d", got, r.count(`a[href="/apps/`+sdApp+`"]`))
	}
	if got := env.browserAs(db.RoleViewer).get("/admin/users").text(`[data-testid="error-next"]`); !strings.Contains(got, "管理员") {
		t.Errorf("403 next step = %q", got)
	}
}

func TestWithTheCache(t *testing.T) {
	env := newEnv(t, withCache)
	b := env.browser()
	b.get("/apps")
	calls := env.sim.Calls(sim.EpList)
	b.get("/apps")
	b.get("/apps?state=")
	if n := env.sim.Calls(sim.EpList) - calls; n != 0 {
		t.Errorf("pages within 2 s made %d list calls", n)
	}
	// A person sees the result of what they just did, cache or not.
	r := b.htmx(http.MethodPost, "/apps/"+sdApp+"/stop", nil)
	if st := r.doc.Find(`[data-testid="app-card"]`).AttrOr("data-status", ""); st != "stopping" {
		t.Errorf("card after stop: %q", st)
	}
	if st := b.get("/apps").doc.Find(`[data-app-id="`+sdApp+`"]`).AttrOr("data-status", ""); st != "stopping" {
		t.Errorf("list after stop: %q", st)
	}
	// LightCC down: the last list, marked with its age, instead of nothing.
	env.clock.Advance(3 * time.Minute)
	env.sim.SetFault(sim.EpList, sim.Fault{HTTPStatus: 503})
	r = b.get("/apps")
	if r.Code != http.StatusOK || r.count(`[data-testid="app-card"]`) != 4 || !strings.Contains(r.text(`[data-testid="apps-stale"]`), "3 分钟前") {
		t.Errorf("stale: %d, %d cards, %q", r.Code, r.count(`[data-testid="app-card"]`), r.text(`[data-testid="apps-stale"]`))
	}
}

func TestMetrics(t *testing.T) {
	env := newEnv(t, func(_ *sim.Options, d *Deps) {
		d.Metrics = NewMetrics(func(context.Context) (int, error) { return 3, nil })
	})
	env.h.Metrics.ObserveUpstream("openApplication", 120*time.Millisecond, nil)
	env.h.Metrics.ObserveUpstream("openSelectBalance", time.Second, &lightcc.APIError{Code: 500, Msg: "x"})
	env.h.Metrics.ObserveRead("openApplication", "coalesced")
	admin := env.browser()
	admin.get("/apps")
	r := admin.get("/metrics")
	if r.Code != http.StatusOK {
		t.Fatalf("/metrics for an admin: %d", r.Code)
	}
	for _, want := range []string{
		`lightcc_upstream_requests_total{endpoint="openApplication",outcome="ok"} 1`,
		`lightcc_upstream_requests_total{endpoint="openSelectBalance",outcome="refused"} 1`,
		`dashboard_upstream_reads_total{endpoint="openApplication",how="coalesced"} 1`,
		`dashboard_http_request_duration_seconds_count{code="200",method="GET",route="/apps"}`,
		`dashboard_sessions_active 3`,
		`lightcc_upstream_request_duration_seconds_bucket{endpoint="openApplication",le="0.25"} 1`,
	} {
		if !strings.Contains(r.Body.String(), want) {
			t.Errorf("no %s", want)
		}
	}
	if r := env.browserAs(db.RoleMember).get("/metrics"); r.Code != http.StatusForbidden {
		t.Errorf("/metrics for a member: %d", r.Code)
	}
	if strings.Contains(r.Body.String(), sdApp) {
		t.Error("an application id became a label")
	}
}
