package handlers

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"lightcc-dashboard/db"
	"lightcc-dashboard/lightcc"
	"lightcc-dashboard/lightcc/sim"
)

func TestGallery(t *testing.T) {
	env := newEnv(t)
	b := env.browser()
	r := b.get("/images")
	if r.Code != http.StatusOK || r.count(`[data-testid="image-card"]`) < 6 {
		t.Fatalf("gallery: %d, %d cards", r.Code, r.count(`[data-testid="image-card"]`))
	}
	comfy := `[data-image-id="6"]`
	if src, _ := r.doc.Find(comfy + " img").Attr("src"); src != "/covers/6" {
		t.Errorf("cover src = %q", src)
	}
	if got := r.text(comfy + " .image-price"); got != "免费" {
		t.Errorf("price = %q", got)
	}
	if got := r.text(`[data-image-id="11"] .badge`); got != "Windows" {
		t.Errorf("windows badge = %q", got)
	}
	// Search as you type: the query in the URL, only the gallery back for htmx.
	r = b.do(http.MethodGet, "/images?q=comfy", nil, http.Header{"Hx-Request": {"true"}, "Hx-Target": {"gallery"}})
	if r.count(`[data-testid="image-card"]`) != 1 || r.count("h1") != 0 || r.count("#gallery") != 1 {
		t.Errorf("search fragment: %s", r.Body)
	}
	if r := b.get("/images?q=nothing-like-this"); r.count(`[data-testid="images-empty"]`) != 1 {
		t.Error("no empty state for a search without results")
	}
	if r := b.get("/images?q=" + strings.Repeat("x", 61)); r.Code != http.StatusBadRequest {
		t.Errorf("long query: %d", r.Code)
	}
}

func TestCatalogueCache(t *testing.T) {
	env := newEnv(t)
	b := env.browser()
	b.get("/images")
	b.get("/images?q=comfy")
	if n := env.sim.Calls(sim.EpImages); n != 1 {
		t.Errorf("image list fetched %d times within the TTL", n)
	}
	env.clock.Advance(11 * time.Minute)
	b.get("/images")
	if n := env.sim.Calls(sim.EpImages); n != 2 {
		t.Errorf("image list fetched %d times after the TTL", n)
	}
	// LightCC down: the cached copy, marked stale, rather than nothing.
	env.clock.Advance(15 * time.Minute)
	env.sim.SetFault(sim.EpImages, sim.Fault{HTTPStatus: 503})
	r := b.get("/images")
	if r.Code != http.StatusOK || r.count(`[data-testid="image-card"]`) < 6 || !strings.Contains(r.text(`[data-testid="stale"]`), "15 分钟前") {
		t.Errorf("stale: %d %q", r.Code, r.text(`[data-testid="stale"]`))
	}
	// No copy at all: the page says so, with the real status.
	fresh := newEnv(t)
	fresh.sim.SetFault(sim.EpImages, sim.Fault{HTTPStatus: 503})
	r = fresh.browser().get("/images")
	if r.Code != http.StatusBadGateway || r.text(`[data-testid="images-error"]`) == "" {
		t.Errorf("no cache: %d", r.Code)
	}
}

func TestCoversRoute(t *testing.T) {
	env := newEnv(t)
	b := env.browser()
	b.get("/images")
	r := b.get("/covers/5")
	etag := r.Header().Get("ETag")
	if r.Code != http.StatusOK || r.Header().Get("Content-Type") != "image/png" || etag == "" || !strings.Contains(r.Header().Get("Cache-Control"), "max-age") {
		t.Fatalf("cover: %d %q %q", r.Code, r.Header().Get("Content-Type"), etag)
	}
	if r := b.do(http.MethodGet, "/covers/5", nil, http.Header{"If-None-Match": {etag}}); r.Code != http.StatusNotModified {
		t.Errorf("revalidation: %d", r.Code)
	}
	// The Windows image has no coverImgUrl: its coverImg under the image host.
	if r := b.get("/covers/11"); r.Code != http.StatusOK || r.Header().Get("Content-Type") != "image/png" {
		t.Errorf("fallback cover: %d %q", r.Code, r.Header().Get("Content-Type"))
	}
	if r := b.get("/covers/424242"); r.Code != http.StatusNotFound {
		t.Errorf("unknown image: %d", r.Code)
	}
}

