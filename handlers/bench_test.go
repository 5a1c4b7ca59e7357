package handlers

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/crypto/bcrypt"

	"lightcc-dashboard/db"
	"lightcc-dashboard/lightcc"
	"lightcc-dashboard/views/i18n"
)

// fixedUpstream answers the two reads of the /apps page from memory, so a
// benchmark measures our server time alone. Any other call would hit the
// nil embedded interface and panic: the benchmark must not make one.
type fixedUpstream struct {
	Upstream
	apps    []lightcc.Application
	balance lightcc.Balance
}

func (f *fixedUpstream) Balance(context.Context) (lightcc.Balance, error) { return f.balance, nil }
func (f *fixedUpstream) ListApplications(context.Context, lightcc.RunningState) ([]lightcc.Application, error) {
	return f.apps, nil
}

func manyApps(n int) []lightcc.Application {
	statuses := []lightcc.Status{lightcc.StatusRunning, lightcc.StatusStopped, lightcc.StatusCreating, lightcc.StatusAbnormal}
	apps := make([]lightcc.Application, n)
	for i := range apps {
		apps[i] = lightcc.Application{
			ID: fmt.Sprintf("19%017d", i), Status: statuses[i%len(statuses)], System: lightcc.SystemLinux,
			BillingMode: lightcc.BillingPayAsYouGo, RentalPrice: 198, Consume: lightcc.Money(i), ImageID: 5,
			ImageTitle: "Stable Difussion WebUI 官方版", CPUModel: "AMD EPYC 7542 32-Core Processor", GPUs: 1,
			SystemDisk: 20971520, DataDisk: 52428800, GPUModel: "4090", CPUCores: 16, GPUMemory: 25165824, Memory: 61902684,
			CreateTime: "2025-03-12 15:15:37", StartTime: "2025-03-12 15:15:42",
		}
	}
	return apps
}

// benchConsole is the console on an upstream answering from memory, with
// a signed-in administrator's cookies.
func benchConsole(b testing.TB, apps int) (*echo.Echo, *Handlers, []*http.Cookie) {
	b.Helper()
	store, err := db.Open(context.Background(), filepath.Join(b.TempDir(), "b.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { store.Close() })
	catalog, err := i18n.NewCatalog()
	if err != nil {
		b.Fatal(err)
	}
	zone, _ := time.LoadLocation("Asia/Shanghai")
	sessions := store.NewSessionStore([]byte("0123456789abcdef0123456789abcdef"))
	sessions.UserIDKey = SessionUserKey
	h := New(Deps{
		Upstream: &fixedUpstream{apps: manyApps(apps), balance: lightcc.Balance{Balance: 9999}},
		Sessions: sessions, DB: store, AppMeta: store, Users: store, Owners: store, Audit: store,
		Catalog: catalog, Location: zone, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), PasswordCost: bcrypt.MinCost,
	})
	hash, _ := bcrypt.GenerateFromPassword([]byte(testPassword), bcrypt.MinCost)
	if _, err := store.CreateUser(context.Background(), "admin", string(hash), db.RoleAdmin, time.Now()); err != nil {
		b.Fatal(err)
	}
	e := echo.New()
	h.Register(e)
	get := httptest.NewRecorder()
	e.ServeHTTP(get, httptest.NewRequest(http.MethodGet, "/login", nil))
	cookies := get.Result().Cookies()
	token := regexp.MustCompile(`name="csrf-token" content="([^"]+)"`).FindStringSubmatch(get.Body.String())[1]
	req := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(url.Values{"_csrf": {token}, "username": {"admin"}, "password": {testPassword}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for _, c := range cookies {
		req.AddCookie(c)
	}
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	if rec.Code != http.StatusSeeOther {
		b.Fatalf("sign in: %d", rec.Code)
	}
	return e, h, rec.Result().Cookies()
}

// BenchmarkAppsPage200 is the server time of the /apps page for an account
// with 200 applications (full page, the upstream answering from memory),
// every card already rendered once.
func BenchmarkAppsPage200(b *testing.B) { benchAppsPage(b, 200, false) }

// BenchmarkAppsPage200Cold is the same page with no card rendered before:
// the first view after a start, or after every application changed.
func BenchmarkAppsPage200Cold(b *testing.B) { benchAppsPage(b, 200, true) }

// BenchmarkAppsPage4 is a small account's page: mostly what every page
// pays whatever it shows (session, notes, owners, the frame).
func BenchmarkAppsPage4(b *testing.B) { benchAppsPage(b, 4, false) }

func benchAppsPage(b *testing.B, apps int, cold bool) {
	e, h, cookies := benchConsole(b, apps)
	size := 0
	var took []time.Duration
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if cold {
			h.cards.mu.Lock()
			h.cards.m = nil
			h.cards.mu.Unlock()
		}
		req := httptest.NewRequest(http.MethodGet, "/apps", nil)
		for _, c := range cookies {
			req.AddCookie(c)
		}
		rec := httptest.NewRecorder()
		start := time.Now()
		e.ServeHTTP(rec, req)
		took = append(took, time.Since(start))
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d", rec.Code)
		}
		size = rec.Body.Len()
	}
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(size), "html-bytes")
}

// A page of many cards renders them on several goroutines; under the race
// detector (make test) this renders a cold page and a warm one, and checks
// every card is there once, in the upstream's order.
func TestManyCardsRenderInOrder(t *testing.T) {
	const n = 4 * minPerWorker
	e, _, cookies := benchConsole(t, n)
	for _, pass := range []string{"cold", "warm"} {
		req := httptest.NewRequest(http.MethodGet, "/apps", nil)
		for _, c := range cookies {
			req.AddCookie(c)
		}
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			t.Fatalf("%s: status %d", pass, rec.Code)
		}
		ids := regexp.MustCompile(`<article id="app-(\d+)"`).FindAllStringSubmatch(rec.Body.String(), -1)
		if len(ids) != n {
			t.Fatalf("%s: %d cards, want %d", pass, len(ids), n)
		}
		for i, m := range ids {
			if want := fmt.Sprintf("19%017d", i); m[1] != want {
				t.Fatalf("%s: card %d is %s, want %s", pass, i, m[1], want)
			}
		}
	}
}
