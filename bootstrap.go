package main

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"

	"lightcc-dashboard/db"
)

var timeNow = time.Now

// bootstrapAdmin makes sure the console can be entered on first start.
// With accounts already there it does nothing. Otherwise
// DASHBOARD_ADMIN_USER and DASHBOARD_ADMIN_PASSWORD create the first
// administrator; with neither, a one-time setup code is made and logged
// (the setup page also works without it from this machine). The code is
// returned for the setup page to check.
func bootstrapAdmin(ctx context.Context, store *db.DB, cfg config, logger *slog.Logger) (string, error) {
	n, err := store.CountUsers(ctx)
	if err != nil || n > 0 {
		return "", err
	}
	if cfg.AdminUser != "" {
		hash, err := bcrypt.GenerateFromPassword([]byte(cfg.AdminPassword), bcrypt.DefaultCost)
		if err != nil {
			return "", fmt.Errorf("first administrator: %w", err)
		}
		if _, err := store.CreateUser(ctx, cfg.AdminUser, string(hash), db.RoleAdmin, timeNow()); err != nil && !errors.Is(err, db.ErrDuplicate) {
			return "", fmt.Errorf("first administrator: %w", err)
		}
		logger.Info("first administrator created from DASHBOARD_ADMIN_USER", "user", cfg.AdminUser)
		return "", nil
	}
	b := make([]byte, 10)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("setup code: %w", err)
	}
	code := strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
	logger.Warn("no account yet: open /setup to create the first administrator (from this machine, or with this setup code)", "setup_code", code)
	return code, nil
}