func TestImageDetailAndPrice(t *testing.T) {
	env := newEnv(t)
	b := env.browser()
	r := b.get("/images/6")
	if r.Code != http.StatusOK || r.text(`[data-testid="image-title"]`) != "ComfyUI 官方版" {
		t.Fatalf("details: %d", r.Code)
	}
	sold := r.doc.Find(`[data-testid="gpu-option"]:has([data-testid="sold-out"]) input[disabled]`).Length()
	if sold == 0 || sold != r.count(`[data-testid="sold-out"]`) {
		t.Errorf("sold-out GPUs: %d disabled of %d marked", sold, r.count(`[data-testid="sold-out"]`))
	}
	if checked := r.doc.Find(`input[name="gpuModel"]:checked`).AttrOr("value", ""); checked != "4090" {
		t.Errorf("default GPU = %q", checked)
	}
	if n := r.count(`select[name="numberOfGPUs"] option`); n != 8 {
		t.Errorf("4090 count options = %d, want 1..8", n)
	}
	if r.text(`[data-testid="price-actual"]`) != "¥1.98" || !strings.Contains(r.text(`[data-testid="price"] .price-unit`), "小时") {
		t.Errorf("price = %q", r.text(`[data-testid="price-actual"]`))
	}
	// Launch waits while a price refresh runs: the confirmation never shows a stale price.
	if r.count(`[hx-get="/images/6/price"][hx-disabled-elt="#launch-button"]`) != 1 || r.count(`#launch-button[data-testid="launch"]`) != 1 {
		t.Error("the launch button is not disabled during price refreshes")
	}
	if r.count(`input[name="token"][value]`) != 1 || r.count(`[data-testid="cycle"]`) != 0 {
		t.Error("token missing or cycle shown for pay-as-you-go")
	}
	// A change of the picker: a daily package costs more, shows the cycle, and the 3090's count range.
	r = b.htmx(http.MethodGet, "/images/6/price?gpuModel=3090&gpuCount=2&billingMode=1&cycle=3&autoStop=0", nil)
	if r.Code != http.StatusOK || r.count(`#price`) != 1 || r.count(`#count-field[hx-swap-oob]`) != 1 || r.count(`#cycle-field[hx-swap-oob] [data-testid="cycle"]`) != 1 {
		t.Fatalf("price fragment: %d %s", r.Code, r.Body)
	}
	if got := r.text(`[data-testid="price-actual"]`); got == "¥1.98" || got == "" {
		t.Errorf("daily price = %q", got)
	}
	if n := r.count(`#count-field option`); n != 10 {
		t.Errorf("3090 count options = %d", n)
	}
	if !strings.Contains(r.text(`[data-testid="price"] .price-unit`), "3 天") {
		t.Errorf("unit = %q", r.text(`[data-testid="price"] .price-unit`))
	}
	// A discount shows the list price struck through.
	r = b.htmx(http.MethodGet, "/images/6/price?gpuModel=3060&gpuCount=1&billingMode=0&cycle=0", nil)
	if r.text(`[data-testid="price-actual"]`) != "¥0.62" || r.text(`[data-testid="price-original"]`) != "¥0.63" {
		t.Errorf("discount: %q %q", r.text(`[data-testid="price-actual"]`), r.text(`[data-testid="price-original"]`))
	}
	// Against the balance.
	env.sim.SetBalance(10)
	r = b.htmx(http.MethodGet, "/images/6/price?gpuModel=4090&gpuCount=1&billingMode=3&cycle=1", nil)
	if !strings.Contains(r.text(`[data-testid="price-short"]`), "余额不足") {
		t.Errorf("short balance not said: %q", r.text(`[data-testid="price"]`))
	}
	if r := b.get("/images/424242"); r.Code != http.StatusNotFound {
		t.Errorf("unknown image: %d", r.Code)
	}
	if r := b.get("/images/abc"); r.Code != http.StatusNotFound {
		t.Errorf("bad image id: %d", r.Code)
	}
}

