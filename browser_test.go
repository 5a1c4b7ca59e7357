package main

import (
	"context"
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

// text is the visible text of the first element matching sel, waiting for it.
func (p *page) text(sel string) string {
	p.t.Helper()
	ctx, cancel := p.step()
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		p.t.Fatalf("text of %s: %v", sel, err)
	}
	return strings.TrimSpace(s)
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

// waitJS waits until a JavaScript expression is true.
func (p *page) waitJS(expr string) {
	p.t.Helper()
	ctx, cancel := p.step()
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		p.t.Fatalf("waiting for %s: %v", expr, err)
	}
}

// open navigates and waits until the deferred htmx script has processed the page.
func (p *page) open(url string) {
	p.t.Helper()
	p.do(chromedp.Navigate(url))
	p.waitJS(`typeof window.htmx === "object" && document.readyState === "complete"`)
}

func TestBrowserShellShowsBalanceInDemoMode(t *testing.T) {
	base := startConsole(t)
	p := &page{t: t, ctx: newBrowser(t)}
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
	p.open(base + "/apps")
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
