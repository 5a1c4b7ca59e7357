package handlers

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"lightcc-dashboard/db"
	"lightcc-dashboard/lightcc/sim"
)

const sdApp = "1899720917190184960" // the doc's sample application: running SD WebUI

// stoppedApp returns the id of a seeded application that is stopped.
func stoppedApp(t *testing.T, env *testEnv) string {
	t.Helper()
	for _, a := range env.sim.Apps() {
		if a.Status == "2" {
			return a.ID
		}
	}
	t.Fatal("no stopped application in the seed")
	return ""
}

func TestFilters(t *testing.T) {
	env := newEnv(t)
	b := env.browser()
	all := b.get("/apps").count(`[data-testid="app-card"]`)
	for _, state := range []string{"1", "2", "3"} {
		r := b.get("/apps?state=" + state)
		if r.Code != http.StatusOK {
			t.Fatalf("state %s: %d", state, r.Code)
		}
		n := r.count(`[data-testid="app-card"]`)
		if n == 0 || n >= all {
			t.Errorf("state %s shows %d of %d cards", state, n, all)
		}
		if cur := r.text(`[data-testid="filter-tab"][aria-current="page"]`); cur == "" || cur == "全部" {
			t.Errorf("state %s: current tab %q", state, cur)
		}
		if list, _ := r.doc.Find("#app-list").Attr("hx-get"); list != "/apps?state="+state {
			t.Errorf("state %s: the list refreshes from %q", state, list)
		}
	}
	// The running filter shows exactly the running ones.
	r := b.get("/apps?state=1")
	r.doc.Find(`[data-testid="app-card"]`).Each(func(_ int, s *goquery.Selection) {
		if st, _ := s.Attr("data-status"); st == "stopped" {
			t.Error("a stopped application under 运行中")
		}
	})
	calls := env.sim.TotalCalls()
	if r := b.get("/apps?state=9"); r.Code != http.StatusBadRequest || !strings.Contains(r.Body.String(), "筛选条件无效") {
		t.Errorf("bad filter: %d", r.Code)
	}
	if env.sim.TotalCalls() != calls {
		t.Error("a bad filter reached the upstream")
	}
	// A filter chosen with htmx gets only the list, not the page.
	r = b.do(http.MethodGet, "/apps?state=1", nil, http.Header{"Hx-Request": {"true"}, "Hx-Target": {"app-list"}})
	if r.count("#app-list") != 1 || r.count("h1") != 0 || strings.Contains(r.Body.String(), "<html") {
		t.Errorf("list fragment: %s", r.Body.String()[:min(200, r.Body.Len())])
	}
}