func TestValidateLaunch(t *testing.T) {
	cfgs := []lightcc.GPUConfig{
		{GPU: "4090", GPUMemory: "24", Available: true, MaxAvailable: 8},
		{GPU: "A100", GPUMemory: "40", Available: false, MaxAvailable: 6},
	}
	ok := selection{GPU: "4090", Count: "1", Billing: "0", Cycle: "0", AutoStop: "2"}
	with := func(f func(*selection)) selection { s := ok; f(&s); return s }
	tests := []struct {
		name string
		sel  selection
		bad  string
	}{
		{"pay as you go", ok, ""},
		{"no cycle field", with(func(s *selection) { s.Cycle = "" }), ""},
		{"daily package", with(func(s *selection) { s.Billing = "1"; s.Cycle = "3" }), ""},
		{"max count", with(func(s *selection) { s.Count = "8" }), ""},
		{"no auto stop", with(func(s *selection) { s.AutoStop = "0" }), ""},
		{"no gpu", with(func(s *selection) { s.GPU = "" }), "launch.err.gpu"},
		{"unknown gpu", with(func(s *selection) { s.GPU = "H100" }), "launch.err.gpu_unknown"},
		{"sold out", with(func(s *selection) { s.GPU = "A100" }), "launch.err.gpu_sold_out"},
		{"zero gpus", with(func(s *selection) { s.Count = "0" }), "launch.err.count"},
		{"too many", with(func(s *selection) { s.Count = "9" }), "launch.err.count"},
		{"count not a number", with(func(s *selection) { s.Count = "two" }), "launch.err.count"},
		{"billing 5", with(func(s *selection) { s.Billing = "5" }), "launch.err.billing"},
		{"billing empty", with(func(s *selection) { s.Billing = "" }), "launch.err.billing"},
		{"cycle on pay as you go", with(func(s *selection) { s.Cycle = "2" }), "launch.err.cycle"},
		{"package without cycle", with(func(s *selection) { s.Billing = "2"; s.Cycle = "0" }), "launch.err.cycle"},
		{"package cycle too long", with(func(s *selection) { s.Billing = "4"; s.Cycle = "4" }), "launch.err.cycle"},
		{"package cycle fraction", with(func(s *selection) { s.Billing = "1"; s.Cycle = "1.5" }), "launch.err.cycle"},
		{"package cycle padded", with(func(s *selection) { s.Billing = "1"; s.Cycle = "01" }), "launch.err.cycle"},
		{"auto stop 3h", with(func(s *selection) { s.AutoStop = "3" }), "launch.err.autostop"},
		{"auto stop junk", with(func(s *selection) { s.AutoStop = "soon" }), "launch.err.autostop"},
	}
	for _, tt := range tests {
		plan, bad, _ := validateLaunch(tt.sel, cfgs)
		if bad != tt.bad {
			t.Errorf("%s: %q, want %q", tt.name, bad, tt.bad)
		}
		if bad == "" && (plan.GPU != tt.sel.GPU || plan.Count < 1) {
			t.Errorf("%s: plan %+v", tt.name, plan)
		}
	}
	if plan, _, _ := validateLaunch(with(func(s *selection) { s.Billing = "1"; s.Cycle = "3" }), cfgs); plan.Cycle != "3" || plan.Billing != lightcc.BillingDaily {
		t.Errorf("package plan %+v", plan)
	}
	if plan, _, _ := validateLaunch(ok, cfgs); plan.Cycle != "0" || plan.AutoStop != 2*time.Hour {
		t.Errorf("payg plan %+v", plan)
	}
}

