package main

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/device"
)

// The journeys of a person using the console, in a real headless Chromium,
// in demo mode. Each asserts what a person sees, not markup.

// screenshot saves the viewport as docs/screenshots/<name>.png when
// SCREENSHOTS=1 (make screenshots), else in a temp dir, so the capture
// itself is exercised on every run.
func (p *page) screenshot(name string) {
	p.t.Helper()
	ctx, cancel := p.step()
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		p.t.Fatalf("screenshot %s: %v", name, err)
	}
	dir := p.t.TempDir()
	if os.Getenv("SCREENSHOTS") == "1" {
		dir = filepath.Join("docs", "screenshots")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			p.t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		p.t.Fatal(err)
	}
}

// settled waits until htmx has finished swapping and wired up what it
// swapped in (it does so ~20 ms after a swap; a click before that, which no
// person could make, would find a button with no behaviour yet).
func (p *page) settled() {
	p.t.Helper()
	p.waitJS(`!document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling, .htmx-added')`)
}

// checkLabels fails for any visible form control a screen reader could
// not name (no <label>, no aria-label).
func (p *page) checkLabels() {
	p.t.Helper()
	bad := eval[[]string](p, `[...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
		.filter(e => e.labels.length === 0 && !e.getAttribute('aria-label'))
		.map(e => e.outerHTML.slice(0, 80))`)
	if len(bad) > 0 {
		p.t.Errorf("%s: controls without a label: %v", eval[string](p, `location.pathname`), bad)
	}
}

// pageWeight is what the current page cost on first load: HTML, CSS and
// JavaScript as sent (gzip) and once decoded, in bytes.
func (p *page) pageWeight() (wire, decoded int) {
	p.t.Helper()
	v := eval[[]int](p, `(() => {
		let wire = 0, dec = 0;
		const add = e => { wire += e.encodedBodySize; dec += e.decodedBodySize; };
		add(performance.getEntriesByType('navigation')[0]);
		for (const r of performance.getEntriesByType('resource')) {
			if (/\.(css|js)(\?|$)/.test(r.name)) add(r);
		}
		return [wire, dec];
	})()`)
	return v[0], v[1]
}

// Journey 1: sign in; the header shows balance, voucher, points and runway,
// in both languages.
func TestJourneySignInAndHeader(t *testing.T) {
	base := startConsole(t)
	p := &page{t: t, ctx: newBrowser(t)}
	p.open(base + "/apps")
	if got := p.text("h1"); got != "登录" {
		t.Fatalf("signed out, /apps shows %q", got)
	}
	p.screenshot("login-zh")
	p.signIn(base, adminName, adminPassword)
	checks := map[string]string{
		`[data-testid="balance-amount"]`:  "¥99.",
		`[data-testid="balance-voucher"]`: "¥216.22",
		`[data-testid="balance-points"]`:  "237,972",
		`[data-testid="runway"]`:          "按当前消耗约可用至 ",
		`[data-testid="demo-badge"]`:      "演示模式",
	}
	for sel, want := range checks {
		if got := p.text(sel); !strings.HasPrefix(got, want) {
			t.Errorf("%s = %q, want %q…", sel, got, want)
		}
	}
	if n := eval[int](p, `document.querySelectorAll('[data-testid="welcome"] p').length`); n != 3 {
		t.Errorf("the demo welcome has %d sentences", n)
	}
	wire, decoded := p.pageWeight()
	t.Logf("first load of /apps: %d bytes gzip (%d decoded), HTML + CSS + JS", wire, decoded)
	p.screenshot("apps-zh")
	p.checkLabels()
	p.do(chromedp.Click(chromedp.CSS(`[data-testid="welcome-dismiss"]`)))
	p.waitJS(`!document.querySelector('[data-testid="welcome"]')`)

	// htmx refreshes the header through the page's own configuration (CSRF
	// header included): blank the figure, refresh now instead of in 30 s.
	eval[bool](p, `document.querySelector('[data-testid="balance-amount"]').textContent = ""; htmx.ajax('GET', '/balance', {target: '#balance', swap: 'outerHTML'}); true`)
	p.waitJS(`(document.querySelector('[data-testid="balance-amount"]') || {}).textContent.startsWith("¥")`)

	// English with one click.
	p.do(chromedp.Click(chromedp.CSS(`a.lang`)), chromedp.WaitVisible(chromedp.CSS(`html[lang="en"] h1`)))
	if h1 := p.text("h1"); h1 != "My applications" {
		t.Errorf("English h1 = %q", h1)
	}
	if rw := p.text(`[data-testid="runway"]`); !strings.HasPrefix(rw, "At this rate the money lasts until ") {
		t.Errorf("English runway = %q", rw)
	}
	p.screenshot("apps-en")
	p.open(base + "/images")
	wire, decoded = p.pageWeight()
	t.Logf("first load of /images: %d bytes gzip (%d decoded), HTML + CSS + JS", wire, decoded)
	p.waitJS(`[...document.querySelectorAll('[data-testid="image-card"] img')].every(i => i.complete && i.naturalWidth > 0)`)
	p.screenshot("images-en")
	p.checkLabels()
	for _, path := range []string{"/admin/users", "/admin/settings", "/audit", "/images/6", "/apps/1899720917190184960"} {
		p.open(base + path)
		p.checkLabels()
	}
}