func TestButtonsByState(t *testing.T) {
	env := newEnv(t, func(o *sim.Options, _ *Deps) { o.Empty = true })
	ids := map[string]string{}
	for _, st := range []string{"0", "1", "2", "3", "4", "5", "7", "8"} {
		ids[st] = env.sim.AddApp(sim.NewApp{Status: st})
	}
	b := env.browser()
	r := b.get("/apps")
	tests := []struct {
		status                                 string
		start, stop, timed, launch, poll, note bool
	}{
		{"0", false, false, false, false, true, true},
		{"1", false, true, true, true, false, true},
		{"2", true, false, false, false, false, true},
		{"3", false, false, false, false, true, true},
		{"4", false, false, false, false, true, true},
		{"5", false, false, false, false, false, true},
		{"7", true, false, false, false, false, true},
		{"8", false, false, false, false, true, true},
	}
	for _, tt := range tests {
		card := `[data-app-id="` + ids[tt.status] + `"]`
		has := func(sel string) bool { return r.count(card+" "+sel) > 0 }
		got := []bool{has(`[data-testid="action-start"]`), has(`[data-testid="action-stop"]`), has(`[data-testid="action-timed-stop"]`),
			has(`[data-testid="launch-sd"]`), r.count(card+`[hx-trigger="every 3s"]`) == 1, has(`[data-testid="action-note"]`)}
		want := []bool{tt.start, tt.stop, tt.timed, tt.launch, tt.poll, tt.note}
		for i, name := range []string{"start", "stop", "timed stop", "launchers", "polling", "note"} {
			if got[i] != want[i] {
				t.Errorf("status %s: %s = %v, want %v", tt.status, name, got[i], want[i])
			}
		}
		// Destroy is always there, red, behind a dialog that names the application and carries confirm=<id>.
		if !has(`button.btn-danger[data-testid="action-destroy"]`) {
			t.Errorf("status %s: no destroy button", tt.status)
		}
		// The dialog comes on demand, names the application and carries confirm=<id>.
		if url, _ := r.doc.Find(card + ` [data-testid="action-destroy"]`).Attr("hx-get"); url != "/apps/"+ids[tt.status]+"/dialog/destroy" {
			t.Errorf("status %s: destroy button fetches %q", tt.status, url)
		}
		d := b.htmx(http.MethodGet, "/apps/"+ids[tt.status]+"/dialog/destroy", nil)
		if v, _ := d.doc.Find(`[data-testid="destroy-dialog"] input[name="confirm"]`).Attr("value"); v != ids[tt.status] {
			t.Errorf("status %s: destroy confirm = %q", tt.status, v)
		}
		if title := d.text(`[data-testid="destroy-dialog"] h3`); !strings.Contains(title, r.text(card+` [data-testid="card-title"]`)) {
			t.Errorf("status %s: destroy dialog %q does not name the application", tt.status, title)
		}
		if r.text(card+` [data-testid="status-hint"]`) == "" {
			t.Errorf("status %s: no explanation", tt.status)
		}
	}
	// Action buttons cannot be pressed twice while their request runs.
	r.doc.Find(`[data-testid="action-stop"], [data-testid="action-start"]`).Each(func(_ int, s *goquery.Selection) {
		if v, _ := s.Attr("hx-disabled-elt"); v != "this" {
			t.Errorf("button without hx-disabled-elt: %v", s.Nodes[0].Attr)
		}
	})
	// The primary launcher is named after the image.
	if got := r.text(`[data-app-id="` + ids["1"] + `"] [data-testid="launch-sd"]`); got != "打开 Stable Diffusion" {
		t.Errorf("launcher = %q", got)
	}
}

func TestStopThenStart(t *testing.T) {
	env := newEnv(t)
	b := env.browser()
	b.get("/apps")
	r := b.htmx(http.MethodPost, "/apps/"+sdApp+"/stop", nil)
	if r.Code != http.StatusOK {
		t.Fatalf("stop: %d %s", r.Code, r.Body)
	}
	if st, _ := r.doc.Find(`[data-testid="app-card"]`).Attr("data-status"); st != "stopping" {
		t.Errorf("card after stop: %q", st)
	}
	if r.count(`[hx-swap-oob] .toast`) != 1 || !strings.Contains(r.text(`[data-testid="card-message"]`), "已发送停止指令") {
		t.Errorf("no toast / message: %s", r.Body)
	}
	if env.sim.Calls(sim.EpStop) != 1 {
		t.Errorf("stop calls = %d", env.sim.Calls(sim.EpStop))
	}
	// The card polls until the application settles.
	env.clock.Advance(time.Minute)
	r = b.htmx(http.MethodGet, "/apps/"+sdApp+"/card", nil)
	if st, _ := r.doc.Find(`[data-testid="app-card"]`).Attr("data-status"); st != "stopped" || r.count(`[hx-trigger="every 3s"]`) != 0 {
		t.Errorf("settled card: %q %s", st, r.Body)
	}
	r = b.htmx(http.MethodPost, "/apps/"+sdApp+"/start", nil)
	if st, _ := r.doc.Find(`[data-testid="app-card"]`).Attr("data-status"); r.Code != http.StatusOK || st != "starting" {
		t.Errorf("start: %d %q", r.Code, st)
	}
}

