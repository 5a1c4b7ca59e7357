package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// maxAuditPage caps one page of the audit trail.
const maxAuditPage = 200

// AuditEntry is one line of the audit trail. Username is copied in when the
// entry is recorded so it stays readable whatever happens to the account.
type AuditEntry struct {
	ID          int64
	At          time.Time
	UserID      int64 // 0 = none (e.g. a failed sign-in with an unknown name)
	Username    string
	Action      string
	AppID       string
	Outcome     string
	Detail      string
	UpstreamMsg string
}

// AuditFilter selects audit entries. Each non-empty field must match
// exactly, except Username, which compares case-insensitively like user
// names do.
type AuditFilter struct {
	Username string
	Action   string
	AppID    string
}

// RecordAudit appends an entry to the audit trail. At, Action and Outcome
// are required; ID is assigned.
func (d *DB) RecordAudit(ctx context.Context, e AuditEntry) error {
	switch {
	case e.At.IsZero():
		return fmt.Errorf("db: record audit %q: zero time", e.Action)
	case e.Action == "":
		return errors.New("db: record audit: empty action")
	case e.Outcome == "":
		return fmt.Errorf("db: record audit %q: empty outcome", e.Action)
	}
	userID := sql.NullInt64{Int64: e.UserID, Valid: e.UserID != 0}
	_, err := d.sql.ExecContext(ctx, `INSERT INTO audit
		(at, user_id, username, action, app_id, outcome, detail, upstream_msg) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		e.At.Unix(), userID, e.Username, e.Action, e.AppID, e.Outcome, e.Detail, e.UpstreamMsg)
	if err != nil {
		return fmt.Errorf("db: record audit %q: %w", e.Action, err)
	}
	return nil
}

// AuditEntries returns one page of the entries matching f, newest first, and
// how many match in all. limit is clamped to 1..200; a negative offset is 0.
func (d *DB) AuditEntries(ctx context.Context, f AuditFilter, limit, offset int) ([]AuditEntry, int, error) {
	limit = min(max(limit, 1), maxAuditPage)
	offset = max(offset, 0)
	where, args := f.where()
	var total int
	if err := d.sql.QueryRowContext(ctx, `SELECT COUNT(*) FROM audit`+where, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("db: count audit entries: %w", err)
	}
	rows, err := d.sql.QueryContext(ctx,
		`SELECT id, at, user_id, username, action, app_id, outcome, detail, upstream_msg FROM audit`+where+
			` ORDER BY at DESC, id DESC LIMIT ? OFFSET ?`,
		append(args, limit, offset)...)
	if err != nil {
		return nil, 0, fmt.Errorf("db: audit entries: %w", err)
	}
	var out []AuditEntry
	err = eachRow(rows, func() error {
		var (
			e      AuditEntry
			at     int64
			userID sql.NullInt64
		)
		if err := rows.Scan(&e.ID, &at, &userID, &e.Username, &e.Action, &e.AppID, &e.Outcome,
			&e.Detail, &e.UpstreamMsg); err != nil {
			return err
		}
		e.At = time.Unix(at, 0)
		e.UserID = userID.Int64
		out = append(out, e)
		return nil
	})
	if err != nil {
		return nil, 0, fmt.Errorf("db: audit entries: %w", err)
	}
	return out, total, nil
}

// where builds the filter's WHERE clause from fixed fragments; values only
// ever travel as arguments.
func (f AuditFilter) where() (string, []any) {
	var (
		conds []string
		args  []any
	)
	if f.Username != "" {
		conds = append(conds, `username = ? COLLATE NOCASE`)
		args = append(args, f.Username)
	}
	if f.Action != "" {
		conds = append(conds, `action = ?`)
		args = append(args, f.Action)
	}
	if f.AppID != "" {
		conds = append(conds, `app_id = ?`)
		args = append(args, f.AppID)
	}
	if len(conds) == 0 {
		return "", nil
	}
	return ` WHERE ` + strings.Join(conds, ` AND `), args
}

// AuditActions returns the distinct actions in the trail, sorted, for the
// filter's choices.
func (d *DB) AuditActions(ctx context.Context) ([]string, error) {
	rows, err := d.sql.QueryContext(ctx, `SELECT DISTINCT action FROM audit ORDER BY action`)
	if err != nil {
		return nil, fmt.Errorf("db: audit actions: %w", err)
	}
	var out []string
	err = eachRow(rows, func() error {
		var a string
		err := rows.Scan(&a)
		out = append(out, a)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("db: audit actions: %w", err)
	}
	return out, nil
}
