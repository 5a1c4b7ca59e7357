package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// newBrowser starts headless Chromium. It fails, never skips, when
// Chromium is missing: CI installs it (.ci/run), and a skipped browser test
// would pass without testing anything.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	path := os.Getenv("CHROMIUM")
	if path == "" {
		for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
			if p, err := exec.LookPath(name); err == nil {
				path = p
				break
			}
		}
	}
	if path == "" {
		t.Fatal("no Chromium found: install it (apt-get install -y chromium) or set CHROMIUM=/path/to/chrome")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("accept-lang", "zh-CN,zh"), // our users' browsers; the default would be en-US
		chromedp.WindowSize(1280, 900),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelCtx(); cancelAlloc() })
	// The first call starts the browser and must not carry a timeout (it
	// would bound the browser's life); each step after it gets its own.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	return ctx
}

// page drives one tab, failing the test on the first error.
type page struct {
	t   *testing.T
	ctx context.Context
}

// stepTimeout bounds one browser step, so a failing wait fails fast.
const stepTimeout = 15 * time.Second

func (p *page) step() (context.Context, context.CancelFunc) {
	return context.WithTimeout(p.ctx, stepTimeout)
}

func (p *page) do(steps ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := p.step()
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		p.t.Fatal(err)
	}
}

// text is the visible text of the first element matching sel, waiting for
// it. It is read in one evaluation: cards that poll are replaced every few
// seconds, so finding a node and then reading it could straddle a swap.
func (p *page) text(sel string) string {
	p.t.Helper()
	q, _ := json.Marshal(sel)
	p.waitJS(`!!document.querySelector(` + string(q) + `)`)
	return strings.TrimSpace(eval[string](p, `(document.querySelector(`+string(q)+`) || {innerText: ""}).innerText`))
}

// eval runs a JavaScript expression and returns its value.
func eval[T any](p *page, expr string) T {
	p.t.Helper()
	ctx, cancel := p.step()
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		p.t.Fatalf("eval %s: %v", expr, err)
	}
	return v
}

// waitJS waits until a JavaScript expression is true. It keeps asking
// across navigations (an htmx redirect replaces the document mid-wait).
func (p *page) waitJS(expr string) {
	p.t.Helper()
	deadline := time.Now().Add(stepTimeout)
	var last error
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(p.ctx, 2*time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](expr))
		cancel()
		if err == nil && ok {
			return
		}
		last = err
		time.Sleep(100 * time.Millisecond)
	}
	p.t.Fatalf("waiting for %s: still false after %s (last error: %v)", expr, stepTimeout, last)
}

// open navigates and waits until the deferred htmx script has processed the page.
func (p *page) open(url string) {
	p.t.Helper()
	p.do(chromedp.Navigate(url))
	p.waitJS(`typeof window.htmx === "object" && document.readyState === "complete"`)
}

// signIn signs in through the form, as a person does, and lands on /apps.
func (p *page) signIn(base, name, password string) {
	p.t.Helper()
	p.open(base + "/login")
	p.do(chromedp.SendKeys(chromedp.CSS(`input[name="username"]`), name),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), password),
		chromedp.Click(chromedp.CSS(`[data-testid="login-submit"]`)))
	p.waitJS(`location.pathname === "/apps" && typeof window.htmx === "object" && document.readyState === "complete"`)
}

func TestBrowserShellShowsBalanceInDemoMode(t *testing.T) {
	base := startConsole(t)
	p := &page{t: t, ctx: newBrowser(t)}
	p.signIn(base, adminName, adminPassword)
	p.open(base + "/apps")

	if got := p.text(`[data-testid="balance-amount"]`); got != "¥99.99" {
		t.Errorf("balance = %q", got)
	}
	if got := p.text(`[data-testid="balance-voucher"]`); got != "¥216.22" {
		t.Errorf("voucher = %q", got)
	}
	if got := p.text(`[data-testid="demo-badge"]`); got != "演示模式" {
		t.Errorf("demo badge = %q", got)
	}
	if title, _ := chromedp.Run(p.ctx, chromedp.Title()); !strings.HasPrefix(title, "我的应用") {
		t.Errorf("title = %q", title)
	}
	if n := eval[int](p, `document.querySelectorAll('[data-testid="app-card"]').length`); n == 0 {
		t.Error("no application rows")
	}

	// htmx refreshes the balance through the page's own configuration (CSRF
	// header included): blank the figure, ask for the refresh now instead of
	// in 30 s, and see the figure come back.
	eval[bool](p, `document.querySelector('[data-testid="balance-amount"]').textContent = ""; htmx.ajax('GET', '/balance', {target: '#balance', swap: 'outerHTML'}); true`)
	p.waitJS(`(document.querySelector('[data-testid="balance-amount"]') || {}).textContent === "¥99.99"`)

	// A person switches to English with one click.
	p.do(chromedp.Click(chromedp.CSS(`a.lang`)), chromedp.WaitVisible(chromedp.CSS(`html[lang="en"] h1`)))
	if h1 := p.text("h1"); h1 != "My applications" {
		t.Errorf("after switch h1 = %q", h1)
	}
	if badge := p.text(`[data-testid="demo-badge"]`); badge != "Demo mode" {
		t.Errorf("after switch badge = %q", badge)
	}
}