func TestActionRefusals(t *testing.T) {
	env := newEnv(t)
	b := env.browser()
	b.get("/apps")
	stopped := stoppedApp(t, env)

	// LightCC says no: the card shows its reason, with 409.
	r := b.htmx(http.MethodPost, "/apps/"+stopped+"/stop", nil)
	if r.Code != http.StatusConflict || !strings.HasPrefix(r.text(`[data-testid="card-message"]`), "LightCC 拒绝了操作：") {
		t.Errorf("refused stop: %d %q", r.Code, r.text(`[data-testid="card-message"]`))
	}
	// The upstream is down: the card says so in plain words.
	env.sim.SetFault(sim.EpStop, sim.Fault{HTTPStatus: 502, Times: 1})
	r = b.htmx(http.MethodPost, "/apps/"+sdApp+"/stop", nil)
	if r.Code != http.StatusBadGateway || r.text(`[data-testid="card-message"]`) != "暂时连不上 LightCC，请稍后再试。" {
		t.Errorf("upstream down: %d %q", r.Code, r.text(`[data-testid="card-message"]`))
	}
	if st := r.doc.Find(`[data-testid="app-card"]`).AttrOr("data-status", ""); st != "running" {
		t.Errorf("card after a failed stop: %q", st)
	}
	// An id that cannot exist never reaches the upstream.
	calls := env.sim.TotalCalls()
	for _, path := range []string{"/apps/..%2Fetc/stop", "/apps/a%20b/start", "/apps/x.y/destroy"} {
		if r := b.htmx(http.MethodPost, path, url.Values{"confirm": {"x.y"}}); r.Code != http.StatusNotFound {
			t.Errorf("%s: %d", path, r.Code)
		}
	}
	if env.sim.TotalCalls() != calls {
		t.Error("a malformed id reached the upstream")
	}
	// Without a CSRF token, nothing happens and nothing is sent.
	calls = env.sim.Calls(sim.EpStop)
	if r := b.do(http.MethodPost, "/apps/"+sdApp+"/stop", nil, http.Header{"Hx-Request": {"true"}}); r.Code != http.StatusForbidden {
		t.Errorf("no token: %d", r.Code)
	}
	if env.sim.Calls(sim.EpStop) != calls {
		t.Error("a refused request reached the upstream")
	}
}

func TestTimedStop(t *testing.T) {
	env := newEnv(t)
	b := env.browser()
	b.get("/apps")
	now := env.clock.Now()

	refusals := []struct {
		name string
		form url.Values
		msg  string
	}{
		{"nothing", url.Values{}, "请选择一个预设时间，或填写自定义时间。"},
		{"malformed", url.Values{"stopTime": {"tomorrow at noon"}}, "时间格式不正确，请使用日期时间选择器。"},
		{"past", url.Values{"stopTime": {now.Add(-time.Hour).Format("2006-01-02T15:04")}}, "停止时间必须晚于现在。"},
		{"too far", url.Values{"stopTime": {now.AddDate(2, 0, 0).Format("2006-01-02T15:04")}}, "停止时间不能超过一年以后。"},
		{"unknown preset", url.Values{"preset": {"3d"}}, "时间格式不正确，请使用日期时间选择器。"},
	}
	for _, tt := range refusals {
		r := b.htmx(http.MethodPost, "/apps/"+sdApp+"/timed-stop", tt.form)
		if r.Code != http.StatusUnprocessableEntity || r.Body.String() != tt.msg {
			t.Errorf("%s: %d %q", tt.name, r.Code, r.Body.String())
		}
		if r.Header().Get("HX-Retarget") != "#stop-dialog-"+sdApp+"-error" {
			t.Errorf("%s: retarget %q", tt.name, r.Header().Get("HX-Retarget"))
		}
	}
	if n := env.sim.Calls(sim.EpTimedStop); n != 0 {
		t.Fatalf("refused times reached the upstream %d times", n)
	}

	// A preset: sent as yyyy-MM-dd HH:mm:ss, remembered, shown with a countdown.
	r := b.htmx(http.MethodPost, "/apps/"+sdApp+"/timed-stop", url.Values{"preset": {"2h"}, "stopTime": {""}})
	if r.Code != http.StatusOK || env.sim.Calls(sim.EpTimedStop) != 1 {
		t.Fatalf("preset: %d %s", r.Code, r.Body)
	}
	want := now.Add(2 * time.Hour).Format("2006-01-02 15:04")
	if got := r.text(`[data-testid="scheduled-stop"]`); !strings.Contains(got, want) || !strings.Contains(got, "还剩 2 小时 0 分") {
		t.Errorf("scheduled = %q, want %s", got, want)
	}
	meta, err := env.db.AppMetaOf(t.Context(), sdApp)
	if err != nil || !meta.ScheduledStop.Equal(now.Add(2*time.Hour).Truncate(time.Second)) {
		t.Errorf("stored schedule %v %v", meta.ScheduledStop, err)
	}
	// A custom time, read in the configured zone.
	custom := now.Add(90 * time.Minute).In(env.h.Location).Format("2006-01-02T15:04")
	r = b.htmx(http.MethodPost, "/apps/"+sdApp+"/timed-stop", url.Values{"stopTime": {custom}})
	if r.Code != http.StatusOK || !strings.Contains(r.text(`[data-testid="scheduled-stop"]`), strings.Replace(custom, "T", " ", 1)) {
		t.Errorf("custom: %d %q", r.Code, r.text(`[data-testid="scheduled-stop"]`))
	}
	// The simulator stops it at that time; the card no longer shows the schedule.
	env.clock.Advance(2 * time.Hour)
	r = b.get("/apps")
	card := `[data-app-id="` + sdApp + `"]`
	if st, _ := r.doc.Find(card).Attr("data-status"); st != "stopped" || r.count(card+` [data-testid="scheduled-stop"]`) != 0 {
		t.Errorf("after the time: %q, schedule shown %d", st, r.count(card+` [data-testid="scheduled-stop"]`))
	}
	// A manual stop forgets a schedule.
	env.clock.Advance(time.Minute)
	b.htmx(http.MethodPost, "/apps/"+sdApp+"/start", nil)
	env.clock.Advance(time.Minute)
	b.htmx(http.MethodPost, "/apps/"+sdApp+"/timed-stop", url.Values{"preset": {"4h"}})
	b.htmx(http.MethodPost, "/apps/"+sdApp+"/stop", nil)
	if meta, _ := env.db.AppMetaOf(t.Context(), sdApp); !meta.ScheduledStop.IsZero() {
		t.Error("a manual stop kept the schedule")
	}
}

