package db

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// CachedBody is a cached upstream answer and when it was fetched.
type CachedBody struct {
	Body      []byte
	FetchedAt time.Time
}

// CatalogueEntry returns a cached catalogue answer, or ErrNotFound.
func (d *DB) CatalogueEntry(ctx context.Context, key string) (CachedBody, error) {
	var c CachedBody
	var at int64
	err := d.sql.QueryRowContext(ctx, `SELECT body, fetched_at FROM catalogue_cache WHERE key = ?`, key).Scan(&c.Body, &at)
	switch {
	case isNoRows(err):
		return c, fmt.Errorf("db: catalogue %s: %w", key, ErrNotFound)
	case err != nil:
		return c, fmt.Errorf("db: catalogue %s: %w", key, err)
	}
	c.FetchedAt = time.Unix(at, 0)
	return c, nil
}

// PutCatalogueEntry stores a catalogue answer.
func (d *DB) PutCatalogueEntry(ctx context.Context, key string, body []byte, fetchedAt time.Time) error {
	_, err := d.sql.ExecContext(ctx, `INSERT INTO catalogue_cache (key, body, fetched_at) VALUES (?, ?, ?)
		ON CONFLICT (key) DO UPDATE SET body = excluded.body, fetched_at = excluded.fetched_at`, key, body, fetchedAt.Unix())
	if err != nil {
		return fmt.Errorf("db: store catalogue %s: %w", key, err)
	}
	return nil
}

// Create-token states.
const (
	TokenNew     = "new"
	TokenPending = "pending"
	TokenDone    = "done"
	TokenFailed  = "failed"
	TokenUnknown = "unknown"
)

// CreateToken is a launch form's one-time token and what became of it.
type CreateToken struct {
	Token     string
	SessionID string
	State     string
	AppID     string
	Message   string
	CreatedAt time.Time
}

// ErrTokenTaken is returned by ClaimCreateToken when another request holds
// or has used the token.
var ErrTokenTaken = errors.New("db: create token already used")

// NewCreateToken records a fresh token for a session's launch form.
func (d *DB) NewCreateToken(ctx context.Context, token, sessionID string, now time.Time) error {
	_, err := d.sql.ExecContext(ctx, `INSERT INTO create_tokens (token, session_id, created_at, updated_at) VALUES (?, ?, ?, ?)`,
		token, sessionID, now.Unix(), now.Unix())
	if err != nil {
		return fmt.Errorf("db: new create token: %w", err)
	}
	return nil
}

// CreateTokenOf returns a token, or ErrNotFound.
func (d *DB) CreateTokenOf(ctx context.Context, token string) (CreateToken, error) {
	t := CreateToken{Token: token}
	var at int64
	err := d.sql.QueryRowContext(ctx, `SELECT session_id, state, app_id, message, created_at FROM create_tokens WHERE token = ?`, token).
		Scan(&t.SessionID, &t.State, &t.AppID, &t.Message, &at)
	switch {
	case isNoRows(err):
		return t, fmt.Errorf("db: create token: %w", ErrNotFound)
	case err != nil:
		return t, fmt.Errorf("db: create token: %w", err)
	}
	t.CreatedAt = time.Unix(at, 0)
	return t, nil
}

// ClaimCreateToken moves a token from new to pending for this session. Of
// any number of concurrent claims exactly one succeeds; the others get
// ErrTokenTaken (and ErrNotFound for a token that is not this session's).
func (d *DB) ClaimCreateToken(ctx context.Context, token, sessionID string, now time.Time) error {
	res, err := d.sql.ExecContext(ctx, `UPDATE create_tokens SET state = 'pending', updated_at = ?
		WHERE token = ? AND session_id = ? AND state = 'new'`, now.Unix(), token, sessionID)
	if err != nil {
		return fmt.Errorf("db: claim create token: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("db: claim create token: %w", err)
	} else if n == 1 {
		return nil
	}
	t, err := d.CreateTokenOf(ctx, token)
	if err != nil {
		return err
	}
	if t.SessionID != sessionID {
		return fmt.Errorf("db: create token of another session: %w", ErrNotFound)
	}
	return ErrTokenTaken
}

// FinishCreateToken records the outcome of a pending token.
func (d *DB) FinishCreateToken(ctx context.Context, token, state, appID, message string, now time.Time) error {
	_, err := d.sql.ExecContext(ctx, `UPDATE create_tokens SET state = ?, app_id = ?, message = ?, updated_at = ? WHERE token = ?`,
		state, appID, message, now.Unix(), token)
	if err != nil {
		return fmt.Errorf("db: finish create token: %w", err)
	}
	return nil
}

// SweepCreateTokens deletes tokens created before the cutoff.
func (d *DB) SweepCreateTokens(ctx context.Context, before time.Time) (int64, error) {
	res, err := d.sql.ExecContext(ctx, `DELETE FROM create_tokens WHERE created_at < ?`, before.Unix())
	if err != nil {
		return 0, fmt.Errorf("db: sweep create tokens: %w", err)
	}
	return res.RowsAffected()
}

// SetAppAlert records a warning its card must show.
func (d *DB) SetAppAlert(ctx context.Context, appID, message string, now time.Time) error {
	_, err := d.sql.ExecContext(ctx, `INSERT INTO app_alerts (app_id, message, created_at) VALUES (?, ?, ?)
		ON CONFLICT (app_id) DO UPDATE SET message = excluded.message, created_at = excluded.created_at`, appID, message, now.Unix())
	if err != nil {
		return fmt.Errorf("db: set alert of %s: %w", appID, err)
	}
	return nil
}

// ClearAppAlert removes an application's warning.
func (d *DB) ClearAppAlert(ctx context.Context, appID string) error {
	if _, err := d.sql.ExecContext(ctx, `DELETE FROM app_alerts WHERE app_id = ?`, appID); err != nil {
		return fmt.Errorf("db: clear alert of %s: %w", appID, err)
	}
	return nil
}

// RunTokenSweeper deletes create tokens older than maxAge every interval
// until ctx ends.
func (d *DB) RunTokenSweeper(ctx context.Context, every, maxAge time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			if _, err := d.SweepCreateTokens(ctx, now.Add(-maxAge)); err != nil && ctx.Err() == nil {
				slog.ErrorContext(ctx, "sweep create tokens", "err", err)
			}
		}
	}
}