func TestBrowserStopAndScheduleInDemoMode(t *testing.T) {
	base := startConsole(t)
	p := &page{t: t, ctx: newBrowser(t)}
	p.signIn(base, adminName, adminPassword)
	const card = `[data-app-id="1899720917190184960"]`
	// A marker that a full page load would wipe out.
	eval[bool](p, `window.__sameDocument = true`)

	// Schedule a stop with a preset: the dialog opens, the preset is pressed,
	// the card shows the scheduled time and a countdown.
	p.do(chromedp.Click(chromedp.CSS(card+` [data-testid="action-timed-stop"]`)),
		chromedp.WaitVisible(chromedp.CSS(card+` [data-testid="timed-stop-dialog"]`)),
		chromedp.Click(chromedp.CSS(card+` [data-testid="preset-1h"]`)),
		chromedp.WaitVisible(chromedp.CSS(card+` [data-testid="scheduled-stop"]`)))
	if got := p.text(card + ` [data-testid="scheduled-stop"]`); !strings.Contains(got, "自动关机") || !strings.Contains(got, "还剩") {
		t.Errorf("scheduled stop = %q", got)
	}
	if open := eval[bool](p, `!!document.querySelector("dialog[open]")`); open {
		t.Error("the dialog stayed open")
	}

	// Stop it: 关机中 at once, then 已关机 by itself, without a reload.
	p.do(chromedp.Click(chromedp.CSS(card + ` [data-testid="action-stop"]`)))
	p.waitJS(`(document.querySelector('` + card + ` [data-testid="status"]') || {}).textContent === "关机中"`)
	if got := p.text(card + ` [data-testid="card-message"]`); !strings.Contains(got, "已发送停止指令") {
		t.Errorf("message after stop = %q", got)
	}
	ctx, cancel := context.WithTimeout(p.ctx, 30*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`(document.querySelector('`+card+` [data-testid="status"]') || {}).textContent === "已关机"`,
		chromedp.WithPollingTimeout(25*time.Second))); err != nil {
		t.Fatalf("the card never reached 已关机: %v", err)
	}
	if !eval[bool](p, `window.__sameDocument === true`) {
		t.Error("the page reloaded")
	}
	if n := eval[int](p, `document.querySelectorAll('`+card+` [data-testid="action-start"]').length`); n != 1 {
		t.Error("a stopped card offers no 启动")
	}
}

func TestBrowserLaunchFromGalleryInDemoMode(t *testing.T) {
	base := startConsole(t)
	p := &page{t: t, ctx: newBrowser(t)}
	p.signIn(base, adminName, adminPassword)
	p.open(base + "/images")

	// Search as you type: only ComfyUI stays, and the URL can be shared.
	p.do(chromedp.SendKeys(chromedp.CSS(`[data-testid="image-search"]`), "Comfy"))
	p.waitJS(`document.querySelectorAll('[data-testid="image-card"]').length === 1`)
	if u := eval[string](p, `location.search`); u != "?q=Comfy" {
		t.Errorf("search URL = %q", u)
	}
	// Covers are served by the console, not fetched from the internet by the browser.
	p.waitJS(`(() => { const i = document.querySelector('[data-testid="image-card"] img'); return i.complete && i.naturalWidth > 0 })()`)
	if src := eval[string](p, `document.querySelector('[data-testid="image-card"] img').src`); !strings.HasPrefix(src, base+"/covers/") {
		t.Errorf("cover src = %q", src)
	}

	p.do(chromedp.Click(chromedp.CSS(`[data-testid="image-card"]`)), chromedp.WaitVisible(chromedp.CSS(`[data-testid="picker"]`)))
	if got := p.text(`[data-testid="image-title"]`); got != "ComfyUI 官方版" {
		t.Fatalf("opened %q", got)
	}
	if n := eval[int](p, `document.querySelectorAll('[data-testid="gpu-option"] input:disabled').length`); n == 0 {
		t.Error("no sold-out GPU is disabled")
	}
	// Pick the 3090, then switch 按量计费 to 包天: the price changes in place.
	p.do(chromedp.Click(chromedp.CSS(`[data-gpu="3090"] input`)))
	p.waitJS(`document.querySelector('[data-testid="price-actual"]').textContent === "¥1.38"`)
	hourly := p.text(`[data-testid="price-actual"]`)
	p.do(chromedp.Click(chromedp.CSS(`[data-testid="billing-option"] input[value="1"]`)))
	p.waitJS(`document.querySelector('[data-testid="price-actual"]').textContent !== "` + hourly + `" && !!document.querySelector('[data-testid="cycle"]')`)
	if unit := p.text(`[data-testid="price"] .price-unit`); !strings.Contains(unit, "1 天") {
		t.Errorf("package unit = %q", unit)
	}
	// Back to pay-as-you-go and launch with an automatic stop after 1 hour,
	// through the confirmation that repeats the price.
	p.do(chromedp.Click(chromedp.CSS(`[data-testid="billing-option"] input[value="0"]`)))
	p.waitJS(`document.querySelector('[data-testid="price-actual"]').textContent === "¥1.38" && !document.querySelector('[data-testid="cycle"]')`)
	p.do(chromedp.SetValue(chromedp.CSS(`[data-testid="autostop"]`), "1"))
	// The launch button waits for the price refresh a change starts.
	p.waitJS(`!document.querySelector('.htmx-request') && !document.querySelector('[data-testid="launch"]').disabled`)
	p.do(chromedp.Click(chromedp.CSS(`[data-testid="launch"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="confirm-dialog"]`)))
	if s := p.text(`[data-testid="confirm-dialog"]`); !strings.Contains(s, "¥1.38") || !strings.Contains(s, "1 小时后自动停止") || !strings.Contains(s, "3090 × 1") {
		t.Errorf("confirmation = %q", s)
	}
	p.do(chromedp.Click(chromedp.CSS(`[data-testid="confirm-launch"]`)))
	p.waitJS(`location.pathname === "/apps" && !!document.querySelector('.app-card-new')`)
	card := `.app-card-new`
	if st := p.text(card + ` [data-testid="status"]`); st != "创建中" {
		t.Errorf("new card status = %q", st)
	}
	if s := p.text(card + ` [data-testid="scheduled-stop"]`); !strings.Contains(s, "自动关机") {
		t.Errorf("new card schedule = %q", s)
	}
}