func TestParseStopTime(t *testing.T) {
	zone, _ := time.LoadLocation("Asia/Shanghai")
	now := time.Date(2026, 12, 4, 10, 0, 30, 0, zone)
	late := time.Date(2026, 12, 4, 23, 58, 30, 0, zone)
	tests := []struct {
		preset, raw string
		now         time.Time
		want        time.Time
		bad         string
	}{
		{"1h", "", now, now.Add(time.Hour), ""},
		{"2h", "ignored", now, now.Add(2 * time.Hour), ""},
		{"4h", "", now, now.Add(4 * time.Hour), ""},
		{"tonight", "", now, time.Date(2026, 12, 4, 23, 59, 0, 0, zone), ""},
		{"tonight", "", late, time.Time{}, "timed.err.tonight_past"},
		{"", "2026-12-04T12:30", now, time.Date(2026, 12, 4, 12, 30, 0, 0, zone), ""},
		{"", "2026-12-04T12:30:15", now, time.Date(2026, 12, 4, 12, 30, 15, 0, zone), ""},
		{"", "2026-12-04 12:30:15", now, time.Date(2026, 12, 4, 12, 30, 15, 0, zone), ""},
		{"", " 2026-12-05 08:00 ", now, time.Date(2026, 12, 5, 8, 0, 0, 0, zone), ""},
		{"", "2026-12-04T10:01", now, time.Time{}, "timed.err.past"},
		{"", "2026-12-04T09:00", now, time.Time{}, "timed.err.past"},
		{"", "2027-12-05T10:00", now, time.Time{}, "timed.err.too_far"},
		{"", "", now, time.Time{}, "timed.err.missing"},
		{"", "2026-13-01T10:00", now, time.Time{}, "timed.err.format"},
		{"", "2026-12-04T25:00", now, time.Time{}, "timed.err.format"},
		{"", "12/05/2026 10:00", now, time.Time{}, "timed.err.format"},
		{"", "2026-12-04T12:30:00+08:00", now, time.Time{}, "timed.err.format"},
		{"8h", "", now, time.Time{}, "timed.err.format"},
	}
	for _, tt := range tests {
		got, bad := parseStopTime(tt.preset, tt.raw, tt.now, zone)
		if bad != tt.bad || !got.Equal(tt.want) {
			t.Errorf("parseStopTime(%q, %q) = %v %q, want %v %q", tt.preset, tt.raw, got, bad, tt.want, tt.bad)
		}
	}
}

