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