// launchComfy is journey 2 up to the launch: gallery, search, details,
// GPU, 按量计费 → 包天 with the price changing, auto-stop, confirmation.
// It returns the new application's id.
func launchComfy(t *testing.T, p *page, base string, shots bool) string {
	t.Helper()
	p.open(base + "/images")
	p.do(chromedp.SendKeys(chromedp.CSS(`[data-testid="image-search"]`), "Comfy"))
	p.waitJS(`document.querySelectorAll('[data-testid="image-card"]').length === 1 && location.search === "?q=Comfy"`)
	p.waitJS(`(() => { const i = document.querySelector('[data-testid="image-card"] img'); return i.complete && i.naturalWidth > 0 })()`)
	if shots {
		p.screenshot("images-zh")
	}
	p.do(chromedp.Click(chromedp.CSS(`[data-testid="image-card"]`)), chromedp.WaitVisible(chromedp.CSS(`[data-testid="picker"]`)))
	if got := p.text(`[data-testid="image-title"]`); got != "ComfyUI 官方版" {
		t.Fatalf("opened %q", got)
	}
	if n := eval[int](p, `[...document.querySelectorAll('[data-testid="gpu-option"]')].filter(o => o.innerText.includes("已售罄") && o.querySelector("input").disabled).length`); n == 0 {
		t.Error("no GPU shows 已售罄 and disabled")
	}
	settled := `!document.querySelector('.htmx-request') && !document.querySelector('[data-testid="launch"]').disabled`
	p.do(chromedp.Click(chromedp.CSS(`[data-gpu="3090"] input`)))
	p.waitJS(settled + ` && document.querySelector('[data-testid="price-actual"]').textContent === "¥1.38"`)
	hourly := p.text(`[data-testid="price-actual"]`)
	p.do(chromedp.Click(chromedp.CSS(`[data-testid="billing-option"] input[value="1"]`)))
	p.waitJS(settled + ` && document.querySelector('[data-testid="price-actual"]').textContent !== "` + hourly + `" && !!document.querySelector('[data-testid="cycle"]')`)
	daily := p.text(`[data-testid="price-actual"]`)
	if unit := p.text(`[data-testid="price"] .price-unit`); !strings.Contains(unit, "1 天") {
		t.Errorf("包天 unit = %q", unit)
	}
	if shots {
		p.screenshot("image-detail-zh")
	}
	p.do(chromedp.SetValue(chromedp.CSS(`[data-testid="autostop"]`), "4"))
	p.waitJS(settled)
	p.do(chromedp.Click(chromedp.CSS(`[data-testid="launch"]`)), chromedp.WaitVisible(chromedp.CSS(`[data-testid="confirm-dialog"]`)))
	if s := p.text(`[data-testid="confirm-dialog"]`); !strings.Contains(s, daily) || !strings.Contains(s, "4 小时后自动停止") || !strings.Contains(s, "包天") {
		t.Errorf("confirmation = %q", s)
	}
	p.do(chromedp.Click(chromedp.CSS(`[data-testid="confirm-launch"]`)))
	p.waitJS(`location.pathname === "/apps" && !!document.querySelector('.app-card-new')`)
	return eval[string](p, `document.querySelector('.app-card-new').dataset.appId`)
}