func FuzzParseStopTime(f *testing.F) {
	zone, _ := time.LoadLocation("Asia/Shanghai")
	now := time.Date(2026, 12, 4, 10, 0, 0, 0, zone)
	for _, s := range []string{"2026-12-04T12:30", "2026-12-04 12:30:15", "", "x", "9999-99-99T99:99"} {
		f.Add("", s)
	}
	f.Add("tonight", "")
	f.Fuzz(func(t *testing.T, preset, raw string) {
		at, bad := parseStopTime(preset, raw, now, zone)
		if bad == "" && (at.Sub(now) < minStopAhead || at.Sub(now) > maxStopAhead) {
			t.Fatalf("accepted %v for (%q, %q)", at, preset, raw)
		}
		if bad != "" && !at.IsZero() {
			t.Fatalf("refused with a time: %v", at)
		}
	})
}

func TestDestroy(t *testing.T) {
	env := newEnv(t)
	b := env.browser()
	b.get("/apps")
	stopped := stoppedApp(t, env)
	if err := env.db.SetAppNote(t.Context(), stopped, "旧项目", env.clock.Now()); err != nil {
		t.Fatal(err)
	}
	for _, confirm := range []string{"", "yes", sdApp, stopped + " "} {
		r := b.htmx(http.MethodPost, "/apps/"+stopped+"/destroy", url.Values{"confirm": {confirm}})
		if r.Code != http.StatusUnprocessableEntity || r.Header().Get("HX-Retarget") != "#destroy-dialog-"+stopped+"-error" {
			t.Errorf("confirm %q: %d %q", confirm, r.Code, r.Header().Get("HX-Retarget"))
		}
	}
	if n := env.sim.Calls(sim.EpDestroy); n != 0 {
		t.Fatalf("a wrong confirmation reached the upstream %d times", n)
	}
	r := b.htmx(http.MethodPost, "/apps/"+stopped+"/destroy", url.Values{"confirm": {stopped}})
	if r.Code != http.StatusOK || r.count(`[data-testid="app-card"]`) != 0 || !strings.Contains(r.text(".toast"), "已销毁：旧项目") {
		t.Fatalf("destroy: %d %s", r.Code, r.Body)
	}
	for _, a := range env.sim.Apps() {
		if a.ID == stopped {
			t.Error("the application is still upstream")
		}
	}
	if meta, _ := env.db.AppMetaOf(t.Context(), stopped); meta.Note != "" {
		t.Error("the note outlived the application")
	}
	// Its pages are gone.
	if r := b.get("/apps/" + stopped); r.Code != http.StatusNotFound || !strings.Contains(r.Body.String(), "找不到这个应用") {
		t.Errorf("details after destroy: %d", r.Code)
	}
	if r := b.htmx(http.MethodGet, "/apps/"+stopped+"/card", nil); r.Code != http.StatusOK || r.Body.Len() != 0 {
		t.Errorf("card after destroy: %d %q", r.Code, r.Body)
	}
	// From its own details page, destroying leads back to the list.
	r = b.do(http.MethodPost, "/apps/"+sdApp+"/destroy", url.Values{"confirm": {sdApp}},
		http.Header{"Hx-Request": {"true"}, "X-Csrf-Token": {b.csrf}, "Hx-Current-Url": {"http://example.test/apps/" + sdApp}})
	if r.Code != http.StatusOK || r.Header().Get("HX-Redirect") != "/apps" {
		t.Errorf("destroy from details: %d %q", r.Code, r.Header().Get("HX-Redirect"))
	}
}

