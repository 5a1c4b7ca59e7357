package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"lightcc-dashboard/lightcc"
	"lightcc-dashboard/lightcc/sim"
)

// config is the console's whole configuration, read once at start-up from
// the environment, with flags of the same meaning taking precedence. The
// API key and the secret have no flags: a flag would show in `ps`.
type config struct {
	APIKey        string
	BaseURL       string
	LinkTemplate  string
	TZ            string
	Location      *time.Location
	Addr          string
	DBPath        string
	Secret        string // DASHBOARD_SECRET, or generated and kept beside the database
	Timeout       time.Duration
	CoverHosts    []string // hosts cover pictures may be fetched from
	MetricsAddr   string   // DASHBOARD_METRICS_ADDR: also serve /metrics there, without sign-in
	CookieSecure  bool
	LogLevel      slog.Level
	Demo          bool   // no LIGHTCC_API_KEY: the simulator runs (demo mode unless a key is stored)
	AdminUser     string // DASHBOARD_ADMIN_USER: the first administrator, created when there is no account
	AdminPassword string

	// onReady, when set, is told the address the server listens on (tests).
	onReady func(addr string)
	// simDelays shortens the demo simulator's state changes (tests).
	simDelays sim.Delays
}

// loadConfig reads the environment and the flags and validates every
// value, failing with one clear line per problem.
func loadConfig(args []string, getenv func(string) string, stderr io.Writer) (config, error) {
	env := func(k, def string) string {
		if v := strings.TrimSpace(getenv(k)); v != "" {
			return v
		}
		return def
	}
	var c config
	fs := flag.NewFlagSet("lightcc-dashboard", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.Addr, "addr", env("DASHBOARD_ADDR", "127.0.0.1:8080"), "listen address (DASHBOARD_ADDR)")
	fs.StringVar(&c.DBPath, "db", env("DASHBOARD_DB", "./data/dashboard.db"), "SQLite database file (DASHBOARD_DB)")
	fs.StringVar(&c.BaseURL, "base-url", env("LIGHTCC_BASE_URL", ""), "LightCC API base URL (LIGHTCC_BASE_URL; default "+lightcc.DefaultBaseURL+" when a key is set)")
	fs.StringVar(&c.LinkTemplate, "link-template", env("LIGHTCC_LINK_TEMPLATE", lightcc.DefaultLinkTemplate), "how {prefix} and {domain} of an application link form a URL (LIGHTCC_LINK_TEMPLATE)")
	fs.StringVar(&c.TZ, "tz", env("LIGHTCC_TZ", "Asia/Shanghai"), "time zone of the platform and of the pages (LIGHTCC_TZ)")
	timeout := fs.String("timeout", env("LIGHTCC_TIMEOUT", "10s"), "timeout of one upstream call (LIGHTCC_TIMEOUT)")
	secure := fs.Bool("cookie-secure", env("DASHBOARD_COOKIE_SECURE", "") == "1", "mark cookies Secure even on plain HTTP, behind a TLS proxy (DASHBOARD_COOKIE_SECURE=1)")
	coverHosts := fs.String("cover-hosts", env("LIGHTCC_COVER_HOSTS", "minio.lightcc.cloud"), "comma-separated hosts cover pictures may be fetched from (LIGHTCC_COVER_HOSTS)")
	fs.StringVar(&c.MetricsAddr, "metrics-addr", env("DASHBOARD_METRICS_ADDR", ""), "also serve Prometheus metrics on this host:port, without sign-in (DASHBOARD_METRICS_ADDR)")
	level := fs.String("log-level", env("DASHBOARD_LOG_LEVEL", "info"), "debug, info, warn or error (DASHBOARD_LOG_LEVEL)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q (subcommands: simulate, load, healthcheck)", fs.Arg(0))
	}
	c.APIKey = strings.TrimSpace(getenv("LIGHTCC_API_KEY"))
	c.Secret = strings.TrimSpace(getenv("DASHBOARD_SECRET"))
	c.CookieSecure = *secure

	var problems []string
	bad := func(format string, a ...any) { problems = append(problems, fmt.Sprintf(format, a...)) }

	// Without LIGHTCC_API_KEY the key may still come from the settings page
	// (used with LIGHTCC_BASE_URL); with neither, demo mode.
	c.Demo = c.APIKey == ""
	if c.BaseURL == "" {
		c.BaseURL = lightcc.DefaultBaseURL
	}
	if _, err := lightcc.New(c.BaseURL, "x"); err != nil {
		bad("LIGHTCC_BASE_URL %q is not an absolute http(s) URL", c.BaseURL)
	}
	c.AdminUser = strings.TrimSpace(getenv("DASHBOARD_ADMIN_USER"))
	c.AdminPassword = getenv("DASHBOARD_ADMIN_PASSWORD")
	switch {
	case c.AdminUser == "" && c.AdminPassword != "":
		bad("DASHBOARD_ADMIN_PASSWORD is set without DASHBOARD_ADMIN_USER")
	case c.AdminUser != "" && (len(c.AdminPassword) < 8 || len(c.AdminPassword) > 72):
		bad("DASHBOARD_ADMIN_PASSWORD must have 8 to 72 characters")
	}
	if err := lightcc.ValidateLinkTemplate(c.LinkTemplate); err != nil {
		bad("LIGHTCC_LINK_TEMPLATE: %v", err)
	}
	loc, err := time.LoadLocation(c.TZ)
	if err != nil || c.TZ == "" || strings.EqualFold(c.TZ, "local") {
		bad("LIGHTCC_TZ %q is not a known time zone (e.g. Asia/Shanghai)", c.TZ)
	}
	c.Location = loc
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		bad("DASHBOARD_ADDR %q is not host:port", c.Addr)
	}
	if c.MetricsAddr != "" {
		if _, _, err := net.SplitHostPort(c.MetricsAddr); err != nil {
			bad("DASHBOARD_METRICS_ADDR %q is not host:port", c.MetricsAddr)
		}
	}
	if c.DBPath == "" {
		bad("DASHBOARD_DB is empty")
	}
	if c.Timeout, err = time.ParseDuration(*timeout); err != nil || c.Timeout <= 0 || c.Timeout > 5*time.Minute {
		bad("LIGHTCC_TIMEOUT %q is not a duration between 1ms and 5m", *timeout)
	}
	if err := c.LogLevel.UnmarshalText([]byte(*level)); err != nil {
		bad("DASHBOARD_LOG_LEVEL %q is not debug, info, warn or error", *level)
	}
	for _, h := range strings.Split(*coverHosts, ",") {
		if h = strings.TrimSpace(h); h == "" {
			continue
		} else if strings.ContainsAny(h, "/@ ") {
			bad("LIGHTCC_COVER_HOSTS: %q is not a host name", h)
		} else {
			c.CoverHosts = append(c.CoverHosts, strings.ToLower(h))
		}
	}
	if c.Secret != "" && len(c.Secret) < 32 {
		bad("DASHBOARD_SECRET is shorter than 32 characters")
	}
	if len(problems) > 0 {
		return c, errors.New(strings.Join(problems, "; "))
	}
	return c, nil
}

// loadOrCreateSecret returns DASHBOARD_SECRET, or the secret kept in a file
// beside the database, creating it on first start. It lives outside the
// database so that a copy of the database alone does not carry the key that
// signs its sessions.
func loadOrCreateSecret(c config) (string, error) {
	if c.Secret != "" {
		return c.Secret, nil
	}
	path := filepath.Join(filepath.Dir(c.DBPath), "dashboard.secret")
	if b, err := os.ReadFile(path); err == nil {
		s := strings.TrimSpace(string(b))
		if len(s) < 32 {
			return "", fmt.Errorf("secret file %s is shorter than 32 characters", path)
		}
		return s, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("read secret: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return "", fmt.Errorf("create secret: %w", err)
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("create secret: %w", err)
	}
	s := hex.EncodeToString(b)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", fmt.Errorf("create secret: %w", err)
	}
	if _, err := f.WriteString(s + "\n"); err != nil {
		f.Close()
		return "", fmt.Errorf("create secret: %w", err)
	}
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("create secret: %w", err)
	}
	return s, nil
}