// launchForm is what the picker posts.
func launchForm(token string, extra map[string]string) url.Values {
	v := url.Values{"token": {token}, "imageId": {"6"}, "gpuModel": {"3090"}, "numberOfGPUs": {"1"},
		"billingMethod": {"0"}, "cycle": {"0"}, "autoStop": {"2"}}
	for k, x := range extra {
		v.Set(k, x)
	}
	return v
}

func pickerToken(t *testing.T, b *browser, imageID string) string {
	t.Helper()
	r := b.get("/images/" + imageID)
	tok, _ := r.doc.Find(`input[name="token"]`).Attr("value")
	if tok == "" {
		t.Fatal("no launch token")
	}
	return tok
}

func TestLaunch(t *testing.T) {
	env := newEnv(t)
	b := env.browser()
	tok := pickerToken(t, b, "6")
	r := b.htmx(http.MethodPost, "/apps", launchForm(tok, nil))
	target := r.Header().Get("HX-Redirect")
	if r.Code != http.StatusOK || !strings.HasPrefix(target, "/apps?new=") {
		t.Fatalf("launch: %d %q %s", r.Code, target, r.Body)
	}
	id := strings.TrimPrefix(target, "/apps?new=")
	if env.sim.Calls(sim.EpCreate) != 1 || env.sim.Calls(sim.EpTimedStop) != 1 {
		t.Errorf("create %d, timed stop %d", env.sim.Calls(sim.EpCreate), env.sim.Calls(sim.EpTimedStop))
	}
	r = b.get(target)
	card := `[data-app-id="` + id + `"]`
	if r.count(card+".app-card-new") != 1 || r.doc.Find(card).AttrOr("data-status", "") != "creating" {
		t.Errorf("new card not highlighted in 创建中: %s", r.doc.Find(card).AttrOr("class", ""))
	}
	if !strings.Contains(r.text(card+` [data-testid="scheduled-stop"]`), "自动关机") {
		t.Error("the automatic stop is not on the card")
	}
	// The same form again (a re-sent form, a retry): the same result, no second application.
	r = b.htmx(http.MethodPost, "/apps", launchForm(tok, nil))
	if r.Header().Get("HX-Redirect") != target || env.sim.Calls(sim.EpCreate) != 1 {
		t.Errorf("resend: %q, creates %d", r.Header().Get("HX-Redirect"), env.sim.Calls(sim.EpCreate))
	}
	// Without JavaScript the plain form works too, with _csrf and a 303.
	tok2 := pickerToken(t, b, "6")
	form := launchForm(tok2, map[string]string{"_csrf": b.csrf, "autoStop": "0"})
	r = b.do(http.MethodPost, "/apps", form, nil)
	if r.Code != http.StatusSeeOther || !strings.HasPrefix(r.Header().Get("Location"), "/apps?new=") || env.sim.Calls(sim.EpTimedStop) != 1 {
		t.Errorf("plain form: %d %q", r.Code, r.Header().Get("Location"))
	}
}

func TestLaunchDoubleClick(t *testing.T) {
	env := newEnv(t)
	env.sim.SetFault(sim.EpCreate, sim.Fault{Latency: 200 * time.Millisecond})
	b := env.browser()
	tok := pickerToken(t, b, "6")
	var wg sync.WaitGroup
	results := make([]*response, 2)
	for i := range results {
		wg.Go(func() { results[i] = b.htmx(http.MethodPost, "/apps", launchForm(tok, nil)) })
	}
	wg.Wait()
	if n := env.sim.Calls(sim.EpCreate); n != 1 {
		t.Fatalf("two identical posts made %d upstream creates", n)
	}
	a, c := results[0].Header().Get("HX-Redirect"), results[1].Header().Get("HX-Redirect")
	if a == "" || a != c {
		t.Errorf("different results: %q vs %q (%d %d)", a, c, results[0].Code, results[1].Code)
	}
}