func TestBrowserMemberLaunchesButCannotDestroyAdminsApp(t *testing.T) {
	base := startConsole(t)
	p := &page{t: t, ctx: newBrowser(t)}
	const adminApp = "1899720917190184960"

	// The administrator takes the SD application and adds a member.
	p.signIn(base, adminName, adminPassword)
	p.open(base + "/apps/" + adminApp)
	p.do(chromedp.SetValue(chromedp.CSS(`[data-testid="assign-owner"] select`), "1"),
		chromedp.Click(chromedp.CSS(`[data-testid="assign-owner"] button`)))
	p.waitJS(`(document.querySelector('[data-testid="owner"]') || {}).innerText === "所有者：` + adminName + `"`)
	p.open(base + "/admin/users")
	p.do(chromedp.SendKeys(chromedp.CSS(`form[action="/admin/users"] input[name="username"]`), "mia"),
		chromedp.SendKeys(chromedp.CSS(`form[action="/admin/users"] input[name="password"]`), "mia password 1"),
		chromedp.Click(chromedp.CSS(`form[action="/admin/users"] button`)))
	p.waitJS(`!!document.querySelector('[data-user="mia"]')`)
	p.do(chromedp.Click(chromedp.CSS(`[data-testid="logout"]`)))
	p.waitJS(`location.pathname === "/login"`)

	// The member launches ComfyUI: the new card is theirs.
	p.signIn(base, "mia", "mia password 1")
	if who := p.text(`[data-testid="signed-in-user"]`); who != "mia" {
		t.Fatalf("signed in as %q", who)
	}
	p.open(base + "/images/6")
	p.do(chromedp.Click(chromedp.CSS(`[data-gpu="3090"] input`)))
	p.waitJS(`!document.querySelector('.htmx-request') && document.querySelector('[data-testid="price-actual"]').textContent === "¥1.38" && !document.querySelector('[data-testid="launch"]').disabled`)
	p.do(chromedp.Click(chromedp.CSS(`[data-testid="launch"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="confirm-dialog"]`)),
		chromedp.Click(chromedp.CSS(`[data-testid="confirm-launch"]`)))
	p.waitJS(`location.pathname === "/apps" && !!document.querySelector('.app-card-new')`)
	if owner := p.text(`.app-card-new [data-testid="owner"]`); owner != "所有者：mia" {
		t.Errorf("new card owner = %q", owner)
	}

	// The administrator's application offers the member no destroy button…
	card := `[data-app-id="` + adminApp + `"]`
	if n := eval[int](p, `document.querySelectorAll('`+card+` [data-testid="action-destroy"]').length`); n != 0 {
		t.Error("the member is offered to destroy the administrator's application")
	}
	// …and a destroy request sent anyway, from the page with its CSRF header,
	// is refused and says why; the application stays.
	eval[bool](p, `htmx.ajax('POST', '/apps/`+adminApp+`/destroy', {target: '#toasts', swap: 'beforeend', values: {confirm: '`+adminApp+`'}}); true`)
	p.waitJS(`[...document.querySelectorAll('#toasts .toast')].some(t => t.innerText.includes("只有它的所有者或管理员可以操作"))`)
	p.open(base + "/apps")
	if n := eval[int](p, `document.querySelectorAll('`+card+`').length`); n != 1 {
		t.Error("the administrator's application is gone")
	}
}