func TestDetails(t *testing.T) {
	env := newEnv(t)
	b := env.browser()
	r := b.get("/apps/" + sdApp + "?lang=en")
	if r.Code != http.StatusOK {
		t.Fatalf("details: %d", r.Code)
	}
	fields := map[string]string{}
	r.doc.Find(`[data-testid="detail-fields"] div`).Each(func(_ int, s *goquery.Selection) {
		fields[strings.TrimSpace(s.Find("dt").Text())] = strings.TrimSpace(s.Find("dd").Text())
	})
	want := map[string]string{"Application ID": sdApp, "Name": "none", "Status": "Running", "GPU model": "4090", "GPU memory": "24 GiB",
		"System disk": "20 GiB", "Data disk": "50 GiB", "Billing": "Pay as you go", "Price": "¥1.98/hour", "System": "Linux", "Image ID": "5"}
	for k, v := range want {
		if fields[k] != v {
			t.Errorf("%s = %q, want %q", k, fields[k], v)
		}
	}
	if len(fields) < 20 || !strings.Contains(fields["Application link"], "lightcc.cloud") {
		t.Errorf("fields: %v", fields)
	}
	calls := env.sim.TotalCalls()
	if r := b.get("/apps/1234567890123456789"); r.Code != http.StatusNotFound || !strings.Contains(r.Body.String(), "may have been destroyed") {
		t.Errorf("unknown id: %d", r.Code)
	}
	if r := b.get("/apps/not%20an%20id"); r.Code != http.StatusNotFound {
		t.Errorf("malformed id: %d", r.Code)
	}
	// The unknown id costs details, the header's balance and list (for the
	// runway), and the list that tells "gone" from "failing"; the malformed
	// one costs nothing.
	if env.sim.TotalCalls() != calls+4 {
		t.Errorf("upstream calls for two 404s: %d", env.sim.TotalCalls()-calls)
	}
	env.sim.SetFault(sim.EpDetails, sim.Fault{HTTPStatus: 500})
	if r := b.get("/apps/" + sdApp); r.Code != http.StatusBadGateway {
		t.Errorf("details upstream down: %d", r.Code)
	}
}

func TestLinks(t *testing.T) {
	env := newEnv(t)
	b := env.browser()
	b.get("/apps")
	for _, kind := range []string{"sd", "jupyter", "filebrowser"} {
		r := b.get("/apps/" + sdApp + "/links/" + kind)
		loc := r.Header().Get("Location")
		if r.Code != http.StatusSeeOther || !strings.HasPrefix(loc, "https://") || !strings.Contains(loc, ".") {
			t.Errorf("%s: %d %q", kind, r.Code, loc)
		}
	}
	if r := b.get("/apps/" + sdApp + "/links/ssh"); r.Code != http.StatusNotFound {
		t.Errorf("unknown kind: %d", r.Code)
	}
	r := b.get("/apps/" + stoppedApp(t, env) + "/links/sd")
	if r.Code != http.StatusConflict || !strings.Contains(r.text(`[data-testid="error-page"] [role="alert"]`), "LightCC 拒绝了操作") {
		t.Errorf("stopped app link: %d %s", r.Code, r.text(`[role="alert"]`))
	}
	// The composition is configurable.
	env2 := newEnv(t, func(_ *sim.Options, d *Deps) { d.LinkTemplate = "https://{domain}/{prefix}/" })
	r = env2.browser().get("/apps/" + sdApp + "/links/sd")
	if loc := r.Header().Get("Location"); r.Code != http.StatusSeeOther || !strings.HasSuffix(loc, "/") || strings.Count(loc, "/") != 4 {
		t.Errorf("custom template: %q", loc)
	}
}