// Journeys 2, 3 and 4.
func TestJourneyLaunchUseStopAndRefusal(t *testing.T) {
	base := startConsole(t)
	p := &page{t: t, ctx: newBrowser(t)}
	p.signIn(base, adminName, adminPassword)
	eval[bool](p, `window.__sameDocument = true`)

	// 2. Launch; the card goes 创建中 → 运行中 by itself; 打开 ComfyUI points to the composed link.
	id := launchComfy(t, p, base, true)
	card := `[data-app-id="` + id + `"]`
	if st := p.text(card + ` [data-testid="status"]`); st != "创建中" {
		t.Errorf("new card: %q", st)
	}
	eval[bool](p, `window.__sameDocument = true`)
	p.waitJS(`(document.querySelector('` + card + ` [data-testid="status"]') || {}).innerText === "运行中"`)
	p.settled()
	if !eval[bool](p, `window.__sameDocument === true`) {
		t.Error("the page reloaded while the card settled")
	}
	open := p.text(card + ` [data-testid="launch-sd"]`)
	href := eval[string](p, `document.querySelector('`+card+` [data-testid="launch-sd"]').getAttribute("href")`)
	if open != "打开 ComfyUI" || href != "/apps/"+id+"/links/sd" {
		t.Errorf("launcher %q → %q", open, href)
	}
	c := newClient(t, base)
	c.signIn(adminName, adminPassword)
	c.hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.hc.Get(base + href)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "https://") || !strings.HasSuffix(loc, ".lightcc.cloud") {
		t.Errorf("打开 ComfyUI → %d %q", resp.StatusCode, loc)
	}

	// 3. Schedule a stop with a preset; stop; start; destroy through the dialog.
	p.do(chromedp.Click(chromedp.CSS(card+` [data-testid="action-timed-stop"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#dialog-host [data-testid="timed-stop-dialog"]`)))
	p.screenshot("timed-stop-zh")
	p.do(chromedp.Click(chromedp.CSS(`#dialog-host [data-testid="preset-1h"]`)))
	p.waitJS(`!!document.querySelector('` + card + ` [data-testid="scheduled-stop"]') && !document.querySelector("dialog[open]")`)
	if s := p.text(card + ` [data-testid="scheduled-stop"]`); !strings.Contains(s, "自动关机") || !strings.Contains(s, "还剩") {
		t.Errorf("scheduled = %q", s)
	}
	p.settled()
	p.do(chromedp.Click(chromedp.CSS(card + ` [data-testid="action-stop"]`)))
	p.waitJS(`(document.querySelector('` + card + ` [data-testid="status"]') || {}).innerText === "关机中"`)
	p.waitJS(`(document.querySelector('` + card + ` [data-testid="status"]') || {}).innerText === "已关机"`)
	p.settled()
	p.do(chromedp.Click(chromedp.CSS(card + ` [data-testid="action-start"]`)))
	// 启动中 lasts seconds; on a busy machine the answer may already say 运行中.
	p.waitJS(`["启动中", "运行中"].includes((document.querySelector('` + card + ` [data-testid="status"]') || {}).innerText)`)
	p.waitJS(`(document.querySelector('` + card + ` [data-testid="status"]') || {}).innerText === "运行中"`)
	p.settled()
	p.do(chromedp.Click(chromedp.CSS(card+` [data-testid="action-destroy"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#dialog-host [data-testid="destroy-dialog"]`)))
	if s := p.text(`#dialog-host [data-testid="destroy-dialog"] h3`); !strings.Contains(s, "ComfyUI") {
		t.Errorf("the destroy dialog does not name the application: %q", s)
	}
	p.screenshot("destroy-zh")
	p.do(chromedp.Click(chromedp.CSS(`#dialog-host [data-testid="confirm-destroy"]`)))
	p.waitJS(`!document.querySelector('` + card + `') && [...document.querySelectorAll('#toasts .toast')].some(t => t.innerText.includes("已销毁"))`)
	if !eval[bool](p, `window.__sameDocument === true`) {
		t.Error("the page reloaded during the journey")
	}

	// 4. A refused create: a year of a 4090 costs more than the balance; the
	// simulator says 余额不足; the message shows and the choices stay.
	p.open(base + "/images/6")
	settled := `!document.querySelector('.htmx-request') && !document.querySelector('[data-testid="launch"]').disabled`
	p.do(chromedp.Click(chromedp.CSS(`[data-testid="billing-option"] input[value="4"]`)))
	p.waitJS(settled + ` && !!document.querySelector('[data-testid="cycle"]')`)
	p.do(chromedp.Click(chromedp.CSS(`[data-testid="launch"]`)), chromedp.WaitVisible(chromedp.CSS(`[data-testid="confirm-dialog"]`)),
		chromedp.Click(chromedp.CSS(`[data-testid="confirm-launch"]`)))
	p.waitJS(`!!document.querySelector('[data-testid="launch-error"]')`)
	if msg := p.text(`[data-testid="launch-error"]`); !strings.Contains(msg, "余额不足") {
		t.Errorf("refusal = %q", msg)
	}
	if !eval[bool](p, `document.querySelector('[data-testid="billing-option"] input[value="4"]').checked && document.querySelector('[data-gpu="4090"] input').checked`) {
		t.Error("the choices were not kept")
	}
	if !eval[bool](p, `!document.querySelector('[data-testid="launch"]').disabled`) {
		t.Error("the launch button is not usable again")
	}
}