func TestLaunchRefusals(t *testing.T) {
	env := newEnv(t)
	b := env.browser()
	tests := []struct {
		name   string
		extra  map[string]string
		status int
		msg    string
	}{
		{"sold out GPU", map[string]string{"gpuModel": "A100"}, 422, "刚刚售罄"},
		{"unknown GPU", map[string]string{"gpuModel": "H100"}, 422, "不支持所选的 GPU"},
		{"too many GPUs", map[string]string{"numberOfGPUs": "11"}, 422, "1 到 10 之间"},
		{"bad billing", map[string]string{"billingMethod": "7"}, 422, "请选择计费方式"},
		{"package without cycle", map[string]string{"billingMethod": "1", "cycle": "0"}, 422, "1 到 30 之间"},
		{"bad auto stop", map[string]string{"autoStop": "5"}, 422, "自动停止的选项无效"},
		{"bad image", map[string]string{"imageId": "x"}, 422, "镜像无效"},
	}
	for _, tt := range tests {
		tok := pickerToken(t, b, "6")
		r := b.htmx(http.MethodPost, "/apps", launchForm(tok, tt.extra))
		if r.Code != tt.status || !strings.Contains(r.Body.String(), tt.msg) {
			t.Errorf("%s: %d %q", tt.name, r.Code, r.text(`[role="alert"]`))
		}
	}
	if n := env.sim.Calls(sim.EpCreate); n != 0 {
		t.Fatalf("refused launches reached the upstream %d times", n)
	}
	// A token that is not this session's (or made up) is refused too.
	other := env.browser()
	foreign := pickerToken(t, other, "6")
	for _, tok := range []string{foreign, "made-up", ""} {
		if r := b.htmx(http.MethodPost, "/apps", launchForm(tok, nil)); r.Code != http.StatusUnprocessableEntity || !strings.Contains(r.Body.String(), "表单已过期") {
			t.Errorf("token %q: %d", tok, r.Code)
		}
	}
	// LightCC refuses (余额不足): its words, the person's choices kept, a new token.
	env.sim.SetBalance(0.5)
	tok := pickerToken(t, b, "6")
	r := b.htmx(http.MethodPost, "/apps", launchForm(tok, map[string]string{"billingMethod": "1", "cycle": "2", "numberOfGPUs": "2"}))
	if r.Code != http.StatusConflict || !strings.Contains(r.text(`[data-testid="launch-error"]`), "余额不足") {
		t.Fatalf("refused create: %d %q", r.Code, r.text(`[data-testid="launch-error"]`))
	}
	if r.doc.Find(`input[name="billingMethod"]:checked`).AttrOr("value", "") != "1" || r.doc.Find(`input[name="gpuModel"]:checked`).AttrOr("value", "") != "3090" ||
		r.doc.Find(`[data-testid="cycle"]`).AttrOr("value", "") != "2" || r.doc.Find(`select[name="numberOfGPUs"] option[selected]`).AttrOr("value", "") != "2" {
		t.Error("the choices were not kept")
	}
	if newTok := r.doc.Find(`input[name="token"]`).AttrOr("value", ""); newTok == "" || newTok == tok {
		t.Error("no fresh token after a refusal")
	}
	if n := env.sim.Calls(sim.EpCreate); n != 1 {
		t.Errorf("creates = %d", n)
	}
	// Without a CSRF token nothing happens.
	if r := b.do(http.MethodPost, "/apps", launchForm(pickerToken(t, b, "6"), nil), http.Header{"Hx-Request": {"true"}}); r.Code != http.StatusForbidden || env.sim.Calls(sim.EpCreate) != 1 {
		t.Errorf("no CSRF: %d", r.Code)
	}
}

