package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// startConsole runs the whole console, as `make run` does, in demo mode on
// a free loopback port with its database in a temp dir, and returns its URL.
func startConsole(t *testing.T) string {
	t.Helper()
	cfg, err := loadConfig([]string{"-addr", "127.0.0.1:0", "-db", filepath.Join(t.TempDir(), "dashboard.db")},
		func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	ready := make(chan string, 1)
	cfg.onReady = func(addr string) { ready <- addr }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, cfg, io.Discard) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	})
	select {
	case addr := <-ready:
		return "http://" + addr
	case err := <-done:
		t.Fatalf("console did not start: %v", err)
	case <-time.After(20 * time.Second):
		t.Fatal("console did not start in 20 s")
	}
	return ""
}

func TestRunServesDemoAndShutsDown(t *testing.T) {
	base := startConsole(t)
	for path, want := range map[string]int{"/healthz": 200, "/apps": 200, "/nope": 404} {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("%s: %d, want %d", path, resp.StatusCode, want)
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