func TestCardPolling(t *testing.T) {
	env := newEnv(t, func(o *sim.Options, _ *Deps) { o.Empty = true })
	id := env.sim.AddApp(sim.NewApp{Status: "0"})
	b := env.browser()
	b.get("/apps")
	r := b.htmx(http.MethodGet, "/apps/"+id+"/card", nil)
	if st := r.doc.Find(`[data-testid="app-card"]`).AttrOr("data-status", ""); st != "creating" || r.count(`[hx-trigger="every 3s"]`) != 1 {
		t.Errorf("creating card: %q", st)
	}
	// A blip is absorbed by the client's retry; an outage keeps the card.
	env.sim.SetFault(sim.EpList, sim.Fault{HTTPStatus: 500, Times: 1})
	if r := b.htmx(http.MethodGet, "/apps/"+id+"/card", nil); r.Code != http.StatusOK {
		t.Errorf("poll during a blip: %d (want 200: the retry got it)", r.Code)
	}
	env.sim.SetFault(sim.EpList, sim.Fault{HTTPStatus: 500, Times: 3})
	if r := b.htmx(http.MethodGet, "/apps/"+id+"/card", nil); r.Code != http.StatusNoContent {
		t.Errorf("poll during an outage: %d (want 204: keep the card)", r.Code)
	}
	env.clock.Advance(5 * time.Minute)
	r = b.htmx(http.MethodGet, "/apps/"+id+"/card", nil)
	if st := r.doc.Find(`[data-testid="app-card"]`).AttrOr("data-status", ""); st != "running" || r.count(`[hx-trigger]`) != 0 {
		t.Errorf("settled: %q", st)
	}
}

func TestNotes(t *testing.T) {
	env := newEnv(t)
	b := env.browser()
	b.get("/apps")
	r := b.htmx(http.MethodPost, "/apps/"+sdApp+"/note", url.Values{"note": {"  海报组的 SD  "}})
	if r.Code != http.StatusOK || r.text(`[data-testid="card-title"]`) != "海报组的 SD" || r.text(".sub") != "Stable Difussion WebUI 官方版" {
		t.Errorf("note: %d %q", r.Code, r.text(`[data-testid="card-title"]`))
	}
	if got := b.get("/apps").text(`[data-app-id="` + sdApp + `"] [data-testid="card-title"]`); got != "海报组的 SD" {
		t.Errorf("list title = %q", got)
	}
	for name, note := range map[string]string{"too long": strings.Repeat("长", 41), "newline": "a\nb", "control": "a\x00b"} {
		r := b.htmx(http.MethodPost, "/apps/"+sdApp+"/note", url.Values{"note": {note}})
		if r.Code != http.StatusUnprocessableEntity || r.Header().Get("HX-Retarget") != "#note-dialog-"+sdApp+"-error" {
			t.Errorf("%s: %d", name, r.Code)
		}
	}
	b.htmx(http.MethodPost, "/apps/"+sdApp+"/note", url.Values{"note": {""}})
	if got := b.get("/apps").text(`[data-app-id="` + sdApp + `"] [data-testid="card-title"]`); got != "Stable Difussion WebUI 官方版" {
		t.Errorf("after clearing: %q", got)
	}
}

func TestDialogsOnDemand(t *testing.T) {
	env := newEnv(t)
	b := env.browser()
	b.get("/apps")
	for kind, sel := range map[string]string{"stop": `[data-testid="timed-stop-dialog"] [data-testid="preset-1h"]`,
		"note": `[data-testid="note-dialog"] input[name="note"]`, "destroy": `[data-testid="destroy-dialog"] input[name="confirm"]`} {
		r := b.htmx(http.MethodGet, "/apps/"+sdApp+"/dialog/"+kind, nil)
		if r.Code != http.StatusOK || r.count(sel) != 1 || r.count(`#`+kind+`-dialog-`+sdApp+`-error`) != 1 {
			t.Errorf("%s dialog: %d %s", kind, r.Code, r.Body)
		}
	}
	if r := b.htmx(http.MethodGet, "/apps/"+stoppedApp(t, env)+"/dialog/stop", nil); r.Code != http.StatusConflict {
		t.Errorf("timed-stop dialog of a stopped app: %d", r.Code)
	}
	if r := b.htmx(http.MethodGet, "/apps/"+sdApp+"/dialog/format", nil); r.Code != http.StatusNotFound {
		t.Errorf("unknown dialog: %d", r.Code)
	}
	if r := env.browserAs(db.RoleViewer).htmx(http.MethodGet, "/apps/"+sdApp+"/dialog/destroy", nil); r.Code != http.StatusForbidden {
		t.Errorf("a viewer fetched a destroy dialog: %d", r.Code)
	}
	// A page of cards carries no dialogs.
	if n := b.get("/apps").count("dialog"); n != 0 {
		t.Errorf("the list carries %d dialogs", n)
	}
}
