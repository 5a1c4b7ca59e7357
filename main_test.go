package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"lightcc-dashboard/lightcc/sim"
)

// The administrator every test console starts with.
const (
	adminName     = "admin"
	adminPassword = "admin password 1"
)

// startConsole runs the whole console, as `make run` does, in demo mode on
// a free loopback port with its database in a temp dir, with a first
// administrator, and returns its URL.
func startConsole(t *testing.T) string {
	t.Helper()
	url, _, _ := startConsoleWith(t, filepath.Join(t.TempDir(), "dashboard.db"), nil)
	return url
}

// startConsoleWith runs the console on dbPath with extra environment, and
// returns its URL, what it logs, and a stop function (also run at cleanup).
func startConsoleWith(t *testing.T, dbPath string, env map[string]string) (string, *syncLog, func()) {
	t.Helper()
	getenv := func(k string) string {
		if v, ok := env[k]; ok {
			return v
		}
		return map[string]string{"DASHBOARD_ADMIN_USER": adminName, "DASHBOARD_ADMIN_PASSWORD": adminPassword}[k]
	}
	cfg, err := loadConfig([]string{"-addr", "127.0.0.1:0", "-db", dbPath}, getenv, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	ready := make(chan string, 1)
	cfg.onReady = func(addr string) { ready <- addr }
	// State changes in seconds, as in demo mode, but quick enough for a test.
	// Stopping lasts long enough for a test to see 关机中 on a busy machine.
	cfg.simDelays = sim.Delays{Create: 3 * time.Second, Start: 2 * time.Second, Stop: 5 * time.Second, Restart: 2 * time.Second}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	logs := &syncLog{}
	go func() { done <- run(ctx, cfg, logs) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("run: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	select {
	case addr := <-ready:
		return "http://" + addr, logs, stop
	case err := <-done:
		t.Fatalf("console did not start: %v", err)
	case <-time.After(20 * time.Second):
		t.Fatal("console did not start in 20 s")
	}
	return "", nil, nil
}

// syncLog collects a console's log lines.
type syncLog struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *syncLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *syncLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestRunServesDemoAndShutsDown(t *testing.T) {
	base := startConsole(t)
	// Signed out: only the health check and the sign-in page answer.
	resp, err := http.Get(base + "/apps")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Request.URL.Path != "/login" {
		t.Errorf("/apps signed out ended on %s", resp.Request.URL)
	}
	if code, _ := newClient(t, base).get("/healthz"); code != http.StatusOK {
		t.Errorf("healthz: %d", code)
	}
	c := newClient(t, base)
	c.signIn(adminName, adminPassword)
	for path, want := range map[string]int{"/apps": 200, "/images": 200, "/nope": 404} {
		if code, _ := c.get(path); code != want {
			t.Errorf("%s: %d, want %d", path, code, want)
		}
	}
}

func TestHealthcheck(t *testing.T) {
	base := startConsole(t)
	if err := runHealthcheck(context.Background(), strings.TrimPrefix(base, "http://")); err != nil {
		t.Errorf("healthy console: %v", err)
	}
	if err := runHealthcheck(context.Background(), "127.0.0.1:1"); err == nil {
		t.Error("no console: healthcheck passed")
	}
}

func TestRunRefusesAnUnwritableDatabase(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := loadConfig([]string{"-addr", "127.0.0.1:0", "-db", filepath.Join(file, "d.db")}, func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	err = run(context.Background(), cfg, io.Discard)
	if err == nil || !strings.Contains(fmt.Sprint(err), "db:") {
		t.Fatalf("err = %v", err)
	}
}