func TestLaunchOutcomeUnknownIsNeverRetried(t *testing.T) {
	env := newEnv(t)
	// The upstream creates the application but the answer is lost.
	env.sim.SetFault(sim.EpCreate, sim.Fault{HTTPStatus: 502, AfterApply: true, Times: 1})
	b := env.browser()
	before := len(env.sim.Apps())
	tok := pickerToken(t, b, "6")
	r := b.htmx(http.MethodPost, "/apps", launchForm(tok, nil))
	if r.Code != http.StatusBadGateway || !strings.Contains(r.text(`[data-testid="launch-error"]`), "无法确认") {
		t.Fatalf("lost answer: %d %q", r.Code, r.text(`[data-testid="launch-error"]`))
	}
	r = b.htmx(http.MethodPost, "/apps", launchForm(tok, nil))
	if !strings.Contains(r.text(`[data-testid="launch-error"]`), "无法确认") || env.sim.Calls(sim.EpCreate) != 1 || len(env.sim.Apps()) != before+1 {
		t.Errorf("resend: creates %d, apps %d→%d", env.sim.Calls(sim.EpCreate), before, len(env.sim.Apps()))
	}
}

func TestLaunchAutoStopFailureIsLoud(t *testing.T) {
	env := newEnv(t)
	env.sim.SetFault(sim.EpTimedStop, sim.Fault{Code: 500, Msg: "定时任务服务不可用"})
	b := env.browser()
	r := b.htmx(http.MethodPost, "/apps", launchForm(pickerToken(t, b, "6"), nil))
	target := r.Header().Get("HX-Redirect")
	if target == "" {
		t.Fatalf("launch: %d %s", r.Code, r.Body)
	}
	id := strings.TrimPrefix(target, "/apps?new=")
	r = b.get(target)
	if got := r.text(`[data-app-id="` + id + `"] [data-testid="card-alert"]`); !strings.Contains(got, "定时任务服务不可用") || !strings.Contains(got, "自动停止没有设置成功") {
		t.Errorf("card alert = %q", got)
	}
	// Setting a stop by hand clears it.
	env.sim.ClearFaults()
	env.clock.Advance(time.Minute)
	b.htmx(http.MethodPost, "/apps/"+id+"/timed-stop", url.Values{"preset": {"1h"}})
	if r := b.get("/apps"); r.count(`[data-app-id="`+id+`"] [data-testid="card-alert"]`) != 0 {
		t.Error("the alert outlived a stop set by hand")
	}
}

// countingCatalogue counts reads of the SQLite catalogue cache.
type countingCatalogue struct {
	CatalogueStore
	mu    sync.Mutex
	reads int
}

func (c *countingCatalogue) CatalogueEntry(ctx context.Context, key string) (db.CachedBody, error) {
	c.mu.Lock()
	c.reads++
	c.mu.Unlock()
	return c.CatalogueStore.CatalogueEntry(ctx, key)
}

func TestCatalogueIsReadFromMemoryWithinItsTTL(t *testing.T) {
	env := newEnv(t)
	counting := &countingCatalogue{CatalogueStore: env.h.Catalogue}
	env.h.Catalogue = counting
	b := env.browser() // lands on /images: one read, one fetch
	before := counting.reads
	for _, q := range []string{"c", "co", "com", "comf", "comfy"} {
		b.htmx(http.MethodGet, "/images?q="+q, nil)
	}
	b.get("/covers/5")
	b.get("/covers/6")
	if n := counting.reads - before; n != 0 {
		t.Errorf("5 keystrokes and 2 covers read the SQLite catalogue %d times", n)
	}
	env.clock.Advance(catalogueTTL + time.Second)
	b.get("/images")
	if n := counting.reads - before; n != 1 {
		t.Errorf("after the TTL: %d reads, want 1", n)
	}
}