// Journey 5: journey 2 on a phone (390×844), with a screenshot.
func TestJourneyOnAPhone(t *testing.T) {
	base := startConsole(t)
	p := &page{t: t, ctx: newBrowser(t)}
	p.do(chromedp.Emulate(device.IPhone13))
	p.signIn(base, adminName, adminPassword)
	if w := eval[int](p, `window.innerWidth`); w != 390 {
		t.Fatalf("viewport %d wide", w)
	}
	if eval[bool](p, `document.documentElement.scrollWidth > window.innerWidth`) {
		t.Error("/apps scrolls sideways on a phone")
	}
	p.screenshot("apps-phone-zh")
	launchComfy(t, p, base, false)
	if eval[bool](p, `document.documentElement.scrollWidth > window.innerWidth`) {
		t.Error("/apps scrolls sideways after the launch")
	}
	p.screenshot("apps-phone-launched-zh")

	// Every page at 360 px: no sideways scrolling, dialogs fit.
	p.do(chromedp.EmulateViewport(360, 740, chromedp.EmulateMobile))
	p.open(base + "/apps")
	if w := eval[int](p, `window.innerWidth`); w != 360 {
		t.Fatalf("viewport %d wide, want 360", w)
	}
	for _, path := range []string{"/apps", "/images", "/images/6", "/apps/1899720917190184960", "/admin/users", "/admin/settings", "/audit"} {
		p.open(base + path)
		if w := eval[int](p, `document.documentElement.scrollWidth`); w > 360 {
			t.Errorf("%s is %d px wide at 360", path, w)
		}
	}
	p.open(base + "/apps")
	p.do(chromedp.Click(chromedp.CSS(`[data-app-id="1899720917190184960"] [data-testid="action-destroy"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#dialog-host [data-testid="destroy-dialog"]`)))
	if w := eval[int](p, `Math.ceil(document.querySelector('dialog[open]').getBoundingClientRect().right)`); w > 360 {
		t.Errorf("the destroy dialog reaches %d px at 360", w)
	}
}
