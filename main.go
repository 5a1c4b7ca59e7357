// Command lightcc-dashboard is a self-hosted web console for the LightCC GPU
// cloud. `lightcc-dashboard` serves the console (in demo mode on the
// built-in simulator when no API key is configured); `lightcc-dashboard
// simulate` runs the simulator alone; `lightcc-dashboard healthcheck` asks
// a running console for /healthz (the container's health check).
package main

import (
	"context"
	"crypto/hkdf"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
	_ "time/tzdata" // Asia/Shanghai must resolve on minimal images too

	"github.com/labstack/echo/v4"

	"lightcc-dashboard/db"
	"lightcc-dashboard/handlers"
	"lightcc-dashboard/lightcc"
	"lightcc-dashboard/lightcc/cover"
	"lightcc-dashboard/lightcc/sim"
	"lightcc-dashboard/views/i18n"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch {
	case len(os.Args) > 1 && os.Args[1] == "simulate":
		err = runSimulator(ctx, os.Args[2:], os.Stdout, os.Stderr)
	case len(os.Args) > 1 && os.Args[1] == "healthcheck":
		var cfg config
		if cfg, err = loadConfig(os.Args[2:], os.Getenv, os.Stderr); err == nil {
			err = runHealthcheck(ctx, cfg.Addr)
		}
	case len(os.Args) > 1 && os.Args[1] == "load":
		err = runLoad(ctx, os.Args[2:], os.Stdout, os.Stderr)
	default:
		var cfg config
		if cfg, err = loadConfig(os.Args[1:], os.Getenv, os.Stderr); err == nil {
			err = run(ctx, cfg, os.Stderr)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "lightcc-dashboard:", err)
		os.Exit(1)
	}
}

// run wires the console and serves it until ctx ends: database, upstream
// (real, or the simulator in demo mode), handlers, HTTP server, graceful
// shutdown.
func run(ctx context.Context, cfg config, logOut io.Writer) error {
	logger := slog.New(slog.NewTextHandler(logOut, &slog.HandlerOptions{Level: cfg.LogLevel}))
	slog.SetDefault(logger)

	store, err := db.Open(ctx, cfg.DBPath)
	if err != nil {
		return err
	}
	defer store.Close()
	secret, err := loadOrCreateSecret(cfg)
	if err != nil {
		return err
	}
	sessionKey, err := hkdf.Key(sha256.New, []byte(secret), nil, "lightcc-dashboard session signing v1", 32)
	if err != nil {
		return fmt.Errorf("derive session key: %w", err)
	}
	sessions := store.NewSessionStore(sessionKey)
	sessions.UserIDKey = handlers.SessionUserKey // so ending a user's sessions finds them
	go sessions.RunSweeper(ctx, 10*time.Minute)

	go store.RunTokenSweeper(ctx, time.Hour, 24*time.Hour)

	metrics := handlers.NewMetrics(sessions.Count)
	box, err := db.NewSecretBox([]byte(secret))
	if err != nil {
		return err
	}
	keys := &custody{store: store, box: box, envKey: cfg.APIKey, baseURL: cfg.BaseURL, log: logger,
		opts: []lightcc.Option{lightcc.WithTimeout(cfg.Timeout), lightcc.WithLocation(cfg.Location), lightcc.WithObserver(metrics.ObserveUpstream)}}
	covers := modeCovers{keys: keys, real: cover.New(store.Covers(), cover.Options{AllowedHosts: cfg.CoverHosts, Logger: logger})}
	if cfg.APIKey == "" {
		// Without LIGHTCC_API_KEY the simulator runs, for demo mode until an
		// administrator stores a key (and again if it is removed).
		simURL, stopSim, err := startSimulator(ctx, "127.0.0.1:0", sim.Options{Location: cfg.Location, Delays: cfg.simDelays})
		if err != nil {
			return err
		}
		defer stopSim()
		keys.simURL = simURL
		// The simulator is also the image host: its covers live under /img/.
		covers.demo = cover.New(store.Covers(), cover.Options{AllowedHosts: []string{strings.TrimPrefix(simURL, "http://")},
			ImageBase: simURL + "/img/", Logger: logger})
	}
	if err := keys.load(ctx); err != nil {
		return err
	}
	upstream := lightcc.NewCached(keys.sw, lightcc.TTLs{}, nil)
	upstream.Observe = metrics.ObserveRead
	keys.switched = upstream.Invalidate
	if keys.Status(ctx).Demo {
		logger.Info("demo mode: no API key configured, using the built-in simulator", "simulator", keys.simURL)
	}
	catalog, err := i18n.NewCatalog()
	if err != nil {
		return err
	}
	setupCode, err := bootstrapAdmin(ctx, store, cfg, logger)
	if err != nil {
		return err
	}

	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	handlers.New(handlers.Deps{
		Upstream: upstream, Keys: keys, Sessions: sessions, DB: store, AppMeta: store, Catalogue: store, Launches: store,
		Users: store, Owners: store, Audit: store, Covers: covers, Catalog: catalog, Location: cfg.Location,
		Logger: logger, PageTimeout: cfg.Timeout + time.Second, SecureCookies: cfg.CookieSecure,
		LinkTemplate: cfg.LinkTemplate, SetupCode: setupCode, Metrics: metrics,
	}).Register(e)

	srv := &http.Server{
		Handler:           e,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      cfg.Timeout + 30*time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	if cfg.MetricsAddr != "" {
		m := echo.New()
		m.HideBanner, m.HidePort = true, true
		m.GET("/metrics", metrics.Handler())
		msrv := &http.Server{Handler: m, ReadHeaderTimeout: 5 * time.Second}
		go func() {
			if err := serve(ctx, msrv, cfg.MetricsAddr, logger, nil); err != nil {
				logger.Error("metrics server", "err", err)
			}
		}()
	}
	return serve(ctx, srv, cfg.Addr, logger, cfg.onReady)
}

// serve listens on addr and serves until ctx ends, then shuts down
// gracefully, giving open requests 10 seconds.
func serve(ctx context.Context, srv *http.Server, addr string, logger *slog.Logger, onReady func(string)) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	logger.Info("listening", "url", "http://"+ln.Addr().String())
	if onReady != nil {
		onReady(ln.Addr().String())
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	logger.Info("stopped")
	return nil
}

// startSimulator serves a simulator on a loopback listener and returns its
// base URL: demo mode talks to it over real HTTP, exactly as to LightCC.
func startSimulator(ctx context.Context, addr string, opts sim.Options) (string, func(), error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, fmt.Errorf("simulator: listen on %s: %w", addr, err)
	}
	srv := &http.Server{Handler: sim.New(opts), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	stop := func() {
		c, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(c)
	}
	return "http://" + ln.Addr().String(), stop, nil
}
